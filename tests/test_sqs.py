"""SQS with icet (optional extra): counts, closeness to random correlations, missing icet.

CI installs the ``sqs`` extra and sets ``CI``; there a missing icet fails instead of skipping.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from structure_checks import check_configuration

from nasicon_sim.errors import OptionalDependencyError
from nasicon_sim.structure.ensemble import build_ensemble, prepare_build
from nasicon_sim.structure.ordering import random_occupation

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"

if os.environ.get("CI"):
    import icet  # noqa: F401  (CI must test the sqs extra)
else:
    pytest.importorskip("icet")


@pytest.fixture(scope="module")
def me1_sqs():
    return build_ensemble(ME1, n=2, seed=0, method="sqs", supercell="1x1x2")


def test_sqs_configurations_have_exact_counts(me1_sqs):
    for config in me1_sqs:
        check_configuration(config)
        assert config.metadata()["sqs"]["cutoffs_A"] == [6.0]
        assert np.isfinite(config.ewald_energy_eV)


def test_sqs_is_closer_to_random_correlations_than_random_orderings(me1_sqs):
    from nasicon_sim.structure.sqs import sqs_objective, sqs_occupation

    plan = prepare_build(ME1, supercell="1x1x2")
    sites = plan.sites
    rng = np.random.default_rng(0)
    random_scores = [sqs_objective(sites, random_occupation(sites, np.random.default_rng(k)))
                     for k in range(4)]
    sqs = sqs_occupation(sites, random_occupation(sites, rng), rng)
    assert sqs_objective(sites, sqs) < min(random_scores)


def test_sqs_is_seeded(me1_sqs):
    again = build_ensemble(ME1, n=1, seed=0, method="sqs", supercell="1x1x2")
    for a, b in zip(again, me1_sqs):
        assert [s.species_string for s in a.structure] == [s.species_string for s in b.structure]
        assert np.allclose(a.structure.frac_coords, b.structure.frac_coords)


def test_missing_icet_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "icet", None)
    with pytest.raises(OptionalDependencyError, match=r"nasicon-sim\[sqs\]"):
        build_ensemble(ME1, n=1, method="sqs")
