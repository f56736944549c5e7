"""The one-call analysis, its settings and its result; clear errors for bad structures."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
from _bvse_helpers import nzsp

from nasicon_sim.bvse import BVSESettings, analyse, build_framework, compute_landscape
from nasicon_sim.bvse.energy import COULOMB, MORSE
from nasicon_sim.bvse.landscape import estimate_memory_bytes
from nasicon_sim.errors import NasiconSimError, ParameterError, ResourceLimitError, StructureError
from nasicon_sim.io.read import assign_oxidation_states, read_structure
from nasicon_sim.structure.parent import reference_structures_dir
from nasicon_sim.units import COULOMB_EV_A


@pytest.fixture(scope="module")
def result():
    return analyse(nzsp(), BVSESettings(spacing_A=0.35))


def test_result_summary_is_json_and_small_to_pickle(result):
    d = json.loads(json.dumps(result.as_dict()))
    for key in ("E_1D_eV", "E_2D_eV", "E_3D_eV", "spacing_A", "grid_shape", "n_sites"):
        assert key in d
    assert d["E_1D_eV"] <= d["E_2D_eV"] <= d["E_3D_eV"]
    assert d["n_sites"] == len(d["sites"]) > 0
    assert d["grid_shape"] == list(result.landscape.shape)
    assert d["metadata"]["oxidation_states_source"] == "nasicon"
    assert set(d["metadata"]["cutoff_A"]) == {"Zr4+", "Si4+", "P5+", "O2-"}
    assert len(pickle.dumps(result.without_landscape())) < 100_000
    assert pickle.loads(pickle.dumps(result.without_landscape())).barriers_eV == result.barriers_eV


def test_refined_barriers_are_close_to_grid_barriers(result):
    grid = np.array(result.barriers_eV)
    refined = np.array(result.refined_barriers_eV, dtype=float)
    assert np.all(np.abs(grid - refined) < 0.15)  # a coarse 0.35 A grid
    assert np.all(grid >= refined - 1e-3)  # 26-connected coarse grids overestimate here
    assert all(s.converged and s.hessian_eigenvalues[0] < 0 < s.hessian_eigenvalues[1]
               for s in result.refined_saddles)
    assert result.refined_minimum.converged
    assert min(result.refined_minimum.hessian_eigenvalues) > 0


def test_single_thread_gives_identical_results(result):
    one = analyse(nzsp(), BVSESettings(spacing_A=0.35, threads=1))
    assert one.barriers_eV == result.barriers_eV
    assert np.array_equal(one.landscape.energies_eV, result.landscape.energies_eV)


def test_settings_validation_and_round_trip():
    s = BVSESettings(spacing_A=0.2, grid_shape=[4, 5, 6], radii="softbv")
    assert BVSESettings.from_dict(json.loads(json.dumps(s.as_dict()))) == s
    for bad, match in [({"spacing_A": -1}, "spacing_A"), ({"radii": "x"}, "radii"),
                       ({"connectivity": 18}, "connectivity"), ({"mobile_ion": "Na"}, "ion"),
                       ({"mobile_ion": "Qq+"}, "not an element"), ({"threads": 0}, "threads"),
                       ({"grid_shape": (1, 2)}, "grid_shape"), ({"coulomb_constant": "si"}, "coulomb")]:
        with pytest.raises(NasiconSimError, match=match):
            BVSESettings(**bad)
    with pytest.raises(NasiconSimError, match="unknown BVSE settings: bogus"):
        BVSESettings.from_dict({"bogus": 1})
    # a content hash must not depend on threads or memory limits
    assert (BVSESettings(threads=1, max_memory_GB=1).as_dict(physical_only=True)
            == BVSESettings().as_dict(physical_only=True))
    assert "spacing_A" in BVSESettings().as_dict(physical_only=True)


def test_conventions_change_the_terms_as_documented():
    s = nzsp()
    base = build_framework(s, BVSESettings())
    morse1 = build_framework(s, BVSESettings(morse_prefactor=1.0))
    codata = build_framework(s, BVSESettings(coulomb_constant="codata"))
    scaled = build_framework(s, BVSESettings(neutrality_scaling=True))
    m, c = base.kind == MORSE, base.kind == COULOMB
    assert np.allclose(morse1.p_a[m], 2 * base.p_a[m]) and np.allclose(morse1.p_a[c], base.p_a[c])
    assert np.allclose(codata.p_a[c] / base.p_a[c], COULOMB_EV_A / 14.4)
    # CAVD charge-balance factor over the whole cell, mobile Na included (report: ~1.32)
    q = {"Na": 1 / math.sqrt(3), "Zr": 4 / math.sqrt(5), "Si": 4 / math.sqrt(3),
         "P": 5 / math.sqrt(3), "O": -2 / math.sqrt(2)}
    comp = s.composition.element_composition
    pos = sum(comp[el] * q[el] for el in ("Na", "Zr", "Si", "P"))
    assert scaled.neutrality_scale == pytest.approx(-comp["O"] * q["O"] / pos, rel=1e-9)
    assert scaled.neutrality_scale == pytest.approx(1.32, abs=0.01)
    zr = np.array([sp == "Zr4+" for sp in base.species])
    # P = 14.4 * (1/sqrt 3) * (4/sqrt 5), rho = 0.74 (1.66 + 1.75) with ASE radii
    assert base.p_a[zr][0] == pytest.approx(14.4 * 4 / math.sqrt(15))
    assert 1 / base.p_b[zr][0] == pytest.approx(0.74 * (1.66 + 1.75))


def test_framework_disorder_points_to_build():
    s = read_structure(reference_structures_dir() / "NZSP_C2c_SiP_mixed.cif")
    with pytest.raises(StructureError, match="nasicon-sim build"):
        compute_landscape(s, BVSESettings(spacing_A=0.5))


def test_mobile_ion_mixed_with_framework_is_refused():
    s = nzsp()
    i = next(i for i, site in enumerate(s) if site.species.elements[0].symbol == "Na")
    s.replace(i, {"Na+": 0.5, "K+": 0.5})
    with pytest.raises(StructureError, match="mixes the mobile ion"):
        build_framework(s)


def test_missing_states_and_missing_pairs():
    s = nzsp()
    s.remove_oxidation_states()
    with pytest.raises(StructureError, match="no oxidation state"):
        build_framework(s)
    t = assign_oxidation_states(nzsp(), {"Na": 1, "Zr": 4, "Si": 4, "P": 5, "O": -1})
    with pytest.raises(ParameterError, match=r"Na\+ - O-"):
        build_framework(t)
    # with Li+ mobile, the partially occupied Na sites belong to the framework
    with pytest.raises(StructureError, match="disordered or partially occupied"):
        build_framework(nzsp(), BVSESettings(mobile_ion="Li+"))


def test_memory_is_checked_before_allocating():
    with pytest.raises(ResourceLimitError, match=r"GB, more than max_memory_GB = 4"):
        compute_landscape(nzsp(), BVSESettings(spacing_A=0.01))
    with pytest.raises(ResourceLimitError, match="max_memory_GB = 0.1"):
        compute_landscape(nzsp(), BVSESettings(spacing_A=0.2, max_memory_GB=0.1))
    assert estimate_memory_bytes(10_000_000) < 3e9  # a 2x2x2 NZSP supercell at 0.1 A fits
