"""Cross-check statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasicon_sim.crosscheck import rank_correlation, summarise_barriers


def test_summary_counts_non_percolating_as_above():
    s = summarise_barriers([0.3, 0.5, math.inf, 0.7], threshold_eV=0.6)
    assert s.n == 4 and s.n_finite == 3
    assert s.mean_eV == pytest.approx(0.5)
    assert s.fraction_below == pytest.approx(0.5)


def test_perfect_anticorrelation_has_tight_interval():
    barriers = {"a": [0.30, 0.31], "b": [0.40, 0.41], "c": [0.50, 0.52], "d": [0.60, 0.61]}
    sigma = {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}
    r = rank_correlation(barriers, sigma, n_bootstrap=200)
    assert r.rho == pytest.approx(-1.0)
    assert r.ci_low == pytest.approx(-1.0) and r.ci_high == pytest.approx(-1.0)


def test_overlapping_ensembles_widen_the_interval():
    rng = np.random.default_rng(1)
    barriers = {k: rng.normal(0.5, 0.1, 6) for k in "abcd"}
    sigma = {"a": 4.0, "b": 3.0, "c": 2.0, "d": 1.0}
    r = rank_correlation(barriers, sigma, n_bootstrap=300)
    assert r.ci_high - r.ci_low > 0.5


def test_too_few_compositions_gives_none():
    assert rank_correlation({"a": [0.3], "b": [0.4]}, {"a": 1.0, "b": 2.0}) is None
    assert rank_correlation({"a": [0.3], "b": [0.4], "c": [math.inf]},
                            {"a": 1.0, "b": 2.0, "c": 3.0}) is None
