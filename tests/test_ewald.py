"""Ewald matrix: agreement with pymatgen's own sum, swap increments, invariances."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import StructureError
from nasicon_sim.structure.ewald import ewald_energy, ewald_matrix, swap_delta
from nasicon_sim.structure.ordering import random_occupation
from nasicon_sim.structure.sites import charges_of, structure_from_occupation, supercell_sites
from nasicon_sim.structure.supercell import choose_supercell

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


@pytest.fixture(scope="module")
def me1():
    sites = supercell_sites(choose_supercell(parse_nasicon(ME1)))
    return sites, ewald_matrix(sites.lattice_matrix, sites.frac_coords)


def test_quadratic_form_equals_pymatgen_total_energy(me1):
    from pymatgen.analysis.ewald import EwaldSummation

    sites, matrix = me1
    for seed in range(3):
        occ = random_occupation(sites, np.random.default_rng(seed))
        ours = ewald_energy(matrix, charges_of(sites, occ))
        structure = structure_from_occupation(sites, occ)
        reference = EwaldSummation(structure).total_energy
        assert ours == pytest.approx(reference, abs=1e-6)


def test_matrix_is_symmetric(me1):
    _, matrix = me1
    assert np.allclose(matrix, matrix.T)


def test_swap_delta_matches_full_recomputation(me1):
    sites, matrix = me1
    rng = np.random.default_rng(1)
    q = charges_of(sites, random_occupation(sites, rng))
    phi = matrix @ q
    e0 = ewald_energy(matrix, q)
    checked = 0
    for g in sites.groups:
        for _ in range(20):
            i, j = rng.choice(g.indices, size=2, replace=False)
            q2 = q.copy()
            q2[i], q2[j] = q[j], q[i]
            assert swap_delta(matrix, phi, q, i, j) == pytest.approx(ewald_energy(matrix, q2) - e0, abs=1e-7)
            checked += 1
    assert checked == 40


def test_energy_is_extensive_under_a_supercell(me1):
    """A 1-cell ordering repeated twice has exactly twice the energy."""
    sites1, matrix1 = me1
    occ1 = random_occupation(sites1, np.random.default_rng(2))
    choice2 = choose_supercell(parse_nasicon(ME1), matrix=sites1.choice.matrix @ np.diag([1, 2, 1]))
    sites2 = supercell_sites(choice2)
    by_parent = {int(p): occ1[k] for k, p in enumerate(sites1.parent_index)}
    occ2 = np.array([by_parent[int(p)] for p in sites2.parent_index])
    matrix2 = ewald_matrix(sites2.lattice_matrix, sites2.frac_coords)
    e1 = ewald_energy(matrix1, charges_of(sites1, occ1))
    e2 = ewald_energy(matrix2, charges_of(sites2, occ2))
    assert e2 == pytest.approx(2 * e1, rel=1e-9)


def test_energy_is_invariant_under_an_origin_shift(me1):
    sites, matrix = me1
    occ = random_occupation(sites, np.random.default_rng(3))
    q = charges_of(sites, occ)
    shifted = ewald_matrix(sites.lattice_matrix, (sites.frac_coords + [0.137, 0.21, -0.33]) % 1.0)
    assert ewald_energy(shifted, q) == pytest.approx(ewald_energy(matrix, q), abs=1e-6)


def test_charged_occupation_is_refused(me1):
    sites, matrix = me1
    q = np.zeros(sites.n_positions)
    q[0] = 1.0
    with pytest.raises(StructureError, match="neutrality"):
        ewald_energy(matrix, q)


def test_bad_positions():
    with pytest.raises(StructureError, match=r"\(N, 3\)"):
        ewald_matrix(np.eye(3) * 5, np.zeros((0, 3)))
