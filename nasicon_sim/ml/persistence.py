"""Save and load fitted models as data (JSON parameters + refit), never as code.

A pickle (and a joblib file, which is a pickle) runs code when it is loaded: anyone who can
hand a user a model file could run anything on their machine, and a hash next to the file
proves nothing, since anyone can compute it. nasicon-sim therefore never unpickles a model.
A model file is one JSON object with what is needed to *rebuild* the model:

* the classifier name, its hyper-parameters, the feature list, the seed, whether it is
  calibrated, the conformal level and the number of bootstrap refits;
* the training data itself: the formulas (per 12 O, as parsed) and their 0/1 labels, with
  the table's name, SHA-256 and label policy;
* a check: the probabilities the model gave to its training rows when it was saved.

Loading validates every field (one clear line for anything missing, mistyped or damaged),
refits the model on the stored rows (scikit-learn fits are deterministic for a seed), and
compares the refit's probabilities with the check: a difference above
:data:`CHECK_TOLERANCE` (another scikit-learn version, a tampered file) is refused, so a
loaded model is the saved model or nothing. Loading costs one fit (well under a second to a
few seconds on tables of hundreds of rows).

Files that look like pickles (``.joblib``, ``.pkl``, ``.pickle``, or bytes starting with a
pickle opcode) are refused with the reason. Files are written atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nasicon_sim.errors import ModelFileError, NasiconSimError
from nasicon_sim.io.atomic import atomic_write_bytes
from nasicon_sim.ml.synthesizability import SynthesizabilityModel, library_versions

__all__ = ["CHECK_TOLERANCE", "FORMAT", "FORMAT_VERSION", "load_model", "save_model"]

logger = logging.getLogger(__name__)

FORMAT = "nasicon-sim-model"
#: Version of the file layout (1 was joblib + sidecar, no longer read).
FORMAT_VERSION = 2
#: Largest |p(refit) - p(saved)| on the training rows accepted when loading. Not 0: the
#: calibration and MLP fits are iterative (L-BFGS), and a refit in another process (other BLAS
#: threads) moved GNB + Platt probabilities by 1.3e-5 here; a changed row or label moves them
#: by far more than 1e-3 (tests/ml/test_ml_persistence.py).
CHECK_TOLERANCE = 1e-3
#: Model files larger than this are refused before parsing (bytes).
MAX_BYTES = 20_000_000
_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle", ".sav")


def save_model(model: SynthesizabilityModel, path: str | os.PathLike, dataset) -> Path:
    """Write a fitted model as a JSON file of parameters and training rows.

    Parameters
    ----------
    model : SynthesizabilityModel
    path : path-like
        A ``.json`` file.
    dataset : Dataset
        The dataset the model was fitted on (its rows are stored for the refit).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    if path.suffix.lower() in _PICKLE_SUFFIXES:
        raise ModelFileError(f"{path}: model files are JSON; use a .json name (-o model.json)")
    if dataset.sha256 != model.metadata.get("dataset_sha256") or len(dataset.y) != \
            model.metadata.get("n_train"):
        raise ModelFileError("the dataset given is not the one the model was fitted on")
    from nasicon_sim.ml.features import CompositionArrays

    p, _ = model.predict_proba_arrays(CompositionArrays.from_compositions(dataset.compositions))
    meta = model.metadata
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "classifier": model.name,
        "params": dict(model.params),
        "features": list(model.features),
        "seed": int(meta.get("seed", 0)),
        "calibrated": model.platt is not None,
        "alpha": meta.get("alpha"),
        "n_bootstrap": int(meta.get("n_bootstrap", 0)),
        "selection": meta.get("selection"),
        "training": {
            "dataset": meta.get("dataset"),
            "dataset_sha256": meta.get("dataset_sha256"),
            "label_policy": meta.get("label_policy"),
            "excluded_sources": list(meta.get("excluded_sources", [])),
            "formulas": [c.formula_pretty for c in dataset.compositions],
            "y": [int(v) for v in dataset.y],
        },
        "check_p_single_phase": [float(v) for v in p],
        "versions": library_versions(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(doc, indent=1) + "\n").encode())
    logger.info("saved %s model to %s", model.name, path)
    return path


def _field(doc: dict, key: str, kind, path: Path):
    if key not in doc:
        raise ModelFileError(f"{path}: damaged model file, no {key!r} field")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ModelFileError(f"{path}: damaged model file, {key!r} is a "
                             f"{type(value).__name__}")
    return value


def _read(path: Path) -> dict:
    if not path.exists():
        raise ModelFileError(f"no model file {path}")
    if not path.is_file():
        raise ModelFileError(f"{path} is not a file (give the model's .json file to --model)")
    if path.stat().st_size > MAX_BYTES:
        raise ModelFileError(f"{path} is larger than {MAX_BYTES // 1_000_000} MB; not a model "
                             "file of nasicon-sim")
    data = path.read_bytes()
    if path.suffix.lower() in _PICKLE_SUFFIXES or data[:1] == b"\x80":
        raise ModelFileError(
            f"{path} is a pickle/joblib file; loading one can run any code, so nasicon-sim "
            "never does: refit the model with 'nasicon-sim ml fit -o model.json'"
        )
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: damaged model file, not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a model file of nasicon-sim (expected a JSON "
                             f"object with format {FORMAT!r})")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model file format {doc.get('format_version')!r}; this "
                             f"version reads {FORMAT_VERSION}: refit it with 'ml fit'")
    return doc


def load_model(
    path: str | os.PathLike,
    features: Sequence[str] | None = None,
    dataset_sha256: str | None = None,
) -> SynthesizabilityModel:
    """Rebuild a model saved by :func:`save_model`, checking it reproduces its saved output.

    Parameters
    ----------
    path : path-like
        The model's JSON file.
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
        Pickles, damaged or incomplete files, a feature list / dataset mismatch, or a refit
        that does not reproduce the saved probabilities.
    """
    from nasicon_sim.composition import parse_nasicon
    from nasicon_sim.ml.dataset import Dataset, LabelledComposition, get_policy
    from nasicon_sim.ml.features import CompositionArrays
    from nasicon_sim.ml.prediction import default_stability_model
    from nasicon_sim.ml.synthesizability import fit_synthesizability_model

    path = Path(path)
    doc = _read(path)
    name = _field(doc, "classifier", str, path)
    params = _field(doc, "params", dict, path)
    feats = _field(doc, "features", list, path)
    seed = _field(doc, "seed", int, path)
    train = _field(doc, "training", dict, path)
    formulas = _field(train, "formulas", list, path)
    y = _field(train, "y", list, path)
    check = _field(doc, "check_p_single_phase", list, path)
    sha = _field(train, "dataset_sha256", str, path)
    if not (len(formulas) == len(y) == len(check)) or not formulas:
        raise ModelFileError(f"{path}: damaged model file, training rows and labels differ "
                             "in number")
    if any(v not in (0, 1) or isinstance(v, bool) for v in y) or \
            not all(isinstance(f, str) for f in formulas) or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in check):
        raise ModelFileError(f"{path}: damaged model file, bad training rows")
    if not all(isinstance(f, str) for f in feats):
        raise ModelFileError(f"{path}: damaged model file, bad feature list")
    if features is not None and list(features) != feats:
        raise ModelFileError(f"{path} was fitted on features {feats}, not {list(features)}")
    if dataset_sha256 is not None and dataset_sha256 != sha:
        raise ModelFileError(f"{path} was fitted on dataset {sha}, not {dataset_sha256}")
    alpha = doc.get("alpha")
    n_boot = doc.get("n_bootstrap", 0)
    if alpha is not None and not (isinstance(alpha, float) and 0 < alpha < 1) or \
            not isinstance(n_boot, int) or not 0 <= n_boot <= 1000:
        raise ModelFileError(f"{path}: damaged model file, bad alpha or n_bootstrap")
    try:
        comps = [parse_nasicon(f) for f in formulas]
        entries = tuple(
            LabelledComposition(c, "single_phase" if v else "secondary_phases", (), (f,), (),
                                int(v), 1 - int(v))
            for c, f, v in zip(comps, formulas, y))
        dataset = Dataset(entries, (), (), get_policy(train.get("label_policy") or "majority"),
                          str(train.get("dataset") or path.name), sha, len(entries),
                          tuple(str(s) for s in train.get("excluded_sources") or ()))
        # the stability model supplies DFT features and the reported E_hull estimate
        stability = default_stability_model()
        model = fit_synthesizability_model(
            dataset, name, feats, stability, seed, params=params,
            calibrate=bool(doc.get("calibrated")), uncertainty=alpha is not None,
            alpha=alpha if alpha is not None else 0.1, n_bootstrap=n_boot)
    except ModelFileError:
        raise
    except NasiconSimError as exc:
        raise ModelFileError(f"{path}: cannot rebuild the model: {exc}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: damaged model file ({type(exc).__name__}: {exc})") \
            from None
    p, _ = model.predict_proba_arrays(CompositionArrays.from_compositions(comps))
    diff = float(np.max(np.abs(p - np.asarray(check, dtype=float))))
    if not math.isfinite(diff) or diff > CHECK_TOLERANCE:
        saved = doc.get("versions", {}) if isinstance(doc.get("versions"), dict) else {}
        raise ModelFileError(
            f"{path}: the refitted model does not reproduce the saved probabilities (max "
            f"difference {diff:.2g}; saved with scikit-learn {saved.get('scikit-learn')}, this "
            f"is {library_versions()['scikit-learn']}); refit it with 'ml fit'"
        )
    if doc.get("selection"):
        model.metadata["selection"] = doc["selection"]
    return model
