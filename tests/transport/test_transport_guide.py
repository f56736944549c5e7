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
