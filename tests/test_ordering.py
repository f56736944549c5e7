"""Orderings: exact counts, seeded reproducibility, annealing lowers the Ewald energy."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import StructureError
from nasicon_sim.structure.ewald import ewald_energy, ewald_matrix
from nasicon_sim.structure.ordering import AnnealSchedule, anneal_occupation, random_occupation
from nasicon_sim.structure.sites import charges_of, supercell_sites
from nasicon_sim.structure.supercell import choose_supercell

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


@pytest.fixture(scope="module")
def me1():
    sites = supercell_sites(choose_supercell(parse_nasicon(ME1)))
    return sites, ewald_matrix(sites.lattice_matrix, sites.frac_coords)


def _counts(occ, idx):
    values, counts = np.unique(occ[idx], return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))


def test_random_keeps_every_group_count(me1):
    sites, _ = me1
    occ = random_occupation(sites, np.random.default_rng(0))
    for g in sites.groups:
        assert _counts(occ, g.indices) == g.counts()
    fixed = sites.fixed != ""
    assert np.array_equal(occ[fixed], sites.fixed[fixed])


def test_random_is_seeded(me1):
    sites, _ = me1
    a = random_occupation(sites, np.random.default_rng(5))
    b = random_occupation(sites, np.random.default_rng(5))
    c = random_occupation(sites, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_anneal_lowers_energy_and_reports_it_exactly(me1):
    sites, matrix = me1
    rng = np.random.default_rng(0)
    start = random_occupation(sites, rng)
    e_start = ewald_energy(matrix, charges_of(sites, start))
    result = anneal_occupation(sites, matrix, rng, AnnealSchedule(n_sweeps=30), start=start)
    assert result.energy_eV < e_start
    assert result.energy_eV == pytest.approx(ewald_energy(matrix, charges_of(sites, result.occupation)))
    for g in sites.groups:
        assert _counts(result.occupation, g.indices) == g.counts()
    assert 0 < result.accepted <= result.trials


def test_annealed_energies_are_below_every_random_draw(me1):
    sites, matrix = me1
    random_e = [ewald_energy(matrix, charges_of(sites, random_occupation(sites, np.random.default_rng(k))))
                for k in range(8)]
    annealed = [anneal_occupation(sites, matrix, np.random.default_rng(k)).energy_eV for k in range(4)]
    assert max(annealed) < min(random_e)
    assert np.mean(random_e) - np.mean(annealed) > np.std(random_e)


def test_anneal_finds_the_exhaustive_ground_state(me1):
    """Independent oracle: enumerate every charge arrangement of the 1-cell ME1 supercell.

    Zr4+ and Ti4+ carry the same charge, so the distinct charge patterns are the placements
    of 2 Lu3+ on 8 M positions times 2 vacancies on 16 Na positions: 28 x 120 = 3360.
    """
    from itertools import combinations

    sites, matrix = me1
    base = charges_of(sites, random_occupation(sites, np.random.default_rng(0)))
    m_idx, na_idx = sites.group("M").indices, sites.group("Na").indices
    patterns = []
    for lu in combinations(m_idx, 2):
        for vac in combinations(na_idx, 2):
            q = base.copy()
            q[m_idx] = 4.0
            q[list(lu)] = 3.0
            q[na_idx] = 1.0
            q[list(vac)] = 0.0
            patterns.append(q)
    q_all = np.array(patterns)
    assert len(q_all) == 3360
    energies = np.einsum("ki,ij,kj->k", q_all, matrix, q_all)
    ground = energies.min()
    annealed = [anneal_occupation(sites, matrix, np.random.default_rng(k)).energy_eV for k in range(3)]
    assert min(annealed) == pytest.approx(ground, abs=1e-6)
    assert ground < np.median(energies) - 5.0


def test_mixed_si_p_is_ordered_too():
    sites = supercell_sites(choose_supercell(parse_nasicon("Na3Zr1.5Sc0.5Si1.5P1.5O12")))
    assert {g.name for g in sites.groups} == {"Na", "M", "T"}
    matrix = ewald_matrix(sites.lattice_matrix, sites.frac_coords)
    result = anneal_occupation(sites, matrix, np.random.default_rng(0), AnnealSchedule(n_sweeps=20))
    t = sites.group("T")
    assert _counts(result.occupation, t.indices) == {"P": 6, "Si": 6}


@pytest.mark.parametrize("kwargs", [dict(kT_start_eV=0), dict(kT_end_eV=2.0, kT_start_eV=1.0),
                                    dict(n_sweeps=0), dict(n_sweeps=2.5)])
def test_bad_schedules(kwargs):
    with pytest.raises(StructureError):
        AnnealSchedule(**kwargs)


def test_matrix_shape_is_checked(me1):
    sites, _ = me1
    with pytest.raises(StructureError, match="Ewald matrix has shape"):
        anneal_occupation(sites, np.zeros((3, 3)), np.random.default_rng(0))
