"""Exact percolation thresholds: synthetic landscapes, known thresholds, an independent labeller."""

from __future__ import annotations

import numpy as np
import pytest
from _bvse_helpers import dimension_by_tiling, smooth_random_field

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.percolation import percolation_thresholds, sort_order

HIGH = 1.0


def channel(shape, points):
    e = np.full(shape, HIGH)
    for p in points:
        e[tuple(p)] = 0.0
    return e


@pytest.mark.parametrize("connectivity", [6, 26])
def test_straight_channel_slab_network_and_pockets(connectivity):
    n = 8
    line = channel((n, n, n), [(i, 3, 5) for i in range(n)])
    slab = np.full((n, n, n), HIGH)
    slab[:, :, 2] = 0.0
    net = np.full((n, n, n), HIGH)
    net[:, 1, 1] = net[1, :, 1] = net[1, 1, :] = 0.0
    pockets = channel((n, n, n), [(1, 1, 1), (5, 5, 5), (1, 5, 2)])
    assert percolation_thresholds(line, connectivity).barriers_eV == (0.0, HIGH, HIGH)
    assert percolation_thresholds(slab, connectivity).barriers_eV == (0.0, 0.0, HIGH)
    assert percolation_thresholds(net, connectivity).barriers_eV == (0.0, 0.0, 0.0)
    assert percolation_thresholds(pockets, connectivity).barriers_eV == (HIGH, HIGH, HIGH)
    # below the background level: 1D, 2D, 3D and none
    below = 0.5 * HIGH
    assert [percolation_thresholds(x, connectivity).dimension_at(below)
            for x in (line, slab, net, pockets)] == [1, 2, 3, 0]


@pytest.mark.parametrize("direction", [(1, 1, 0), (1, 1, 1), (1, -1, 0), (2, 1, 0)])
def test_diagonal_channels_are_one_dimensional(direction):
    # a staircase channel (face-connected, so 6- and 26-connectivity both see it) that wraps
    # along a diagonal translation; CAVD's bounding-box count calls [110] 2D and [111] 3D
    n = 12
    pos = np.array([2, 5, 7])
    pts = [pos.copy()]
    for _ in range(n):  # one unit step at a time, interleaved over the axes
        for axis, steps in enumerate(direction):
            for _ in range(abs(steps)):
                pos[axis] = (pos[axis] + np.sign(steps)) % n
                pts.append(pos.copy())
    e = channel((n, n, n), pts)
    for connectivity in (6, 26):
        r = percolation_thresholds(e, connectivity)
        assert r.barriers_eV == (0.0, HIGH, HIGH)
        assert r.wrap_vectors[0] in (tuple(direction), tuple(-x for x in direction))


def test_channel_closing_after_two_cells_is_found():
    # a staircase that returns to its start only after two cells along x and one along y:
    # the wrap vector is (2, 1, 0), found without tiling the cell
    n = 10
    e = np.full((n, n, n), HIGH)
    for t in range(2 * n):
        e[t % n, (t // 2) % n, 4] = 0.0
        e[(t + 1) % n, (t // 2) % n, 4] = 0.0
    r = percolation_thresholds(e, 6)
    assert r.barriers_eV == (0.0, HIGH, HIGH)
    assert r.wrap_vectors[0] in ((2, 1, 0), (-2, -1, 0))


@pytest.mark.parametrize("connectivity, p_c", [(6, 0.3116), (26, 0.0976)])
def test_random_site_percolation_thresholds(connectivity, p_c):
    # simple-cubic site percolation: 0.3116 for 6 neighbours (e.g. Malarz, PRE 91 (2015)
    # 043301) and 0.0976 for 26 (NN+2NN+3NN, Kurzawski & Malarz, Rep. Math. Phys. 70 (2012) 163).
    # A uniform random field switched on by level is site percolation with p = level.
    e = np.random.default_rng(7).random((40, 40, 40))
    r = percolation_thresholds(e, connectivity)
    # first wrap in any direction on a 40^3 torus: within finite-size scatter of p_c
    assert abs(r.thresholds_eV[0] - p_c) < 0.1 * p_c
    assert r.thresholds_eV[0] <= r.thresholds_eV[1] <= r.thresholds_eV[2]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("connectivity", [6, 26])
def test_thresholds_agree_with_an_independent_labeller(seed, connectivity):
    e = smooth_random_field((9, 8, 10), seed, width=1.2)
    r = percolation_thresholds(e, connectivity)
    values = np.unique(e)
    for d, thr in zip((1, 2, 3), r.thresholds_eV):
        below = values[np.searchsorted(values, thr) - 1]
        assert dimension_by_tiling(e, thr, connectivity) >= d
        if below < thr and np.searchsorted(values, thr) > 0:
            assert dimension_by_tiling(e, below, connectivity) < d


def test_ties_and_order_argument():
    e = np.zeros((3, 4, 5))
    r = percolation_thresholds(e)
    assert r.barriers_eV == (0.0, 0.0, 0.0)
    e = smooth_random_field((6, 6, 6), 3)
    assert percolation_thresholds(e, order=sort_order(e)) == percolation_thresholds(e)
    stopped = percolation_thresholds(e, max_dimension=1)
    assert np.isnan(stopped.thresholds_eV[2]) and stopped.dimension == 1


@pytest.mark.parametrize("bad, match", [
    (np.zeros((3, 3)), "3D grid"),
    (np.array([[[np.nan, 0.0]]]), "non-finite"),
])
def test_bad_landscapes(bad, match):
    with pytest.raises(NasiconSimError, match=match):
        percolation_thresholds(bad)


def test_bad_connectivity():
    with pytest.raises(NasiconSimError, match="6 or 26"):
        percolation_thresholds(np.zeros((2, 2, 2)), connectivity=18)
