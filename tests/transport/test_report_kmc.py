"""The report's kMC section from a collected summary (no simulation)."""

from __future__ import annotations

from nasicon_sim.report.kmc import kmc_section


def test_kmc_section_table_correlations_and_figure(tmp_path):
    comps = {}
    for i, (lab, meas, ea) in enumerate((("A", 0.26, 0.35), ("B", 1.3, 0.29), ("C", None, None))):
        comps[lab] = {
            "n_configurations": 2, "sigma_25C_S_cm": [1e-7 * 10**i, 2e-7 * 10**i],
            "Ea_eV": [0.5 - 0.05 * i, 0.52 - 0.05 * i],
            "log10_sigma_25C_mean": -7 + i, "log10_sigma_25C_sd": 0.1,
            "Ea_eV_mean": 0.51 - 0.05 * i, "Ea_eV_sd": 0.01, "temperatures_K": [373.0, 473.0],
            "log10_sigma_mean": [-5 + i, -4 + i], "log10_sigma_sd": [0.1, 0.1],
            "haven_ratio_mean": [0.5, 0.5], "reasons": [], "notes": ["not converged at 373 K (raise --passes)"]
            if lab == "C" else [], "measured_sigma_total_mS_cm": meas, "measured_ea_eV": ea}
    comps["C"]["n_configurations"] = 3  # one configuration without an Arrhenius fit
    comps["B"].update(n_arrhenius_tested=2, n_arrhenius_rejected=1)
    summary = {"settings": {"temperatures_K": [373.0, 473.0], "runs": 2, "passes": 10,
                            "interaction_scale": 1.0, "blocking_distance_A": 2.5,
                            "attempt_frequency_Hz": 5e12},
               "compositions": comps,
               "correlations": {"log10 sigma_25C kMC vs log10 sigma_total measured": None,
                                "Ea kMC vs Ea measured": {"rho": -1.0, "ci_low": -1.0,
                                                          "ci_high": -1.0, "p_value": 0.0,
                                                          "n_compositions": 3}}}
    lines, figs = kmc_section(summary, tmp_path)
    text = "\n".join(lines)
    assert "## Kinetic Monte Carlo transport" in text
    assert "| A | 2 (2) | -7.00 ± 0.10 | 2.60e-04 | 0.510 ± 0.010 | 0.35 |" in text
    assert "| C | 3 (2) | -5.00 ± 0.10 | – |" in text
    assert "not converged at 373 K (raise passes or temperatures_K in [kmc])" in text
    assert "rejected (chi-square p < 0.01) in 1 of 2 configurations" in text
    assert text.count("not Arrhenius") == 1
    assert "fewer than three compositions" in text and "rho = -1.00" in text
    assert figs[0][1].stat().st_size > 1000
    assert kmc_section({}, tmp_path) == ([], [])
