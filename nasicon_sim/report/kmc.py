"""The kMC section of a study report: predicted sigma(25 C) and Ea beside the measured values,
an Arrhenius figure with the measured points, and Spearman rank correlations."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["kmc_section"]


def _fmt(x: float | None, spec: str, dash: str = "–") -> str:
    return dash if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def kmc_section(kmc: Mapping[str, Any], fig_dir: Path) -> tuple[list[str], list[tuple[str, Path]]]:
    """Markdown lines and figures of the kMC results (``StudyResults.kmc``).

    Parameters
    ----------
    kmc : mapping
        :func:`nasicon_sim.transport.study.collect_kmc` output.
    fig_dir : Path
        Where the Arrhenius figure goes.
    """
    from nasicon_sim.transport.plot import plot_arrhenius
    from nasicon_sim.transport.study import ARRHENIUS_REJECT_P
    from nasicon_sim.units import BOLTZMANN_EV_K

    comps = kmc.get("compositions", {})
    if not comps:
        return [], []
    s = kmc.get("settings", {})
    temps = s.get("temperatures_K", [])
    lines = [
        "## Kinetic Monte Carlo transport",
        "",
        "Rejection-free kMC of the Na+ ions on each configuration's BVSE migration network "
        "(sites and links of the network, kinetically resolved barriers, the BVSE Na-Na "
        f"screened-Coulomb repulsion x {s.get('interaction_scale', 1)}, blocking distance "
        f"{s.get('blocking_distance_A')} Å, nu0 = {_fmt(s.get('attempt_frequency_Hz'), '.1e')} Hz) at "
        f"{', '.join(f'{t:g}' for t in temps)} K, {s.get('runs')} runs x {s.get('passes')} "
        "passes per temperature; sigma(25 °C) and Ea from an Arrhenius fit of sigma T over "
        "the converged temperatures. Mean ± standard deviation over the configurations with a "
        "fit (log10 for sigma; – with one); a configuration converged at fewer than two "
        "temperatures has no fit and is left out, so a composition's mean can rest on its "
        "more mobile configurations only (the column 'with a fit' says how many). Nothing is "
        "fitted to the measured values. Rank correlations use the compositions with both a "
        "predicted and a measured value; their bootstrap interval resamples configurations "
        "only.",
        "",
        "| Composition | configurations (with a fit) | log10 sigma(25 °C) kMC (S/cm) | measured sigma_total "
        "(S/cm) | Ea kMC (eV) | Ea measured (eV) |",
        "|---|---|---|---|---|---|",
    ]
    for label, c in comps.items():
        meas = c.get("measured_sigma_total_mS_cm")
        lines.append(
            f"| {label} | {c['n_configurations']} ({c.get('n_fitted', len(c['Ea_eV']))}) | "
            f"{_fmt(c['log10_sigma_25C_mean'], '.2f')} ± {_fmt(c['log10_sigma_25C_sd'], '.2f')} | "
            f"{_fmt(None if meas is None else meas / 1000.0, '.2e')} | "
            f"{_fmt(c['Ea_eV_mean'], '.3f')} ± {_fmt(c['Ea_eV_sd'], '.3f')} | "
            f"{_fmt(c.get('measured_ea_eV'), '.2f')} |")
        for reason in c.get("reasons", []):
            lines.append(f"| | sigma = 0: {reason} | | | | |")
        for note in c.get("notes", []):
            # in a study the knobs are the [kmc] keys, not the command-line flags
            note = note.replace("raise --passes", "raise passes or temperatures_K in [kmc]")
            note = note.replace("lower --kra-floor", "lower kra_floor_eV")
            lines.append(f"| | {note} | | | | |")
        if c.get("n_arrhenius_rejected"):
            lines.append(
                f"| | not Arrhenius: the straight line through ln(sigma T) is rejected (chi-square "
                f"p < {ARRHENIUS_REJECT_P:g}) in {c['n_arrhenius_rejected']} of "
                f"{c['n_arrhenius_tested']} configurations with three or more converged "
                "temperatures, so their sigma(25 °C) and Ea depend on the temperature window "
                "| | | | |")
    lines += [""]
    for name, r in kmc.get("correlations", {}).items():
        if r is None:
            lines.append(f"- Spearman {name}: fewer than three compositions with both values.")
        else:
            lines.append(f"- Spearman {name}: rho = {r['rho']:+.2f} "
                         f"[{r['ci_low']:+.2f}, {r['ci_high']:+.2f}] (p = {r['p_value']:.2f}, "
                         f"n = {r['n_compositions']})")
    lines += ["", "A positive rho for sigma and for Ea means that kMC ranks the compositions "
              "as the measurements do.", ""]
    series = {}
    measured = {}
    for label, c in comps.items():
        mean = c["log10_sigma_mean"]
        sd = c["log10_sigma_sd"]
        ok = [i for i, m in enumerate(mean) if m is not None]
        series[label] = {
            "temperatures_K": [c["temperatures_K"][i] for i in ok],
            "sigma_S_cm": [10 ** mean[i] for i in ok],
            "sigma_err_S_cm": [10 ** mean[i] * math.log(10) * (sd[i] or 0.0) for i in ok],
            "log10_sigma_err": [sd[i] or 0.0 for i in ok],  # spread over configurations
        }
        if c["Ea_eV_mean"] is not None and c["log10_sigma_25C_mean"] is not None:
            # the line through the mean sigma(25 C) with the mean Ea (sigma T = A e^-Ea/kT)
            t25 = 298.15
            series[label]["arrhenius"] = {
                "Ea_eV": c["Ea_eV_mean"],
                "ln_prefactor": math.log(10 ** c["log10_sigma_25C_mean"] * t25)
                + c["Ea_eV_mean"] / (BOLTZMANN_EV_K * t25)}
        if c.get("measured_sigma_total_mS_cm"):
            measured[label] = [(298.15, c["measured_sigma_total_mS_cm"] / 1000.0)]
    fig = plot_arrhenius(series, fig_dir / "kmc_arrhenius.png", measured=measured,
                         title="kMC sigma (converged points, lines: mean fit) vs measured")
    return lines, [("kMC Arrhenius plot (filled: kMC at converged temperatures, mean over "
                    "configurations; lines: Arrhenius fits; open squares: measured total "
                    "conductivity at 25 °C)", fig)]
