"""Arrhenius figure of kMC conductivities (matplotlib, Agg): a pure function of plain data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nasicon_sim.units import BOLTZMANN_EV_K

__all__ = ["log_error_bars", "plot_arrhenius"]


def log_error_bars(sigma, sigma_err, log10_err=None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper error-bar lengths (decades) of log10(sigma).

    ``log10_err`` (decades) is used as given when present; otherwise the bars are the
    images of sigma -/+ sigma_err, the lower one at most 3 decades long (sigma_err >= sigma
    has no finite lower end on a log axis).

    >>> [float(x[0]) for x in log_error_bars([1e-3], [1e-3], [0.5])]
    [0.5, 0.5]
    >>> [round(float(x[0]), 3) for x in log_error_bars([1e-3], [5e-4])]
    [0.301, 0.176]
    """
    s = np.asarray(sigma, float)
    if log10_err is not None:
        err = np.asarray(log10_err, float)
        return err, err.copy()
    e = np.asarray(sigma_err, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.log10(s) - np.log10(np.maximum(s - e, s * 1e-3))
        hi = np.log10(s + e) - np.log10(s)
    return lo, hi


def plot_arrhenius(
    series: Mapping[str, Mapping],
    path: str | Path,
    measured: Mapping[str, Sequence[tuple[float, float]]] | None = None,
    title: str = "",
) -> Path:
    """log10(sigma) against 1000/T per composition, with the fit lines and measured points.

    Parameters
    ----------
    series : mapping label -> dict
        ``TransportResult.as_dict()`` style: ``temperatures_K``, ``sigma_S_cm``,
        ``sigma_err_S_cm``, and optionally ``arrhenius`` (``Ea_eV``, ``ln_prefactor``) and
        ``log10_sigma_err`` (error bars in decades, e.g. a spread over configurations; it
        replaces ``sigma_err_S_cm``, which draws poorly once it nears sigma itself).
    path : str or Path
        PNG to write (written atomically).
    measured : mapping label -> list of (T in K, sigma in S/cm), optional
        Drawn as open symbols in the same colour.
    title : str
    """
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasicon_sim.io.atomic import atomic_write_bytes

    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    cmap = plt.get_cmap("viridis")
    labels = list(series)
    all_t = [t for d in series.values() for t in d.get("temperatures_K", [])]
    all_t += [t for pts in (measured or {}).values() for t, _ in pts]
    t_lo = min([298.15] + all_t)
    t_hi = max([600.0] + all_t)
    for i, lab in enumerate(labels):
        d = series[lab]
        color = cmap(i / max(1, len(labels) - 1)) if len(labels) > 1 else "C0"
        t = np.asarray(d.get("temperatures_K", []), float)
        s = np.asarray(d.get("sigma_S_cm", []), float)
        e = np.asarray(d.get("sigma_err_S_cm", []), float)
        ok = s > 0
        if ok.any():
            lo, hi = log_error_bars(s, e, d.get("log10_sigma_err"))
            lo, hi = lo[ok], hi[ok]
            ax.errorbar(1000.0 / t[ok], np.log10(s[ok]), yerr=[lo, hi], fmt="o", color=color,
                        label=f"{lab} kMC", capsize=2)
        fit = d.get("arrhenius")
        if fit:
            tt = np.linspace(t_lo, t_hi, 50)
            y = (fit["ln_prefactor"] - fit["Ea_eV"] / (BOLTZMANN_EV_K * tt)) - np.log(tt)
            ax.plot(1000.0 / tt, y / math.log(10.0), "-", color=color, lw=1)
        for tm, sm in (measured or {}).get(lab, []):
            if sm and sm > 0:
                ax.plot(1000.0 / tm, math.log10(sm), marker="s", mfc="none", color=color, ms=8,
                        ls="none")
    if measured:
        ax.plot([], [], marker="s", mfc="none", color="k", ls="none", label="measured")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("log10 sigma (S/cm)")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
