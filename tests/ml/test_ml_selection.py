"""Nested CV: no outer test row reaches the inner selection; the shipped default is current."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from nasicon_sim.ml.evaluation import stratified_splits
from nasicon_sim.ml.selection import (
    STUDY_BASELINE,
    Candidate,
    SelectionRecord,
    default_candidates,
    inner_scores,
    nested_cross_validate,
    run_selection,
    shipped_selection,
)


class Spy(BaseEstimator, ClassifierMixin):
    """Records the row ids (column 0 of X) of every fit and prediction, in call order."""

    log: list = []

    def __init__(self, tag: str = "spy"):
        self.tag = tag

    def fit(self, X, y):
        Spy.log.append(("fit", self.tag, frozenset(X[:, 0].astype(int))))
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        Spy.log.append(("predict", self.tag, frozenset(X[:, 0].astype(int))))
        p = (X[:, 0] % 2).astype(float) * 0.5 + 0.25
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


def _spy_data(n=40):
    y = np.r_[np.ones(28, int), np.zeros(n - 28, int)]
    X = np.column_stack([np.arange(n), np.random.default_rng(0).normal(size=n)])
    return X, y


def test_outer_test_rows_never_reach_the_inner_selection():
    X, y = _spy_data()
    outer = stratified_splits(y, 4, 2, seed=0)
    Spy.log = []
    nested_cross_validate({"ids": X}, y, [("a", "ids", Spy("a")), ("b", "ids", Spy("b"))],
                          outer, inner_folds=3, seed=0,
                          progress=lambda k, n: Spy.log.append(("end", k, frozenset())))
    blocks, current = [], []
    for event in Spy.log:
        if event[0] == "end":
            blocks.append(current)
            current = []
        else:
            current.append(event)
    assert len(blocks) == len(outer) and not current
    for (train, test), block in zip(outer, blocks):
        train, test = frozenset(train), frozenset(test)
        refit = next(i for i, e in enumerate(block) if e[0] == "fit" and e[2] == train)
        inner = block[:refit]
        # inner selection: 2 candidates x 3 folds, on outer training rows only
        assert len([e for e in inner if e[0] == "fit"]) == 6
        assert all(ids <= train for _, _, ids in inner)
        assert {e[1] for e in inner} == {"a", "b"}
        # the outer test rows are only ever predicted, after the refit, by the refitted model
        touching = [i for i, e in enumerate(block) if e[2] & test]
        assert touching and all(i > refit and block[i][0] == "predict" and block[i][2] == test
                                and block[i][1] == block[refit][1] for i in touching)


def test_a_leaky_implementation_would_be_caught():
    """The fixture detects leakage: inner scores computed on all rows do see test rows."""
    X, y = _spy_data()
    outer = stratified_splits(y, 4, 1, seed=0)
    Spy.log = []
    inner_scores({"ids": X}, y, [("a", "ids", Spy())], stratified_splits(y, 3, 1, 1))
    train, test = outer[0]
    assert any(ids & frozenset(test) for _, _, ids in Spy.log)


def _synthetic(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.7).astype(int)
    signal = y + rng.normal(scale=0.6, size=n)
    X = np.column_stack([signal, rng.normal(size=n), rng.normal(size=n)])
    return X, y


def test_nested_cv_picks_the_informative_feature_set():
    X, y = _synthetic()
    Xs = {"signal": X[:, :1], "noise": X[:, 1:]}
    cands = [Candidate("gnb", "noise"), Candidate("gnb", "signal"),
             Candidate("logreg", "noise", {"C": 1.0})]
    triples = [(c.key, c.features, c.estimator()) for c in cands]
    res = nested_cross_validate(Xs, y, triples, stratified_splits(y, 5, 1, 0), 3, 0,
                                baseline=triples[0])
    assert res.chosen_counts() == {"gnb[]@signal": 5}
    assert res.metric("balanced_accuracy").mean > 0.7
    assert res.metric("balanced_accuracy", "baseline_test").mean < 0.65
    for f in res.folds:
        assert len(f["inner_scores"]) == 3 and len(f["p_raw"]) == len(f["test_index"])


def test_candidates_and_keys():
    cands = default_candidates()
    keys = [c.key for c in cands]
    assert len(set(keys)) == len(keys)
    assert STUDY_BASELINE.key == "gnb[]@study" and STUDY_BASELINE.key in keys
    assert Candidate.from_dict(cands[5].as_dict()) == cands[5]


def test_run_selection_on_a_small_table(literature, tmp_path):
    """The whole record on a two-candidate, 3-fold protocol (fast); written and read back."""
    rec = run_selection(literature, None, candidates=[Candidate("gnb", "study"),
                                                      Candidate("logreg", "study+", {"C": 1.0})],
                        n_splits=3, n_repeats=1, inner_folds=3)
    d = rec.data
    assert d["dataset"]["sha256"] == literature.sha256 and len(d["outer_folds"]) == 3
    assert rec.selected.key in {"gnb[]@study", "logreg[C=1]@study+"}
    s = d["outer_summary"]["selected_procedure"]["balanced_accuracy"]
    assert s["n"] == 3 and s["se"] == pytest.approx(s["std"] / np.sqrt(3))
    assert d["beats_majority"] == (s["mean"] - 2 * s["se"] > 0.5)
    back = SelectionRecord.read(rec.write(tmp_path / "r.json"))
    assert back.data == SelectionRecord.read(tmp_path / "r.json").data
    assert back.selected == rec.selected


def test_shipped_default_was_selected_on_the_shipped_table(literature):
    """After the literature table changes, run: nasicon-sim ml select --update-default."""
    rec = shipped_selection()
    assert rec.dataset_sha256 == literature.sha256, (
        "the default model's selection record is stale: run "
        "'nasicon-sim ml select --update-default'")
    assert rec.data["dataset"]["n"] == len(literature.y)
    assert rec.data["dataset"]["label_policy"] == literature.policy.name
    keys = [c["key"] for c in rec.data["candidates"]]
    assert rec.selected.key in keys
    for fold in rec.data["outer_folds"]:
        assert fold["chosen"] == keys[int(np.argmax(fold["inner_scores"]))]


@pytest.mark.slow
def test_shipped_choice_is_what_inner_cv_picks_on_the_whole_table(literature, stability_model):
    """Recompute the final inner-CV scores of every candidate on the shipped table."""
    from nasicon_sim.ml.features import CompositionArrays
    from nasicon_sim.ml.selection import _inner_splits
    from nasicon_sim.ml.synthesizability import _feature_matrix, split_features

    rec = shipped_selection()
    proto = rec.data["protocol"]
    cands = [Candidate.from_dict(c) for c in rec.data["candidates"]]
    arrays = CompositionArrays.from_compositions(literature.compositions)
    Xs = {c.features: _feature_matrix(arrays, [*split_features(c.features)[0],
                                               *split_features(c.features)[1]], stability_model)
          for c in cands}
    y = literature.y
    scores = inner_scores(Xs, y, [(c.key, c.features, c.estimator(proto["seed"])) for c in cands],
                          _inner_splits(y, proto["inner_folds"], proto["seed"]))
    np.testing.assert_allclose(scores, rec.data["selected"]["inner_scores"], atol=0.02)
    assert cands[int(np.argmax(scores))].key == rec.selected.key


def test_report_summary_shows_both_models():
    from nasicon_sim.ml.selection import report_summary

    s = report_summary()
    rec = shipped_selection().data
    assert set(s["rows"]) == {"selected by inner CV", "study GNB"}
    assert s["rows"]["study GNB"]["balanced_accuracy"][0] == \
        rec["outer_summary"]["study_gnb"]["balanced_accuracy"]["mean"]
    assert s["selected"] == rec["selected"]["key"]


def test_select_cli_writes_a_record_and_guards_the_default(capsys, tmp_path):
    import json
    from importlib import resources

    from nasicon_sim.cli.main import main

    lines = resources.files("nasicon_sim").joinpath(
        "data/literature/nasicon_literature.csv").read_text().splitlines()
    table = tmp_path / "t.csv"
    table.write_text("\n".join(lines[:120]) + "\n")
    assert main(["ml", "select", "--data", str(table), "--update-default"]) == 2
    assert "--update-default selects on the shipped table" in capsys.readouterr().err
    out = tmp_path / "rec.json"
    assert main(["ml", "select", "--data", str(table), "--lenient", "--folds", "2", "--repeats",
                 "1", "--inner-folds", "2", "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    rec = SelectionRecord.read(out)
    assert summary["selected"]["key"] == rec.selected.key
    assert len(rec.data["outer_folds"]) == 2 and summary["n_candidates"] == len(
        default_candidates())
    assert main(["ml", "select", "--data", str(table), "--lenient", "--folds", "2",
                 "--repeats", "1", "--inner-folds", "2", "-o", str(tmp_path)]) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err
