"""Saved models carry their metadata and refuse to load against other features or data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasicon_sim.errors import ModelFileError
from nasicon_sim.ml import predict
from nasicon_sim.ml.persistence import load_model, save_model, sidecar_path
from nasicon_sim.ml.synthesizability import fit_synthesizability_model

FORMULAS = ["Na3Zr2Si2PO12", "NaTi2(PO4)3", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, literature, stability_model):
    model = fit_synthesizability_model(literature, "tree", "study+", stability_model, seed=1)
    path = tmp_path_factory.mktemp("models") / "tree.joblib"
    save_model(model, path)
    return model, path


def test_round_trip(saved):
    model, path = saved
    loaded = load_model(path, features=model.features)
    a = [p.p_single_phase for p in predict(FORMULAS, model)]
    b = [p.p_single_phase for p in predict(FORMULAS, loaded)]
    np.testing.assert_array_equal(a, b)
    assert loaded.metadata == model.metadata


def test_sidecar_records_what_the_model_needs(saved, literature):
    model, path = saved
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["features"] == list(model.features)
    assert meta["dataset_sha256"] == literature.sha256
    assert meta["label_policy"] == "majority" and meta["model"] == "tree"
    assert {"scikit-learn", "numpy", "nasicon_sim"} <= set(meta["versions"])
    assert len(meta["model_sha256"]) == 64


def test_refuses_another_feature_list(saved):
    _, path = saved
    with pytest.raises(ModelFileError, match="fitted on features .* not .*'radius_pm'"):
        load_model(path, features=["radius_pm", "electronegativity", "valence", "entropy_R"])


def test_refuses_another_dataset(saved):
    _, path = saved
    with pytest.raises(ModelFileError, match="fitted on dataset"):
        load_model(path, dataset_sha256="0" * 64)


def test_refuses_altered_or_orphaned_files(saved, tmp_path):
    _, path = saved
    copy = tmp_path / "m.joblib"
    copy.write_bytes(path.read_bytes() + b"\0")
    sidecar_path(copy).write_text(sidecar_path(path).read_text())
    with pytest.raises(ModelFileError, match="does not match the hash"):
        load_model(copy)
    orphan = tmp_path / "orphan.joblib"
    orphan.write_bytes(path.read_bytes())
    with pytest.raises(ModelFileError, match="no metadata sidecar"):
        load_model(orphan)
    with pytest.raises(ModelFileError, match="no model file"):
        load_model(tmp_path / "missing.joblib")
