"""The README's headline results for transport, NEB, synthesizability and relaxation are the
numbers in the recorded files they quote (summary.json, barrier tables, selection record,
benchmark outputs)."""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TEXT = re.sub(r"\s+", " ", README)


def test_kmc_headline_is_the_recorded_study():
    kmc = json.loads((ROOT / "calculations/kmc-nasicon/results/summary.json").read_text())["kmc"]
    corr = kmc["correlations"]
    s = corr["log10 sigma_25C kMC vs log10 sigma_total measured"]
    e = corr["Ea kMC vs Ea measured"]
    assert (f"Spearman {s['rho']:+.2f}, p = {s['p_value']:.2f}, n = {s['n_compositions']}"
            in TEXT)
    assert f"Ea {e['rho']:+.2f}, p = {e['p_value']:.2f}, n = {e['n_compositions']}" in TEXT
    comps = kmc["compositions"]
    assert f"{len(comps)} compositions" in TEXT
    gaps = [math.log10(v["measured_sigma_total_mS_cm"] * 1e-3) - v["log10_sigma_25C_mean"]
            for v in comps.values()
            if v["measured_sigma_total_mS_cm"] and v["log10_sigma_25C_mean"] is not None]
    assert f"a median {statistics.median(gaps):.1f} orders of magnitude" in TEXT
    assert f"to {max(gaps):.1f};" in TEXT
    ea = [v["Ea_eV_mean"] for v in comps.values() if v["Ea_eV_mean"] is not None]
    assert f"({min(ea):.2f}-{max(ea):.2f} eV)" in TEXT


def test_kmcpy_ratios_are_the_benchmark():
    bench = json.loads((ROOT / "benchmarks/results/bench_kmc.json").read_text())["sizes"]
    r4, r8 = (bench[s]["hops_per_second_ratio"] for s in ("4x4x4", "8x8x8"))
    assert f"{r4:,.0f}x its hops per second on 4x4x4 and {r8:,.0f}x on 8x8x8" in TEXT


def test_neb_headline_is_the_barrier_table():
    rows = list(csv.DictReader((ROOT / "calculations/neb-nasicon/barriers.csv").open()))
    quoted = {("nzsp", "Na1", "Na2"): "NZSP Na1->Na2", ("nzsp", "Na1", "Na3"): "Na1->Na3",
              ("me1", "Na1", "Na2"): "ME1 Na1->Na2"}
    for r in rows:
        key = (r["source"].split("/")[0], r["from_label"], r["to_label"])
        if key in quoted:
            fwd, back = float(r["barrier_eV"]), float(r["reverse_barrier_eV"])
            assert re.search(rf"{re.escape(quoted[key])} {fwd:.3f}( eV forward)? / "
                             rf"{back:.3f} eV", TEXT), key
    model = json.loads((ROOT / "calculations/neb-nasicon/barrier_model.json").read_text())
    lin = model["linear_map"]
    assert f"slope {lin['slope']:.3f}" in TEXT and f"RMSE {lin['cv_rmse_eV']:.3f} eV" in TEXT
    bvse = [float(r["bvse_barrier_eV"]) for r in rows]
    assert f"BVSE barriers of {min(bvse):.1f}-{max(bvse):.1f} eV" in TEXT


def test_ml_headline_is_the_shipped_selection():
    rec = json.loads((ROOT / "nasicon_sim/ml/default_selection.json").read_text())
    sel = rec["outer_summary"]["selected_procedure"]["balanced_accuracy"]
    gnb = rec["outer_summary"]["study_gnb"]["balanced_accuracy"]
    assert f"{sel['mean']:.3f} ± {sel['std']:.3f} over {sel['n']} outer folds" in TEXT
    assert f"against {gnb['mean']:.3f} ± {gnb['std']:.3f}" in TEXT
    assert f"over {len(rec['candidates'])} candidate models" in TEXT


def test_relaxation_headline_is_the_benchmark():
    wall = (ROOT / "benchmarks/results/bench_optimizers_ME1_1cell_walltime.txt").read_text()
    m = re.search(r"LBFGS\s+time x([\d.]+)\s+calls x([\d.]+)\s+dE\s+(-?[\d.]+) meV", wall)
    assert m, "LBFGS ratio line missing"
    assert f"in {float(m[1]):.2f} of FIRE's wall time ({float(m[2]):.2f} of its CHGNet calls)" \
        in TEXT
    assert f"to a {abs(float(m[3])):.0f} meV lower energy" in TEXT
    speedups = []
    for name in ("bench_batch_ME1", "bench_batch_ME1_run2", "bench_batch_ME1_bs2"):
        d = json.loads((ROOT / f"benchmarks/results/{name}.json").read_text())
        speedups += [row["speedup_batched"] for row in d["rows"]]
    assert f"({min(speedups):.2f}-{max(speedups):.2f}x)" in TEXT


def test_relaxed_ensemble_headline_is_the_recorded_summary():
    summary = json.loads((ROOT / "calculations/zuo2026-relaxed-8/results/summary.json").read_text())
    comps = summary["compositions"]
    flat = " ".join(TEXT.split())
    un = [c["relaxation"]["unrelaxed_E_3D_eV"]["mean_eV"] for c in comps]
    rel = [c["relaxation"]["relaxed_E_3D_eV"]["mean_eV"] for c in comps]
    assert all(c["relaxation"]["n_converged"] == c["relaxation"]["n"] == 8 for c in comps)
    assert (f"from {min(un):.3f}-{max(un):.3f} eV to {min(rel):.3f}-{max(rel):.3f} eV"
            in flat)
    fw = {c["composition"]["label"]: c["n_frameworks"] for c in comps}
    assert f"NZSP's and LE's hold {fw['NZSP']} and {fw['LE']} distinct frameworks" in flat
    corr = summary["correlations"]["E_3D_eV vs log10 sigma_total"]
    assert (f"Spearman {corr['rho']:+.2f} (95 % bootstrap interval over configurations "
            f"{corr['ci_low']:+.2f}..{corr['ci_high']:+.2f}, p = {corr['p_value']:.2f}, "
            f"n = {corr['n_compositions']})") in flat
    assert corr["rho"] > 0  # "the wrong way round"
    assert corr["p_method"] == "exact permutation"
    kmc = summary["kmc"]
    s = kmc["settings"]
    temps = s["temperatures_K"]
    assert f"kMC on the relaxed networks ({temps[0]:.0f}-{temps[-1]:.0f} K, {s['passes']} passes" \
        in flat
    kc = kmc["compositions"]
    n_fit = sum(c["n_fitted"] for c in kc.values())
    n_all = sum(c["n_configurations"] for c in kc.values())
    assert f"fits an Arrhenius line for {n_fit} of the {n_all} configurations" in flat
    assert kc["LE"]["n_fitted"] == 0 and "none of LE's" in flat
    assert all(c["n_fitted"] > 0 for lab, c in kc.items() if lab != "LE")
    means = {lab: c["log10_sigma_25C_mean"] for lab, c in kc.items() if c["n_fitted"]}
    hi, lo = max(means, key=means.get), min(means, key=means.get)
    assert (f"mean log10 sigma(25 °C) {means[hi]:.2f} ({hi}) to {means[lo]:.2f} ({lo})"
            in flat)
    rs = kmc["correlations"]["log10 sigma_25C kMC vs log10 sigma_total measured"]
    assert (f"Spearman {rs['rho']:+.2f} (95 % bootstrap interval {rs['ci_low']:+.2f}.."
            f"{rs['ci_high']:+.2f}, exact p = {rs['p_value']:.3f}, n = {rs['n_compositions']})"
            in flat)
    assert rs["p_method"] == "exact permutation" and rs["rho"] < -1 + 1e-9  # "exactly against"
    # "also among the four single-phase ones": their kMC order is the reverse of the measured
    single = [c for c in summary["compositions"] if c["composition"]["single_phase"]]
    assert len(single) == 4
    by_kmc = sorted(single, key=lambda c: means[c["composition"]["label"]])
    by_meas = sorted(single, key=lambda c: c["composition"]["sigma_total_mS_cm"])
    assert by_kmc == by_meas[::-1]
    ea = {lab: (c["Ea_eV_mean"], c["Ea_eV_sd"], c["measured_ea_eV"]) for lab, c in kc.items()
          if c["measured_ea_eV"] is not None}
    assert sorted(ea) == ["ME1", "NZSP"]
    assert (f"Its Ea is {ea['NZSP'][0]:.2f} ± {ea['NZSP'][1]:.2f} eV for NZSP and "
            f"{ea['ME1'][0]:.2f} ± {ea['ME1'][1]:.2f} eV for ME1, against measured "
            f"{ea['NZSP'][2]:.2f} and {ea['ME1'][2]:.2f} eV") in flat
    assert kmc["correlations"]["Ea kMC vs Ea measured"] is None  # two measured Ea only
    # the lower window with the E_KRA floor (profile "floor", results-floor/)
    fl = json.loads((ROOT / "calculations/zuo2026-relaxed-8/results-floor/summary.json")
                    .read_text())["kmc"]
    ft = fl["settings"]["temperatures_K"]
    assert (f"At {ft[0]:.0f}-{ft[-1]:.0f} K, with an E_KRA floor of "
            f"{fl['settings']['kra_floor_eV']:.2f} eV that passed a check") in flat
    rf = fl["correlations"]["log10 sigma_25C kMC vs log10 sigma_total measured"]
    assert (f"Spearman is {rf['rho']:+.2f} ({rf['ci_low']:+.2f}..{rf['ci_high']:+.2f}, exact "
            f"p = {rf['p_value']:.2f}, n = {rf['n_compositions']})") in flat
    fc = fl["compositions"]
    fm = {lab: fc[lab]["log10_sigma_25C_mean"] for lab in ("ME1", "ME2", "HE1", "HE2")}
    assert max(fc[lab]["log10_sigma_25C_mean"] or -99 for lab in fc) == \
        fc["NZSP"]["log10_sigma_25C_mean"]  # "NZSP stays on top"
    spread = max(fm.values()) - min(fm.values())
    assert f"lie within {spread:.2f} decades, less than each one's spread" in flat
    assert all(fc[lab]["log10_sigma_25C_sd"] > spread for lab in fm)
