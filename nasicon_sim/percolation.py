"""Exact 1D/2D/3D percolation thresholds of a periodic landscape by a periodic union-find.

Method. Grid points are switched on in order of increasing energy (ties by index). Every new point
is joined to its switched-on neighbours (6 faces or 26 faces/edges/corners, across the periodic
boundaries) in a union-find forest that stores, for every point, the lattice translation from
its parent's image to its own image (a "periodic union-find", as in the dimensionality analysis
of Mounet et al., Nat. Nanotechnol. 13 (2018) 246 and ASE's ``ase.geometry.dimensionality``,
here applied to sublevel sets). When an edge closes a cycle inside one cluster, the net
translation around the cycle is a lattice vector the cluster maps onto; the percolation
dimension of the cluster is the rank of these vectors (1: channel, 2: slab, 3: network). The
threshold E_dD is the energy of the point whose switching-on first makes some cluster's rank
reach d; the barrier is E_dD - E_min. One pass gives all three, with no bisection tolerance and
no tiling of the cell, and a cluster that wraps only after several cells (a helix) is found.

Level-set convention: at level L the region {E <= L} percolates in d dimensions iff L >= E_dD.
(bvlain uses {E - E_min < L} and reports the upper end of a 0.0098 eV bisection window, so its
values lie in [E_dD - E_min, E_dD - E_min + 0.0098).)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numba
import numpy as np

from nasicon_sim.errors import NasiconSimError

__all__ = [
    "PercolationResult",
    "neighbour_offsets",
    "periodic_neighbour",
    "percolation_thresholds",
    "sort_order",
]

logger = logging.getLogger(__name__)


def neighbour_offsets(connectivity: int) -> np.ndarray:
    """Grid-neighbour displacements (n, 3) for 6 or 26 connectivity.

    >>> neighbour_offsets(6).shape, neighbour_offsets(26).shape
    ((6, 3), (26, 3))
    """
    if connectivity == 6:
        eye = np.eye(3, dtype=np.int64)
        return np.concatenate([eye, -eye])
    if connectivity == 26:
        r = (-1, 0, 1)
        return np.array([(i, j, k) for i in r for j in r for k in r if (i, j, k) != (0, 0, 0)],
                        dtype=np.int64)
    raise NasiconSimError(f"connectivity must be 6 or 26, got {connectivity!r}")


@numba.njit(cache=True, inline="always")
def periodic_neighbour(i, j, k, di, dj, dk, n1, n2, n3):
    """Flat index of grid point (i+di, j+dj, k+dk) wrapped into the cell, and the cell shift.

    Returns ``(w, s0, s1, s2)``: the C-order flat index of the wrapped point and the lattice
    translation (-1, 0 or 1 per axis) from the unwrapped to the wrapped image. Offsets are
    -1, 0 or 1 (grid neighbours).
    """
    ni = i + di
    nj = j + dj
    nk = k + dk
    s0 = 0
    s1 = 0
    s2 = 0
    if ni < 0:
        ni += n1
        s0 = -1
    elif ni >= n1:
        ni -= n1
        s0 = 1
    if nj < 0:
        nj += n2
        s1 = -1
    elif nj >= n2:
        nj -= n2
        s1 = 1
    if nk < 0:
        nk += n3
        s2 = -1
    elif nk >= n3:
        nk -= n3
        s2 = 1
    return (ni * n2 + nj) * n3 + nk, s0, s1, s2


def sort_order(energies: np.ndarray) -> np.ndarray:
    """Flat indices of ``energies`` by increasing value, ties by index (stable sort)."""
    flat = np.asarray(energies).reshape(-1)
    if not np.all(np.isfinite(flat)):
        raise NasiconSimError("the landscape contains non-finite energies")
    return np.argsort(flat, kind="stable")


@numba.njit(cache=True)
def _find(parent, off, x, acc):
    # root of x, and in acc the translation of x's image relative to the root; compresses path
    acc[0] = 0
    acc[1] = 0
    acc[2] = 0
    r = x
    while parent[r] != r:
        acc[0] += off[r, 0]
        acc[1] += off[r, 1]
        acc[2] += off[r, 2]
        r = parent[r]
    y = x
    a0, a1, a2 = acc[0], acc[1], acc[2]
    while parent[y] != r and y != r:
        nxt = parent[y]
        o0, o1, o2 = off[y, 0], off[y, 1], off[y, 2]
        parent[y] = r
        off[y, 0] = a0
        off[y, 1] = a1
        off[y, 2] = a2
        a0 -= o0
        a1 -= o1
        a2 -= o2
        y = nxt
    return r


@numba.njit(cache=True)
def _add_vector(basis, count, slot, t0, t1, t2):
    # add translation t to the basis of cluster slot if it is independent; returns the new rank
    k = count[slot]
    if t0 == 0 and t1 == 0 and t2 == 0:
        return k
    if k == 0:
        independent = True
    elif k == 1:
        b = basis[slot, 0]
        independent = (b[1] * t2 - b[2] * t1 != 0 or b[2] * t0 - b[0] * t2 != 0
                       or b[0] * t1 - b[1] * t0 != 0)
    elif k == 2:
        b, c = basis[slot, 0], basis[slot, 1]
        det = (t0 * (b[1] * c[2] - b[2] * c[1]) - t1 * (b[0] * c[2] - b[2] * c[0])
               + t2 * (b[0] * c[1] - b[1] * c[0]))
        independent = det != 0
    else:
        independent = False
    if independent:
        basis[slot, k, 0] = t0
        basis[slot, k, 1] = t1
        basis[slot, k, 2] = t2
        count[slot] = k + 1
    return count[slot]


@numba.njit(cache=True)
def _sweep(flat_e, shape, order, nbr, stop_rank, out_index, out_vec):
    n1, n2, n3 = shape[0], shape[1], shape[2]
    npts = flat_e.shape[0]
    parent = np.full(npts, -1, np.int64)
    off = np.zeros((npts, 3), np.int32)
    size = np.zeros(npts, np.int32)
    slot_of = np.full(npts, -1, np.int64)  # root -> row in basis (clusters that wrap)
    cap = 64
    basis = np.zeros((cap, 3, 3), np.int64)
    count = np.zeros(cap, np.int64)
    nslots = 0
    acc_v = np.zeros(3, np.int64)
    acc_w = np.zeros(3, np.int64)
    best = 0
    processed = 0
    for step in range(npts):
        v = order[step]
        processed = step + 1
        i = v // (n2 * n3)
        j = (v // n3) % n2
        k = v % n3
        parent[v] = v
        size[v] = 1
        for q in range(nbr.shape[0]):
            w, s0, s1, s2 = periodic_neighbour(i, j, k, nbr[q, 0], nbr[q, 1], nbr[q, 2],
                                               n1, n2, n3)
            if parent[w] < 0:
                continue
            rv = _find(parent, off, v, acc_v)
            rw = _find(parent, off, w, acc_w)
            # edge: image of v in cell 0 touches image of w in cell s
            t0 = acc_v[0] + s0 - acc_w[0]
            t1 = acc_v[1] + s1 - acc_w[1]
            t2 = acc_v[2] + s2 - acc_w[2]
            if rv == rw:
                if t0 == 0 and t1 == 0 and t2 == 0:
                    continue
                sl = slot_of[rv]
                if sl < 0:
                    if nslots == cap:
                        cap *= 2
                        nb = np.zeros((cap, 3, 3), np.int64)
                        nb[:nslots] = basis[:nslots]
                        basis = nb
                        nc = np.zeros(cap, np.int64)
                        nc[:nslots] = count[:nslots]
                        count = nc
                    sl = nslots
                    nslots += 1
                    slot_of[rv] = sl
                rank = _add_vector(basis, count, sl, t0, t1, t2)
                while rank > best:
                    out_index[best] = v
                    out_vec[best, 0] = t0
                    out_vec[best, 1] = t1
                    out_vec[best, 2] = t2
                    best += 1
            else:
                # attach the smaller tree; the child root's offset makes w's image sit at v + s
                if size[rv] < size[rw]:
                    child, root = rv, rw
                    c0, c1, c2 = -t0, -t1, -t2
                else:
                    child, root = rw, rv
                    c0, c1, c2 = t0, t1, t2
                parent[child] = root
                off[child, 0] = c0
                off[child, 1] = c1
                off[child, 2] = c2
                size[root] += size[child]
                sc = slot_of[child]
                if sc >= 0:
                    sr = slot_of[root]
                    if sr < 0:
                        slot_of[root] = sc
                    else:
                        for b in range(count[sc]):
                            rank = _add_vector(basis, count, sr, basis[sc, b, 0],
                                               basis[sc, b, 1], basis[sc, b, 2])
                            while rank > best:
                                out_index[best] = v
                                out_vec[best, 0] = basis[sc, b, 0]
                                out_vec[best, 1] = basis[sc, b, 1]
                                out_vec[best, 2] = basis[sc, b, 2]
                                best += 1
                    slot_of[child] = -1
        if best >= stop_rank:
            break
    return processed


@dataclass(frozen=True)
class PercolationResult:
    """Percolation thresholds of a periodic landscape.

    Attributes
    ----------
    e_min_eV : float
        Lowest energy of the landscape.
    thresholds_eV : tuple of 3 floats
        E_1D, E_2D, E_3D: lowest levels at which {E <= level} percolates in 1, 2, 3 dimensions
        (absolute energies, eV); NaN if not reached (only when the sweep was stopped early).
    critical_index : tuple of 3 ints
        Flat grid index of the point that completed each dimension (-1 if not reached).
    wrap_vectors : tuple of 3 tuples
        The lattice translation (in cells) that raised the rank to 1, 2, 3.
    connectivity : int
        6 or 26.
    n_processed : int
        Grid points switched on before the sweep stopped.
    """

    e_min_eV: float
    thresholds_eV: tuple[float, float, float]
    critical_index: tuple[int, int, int]
    wrap_vectors: tuple[tuple[int, int, int], ...]
    connectivity: int
    n_processed: int

    @property
    def barriers_eV(self) -> tuple[float, float, float]:
        """E_dD - E_min for d = 1, 2, 3 (eV)."""
        return tuple(t - self.e_min_eV for t in self.thresholds_eV)

    @property
    def dimension(self) -> int:
        """Highest dimension reached (3 for a complete sweep of any periodic grid)."""
        return int(sum(np.isfinite(self.thresholds_eV)))

    def dimension_at(self, level_eV: float) -> int:
        """Percolation dimension of {E <= E_min + level_eV}: 0 (none), 1, 2 or 3.

        >>> e = np.full((4, 4, 4), 1.0); e[:, 1, 1] = 0.0
        >>> r = percolation_thresholds(e)
        >>> r.dimension_at(0.5), r.dimension_at(1.0)
        (1, 3)
        """
        return int(sum(1 for b in self.barriers_eV if np.isfinite(b) and b <= level_eV))

    def as_dict(self) -> dict:
        """JSON-able dict: barriers, absolute thresholds and critical points."""
        b = self.barriers_eV
        return {
            "E_min_eV": self.e_min_eV,
            "E_1D_eV": b[0], "E_2D_eV": b[1], "E_3D_eV": b[2],
            "thresholds_eV": list(self.thresholds_eV),
            "critical_index": list(self.critical_index),
            "wrap_vectors": [list(v) for v in self.wrap_vectors],
            "connectivity": self.connectivity,
        }


def percolation_thresholds(
    energies: np.ndarray,
    connectivity: int = 26,
    order: np.ndarray | None = None,
    max_dimension: int = 3,
) -> PercolationResult:
    """1D/2D/3D percolation thresholds of a periodic landscape on a grid.

    Parameters
    ----------
    energies : array (n1, n2, n3)
        Values on a periodic grid (axis i along lattice vector i).
    connectivity : {6, 26}, default 26
        Neighbours of a grid point: 6 shares a face; 26 (bvlain's choice) adds edges and corners.
    order : array, optional
        Precomputed :func:`sort_order` of ``energies`` (reused by the network analysis).
    max_dimension : int, default 3
        Stop the sweep once this dimension is reached.

    Returns
    -------
    PercolationResult

    Examples
    --------
    A straight channel of low energy along the first axis percolates in 1D at its own level, in
    2D and 3D only at the level of the barrier around it:

    >>> e = np.full((4, 4, 4), 1.0); e[:, 1, 1] = 0.0
    >>> r = percolation_thresholds(e)
    >>> r.barriers_eV, r.wrap_vectors[0]
    ((0.0, 1.0, 1.0), (1, 0, 0))
    """
    e = np.ascontiguousarray(energies, dtype=np.float64)
    if e.ndim != 3 or min(e.shape) < 1:
        raise NasiconSimError(f"energies must be a 3D grid, got shape {e.shape}")
    if max_dimension not in (1, 2, 3):
        raise NasiconSimError("max_dimension must be 1, 2 or 3")
    nbr = neighbour_offsets(connectivity)
    if order is None:
        order = sort_order(e)
    elif order.shape != (e.size,):
        raise NasiconSimError("order must hold one index per grid point")
    out_index = np.full(3, -1, np.int64)
    out_vec = np.zeros((3, 3), np.int64)
    flat = e.reshape(-1)
    processed = _sweep(flat, np.array(e.shape, np.int64), np.ascontiguousarray(order, np.int64),
                       nbr, max_dimension, out_index, out_vec)
    thresholds = tuple(float(flat[i]) if i >= 0 else float("nan") for i in out_index)
    e_min = float(flat[order[0]])
    logger.debug("percolation sweep processed %d of %d points", processed, flat.size)
    return PercolationResult(
        e_min_eV=e_min,
        thresholds_eV=thresholds,
        critical_index=tuple(int(i) for i in out_index),
        wrap_vectors=tuple(tuple(int(x) for x in v) for v in out_vec),
        connectivity=connectivity,
        n_processed=int(processed),
    )
