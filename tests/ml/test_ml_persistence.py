"""Saved models are JSON data (parameters + training rows), refitted and checked on load;
pickles are never loaded, and damaged files give one clear line."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from nasicon_sim.errors import ModelFileError
from nasicon_sim.ml import predict
from nasicon_sim.ml.persistence import load_model, save_model
from nasicon_sim.ml.synthesizability import fit_synthesizability_model

FORMULAS = ["Na3Zr2Si2PO12", "NaTi2(PO4)3", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, literature, stability_model):
    model = fit_synthesizability_model(literature, "tree", "study+", stability_model, seed=1,
                                       calibrate=True, n_bootstrap=5)
    path = tmp_path_factory.mktemp("models") / "tree.json"
    save_model(model, path, literature)
    return model, path


def test_round_trip_reproduces_probabilities_spread_and_sets(saved):
    model, path = saved
    loaded = load_model(path, features=model.features)
    a, b = predict(FORMULAS, model), predict(FORMULAS, loaded)
    np.testing.assert_allclose([p.p_single_phase for p in a], [p.p_single_phase for p in b],
                               atol=1e-12)
    np.testing.assert_allclose([p.p_single_phase_std for p in a],
                               [p.p_single_phase_std for p in b], atol=1e-12)
    assert [p.prediction_set for p in a] == [p.prediction_set for p in b]
    assert loaded.platt == pytest.approx(model.platt)


def test_file_records_what_the_model_needs(saved, literature):
    model, path = saved
    doc = json.loads(path.read_text())
    assert doc["features"] == list(model.features)
    assert doc["training"]["dataset_sha256"] == literature.sha256
    assert doc["training"]["label_policy"] == "majority" and doc["classifier"] == "tree"
    assert len(doc["training"]["formulas"]) == len(literature.y) == len(doc["training"]["y"])
    assert {"scikit-learn", "numpy", "nasicon_sim"} <= set(doc["versions"])


def test_refuses_another_feature_list(saved):
    _, path = saved
    with pytest.raises(ModelFileError, match="fitted on features .* not .*'radius_pm'"):
        load_model(path, features=["radius_pm", "electronegativity", "valence", "entropy_R"])


def test_refuses_another_dataset(saved):
    _, path = saved
    with pytest.raises(ModelFileError, match="fitted on dataset"):
        load_model(path, dataset_sha256="0" * 64)


class _Boom:
    def __reduce__(self):
        return (exec, ("raise SystemExit('pickle code ran')",))


@pytest.mark.parametrize("name", ["model.joblib", "model.json", "model.pkl"])
def test_a_pickle_is_refused_without_running_it(tmp_path, name):
    """A crafted pickle (whatever its name) never runs: it is refused by its bytes/suffix."""
    path = tmp_path / name
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ModelFileError, match="pickle/joblib file; loading one can run any code"):
        load_model(path)


def test_a_tampered_check_is_refused(saved, tmp_path):
    _, path = saved
    doc = json.loads(path.read_text())
    doc["training"]["y"][0] = 1 - doc["training"]["y"][0]  # relabel one row
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="does not reproduce the saved probabilities"):
        load_model(bad)


@pytest.mark.parametrize("content, match", [
    (b"[]", "not a model file of nasicon-sim"),
    (b"", "damaged model file, not JSON"),
    (b"{\"format\": \"nasicon-sim-model\", \"format_version\": 2}", "no 'classifier' field"),
    (b"\xff\xfe garbage", "damaged model file, not JSON"),
])
def test_damaged_files_are_one_line(tmp_path, content, match):
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=match):
        load_model(path)


def test_truncated_and_mistyped_files(saved, tmp_path):
    _, path = saved
    text = path.read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match="not JSON"):
        load_model(cut)
    doc = json.loads(text)
    doc["training"]["formulas"] = doc["training"]["formulas"][:-1]
    short = tmp_path / "short.json"
    short.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="differ in number"):
        load_model(short)
    doc = json.loads(text)
    doc["params"] = []
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="'params' is a list"):
        load_model(typed)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFileError, match="no model file"):
        load_model(tmp_path / "nope.json")
    with pytest.raises(ModelFileError, match="is not a file"):
        load_model(tmp_path)


def test_save_refuses_a_pickle_name(saved, tmp_path, literature):
    model, _ = saved
    with pytest.raises(ModelFileError, match="model files are JSON"):
        save_model(model, tmp_path / "m.joblib", literature)
