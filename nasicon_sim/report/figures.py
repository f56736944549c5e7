"""Static figures of a study report (matplotlib, Agg backend): pure functions of plain data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nasicon_sim.io.atomic import atomic_savefig

__all__ = ["plot_barrier_distributions", "plot_barrier_vs_conductivity"]

DIMENSIONS = ("E_1D_eV", "E_2D_eV", "E_3D_eV")
_DIM_LABEL = {"E_1D_eV": "1D", "E_2D_eV": "2D", "E_3D_eV": "3D"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
