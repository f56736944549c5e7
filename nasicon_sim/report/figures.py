"""Static figures of a study report (matplotlib, Agg backend): pure functions of plain data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nasicon_sim.io.atomic import atomic_savefig

__all__ = [
    "pareto_front",
    "plot_barrier_distributions",
    "plot_barrier_vs_conductivity",
    "plot_screen_candidates",
]

DIMENSIONS = ("E_1D_eV", "E_2D_eV", "E_3D_eV")
_DIM_LABEL = {"E_1D_eV": "1D", "E_2D_eV": "2D", "E_3D_eV": "3D"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _readable_log_ticks(axis) -> None:
    """Label a log axis with plain numbers at 1, 2, 3, 5 x 10^k (0.3, 0.5, 1, 2 ...).

    matplotlib's default labels only the decades (10^0), which leaves a plot spanning less
    than a decade (measured conductivities of 0.26-1.30 mS/cm) with one labelled tick.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
    axis.set_minor_formatter(NullFormatter())


def plot_barrier_distributions(
    barriers: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | Path,
    title: str = "",
) -> Path:
    """Strip-and-box plot of percolation barriers per composition and dimension.

    Parameters
    ----------
    barriers : mapping label -> mapping dimension key -> sequence of float
        E.g. ``{"ME1": {"E_1D_eV": [...], "E_2D_eV": [...], "E_3D_eV": [...]}}``, one value
        per configuration (eV); non-finite values (no percolation) are drawn at the top.
    path : str or Path
        PNG file to write.
    title : str
        Figure title.
    """
    plt = _pyplot()
    labels = list(barriers)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(labels) + 2), 4.0))
    width = 0.25
    colors = {"E_1D_eV": "#1f77b4", "E_2D_eV": "#ff7f0e", "E_3D_eV": "#2ca02c"}
    finite_all = [v for lab in labels for d in DIMENSIONS for v in barriers[lab].get(d, [])
                  if math.isfinite(v)]
    top = (max(finite_all) if finite_all else 1.0) * 1.1 + 0.02
    rng = np.random.default_rng(0)  # jitter only
    for j, dim in enumerate(DIMENSIONS):
        for i, lab in enumerate(labels):
            vals = np.asarray(barriers[lab].get(dim, []), dtype=float)
            x0 = i + (j - 1) * width
            finite = vals[np.isfinite(vals)]
            if finite.size:
                ax.boxplot([finite], positions=[x0], widths=width * 0.8, showfliers=False,
                           medianprops={"color": colors[dim]}, manage_ticks=False)
            jitter = rng.uniform(-width / 4, width / 4, vals.size)
            shown = np.where(np.isfinite(vals), vals, top)
            ax.scatter(x0 + jitter, shown, s=12, color=colors[dim], alpha=0.8,
                       label=_DIM_LABEL[dim] if i == 0 else None,
                       marker="o" if np.all(np.isfinite(vals)) else "x")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("percolation barrier (eV)")
    ax.set_title(title or "BVSE percolation barriers per configuration")
    ax.legend(title="percolation", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savefig(fig, path, dpi=150)
    plt.close(fig)
    return path


def plot_barrier_vs_conductivity(
    labels: Sequence[str],
    barrier_mean_eV: Sequence[float],
    barrier_std_eV: Sequence[float],
    sigma_mS_cm: Sequence[float | None],
    path: str | Path,
    barrier_name: str = "E_3D",
    note: str = "",
) -> Path:
    """Mean BVSE barrier (with spread) against the measured total conductivity (log scale).

    Parameters
    ----------
    labels : sequence of str
    barrier_mean_eV, barrier_std_eV : sequence of float
        Per-composition mean and standard deviation over configurations.
    sigma_mS_cm : sequence of float or None
        Measured conductivity; compositions without one are skipped.
    path : str or Path
        PNG file.
    barrier_name : str
        Axis label of the barrier (``E_3D``).
    note : str
        Small text under the plot (e.g. the rank correlation).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for lab, m, s, sig in zip(labels, barrier_mean_eV, barrier_std_eV, sigma_mS_cm):
        if sig is None or not math.isfinite(m):
            continue
        ax.errorbar(m, sig, xerr=s if math.isfinite(s) else None, fmt="o", capsize=3)
        ax.annotate(lab, (m, sig), textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set_yscale("log")
    _readable_log_ticks(ax.yaxis)
    ax.set_xlabel(f"BVSE {barrier_name} barrier, mean ± s.d. over configurations (eV)")
    ax.set_ylabel("measured total σ at RT (mS/cm)")
    ax.grid(alpha=0.3, which="both")
    if note:
        fig.text(0.01, 0.01, note, fontsize=7, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05 if note else 0, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savefig(fig, path, dpi=150)
    plt.close(fig)
    return path


#: Axis labels of the screening descriptors and scores.
SCREEN_LABELS = {
    "entropy_R": "configurational entropy of the M site, dS_mix / R",
    "radius_pm": "mean M-site Shannon radius (pm)",
    "electronegativity": "mean M-site Pauling electronegativity",
    "valence": "mean M-site valence",
    "delta_radius": "M-site radius mismatch sd(r) / mean(r)",
    "p_single_phase": "p(single phase), synthesizability model",
    "e_hull_pred_meV": "predicted E_hull (meV/atom)",
}


def pareto_front(x: Sequence[float], y: Sequence[float]) -> np.ndarray:
    """Mask of the points no other point beats in both ``x`` and ``y`` (both maximised).

    Examples
    --------
    >>> pareto_front([1, 2, 3, 2], [3, 2, 1, 1]).tolist()
    [True, True, True, False]
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    order = np.lexsort((-y, -x))           # by x descending, ties by y descending
    mask = np.zeros(x.size, dtype=bool)
    best_y = -np.inf
    for i in order:
        if y[i] > best_y:
            mask[i] = True
            best_y = y[i]
    return mask


def plot_screen_candidates(
    scores: Mapping[str, Sequence[float]],
    path: str | Path,
    x: str = "entropy_R",
    y: str = "p_single_phase",
    domain: str = "in_domain",
    pareto: bool = False,
    title: str = "",
) -> Path:
    """Screened candidates: a score against a descriptor, coloured by applicability domain.

    Parameters
    ----------
    scores : mapping name -> sequence
        Per candidate, e.g. :attr:`nasicon_sim.ml.screening.ScreenResult.scores`
        (descriptors, ``p_single_phase``, boolean ``in_domain``).
    path : str or Path
        PNG file.
    x, y : str
        Keys of ``scores`` for the axes (default: dS_mix/R and p(single phase)).
    domain : str
        Boolean key: inside the model's training range (coloured) or outside (grey).
    pareto : bool
        Mark the Pareto front of ``x`` and ``y`` (both maximised), e.g. with a transport
        score as ``x``.
    title : str
    """
    plt = _pyplot()
    xs = np.asarray(scores[x], dtype=float)
    ys = np.asarray(scores[y], dtype=float)
    inside = (np.asarray(scores[domain], dtype=bool) if domain in scores
              else np.ones(xs.size, dtype=bool))
    fig, ax = plt.subplots(figsize=(6.0, 4.4))
    ax.scatter(xs[~inside], ys[~inside], s=8, color="#9e9e9e", alpha=0.5,
               label=f"outside the training range ({int((~inside).sum())})")
    ax.scatter(xs[inside], ys[inside], s=8, color="#1f77b4", alpha=0.6,
               label=f"inside the training range ({int(inside.sum())})")
    if pareto and xs.size:
        front = pareto_front(xs, ys)
        order = np.argsort(xs[front])
        ax.plot(xs[front][order], ys[front][order], "-o", color="#d62728", ms=4, lw=1,
                label=f"Pareto front ({int(front.sum())})")
    ax.set_xlabel(SCREEN_LABELS.get(x, x))
    ax.set_ylabel(SCREEN_LABELS.get(y, y))
    ax.set_title(title or f"{xs.size} screened candidates", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_savefig(fig, path, dpi=150)
    plt.close(fig)
    return path
