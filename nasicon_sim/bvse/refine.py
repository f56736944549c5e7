"""Stationary points of the continuous BVSE energy, refined from grid points.

A percolation threshold on a grid is the energy of a grid point near an index-1 saddle of the
continuous landscape; its error is O(h^2) in the spacing h and depends on how the grid sits in
the cell (a few meV at 0.1 Angstrom). Starting from that grid point, Newton's method on the
analytic gradient (:func:`nasicon_sim.bvse.energy.point_energies`) with a finite-difference
Hessian converges to the saddle itself; the energy there no longer depends on the grid, the
origin or the basis. Saddles are found by eigenvector following (Cerjan & Miller, J. Chem. Phys.
75 (1981) 2800: uphill along the lowest Hessian mode, downhill along the others; here with
absolute curvatures and a trust radius), minima by the same step with all modes downhill.
A refinement that does not converge, moves too far or ends at a point of another index is
reported as not converged and the grid value stands.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from nasicon_sim.bvse.landscape import Framework
from nasicon_sim.network import MigrationNetwork

__all__ = [
    "NetworkRefinement",
    "RefinedPoint",
    "refine_network",
    "refine_stationary_point",
    "refine_stationary_points",
]

_FD_STEP_A = 1e-3


@dataclass(frozen=True)
class RefinedPoint:
    """A stationary point of the BVSE energy.

    Attributes
    ----------
    index : int
        Requested number of negative Hessian eigenvalues (0 minimum, 1 saddle).
    converged : bool
        Gradient below tolerance, at a point of the requested index, within reach.
    energy_eV : float
        Energy at the final point (absolute, eV).
    frac_coords : tuple of 3 floats
        Final position (wrapped into the cell).
    gradient_norm : float
        |dE/dr| at the final point (eV/Angstrom).
    hessian_eigenvalues : tuple of 3 floats
        eV/Angstrom^2, ascending.
    displacement_A : float
        Distance from the starting grid point (Angstrom).
    iterations : int
    """

    index: int
    converged: bool
    energy_eV: float
    frac_coords: tuple[float, float, float]
    gradient_norm: float
    hessian_eigenvalues: tuple[float, float, float]
    displacement_A: float
    iterations: int


def refine_stationary_point(
    framework: Framework,
    start_cart: np.ndarray,
    index: int,
    max_distance_A: float = 1.0,
    gradient_tol: float = 1e-4,
    max_iterations: int = 60,
    trust_radius_A: float = 0.1,
) -> RefinedPoint:
    """Refine a minimum (``index=0``) or saddle (``index=1``) of the BVSE energy.

    Parameters
    ----------
    framework : Framework
        The terms of the energy (see :func:`nasicon_sim.bvse.landscape.build_framework`).
    start_cart : array (3,)
        Starting point (Angstrom), e.g. a grid minimum or a percolation-critical grid point.
    index : {0, 1}
        Number of downhill directions of the wanted stationary point.
    max_distance_A : float
        Give up if the iteration moves farther than this from the start.
    gradient_tol : float
        Convergence when |dE/dr| is below this (eV/Angstrom).
    max_iterations : int
    trust_radius_A : float
        Longest single step (Angstrom).

    Returns
    -------
    RefinedPoint
    """
    return refine_stationary_points(framework, np.asarray(start_cart, dtype=float).reshape(1, 3),
                                    index, max_distance_A, gradient_tol, max_iterations,
                                    trust_radius_A)[0]


def refine_stationary_points(
    framework: Framework,
    starts_cart: np.ndarray,
    index: int,
    max_distance_A: float = 1.0,
    gradient_tol: float = 1e-4,
    max_iterations: int = 60,
    trust_radius_A: float = 0.1,
) -> list[RefinedPoint]:
    """Refine many starting points at once (same method as :func:`refine_stationary_point`).

    All points still iterating are evaluated in one kernel call per Newton step (the energy
    and gradient at the point and the three gradients of its forward-difference Hessian, step
    1e-3 Angstrom: an O(1e-3) relative error in the curvature, which only shapes the step;
    convergence is judged on the analytic gradient), so refining a whole migration network
    costs a few kernel calls, not one per point.

    Parameters
    ----------
    framework : Framework
    starts_cart : array (n, 3)
        Starting points (Angstrom).
    index, max_distance_A, gradient_tol, max_iterations, trust_radius_A
        As in :func:`refine_stationary_point`.

    Returns
    -------
    list of RefinedPoint
        One per starting point, in order.
    """
    if index not in (0, 1):
        raise ValueError("index must be 0 (minimum) or 1 (saddle)")
    x0 = np.asarray(starts_cart, dtype=float).reshape(-1, 3)
    n = len(x0)
    x = x0.copy()
    energy = np.zeros(n)
    grad = np.zeros((n, 3))
    evals = np.zeros((n, 3))
    iterations = np.zeros(n, dtype=int)
    done = np.zeros(n, dtype=bool)  # stopped (converged or given up)
    ok = np.zeros(n, dtype=bool)
    disp = np.eye(3) * _FD_STEP_A  # forward differences: 4 evaluations per step, not 7
    sign = np.ones(3)
    if index == 1:
        sign[0] = -1.0
    for _ in range(max_iterations):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        xa = x[act]
        pts = np.concatenate([xa[:, None, :], xa[:, None, :] + disp[None]], axis=1)
        e_all, g_all = framework.energies_at(pts.reshape(-1, 3))
        e_all = e_all.reshape(-1, 4)
        g_all = g_all.reshape(-1, 4, 3)
        energy[act] = e_all[:, 0]
        g = g_all[:, 0]
        grad[act] = g
        iterations[act] += 1
        h = (g_all[:, 1:] - g[:, None, :]) / _FD_STEP_A  # rows: d/dx_i of the gradient
        h = 0.5 * (h + np.swapaxes(h, 1, 2))
        w, v = np.linalg.eigh(h)
        evals[act] = w
        gnorm = np.linalg.norm(g, axis=1)
        n_neg = np.sum(w < 0, axis=1)
        conv = (gnorm < gradient_tol) & (n_neg == index)
        ok[act[conv]] = True
        done[act[conv]] = True
        go = ~conv
        gi = np.einsum("nji,nj->ni", v[go], g[go])
        curv = np.maximum(np.abs(w[go]), 1e-2)
        step = np.einsum("nij,nj->ni", v[go], -gi / (sign * curv))
        norm = np.linalg.norm(step, axis=1)
        big = norm > trust_radius_A
        step[big] *= (trust_radius_A / norm[big])[:, None]
        idx = act[go]
        x[idx] = x[idx] + step
        far = np.linalg.norm(x[idx] - x0[idx], axis=1) > max_distance_A
        done[idx[far]] = True
    # points stopped by distance or iterations: energy and gradient where they stopped
    stale = ~ok
    if np.any(stale):
        e_s, g_s = framework.energies_at(x[stale])
        energy[stale] = e_s
        grad[stale] = g_s
    frac = np.linalg.solve(framework.lattice.T, x.T).T
    frac -= np.floor(frac)
    return [RefinedPoint(
        index=index, converged=bool(ok[i]), energy_eV=float(energy[i]),
        frac_coords=tuple(round(float(f), 6) for f in frac[i]),
        gradient_norm=float(np.linalg.norm(grad[i])),
        hessian_eigenvalues=tuple(float(t) for t in evals[i]),
        displacement_A=float(np.linalg.norm(x[i] - x0[i])), iterations=int(iterations[i]))
        for i in range(n)]


def _unrefined(link, e_min: float) -> RefinedPoint:
    """A not-converged placeholder at a link's grid saddle (outside the refinement window)."""
    return RefinedPoint(index=1, converged=False, energy_eV=float(link.saddle_eV + e_min),
                        frac_coords=tuple(link.frac_coords), gradient_norm=float("nan"),
                        hessian_eigenvalues=(float("nan"),) * 3, displacement_A=0.0,
                        iterations=0)


@dataclass(frozen=True)
class NetworkRefinement:
    """The migration network with every link in a window refined, and refined thresholds.

    Attributes
    ----------
    network : MigrationNetwork
        The grid network with ``Site.energy_refined_eV`` and ``Link.saddle_refined_eV`` set
        (relative to ``network.e_min_eV``).
    minimum : RefinedPoint
        The lowest converged refined site minimum (the continuous global minimum).
    saddles : tuple of RefinedPoint
        The refined saddle of the critical link of each dimension reached (1, 2, 3 in order);
        not converged where that link's refinement failed.
    thresholds_eV : tuple of 3 (float or None)
        Refined E_1D, E_2D, E_3D: periodic union-find (Kruskal) over the sites with the refined
        link saddles, minus the refined global minimum; None for a dimension not reached, or
        whose critical link has no converged refinement.
    bottleneck_links : tuple of 3 (int or None)
        Position in ``network.links`` of the critical link of each dimension.
    window_eV : float
        Links whose grid saddle is at most the grid E_3D plus this were refined.
    n_links_refined, n_links_failed, n_passes : int
        Links refined (converged), links in the window whose passes all failed, and grid
        passes refined in all.
    """

    network: MigrationNetwork
    minimum: RefinedPoint
    saddles: tuple[RefinedPoint, ...]
    thresholds_eV: tuple[float | None, float | None, float | None]
    bottleneck_links: tuple[int | None, int | None, int | None]
    window_eV: float
    n_links_refined: int
    n_links_failed: int
    n_passes: int


def refine_network(
    network: MigrationNetwork,
    framework: Framework,
    grid_shape: tuple[int, int, int],
    window_eV: float,
    max_distance_A: float = 1.0,
) -> NetworkRefinement:
    """Refine the sites and every link within a window of a migration network.

    Every site minimum is refined, and every grid pass of every link whose grid saddle lies at
    most ``window_eV`` above the grid 3D threshold (all links of the network when 3D is not
    reached). A link's refined saddle is the lowest converged index-1 point refined from its
    passes that is not below either of its sites; the refined thresholds are then read off a
    periodic union-find over the sites in the order of the refined link energies (links
    outside the window, or whose refinement failed, keep their grid saddle there).

    Parameters
    ----------
    network : MigrationNetwork
        From :func:`nasicon_sim.network.migration_network` on ``framework``'s landscape.
    framework : Framework
    grid_shape : (n1, n2, n3)
        Shape of the grid the network was computed on (to place grid indices).
    window_eV : float
        Refinement window above the grid 3D threshold (eV).
    max_distance_A : float
        A refinement that moves farther than this from its grid point has failed.

    Returns
    -------
    NetworkRefinement
    """
    from nasicon_sim.network import link_thresholds

    lattice = framework.lattice
    shape = np.asarray(grid_shape)

    def cart(flat_index) -> np.ndarray:
        ijk = np.stack(np.unravel_index(np.asarray(flat_index, dtype=np.int64), tuple(shape)),
                       axis=-1)
        return (ijk / shape) @ lattice

    e0 = network.e_min_eV
    sites, links = network.sites, network.links
    mins = refine_stationary_points(framework, cart([s.grid_index for s in sites]).reshape(-1, 3),
                                    0, max_distance_A)
    site_abs = np.array([m.energy_eV if m.converged else s.energy_eV + e0
                         for m, s in zip(mins, sites)])
    good = [m for m in mins if m.converged]
    minimum = min(good, key=lambda m: m.energy_eV) if good else mins[0]

    p3 = network.path(3)
    limit = p3.barrier_eV + window_eV if p3 is not None else network.cap_eV
    in_window = [i for i, ln in enumerate(links) if ln.saddle_eV <= limit]
    passes = network.link_passes or tuple((ln.grid_index,) for ln in links)
    owner, starts = [], []
    for i in in_window:
        for g in passes[i]:
            owner.append(i)
            starts.append(g)
    pts = refine_stationary_points(framework, cart(starts).reshape(-1, 3), 1, max_distance_A) \
        if starts else []
    best: dict[int, RefinedPoint] = {}
    first: dict[int, RefinedPoint] = {}
    for i, p in zip(owner, pts):
        ln = links[i]
        floor = max(site_abs[ln.site_a], site_abs[ln.site_b])
        if p.converged and p.energy_eV < floor - 1e-9:  # not a pass between these two sites
            p = replace(p, converged=False)
        first.setdefault(i, p)
        if not p.converged:
            continue
        if i not in best or p.energy_eV < best[i].energy_eV:
            best[i] = p
    link_abs = np.array([best[i].energy_eV if i in best else ln.saddle_eV + e0
                         for i, ln in enumerate(links)])
    crit = link_thresholds(len(sites), [(ln.site_a, ln.site_b, ln.translation) for ln in links],
                           link_abs)
    thresholds: list[float | None] = [None, None, None]
    bottleneck: list[int | None] = [None, None, None]
    saddles = []
    for dim, li, _ in crit:
        bottleneck[dim - 1] = li
        if li in best and minimum.converged:
            thresholds[dim - 1] = float(link_abs[li] - minimum.energy_eV)
        saddles.append(best[li] if li in best else first.get(li) or _unrefined(links[li], e0))
    new_sites = tuple(replace(s, energy_refined_eV=float(m.energy_eV - e0) if m.converged
                              else None) for s, m in zip(sites, mins))
    new_links = tuple(replace(ln, saddle_refined_eV=float(best[i].energy_eV - e0)
                              if i in best else None) for i, ln in enumerate(links))
    by_key = {(ln.site_a, ln.site_b, tuple(ln.translation)): ln.saddle_refined_eV
              for ln in new_links}

    def _refined_bottleneck(path):
        b = path.bottleneck
        key = (b.site_a, b.site_b, tuple(b.translation))
        if key not in by_key:  # the same link seen from the other site
            key = (b.site_b, b.site_a, tuple(-int(t) for t in b.translation))
        return replace(path, bottleneck=replace(b, saddle_refined_eV=by_key.get(key)))

    refined_net = replace(network, sites=new_sites, links=new_links,
                          paths=tuple(_refined_bottleneck(p) for p in network.paths))
    return NetworkRefinement(
        network=refined_net, minimum=minimum, saddles=tuple(saddles),
        thresholds_eV=tuple(thresholds), bottleneck_links=tuple(bottleneck),
        window_eV=float(window_eV), n_links_refined=len(best),
        n_links_failed=len(in_window) - len([i for i in in_window if i in best]),
        n_passes=len(starts))
