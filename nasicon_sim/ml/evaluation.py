"""Honest evaluation of classifiers: shared folds, spreads, held-out split, importances, ROC.

* **Cross-validation**: every model is scored on the *same* list of train/test splits
  (``RepeatedStratifiedKFold`` for the small literature table, as in Kohavi, IJCAI 1995;
  ``StratifiedKFold(5, shuffle=True, random_state=0)`` for the DFT set, the anchor's
  protocol). Metrics are the mean and the standard deviation over folds.
* **Held-out split**: a stratified split like the study's (13 of 58 compositions, ~22 %),
  with confusion matrices and ROC curves (Fawcett, Pattern Recogn. Lett. 27 (2006) 861).
* **Drop-one-descriptor importance** (the study's method): refit without one feature on the
  same folds; the importance is the rise of the CV error (fold-wise paired difference).
* **Permutation importance** (Breiman, Mach. Learn. 45 (2001) 5; scikit-learn's
  ``permutation_importance``) on the test fold of every split, averaged over folds.
"""

from __future__ import annotations

import logging
import math
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    roc_auc_score,
    roc_curve,
)
from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate, train_test_split

from nasicon_sim.errors import DataError
from nasicon_sim.io.atomic import atomic_savefig
from nasicon_sim.ml.models import single_threaded

__all__ = [
    "SCORERS",
    "CVResult",
    "HoldoutResult",
    "Importance",
    "Metric",
    "cross_validate_models",
    "drop_one_importance",
    "holdout_evaluation",
    "permutation_importance_cv",
    "plot_reliability",
    "plot_roc_curves",
    "stratified_splits",
]

logger = logging.getLogger(__name__)

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Metric:
    """Mean and standard deviation of a score over folds (``std`` with ddof = 0)."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Metric:
        arr = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
        if arr.size == 0:
            return cls(float("nan"), float("nan"), 0)
        return cls(float(arr.mean()), float(arr.std()), int(arr.size))

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.std:.3f}"


def _roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")


#: Our metric names and the scikit-learn scorers that compute them.
SCORERS: dict[str, str] = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "macro_f1": "f1_macro",
    "roc_auc": "roc_auc",
}


@dataclass(frozen=True)
class CVResult:
    """Cross-validated scores of one model on one feature set.

    Attributes
    ----------
    name : str
    features : tuple of str
    metrics : dict of str to Metric
        Keys from :data:`SCORERS`.
    n_folds : int
    fold_scores : dict of str to tuple of float
        Per-fold values, in split order (paired comparisons between models use them).
    """

    name: str
    features: tuple[str, ...]
    metrics: dict[str, Metric]
    n_folds: int
    fold_scores: dict[str, tuple[float, ...]]

    def as_dict(self) -> dict:
        out: dict = {"name": self.name, "features": list(self.features), "n_folds": self.n_folds}
        for key, m in self.metrics.items():
            out[key] = m.mean
            out[f"{key}_std"] = m.std
        return out


def _positive_score(estimator, X: np.ndarray) -> np.ndarray:
    """Score of class 1 (probability when available, else decision function)."""
    if hasattr(estimator, "predict_proba"):
        try:
            proba = estimator.predict_proba(X)
        except AttributeError:  # e.g. SVC without probability
            proba = None
        if proba is not None:
            classes = list(estimator.classes_)
            return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(X))
    return np.asarray(estimator.decision_function(X), dtype=float)


def too_few_rows(name: str, y: np.ndarray, exc: Exception, hint: str = "--model") -> DataError:
    """One-line error for a scikit-learn ValueError raised because a table is too small."""
    counts = np.bincount(np.asarray(y, dtype=int), minlength=2)
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DataError(
        f"{name} cannot be fitted on {len(y)} compositions ({counts[1]} single_phase, "
        f"{counts[0]} secondary_phases): {msg}; add labelled rows or change {hint}"
    )


def _fit(estimator, X: np.ndarray, y: np.ndarray, name: str = ""):
    with warnings.catch_warnings(record=True) as caught, single_threaded():
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            fitted = clone(estimator).fit(X, y)
        except ValueError as exc:
            raise too_few_rows(name or type(estimator).__name__, y, exc) from None
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            logger.warning("%s: %s", type(estimator).__name__, w.message)
    return fitted


def _fold_scores(
    estimator,
    X: np.ndarray,
    y: np.ndarray,
    splits: Sequence[Split],
    scoring: Sequence[str],
    name: str = "",
) -> dict[str, list[float]]:
    with warnings.catch_warnings(record=True) as caught, single_threaded():
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            res = cross_validate(estimator, X, y, cv=list(splits), error_score="raise",
                                 scoring={k: SCORERS[k] for k in scoring})
        except ValueError as exc:
            n_train = min(len(train) for train, _ in splits)
            raise too_few_rows(name or type(estimator).__name__, y, exc,
                               f"--folds or --models (smallest training fold: {n_train} rows)"
                               ) from None
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        logger.warning("%s did not converge in some folds (scores kept as they are)",
                       name or type(estimator).__name__)
    return {k: [float(v) for v in res[f"test_{k}"]] for k in scoring}


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise DataError(f"X has shape {X.shape} for {y.shape[0]} labels")
    if not np.all(np.isfinite(X)):
        raise DataError("features contain NaN or infinite values")
    counts = np.bincount(y.astype(int), minlength=2)
    if counts.min() < 2:
        raise DataError(
            f"need at least 2 compositions of each class to evaluate, have {counts[1]} "
            f"single_phase and {counts[0]} secondary_phases"
        )
    return X, y


def cross_validate_models(
    X: np.ndarray,
    y: np.ndarray,
    estimators: Mapping[str, object],
    splits: Sequence[Split],
    features: Sequence[str],
    scoring: Sequence[str] = ("accuracy", "balanced_accuracy", "roc_auc"),
) -> list[CVResult]:
    """Score every estimator on the same splits.

    Parameters
    ----------
    X : numpy.ndarray, shape (n, n_features)
    y : numpy.ndarray, shape (n,), int (0/1)
    estimators : mapping of name to unfitted estimator
    splits : sequence of (train_index, test_index)
        Materialised once, so that every model sees the same folds.
    features : sequence of str
        Column names of ``X`` (reported with the result).
    scoring : sequence of str
        Keys of :data:`SCORERS`.

    Returns
    -------
    list of CVResult
    """
    X, y = _check_xy(X, y)
    results = []
    for name, estimator in estimators.items():
        scores = _fold_scores(estimator, X, y, splits, scoring, name)
        results.append(CVResult(
            name=name,
            features=tuple(features),
            metrics={k: Metric.of(v) for k, v in scores.items()},
            n_folds=len(splits),
            fold_scores={k: tuple(v) for k, v in scores.items()},
        ))
        logger.info("CV %s: %s", name, {k: str(m) for k, m in results[-1].metrics.items()})
    return results


@dataclass(frozen=True)
class HoldoutResult:
    """One model fitted on the training part of a stratified split, scored on the rest.

    Attributes
    ----------
    name : str
    accuracy, balanced_accuracy, roc_auc : float
    confusion : tuple of tuple of int
        2 x 2, rows = true class (0 secondary, 1 single), columns = predicted class.
    fpr, tpr : tuple of float
        The ROC curve on the test part.
    n_train, n_test : int
    """

    name: str
    accuracy: float
    balanced_accuracy: float
    roc_auc: float
    confusion: tuple[tuple[int, int], tuple[int, int]]
    fpr: tuple[float, ...]
    tpr: tuple[float, ...]
    n_train: int
    n_test: int

    def as_dict(self) -> dict:
        out = asdict(self)
        out["confusion"] = [list(r) for r in self.confusion]
        out.pop("fpr")
        out.pop("tpr")
        return out


def stratified_splits(y: np.ndarray, n_splits: int, n_repeats: int, seed: int) -> list[Split]:
    """Materialised ``RepeatedStratifiedKFold(n_splits, n_repeats, random_state=seed)`` splits.

    Raises
    ------
    DataError
        If a class has fewer members than folds (a test fold would miss it).
    """
    y = np.asarray(y)
    counts = np.bincount(y.astype(int), minlength=2)
    if n_splits < 2 or n_repeats < 1:
        raise DataError(f"need >= 2 folds and >= 1 repeat, got {n_splits} and {n_repeats}")
    if counts.min() < n_splits:
        raise DataError(
            f"{n_splits}-fold stratified CV needs at least {n_splits} compositions of each "
            f"class; have {counts[1]} single_phase and {counts[0]} secondary_phases "
            "(use fewer folds)"
        )
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return list(cv.split(np.zeros((len(y), 1)), y))


def holdout_split(y: np.ndarray, test_size: float, seed: int) -> Split:
    """Stratified train/test indices (``train_test_split`` with ``stratify=y``)."""
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=test_size, stratify=y, random_state=seed)
    return np.sort(train), np.sort(test)


def holdout_evaluation(
    X: np.ndarray,
    y: np.ndarray,
    estimators: Mapping[str, object],
    test_size: float = 0.22,
    seed: int = 0,
) -> list[HoldoutResult]:
    """Fit each estimator on a stratified training part and score it on the held-out rest.

    Parameters
    ----------
    X, y : arrays
    estimators : mapping of name to unfitted estimator
    test_size : float, default 0.22
        Fraction held out (the study held out 13 of 58 compositions, 22 %).
    seed : int

    Returns
    -------
    list of HoldoutResult
    """
    X, y = _check_xy(X, y)
    train, test = holdout_split(y, test_size, seed)
    out = []
    for name, estimator in estimators.items():
        model = _fit(estimator, X[train], y[train], name)
        pred = model.predict(X[test])
        score = _positive_score(model, X[test])
        cm = confusion_matrix(y[test], pred, labels=[0, 1])
        if len(np.unique(y[test])) == 2:
            fpr, tpr, _ = roc_curve(y[test], score)
        else:  # pragma: no cover - stratification keeps both classes
            fpr, tpr = np.array([0.0, 1.0]), np.array([0.0, 1.0])
        out.append(HoldoutResult(
            name=name,
            accuracy=float(accuracy_score(y[test], pred)),
            balanced_accuracy=float(balanced_accuracy_score(y[test], pred)),
            roc_auc=_roc_auc(y[test], score),
            confusion=((int(cm[0, 0]), int(cm[0, 1])), (int(cm[1, 0]), int(cm[1, 1]))),
            fpr=tuple(float(v) for v in fpr),
            tpr=tuple(float(v) for v in tpr),
            n_train=len(train),
            n_test=len(test),
        ))
    return out


@dataclass(frozen=True)
class Importance:
    """Importance of one feature by two methods (rise in CV error; permutation)."""

    feature: str
    drop_one: Metric
    permutation: Metric

    def as_dict(self) -> dict:
        return {"feature": self.feature,
                "drop_one_error_rise": self.drop_one.mean,
                "drop_one_error_rise_std": self.drop_one.std,
                "permutation": self.permutation.mean,
                "permutation_std": self.permutation.std}


def drop_one_importance(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    estimator,
    splits: Sequence[Split],
    scoring: str = "accuracy",
) -> dict[str, Metric]:
    """Rise of the CV error when each feature is left out (refit on the same folds).

    Returns
    -------
    dict of feature name to Metric
        Fold-wise ``score(all features) - score(without the feature)``; positive = the
        feature helps.
    """
    X, y = _check_xy(X, y)
    if X.shape[1] < 2:
        raise DataError("drop-one importance needs at least two features")
    full = np.array(_fold_scores(estimator, X, y, splits, [scoring])[scoring])
    out = {}
    for j, name in enumerate(features):
        keep = [k for k in range(X.shape[1]) if k != j]
        reduced = np.array(_fold_scores(estimator, X[:, keep], y, splits, [scoring])[scoring])
        out[name] = Metric.of(full - reduced)
    return out


def permutation_importance_cv(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    estimator,
    splits: Sequence[Split],
    n_repeats: int = 10,
    seed: int = 0,
    scoring: str = "accuracy",
) -> dict[str, Metric]:
    """Permutation importance on each test fold, averaged over folds.

    Returns
    -------
    dict of feature name to Metric
        Drop of the score when the feature's test values are shuffled.
    """
    X, y = _check_xy(X, y)
    per_fold = []
    for k, (train, test) in enumerate(splits):
        model = _fit(estimator, X[train], y[train])
        with single_threaded():
            res = permutation_importance(model, X[test], y[test], scoring=scoring,
                                         n_repeats=n_repeats, random_state=seed + k)
        per_fold.append(res.importances_mean)
    arr = np.array(per_fold)
    return {name: Metric.of(arr[:, j]) for j, name in enumerate(features)}


def plot_roc_curves(results: Sequence[HoldoutResult], path: str | Path, title: str) -> Path:
    """Write the ROC curves of held-out results to a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(5, 5))
    for r in results:
        ax.plot(r.fpr, r.tpr, label=f"{r.name} (AUC {r.roc_auc:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(textwrap.fill(title, 60), fontsize=9)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savefig(fig, path, dpi=120)
    plt.close(fig)
    return path


def plot_reliability(record: Mapping, y: np.ndarray, path: str | Path, n_bins: int = 5) -> Path:
    """Reliability diagram of the nested CV's outer-fold probabilities, raw and calibrated.

    Parameters
    ----------
    record : mapping
        A selection record's data (:class:`~nasicon_sim.ml.selection.SelectionRecord`).
    y : numpy.ndarray
        Labels of the table the record was made on (``test_index`` points into it).
    path : path-like
        PNG to write.
    n_bins : int
        Equal-width probability bins.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from nasicon_sim.ml.uncertainty import brier, reliability_curve

    idx = np.concatenate([f["test_index"] for f in record["outer_folds"]]).astype(int)
    yy = np.asarray(y)[idx]
    path = Path(path)
    fig, ax = plt.subplots(figsize=(5, 5))
    for key, label in (("p_raw", "selected, raw"), ("p_calibrated", "selected, Platt")):
        p = np.concatenate([f[key] for f in record["outer_folds"]])
        mp, freq, count = reliability_curve(yy, p, n_bins)
        ax.plot(mp, freq, marker="o", label=f"{label} (Brier {brier(yy, p):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("predicted p(single phase), outer test folds")
    ax.set_ylabel("observed fraction single phase")
    ax.set_title(f"reliability, nested CV ({len(record['outer_folds'])} outer folds)", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
