"""Na-Na short contacts: distances in the references, exclusion pairs, feasibility, placement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import SublatticeError
from nasicon_sim.structure.na_contacts import (
    NA_MIN_DISTANCE_A,
    exclusion_pairs,
    max_na_placeable,
    valid_placement,
    violations,
)
from nasicon_sim.structure.ordering import anneal_occupation, random_occupation
from nasicon_sim.structure.parent import load_parent, load_reference
from nasicon_sim.structure.sites import supercell_sites
from nasicon_sim.structure.supercell import choose_supercell, parent_sites_in_supercell


def _na(parent, matrix=None):
    matrix = np.eye(3, dtype=int) if matrix is None else matrix
    frac, labels, _ = parent_sites_in_supercell(parent, matrix)
    return (np.asarray(matrix) @ parent.lattice.matrix), frac, labels


def test_hong_parent_has_no_short_contact_at_default():
    lattice, frac, labels = _na(load_parent())
    assert len(exclusion_pairs(lattice, frac, NA_MIN_DISTANCE_A)) == 0
    # the shortest Na-Na distance of Hong's model is Na1-Na3 3.52 A
    pairs = exclusion_pairs(lattice, frac, 3.6)
    assert len(pairs) == 8
    assert {(labels[a], labels[b]) for a, b in pairs} == {("Na1", "Na3")}
    assert len(exclusion_pairs(lattice, frac, 3.5)) == 0


def test_subramanian_contact_is_below_2p8_and_above_threshold():
    lattice, frac, labels = _na(load_reference("NaScZrSiPO_C2c_Subramanian1985"))
    assert len(exclusion_pairs(lattice, frac, NA_MIN_DISTANCE_A)) == 0
    pairs = exclusion_pairs(lattice, frac, 2.8)
    assert len(pairs) == 8
    assert {tuple(sorted((labels[a], labels[b]))) for a, b in pairs} == {("Na1", "Na3")}


def test_rhombohedral_split_sites_are_excluded():
    lattice, frac, labels = _na(load_reference("NZSP_R-3c"))
    pairs = exclusion_pairs(lattice, frac, NA_MIN_DISTANCE_A)
    kinds = {tuple(sorted((labels[a], labels[b]))) for a, b in pairs}
    assert kinds and all("Na3mid" in k for k in kinds)


def test_pairs_scale_with_supercell():
    parent = load_parent()
    lattice, frac, _ = _na(parent, np.diag([1, 2, 1]))
    assert len(exclusion_pairs(lattice, frac, 3.6)) == 16


def _brute_force_mis(n, pairs):
    edges = {tuple(p) for p in pairs}
    for k in range(n, -1, -1):
        for subset in itertools.combinations(range(n), k):
            s = set(subset)
            if not any(a in s and b in s for a, b in edges):
                return k
    return 0


@pytest.mark.parametrize("seed", range(6))
def test_max_placeable_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 10
    all_pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    pick = rng.random(len(all_pairs)) < 0.25
    pairs = np.array([p for p, keep in zip(all_pairs, pick) if keep], dtype=int).reshape(-1, 2)
    assert max_na_placeable(n, pairs) == _brute_force_mis(n, pairs)


def test_valid_placement_respects_pairs_and_fails_clearly():
    pairs = np.array([[0, 1], [1, 2], [2, 3], [3, 0]])  # a 4-ring: at most 2 of 4
    for seed in range(5):
        occ = valid_placement(6, 4, pairs, np.random.default_rng(seed))
        assert occ.sum() == 4 and len(violations(occ, pairs)) == 0
    with pytest.raises(SublatticeError, match="at most 4 fit"):
        valid_placement(6, 5, pairs, np.random.default_rng(0))


def test_orderings_respect_a_binding_threshold():
    # NZSP (12 Na per cell) with 3.6 A: each Na1 excludes two Na3, so 12 Na fit only with
    # every Na1 vacant; both methods must find such placements.
    sites = supercell_sites(choose_supercell(parse_nasicon("Na3Zr2Si2PO12")), na_min_distance_A=3.6)
    assert len(sites.na_pairs) == 8
    from nasicon_sim.structure.ewald import ewald_matrix

    matrix = ewald_matrix(sites.lattice_matrix, sites.frac_coords)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        for occ in (random_occupation(sites, rng), anneal_occupation(sites, matrix, rng).occupation):
            assert len(violations(occ == "Na", sites.na_pairs)) == 0
            assert np.sum(occ == "Na") == 12
            assert not np.any((sites.parent_label == "Na1") & (occ == "Na"))


def test_infeasible_na_content_fails_clearly():
    with pytest.raises(SublatticeError, match="14 Na cannot be placed.*3.6 A.*at most 12"):
        supercell_sites(choose_supercell(parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")),
                        na_min_distance_A=3.6)


def test_cell_too_small_for_threshold():
    lattice, frac, _ = _na(load_parent())
    with pytest.raises(SublatticeError, match="own periodic image"):
        exclusion_pairs(lattice, frac, 9.1)
