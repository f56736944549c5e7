"""Honest model selection: nested cross-validation over classifiers x feature sets x a grid.

Choosing the best of many candidates on the folds that also score it inflates the score
(Cawley & Talbot, JMLR 11 (2010) 2079; Varma & Simon, BMC Bioinformatics 7 (2006) 91).
Nested CV separates the two:

* **outer loop**: the repeated stratified folds of ``ml evaluate``
  (:func:`~nasicon_sim.ml.evaluation.stratified_splits`); each outer test fold is touched
  only once, to score the candidate chosen without it;
* **inner loop**: on the outer *training* rows only, every candidate is scored by stratified
  ``inner_folds``-fold CV (balanced accuracy, mean over inner folds); the best (ties: the
  earlier candidate in the list, i.e. the simpler one) is refitted on the outer training rows
  and scored on the outer test fold.

The outer scores estimate the skill of the *selection procedure* ("pick the best candidate
by inner CV, then fit it"); the model shipped as the default is what the same procedure picks
on the whole table. The study's GNB on its four descriptors is scored on the same outer folds
for comparison.

The selection record (:class:`SelectionRecord`, JSON) keeps the candidates, the inner scores
of every outer fold, the outer scores, the final choice with its inner scores on the whole
table, and the SHA-256 of the table. The shipped record (``default_selection.json`` next to
this module) is written by ``nasicon-sim ml select --update-default``; a test checks that its
hash is the shipped table's, so a new table cannot ship with a stale default.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import balanced_accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from nasicon_sim.errors import DataError, ModelFileError
from nasicon_sim.io.atomic import atomic_write_bytes
from nasicon_sim.ml.evaluation import Metric, stratified_splits
from nasicon_sim.ml.models import make_classifier
from nasicon_sim.ml.uncertainty import apply_platt, brier, fit_platt

__all__ = [
    "DEFAULT_FEATURE_SETS",
    "DEFAULT_GRID",
    "SHIPPED_RECORD",
    "STUDY_BASELINE",
    "Candidate",
    "NestedResult",
    "SelectionRecord",
    "default_candidates",
    "nested_cross_validate",
    "report_summary",
    "run_selection",
    "shipped_selection",
]

logger = logging.getLogger(__name__)

#: The shipped selection record (made on the shipped table by ``ml select --update-default``).
SHIPPED_RECORD = Path(__file__).with_name("default_selection.json")
FORMAT = "nasicon-sim-selection"
FORMAT_VERSION = 1

#: Classifiers and hyper-parameters tried (a small grid: a few tens of labelled compositions
#: cannot rank a large one). Order matters for ties: simpler first.
DEFAULT_GRID: tuple[tuple[str, dict], ...] = (
    ("gnb", {}),
    ("logreg", {"C": 0.1}),
    ("logreg", {"C": 1.0}),
    ("knn", {"n_neighbors": 5}),
    ("tree", {"max_depth": 3}),
    ("svm", {"C": 1.0}),
    ("svm", {"C": 10.0}),
    ("mlp", {"alpha": 1e-4}),
    ("mlp", {"alpha": 1.0}),
)
#: Feature sets tried: the study's four, + radius mismatch and Na, all formula features, and
#: the study's four + the computed-stability model's E_hull (decided here, on the table).
DEFAULT_FEATURE_SETS: tuple[str, ...] = ("study", "study+", "formula", "study,dft_e_hull_meV")


@dataclass(frozen=True)
class Candidate:
    """One classifier with hyper-parameters on one feature set."""

    classifier: str
    features: str
    params: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        p = ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in sorted(self.params.items()))
        return f"{self.classifier}[{p}]@{self.features}"

    def estimator(self, seed: int = 0):
        return make_classifier(self.classifier, seed, self.params)

    def as_dict(self) -> dict:
        return {"key": self.key, "classifier": self.classifier, "features": self.features,
                "params": dict(self.params)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Candidate:
        return cls(str(d["classifier"]), str(d["features"]), dict(d.get("params") or {}))


#: The study's choice (Zuo et al. 2026): GNB on the four M-site descriptors.
STUDY_BASELINE = Candidate("gnb", "study")


def default_candidates(
    feature_sets: Sequence[str] = DEFAULT_FEATURE_SETS,
    grid: Sequence[tuple[str, dict]] = DEFAULT_GRID,
) -> list[Candidate]:
    """Every classifier of ``grid`` on every feature set, feature set by feature set."""
    return [Candidate(name, fs, dict(params)) for fs in feature_sets for name, params in grid]


def _proba(fitted, X: np.ndarray) -> np.ndarray:
    return fitted.predict_proba(X)[:, list(fitted.classes_).index(1)]


def _fit(estimator, X, y, key):
    from nasicon_sim.ml.synthesizability import fit_guarded

    return fit_guarded(estimator, X, y, key)


def inner_scores(
    Xs: Mapping[str, np.ndarray],
    y: np.ndarray,
    candidates: Sequence[tuple[str, str, Any]],
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Mean balanced accuracy of each candidate over ``splits`` (indices into ``y``).

    ``candidates`` are ``(key, feature_set, unfitted estimator)``; ``Xs`` maps each feature
    set to its matrix, row-aligned with ``y``.
    """
    out = np.empty(len(candidates))
    for c, (key, fs, est) in enumerate(candidates):
        X = Xs[fs]
        vals = []
        for train, test in splits:
            fitted = _fit(est, X[train], y[train], key)
            vals.append(balanced_accuracy_score(y[test], fitted.predict(X[test])))
        out[c] = float(np.mean(vals))
    return out


def _inner_splits(y: np.ndarray, inner_folds: int, seed: int) -> list:
    k = min(inner_folds, int(np.bincount(y.astype(int), minlength=2).min()))
    if k < 2:
        raise DataError(
            "nested CV needs at least 2 compositions of each class in every outer training "
            "fold; use fewer outer folds (--folds) or add labelled rows"
        )
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


@dataclass(frozen=True)
class NestedResult:
    """Outer-fold record of a nested CV.

    Attributes
    ----------
    keys : tuple of str
        Candidate keys, in order.
    folds : list of dict
        Per outer fold: ``fold``, ``chosen``, ``inner_scores`` (one per candidate),
        ``test`` (``balanced_accuracy``, ``roc_auc``, ``brier``, ``brier_calibrated``),
        ``baseline_test`` (the same metrics of the fixed baseline, if one was given),
        ``test_index``, ``p_raw``, ``p_calibrated``.
    """

    keys: tuple[str, ...]
    folds: list[dict]

    def metric(self, name: str, which: str = "test") -> Metric:
        return Metric.of([f[which][name] for f in self.folds if which in f])

    def chosen_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.folds:
            out[f["chosen"]] = out.get(f["chosen"], 0) + 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _test_scores(fitted, X_tr, y_tr, X_te, y_te, template, seed, key) -> tuple[dict, list, list]:
    from nasicon_sim.ml.synthesizability import oof_probabilities

    p = _proba(fitted, X_te)
    out = {"balanced_accuracy": float(balanced_accuracy_score(y_te, fitted.predict(X_te))),
           "roc_auc": (float(roc_auc_score(y_te, p)) if len(np.unique(y_te)) == 2
                       else float("nan")),
           "brier": brier(y_te, p)}
    p_cal = p
    try:
        ab = fit_platt(oof_probabilities(template, X_tr, y_tr, seed, key), y_tr)
        p_cal = apply_platt(p, ab)
        out["brier_calibrated"] = brier(y_te, p_cal)
    except DataError:
        out["brier_calibrated"] = float("nan")
    return out, [float(v) for v in p], [float(v) for v in p_cal]


def nested_cross_validate(
    Xs: Mapping[str, np.ndarray],
    y: np.ndarray,
    candidates: Sequence[tuple[str, str, Any]],
    outer_splits: Sequence[tuple[np.ndarray, np.ndarray]],
    inner_folds: int = 5,
    seed: int = 0,
    baseline: tuple[str, str, Any] | None = None,
    progress=None,
) -> NestedResult:
    """Nested CV: choose by inner CV on each outer training part, score on its test fold.

    Parameters
    ----------
    Xs : mapping of feature set to numpy.ndarray, each shape (n, n_features)
    y : numpy.ndarray, shape (n,), 0/1
    candidates : sequence of (key, feature_set, unfitted estimator)
    outer_splits : sequence of (train_index, test_index)
    inner_folds : int, default 5
        Stratified inner folds (fewer when the smaller class of a training part is smaller).
    seed : int
        Inner folds of outer fold ``k`` use ``random_state = seed + k``.
    baseline : (key, feature_set, estimator), optional
        A fixed model scored on the same outer folds (no selection).
    progress : callable, optional
        Called with ``(k, n_outer)`` after each outer fold.

    Returns
    -------
    NestedResult
    """
    y = np.asarray(y).astype(int)
    if not candidates:
        raise DataError("no candidate models to select from")
    folds = []
    for k, (train, test) in enumerate(outer_splits):
        y_tr = y[train]
        inner = _inner_splits(y_tr, inner_folds, seed + k)
        # the inner selection sees only the outer training rows
        scores = inner_scores({fs: X[train] for fs, X in Xs.items()}, y_tr, candidates, inner)
        best = int(np.argmax(scores))
        key, fs, est = candidates[best]
        X = Xs[fs]
        fitted = _fit(est, X[train], y_tr, key)
        test_sc, p_raw, p_cal = _test_scores(fitted, X[train], y_tr, X[test], y[test], est,
                                             seed + k, key)
        rec = {"fold": k, "chosen": key, "inner_scores": [float(v) for v in scores],
               "test": test_sc, "test_index": [int(i) for i in test], "p_raw": p_raw,
               "p_calibrated": p_cal}
        if baseline is not None:
            bkey, bfs, best_est = baseline
            bfit = _fit(best_est, Xs[bfs][train], y_tr, bkey)
            rec["baseline_test"] = _test_scores(bfit, Xs[bfs][train], y_tr, Xs[bfs][test],
                                                y[test], best_est, seed + k, bkey)[0]
        folds.append(rec)
        if progress is not None:
            progress(k + 1, len(outer_splits))
    return NestedResult(tuple(c[0] for c in candidates), folds)


@dataclass(frozen=True)
class SelectionRecord:
    """What ``ml select`` decided, and on which data (written as JSON).

    Attributes
    ----------
    data : dict
        The whole record (see :func:`run_selection` for the keys).
    """

    data: dict

    @property
    def selected(self) -> Candidate:
        return Candidate.from_dict(self.data["selected"])

    @property
    def dataset_sha256(self) -> str:
        return str(self.data["dataset"]["sha256"])

    def summary(self, name: str) -> Metric:
        d = self.data["outer_summary"][name]
        return Metric(float(d["mean"]), float(d["std"]), int(d["n"]))

    def write(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, (json.dumps(self.data, indent=1, sort_keys=True) + "\n")
                           .encode())
        return path

    @classmethod
    def read(cls, path: str | os.PathLike) -> SelectionRecord:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path}: unreadable selection record ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelFileError(f"{path} is not a selection record of nasicon-sim")
        try:
            Candidate.from_dict(data["selected"])
            str(data["dataset"]["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: selection record lacks {exc}") from None
        return cls(data)


@lru_cache(maxsize=1)
def shipped_selection() -> SelectionRecord:
    """The selection record shipped with the package (cached)."""
    return SelectionRecord.read(SHIPPED_RECORD)


def _summary(values: Sequence[float]) -> dict:
    m = Metric.of(values)
    se = m.std / math.sqrt(m.n) if m.n else float("nan")
    return {"mean": m.mean, "std": m.std, "n": m.n, "se": se}


def run_selection(
    dataset,
    stability=None,
    *,
    candidates: Sequence[Candidate] | None = None,
    n_splits: int = 10,
    n_repeats: int = 3,
    inner_folds: int = 5,
    seed: int = 0,
    progress=None,
) -> SelectionRecord:
    """Nested CV of ``candidates`` on a dataset, plus the final choice on all of it.

    Parameters
    ----------
    dataset : Dataset
        Labelled compositions (:func:`~nasicon_sim.ml.dataset.build_dataset`).
    stability : StabilityModel, optional
        Needed by candidates with DFT features (they are dropped, with a log line, without).
    candidates : sequence of Candidate, optional
        Default :func:`default_candidates`.
    n_splits, n_repeats : int
        Outer ``RepeatedStratifiedKFold``.
    inner_folds : int
    seed : int

    Returns
    -------
    SelectionRecord
        Keys: ``format``, ``format_version``, ``dataset`` (name, sha256, label_policy, n,
        n_single_phase), ``protocol``, ``candidates``, ``outer_folds``, ``outer_summary``
        (``selected_procedure``, ``study_gnb``: mean/std/n/se of balanced accuracy, ROC AUC and
        Brier scores), ``majority_balanced_accuracy`` (0.5), ``beats_majority`` (rule: mean -
        2 SE > 0.5), ``selected`` (+ ``inner_scores`` on the whole table), ``seconds``,
        ``versions``.
    """
    from nasicon_sim.ml.features import CompositionArrays
    from nasicon_sim.ml.synthesizability import (
        DFT_FEATURES,
        _feature_matrix,
        library_versions,
        split_features,
    )

    start = time.perf_counter()
    cands = list(candidates) if candidates is not None else default_candidates()
    if stability is None:
        dropped = [c for c in cands if any(d in c.features for d in DFT_FEATURES)]
        if dropped:
            logger.info("no stability model: leaving out %d DFT-feature candidates", len(dropped))
        cands = [c for c in cands if c not in dropped]
    y = dataset.y.astype(int)
    arrays = CompositionArrays.from_compositions(dataset.compositions)
    Xs = {}
    for c in [*cands, STUDY_BASELINE]:
        if c.features not in Xs:
            base, dft = split_features(c.features)
            Xs[c.features] = _feature_matrix(arrays, (*base, *dft), stability)
    splits = stratified_splits(y, n_splits, n_repeats, seed)
    triples = [(c.key, c.features, c.estimator(seed)) for c in cands]
    base_t = (STUDY_BASELINE.key, STUDY_BASELINE.features, STUDY_BASELINE.estimator(seed))
    nested = nested_cross_validate(Xs, y, triples, splits, inner_folds, seed, base_t, progress)
    final_scores = inner_scores(Xs, y, triples, _inner_splits(y, inner_folds, seed))
    best = int(np.argmax(final_scores))
    summary = {}
    for name, which in (("selected_procedure", "test"), ("study_gnb", "baseline_test")):
        summary[name] = {m: _summary([f[which][m] for f in nested.folds])
                         for m in ("balanced_accuracy", "roc_auc", "brier", "brier_calibrated")}
    ba = summary["selected_procedure"]["balanced_accuracy"]
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dataset": {"name": dataset.table_name, "sha256": dataset.sha256,
                    "label_policy": dataset.policy.name, "n": int(len(y)),
                    "n_single_phase": int(y.sum())},
        "protocol": {
            "outer": f"RepeatedStratifiedKFold(n_splits={n_splits}, n_repeats={n_repeats}, "
                     f"random_state={seed})",
            "inner": f"StratifiedKFold({inner_folds}, shuffle=True, random_state={seed}+k) on "
                     "the outer training rows of fold k",
            "criterion": "balanced accuracy, mean over inner folds; ties: earlier candidate",
            "calibration": "Platt map fitted on out-of-fold probabilities of the training rows",
            "seed": seed, "n_splits": n_splits, "n_repeats": n_repeats,
            "inner_folds": inner_folds,
        },
        "candidates": [c.as_dict() for c in cands],
        "outer_folds": nested.folds,
        "chosen_counts": nested.chosen_counts(),
        "outer_summary": summary,
        "majority_balanced_accuracy": 0.5,
        "beats_majority": bool(ba["mean"] - 2 * ba["se"] > 0.5),
        "beats_majority_rule": "mean - 2 SE > 0.5, SE = std / sqrt(outer folds) (folds of "
                               "repeated CV are not independent: the SE is optimistic)",
        "selected": {**cands[best].as_dict(),
                     "inner_scores": [float(v) for v in final_scores]},
        "seconds": round(time.perf_counter() - start, 1),
        "versions": library_versions(),
    }
    return SelectionRecord(data)


def report_summary(record: SelectionRecord | None = None) -> dict:
    """What a study report shows about the default model: both models' nested-CV scores.

    Returns
    -------
    dict
        ``selected`` (key), ``protocol`` (one line), ``dataset_sha256``, ``beats_majority``,
        and ``rows``: ``{"selected by inner CV": {...}, "study GNB": {...}}`` with
        ``balanced_accuracy``, ``roc_auc``, ``brier_calibrated`` as (mean, std).
    """
    rec = shipped_selection() if record is None else record
    d = rec.data
    p = d["protocol"]
    rows = {}
    for key, label in (("selected_procedure", "selected by inner CV"),
                       ("study_gnb", "study GNB")):
        m = d["outer_summary"][key]
        rows[label] = {k: (m[k]["mean"], m[k]["std"])
                       for k in ("balanced_accuracy", "roc_auc", "brier_calibrated")}
    return {"selected": d["selected"]["key"], "dataset_sha256": rec.dataset_sha256,
            "protocol": (f"nested CV: outer {p['n_splits']}-fold x {p['n_repeats']}, inner "
                         f"{p['inner_folds']}-fold, {len(d['candidates'])} candidates"),
            "beats_majority": d["beats_majority"], "rows": rows}
