"""docs/guide/transport.md quotes what the code and the benchmark printed."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide" / "transport.md"


def test_guide_quotes_the_saved_benchmark():
    text = GUIDE.read_text()
    saved = (ROOT / "benchmarks" / "results" / "bench_kmc.txt").read_text().strip()
    assert saved in text
    data = json.loads((ROOT / "benchmarks" / "results" / "bench_kmc.json").read_text())
    for shape, floor in (("4x4x4", 100), ("8x8x8", 1000)):
        ratio = data["sizes"][shape]["hops_per_second_ratio"]
        assert ratio >= floor
        assert f"{ratio:,.0f}x" in text
    z = data["sizes"]["4x4x4"]
    assert abs(z["z_D_sigma"]) < 2 and abs(z["z_haven"]) < 2


def test_guide_names_the_default_model_parameters():
    from nasicon_sim.transport import KMCSettings

    text = GUIDE.read_text()
    s = KMCSettings()
    assert f"{s.attempt_frequency_Hz:.0e}".replace("+", "") in text  # 5e12
    assert f"default {s.blocking_distance_A} Å" in text
    assert f"({s.min_length_A:.0f} Å)" in text


def test_guide_quotes_the_recorded_study_report():
    text = GUIDE.read_text()
    report = (ROOT / "calculations" / "kmc-nasicon" / "results" / "report.md").read_text()
    start = report.index("| Composition | configurations")
    end = report.index("A positive rho", start)
    assert report[start:end].strip() in text
    summary = json.loads((ROOT / "calculations" / "kmc-nasicon" / "results"
                          / "summary.json").read_text())["kmc"]
    rho = summary["correlations"]["log10 sigma_25C kMC vs log10 sigma_total measured"]["rho"]
    assert f"rho = {rho:+.2f} between predicted and measured sigma" in text
    x = summary["compositions"]
    quoted = ", ".join(f"{x[lab]['log10_sigma_mean'][2]:.2f}"
                       for lab in ("x1", "x1.5", "x2", "x2.4", "x2.8"))
    assert quoted in text
    assert f"log10 sigma = {x['x2.4']['log10_sigma_mean'][1]:.2f}" in text


def test_guide_quotes_the_finite_size_check():
    saved = (ROOT / "benchmarks" / "results" / "kmc_finite_size.txt").read_text().strip()
    assert saved in GUIDE.read_text()
    for line in saved.splitlines()[2:]:
        z = float(line.rsplit("error", 1)[1])
        assert abs(z) < 2.0


def test_guide_quotes_the_relaxed_study():
    """The relaxed-ensemble section: its report table, counts, ranking, Ea errors and the
    first run's Ea (older [kmc] settings, still in the store under their own keys)."""
    import numpy as np

    from nasicon_sim.runner import task_keys
    from nasicon_sim.store import ResultsStore
    from nasicon_sim.study import KMCSpec, load_study
    from nasicon_sim.transport.study import kmc_key

    text = " ".join(GUIDE.read_text().split())
    d = ROOT / "calculations" / "zuo2026-relaxed-8"
    report = (d / "results" / "report.md").read_text()
    start = report.index("| Composition | configurations")
    end = report.index("A positive rho", start)
    assert report[start:end].strip() in GUIDE.read_text()
    kmc = json.loads((d / "results" / "summary.json").read_text())["kmc"]
    comps = kmc["compositions"]
    n_fit = sum(c["n_fitted"] for c in comps.values())
    assert f"{n_fit} of the {sum(c['n_configurations'] for c in comps.values())} " \
        "configurations have an Arrhenius fit" in text
    assert comps["LE"]["n_fitted"] == 0
    r = kmc["correlations"]["log10 sigma_25C kMC vs log10 sigma_total measured"]
    assert f"(rho = {r['rho']:+.2f}, exact p = {r['p_value']:.3f}, n = {r['n_compositions']})" \
        in text
    order = sorted(("ME1", "ME2", "HE1", "HE2"), key=lambda k: -comps[k]["log10_sigma_25C_mean"])
    assert "kMC order " + " > ".join(order) in text
    single = ("ME1", "ME2", "HE1", "HE2")
    at673 = [comps[k]["log10_sigma_mean"][0] for k in single]
    sd673 = [comps[k]["log10_sigma_sd"][0] for k in single]
    assert kmc["settings"]["temperatures_K"][0] == 673.0
    assert (f"within {max(at673) - min(at673):.2f} decades of each other (mean log10 sigma "
            f"{min(at673):.2f} to {max(at673):.2f}), less than each one's spread over its "
            f"configurations ({min(sd673):.2f}-{max(sd673):.2f} decades)") in text
    assert max(at673) - min(at673) < min(sd673)
    nz = comps["NZSP"]["log10_sigma_mean"]
    assert all(n > max(comps[k]["log10_sigma_mean"][i] for k in single) for i, n in enumerate(nz))
    assert f"({nz[0]:.2f} at 673 K)" in text
    assert all(c["n_arrhenius_rejected"] == 0 for c in comps.values())
    assert "no configuration rejects it at p < 0.01" in text

    study = load_study(d)
    store = ResultsStore(d / "results" / "results.db")
    new = study.kmc.settings_dict()
    old = KMCSpec(temperatures_K=[373, 473, 573], passes=600, runs=4, blocks=10,
                  equilibration_passes=100).settings_dict()
    errs, ea_new, ea_old = [], set(), set()
    for comp in study.compositions:
        for ck in task_keys(study, comp):
            row = store.get(kmc_key(ck, new))
            if row["arrhenius"]:
                errs.append(row["arrhenius"]["Ea_err_eV"])
            if comp.label == "NZSP":
                ea_new.add(f"{row['Ea_eV']:.3f}")
                ea_old.add(f"{store.get(kmc_key(ck, old))['Ea_eV']:.3f}")
            if comp.label == "LE":  # "its Na1 and Na2 sites stay full ... even at 873 K"
                occ = row["points"][-1]["occupancy"]
                assert row["points"][-1]["temperature_K"] == 873.0
                assert occ["Na1"][0] > 0.99 and occ["Na2"][0] > 0.99
    assert f"statistical error of {min(errs):.2f}-{max(errs):.2f} eV" in text
    assert np.isfinite(errs).all()
    lo, hi = sorted(ea_old)
    assert f"Ea {lo} and {hi} eV from 473-573 K" in text
    lo, hi = sorted(ea_new)
    assert f"{lo} and {hi} eV from 673-873 K" in text


def test_guide_quotes_the_lower_window_with_the_floor():
    text = " ".join(GUIDE.read_text().split())
    d = ROOT / "calculations" / "zuo2026-relaxed-8"
    fl = json.loads((d / "results-floor" / "summary.json").read_text())
    k = fl["kmc"]
    assert k["settings"]["temperatures_K"] == [573.0, 673.0, 773.0]
    assert k["settings"]["kra_floor_eV"] == 0.35
    c = k["compositions"]
    assert all(v["n_fitted"] == v["n_configurations"] for lab, v in c.items() if lab != "LE")
    assert c["LE"]["n_fitted"] == 0 and "every configuration but LE's has an Arrhenius fit" in text
    r = k["correlations"]["log10 sigma_25C kMC vs log10 sigma_total measured"]
    assert (f"conductivity is {r['rho']:+.2f} ({r['ci_low']:+.2f}..{r['ci_high']:+.2f}, exact "
            f"p = {r['p_value']:.2f}, n = {r['n_compositions']})") in text
    assert f"Ea {c['NZSP']['Ea_eV_mean']:.3f} ± {c['NZSP']['Ea_eV_sd']:.3f} eV" in text
    single = ("ME1", "ME2", "HE1", "HE2")
    m = [c[lab]["log10_sigma_25C_mean"] for lab in single]
    sd = [c[lab]["log10_sigma_25C_sd"] for lab in single]
    assert (f"within {max(m) - min(m):.2f} decades (log10 sigma(25 °C) {min(m):.2f} to "
            f"{max(m):.2f}), less than each one's spread over configurations "
            f"({min(sd):.2f}-{max(sd):.2f} decades)") in text
    assert max(m) - min(m) < min(sd)
    assert "with the 0.54-0.57 eV of the first run" in text and \
        "Ea 0.542 and 0.572 eV from 473-573 K" in text
    assert "--profile floor" in text and fl["study"]["profile"] == "floor"
