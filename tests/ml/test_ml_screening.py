"""Screening: grid counts from combinatorics, candidates checked against parse + describe."""

from __future__ import annotations

import csv
import math
import re

import numpy as np
import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.descriptors import describe
from nasicon_sim.errors import ParameterError, ScreeningError
from nasicon_sim.ml.screening import ScreenSpec, enumerate_candidates, screen, write_candidates_csv

PALETTE = ("Ti", "Hf", "Lu", "Ga", "Sc")


@pytest.fixture(scope="module")
def candidates():
    return enumerate_candidates(ScreenSpec(PALETTE, max_cations=5))


def test_grid_counts_follow_stars_and_bars(candidates):
    # 20 units of 0.1 over Zr + 5 dopants with Zr >= 1 unit: C(19 + 5, 5) grid points;
    # those using all six cations are C(19, 5) compositions of 20 into 6 positive parts.
    c = candidates.counts
    assert c["grid_points"] == math.comb(24, 5) == 42504
    assert c["max_cations"] == math.comb(24, 5) - math.comb(19, 5)
    assert len(candidates) == c["na_bounds"] < c["max_cations"]


def test_every_candidate_obeys_the_rules(candidates):
    units = candidates.units
    assert np.all(units.sum(axis=1) == 20) and np.all(units[:, 0] >= 1)
    assert np.all((units > 0).sum(axis=1) <= 5)
    assert np.all((candidates.na >= 1 - 1e-9) & (candidates.na <= 4 + 1e-9))
    charge = (candidates.na + units * 0.1 @ np.array(candidates.valences, float)
              + 4 * candidates.si + 5 * (3 - candidates.si))
    np.testing.assert_allclose(charge, 24.0, atol=1e-9)


def test_a_sample_agrees_with_parse_and_describe(candidates):
    from nasicon_sim.ml.features import STUDY_FEATURES, compute_features

    rng = np.random.default_rng(0)
    idx = rng.choice(len(candidates), size=40, replace=False)
    X = compute_features(candidates.arrays, STUDY_FEATURES)
    for i in idx:
        comp = parse_nasicon(candidates.formula(int(i)))
        d = describe(comp)
        assert comp.na == pytest.approx(candidates.na[i])
        np.testing.assert_allclose(
            X[i], [d.radius_pm, d.electronegativity, d.valence, d.entropy_R], rtol=1e-9)


def test_si_grid_entropy_window_and_host():
    spec = ScreenSpec(("Ti", "Sc"), max_cations=3, step=0.25, si_values=(1.5, 2.0, 2.5),
                      entropy_min=0.5, entropy_max=1.0, na_min=2.0, na_max=4.0)
    c = enumerate_candidates(spec)
    assert set(np.unique(c.si)) <= {1.5, 2.0, 2.5} and len(c) > 0
    x = c.units / c.units.sum(axis=1, keepdims=True)
    s = -np.sum(np.where(x > 0, x * np.log(np.where(x > 0, x, 1)), 0), axis=1)
    assert np.all((s >= 0.5 - 1e-12) & (s <= 1.0 + 1e-12))
    assert c.cations[0] == "Zr" and np.all(c.units[:, 0] > 0)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [(ScreenSpec(("Ba",)), "Ba+2: Shannon radius 135 pm differs"),
     (ScreenSpec(("Li",)), "Li+1: valence outside +2..+6"),
     (ScreenSpec(("Ti",), step=0.3), "must divide"),
     (ScreenSpec(("Ti",), na_min=3, na_max=2), "lower bound"),
     (ScreenSpec(("Ti",), si_values=(3.5,)), "within 0..3"),
     (ScreenSpec(()), "palette is empty"),
     (ScreenSpec(("Ti", "Hf", "Sn", "Ge", "Sc", "In", "Lu", "Y"), step=0.01), "grid points"),
     (ScreenSpec(("Pu",)), "no preferred oxidation state")],
)
def test_rules_are_enforced_with_clear_messages(spec, fragment):
    with pytest.raises(ScreeningError, match=re.escape(fragment)):
        enumerate_candidates(spec)


def test_oxidation_override_changes_na():
    a = enumerate_candidates(ScreenSpec(("Ti",), max_cations=2, step=0.5))
    b = enumerate_candidates(ScreenSpec(("Ti",), max_cations=2, step=0.5,
                                        oxidation_states={"Ti": 3}))
    assert a.valences == (4, 4) and b.valences == (4, 3)
    assert b.na.max() > a.na.max()
    with pytest.raises(ParameterError):
        enumerate_candidates(ScreenSpec(("Ti",), oxidation_states={"Ti": 7}, valence_max=7))


def test_screen_ranks_and_writes(tmp_path, default_model):
    res = screen(ScreenSpec(("Ti", "Hf", "Sc"), max_cations=3, step=0.25), default_model)
    p = res.scores["p_single_phase"][res.order]
    assert np.all(np.diff(p) <= 0)
    path = tmp_path / "out" / "c.csv"
    n = write_candidates_csv(res, path, top=7)
    rows = list(csv.DictReader(path.open()))
    assert n == len(rows) == 7 and rows[0]["rank"] == "1"
    assert {"formula", "p_single_phase", "in_domain", "e_hull_pred_meV", "Zr", "Sc"} <= set(rows[0])
    inside = res.rows(in_domain_only=True)
    assert all(r["in_domain"] for r in inside)
