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

from dataclasses import dataclass

import numpy as np

from nasicon_sim.bvse.landscape import Framework

__all__ = ["RefinedPoint", "refine_stationary_point"]

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


def _hessian(framework: Framework, x: np.ndarray) -> np.ndarray:
    pts = np.repeat(x[None, :], 6, axis=0)
    for i in range(3):
        pts[2 * i, i] += _FD_STEP_A
        pts[2 * i + 1, i] -= _FD_STEP_A
    _, g = framework.energies_at(pts)
    h = np.stack([(g[2 * i] - g[2 * i + 1]) / (2 * _FD_STEP_A) for i in range(3)])
    return 0.5 * (h + h.T)


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
    if index not in (0, 1):
        raise ValueError("index must be 0 (minimum) or 1 (saddle)")
    x0 = np.asarray(start_cart, dtype=float).reshape(3)
    x = x0.copy()
    e, g = framework.energies_at(x[None, :])
    e, g = float(e[0]), g[0]
    evals = np.zeros(3)
    iterations = 0
    ok = False
    for _ in range(max_iterations):
        iterations += 1
        h = _hessian(framework, x)
        evals, evecs = np.linalg.eigh(h)
        gnorm = float(np.linalg.norm(g))
        n_neg = int(np.sum(evals < 0))
        if gnorm < gradient_tol and n_neg == index:
            ok = True
            break
        gi = evecs.T @ g
        curv = np.maximum(np.abs(evals), 1e-2)
        sign = np.ones(3)
        if index == 1:
            sign[0] = -1.0
        step = evecs @ (-gi / (sign * curv))
        norm = float(np.linalg.norm(step))
        if norm > trust_radius_A:
            step *= trust_radius_A / norm
        x = x + step
        if np.linalg.norm(x - x0) > max_distance_A:
            break
        en, gn = framework.energies_at(x[None, :])
        e, g = float(en[0]), gn[0]
    frac = np.linalg.solve(framework.lattice.T, x)
    frac -= np.floor(frac)
    return RefinedPoint(
        index=index, converged=ok, energy_eV=e,
        frac_coords=tuple(round(float(f), 6) for f in frac),
        gradient_norm=float(np.linalg.norm(g)),
        hessian_eigenvalues=tuple(float(v) for v in evals),
        displacement_A=float(np.linalg.norm(x - x0)), iterations=iterations)
