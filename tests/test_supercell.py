"""Supercell choice: integer site counts, near-cubic shapes, rounding, and clear failures."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from nasicon_sim.composition import NasiconComposition, compose, parse_nasicon
from nasicon_sim.errors import StructureError, SublatticeError, SupercellError
from nasicon_sim.structure.parent import load_parent
from nasicon_sim.structure.supercell import (
    VACANCY,
    choose_supercell,
    exact_site_counts,
    optimal_supercell_matrix,
    parent_indices_of,
    parent_sites_in_supercell,
    supercell_matrix_from_string,
    tetrahedral_mode,
)

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"
HE1 = "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12"


def _charge(counts, states):
    total = 0
    for species in counts.values():
        for el, n in species.items():
            if el != VACANCY:
                total += n * states[el]
    return total


def test_me1_fits_one_cell():
    c = choose_supercell(parse_nasicon(ME1))
    assert c.n_cells == 1 and c.exact
    assert c.site_counts["M"] == {"Zr": 4, "Ti": 2, "Lu": 2}
    assert c.site_counts["Na"] == {"Na": 14, VACANCY: 2}
    assert c.site_counts["T"] == {"Si": 8, "P": 4}
    assert c.n_atoms == 82
    assert round(abs(np.linalg.det(c.matrix))) == 1


def test_he1_needs_forty_m_sites():
    c = choose_supercell(parse_nasicon(HE1))
    assert c.exact and c.n_cells == 5
    assert sum(c.site_counts["M"].values()) == 40
    assert c.site_counts["M"] == {"Zr": 10, "Ti": 10, "Hf": 8, "Lu": 10, "Ga": 2}
    assert c.site_counts["Na"]["Na"] == 72
    assert c.n_atoms == 412


@pytest.mark.parametrize("label", ["NZSP", "LE", "ME1", "ME2", "HE1", "HE2"])
def test_study_compositions_are_exact_and_neutral(label, study_formulas):
    comp = parse_nasicon(study_formulas[label])
    c = choose_supercell(comp)
    assert c.exact
    assert _charge(c.site_counts, comp.oxidation_states | {"Na": 1, "O": -2}) == 0
    fu = 4 * c.n_cells
    for el, amount in comp.amounts().items():
        held = sum(sp.get(el, 0) for sp in c.site_counts.values())
        assert held == pytest.approx(amount * fu, abs=1e-9)
    # positions are filled exactly
    assert sum(c.site_counts["Na"].values()) == 16 * c.n_cells
    assert sum(c.site_counts["M"].values()) == 8 * c.n_cells
    assert sum(c.site_counts["T"].values()) == 12 * c.n_cells


def test_min_atoms_picks_a_larger_exact_cell():
    c = choose_supercell(parse_nasicon(ME1), min_atoms=300)
    assert c.n_cells == 4 and c.n_atoms == 328


def test_rounding_is_reported_never_silent(caplog):
    comp = parse_nasicon(HE1)
    with caplog.at_level(logging.WARNING, logger="nasicon_sim.structure.supercell"):
        c = choose_supercell(comp, max_atoms=300)
    assert not c.exact
    assert c.n_cells == 3
    assert c.requested is comp
    assert c.realised.formula != comp.formula
    assert 0 < c.max_abs_deviation <= 0.05
    # deviation is realised - requested per formula unit, per element
    for el, dev in c.deviation.items():
        assert dev == pytest.approx(c.realised.amounts().get(el, 0) - comp.amounts().get(el, 0))
    assert c.deviation["Ga"] < 0
    # charge neutrality kept by adjusting Na
    assert _charge(c.site_counts, comp.oxidation_states | {"Na": 1, "O": -2}) == 0
    assert c.realised.charge == pytest.approx(0, abs=1e-9)
    assert any("rounded" in n and "Na adjusted" in n for n in c.notes)
    assert any("rounded" in r.getMessage() for r in caplog.records)
    assert c.as_dict()["exact"] is False


def test_not_representable_under_cap_fails_clearly():
    with pytest.raises(SupercellError, match="not representable.*at most 100 atoms.*412 atoms"):
        choose_supercell(parse_nasicon(HE1), max_atoms=100)


def test_zero_deviation_allows_exact_cells_only():
    with pytest.raises(SupercellError, match="max_deviation 0"):
        choose_supercell(parse_nasicon(HE1), max_atoms=300, max_deviation=0.0)


def test_cap_below_one_cell():
    with pytest.raises(SupercellError, match="one parent cell already has"):
        choose_supercell(parse_nasicon(ME1), max_atoms=50)


def test_overfilled_sublattices_fail_clearly():
    na_over = NasiconComposition("x", na=4.5, m_site={"Zr": 2.0}, t_site={"Si": 2.0, "P": 1.0},
                                 oxidation_states={"Na": 1, "Zr": 4, "Si": 4, "P": 5, "O": -2})
    with pytest.raises(SublatticeError, match="Na sublattice is overfilled"):
        choose_supercell(na_over)
    m_over = NasiconComposition("y", na=3.0, m_site={"Zr": 2.5}, t_site={"Si": 2.0, "P": 1.0},
                                oxidation_states={"Na": 1, "Zr": 4, "Si": 4, "P": 5, "O": -2})
    with pytest.raises(SublatticeError, match="M sublattice is overfilled"):
        choose_supercell(m_over)


def test_tetrahedral_mode():
    assert tetrahedral_mode(parse_nasicon(ME1)) == "ordered"
    assert tetrahedral_mode(parse_nasicon(ME1), mix_tetrahedral=True) == "mixed"
    mixed = parse_nasicon("Na3Zr1.5Sc0.5Si1.5P1.5O12")
    assert tetrahedral_mode(mixed) == "mixed"
    with pytest.raises(StructureError, match="cannot keep Hong's ordered"):
        tetrahedral_mode(mixed, mix_tetrahedral=False)
    c = choose_supercell(mixed)
    assert c.tetrahedral == "mixed" and c.site_counts["T"] == {"Si": 6, "P": 6}


def test_mixed_si_p_needs_its_own_size():
    c = choose_supercell(compose({"Zr": 2.0}, si=2.4))  # Na3.4Zr2Si2.4P0.6O12
    assert c.exact and c.n_cells == 5 and c.site_counts["T"] == {"Si": 48, "P": 12}


def test_exact_counts_scale_with_cells():
    comp = parse_nasicon(ME1)
    one = exact_site_counts(comp, 1, "ordered")
    three = exact_site_counts(comp, 3, "ordered")
    for sub in one:
        for el in one[sub]:
            assert three[sub][el] == pytest.approx(3 * one[sub][el])


def test_chosen_matrix_is_near_cubic_by_ase_metric():
    from ase.build.supercells import eval_shape_deviation

    cell = load_parent().lattice.matrix
    matrix, score = optimal_supercell_matrix(cell, 4)
    assert round(np.linalg.det(matrix)) == 4
    assert score == pytest.approx(float(eval_shape_deviation(matrix @ cell)))
    for diag in ([1, 2, 2], [4, 1, 1], [1, 4, 1], [1, 1, 4], [2, 2, 1], [2, 1, 2]):
        assert score <= float(eval_shape_deviation(np.diag(diag) @ cell)) + 1e-12


def test_explicit_matrix_and_size():
    comp = parse_nasicon(ME1)
    c = choose_supercell(comp, matrix=supercell_matrix_from_string("1x2x2"))
    assert c.matrix == ((1, 0, 0), (0, 2, 0), (0, 0, 2)) and c.n_cells == 4
    c = choose_supercell(comp, n_cells=2)
    assert c.n_cells == 2 and round(np.linalg.det(c.matrix)) == 2
    with pytest.raises(SupercellError, match="over the cap"):
        choose_supercell(comp, n_cells=8, max_atoms=400)


@pytest.mark.parametrize("text", ["1x2", "a b c", "1 0 0 0 1 0 0 0", "0x1x1", "-1x1x1", "1x1x1.5"])
def test_bad_supercell_strings(text):
    with pytest.raises(SupercellError):
        supercell_matrix_from_string(text)


def test_singular_matrix_is_rejected():
    with pytest.raises(SupercellError, match="determinant 0"):
        choose_supercell(parse_nasicon(ME1), matrix=[[1, 0, 0], [1, 0, 0], [0, 0, 1]])


def test_parent_na_sites_in_supercell_match_pymatgen():
    parent = load_parent()
    matrix = np.array([[1, 0, 1], [0, 2, -1], [0, 1, 2]])
    frac, labels, wyckoff = parent_sites_in_supercell(parent, matrix)
    assert len(frac) == 16 * 5
    assert labels.count("Na1") == 20 and labels.count("Na2") == 20 and labels.count("Na3") == 40
    assert {(lab, w) for lab, w in zip(labels, wyckoff)} == {("Na1", "4d"), ("Na2", "4e"), ("Na3", "8f")}
    # independent reference: pymatgen's make_supercell of the Na sublattice
    na_only = parent.copy()
    na_only.remove_species([sp for sp in parent.composition if sp.symbol != "Na"])
    ref = na_only * matrix
    ours = frac @ ref.lattice.matrix
    d = ref.lattice.get_all_distances(frac, ref.frac_coords)
    assert np.all(d.min(axis=1) < 1e-6) and np.all(d.min(axis=0) < 1e-6)
    assert len(ours) == len(ref)
    # every position distinct
    own = ref.lattice.get_all_distances(frac, frac) + np.eye(len(frac)) * 99
    assert own.min() > 3.0


def test_parent_indices_round_trip_and_tolerance():
    parent = load_parent()
    matrix = np.diag([1, 2, 1])
    frac, labels, _ = parent_sites_in_supercell(parent, matrix, sublattice=None)
    expected = np.repeat(np.arange(len(parent)), 2)
    assert np.array_equal(parent_indices_of(frac, matrix, parent), expected)
    lattice = matrix @ parent.lattice.matrix
    rng = np.random.default_rng(0)
    shaken = frac + (rng.normal(scale=0.05, size=frac.shape) @ np.linalg.inv(lattice))
    assert np.array_equal(parent_indices_of(shaken, matrix, parent), expected)
    with pytest.raises(StructureError, match="from the nearest parent site"):
        parent_indices_of(frac + [0.0, 0.25, 0.0], matrix, parent, tolerance_A=0.3)


def test_printed_rounding_within_parser_tolerance_is_rounded_not_refused():
    # M site sums to 1.99 (accepted by the parser): the M sublattice is filled by rounding
    comp = parse_nasicon("Na3.04Zr0.66Ti0.67Hf0.66Si2PO12")
    c = choose_supercell(comp)
    assert not c.exact
    assert sum(c.site_counts["M"].values()) == 8 * c.n_cells
    assert c.deviation["Na"] == pytest.approx(-0.04)
    assert c.max_abs_deviation <= 0.05
