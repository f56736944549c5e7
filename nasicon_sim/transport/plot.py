"""Arrhenius figure of kMC conductivities (matplotlib, Agg): a pure function of plain data."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from nasicon_sim.units import BOLTZMANN_EV_K

__all__ = ["plot_arrhenius"]


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
        ``sigma_err_S_cm``, and optionally ``arrhenius`` (``Ea_eV``, ``ln_prefactor``).
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
            lo = np.log10(s[ok]) - np.log10(np.maximum(s[ok] - e[ok], s[ok] * 1e-3))
            hi = np.log10(s[ok] + e[ok]) - np.log10(s[ok])
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
