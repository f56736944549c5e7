"""Evaluation machinery: shared folds, determinism, importances on synthetic data, plots."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.errors import DataError
from nasicon_sim.ml.dataset import literature_table
from nasicon_sim.ml.evaluation import (
    Metric,
    cross_validate_models,
    drop_one_importance,
    holdout_evaluation,
    permutation_importance_cv,
    plot_roc_curves,
    stratified_splits,
)
from nasicon_sim.ml.models import make_classifier
from nasicon_sim.ml.synthesizability import evaluate_literature


def _synthetic(n=120, seed=0):
    """Feature 0 decides the class, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] > 0).astype(int)
    return X, y


def test_splits_are_stratified_repeatable_and_seeded():
    y = np.r_[np.ones(45), np.zeros(13)].astype(int)
    a, b = stratified_splits(y, 10, 2, 0), stratified_splits(y, 10, 2, 0)
    assert len(a) == 20
    assert all(np.array_equal(ta, tb) for (_, ta), (_, tb) in zip(a, b))
    assert not all(np.array_equal(ta, tc) for (_, ta), (_, tc) in zip(a, stratified_splits(y, 10, 2, 1)))
    for _, test in a:
        assert 1 <= (y[test] == 0).sum() <= 2  # 13 negatives over 10 folds
    with pytest.raises(DataError, match="at least 14 compositions of each class"):
        stratified_splits(y, 14, 1, 0)


def test_cross_validation_scores_every_model_on_the_same_folds():
    X, y = _synthetic()
    splits = stratified_splits(y, 5, 2, 0)
    res = cross_validate_models(X, y, {"gnb": make_classifier("gnb"), "tree": make_classifier("tree")},
                                splits, ["signal", "noise"])
    assert [r.name for r in res] == ["gnb", "tree"]
    for r in res:
        assert r.n_folds == 10 and len(r.fold_scores["accuracy"]) == 10
        assert r.metrics["accuracy"].mean > 0.85
        assert r.metrics["roc_auc"].mean > 0.9
        assert r.as_dict()["accuracy_std"] == r.metrics["accuracy"].std


def test_importances_find_the_informative_feature():
    X, y = _synthetic()
    splits = stratified_splits(y, 5, 1, 0)
    drop = drop_one_importance(X, y, ["signal", "noise"], make_classifier("gnb"), splits)
    perm = permutation_importance_cv(X, y, ["signal", "noise"], make_classifier("gnb"), splits,
                                     n_repeats=5)
    assert drop["signal"].mean > 0.3 > abs(drop["noise"].mean)
    assert perm["signal"].mean > 0.3 > abs(perm["noise"].mean)


def test_holdout_confusion_and_roc():
    X, y = _synthetic(58)
    (res,) = holdout_evaluation(X, y, {"gnb": make_classifier("gnb")}, 0.22, 0)
    assert res.n_test == 13 and res.n_train == 45
    assert sum(map(sum, res.confusion)) == 13
    assert res.fpr[0] == 0.0 and res.tpr[-1] == 1.0
    assert res.accuracy == pytest.approx((res.confusion[0][0] + res.confusion[1][1]) / 13)


def test_roc_png(tmp_path):
    X, y = _synthetic(58)
    results = holdout_evaluation(X, y, {"gnb": make_classifier("gnb"), "knn": make_classifier("knn")})
    path = plot_roc_curves(results, tmp_path / "sub" / "roc.png", "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_inputs_are_named():
    X, y = _synthetic(20)
    with pytest.raises(DataError, match="NaN or infinite"):
        cross_validate_models(np.where(X > 1, np.nan, X), y, {}, [], ["a", "b"])
    with pytest.raises(DataError, match="at least 2 compositions of each class"):
        cross_validate_models(X, np.r_[np.ones(19), 0].astype(int), {}, [], ["a", "b"])
    assert np.isnan(Metric.of([]).mean)


def test_literature_evaluation_is_deterministic_for_a_seed():
    from nasicon_sim.ml.dataset import load_literature

    kwargs = dict(strict=False, models=("gnb", "tree", "svm"), n_splits=5, n_repeats=1, seed=7,
                  permutation_repeats=2)
    a = evaluate_literature(literature_table(), **kwargs).as_dict()
    b = evaluate_literature(literature_table(), **kwargs).as_dict()
    assert a == b
    assert a["dataset"]["counts"]["compositions"] == len(load_literature().y)
    assert [m["name"] for m in a["models"]] == ["gnb", "tree", "svm"]
    assert {i["feature"] for i in a["importance"]["features"]} == {
        "radius_pm", "electronegativity", "valence", "entropy_R"}
    study = {s["label"]: s for s in a["study_compositions"]}
    assert set(study) == {"NZSP", "LE", "ME1", "ME2", "HE1", "HE2", "Sn-ME"}
    # scored without the study's own rows: only NZSP is in the training data, from six other
    # reports (Hong 1976 and one doping series single phase; Susman 1983 and three doping
    # series with ZrO2, so secondary phases by majority); the other six compositions are unseen
    assert [k for k, s in study.items() if s["in_training"]] == ["NZSP"]
    assert all(0 <= p <= 1 for s in study.values() for p in s["p_single_phase"].values())
