"""Cross-check: BVSE barriers, ML predictions and measured conductivities side by side.

Pure functions on plain data. The rank correlation between a composition's BVSE barrier and
its measured conductivity is Spearman's rho (scipy); its uncertainty comes from a bootstrap
over configurations: each composition's configurations are resampled with replacement, the
per-composition mean barrier recomputed, and rho recomputed (percentile interval). The
bootstrap therefore measures how much the finite ensembles move the ranking; it cannot
measure the uncertainty of the experiments, which we do not have.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["BarrierSummary", "RankCorrelation", "rank_correlation", "summarise_barriers"]


@dataclass(frozen=True)
class BarrierSummary:
    """Statistics of one barrier over a composition's configurations (eV).

    ``fraction_below`` is the fraction of configurations whose barrier is finite and below
    ``threshold_eV``; non-percolating configurations (barrier = inf) count as above.
    """

    n: int
    n_finite: int
    mean_eV: float
    std_eV: float
    median_eV: float
    min_eV: float
    max_eV: float
    threshold_eV: float
    fraction_below: float

    def as_dict(self) -> dict:
        return asdict(self)


def summarise_barriers(values: Sequence[float], threshold_eV: float) -> BarrierSummary:
    """Mean, spread and fraction below a threshold of barriers over configurations.

    Parameters
    ----------
    values : sequence of float
        One barrier per configuration (eV); ``inf`` or NaN where it does not percolate.
    threshold_eV : float
        Threshold for :attr:`BarrierSummary.fraction_below`.
    """
    arr = np.asarray(list(values), dtype=float)
    finite = arr[np.isfinite(arr)]
    nan = float("nan")
    return BarrierSummary(
        n=int(arr.size),
        n_finite=int(finite.size),
        mean_eV=float(finite.mean()) if finite.size else nan,
        std_eV=float(finite.std(ddof=1)) if finite.size > 1 else (0.0 if finite.size else nan),
        median_eV=float(np.median(finite)) if finite.size else nan,
        min_eV=float(finite.min()) if finite.size else nan,
        max_eV=float(finite.max()) if finite.size else nan,
        threshold_eV=float(threshold_eV),
        fraction_below=float(np.mean(np.isfinite(arr) & (arr < threshold_eV))) if arr.size else nan,
    )


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman rank correlation between barriers and a measured quantity.

    Attributes
    ----------
    rho : float
        Spearman's rho of the per-composition mean barriers vs the measured values.
    ci_low, ci_high : float
        Percentile bootstrap interval over configurations (``confidence`` level).
    p_value : float
        Two-sided p-value of rho against no association: exact (every pairing of the
        measured values with the compositions) for at most :data:`EXACT_P_MAX_N`
        compositions, else scipy's t approximation.
    n_compositions : int
    labels : tuple of str
        The compositions used (those with a finite mean barrier and a measured value).
    n_bootstrap : int
    confidence : float
    p_method : str
        ``"exact permutation"`` or ``"t approximation"``.
    """

    rho: float
    ci_low: float
    ci_high: float
    p_value: float
    n_compositions: int
    labels: tuple[str, ...]
    n_bootstrap: int
    confidence: float
    p_method: str = "t approximation"

    def as_dict(self) -> dict:
        return asdict(self)


#: Up to this many compositions the p-value of Spearman's rho is exact (all n! pairings,
#: 362,880 at 9); scipy's t approximation is far off for so few (rho = -1 at n = 5: 1e-24
#: against the exact 1/60).
EXACT_P_MAX_N = 9


def spearman_p_value(x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """Two-sided p-value of Spearman's rho between ``x`` and ``y`` and how it was computed.

    Exact over all pairings (:func:`scipy.stats.permutation_test`) for at most
    :data:`EXACT_P_MAX_N` points, else scipy's t approximation (:func:`scipy.stats.spearmanr`).

    >>> round(spearman_p_value(np.arange(5.0), -np.arange(5.0))[0], 4)
    0.0167
    """
    from scipy.stats import permutation_test, rankdata, spearmanr

    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) > EXACT_P_MAX_N:
        return float(spearmanr(x, y).pvalue), "t approximation"
    ry = rankdata(y)
    ry = (ry - ry.mean()) / np.linalg.norm(ry - ry.mean())

    def rho(a, axis=-1):
        ra = rankdata(a, axis=axis)
        ra = ra - ra.mean(axis=axis, keepdims=True)
        norm = np.linalg.norm(ra, axis=axis)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.tensordot(ra, ry, axes=([axis], [0])) / norm

    res = permutation_test((x,), rho, permutation_type="pairings", n_resamples=np.inf,
                           vectorized=True, alternative="two-sided")
    return float(res.pvalue), "exact permutation"


def rank_correlation(
    barriers: Mapping[str, Sequence[float]],
    measured: Mapping[str, float | None],
    *,
    n_bootstrap: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> RankCorrelation | None:
    """Spearman rho between mean barrier and a measured value, with a bootstrap interval.

    Parameters
    ----------
    barriers : mapping label -> sequence of float
        Barriers of each composition's configurations (eV); non-finite ones are dropped.
    measured : mapping label -> float or None
        The measured quantity (e.g. log10 conductivity); None means not measured.
    n_bootstrap : int
        Bootstrap resamples.
    confidence : float
        Level of the percentile interval.
    seed : int
        Seed of the bootstrap generator.

    Returns
    -------
    RankCorrelation or None
        None when fewer than three compositions have both a barrier and a measured value.
    """
    from scipy.stats import spearmanr

    labels = []
    samples = []
    values = []
    for label, vals in barriers.items():
        arr = np.asarray(list(vals), dtype=float)
        arr = arr[np.isfinite(arr)]
        m = measured.get(label)
        if arr.size and m is not None and math.isfinite(float(m)):
            labels.append(label)
            samples.append(arr)
            values.append(float(m))
    if len(labels) < 3:
        return None
    means = np.array([s.mean() for s in samples])
    y = np.array(values)
    rho = float(spearmanr(means, y).statistic)
    p, p_method = spearman_p_value(means, y)
    rng = np.random.default_rng(seed)
    boot = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        resampled = np.array([s[rng.integers(0, s.size, s.size)].mean() for s in samples])
        boot[b] = spearmanr(resampled, y).statistic
    boot = boot[np.isfinite(boot)]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = (np.quantile(boot, [alpha, 1 - alpha]) if boot.size else (np.nan, np.nan))
    return RankCorrelation(
        rho=rho, ci_low=float(lo), ci_high=float(hi), p_value=p,
        n_compositions=len(labels), labels=tuple(labels),
        n_bootstrap=n_bootstrap, confidence=confidence, p_method=p_method,
    )
