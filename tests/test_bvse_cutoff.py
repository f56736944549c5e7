"""Cutoffs from the tail bound: the dropped energy really stays below the tolerance."""

from __future__ import annotations

import numpy as np
import pytest
from _bvse_helpers import nzsp

from nasicon_sim.bvse import energy
from nasicon_sim.bvse.cutoff import min_group_distance, tail_bound, tail_cutoffs
from nasicon_sim.bvse.landscape import build_framework
from nasicon_sim.bvse.settings import BVSESettings
from nasicon_sim.errors import NasiconSimError


@pytest.fixture(scope="module")
def framework():
    return build_framework(nzsp(), BVSESettings())


def test_dropped_tail_is_below_the_tolerance(framework):
    fw = framework
    rng = np.random.default_rng(1)
    pts = rng.random((300, 3)) @ fw.lattice
    e_cut, _ = energy.point_energies(fw.lattice, pts, *fw.arrays)
    far = np.full_like(fw.cutoff_A, 22.0)
    e_far, _ = energy.point_energies(fw.lattice, pts, fw.frac, fw.kind, fw.p_a, fw.p_b, fw.p_c,
                                     far)
    assert np.max(np.abs(e_far - e_cut)) < 1e-3  # the default tolerance
    assert np.max(np.abs(e_far - e_cut)) > 0  # and something was dropped


def test_smaller_tolerance_gives_longer_cutoffs(framework):
    fw = framework
    loose = tail_cutoffs(fw.lattice, fw.frac, fw.kind, fw.p_a, fw.p_b, fw.p_c, 1e-2)
    tight = tail_cutoffs(fw.lattice, fw.frac, fw.kind, fw.p_a, fw.p_b, fw.p_c, 1e-5)
    assert np.all(tight > loose)
    assert np.all(tight < 20.0)


def test_bound_decreases_and_is_met_at_the_cutoff(framework):
    fw = framework
    i = int(np.argmax(fw.kind == energy.MORSE))
    members = fw.frac[(fw.kind == fw.kind[i]) & (fw.p_a == fw.p_a[i])]
    vol = abs(np.linalg.det(fw.lattice))
    args = (int(fw.kind[i]), fw.p_a[i], fw.p_b[i], fw.p_c[i], len(members), vol, 18.0,
            min_group_distance(fw.lattice, members))
    values = [tail_bound(r, *args) for r in (4.0, 6.0, 8.0, 10.0)]
    assert all(a > b for a, b in zip(values, values[1:]))
    n_groups = len({(k, a, b, c) for k, a, b, c in zip(fw.kind, fw.p_a, fw.p_b, fw.p_c)})
    with pytest.raises(NasiconSimError, match="r_min"):
        tail_bound(0.5 * fw.p_c[i], *args)
    assert n_groups == 4  # O, Zr, Si, P


def test_min_group_distance_matches_pymatgen(framework):
    from pymatgen.core import Lattice

    fw = framework
    oxygen = fw.frac[np.array([sp == "O2-" for sp in fw.species])]
    d = Lattice(fw.lattice).get_all_distances(oxygen, oxygen)
    np.fill_diagonal(d, np.inf)
    assert min_group_distance(fw.lattice, oxygen) == pytest.approx(d.min(), abs=1e-9)
    # a lone atom: its own periodic image
    one = np.array([[0.1, 0.2, 0.3]])
    assert min_group_distance(np.eye(3) * 3.0, one) == pytest.approx(3.0)


def test_bad_tolerance(framework):
    fw = framework
    with pytest.raises(NasiconSimError, match="positive"):
        tail_cutoffs(fw.lattice, fw.frac, fw.kind, fw.p_a, fw.p_b, fw.p_c, 0.0)


def test_short_screening_length_whose_bound_underflows_gets_a_cutoff():
    """A bound that underflows to 0 before MAX_CUTOFF_A (screening length 0.8 A, P = 1) used to
    raise 'math domain error'; the cutoff must still bound the tail by the tolerance."""
    from nasicon_sim.bvse.cutoff import cell_diameter, min_group_distance, tail_bound, tail_cutoffs
    from nasicon_sim.bvse.energy import COULOMB

    lat = np.eye(3) * 10.0
    frac = np.array([[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.5]])
    n = len(frac)
    radii = tail_cutoffs(lat, frac, np.full(n, COULOMB), np.full(n, 1.0), np.full(n, 1 / 0.8),
                         np.zeros(n), tolerance_eV=1e-3)
    args = (COULOMB, 1.0, 1 / 0.8, 0.0, n, 1000.0, cell_diameter(lat),
            min_group_distance(lat, frac))
    assert np.all(np.isfinite(radii)) and np.allclose(radii, radii[0])
    assert tail_bound(radii[0], *args) <= 1e-3 * (1 + 1e-6)
    assert tail_bound(radii[0] - 0.05, *args) > 1e-3
