"""Applicability domain: is a composition inside the region the training data covers?

A model trained on ~60 literature compositions says nothing trustworthy about descriptors far
from them. The check used here is the simplest one of the QSAR literature, the descriptor
range (bounding box) of the training set (Jaworska, Nikolova-Jeliazkova & Aldenberg,
ATLA 33 (2005) 445, "range-based methods"), optionally widened by a margin, and optionally
combined with a distance criterion: the mean distance of a point to its ``n_neighbors``
nearest training points (features standardised on the training set) must not exceed the
``quantile`` of the same distance among the training points themselves (each point's
neighbours taken without itself).

:class:`ApplicabilityDomain` follows the scikit-learn outlier-detector contract:
``predict`` returns +1 inside the domain and -1 outside; ``decision_function`` is >= 0 inside.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ApplicabilityDomain"]


class ApplicabilityDomain(OutlierMixin, BaseEstimator):
    """Range (and optional k-nearest-neighbour distance) applicability domain.

    Parameters
    ----------
    margin : float, default 0.0
        Widening of each feature's [min, max] training range, as a fraction of its width.
    n_neighbors : int or None, default None
        If given, also require the mean standardised distance to this many nearest training
        points to be at most the ``quantile`` of the training points' own such distances.
    quantile : float, default 0.95
        Quantile of the training distances used as the distance threshold.

    Attributes
    ----------
    feature_min_, feature_max_ : numpy.ndarray, shape (n_features,)
        The widened training range.
    threshold_ : float
        Distance threshold (``inf`` without the distance criterion).
    offset_ : float
        Always 0: ``decision_function = score_samples``.
    n_features_in_ : int
        Number of features seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> dom = ApplicabilityDomain().fit(np.array([[0.0, 0.0], [1.0, 2.0]]))
    >>> dom.predict(np.array([[0.5, 1.0], [1.5, 1.0]])).tolist()
    [1, -1]
    """

    def __init__(
        self, margin: float = 0.0, n_neighbors: int | None = None, quantile: float = 0.95
    ) -> None:
        self.margin = margin
        self.n_neighbors = n_neighbors
        self.quantile = quantile

    def fit(self, X, y=None) -> ApplicabilityDomain:
        """Learn the training range (and distance threshold) of ``X``, shape (n, n_features)."""
        X = validate_data(self, X, dtype=float)
        if not 0.0 <= float(self.margin):
            raise ValueError(f"margin must be >= 0, got {self.margin!r}")
        if not 0.0 < float(self.quantile) <= 1.0:
            raise ValueError(f"quantile must be in (0, 1], got {self.quantile!r}")
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = float(self.margin) * (hi - lo)
        self.feature_min_, self.feature_max_ = lo - pad, hi + pad
        self.offset_ = 0.0
        self.threshold_ = np.inf
        if self.n_neighbors is not None:
            k = int(self.n_neighbors)
            if k < 1:
                raise ValueError(f"n_neighbors must be >= 1, got {self.n_neighbors!r}")
            self._center = X.mean(axis=0)
            scale = X.std(axis=0)
            self._scale = np.where(scale > 0, scale, 1.0)
            Z = (X - self._center) / self._scale
            k_fit = min(k + 1, X.shape[0])
            self._nn = NearestNeighbors(n_neighbors=k_fit).fit(Z)
            if k_fit > 1:
                dist, _ = self._nn.kneighbors(Z)
                self.threshold_ = float(np.quantile(dist[:, 1:].mean(axis=1), self.quantile))
        return self

    def _exceedance(self, X: np.ndarray) -> np.ndarray:
        width = np.where(self.feature_max_ > self.feature_min_,
                         self.feature_max_ - self.feature_min_, 1.0)
        below = (self.feature_min_ - X) / width
        above = (X - self.feature_max_) / width
        return np.maximum(np.maximum(below, above), 0.0)

    def out_of_range(self, X) -> np.ndarray:
        """Boolean mask, shape (n, n_features): True where a feature leaves the training range."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=float, reset=False)
        return self._exceedance(X) > 0

    def score_samples(self, X) -> np.ndarray:
        """Minus the largest relative excursion beyond the range (0 inside); the distance
        criterion, when used, adds minus the relative excess over the threshold."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=float, reset=False)
        score = -self._exceedance(X).max(axis=1, initial=0.0)
        if self.n_neighbors is not None and np.isfinite(self.threshold_):
            Z = (X - self._center) / self._scale
            k = min(int(self.n_neighbors), self._nn.n_samples_fit_)
            dist, _ = self._nn.kneighbors(Z, n_neighbors=k)
            excess = dist.mean(axis=1) / max(self.threshold_, 1e-12) - 1.0
            score = score - np.maximum(excess, 0.0)
        return score

    def decision_function(self, X) -> np.ndarray:
        """``score_samples(X) - offset_``: >= 0 inside the domain, < 0 outside."""
        return self.score_samples(X) - self.offset_

    def predict(self, X) -> np.ndarray:
        """+1 for points inside the domain, -1 outside."""
        return np.where(self.decision_function(X) >= 0, 1, -1)
