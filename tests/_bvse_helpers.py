"""Shared helpers for the BVSE, percolation and network tests (tiny fixtures, no network)."""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from nasicon_sim.structure.parent import reference_structures_dir


@cache
def _nzsp():
    from nasicon_sim.io.read import read_structure

    return read_structure(reference_structures_dir() / "NZSP_C2c.cif")


def nzsp():
    """The parent NZSP cell (Na2/Na3 at 2/3), oxidation-decorated; a fresh copy."""
    return _nzsp().copy()


def nzsp_framework():
    """NZSP with all Na removed (ordered; what bvlain can read)."""
    s = nzsp()
    s.remove_species([sp for sp in s.composition if sp.symbol == "Na"])
    for key in list(s.site_properties):
        s.remove_site_property(key)
    return s


def neighbour_offsets(connectivity):
    r = (-1, 0, 1)
    offs = [(i, j, k) for i in r for j in r for k in r if (i, j, k) != (0, 0, 0)]
    if connectivity == 6:
        offs = [o for o in offs if sum(map(abs, o)) == 1]
    return offs


def dimension_by_tiling(energies, level, connectivity=26):
    """Percolation dimension of {E <= level} by an independent method (bvlain's idea, exact
    periodic merge): label the 2x2x2-tiled grid as a torus with scipy's graph components and
    count how many of the 8 images of a point share its component (1, 2, 4, 8 -> 0-3D).
    Correct whenever the wrap lattice is not all-even (true for the random fields used)."""
    mask = np.tile(np.asarray(energies) <= level, (2, 2, 2))
    shape = mask.shape
    idx = np.arange(mask.size).reshape(shape)
    rows, cols = [], []
    for off in neighbour_offsets(connectivity):
        nb = np.roll(idx, shift=[-o for o in off], axis=(0, 1, 2))
        both = mask & np.roll(mask, shift=[-o for o in off], axis=(0, 1, 2))
        rows.append(idx[both])
        cols.append(nb[both])
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    graph = sparse.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(mask.size, mask.size))
    _, labels = connected_components(graph, directed=False)
    labels = labels.reshape(shape)
    n = np.asarray(energies).shape
    best = 1
    base = np.argwhere(mask[: n[0], : n[1], : n[2]])
    for i, j, k in base:
        lab = labels[i, j, k]
        count = sum(labels[i + a * n[0], j + b * n[1], k + c * n[2]] == lab
                    for a in (0, 1) for b in (0, 1) for c in (0, 1))
        best = max(best, count)
        if best == 8:
            break
    return {1: 0, 2: 1, 4: 2, 8: 3}[best]


def smooth_random_field(shape, seed, width=1.5):
    """A smooth periodic random landscape (Gaussian-filtered noise, wrap boundary)."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    return gaussian_filter(rng.normal(size=shape), width, mode="wrap")
