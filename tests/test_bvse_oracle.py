"""bvlain as an independent oracle: same formula, same grid points, same landscape.

bvlain sums only the k nearest framework atoms within r_cut; with k large enough for every atom
within r_cut to count, its sum and ours (fixed ``cutoff_A`` = r_cut) must agree to rounding.
bvlain's grid is ``linspace(0, 1, n)`` along each axis, so its first n-1 planes are exactly our
periodic grid of shape n-1. Its percolation barriers come from a bisection that returns the upper
end of a 10/1024 eV window; on our landscape they must lie in [ours, ours + 10/1024].
"""

from __future__ import annotations

import numpy as np
import pytest
from _bvse_helpers import nzsp, nzsp_framework

from nasicon_sim.bvse.landscape import compute_landscape
from nasicon_sim.bvse.settings import BVSESettings
from nasicon_sim.percolation import percolation_thresholds

bvlain = pytest.importorskip("bvlain")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # bvlain uses old scipy API

BISECTION_WINDOW_EV = 10.0 / 1024  # bvlain: [0, encut=10] halved until narrower than 0.01


def bvlain_landscape(resolution, k, r_cut=10.0, **kwargs):
    lain = bvlain.Lain(verbose=False)
    lain.read_structure(nzsp_framework(), oxi_check=False)
    data = lain.bvse_distribution(mobile_ion="Na1+", r_cut=r_cut, resolution=resolution, k=k,
                                  **kwargs)
    return np.asarray(data)


@pytest.mark.parametrize("bvlain_kwargs, ours", [
    ({}, {}),
    ({"f": 0.70, "use_softbv_covalent_radii": True}, {"screening_factor": 0.70,
                                                       "radii": "softbv"}),
])
def test_energies_equal_bvlain_without_truncation(bvlain_kwargs, ours):
    theirs = bvlain_landscape(0.6, k=600, **bvlain_kwargs)
    assert np.allclose(theirs[0], theirs[-1], rtol=1e-9)  # the duplicated plane (docstring)
    shape = tuple(n - 1 for n in theirs.shape)
    mine = compute_landscape(nzsp(), BVSESettings(grid_shape=shape, cutoff_A=10.0, **ours))
    diff = np.abs(mine.energies_eV - theirs[:-1, :-1, :-1])
    assert diff.max() < 1e-8 * np.abs(theirs).max()
    assert diff.max() < 1e-6


def test_percolation_barriers_within_bvlain_bisection_window():
    land = compute_landscape(nzsp(), BVSESettings(spacing_A=0.4))
    lain = bvlain.Lain(verbose=False)
    lain.data = np.array(land.energies_eV)
    lain.size = list(land.shape)
    theirs = lain.percolation_barriers()
    ours = percolation_thresholds(land.energies_eV).barriers_eV
    for dim, mine in zip((1, 2, 3), ours):
        gap = theirs[f"E_{dim}D"] - mine
        assert -1e-4 <= gap <= BISECTION_WINDOW_EV + 1e-4, (dim, theirs, ours)


@pytest.mark.slow
def test_full_bvlain_run_gives_the_same_barriers():
    """bvlain end to end (its neighbour truncation k=100, its grid, its percolation)."""
    lain = bvlain.Lain(verbose=False)
    lain.read_structure(nzsp_framework(), oxi_check=False)
    data = lain.bvse_distribution(mobile_ion="Na1+", r_cut=10, resolution=0.25, k=100)
    theirs = lain.percolation_barriers()
    shape = tuple(n - 1 for n in data.shape)
    land = compute_landscape(nzsp(), BVSESettings(grid_shape=shape))
    trunc = np.abs(land.energies_eV - data[:-1, :-1, :-1])
    low = land.energies_eV - land.energies_eV.min() < 2.0
    assert trunc[low].max() < 2e-3  # k = 100 truncation is small where it matters
    ours = percolation_thresholds(land.energies_eV).barriers_eV
    for dim, mine in zip((1, 2, 3), ours):
        # bvlain's grid repeats its first plane (a slightly different landscape) plus bisection
        assert abs(theirs[f"E_{dim}D"] - mine) < 0.02, (theirs, ours)
