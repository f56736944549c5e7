"""Calibrated probabilities and per-prediction uncertainty for the phase-purity classifier.

Three pieces, each a pure function on arrays:

* **Platt calibration** (Platt 1999; Niculescu-Mizil & Caruana, ICML 2005): a logistic map
  ``p_cal = 1 / (1 + exp(-(a * logit(p) + b)))`` fitted (scikit-learn ``LogisticRegression``,
  almost unpenalised) on *out-of-fold* probabilities of the training rows, so that the map is
  not fitted on the scores a model gives to its own training data. This is what scikit-learn's
  ``CalibratedClassifierCV(method="sigmoid", ensemble=False)`` does; it is written out here
  because the same out-of-fold scores also feed the conformal sets below.
* **Class-conditional (Mondrian) split-conformal prediction sets** (Vovk et al., *Algorithmic
  Learning in a Random World*, 2005, ch. 4; Angelopoulos & Bates, arXiv:2107.07511): the
  nonconformity of a labelled row is ``1 - p(its class)``; for each class ``c`` the threshold
  ``q_c`` is the ``ceil((n_c + 1)(1 - alpha))``-th smallest nonconformity of the ``n_c``
  out-of-fold rows of that class (infinite when that exceeds ``n_c``). A new composition's
  set holds every class ``c`` with ``1 - p(c) <= q_c``; for exchangeable data each class is
  covered with probability >= 1 - alpha. A set of both labels means "the model cannot tell at
  this confidence"; an empty set means "unlike either class in the training data".
  Out-of-fold scores (cross-conformal, Vovk 2015) reuse every row for calibration; their
  coverage is close to, not exactly, the split-conformal guarantee (a test measures it).
* **Bootstrap spread** (Efron & Tibshirani 1993): the standard deviation of the (calibrated)
  probability over refits on stratified bootstrap resamples of the training table; it says how
  much the estimate depends on which compositions happened to be labelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

__all__ = [
    "apply_platt",
    "bootstrap_indices",
    "bootstrap_probabilities",
    "brier",
    "conformal_thresholds",
    "fit_platt",
    "prediction_sets",
    "reliability_curve",
    "summarise_sets",
]

_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return np.log(p) - np.log1p(-p)


def fit_platt(p: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit the logistic calibration map on out-of-fold probabilities.

    Parameters
    ----------
    p : numpy.ndarray, shape (n,)
        Out-of-fold probabilities of class 1.
    y : numpy.ndarray, shape (n,)
        Labels 0/1 (both present).

    Returns
    -------
    (a, b) : tuple of float
        Slope and intercept on the log-odds scale.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = fit_platt(np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7]), np.array([0, 0, 1, 1, 1, 0]))
    >>> bool(0 < a < 1)
    True
    """
    x = _logit(p).reshape(-1, 1)
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(x, np.asarray(y, dtype=int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def apply_platt(p: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    """Calibrated probabilities ``sigmoid(a * logit(p) + b)``."""
    z = ab[0] * _logit(p) + ab[1]
    return 1.0 / (1.0 + np.exp(-z))


def conformal_thresholds(p: np.ndarray, y: np.ndarray, alpha: float) -> tuple[float, float]:
    """Class-conditional conformal thresholds ``(q_0, q_1)`` on ``1 - p(class)``.

    Parameters
    ----------
    p : numpy.ndarray, shape (n,)
        Out-of-fold probabilities of class 1.
    y : numpy.ndarray, shape (n,)
    alpha : float
        Miscoverage level, 0 < alpha < 1 (0.1: each class covered >= 90 %).

    Returns
    -------
    (q_0, q_1) : tuple of float
        ``inf`` for a class with too few rows for the level (its label is always in the set).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=int)
    out = []
    for c in (0, 1):
        scores = np.sort(1.0 - (p[y == 1] if c == 1 else 1.0 - p[y == 0]))
        k = math.ceil((len(scores) + 1) * (1.0 - alpha))
        out.append(float(scores[k - 1]) if 1 <= k <= len(scores) else math.inf)
    return out[0], out[1]


def prediction_sets(p: np.ndarray, thresholds: tuple[float, float]) -> np.ndarray:
    """Membership of each class in the conformal set.

    Returns
    -------
    numpy.ndarray of bool, shape (n, 2)
        Column 0: ``secondary_phases`` in the set; column 1: ``single_phase`` in the set.

    Examples
    --------
    >>> prediction_sets(np.array([0.95, 0.5, 0.02]), (0.3, 0.3)).tolist()
    [[False, True], [False, False], [True, False]]
    """
    p = np.asarray(p, dtype=float)
    return np.column_stack([p <= thresholds[0] + 1e-12, 1.0 - p <= thresholds[1] + 1e-12])


def bootstrap_indices(y: np.ndarray, n: int, seed: int) -> list[np.ndarray]:
    """``n`` stratified bootstrap resamples (row indices), each class resampled on its own."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)]
    return [np.sort(np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups]))
            for _ in range(n)]


def bootstrap_probabilities(
    estimator, X: np.ndarray, y: np.ndarray, X_new: np.ndarray, n: int, seed: int
) -> np.ndarray:
    """Probabilities of class 1 for ``X_new`` from ``n`` bootstrap refits, shape (n, len(X_new))."""
    out = []
    for idx in bootstrap_indices(y, n, seed):
        fitted = clone(estimator).fit(X[idx], y[idx])
        out.append(fitted.predict_proba(X_new)[:, list(fitted.classes_).index(1)])
    return np.array(out)


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Brier score (mean squared error of the probability of class 1); lower is better."""
    return float(brier_score_loss(np.asarray(y, dtype=int), np.asarray(p, dtype=float)))


def reliability_curve(
    y: np.ndarray, p: np.ndarray, n_bins: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reliability diagram data: mean predicted p, observed frequency and count per bin.

    Bins are equal-width on [0, 1]; empty bins are dropped.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    mean_p, freq, count = [], [], []
    for b in range(n_bins):
        m = which == b
        if m.any():
            mean_p.append(p[m].mean())
            freq.append(y[m].mean())
            count.append(int(m.sum()))
    return np.array(mean_p), np.array(freq), np.array(count)


def summarise_sets(sets: np.ndarray) -> Sequence[str]:
    """Readable labels of conformal sets: ``single``, ``secondary``, ``both``, ``none``."""
    names = {(False, True): "single", (True, False): "secondary", (True, True): "both",
             (False, False): "none"}
    return [names[(bool(a), bool(b))] for a, b in sets]
