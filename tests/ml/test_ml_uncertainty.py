"""Calibration improves badly calibrated scores; conformal sets reach their nominal coverage."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.naive_bayes import GaussianNB

from nasicon_sim.ml.uncertainty import (
    apply_platt,
    bootstrap_indices,
    brier,
    conformal_thresholds,
    fit_platt,
    prediction_sets,
    reliability_curve,
)


def _overconfident(n, rng):
    """True p = sigmoid(x); reported p = sigmoid(4 x + 1): too sure and biased."""
    x = rng.normal(size=n)
    p_true = 1 / (1 + np.exp(-x))
    y = (rng.random(n) < p_true).astype(int)
    return 1 / (1 + np.exp(-(4 * x + 1))), y, p_true


def test_platt_improves_the_brier_score_of_overconfident_scores():
    rng = np.random.default_rng(0)
    p_fit, y_fit, _ = _overconfident(400, rng)
    p_new, y_new, p_true = _overconfident(4000, rng)
    ab = fit_platt(p_fit, y_fit)
    assert ab[0] == pytest.approx(0.25, abs=0.08) and ab[1] == pytest.approx(-0.25, abs=0.2)
    raw, cal = brier(y_new, p_new), brier(y_new, apply_platt(p_new, ab))
    assert cal < raw - 0.02
    assert cal == pytest.approx(brier(y_new, p_true), abs=0.01)


def test_duplicated_features_make_gnb_overconfident_and_calibration_fixes_it():
    """The situation of the literature table: correlated descriptors break GNB's independence."""
    rng = np.random.default_rng(1)
    n = 600
    y = (rng.random(n) < 0.7).astype(int)
    f = y + rng.normal(scale=1.0, size=n)
    X = np.column_stack([f + rng.normal(scale=0.05, size=n) for _ in range(8)])
    tr, cal_idx, te = np.arange(200), np.arange(200, 400), np.arange(400, n)
    gnb = GaussianNB().fit(X[tr], y[tr])
    ab = fit_platt(gnb.predict_proba(X[cal_idx])[:, 1], y[cal_idx])
    p = gnb.predict_proba(X[te])[:, 1]
    assert brier(y[te], apply_platt(p, ab)) < brier(y[te], p) - 0.01


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_conformal_sets_reach_nominal_coverage_per_class(alpha):
    rng = np.random.default_rng(2)
    covered = {0: [], 1: []}
    for _rep in range(30):
        p_cal, y_cal, _ = _overconfident(300, rng)
        p_new, y_new, _ = _overconfident(300, rng)
        sets = prediction_sets(p_new, conformal_thresholds(p_cal, y_cal, alpha))
        hit = sets[np.arange(len(y_new)), y_new]
        for c in (0, 1):
            covered[c].append(hit[y_new == c].mean())
    for c in (0, 1):
        # Mondrian split conformal: E[coverage] >= 1 - alpha, and <= 1 - alpha + 1/(n_c + 1)
        assert np.mean(covered[c]) >= 1 - alpha - 0.01
        assert np.mean(covered[c]) <= 1 - alpha + 0.03


def test_thresholds_on_few_rows_include_the_class():
    # 3 rows of class 0 cannot give a 90 % threshold: the label is always in the set
    q0, q1 = conformal_thresholds(np.array([0.2, 0.3, 0.1, 0.9, 0.8] + [0.7] * 20),
                                  np.array([0, 0, 0] + [1] * 22), 0.1)
    assert q0 == np.inf and np.isfinite(q1)
    assert prediction_sets(np.array([0.99]), (q0, q1)).tolist() == [[True, True]]
    with pytest.raises(ValueError):
        conformal_thresholds(np.array([0.5]), np.array([1]), 1.5)


def test_bootstrap_is_stratified_and_seeded():
    y = np.r_[np.ones(20, int), np.zeros(5, int)]
    a, b = bootstrap_indices(y, 3, 7), bootstrap_indices(y, 3, 7)
    assert all(np.array_equal(i, j) for i, j in zip(a, b))
    for idx in a:
        assert (y[idx] == 0).sum() == 5 and len(idx) == 25


def test_reliability_curve_bins():
    mp, freq, count = reliability_curve(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.15]),
                                        n_bins=2)
    assert count.tolist() == [2, 2] and freq.tolist() == [0.0, 1.0]
    assert mp.tolist() == pytest.approx([0.125, 0.85])
