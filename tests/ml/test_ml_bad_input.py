"""Bad input to the ML commands: one clear line each, exit code 2, never a traceback."""

from __future__ import annotations

import hashlib
import json
import pickle

import pytest

from nasicon_sim.cli.main import main

SIX_ROWS = """formula,phase_outcome
Na3Zr2Si2PO12,single_phase
NaZr2(PO4)3,single_phase
Na4Zr2Si3O12,single_phase
NaTi2(PO4)3,secondary_phases
Na3.5Zr1.5Lu0.5Si2PO12,secondary_phases
Na2Zr2SiP2O12,secondary_phases
"""
ONE_CLASS = """formula,phase_outcome
Na3Zr2Si2PO12,single_phase
NaZr2(PO4)3,single_phase
Na4Zr2Si3O12,single_phase
"""


def _one_line(capsys, argv, *needles):
    assert main(argv) == 2, argv
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def test_evaluate_six_rows_two_folds(capsys, write_csv):
    path = write_csv(SIX_ROWS)
    _one_line(capsys, ["ml", "evaluate", "--data", str(path), "--folds", "2"],
              "6 compositions (3 single_phase, 3 secondary_phases)", "--folds")


def test_fit_svm_on_six_rows(capsys, write_csv, tmp_path):
    path = write_csv(SIX_ROWS)
    _one_line(capsys, ["ml", "fit", "--model", "svm", "--data", str(path), "-o",
                       str(tmp_path / "m.json")], "svm cannot be fitted on 6 compositions",
              "--model")
    assert not (tmp_path / "m.json").exists()


def test_too_few_rows_for_the_folds(capsys, write_csv):
    path = write_csv(SIX_ROWS)
    _one_line(capsys, ["ml", "evaluate", "--data", str(path)],
              "10-fold stratified CV needs at least 10 compositions of each class",
              "use fewer folds")


@pytest.mark.parametrize("command", [
    ["ml", "evaluate", "--no-nested"],
    ["ml", "fit", "-o", "unused.json"],
    ["ml", "select"],
])
def test_one_class_only(capsys, write_csv, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_csv(ONE_CLASS)
    err = _one_line(capsys, [*command, "--data", str(path)])
    assert "single" in err and ("class" in err or "secondary_phases" in err)


@pytest.mark.parametrize("command", [
    ["ml", "evaluate", "--no-nested", "--features", "radius_pm,bogus"],
    ["ml", "fit", "-o", "unused.json", "--features", "radius_pm,bogus"],
])
def test_unknown_feature_names(capsys, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _one_line(capsys, command, "unknown feature(s) bogus")


def test_model_file_from_another_feature_set(capsys, tmp_path):
    path = tmp_path / "m.json"
    assert main(["ml", "fit", "-o", str(path), "--model", "gnb", "--features", "study+"]) == 0
    capsys.readouterr()
    _one_line(capsys, ["ml", "predict", "--model", str(path), "--features", "study",
                       "Na3Zr2Si2PO12"], "fitted on features", "'delta_radius'")


def test_old_joblib_model_with_a_matching_sidecar_hash_is_refused(capsys, tmp_path):
    """The attack of issue 12: a crafted pickle whose SHA-256 is in a sidecar."""
    class Boom:
        def __reduce__(self):
            return (exec, ("open('PWNED', 'w').write('x')",))

    data = pickle.dumps(Boom())
    model = tmp_path / "model.joblib"
    model.write_bytes(data)
    (tmp_path / "model.json.sidecar").write_text(json.dumps(
        {"model_sha256": hashlib.sha256(data).hexdigest()}))
    _one_line(capsys, ["ml", "predict", "--model", str(model), "Na3Zr2Si2PO12"],
              "pickle/joblib file", "never does")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("content, needle", [
    ("[]", "not a model file of nasicon-sim"),
    ('{"format": "nasicon-sim-model", "format_version": 2, "classifier": "gnb"}',
     "no 'params' field"),
    ("{\"format\": \"nasicon-sim-mod", "damaged model file, not JSON"),
])
def test_damaged_model_files(capsys, tmp_path, content, needle):
    path = tmp_path / "m.json"
    path.write_text(content)
    _one_line(capsys, ["ml", "predict", "--model", str(path), "Na3Zr2Si2PO12"], needle)
    _one_line(capsys, ["screen", "--elements", "Ti", "-o", str(tmp_path / "c.csv"),
                       "--model", str(path)], needle)


def test_damaged_training_rows_in_a_model_file(capsys, tmp_path):
    path = tmp_path / "m.json"
    assert main(["ml", "fit", "-o", str(path)]) == 0
    capsys.readouterr()
    doc = json.loads(path.read_text())
    doc["training"]["formulas"][0] = "Na3Zr2Xx2PO12"
    path.write_text(json.dumps(doc))
    _one_line(capsys, ["ml", "predict", "--model", str(path), "Na3Zr2Si2PO12"],
              "cannot rebuild the model", "unknown element 'Xx'")


def test_help_says_pickles_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["ml", "predict", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "pickle/joblib files are refused because loading them can run code" in out
