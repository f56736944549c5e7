"""The classifiers of the study, and a gradient-boosted model, as scikit-learn pipelines.

Zuo et al. (Energy Environ. Sci. 19 (2026) 860) compared k-nearest neighbours, a decision
tree, a support-vector machine, Gaussian naive Bayes and a multilayer perceptron on four
M-site descriptors; they do not state hyper-parameters, so scikit-learn's defaults are used,
with these stated choices:

* features are standardised (``StandardScaler``, fitted inside each training fold) for the
  distance- and gradient-based models (KNN, SVM, MLP); GNB and the trees are
  scale-invariant and get no scaler;
* ``class_weight="balanced"`` wherever the estimator supports it (tree, SVM, HGB), because
  both of our datasets are imbalanced (45:13 literature compositions, 641:3240 DFT-stable
  NASICONs) and Ouyang et al. (2021) used it for their anchor;
* the SVM has an RBF kernel; its probabilities are Platt-scaled (sigmoid) on internal 5-fold
  cross-validation with ``CalibratedClassifierCV(..., ensemble=False)``, which scikit-learn 1.9
  recommends in place of the deprecated ``SVC(probability=True)`` (the same method);
* the MLP has one hidden layer of 16 units and the L-BFGS solver (at most 2000 iterations),
  which needs no learning-rate schedule on tables of tens to thousands of rows;
* ``logreg``: L2-regularised logistic regression (standardised, balanced), a linear baseline
  whose probabilities are well behaved on small tables; not one of the study's five;
* ``HistGradientBoostingClassifier`` / ``...Regressor`` (scikit-learn's gradient boosting,
  Ke et al., LightGBM, NeurIPS 2017) for the computed-stability model.

Every factory takes a ``seed`` and returns an unfitted estimator (``sklearn.base.clone``-able).

Fitting runs inside :func:`single_threaded` (threadpoolctl, all BLAS and OpenMP pools at one
thread): the tables are small, and library threads only compete for the cores. On the shared
2-core development machine, one MLP fit on 3100 x 23 features took 40 s with the default
threads and 1.2 s with one; the HGB regressor on 3881 x 23 took 20.7 s and 0.2 s.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from nasicon_sim.errors import NasiconSimError

__all__ = [
    "CLASSIFIERS",
    "single_threaded",
    "MODEL_DESCRIPTIONS",
    "STABILITY_MODELS",
    "STUDY_MODELS",
    "make_classifier",
    "make_regressor",
]

#: Descriptions of the classifiers by short name.
MODEL_DESCRIPTIONS: dict[str, str] = {
    "gnb": "Gaussian naive Bayes",
    "knn": "k-nearest neighbours (k = 5, standardised)",
    "tree": "decision tree (balanced class weights)",
    "svm": "SVM, RBF kernel, Platt probabilities (standardised, balanced)",
    "mlp": "MLP, 16 hidden units, L-BFGS (standardised)",
    "hgb": "histogram gradient boosting (balanced)",
    "logreg": "logistic regression, L2 (standardised, balanced)",
}
#: All classifier names.
CLASSIFIERS: tuple[str, ...] = tuple(MODEL_DESCRIPTIONS)
#: The five classifiers the study compared.
STUDY_MODELS: tuple[str, ...] = ("gnb", "knn", "tree", "svm", "mlp")
#: The classifiers compared on the DFT stability set (the study's five + HGB).
STABILITY_MODELS: tuple[str, ...] = (*STUDY_MODELS, "hgb")


def single_threaded() -> threadpool_limits:
    """Context manager limiting BLAS and OpenMP pools to one thread (threadpoolctl)."""
    return threadpool_limits(limits=1)


def make_classifier(name: str, seed: int = 0, params: dict | None = None) -> Pipeline:
    """An unfitted classification pipeline.

    Parameters
    ----------
    name : str
        One of :data:`CLASSIFIERS`.
    seed : int, default 0
        ``random_state`` of the estimators that use randomness.
    params : dict, optional
        Hyper-parameters of the classifier itself (e.g. ``{"C": 10.0}`` for the SVM's
        ``SVC``, ``{"n_neighbors": 9}`` for KNN); the defaults above otherwise.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``scale`` (where needed) and ``model``.

    Raises
    ------
    NasiconSimError
        For an unknown name or hyper-parameter.
    """
    pipe = _make_classifier(name, seed)
    if params:
        inner = "model__estimator__" if name == "svm" else "model__"
        valid = pipe.get_params()
        bad = [k for k in params if inner + k not in valid]
        if bad:
            raise NasiconSimError(f"{name} has no hyper-parameter {', '.join(map(repr, bad))}")
        pipe.set_params(**{inner + k: v for k, v in params.items()})
    return pipe


def _make_classifier(name: str, seed: int) -> Pipeline:
    if name == "gnb":
        return Pipeline([("model", GaussianNB())])
    if name == "knn":
        return Pipeline([("scale", StandardScaler()), ("model", KNeighborsClassifier(5))])
    if name == "tree":
        return Pipeline([("model", DecisionTreeClassifier(class_weight="balanced",
                                                          random_state=seed))])
    if name == "svm":
        svc = SVC(kernel="rbf", class_weight="balanced", random_state=seed)
        return Pipeline([("scale", StandardScaler()),
                         ("model", CalibratedClassifierCV(svc, method="sigmoid", ensemble=False))])
    if name == "mlp":
        return Pipeline([("scale", StandardScaler()),
                         ("model", MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs",
                                                 max_iter=2000, random_state=seed))])
    if name == "logreg":
        return Pipeline([("scale", StandardScaler()),
                         ("model", LogisticRegression(class_weight="balanced", max_iter=1000))])
    if name == "hgb":
        return Pipeline([("model", HistGradientBoostingClassifier(class_weight="balanced",
                                                                  random_state=seed))])
    raise NasiconSimError(f"unknown model {name!r}; choose from {', '.join(CLASSIFIERS)}")


def make_regressor(seed: int = 0) -> BaseEstimator:
    """Unfitted regressor of the DFT energy above the hull (meV/atom).

    Histogram gradient boosting with the absolute-error loss: the energies above the hull
    of Ouyang et al. (2021) span -224 to 7973 meV/atom with a long tail, and the absolute
    loss fits the median, which the tail does not drag.
    """
    return Pipeline([("model", HistGradientBoostingRegressor(loss="absolute_error",
                                                             random_state=seed))])
