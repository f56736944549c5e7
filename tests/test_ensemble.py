"""Ensembles: exact composition, neutrality, sane distances, site map, seeds, Ewald vs random.

The per-structure checks (and the minimum distances they use) are in ``structure_checks.py``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from structure_checks import check_configuration

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import StructureError
from nasicon_sim.structure.ensemble import build_ensemble, make_configuration, prepare_build

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"
HE1 = "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12"


@pytest.fixture(scope="module")
def me1_random():
    return build_ensemble(ME1, n=6, seed=0, method="random")


@pytest.fixture(scope="module")
def me1_ewald():
    return build_ensemble(ME1, n=6, seed=0, method="ewald")


@pytest.mark.parametrize("fixture", ["me1_random", "me1_ewald"])
def test_every_configuration_is_sound(fixture, request):
    ensemble = request.getfixturevalue(fixture)
    assert len(ensemble) == 6
    for k, config in enumerate(ensemble):
        assert config.index == k
        check_configuration(config)


def test_ewald_mean_energy_below_random(me1_random, me1_ewald):
    assert me1_ewald.ewald_energies_eV.mean() < me1_random.ewald_energies_eV.mean()
    assert me1_ewald.ewald_energies_eV.max() < me1_random.ewald_energies_eV.min()


def _signature(ensemble):
    return [tuple(site.species_string for site in c.structure) + tuple(map(tuple, c.structure.frac_coords.round(6)))
            for c in ensemble]


def test_same_seed_same_structures_different_seed_different(me1_random):
    again = build_ensemble(ME1, n=6, seed=0, method="random")
    assert _signature(again) == _signature(me1_random)
    other = build_ensemble(ME1, n=6, seed=1, method="random")
    assert all(a != b for a, b in zip(_signature(other), _signature(me1_random)))
    ewald_again = build_ensemble(ME1, n=2, seed=3, method="ewald")
    assert _signature(ewald_again) == _signature(build_ensemble(ME1, n=2, seed=3, method="ewald"))


def test_configurations_differ_within_an_ensemble(me1_random):
    sigs = _signature(me1_random)
    assert len(set(sigs)) == len(sigs)


def test_one_configuration_rebuilds_alone(me1_random):
    plan = prepare_build(ME1)
    third = make_configuration(plan, "random", 0, (2,), index=2)
    assert _signature([third]) == _signature([me1_random[2]])


def test_large_exact_supercell_he1():
    ensemble = build_ensemble(HE1, n=1, seed=0, method="random")
    config = ensemble[0]
    assert config.n_atoms == 412 and round(abs(np.linalg.det(config.supercell_matrix))) == 5
    check_configuration(config)
    held = config.structure.composition.element_composition
    assert held["Ga"] == 2 and held["Hf"] == 8 and held["Na"] == 72


def test_rounded_composition_is_recorded():
    ensemble = build_ensemble(HE1, n=1, seed=0, method="random", max_atoms=300)
    config = ensemble[0]
    check_configuration(config)
    meta = config.metadata()
    assert meta["exact"] is False
    assert meta["requested_composition"] == parse_nasicon(HE1).formula
    assert meta["composition"] != meta["requested_composition"]
    assert meta["deviation_per_fu"]["Ga"] == pytest.approx(1 / 12 - 0.1)
    assert config.deviation["Ga"] == pytest.approx(1 / 12 - 0.1)


def test_mixed_tetrahedral_composition():
    ensemble = build_ensemble("Na3Zr1.5Sc0.5Si1.5P1.5O12", n=2, seed=0, method="ewald")
    for config in ensemble:
        check_configuration(config)
        assert config.metadata()["tetrahedral"] == "mixed"
    # Si and P both occupy both T parent sites (4e P1 and 8f Si2) somewhere in the ensemble
    labels = {(s.specie.symbol, s.properties["parent_label"]) for c in ensemble for s in c.structure
              if s.properties["sublattice"] == "T"}
    assert {("P", "P1"), ("P", "Si2"), ("Si", "P1"), ("Si", "Si2")} <= labels


def test_dedup_drops_symmetry_duplicates():
    from pymatgen.analysis.structure_matcher import StructureMatcher

    ensemble = build_ensemble("Na3Zr2Si2PO12", n=4, seed=0, method="ewald", dedup=True, max_attempts=8)
    assert ensemble.n_attempts == 8
    assert ensemble.n_duplicates == 8 - len(ensemble) > 0
    matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False)
    for a, b in itertools.combinations(ensemble, 2):
        assert not matcher.fit(a.structure, b.structure)
    assert [c.index for c in ensemble] == list(range(len(ensemble)))
    summary = ensemble.summary()
    assert summary["n_duplicates_dropped"] == ensemble.n_duplicates
    assert summary["n_configurations"] == len(ensemble) < summary["n_requested"]


def test_vegard_is_off_by_default_and_scales_when_asked(me1_random):
    base = me1_random[0].structure.lattice
    assert me1_random[0].metadata()["vegard"] is False
    scaled = build_ensemble(ME1, n=1, seed=0, method="random", vegard=True)[0]
    from nasicon_sim.structure.vegard import vegard_scale

    factor = vegard_scale(parse_nasicon(ME1))
    assert scaled.metadata()["lattice_scale"] == pytest.approx(factor)
    assert np.allclose(scaled.structure.lattice.matrix, base.matrix * factor)
    assert np.allclose(scaled.structure.frac_coords, me1_random[0].structure.frac_coords)


def test_callback_sees_each_configuration_in_order():
    seen = []
    ensemble = build_ensemble(ME1, n=3, seed=0, method="random", callback=seen.append)
    assert [c.index for c in seen] == [0, 1, 2] and seen[2] is ensemble[2]


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="annealing"), "unknown ordering method"),
    (dict(n=0), "positive integer"),
    (dict(seed=-1), "non-negative"),
    (dict(dedup=True, n=3, max_attempts=2), "smaller than n"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(StructureError, match=match):
        build_ensemble(ME1, **kwargs)


def test_composition_object_or_string():
    a = build_ensemble(parse_nasicon(ME1), n=1, seed=4, method="random")
    b = build_ensemble(ME1, n=1, seed=4, method="random")
    assert _signature(a) == _signature(b)
    with pytest.raises(StructureError, match="formula string or a NasiconComposition"):
        build_ensemble(42, n=1)


@pytest.mark.slow
def test_he1_ewald_ensemble_is_sound():
    ensemble = build_ensemble(HE1, n=3, seed=0, method="ewald")
    random = build_ensemble(HE1, n=3, seed=0, method="random")
    for config in ensemble:
        check_configuration(config)
    assert ensemble.ewald_energies_eV.max() < random.ewald_energies_eV.min()


def test_resumed_build_matches_an_uninterrupted_one(me1_random):
    tail = build_ensemble(ME1, n=6, seed=0, method="random", start=4)
    assert [c.index for c in tail] == [4, 5]
    assert _signature(tail) == _signature(me1_random)[4:]
    assert tail[0].metadata()["index"] == 4


@pytest.mark.parametrize("kwargs, match", [
    (dict(start=7), "start must be an integer from 0 to n"),
    (dict(start=1, dedup=True), "not supported with dedup"),
])
def test_bad_resume(kwargs, match):
    with pytest.raises(StructureError, match=match):
        build_ensemble(ME1, n=6, method="random", **kwargs)


@pytest.mark.parametrize("label", ["NZSP", "LE", "ME1", "ME2", "HE1", "HE2"])
def test_every_study_composition_builds_soundly(label, study_formulas):
    ensemble = build_ensemble(study_formulas[label], n=1, seed=0, method="random")
    check_configuration(ensemble[0])
    assert ensemble[0].metadata()["exact"] is True
