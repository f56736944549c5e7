"""Predictions for users and the study runner: ``default_model()`` and ``predict()``.

The default synthesizability model is what nested cross-validation selects on the shipped
literature table (:mod:`nasicon_sim.ml.selection`; classifier, hyper-parameters and feature
set, including whether a computed-stability feature enters, are read from the shipped
selection record), fitted on that table under the ``majority`` label policy and
Platt-calibrated. The study's choice (Zuo et al. 2026: Gaussian naive Bayes on the four
M-site descriptors, uncalibrated) stays available as :func:`study_model` and by name
(``ml predict --model study``). Every prediction carries the probability, its bootstrap
spread, the conformal prediction set at level ``alpha``, the applicability-domain flag and
the computed-stability model's E_hull(1000 K) estimate (:mod:`nasicon_sim.ml.stability`,
fitted on Ouyang et al. 2021).

Both default models are fitted on first use (a few seconds) and kept in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from nasicon_sim.composition import NasiconComposition, parse_nasicon
from nasicon_sim.ml.dataset import load_literature
from nasicon_sim.ml.features import CompositionArrays
from nasicon_sim.ml.stability import StabilityModel, fit_stability_model
from nasicon_sim.ml.synthesizability import (
    SELECTED,
    SynthesizabilityModel,
    fit_synthesizability_model,
)

__all__ = [
    "DEFAULT_FEATURES",
    "DEFAULT_MODEL",
    "STUDY_MODEL",
    "Prediction",
    "default_model",
    "default_stability_model",
    "fit_selected",
    "predict",
    "predict_arrays",
    "study_model",
]

logger = logging.getLogger(__name__)

#: The default: the nested-CV selection shipped with the package.
DEFAULT_MODEL = SELECTED
#: The study's classifier and descriptors (also the features of classifiers given by name).
STUDY_MODEL = "gnb"
DEFAULT_FEATURES = "study"


@dataclass(frozen=True)
class Prediction:
    """The model's verdict on one composition.

    Attributes
    ----------
    formula : str
        As given.
    composition : str
        Canonical formula per 12 O.
    p_single_phase : float
        Probability of single-phase formation (class 1 of the synthesizability model).
    in_domain : bool
        All features inside the training range of the synthesizability model.
    out_of_domain_features : tuple of str
        The features outside it.
    e_hull_pred_meV : float or None
        Predicted DFT energy above the hull at 1000 K (meV/atom), Ouyang et al. convention.
    p_stable_dft : float or None
        Probability that this E_hull is <= 0.
    stability_in_domain : bool or None
        Features inside the training range of the stability model.
    model : str
        The synthesizability model (selection key of the default, else the classifier).
    p_single_phase_std : float or None
        Standard deviation of ``p_single_phase`` over bootstrap refits (None if not computed).
    prediction_set : tuple of str
        Conformal prediction set at level ``1 - alpha`` (``single_phase`` and/or
        ``secondary_phases``; both = the model cannot tell; empty = unlike its training data).
    alpha : float or None
        Miscoverage level of ``prediction_set``.
    """

    formula: str
    composition: str
    p_single_phase: float
    in_domain: bool
    out_of_domain_features: tuple[str, ...]
    e_hull_pred_meV: float | None
    p_stable_dft: float | None
    stability_in_domain: bool | None
    model: str
    p_single_phase_std: float | None = None
    prediction_set: tuple[str, ...] = ()
    alpha: float | None = None

    def as_dict(self) -> dict:
        out = asdict(self)
        out["out_of_domain_features"] = list(self.out_of_domain_features)
        out["prediction_set"] = list(self.prediction_set)
        return out


@lru_cache(maxsize=1)
def default_stability_model() -> StabilityModel:
    """HGB stability classifier and regressor fitted on all of Ouyang et al. (2021), cached."""
    return fit_stability_model()


@lru_cache(maxsize=1)
def default_model() -> SynthesizabilityModel:
    """The nested-CV selected model, fitted on the shipped literature table, cached.

    Returns
    -------
    SynthesizabilityModel
        Calibrated, with conformal thresholds, bootstrap refits and the default stability
        model attached (E_hull predictions).
    """
    from nasicon_sim.ml.selection import shipped_selection

    data = load_literature()
    record = shipped_selection()
    if record.dataset_sha256 != data.sha256:
        logger.warning("the default model was selected on another version of the literature "
                       "table; run 'nasicon-sim ml select --update-default'")
    return fit_selected(data)


#: Fitted selected models by (table hash, policy, excluded sources, size, seed, selection).
_SELECTED_FITS: dict[tuple, SynthesizabilityModel] = {}


def fit_selected(dataset, seed: int = 0) -> SynthesizabilityModel:
    """The shipped selection fitted on ``dataset`` (kept in memory, last 4 datasets).

    A dataset is identified by its table's SHA-256, label policy, excluded sources and size,
    so a table with one more outcome is a new fit.
    """
    from nasicon_sim.ml.selection import shipped_selection

    key = (dataset.sha256, dataset.policy.name, tuple(dataset.excluded_sources),
           len(dataset.entries), seed, shipped_selection().selected.key)
    if key not in _SELECTED_FITS:
        if len(_SELECTED_FITS) >= 4:
            _SELECTED_FITS.pop(next(iter(_SELECTED_FITS)))
        _SELECTED_FITS[key] = fit_synthesizability_model(
            dataset, SELECTED, stability=default_stability_model(), seed=seed)
    return _SELECTED_FITS[key]


@lru_cache(maxsize=1)
def study_model() -> SynthesizabilityModel:
    """The study's GNB on its four descriptors, fitted on the shipped table, cached."""
    return fit_synthesizability_model(load_literature(), STUDY_MODEL, DEFAULT_FEATURES,
                                      stability=default_stability_model())


def predict_arrays(
    arrays: CompositionArrays, model: SynthesizabilityModel | None = None
) -> dict[str, np.ndarray]:
    """Vectorised predictions for composition arrays (used by screening).

    Returns
    -------
    dict of str to numpy.ndarray
        ``p_single_phase``, ``in_domain`` (bool), ``out_of_range`` (bool, (n, n_features)),
        ``p_std``, ``set_single``, ``set_secondary`` (see
        :meth:`~nasicon_sim.ml.synthesizability.SynthesizabilityModel.uncertainty_arrays`) and, when the model has a stability model, ``e_hull_pred_meV``, ``p_stable_dft``,
        ``stability_in_domain``.
    """
    model = default_model() if model is None else model
    X = model.feature_matrix(arrays)
    p, mask = model.predict_proba_matrix(X)
    out = {"p_single_phase": p, "in_domain": ~mask.any(axis=1), "out_of_range": mask}
    out.update(model.uncertainty_matrix(X, p))
    if model.stability is not None:
        p_stable, e_hull, inside = model.stability.predict_arrays(arrays)
        out.update(e_hull_pred_meV=e_hull, p_stable_dft=p_stable, stability_in_domain=inside)
    return out


def predict(
    compositions: Sequence[NasiconComposition | str],
    model: SynthesizabilityModel | None = None,
) -> list[Prediction]:
    """Probability of single-phase formation, domain flag and E_hull for each composition.

    Parameters
    ----------
    compositions : sequence of NasiconComposition or str
        Formulas are parsed with :func:`~nasicon_sim.composition.parse_nasicon` (a bad one
        raises its clear :class:`~nasicon_sim.errors.FormulaError`).
    model : SynthesizabilityModel, optional
        Default :func:`default_model`.

    Returns
    -------
    list of Prediction

    Examples
    --------
    >>> p = predict(["Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"])[0]
    >>> 0.0 <= p.p_single_phase <= 1.0, p.composition
    (True, 'Na3.5ZrTi0.5Lu0.5Si2PO12')
    """
    model = default_model() if model is None else model
    inputs = [c.formula_input if isinstance(c, NasiconComposition) else str(c)
              for c in compositions]
    comps = [c if isinstance(c, NasiconComposition) else parse_nasicon(c) for c in compositions]
    if not comps:
        return []
    res = predict_arrays(CompositionArrays.from_compositions(comps), model)
    out = []
    for i, (text, comp) in enumerate(zip(inputs, comps)):
        bad = tuple(f for f, m in zip(model.features, res["out_of_range"][i]) if m)
        has_dft = "e_hull_pred_meV" in res
        out.append(Prediction(
            formula=text,
            composition=comp.formula_pretty,
            p_single_phase=float(res["p_single_phase"][i]),
            in_domain=not bad,
            out_of_domain_features=bad,
            e_hull_pred_meV=float(res["e_hull_pred_meV"][i]) if has_dft else None,
            p_stable_dft=float(res["p_stable_dft"][i]) if has_dft else None,
            stability_in_domain=bool(res["stability_in_domain"][i]) if has_dft else None,
            model=model.label,
            p_single_phase_std=(None if np.isnan(res["p_std"][i])
                                else float(res["p_std"][i])),
            prediction_set=_set_labels(res, i) if model.conformal is not None else (),
            alpha=model.alpha if model.conformal is not None else None,
        ))
    return out


def _set_labels(res: dict, i: int) -> tuple[str, ...]:
    return tuple(name for name, key in (("single_phase", "set_single"),
                                        ("secondary_phases", "set_secondary")) if res[key][i])
