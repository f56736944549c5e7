"""Computed-stability model: DFT energy above the hull from the formula alone.

Trained on the 3881 NASICONs of Ouyang et al. (Nat. Commun. 12 (2021) 5752;
:mod:`nasicon_sim.ml.ouyang`), with features that need nothing but the formula
(:mod:`nasicon_sim.ml.features`, set ``"formula"``; no DFT Ewald or formation energies).

**The anchor** (``ouyang2021-2d-linear-svc``) is the authors' own classifier, reproduced with
their protocol as read in ``Script/Run_five_fold_CV.ipynb`` of
github.com/Jeff-oakley/NASICON_Predictor_Data: all 3881 rows (their train.csv then test.csv),
their 2D descriptor as given in ``*_2D.csv`` without scaling, ``SVC(kernel="linear",
class_weight="balanced")`` with the default C = 1, classes E_hull <= 0 vs > 0, and
``StratifiedKFold(n_splits=5, shuffle=True, random_state=0)``; their notebook prints mean
accuracy 0.8209 and macro F1 0.7472 over the five folds. (They also set
``probability=True``, which does not change ``predict``; it is left out here.)

Our classifiers run on **the same folds**. Because neighbouring compositions of one chemical
system are strongly correlated, a second, stricter protocol keeps every M-site chemical
system (the set of M cations, e.g. {Mg, Zr}) in one fold (``StratifiedGroupKFold``).

**Transfer to experiments**: the stability model scores the labelled literature compositions,
and the ROC AUC of its stability probability against the reported phase purity is given with
a bootstrap percentile interval (Efron & Tibshirani 1993; ``scipy.stats.bootstrap``, paired).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_validate
from sklearn.svm import SVC

from nasicon_sim.composition import NasiconComposition
from nasicon_sim.ml.domain import ApplicabilityDomain
from nasicon_sim.ml.evaluation import CVResult, Metric, cross_validate_models
from nasicon_sim.ml.features import CompositionArrays, compute_features, resolve_features
from nasicon_sim.ml.models import (
    STABILITY_MODELS,
    make_classifier,
    make_regressor,
    single_threaded,
)
from nasicon_sim.ml.ouyang import OuyangDataset, load_ouyang2021

__all__ = [
    "ANCHOR_FEATURES",
    "ANCHOR_NAME",
    "StabilityEvaluation",
    "StabilityModel",
    "TransferResult",
    "anchor_splits",
    "chemical_system_groups",
    "evaluate_stability",
    "fit_stability_model",
    "make_anchor",
    "transfer_to_experiments",
]

logger = logging.getLogger(__name__)

#: Name of the reproduced Ouyang et al. (2021) classifier in every result table.
ANCHOR_NAME = "ouyang2021-2d-linear-svc"
#: Its two features (their SISSO descriptor; the second needs DFT Ewald energies).
ANCHOR_FEATURES: tuple[str, str] = ("cbrt(N_Na)+std(Q_anion)^2", "E_Ewald^2*X_M^Na*std(R_M)")
#: Our default feature set for the stability models.
STABILITY_FEATURES = "formula"


def make_anchor() -> SVC:
    """The anchor's estimator: linear SVC, balanced class weights, C = 1, unscaled input."""
    return SVC(kernel="linear", class_weight="balanced")


def anchor_splits(y: np.ndarray, n_splits: int = 5, seed: int = 0):
    """The anchor's folds: ``StratifiedKFold(5, shuffle=True, random_state=0)``."""
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros((len(y), 1)), y))


def chemical_system_groups(compositions: Sequence[NasiconComposition]) -> np.ndarray:
    """Group index per composition: the set of its M-site cations (e.g. {Mg, Zr})."""
    keys = ["-".join(sorted(c.m_site)) for c in compositions]
    return np.unique(keys, return_inverse=True)[1]


def grouped_splits(y: np.ndarray, groups: np.ndarray, n_splits: int = 5, seed: int = 0):
    """Stratified folds that keep each chemical system in one fold."""
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros((len(y), 1)), y, groups))


@dataclass(frozen=True)
class StabilityModel:
    """Fitted computed-stability models (classifier of E_hull <= 0, regressor of E_hull).

    Attributes
    ----------
    classifier : fitted estimator
        ``predict_proba[:, 1]`` = probability that E_hull(1000 K) <= 0.
    regressor : fitted estimator
        Predicted E_hull(1000 K) in meV/atom.
    features : tuple of str
    domain : ApplicabilityDomain
        Training range of the features.
    metadata : dict
        Classifier name, training-set hash and size, seed.
    """

    classifier: object
    regressor: object
    features: tuple[str, ...]
    domain: ApplicabilityDomain
    metadata: dict = field(default_factory=dict)

    def features_of(self, arrays: CompositionArrays) -> np.ndarray:
        return compute_features(arrays, self.features)

    def predict_arrays(self, arrays: CompositionArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stability probability, E_hull (meV/atom) and in-domain flag, each shape (n,)."""
        X = self.features_of(arrays)
        if len(X) == 0:
            empty = np.zeros(0)
            return empty, empty, np.zeros(0, dtype=bool)
        with single_threaded():
            p = self.classifier.predict_proba(X)[:, list(self.classifier.classes_).index(1)]
            e_hull = self.regressor.predict(X)
        return p, e_hull, self.domain.predict(X) == 1

    def predict(self, compositions: Sequence[NasiconComposition | str]):
        """Same as :meth:`predict_arrays` for compositions or formulas."""
        return self.predict_arrays(CompositionArrays.from_compositions(compositions))


def fit_stability_model(
    data: OuyangDataset | None = None,
    classifier: str = "hgb",
    features: str | Sequence[str] = STABILITY_FEATURES,
    seed: int = 0,
) -> StabilityModel:
    """Fit the computed-stability classifier and regressor on the whole Ouyang set.

    Parameters
    ----------
    data : OuyangDataset, optional
        Default: the shipped set.
    classifier : str, default "hgb"
        A name of :data:`~nasicon_sim.ml.models.CLASSIFIERS`.
    features : str or sequence of str
        Feature set or names.
    seed : int

    Returns
    -------
    StabilityModel
    """
    data = load_ouyang2021() if data is None else data
    names = resolve_features(features)
    X = compute_features(CompositionArrays.from_compositions(data.compositions), names)
    with single_threaded():
        clf = clone(make_classifier(classifier, seed)).fit(X, data.y)
        reg = clone(make_regressor(seed)).fit(X, data.e_hull_meV)
    domain = ApplicabilityDomain().fit(X)
    meta = {"classifier": classifier, "regressor": "hgb-absolute-error", "seed": seed,
            "dataset": "ouyang2021", "dataset_sha256": data.sha256, "n_train": len(data)}
    logger.info("fitted stability model on %d Ouyang compositions", len(data))
    return StabilityModel(clf, reg, names, domain, meta)


@dataclass(frozen=True)
class StabilityEvaluation:
    """Classification and regression scores on the Ouyang set.

    Attributes
    ----------
    classification : list of CVResult
        The anchor and our models, on the anchor's folds.
    grouped : list of CVResult
        The same models on folds that keep each M-site chemical system together.
    regression : dict of str to Metric
        MAE (meV/atom) of the E_hull regressor and of a median baseline, on the anchor's folds.
    n, n_stable : int
    unparsed : tuple of (str, str)
    """

    classification: list[CVResult]
    grouped: list[CVResult]
    regression: dict[str, Metric]
    n: int
    n_stable: int
    unparsed: tuple[tuple[str, str], ...]
    features: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "dataset": {"name": "ouyang2021", "compositions": self.n, "stable": self.n_stable,
                        "unparsed": [{"name": n, "reason": r} for n, r in self.unparsed]},
            "protocol": "StratifiedKFold(n_splits=5, shuffle=True, random_state=0) on all rows "
                        "(train.csv then test.csv); classes E_hull <= 0 vs > 0",
            "models": [r.as_dict() for r in self.classification],
            "grouped_by_chemical_system": [r.as_dict() for r in self.grouped],
            "regression_mae_meV": {k: {"mean": m.mean, "std": m.std}
                                   for k, m in self.regression.items()},
        }


def evaluate_stability(
    models: Sequence[str] = STABILITY_MODELS,
    features: str | Sequence[str] = STABILITY_FEATURES,
    seed: int = 0,
    include_anchor: bool = True,
    grouped: bool = True,
    regression: bool = True,
    data: OuyangDataset | None = None,
) -> StabilityEvaluation:
    """Score the anchor and our formula-only models on the Ouyang set, on the same folds.

    Parameters
    ----------
    models : sequence of str
        Our classifiers to score.
    features : str or sequence of str
        Our feature set.
    seed : int
        Seed of our estimators (the folds are the anchor's, seed 0).
    include_anchor, grouped, regression : bool
        Which parts to run.
    data : OuyangDataset, optional
        Default: the shipped set (a subset can be passed for quick checks).

    Returns
    -------
    StabilityEvaluation
    """
    data = load_ouyang2021() if data is None else data
    names = resolve_features(features)
    y = data.y
    X = compute_features(CompositionArrays.from_compositions(data.compositions), names)
    scoring = ("accuracy", "macro_f1", "balanced_accuracy")
    splits = anchor_splits(y)
    estimators = {m: make_classifier(m, seed) for m in models}
    results: list[CVResult] = []
    if include_anchor:
        results += cross_validate_models(data.descriptor_2d, y, {ANCHOR_NAME: make_anchor()},
                                         splits, ANCHOR_FEATURES, scoring)
    results += cross_validate_models(X, y, estimators, splits, names, scoring)
    grouped_results: list[CVResult] = []
    if grouped:
        gsplits = grouped_splits(y, chemical_system_groups(data.compositions))
        if include_anchor:
            grouped_results += cross_validate_models(
                data.descriptor_2d, y, {ANCHOR_NAME: make_anchor()}, gsplits, ANCHOR_FEATURES,
                scoring)
        grouped_results += cross_validate_models(X, y, estimators, gsplits, names, scoring)
    reg: dict[str, Metric] = {}
    if regression:
        for key, est in (("hgb", make_regressor(seed)),
                         ("median_baseline", DummyRegressor(strategy="median"))):
            with single_threaded():
                res = cross_validate(est, X, data.e_hull_meV, cv=splits,
                                     scoring="neg_mean_absolute_error")
            reg[key] = Metric.of(-res["test_score"])
    return StabilityEvaluation(results, grouped_results, reg, len(data), int(y.sum()),
                               data.unparsed, names)


@dataclass(frozen=True)
class TransferResult:
    """How well computed stability predicts experimental phase purity.

    Attributes
    ----------
    n, n_single_phase : int
        Labelled literature compositions scored.
    roc_auc_p_stable : float
        AUC of the stability probability against single_phase = 1.
    roc_auc_p_stable_ci : (float, float)
        95 % bootstrap percentile interval.
    roc_auc_neg_e_hull, roc_auc_neg_e_hull_ci : float, (float, float)
        The same with minus the predicted E_hull as the score.
    n_in_domain : int
        Literature compositions inside the stability model's feature range.
    n_bootstrap : int
    """

    n: int
    n_single_phase: int
    roc_auc_p_stable: float
    roc_auc_p_stable_ci: tuple[float, float]
    roc_auc_neg_e_hull: float
    roc_auc_neg_e_hull_ci: tuple[float, float]
    n_in_domain: int
    n_bootstrap: int

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def _auc_with_ci(y: np.ndarray, score: np.ndarray, n_boot: int, seed: int):
    from scipy.stats import bootstrap
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y, score))

    def statistic(yy, ss):
        return roc_auc_score(yy, ss) if 0 < yy.sum() < len(yy) else np.nan

    res = bootstrap((y, score), statistic, paired=True, vectorized=False, n_resamples=n_boot,
                    method="percentile", confidence_level=0.95,
                    rng=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return auc, (lo, hi)


def transfer_to_experiments(
    compositions: Sequence[NasiconComposition],
    y: np.ndarray,
    model: StabilityModel,
    n_boot: int = 2000,
    seed: int = 0,
) -> TransferResult:
    """ROC AUC (with a bootstrap interval) of computed stability against phase purity.

    Parameters
    ----------
    compositions : sequence of NasiconComposition
        Labelled literature compositions.
    y : numpy.ndarray
        1 single phase, 0 secondary phases.
    model : StabilityModel
    n_boot : int
    seed : int

    Returns
    -------
    TransferResult
    """
    y = np.asarray(y, dtype=int)
    p, e_hull, inside = model.predict(compositions)
    auc_p, ci_p = _auc_with_ci(y, p, n_boot, seed)
    auc_e, ci_e = _auc_with_ci(y, -e_hull, n_boot, seed)
    if math.isnan(ci_p[0]):  # pragma: no cover
        logger.warning("bootstrap interval undefined (too few compositions of a class)")
    return TransferResult(len(y), int(y.sum()), auc_p, ci_p, auc_e, ci_e, int(inside.sum()),
                          n_boot)
