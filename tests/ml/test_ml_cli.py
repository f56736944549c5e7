"""The ml, data and screen subcommands."""

from __future__ import annotations

import csv
import json

import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.ml.selection import shipped_selection
from nasicon_sim.ml.stability import ANCHOR_NAME


def test_predict_json(capsys, study_formulas, default_model):
    assert main(["ml", "predict", "--json", *study_formulas.values()]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(study_formulas)
    for row in rows:
        assert {"formula", "p_single_phase", "in_domain", "e_hull_pred_meV"} <= set(row)
        assert 0 <= row["p_single_phase"] <= 1 and isinstance(row["in_domain"], bool)


def test_predict_table_flags_the_domain(capsys, default_model):
    assert main(["ml", "predict", "NaGe2(PO4)3", "Na3Zr2Si2PO12"]) == 0
    out = capsys.readouterr().out
    assert "outside the training range: radius_pm" in out and "meV" in out


def test_predict_bad_formula_is_one_line(capsys, default_model):
    assert main(["ml", "predict", "Na3Zr2Xx2PO12"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown element 'Xx'" in err and len(err.splitlines()) == 1


def test_evaluate_literature_json(capsys, tmp_path, literature):
    argv = ["ml", "evaluate", "--json", "--repeats", "1", "--folds", "5", "--models", "gnb,knn",
            "--plots", str(tmp_path), "--no-nested"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in out["models"]] == ["gnb", "knn"]
    for key in ("accuracy", "accuracy_std", "balanced_accuracy", "roc_auc", "roc_auc_std"):
        assert key in out["models"][0]
    assert out["dataset"]["counts"]["compositions"] == len(literature.y)
    assert len(out["study_compositions"]) == 7
    assert (tmp_path / "roc_literature_holdout.png").stat().st_size > 1000


def test_evaluate_literature_table(capsys, literature, tmp_path):
    """On the shipped table the nested CV is read from the shipped record (no recompute)."""
    assert main(["ml", "evaluate", "--repeats", "1", "--models", "gnb,tree",
                 "--plots", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    n, n1 = len(literature.y), int(literature.y.sum())
    assert f"{n} compositions ({n1} single_phase, {n - n1} secondary_phases)" in out
    assert "drop-one" in out and "ME1" in out and "HE2" in out
    rec = shipped_selection().data
    ba = rec["outer_summary"]["selected_procedure"]["balanced_accuracy"]
    assert "Nested CV of model selection" in out and f"{ba['mean']:.3f}±{ba['std']:.3f}" in out
    assert rec["selected"]["key"] in out and "study GNB" in out
    assert (tmp_path / "reliability_nested.png").stat().st_size > 1000


def test_evaluate_rejects_a_bad_user_table(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("formula,phase_outcome\nNa3Zr2Xx2PO12,single_phase\nNa4Zr2Si2PO12,single_phase\n")
    assert main(["ml", "evaluate", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2: unknown element 'Xx'" in err and "line 3:" in err and "Traceback" not in err


@pytest.mark.slow
def test_evaluate_ouyang_json(capsys):
    # the full model list and the grouped CV are checked through the API in test_ml_stability
    argv = ["ml", "evaluate", "--dataset", "ouyang2021", "--json", "--models", "hgb",
            "--no-grouped"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    models = {m["name"]: m for m in out["models"]}
    assert ANCHOR_NAME in models
    for m in out["models"]:
        assert {"name", "features", "accuracy", "macro_f1", "macro_f1_std"} <= set(m)
    assert models[ANCHOR_NAME]["macro_f1"] == pytest.approx(0.7472, abs=0.005)
    assert max(m["macro_f1"] for n, m in models.items() if n != ANCHOR_NAME) >= 0.85
    assert 0 <= out["transfer"]["roc_auc_p_stable"] <= 1
    assert out["dft_feature_in_literature_model"]["comparisons"]


def test_fit_then_predict_with_the_saved_model(capsys, tmp_path, default_model):
    path = tmp_path / "m.json"
    assert main(["ml", "fit", "-o", str(path), "--model", "knn", "--features", "study+"]) == 0
    assert path.exists()
    capsys.readouterr()
    assert main(["ml", "predict", "--json", "--model", str(path), "NaTi2(PO4)3"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["model"] == "knn"
    assert main(["ml", "predict", "--model", str(path), "--features", "study", "NaTi2(PO4)3"]) == 2
    assert "fitted on features" in capsys.readouterr().err


def test_data_add_and_check(capsys, tmp_path):
    path = tmp_path / "mine.csv"
    assert main(["data", "add", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "--label", "single_phase",
                 "--source", "lab book 7", "--data", str(path)]) == 0
    assert main(["data", "add", "NaTi2(PO4)3", "--label", "secondary_phases",
                 "--source", "lab book 8", "--data", str(path)]) == 0
    assert "appended line 3" in capsys.readouterr().out
    assert main(["data", "check", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["compositions"] == 2
    assert main(["data", "add", "Na4Zr2Si2PO12", "--label", "single_phase", "--source", "x",
                 "--data", str(path)]) == 2
    assert len(list(csv.DictReader(path.open()))) == 2


def test_data_check_shipped(capsys):
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    assert "[unbalanced_as_printed] Na3.5HfTi(SiO4)1.5(PO4)1.5" in out
    assert "conflict: Na3Zr2Si2PO12" in out


def test_screen_writes_a_ranked_csv(capsys, tmp_path, default_model):
    out = tmp_path / "candidates.csv"
    assert main(["screen", "--elements", "Ti,Hf,Sc", "--max-cations", "3", "--step", "0.25",
                 "-o", str(out), "--show", "3"]) == 0
    text = capsys.readouterr().out
    assert "candidates" in text and f"to {out}" in text
    rows = list(csv.DictReader(out.open()))
    assert rows and [r["rank"] for r in rows[:3]] == ["1", "2", "3"]


def test_screen_rule_violation_is_one_line(capsys, tmp_path):
    assert main(["screen", "--elements", "Ba", "-o", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "Ba+2" in err and len(err.splitlines()) == 1
