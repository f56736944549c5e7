"""Save and load fitted models with the metadata that makes them safe to reuse.

The model object goes into a joblib file (what scikit-learn recommends for persistence,
https://scikit-learn.org/stable/model_persistence.html); a JSON sidecar next to it
(``model.joblib`` -> ``model.json``) records what the model needs to be trusted: the
feature list, the dataset name and SHA-256, the label policy, the library versions, and the
SHA-256 of the joblib file itself. Loading checks them:

* a missing sidecar, or a joblib file whose hash differs from the recorded one, is refused;
* a feature list (or dataset hash) other than the one the caller expects is refused, with
  both lists in the message: a model never silently scores the wrong columns;
* a different scikit-learn or numpy version is logged as a warning (scikit-learn itself also
  warns when unpickling across versions).

joblib files are pickles: load only files you trust. Both files are written atomically.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from nasicon_sim.errors import ModelFileError
from nasicon_sim.io.atomic import atomic_write_bytes
from nasicon_sim.ml.synthesizability import SynthesizabilityModel, library_versions

__all__ = ["FORMAT_VERSION", "load_model", "save_model", "sidecar_path"]

logger = logging.getLogger(__name__)

#: Version of the sidecar layout.
FORMAT_VERSION = 1


def sidecar_path(path: str | os.PathLike) -> Path:
    """The JSON metadata file that goes with a model file."""
    return Path(path).with_suffix(".json")


def save_model(model: SynthesizabilityModel, path: str | os.PathLike) -> Path:
    """Write a fitted model (joblib) and its JSON sidecar.

    Parameters
    ----------
    model : SynthesizabilityModel
    path : path-like
        Usually ``something.joblib``; the sidecar is ``something.json``.

    Returns
    -------
    pathlib.Path
        The sidecar's path.
    """
    import joblib

    path = Path(path)
    if path.suffix == ".json":
        raise ModelFileError(f"{path}: the model file cannot have the sidecar's .json suffix")
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    data = buffer.getvalue()
    meta = {
        "format_version": FORMAT_VERSION,
        "kind": "synthesizability",
        "model": model.name,
        "features": list(model.features),
        "model_file": path.name,
        "model_sha256": hashlib.sha256(data).hexdigest(),
        **{k: v for k, v in model.metadata.items() if k not in ("model",)},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    side = sidecar_path(path)
    atomic_write_bytes(side, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    logger.info("saved %s model to %s (+ %s)", model.name, path, side.name)
    return side


def load_model(
    path: str | os.PathLike,
    features: Sequence[str] | None = None,
    dataset_sha256: str | None = None,
) -> SynthesizabilityModel:
    """Load a model saved by :func:`save_model`, checking its metadata.

    Parameters
    ----------
    path : path-like
        The joblib file.
    features : sequence of str, optional
        The feature list the caller will use; refused if the model's differs.
    dataset_sha256 : str, optional
        Refuse a model fitted on other data.

    Returns
    -------
    SynthesizabilityModel

    Raises
    ------
    ModelFileError
        Missing or altered files, or a feature list / dataset mismatch.
    """
    import joblib

    path = Path(path)
    side = sidecar_path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file {path}")
    if not side.is_file():
        raise ModelFileError(f"{path} has no metadata sidecar {side.name}; refusing to load it")
    try:
        meta = json.loads(side.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{side}: unreadable metadata ({exc})") from None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("model_sha256"):
        raise ModelFileError(f"{path} does not match the hash recorded in {side.name}; "
                             "it was altered or belongs to another sidecar")
    if features is not None and list(features) != list(meta.get("features", [])):
        raise ModelFileError(
            f"{path} was fitted on features {meta.get('features')}, not {list(features)}"
        )
    if dataset_sha256 is not None and dataset_sha256 != meta.get("dataset_sha256"):
        raise ModelFileError(
            f"{path} was fitted on dataset {meta.get('dataset_sha256')}, not {dataset_sha256}"
        )
    saved = meta.get("versions", {})
    now = library_versions()
    for lib in ("scikit-learn", "numpy"):
        if saved.get(lib) and saved[lib] != now[lib]:
            logger.warning("%s was saved with %s %s; this is %s", path, lib, saved[lib], now[lib])
    model = joblib.load(io.BytesIO(data))
    if not isinstance(model, SynthesizabilityModel):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a model of nasicon-sim")
    if list(model.features) != list(meta.get("features", [])):
        raise ModelFileError(f"{path}: features in the file and in {side.name} differ")
    return model
