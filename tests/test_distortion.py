"""Distortion metrics: analytic polyhedra, bvlain's bond-valence sums as oracle, invariances."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasicon_sim.distortion import (
    DistortionSettings,
    analyse_distortion,
    distortion_index,
    global_instability_index,
)
from nasicon_sim.errors import NasiconSimError, StructureError
from nasicon_sim.structure.ensemble import build_ensemble


@pytest.fixture(scope="module")
def nzsp():
    return build_ensemble("Na3Zr2Si2PO12", n=1, seed=0, method="ewald")[0]


@pytest.fixture(scope="module")
def me1():
    return build_ensemble("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", n=1, seed=0, method="ewald")[0]


def octahedron(lengths, cell=12.0):
    """One Zr4+ with six O2- along +-x, +-y, +-z at the given distances, in a big cubic cell."""
    from pymatgen.core import Lattice, Structure

    dirs = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
    cart = [[6.0, 6.0, 6.0]] + [[6.0, 6.0, 6.0] + d * length for d, length in zip(dirs, lengths)]
    return Structure(Lattice.cubic(cell), ["Zr4+"] + ["O2-"] * 6, cart, coords_are_cartesian=True)


@given(st.lists(st.floats(1.8, 2.4), min_size=1, max_size=12), st.floats(0.5, 2.0))
@settings(max_examples=50, deadline=None)
def test_distortion_index_is_scale_free_and_non_negative(lengths, scale):
    d = distortion_index(lengths)
    assert d >= 0
    assert distortion_index(np.array(lengths) * scale) == pytest.approx(d, abs=1e-12)


def test_octahedron_gives_baurs_index_and_its_bond_valence_sum():
    from nasicon_sim.bvse.params import morse_pair

    lengths = [1.9, 1.9, 2.1, 2.1, 2.0, 2.0]
    r = analyse_distortion(octahedron(lengths), DistortionSettings(m_sublattice_elements=("Zr",)))
    (m,) = r.m_sites
    assert (m.element, m.n_bonds) == ("Zr", 6)
    assert m.distortion_index == pytest.approx((4 * 0.1) / 6 / 2.0)  # mean |l - 2.0| / 2.0
    assert (m.min_bond_A, m.max_bond_A, m.mean_bond_A) == pytest.approx((1.9, 2.1, 2.0))
    p = morse_pair("Zr", 4, "O", -2)
    expected = sum(np.exp(p.alpha_per_A * (p.r0_A - x)) for x in lengths)
    assert m.bvs == pytest.approx(expected, rel=1e-12)
    assert r.bvs[0] == pytest.approx(expected)
    assert r.displacements_A is None  # no site map, no reference


def test_rock_salt_gii_is_analytic():
    """NaCl, first shell only (cut-off between 6 x a/2 and 8 x a*sqrt(3)/2): V = 6 exp((R0 - a/2)/b)."""
    from pymatgen.core import Lattice, Structure

    from nasicon_sim.bvse.params import morse_pair

    a = 5.64
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na+", "Cl-"],
                                  [[0, 0, 0], [0.5, 0.5, 0.5]])
    r = analyse_distortion(s, DistortionSettings(bvs_cutoff_A=3.5, m_sublattice_elements=()))
    p = morse_pair("Na", 1, "Cl", -1)
    v = 6 * np.exp(p.alpha_per_A * (p.r0_A - a / 2))
    assert r.bvs == pytest.approx(np.full(8, v))
    assert r.gii == pytest.approx(abs(v - 1))
    assert global_instability_index(r.bvs, r.formal_valences) == pytest.approx(abs(v - 1))


def test_bond_valence_sums_equal_bvlains(nzsp):
    """bvlain's Lain.mismatch sums the same softBV bonds in its own code: the oracle."""
    from bvlain import Lain

    calc = Lain(verbose=False)
    calc.read_structure(nzsp.structure.copy())
    oracle = calc.mismatch(r_cut=3.5)
    r = analyse_distortion(nzsp.structure, DistortionSettings(bvs_cutoff_A=3.5))
    assert list(oracle["atom"]) == list(r.elements)
    assert np.allclose(oracle["bvs"].to_numpy(), r.bvs, atol=1e-9)
    assert np.allclose(oracle["mismatch"].to_numpy(), r.bvs - np.abs(r.formal_valences), atol=1e-9)


def test_supercell_and_origin_shift_change_nothing(me1):
    s = me1.structure
    r = analyse_distortion(s)
    big = s.copy()
    big.make_supercell([2, 1, 1])
    shifted = s.copy()
    shifted.translate_sites(range(len(s)), [0.13, 0.41, 0.07])
    for other in (big, shifted):
        o = analyse_distortion(other, DistortionSettings())
        assert o.gii == pytest.approx(r.gii, abs=1e-9)
        assert sorted(m.distortion_index for m in o.m_sites)[::len(other) // len(s)] == \
            pytest.approx(sorted(m.distortion_index for m in r.m_sites), abs=1e-12)


def test_unrelaxed_me1_shows_the_size_mismatch_the_relaxation_should_remove(me1):
    """On Zr's positions, Lu3+ (larger) is overbonded and Ti4+ (smaller) underbonded."""
    by = analyse_distortion(me1.structure).by_element()
    assert by["Lu"]["bvs_deviation_mean"] > 0.5
    assert by["Ti"]["bvs_deviation_mean"] < -0.5
    assert abs(by["Zr"]["bvs_deviation_mean"]) < abs(by["Ti"]["bvs_deviation_mean"])


def test_na_displacements_from_parent_sites(me1):
    s = me1.structure.copy()
    base = analyse_distortion(s)
    assert base.displacement_reference == "parent"
    assert np.allclose(base.displacements_A, 0, atol=1e-9)
    na = [i for i, site in enumerate(s) if site.specie.symbol == "Na"]
    s.translate_sites([na[3]], [0.3, 0.0, 0.0], frac_coords=False)
    moved = analyse_distortion(s)
    expected = np.zeros(len(s))
    expected[na[3]] = 0.3
    assert np.allclose(moved.displacements_A, expected, atol=1e-9)
    assert moved.summary()["na_displacement_max_A"] == pytest.approx(0.3)
    # a homogeneous strain of the cell is not a displacement
    strained = me1.structure.copy()
    strained.lattice = strained.lattice.__class__(strained.lattice.matrix * 1.02)
    assert np.allclose(analyse_distortion(strained).displacements_A, 0, atol=1e-9)


def test_reference_structure_and_json(me1):
    s = me1.structure.copy()
    s.translate_sites(range(len(s)), [0.05, 0, 0], frac_coords=False)
    r = analyse_distortion(s, reference=me1.structure)
    assert r.displacement_reference == "structure"
    assert np.allclose(r.displacements_A, 0.05)
    d = r.as_dict()
    assert d["na_displacement_mean_A"] == pytest.approx(0.05)
    assert {row["parent_label"] for row in d["na_sites"]} <= {"Na1", "Na2", "Na3"}
    assert d["by_element"]["Lu"]["n"] == 2 and len(d["m_sites"]) == 8
    other = build_ensemble("Na3Zr2Si2PO12", n=1, seed=0)[0].structure
    with pytest.raises(StructureError, match="reference"):
        analyse_distortion(s, reference=other)


def test_bad_inputs(me1):
    from pymatgen.core import Lattice, Structure

    plain = me1.structure.copy()
    plain.remove_oxidation_states()
    with pytest.raises(StructureError, match="oxidation states"):
        analyse_distortion(plain)
    with pytest.raises(StructureError, match="ordered"):
        analyse_distortion(Structure(Lattice.cubic(4), [{"Na+": 0.5}], [[0, 0, 0]]))
    with pytest.raises(NasiconSimError, match="bond_cutoff_A"):
        DistortionSettings(bond_cutoff_A=0)
    with pytest.raises(StructureError, match="no O within"):
        analyse_distortion(me1.structure, DistortionSettings(bond_cutoff_A=1.0))
