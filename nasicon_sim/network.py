"""Migration network of a periodic landscape: sites (minima), links (saddles), percolating paths.

Method (a periodic watershed and merge tree, cf. bvsepath and the BVPA pathway analysis of
Wong et al., Chem. Mater. 33 (2021) 625):

1. Basins. Grid points below an energy cap are visited in increasing (energy, index) order; a
   point with no lower neighbour is a local minimum and starts a basin, every other point joins
   the basin of its lowest neighbour (steepest descent), remembering the lattice cell in which
   that basin's minimum lies. Each point is thus joined to its minimum through lower points.
2. Links. For every pair of neighbouring points in different basins (or in different periodic
   images of one basin) the pass between the two basin images is the higher of the two points;
   the link keeps the lowest pass (its saddle). The sublevel set {E <= L} connects two basin
   images iff links with saddles <= L do, so the percolation thresholds of this graph equal
   those of :mod:`nasicon_sim.percolation` exactly (a test checks it).
3. Sites. Minima shallower than ``merge_depth_eV`` (saddle minus minimum, the persistence of
   Edelsbrunner, Letscher & Zomorodian, Discrete Comput. Geom. 28 (2002) 511) are merged into
   their older neighbour; the surviving minima are the mobile-ion sites. Each site is labelled by
   the nearest reference site (by default the structure's own mobile-ion sites, with their
   ``parent_label`` and ``wyckoff`` properties when present).
4. Percolating paths. Links are added in increasing saddle energy to a periodic union-find over
   basins (Kruskal). The link that first gives a cluster a wrap of rank d is the bottleneck of
   d-dimensional migration; when it closes a cycle, the cycle is the percolating path.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import asdict, dataclass, field

import numba
import numpy as np
from numba import types
from numba.typed import Dict

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.percolation import neighbour_offsets, periodic_neighbour, sort_order

__all__ = [
    "Link",
    "MigrationNetwork",
    "PercolatingPath",
    "ReferenceSites",
    "Site",
    "basin_graph",
    "link_thresholds",
    "migration_network",
    "reference_sites_from_structure",
]

logger = logging.getLogger(__name__)

_KEY = types.UniTuple(types.int64, 5)


@numba.njit(cache=True)
def _basins(flat_e, shape, order, nbr, cap, basin, cell, minima):
    n1, n2, n3 = shape[0], shape[1], shape[2]
    nmin = 0
    count = 0
    for step in range(order.shape[0]):
        v = order[step]
        ev = flat_e[v]
        if ev > cap:
            break
        count += 1
        i = v // (n2 * n3)
        j = (v // n3) % n2
        k = v % n3
        best = -1
        be = ev
        bs0 = 0
        bs1 = 0
        bs2 = 0
        for q in range(nbr.shape[0]):
            w, s0, s1, s2 = periodic_neighbour(i, j, k, nbr[q, 0], nbr[q, 1], nbr[q, 2],
                                               n1, n2, n3)
            ew = flat_e[w]
            lower = ew < be or (ew == be and (w < (best if best >= 0 else v)))
            if lower:
                best = w
                be = ew
                bs0 = s0
                bs1 = s1
                bs2 = s2
        if best < 0:
            basin[v] = nmin
            minima[nmin] = v
            nmin += 1
        else:
            basin[v] = basin[best]
            cell[v, 0] = cell[best, 0] + bs0
            cell[v, 1] = cell[best, 1] + bs1
            cell[v, 2] = cell[best, 2] + bs2
    return nmin, count


@numba.njit(cache=True)
def _links(flat_e, shape, order, count, nbr, basin, cell):
    n1, n2, n3 = shape[0], shape[1], shape[2]
    best = Dict.empty(key_type=_KEY, value_type=types.int64)
    for step in range(count):
        v = order[step]
        i = v // (n2 * n3)
        j = (v // n3) % n2
        k = v % n3
        bv = basin[v]
        for q in range(nbr.shape[0]):
            w, s0, s1, s2 = periodic_neighbour(i, j, k, nbr[q, 0], nbr[q, 1], nbr[q, 2],
                                               n1, n2, n3)
            bw = basin[w]
            if bw < 0:
                continue
            # only pairs whose later point is v: each pair is seen once, from its higher point
            ew = flat_e[w]
            ev = flat_e[v]
            if ew > ev or (ew == ev and w > v):
                continue
            t0 = cell[w, 0] + s0 - cell[v, 0]
            t1 = cell[w, 1] + s1 - cell[v, 1]
            t2 = cell[w, 2] + s2 - cell[v, 2]
            if bv == bw and t0 == 0 and t1 == 0 and t2 == 0:
                continue
            a = bv
            b = bw
            if a > b or (a == b and (t0 < 0 or (t0 == 0 and (t1 < 0 or (t1 == 0 and t2 < 0))))):
                a, b = b, a
                t0, t1, t2 = -t0, -t1, -t2
            key = (a, b, t0, t1, t2)
            if key in best:
                old = best[key]
                eo = flat_e[old]
                if ev < eo or (ev == eo and v < old):
                    best[key] = v
            else:
                best[key] = v
    n = len(best)
    keys = np.empty((n, 5), np.int64)
    vals = np.empty(n, np.int64)
    m = 0
    for key, val in best.items():
        for c in range(5):
            keys[m, c] = key[c]
        vals[m] = val
        m += 1
    return keys, vals


def basin_graph(
    energies: np.ndarray,
    cap_eV: float,
    connectivity: int = 26,
    order: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Basins and links of a periodic landscape below an energy cap.

    Parameters
    ----------
    energies : array (n1, n2, n3)
    cap_eV : float
        Only grid points with energy <= cap belong to basins (absolute energy).
    connectivity : {6, 26}
    order : array, optional
        :func:`nasicon_sim.percolation.sort_order` of ``energies``.

    Returns
    -------
    minima : numpy.ndarray (n_basins,)
        Flat grid index of each basin's minimum.
    link_keys : numpy.ndarray (n_links, 5)
        (basin a, basin b, t1, t2, t3): the image of b in cell t touches a in cell 0.
    link_saddle : numpy.ndarray (n_links,)
        Flat grid index of the saddle (lowest pass) of each link.
    basin : numpy.ndarray (n1*n2*n3,)
        Basin of every grid point (-1 above the cap).
    """
    e = np.ascontiguousarray(energies, dtype=np.float64)
    nbr = neighbour_offsets(connectivity)
    if order is None:
        order = sort_order(e)
    flat = e.reshape(-1)
    basin = np.full(flat.size, -1, np.int32)
    cell = np.zeros((flat.size, 3), np.int32)
    minima = np.empty(flat.size, np.int64)
    shape = np.array(e.shape, np.int64)
    nmin, count = _basins(flat, shape, order, nbr, float(cap_eV), basin, cell, minima)
    keys, vals = _links(flat, shape, order, count, nbr, basin, cell)
    return minima[:nmin].copy(), keys, vals, basin


# --------------------------------------------------------------------------- result objects


@dataclass(frozen=True)
class ReferenceSites:
    """Positions that name the minima (e.g. all Na sites of the parent cell).

    Attributes
    ----------
    frac_coords : numpy.ndarray (n, 3)
        In the cell of the landscape.
    labels : tuple of str
        e.g. ``("Na1", "Na2", "Na3", ...)``.
    wyckoffs : tuple of (str or None)
        e.g. ``("4d", "4e", "8f", ...)``.
    """

    frac_coords: np.ndarray
    labels: tuple[str, ...]
    wyckoffs: tuple[str | None, ...]

    def __post_init__(self) -> None:
        fc = np.array(self.frac_coords, dtype=float).reshape(-1, 3)
        fc.setflags(write=False)
        object.__setattr__(self, "frac_coords", fc)
        object.__setattr__(self, "labels", tuple(str(x) for x in self.labels))
        wy = tuple(self.wyckoffs) if self.wyckoffs is not None else (None,) * len(fc)
        object.__setattr__(self, "wyckoffs", tuple(None if w is None else str(w) for w in wy))
        if not (len(self.labels) == len(fc) == len(self.wyckoffs)):
            raise NasiconSimError("reference sites need one label and one Wyckoff entry per site")


def reference_sites_from_structure(structure, element: str) -> ReferenceSites:
    """The sites of ``element`` in a structure, labelled for the migration network.

    Labels come from the ``parent_label`` site property (builder supercells), else the
    ``label`` property or pymatgen site label (CIF labels such as ``Na1``), else the element and
    a running number written ``Na#7`` (so it is not mistaken for a crystallographic label).
    Wyckoff positions come from the ``wyckoff`` site property when present.
    """
    props = structure.site_properties
    frac, labels, wyck = [], [], []
    n = 0
    for idx, site in enumerate(structure):
        if element not in {sp.symbol for sp in site.species}:
            continue
        n += 1
        frac.append(site.frac_coords)
        label = None
        for key in ("parent_label", "label"):
            if key in props and props[key][idx] not in (None, ""):
                label = str(props[key][idx])
                break
        if label is None:
            site_label = getattr(site, "label", None)
            label = str(site_label) if site_label and site_label != site.species_string \
                else f"{element}#{n}"
        labels.append(label)
        wyck.append(props["wyckoff"][idx] if "wyckoff" in props else None)
    return ReferenceSites(np.array(frac).reshape(-1, 3), tuple(labels), tuple(wyck))


@dataclass(frozen=True)
class Site:
    """A mobile-ion site: a minimum of the landscape (after merging shallow ones).

    Attributes
    ----------
    index : int
        Position in :attr:`MigrationNetwork.sites`.
    energy_eV : float
        Site energy relative to the global minimum (eV).
    frac_coords : tuple of 3 floats
        Position of the minimum (grid point) in the cell.
    label, wyckoff : str or None
        Of the nearest reference site (None without references).
    label_distance_A : float or None
        Distance to that reference site (Angstrom).
    interstitial : bool
        True when the nearest reference site is farther than the labelling radius.
    n_minima : int
        Grid minima merged into this site.
    grid_index : int
        Flat index of the minimum's grid point.
    energy_refined_eV : float or None
        Energy of the continuous minimum refined from the grid minimum, relative to the same
        reference as ``energy_eV`` (:attr:`MigrationNetwork.e_min_eV`, the grid minimum: the
        lowest refined site may be slightly negative); None when not refined or not converged.
    """

    index: int
    energy_eV: float
    frac_coords: tuple[float, float, float]
    label: str | None
    wyckoff: str | None
    label_distance_A: float | None
    interstitial: bool
    n_minima: int
    grid_index: int
    energy_refined_eV: float | None = None


@dataclass(frozen=True)
class Link:
    """A saddle between two site images: the lowest pass between their basins.

    Attributes
    ----------
    site_a, site_b : int
        Site indices; site_b is meant in cell ``translation`` relative to site_a.
    translation : tuple of 3 ints
        Lattice translation of site_b's image (cells).
    saddle_eV : float
        Saddle energy relative to the global minimum (eV).
    barrier_from_a_eV, barrier_from_b_eV : float
        Saddle minus site energy, seen from each side (eV).
    frac_coords : tuple of 3 floats
        Saddle position (grid point) in the cell.
    labels : tuple of 2 (str or None)
        Labels of site_a and site_b.
    grid_index : int
    saddle_refined_eV : float or None
        Energy of the continuous index-1 saddle refined from the grid passes of this link
        (the lowest one that converged), relative to :attr:`MigrationNetwork.e_min_eV` like
        ``saddle_eV``; None when not refined (above the refinement window) or no refinement
        converged.
    """

    site_a: int
    site_b: int
    translation: tuple[int, int, int]
    saddle_eV: float
    barrier_from_a_eV: float
    barrier_from_b_eV: float
    frac_coords: tuple[float, float, float]
    labels: tuple[str | None, str | None]
    grid_index: int
    saddle_refined_eV: float | None = None

    @property
    def name(self) -> str:
        """e.g. ``"Na1-Na3"`` (site indices when unlabelled)."""
        a = self.labels[0] if self.labels[0] is not None else f"site{self.site_a}"
        b = self.labels[1] if self.labels[1] is not None else f"site{self.site_b}"
        return f"{a}-{b}"


@dataclass(frozen=True)
class PercolatingPath:
    """How migration first becomes d-dimensional.

    Attributes
    ----------
    dimension : int
        1, 2 or 3.
    barrier_eV : float
        Saddle of the bottleneck relative to the global minimum (equals E_dD).
    bottleneck : Link
        The highest link on the path: the one whose addition made the network d-dimensional.
    wrap_vector : tuple of 3 ints
        The new lattice translation (cells) the network now spans.
    cycle_sites : tuple of int
        Sites along the closed path (first = last image) when the bottleneck closes a cycle;
        empty when it joins two clusters that already wrapped.
    cycle_labels : tuple of (str or None)
    """

    dimension: int
    barrier_eV: float
    bottleneck: Link
    wrap_vector: tuple[int, int, int]
    cycle_sites: tuple[int, ...]
    cycle_labels: tuple[str | None, ...]


@dataclass(frozen=True)
class MigrationNetwork:
    """Sites, links and percolating paths of a landscape.

    Attributes
    ----------
    e_min_eV : float
        Absolute global minimum (energies in the parts are relative to it).
    cap_eV : float
        Network covers energies up to this (relative to the minimum).
    sites : tuple of Site
    links : tuple of Link
        Sorted by saddle energy.
    paths : tuple of PercolatingPath
        For the dimensions reached below the cap (1, 2, 3 in order).
    merge_depth_eV : float
    n_minima : int
        Grid minima before merging.
    link_passes : tuple of tuple of int
        For each link, the flat grid indices of every basin-to-basin pass it stands for
        (its own saddle first): near-degenerate passes whose order a coarse grid may get
        wrong, all refined by :func:`nasicon_sim.bvse.refine.refine_network`. Not in
        :meth:`as_dict`.
    """

    e_min_eV: float
    cap_eV: float
    sites: tuple[Site, ...]
    links: tuple[Link, ...]
    paths: tuple[PercolatingPath, ...]
    merge_depth_eV: float
    n_minima: int = field(default=0)
    link_passes: tuple[tuple[int, ...], ...] = field(default=(), repr=False, compare=False)

    def path(self, dimension: int) -> PercolatingPath | None:
        """The percolating path of a dimension, or None if not reached below the cap."""
        for p in self.paths:
            if p.dimension == dimension:
                return p
        return None

    def as_dict(self) -> dict:
        """JSON-able dict (without :attr:`link_passes`)."""
        d = asdict(self)
        d.pop("link_passes", None)
        return d


# --------------------------------------------------------------------------- helpers


class _PeriodicUnionFind:
    """Union-find over graph nodes with lattice translations (small graphs, pure Python)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.off = [np.zeros(3, dtype=np.int64) for _ in range(n)]
        self.basis: dict[int, list[np.ndarray]] = {}

    def find(self, x: int) -> tuple[int, np.ndarray]:
        path = []
        while self.parent[x] != x:
            path.append(x)
            x = self.parent[x]
        root = x
        acc = np.zeros(3, dtype=np.int64)
        for y in reversed(path):  # from the root side down
            acc = acc + self.off[y]
            self.off[y] = acc.copy()
            self.parent[y] = root
        return root, (self.off[path[0]].copy() if path else np.zeros(3, dtype=np.int64))

    def rank(self, root: int) -> int:
        return len(self.basis.get(root, []))

    def join(self, a: int, b: int, t: np.ndarray) -> tuple[int, bool]:
        """Add the edge from node ``a`` to node ``b`` in lattice cell ``t``.

        Returns the root of the cluster that now holds both and whether the edge closed a
        cycle (both already in one cluster: its wrap vector is recorded instead of a union).
        """
        ra, pa = self.find(a)
        rb, pb = self.find(b)
        if ra == rb:
            self.add_wrap(ra, pa + t - pb)
            return ra, True
        if self.rank(ra) >= self.rank(rb):
            self.union(ra, rb, pa + t - pb)
            return ra, False
        self.union(rb, ra, pb - t - pa)
        return rb, False

    def add_wrap(self, root: int, t: np.ndarray) -> bool:
        basis = self.basis.setdefault(root, [])
        if not np.any(t) or len(basis) == 3:
            return False
        if np.linalg.matrix_rank(np.array(basis + [t], dtype=float)) > len(basis):
            basis.append(np.asarray(t, dtype=np.int64))
            return True
        return False

    def union(self, root: int, child: int, off_child: np.ndarray) -> list[np.ndarray]:
        """Attach child under root; returns the wrap vectors that raised root's rank."""
        self.parent[child] = root
        self.off[child] = np.asarray(off_child, dtype=np.int64)
        gained = []
        for t in self.basis.pop(child, []):
            if self.add_wrap(root, t):
                gained.append(t)
        return gained


def _min_image_distances(lattice: np.ndarray, frac: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Periodic distances (n, m) between fractional positions (Angstrom)."""
    from pymatgen.core import Lattice

    return Lattice(lattice).get_all_distances(frac, refs)


# --------------------------------------------------------------------------- main function


def migration_network(
    energies: np.ndarray,
    lattice: np.ndarray,
    cap_eV: float,
    reference: ReferenceSites | None = None,
    connectivity: int = 26,
    merge_depth_eV: float = 0.01,
    label_max_distance_A: float = 1.0,
    order: np.ndarray | None = None,
) -> MigrationNetwork:
    """Sites, saddles and percolating paths of a periodic landscape.

    Parameters
    ----------
    energies : array (n1, n2, n3)
        Landscape on the periodic grid (i/n1, j/n2, k/n3) of ``lattice`` (eV).
    lattice : array (3, 3)
        Rows are lattice vectors (Angstrom).
    cap_eV : float
        Analyse energies up to E_min + cap_eV (e.g. the 3D barrier plus a margin).
    reference : ReferenceSites, optional
        Named positions for labelling the sites.
    connectivity : {6, 26}
    merge_depth_eV : float
        Persistence below which a minimum is merged into its neighbour.
    label_max_distance_A : float
        Farther minima are flagged ``interstitial``.
    order : array, optional
        Precomputed sort order of the energies.

    Returns
    -------
    MigrationNetwork
    """
    e = np.ascontiguousarray(energies, dtype=np.float64)
    if e.ndim != 3:
        raise NasiconSimError("energies must be a 3D grid")
    lattice = np.asarray(lattice, dtype=float)
    if order is None:
        order = sort_order(e)
    flat = e.reshape(-1)
    e_min = float(flat[order[0]])
    minima, keys, saddle_idx, _ = basin_graph(e, e_min + cap_eV, connectivity, order)
    shape = e.shape
    n_b = len(minima)
    e_basin = flat[minima]
    saddle_e = flat[saddle_idx]
    sorted_links = np.lexsort((saddle_idx, saddle_e))

    # 3. persistence merging into site groups (elder rule)
    comp = _PeriodicUnionFind(n_b)  # full merge tree, for persistence
    comp_min = {b: b for b in range(n_b)}  # component root -> its lowest basin
    group = _PeriodicUnionFind(n_b)  # site groups
    for li in sorted_links:
        a, b = int(keys[li, 0]), int(keys[li, 1])
        t = keys[li, 2:5].astype(np.int64)
        ra, _ = comp.find(a)
        rb, _ = comp.find(b)
        if ra == rb:
            continue
        ma, mb = comp_min[ra], comp_min[rb]
        young_root, old_root = (ra, rb) if (e_basin[ma], ma) > (e_basin[mb], mb) else (rb, ra)
        young_min = comp_min[young_root]
        persistence = saddle_e[li] - e_basin[young_min]
        comp.parent[young_root] = old_root  # translations are irrelevant for persistence
        if persistence < merge_depth_eV:
            ga, pa = group.find(a)
            gb, pb = group.find(b)
            if ga != gb:
                # the group with the lower minimum stays root; offsets put b's image at a + t
                if (e_basin[ga], ga) < (e_basin[gb], gb):
                    group.union(ga, gb, pa + t - pb)
                else:
                    group.union(gb, ga, pb - t - pa)

    # sites: one per group, represented by the group's lowest minimum
    root_of = [group.find(b)[0] for b in range(n_b)]
    roots = sorted(set(root_of), key=lambda r: (e_basin[r], r))
    for b, r in enumerate(root_of):  # a group root is its lowest minimum by construction
        if (e_basin[b], b) < (e_basin[r], r):
            raise AssertionError("site group root is not its lowest minimum")
    site_of_root = {r: i for i, r in enumerate(roots)}
    n_members = {r: 0 for r in roots}
    for r in root_of:
        n_members[r] += 1
    site_frac = np.array([np.array(np.unravel_index(minima[r], shape)) / shape for r in roots])
    labels: list[str | None] = [None] * len(roots)
    wyck: list[str | None] = [None] * len(roots)
    dists: list[float | None] = [None] * len(roots)
    if reference is not None and len(reference.labels) and len(roots):
        d = _min_image_distances(lattice, site_frac, reference.frac_coords)
        nearest = d.argmin(axis=1)
        for i, j in enumerate(nearest):
            labels[i] = reference.labels[j]
            wyck[i] = reference.wyckoffs[j]
            dists[i] = round(float(d[i, j]), 4)
    sites = tuple(
        Site(index=i, energy_eV=float(e_basin[r] - e_min),
             frac_coords=tuple(round(float(x), 6) for x in site_frac[i]),
             label=labels[i], wyckoff=wyck[i], label_distance_A=dists[i],
             interstitial=bool(dists[i] is not None and dists[i] > label_max_distance_A),
             n_minima=n_members[r], grid_index=int(minima[r]))
        for i, r in enumerate(roots)
    )

    def make_link(li: int, site_a: int, site_b: int, trans: np.ndarray) -> Link:
        s_e = float(saddle_e[li] - e_min)
        frac = np.array(np.unravel_index(saddle_idx[li], shape)) / shape
        return Link(site_a=site_a, site_b=site_b, translation=tuple(int(x) for x in trans),
                    saddle_eV=s_e, barrier_from_a_eV=s_e - sites[site_a].energy_eV,
                    barrier_from_b_eV=s_e - sites[site_b].energy_eV,
                    frac_coords=tuple(round(float(x), 6) for x in frac),
                    labels=(sites[site_a].label, sites[site_b].label),
                    grid_index=int(saddle_idx[li]))

    # links between site images (lowest saddle per (site a, site b, translation))
    best: dict[tuple, int] = {}
    link_trans: dict[tuple, np.ndarray] = {}
    passes: dict[tuple, list[int]] = {}
    for li in sorted_links:
        a, b = int(keys[li, 0]), int(keys[li, 1])
        ga, pa = group.find(a)
        gb, pb = group.find(b)
        t = keys[li, 2:5].astype(np.int64) + pa - pb
        sa, sb = site_of_root[ga], site_of_root[gb]
        if sa > sb or (sa == sb and tuple(t) < tuple(-t)):
            sa, sb, t = sb, sa, -t
        if sa == sb and not np.any(t):
            continue
        key = (sa, sb, *(int(x) for x in t))
        if key not in best:
            best[key] = int(li)
            link_trans[key] = t
            passes[key] = []
        passes[key].append(int(saddle_idx[li]))
    ordered = sorted(best.items(), key=lambda kv: (saddle_e[kv[1]], saddle_idx[kv[1]]))
    links = tuple(make_link(li, key[0], key[1], link_trans[key]) for key, li in ordered)
    link_passes = tuple(tuple(dict.fromkeys(passes[key])) for key, _ in ordered)

    # 4. Kruskal on the (unmerged) basin graph: exact thresholds, bottlenecks, cycles
    uf = _PeriodicUnionFind(n_b)
    tree: dict[int, list[tuple[int, np.ndarray]]] = {b: [] for b in range(n_b)}
    paths: list[PercolatingPath] = []
    reached = 0

    def to_site(basin: int) -> tuple[int, np.ndarray]:
        g, p = group.find(basin)
        return site_of_root[g], p

    def cycle(a: int, b: int) -> list[int]:
        # basins on the tree path from a to b, then back to a over the closing link
        if a == b:
            return [a, a]
        prev: dict[int, int] = {a: -1}
        queue = deque([a])
        while queue and b not in prev:
            x = queue.popleft()
            for y, _ in tree[x]:
                if y not in prev:
                    prev[y] = x
                    queue.append(y)
        seq = [b]
        while seq[-1] != a:
            seq.append(prev[seq[-1]])
        return seq[::-1] + [a]

    for li in sorted_links:
        if reached == 3:
            break
        a, b = int(keys[li, 0]), int(keys[li, 1])
        t = keys[li, 2:5].astype(np.int64)
        root, closes = uf.join(a, b, t)
        if not closes:
            tree[a].append((b, t))
            tree[b].append((a, -t))
        while uf.rank(root) > reached:
            reached += 1
            w = uf.basis[root][reached - 1]
            sa, p_a = to_site(a)
            sb, p_b = to_site(b)
            link = make_link(int(li), sa, sb, t + p_a - p_b)
            compact: list[int] = []
            if closes:
                seq_sites = [to_site(x)[0] for x in cycle(a, b)]
                compact = [s for i, s in enumerate(seq_sites) if i == 0 or s != seq_sites[i - 1]]
            paths.append(PercolatingPath(
                dimension=reached, barrier_eV=float(saddle_e[li] - e_min), bottleneck=link,
                wrap_vector=tuple(int(x) for x in w), cycle_sites=tuple(compact),
                cycle_labels=tuple(sites[s].label for s in compact)))
    return MigrationNetwork(e_min_eV=e_min, cap_eV=float(cap_eV), sites=sites, links=links,
                            paths=tuple(paths), merge_depth_eV=float(merge_depth_eV),
                            n_minima=n_b, link_passes=link_passes)


def link_thresholds(
    n_sites: int,
    links: list[tuple[int, int, tuple[int, int, int]]] | tuple,
    energies: np.ndarray,
) -> list[tuple[int, int, tuple[int, int, int]]]:
    """Percolation thresholds of a periodic site graph with given link energies.

    Links are added in increasing energy to a periodic union-find (Kruskal, as in step 4 of
    :func:`migration_network`); the link that first gives a cluster a wrap of rank d sets the
    d-dimensional threshold. Because the thresholds are read off one increasing sequence,
    E_1D <= E_2D <= E_3D whatever the energies.

    Parameters
    ----------
    n_sites : int
    links : sequence of (site_a, site_b, translation)
        Site b's image in cell ``translation`` touches site a in cell 0.
    energies : array (n_links,)
        Energy of each link (any common reference; ties broken by position).

    Returns
    -------
    list of (dimension, link position, wrap vector)
        For each dimension reached (1, 2, 3 in order).

    Examples
    --------
    One site linked to its own images along a (0.5 eV) and b (0.7 eV), and to c (0.6 eV):

    >>> [(d, i) for d, i, _ in link_thresholds(1, [(0, 0, (1, 0, 0)), (0, 0, (0, 1, 0)),
    ...                                            (0, 0, (0, 0, 1))], np.array([0.5, 0.7, 0.6]))]
    [(1, 0), (2, 2), (3, 1)]
    """
    e = np.asarray(energies, dtype=float)
    uf = _PeriodicUnionFind(n_sites)
    out: list[tuple[int, int, tuple[int, int, int]]] = []
    reached = 0
    for li in np.lexsort((np.arange(len(e)), e)):
        if reached == 3:
            break
        a, b, t = links[li]
        t = np.asarray(t, dtype=np.int64)
        root, _ = uf.join(a, b, t)
        while uf.rank(root) > reached:
            reached += 1
            w = uf.basis[root][reached - 1]
            out.append((reached, int(li), tuple(int(x) for x in w)))
    return out

