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


def test_p_value_is_exact_for_few_compositions():
    """rho = -1 over 5 compositions: 2 of the 120 pairings are as extreme (p = 1/60), where
    the t approximation says 1e-24; the exact value is checked against brute force."""
    import itertools

    from scipy.stats import spearmanr

    from nasicon_sim.crosscheck import EXACT_P_MAX_N, spearman_p_value

    r = rank_correlation({k: [float(i)] for i, k in enumerate("abcde")},
                         {k: -float(i) for i, k in enumerate("abcde")})
    assert r.rho == pytest.approx(-1.0) and r.p_value == pytest.approx(1 / 60)
    assert r.p_method == "exact permutation"
    x = np.array([0.93, 1.0, 1.05, 1.1, 1.17, 0.99])
    y = np.array([0.26, 0.67, 1.3, 0.94, 0.48, 0.42])
    r0 = abs(spearmanr(x, y).statistic)
    brute = np.mean([abs(spearmanr(x[list(p)], y).statistic) >= r0 - 1e-12
                     for p in itertools.permutations(range(6))])
    assert spearman_p_value(x, y) == (pytest.approx(brute), "exact permutation")
    big = np.arange(EXACT_P_MAX_N + 1, dtype=float)
    rng = np.random.default_rng(0)
    yb = big + rng.normal(0, 3, big.size)
    assert spearman_p_value(big, yb) == (pytest.approx(spearmanr(big, yb).pvalue),
                                         "t approximation")
