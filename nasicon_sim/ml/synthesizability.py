"""The synthesizability model: phase purity from M-site descriptors, fitted and evaluated.

Zuo et al. (Energy Environ. Sci. 19 (2026) 860, doi:10.1039/d5ee06594a) trained Gaussian
naive Bayes on four M-site descriptors of 58 compositions to predict single-phase formation,
and chose what to synthesise with it. Their table is not public; this module fits the same
kind of model on any labelled table (:mod:`nasicon_sim.ml.dataset`), evaluates it honestly
(:mod:`nasicon_sim.ml.evaluation`) and scores the study's own compositions with models that
never saw the study's rows.

A fitted model is a :class:`SynthesizabilityModel`: the scikit-learn pipeline, its feature
list, the applicability domain of its training data, an optional computed-stability model
(:mod:`nasicon_sim.ml.stability`; its probability can be a feature, ``dft_p_stable``, and its
E_hull prediction is reported), and metadata (dataset hash, label policy, versions).
"""

from __future__ import annotations

import logging
import math
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.errors import DataError, FeatureError
from nasicon_sim.ml.dataset import (
    Dataset,
    LabelPolicy,
    Table,
    build_dataset,
    composition_key,
)
from nasicon_sim.ml.domain import ApplicabilityDomain
from nasicon_sim.ml.evaluation import (
    CVResult,
    HoldoutResult,
    Importance,
    Metric,
    cross_validate_models,
    drop_one_importance,
    holdout_evaluation,
    permutation_importance_cv,
    stratified_splits,
    too_few_rows,
)
from nasicon_sim.ml.features import CompositionArrays, compute_features, resolve_features
from nasicon_sim.ml.models import STUDY_MODELS, make_classifier, single_threaded
from nasicon_sim.ml.stability import StabilityModel
from nasicon_sim.ml.uncertainty import (
    apply_platt,
    bootstrap_indices,
    conformal_thresholds,
    fit_platt,
    prediction_sets,
)

__all__ = [
    "DFT_FEATURES",
    "STUDY_COMPOSITIONS",
    "STUDY_DOI",
    "DftFeatureComparison",
    "LiteratureEvaluation",
    "StudyScore",
    "SELECTED",
    "SynthesizabilityModel",
    "compare_dft_features",
    "fit_guarded",
    "oof_probabilities",
    "split_features",
    "evaluate_literature",
    "fit_synthesizability_model",
]

logger = logging.getLogger(__name__)

#: Extra features from the computed-stability model: its probability that E_hull(1000 K) <= 0,
#: and its predicted E_hull(1000 K) in meV/atom.
DFT_FEATURES: tuple[str, ...] = ("dft_p_stable", "dft_e_hull_meV")
#: DOI of the study whose compositions are scored out of sample.
STUDY_DOI = "10.1039/d5ee06594a"
#: The study's compositions and their reported phase after sintering at 1100 C
#: (Zuo et al. 2026, main text; restated in shared/paper/FACTS.md, section 1).
#: None: not stated (Sn-ME is the one of twelve designs the authors' model got wrong).
STUDY_COMPOSITIONS: dict[str, tuple[str, str | None]] = {
    "NZSP": ("Na3Zr2Si2PO12", "secondary_phases"),
    "LE": ("Na3.5Zr1.5Lu0.5Si2PO12", "secondary_phases"),
    "ME1": ("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "single_phase"),
    "ME2": ("Na3.5Zr0.5Ti0.5Hf0.5Lu0.5Si2PO12", "single_phase"),
    "HE1": ("Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12", "single_phase"),
    "HE2": ("Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Sc0.1Si2PO12", "single_phase"),
    "Sn-ME": ("Na3.5Zr1.0Sn0.5Lu0.5Si2PO12", None),
}


def split_features(features: str | Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Composition features and DFT features of a feature spec (set name or names).

    The column order of a model is always the composition features, then the DFT features.
    """
    names = [s.strip() for s in features.split(",")] if isinstance(features, str) else list(features)
    dft = tuple(n for n in DFT_FEATURES if n in names)
    base = [n for n in names if n not in DFT_FEATURES]
    if not base:
        raise FeatureError(f"{', '.join(dft)} need at least one composition feature with them")
    return resolve_features(base[0] if len(base) == 1 else base), dft


def library_versions() -> dict[str, str]:
    """Versions that a fitted model depends on."""
    import joblib
    import scipy
    import sklearn

    from nasicon_sim import __version__

    return {"nasicon_sim": __version__, "scikit-learn": sklearn.__version__,
            "numpy": np.__version__, "scipy": scipy.__version__, "joblib": joblib.__version__,
            "python": platform.python_version()}


@dataclass(frozen=True)
class SynthesizabilityModel:
    """A fitted phase-purity classifier with everything needed to use it honestly.

    Attributes
    ----------
    name : str
        Classifier short name (:data:`~nasicon_sim.ml.models.CLASSIFIERS`).
    estimator : fitted scikit-learn pipeline
        Class 1 = single phase.
    features : tuple of str
        Column names, in order; may end with :data:`DFT_FEATURES`.
    domain : ApplicabilityDomain
        Fitted on the training feature matrix.
    stability : StabilityModel or None
        Supplies the DFT features (when used) and the reported E_hull prediction.
    metadata : dict
        ``dataset`` (name), ``dataset_sha256``, ``label_policy``, ``n_train``,
        ``n_single_phase``, ``seed``, ``versions``, ``params``, ``calibrated``, ``alpha``,
        ``n_bootstrap`` and, for the nested-CV default, ``selection`` (candidate key).
    params : dict
        Hyper-parameters given to :func:`~nasicon_sim.ml.models.make_classifier`.
    platt : (float, float) or None
        Calibration map (:func:`~nasicon_sim.ml.uncertainty.fit_platt`) applied to the
        estimator's probability; None = uncalibrated.
    conformal : (float, float) or None
        Class-conditional conformal thresholds ``(q_0, q_1)`` at level ``alpha``.
    alpha : float
        Miscoverage level of the conformal sets.
    bootstrap : tuple of fitted estimators
        Refits on stratified bootstrap resamples (probability spread).
    """

    name: str
    estimator: object
    features: tuple[str, ...]
    domain: ApplicabilityDomain
    stability: StabilityModel | None = None
    metadata: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    platt: tuple[float, float] | None = None
    conformal: tuple[float, float] | None = None
    alpha: float = 0.1
    bootstrap: tuple = ()

    @property
    def dft_features(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f in DFT_FEATURES)

    @property
    def label(self) -> str:
        """Short description: the selection key for the nested-CV default, else the name."""
        return str(self.metadata.get("selection") or self.name)

    def feature_matrix(self, arrays: CompositionArrays) -> np.ndarray:
        """Features of compositions, shape (n, len(features))."""
        return _feature_matrix(arrays, self.features, self.stability)

    def _proba(self, estimator, X: np.ndarray) -> np.ndarray:
        classes = list(estimator.classes_)
        p = estimator.predict_proba(X)[:, classes.index(1)]
        return apply_platt(p, self.platt) if self.platt is not None else p

    def predict_proba_arrays(self, arrays: CompositionArrays) -> tuple[np.ndarray, np.ndarray]:
        """Probability of single phase and the per-feature out-of-range mask.

        Returns
        -------
        p_single_phase : numpy.ndarray, shape (n,)
        out_of_range : numpy.ndarray of bool, shape (n, n_features)
        """
        return self.predict_proba_matrix(self.feature_matrix(arrays))

    def predict_proba_matrix(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_proba_arrays` on a feature matrix from :meth:`feature_matrix`."""
        if len(X) == 0:
            return np.zeros(0), np.zeros((0, len(self.features)), dtype=bool)
        with single_threaded():
            p = self._proba(self.estimator, X)
        return p, self.domain.out_of_range(X)

    def uncertainty_arrays(self, arrays: CompositionArrays) -> dict[str, np.ndarray]:
        """Bootstrap spread and conformal set of each composition.

        Returns
        -------
        dict
            ``p_std`` (float, NaN without bootstrap refits), ``set_secondary`` and
            ``set_single`` (bool; both False when the model has no conformal thresholds).
        """
        X = self.feature_matrix(arrays)
        return self.uncertainty_matrix(X, self.predict_proba_matrix(X)[0])

    def uncertainty_matrix(self, X: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`uncertainty_arrays` on a feature matrix and its probabilities ``p``."""
        n = len(X)
        if self.bootstrap and n:
            with single_threaded():
                boot = np.array([self._proba(est, X) for est in self.bootstrap])
            p_std = boot.std(axis=0, ddof=1) if len(boot) > 1 else np.zeros(n)
        else:
            p_std = np.full(n, np.nan)
        if self.conformal is not None and n:
            sets = prediction_sets(p, self.conformal)
        else:
            sets = np.zeros((n, 2), dtype=bool)
        return {"p_std": p_std, "set_secondary": sets[:, 0], "set_single": sets[:, 1]}


def _feature_matrix(
    arrays: CompositionArrays, features: Sequence[str], stability: StabilityModel | None
) -> np.ndarray:
    base = [f for f in features if f not in DFT_FEATURES]
    dft = [f for f in features if f in DFT_FEATURES]
    X = compute_features(arrays, base)
    if dft:
        if stability is None:
            raise FeatureError(f"feature(s) {', '.join(dft)} need a computed-stability model")
        p_stable, e_hull, _ = stability.predict_arrays(arrays)
        values = {"dft_p_stable": p_stable, "dft_e_hull_meV": e_hull}
        X = np.column_stack([X, *[values[f] for f in dft]])
    return X


def fit_guarded(estimator, X: np.ndarray, y: np.ndarray, name: str):
    """``clone(estimator).fit(X, y)`` single-threaded; a scikit-learn ValueError (too few rows
    for the model, e.g. KNN's k or the SVM's internal 5-fold calibration) becomes one line."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    try:
        with warnings.catch_warnings(record=True) as caught, single_threaded():
            warnings.simplefilter("always")  # record all; passed on below unless handled
            fitted = clone(estimator).fit(X, y)
    except ValueError as exc:
        raise too_few_rows(name, y, exc) from None
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            logger.debug("%s did not converge on %d rows (kept as it is)", name, len(y))
        elif "least populated class" in str(w.message):  # the SVM's internal 5-fold Platt
            logger.debug("%s on %d rows: %s", name, len(y), w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return fitted


def oof_probabilities(estimator, X: np.ndarray, y: np.ndarray, seed: int, name: str,
                      max_folds: int = 5) -> np.ndarray:
    """Out-of-fold probabilities of class 1 (stratified K-fold, K = min(5, smaller class))."""
    from sklearn.model_selection import StratifiedKFold

    k = min(max_folds, int(np.bincount(np.asarray(y, dtype=int), minlength=2).min()))
    if k < 2:
        raise DataError("calibration and conformal sets need at least 2 compositions of each "
                        "class")
    out = np.empty(len(y))
    for train, test in StratifiedKFold(k, shuffle=True, random_state=seed).split(X, y):
        fitted = fit_guarded(estimator, X[train], y[train], name)
        try:
            with single_threaded():
                out[test] = fitted.predict_proba(X[test])[:, list(fitted.classes_).index(1)]
        except ValueError as exc:  # e.g. KNN's k above the rows of a fold
            raise too_few_rows(name, y, exc) from None
    return out


#: Name that stands for the nested-CV selected default (see :mod:`nasicon_sim.ml.selection`).
SELECTED = "selected"


def fit_synthesizability_model(
    dataset: Dataset,
    model: str = "gnb",
    features: str | Sequence[str] = "study",
    stability: StabilityModel | None = None,
    seed: int = 0,
    *,
    params: dict | None = None,
    calibrate: bool = False,
    uncertainty: bool = True,
    alpha: float = 0.1,
    n_bootstrap: int = 20,
) -> SynthesizabilityModel:
    """Fit a phase-purity classifier on a labelled dataset.

    Parameters
    ----------
    dataset : Dataset
        From :func:`~nasicon_sim.ml.dataset.load_dataset` (any label policy).
    model : str, default "gnb"
        Classifier short name, or ``"selected"``: the classifier, hyper-parameters and
        feature set of the shipped nested-CV selection record
        (:func:`~nasicon_sim.ml.selection.shipped_selection`), calibrated; ``features``,
        ``params`` and ``calibrate`` are then taken from the record.
    features : str or sequence of str, default "study"
        Feature-set name or names; add ``"dft_p_stable"`` or ``"dft_e_hull_meV"`` to use
        the stability model's output as a feature.
    stability : StabilityModel, optional
        Needed for the DFT features; kept to report E_hull predictions.
    seed : int
    params : dict, optional
        Classifier hyper-parameters (:func:`~nasicon_sim.ml.models.make_classifier`).
    calibrate : bool, default False
        Platt-calibrate the probability on out-of-fold scores.
    uncertainty : bool, default True
        Compute conformal thresholds (level ``alpha``) and ``n_bootstrap`` bootstrap refits.
    alpha : float, default 0.1
    n_bootstrap : int, default 20

    Returns
    -------
    SynthesizabilityModel

    Raises
    ------
    DataError
        One class only, or too few rows for the classifier.
    """
    selection = None
    if model == SELECTED:
        from nasicon_sim.ml.selection import shipped_selection

        record = shipped_selection()
        cand = record.selected
        model, features, params, calibrate = cand.classifier, cand.features, cand.params, True
        selection = cand.key
        if record.dataset_sha256 != dataset.sha256:
            logger.info("the selection record was made on table %s; fitting its choice on %s",
                        record.dataset_sha256[:12], dataset.sha256[:12])
    base, dft = split_features(features)
    names = (*base, *dft)
    params = dict(params or {})
    y = dataset.y
    if len(np.unique(y)) < 2:
        raise DataError("the dataset has a single class; a classifier needs both labels")
    X = _feature_matrix(CompositionArrays.from_compositions(dataset.compositions), names,
                        stability)
    template = make_classifier(model, seed, params)
    estimator = fit_guarded(template, X, y, model)
    platt = conformal = None
    boot: tuple = ()
    if calibrate or uncertainty:
        oof = oof_probabilities(template, X, y, seed, model)
        if calibrate:
            platt = fit_platt(oof, y)
            oof = apply_platt(oof, platt)
        if uncertainty:
            conformal = conformal_thresholds(oof, y, alpha)
            boot = tuple(fit_guarded(template, X[idx], y[idx], model)
                         for idx in bootstrap_indices(y, n_bootstrap, seed))
    domain = ApplicabilityDomain().fit(X)
    meta = {"model": model, "dataset": dataset.table_name, "dataset_sha256": dataset.sha256,
            "label_policy": dataset.policy.name, "n_train": len(y),
            "n_single_phase": int(y.sum()), "seed": seed,
            "excluded_sources": list(dataset.excluded_sources),
            "params": params, "calibrated": bool(calibrate),
            "alpha": alpha if uncertainty else None,
            "n_bootstrap": n_bootstrap if uncertainty else 0,
            "versions": library_versions()}
    if selection:
        meta["selection"] = selection
    if stability is not None:
        meta["stability"] = dict(stability.metadata)
    return SynthesizabilityModel(model, estimator, names, domain, stability, meta, params,
                                 platt, conformal, alpha, boot)


@dataclass(frozen=True)
class StudyScore:
    """A study composition scored by models fitted without the study's rows."""

    label: str
    formula: str
    reported: str | None
    p_single_phase: dict[str, float]
    in_domain: bool
    out_of_domain_features: tuple[str, ...]
    in_training: bool

    def as_dict(self) -> dict:
        return {"label": self.label, "formula": self.formula, "reported": self.reported,
                "p_single_phase": dict(self.p_single_phase), "in_domain": self.in_domain,
                "out_of_domain_features": list(self.out_of_domain_features),
                "in_training": self.in_training}


@dataclass(frozen=True)
class LiteratureEvaluation:
    """Everything ``nasicon-sim ml evaluate`` reports for a labelled table."""

    dataset: Dataset
    features: tuple[str, ...]
    n_splits: int
    n_repeats: int
    seed: int
    cv: list[CVResult]
    holdout: list[HoldoutResult]
    importance_model: str
    importance: list[Importance]
    study: list[StudyScore]

    def as_dict(self) -> dict:
        d = self.dataset
        return {
            "dataset": {
                "name": d.table_name, "sha256": d.sha256, "label_policy": d.policy.name,
                "counts": d.counts(),
                "conflicts": [c.__dict__ | {"lines": list(c.lines)} for c in d.conflicts],
                "left_out": [i.__dict__ for i in d.issues if i.kind != "unlabelled"],
            },
            "features": list(self.features),
            "protocol": (f"RepeatedStratifiedKFold(n_splits={self.n_splits}, "
                         f"n_repeats={self.n_repeats}, random_state={self.seed}); "
                         "mean and std over folds"),
            "models": [r.as_dict() for r in self.cv],
            "holdout": [r.as_dict() for r in self.holdout],
            "importance": {"model": self.importance_model,
                           "features": [i.as_dict() for i in self.importance]},
            "study_compositions": [s.as_dict() for s in self.study],
        }


def _study_scores(
    table: Table,
    policy: LabelPolicy,
    strict: bool,
    features: Sequence[str],
    models: Sequence[str],
    stability: StabilityModel | None,
    seed: int,
) -> list[StudyScore]:
    train = build_dataset(table, policy, strict=strict, exclude_sources=[STUDY_DOI])
    comps = [parse_nasicon(f) for f, _ in STUDY_COMPOSITIONS.values()]
    arrays = CompositionArrays.from_compositions(comps)
    train_keys = {composition_key(c) for c in train.compositions}
    probs: dict[str, np.ndarray] = {}
    mask = None
    for name in models:
        fitted = fit_synthesizability_model(train, name, features, stability, seed,
                                            uncertainty=False)
        probs[name], mask = fitted.predict_proba_arrays(arrays)
    out = []
    for i, (label, (formula, reported)) in enumerate(STUDY_COMPOSITIONS.items()):
        bad = tuple(f for f, m in zip(features, mask[i]) if m)
        out.append(StudyScore(label, formula, reported,
                              {n: float(p[i]) for n, p in probs.items()}, not bad, bad,
                              composition_key(comps[i]) in train_keys))
    return out


def evaluate_literature(
    table: Table,
    policy: LabelPolicy | str | None = None,
    *,
    strict: bool = True,
    features: str | Sequence[str] = "study",
    models: Sequence[str] = STUDY_MODELS,
    n_splits: int = 10,
    n_repeats: int = 10,
    seed: int = 0,
    test_size: float = 0.22,
    importance_model: str = "gnb",
    permutation_repeats: int = 10,
    stability: StabilityModel | None = None,
    score_study: bool = True,
) -> LiteratureEvaluation:
    """Cross-validate, hold out, rank features and score the study's compositions.

    Parameters
    ----------
    table : Table
        A phase-outcome table (shipped or user).
    policy : LabelPolicy or str, optional
        Label policy (default ``majority``).
    strict : bool
        Unparseable formulas raise (True) or are left out and reported.
    features : str or sequence of str
        Feature set or names (the DFT features need ``stability``).
    models : sequence of str
        Classifier short names.
    n_splits, n_repeats, seed : int
        ``RepeatedStratifiedKFold`` settings; the same folds for every model.
    test_size : float
        Held-out fraction of the stratified split.
    importance_model : str
        Model whose feature importances are computed (the study's GNB by default).
    permutation_repeats : int
        Shuffles per feature and fold for the permutation importance.
    stability : StabilityModel, optional
    score_study : bool
        Score :data:`STUDY_COMPOSITIONS` with models fitted without rows of :data:`STUDY_DOI`.

    Returns
    -------
    LiteratureEvaluation
    """
    dataset = build_dataset(table, policy, strict=strict)
    base, dft = split_features(features)
    names = (*base, *dft)
    X = _feature_matrix(CompositionArrays.from_compositions(dataset.compositions), names,
                        stability)
    y = dataset.y
    splits = stratified_splits(y, n_splits, n_repeats, seed)
    estimators = {m: make_classifier(m, seed) for m in models}
    cv = cross_validate_models(X, y, estimators, splits, names)
    holdout = holdout_evaluation(X, y, estimators, test_size, seed)
    importance: list[Importance] = []
    if importance_model and len(names) > 1:
        est = make_classifier(importance_model, seed)
        drop = drop_one_importance(X, y, names, est, splits)
        perm = permutation_importance_cv(X, y, names, est, splits, permutation_repeats, seed)
        importance = [Importance(n, drop[n], perm[n]) for n in names]
    study = (_study_scores(table, dataset.policy, strict, names, models, stability, seed)
             if score_study else [])
    return LiteratureEvaluation(dataset, names, n_splits, n_repeats, seed, cv, holdout,
                                importance_model, importance, study)


@dataclass(frozen=True)
class DftFeatureComparison:
    """Literature CV with and without a computed-stability feature, on the same folds.

    ``helps`` is the rule stated before looking at the numbers: the mean fold-wise gain in
    balanced accuracy minus two standard errors (std / sqrt(folds)) is above zero.
    """

    model: str
    feature: str
    without: CVResult
    with_dft: CVResult
    gain: Metric
    helps: bool

    def as_dict(self) -> dict:
        se = self.gain.std / math.sqrt(max(self.gain.n, 1))
        return {"model": self.model, "feature": self.feature,
                "balanced_accuracy_without": self.without.metrics["balanced_accuracy"].mean,
                "balanced_accuracy_with": self.with_dft.metrics["balanced_accuracy"].mean,
                "balanced_accuracy_gain": self.gain.mean,
                "balanced_accuracy_gain_std": self.gain.std,
                "balanced_accuracy_gain_se": se,
                "rule": "helps if mean gain - 2 SE > 0 (SE = std / sqrt(folds))",
                "helps": self.helps}


def compare_dft_features(
    dataset: Dataset,
    stability: StabilityModel,
    model: str = "gnb",
    features: str | Sequence[str] = "study",
    n_splits: int = 10,
    n_repeats: int = 10,
    seed: int = 0,
) -> list[DftFeatureComparison]:
    """Does adding a computed-stability feature raise the CV balanced accuracy?

    Each of :data:`DFT_FEATURES` is added alone to ``features`` and compared with the
    model without it, on the same repeated stratified folds.
    """
    base, _ = split_features(features)
    arrays = CompositionArrays.from_compositions(dataset.compositions)
    y = dataset.y
    splits = stratified_splits(y, n_splits, n_repeats, seed)
    est = {model: make_classifier(model, seed)}
    without = cross_validate_models(_feature_matrix(arrays, base, None), y, est, splits, base)[0]
    out = []
    for feature in DFT_FEATURES:
        names = (*base, feature)
        with_dft = cross_validate_models(_feature_matrix(arrays, names, stability), y, est,
                                         splits, names)[0]
        diff = (np.array(with_dft.fold_scores["balanced_accuracy"])
                - np.array(without.fold_scores["balanced_accuracy"]))
        gain = Metric.of(diff)
        helps = bool(gain.mean - 2 * gain.std / math.sqrt(max(gain.n, 1)) > 0)
        out.append(DftFeatureComparison(model, feature, without, with_dft, gain, helps))
    return out
