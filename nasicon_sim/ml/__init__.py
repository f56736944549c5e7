"""Machine learning on NASICON compositions: datasets, features, models, evaluation, screening.

Modules, one job each:

* :mod:`~nasicon_sim.ml.dataset`: labelled literature tables, the label policy, atomic appends;
* :mod:`~nasicon_sim.ml.ouyang`: the Ouyang et al. (2021) DFT stability set;
* :mod:`~nasicon_sim.ml.features`: formula-only features computed on arrays;
* :mod:`~nasicon_sim.ml.models`: scikit-learn pipelines of the study's five classifiers (+ HGB);
* :mod:`~nasicon_sim.ml.domain`: the applicability domain (training-range check);
* :mod:`~nasicon_sim.ml.evaluation`: cross-validation, held-out split, importances, ROC;
* :mod:`~nasicon_sim.ml.stability`: the computed-stability model and its transfer to experiments;
* :mod:`~nasicon_sim.ml.synthesizability`: the fitted phase-purity model and its evaluation;
* :mod:`~nasicon_sim.ml.prediction`: :func:`default_model`, :func:`predict`, :class:`Prediction`;
* :mod:`~nasicon_sim.ml.persistence`: saving and loading fitted models with their metadata;
* :mod:`~nasicon_sim.ml.screening`: enumeration and scoring of candidate compositions.

The public entry points are imported lazily (scikit-learn is only loaded when used).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from nasicon_sim.ml.prediction import Prediction, default_model, predict

__all__ = ["Prediction", "default_model", "predict"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import importlib

        return getattr(importlib.import_module("nasicon_sim.ml.prediction"), name)
    raise AttributeError(f"module 'nasicon_sim.ml' has no attribute {name!r}")
