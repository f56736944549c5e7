"""The recorded NEB calculation: the guide quotes its summary, the summary its hop files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nasicon_sim.neb import read_result

ROOT = Path(__file__).resolve().parents[2]
CALC = ROOT / "calculations" / "neb-nasicon"
GUIDE = ROOT / "docs" / "guide" / "neb.md"


def test_guide_quotes_the_summary_table():
    table = (CALC / "summary.md").read_text().splitlines()
    guide = GUIDE.read_text()
    assert len(table) > 2
    for line in table:
        assert line in guide, line


def test_summary_matches_the_hop_files():
    summary = json.loads((CALC / "summary.json").read_text())
    assert summary["hops"]
    for row in summary["hops"]:
        r = read_result(CALC / row["file"])
        assert row["status"].split(",")[0] == r.status
        assert row["status"].endswith("no saddle") == (r.barrier_forward_eV is not None
                                                       and not r.has_saddle)
        if r.barrier_forward_eV is None:
            assert row["neb_forward_eV"] is None and row["message"] == r.message
            continue
        assert row["neb_forward_eV"] == pytest.approx(r.barrier_forward_eV, abs=1e-6)
        assert row["neb_backward_eV"] == pytest.approx(r.barrier_backward_eV, abs=1e-6)
        de = r.final_energy_eV - r.initial_energy_eV
        assert row["neb_forward_eV"] - row["neb_backward_eV"] == pytest.approx(de, abs=2e-6)
        assert row["bvse_forward_eV"] == pytest.approx(r.hop.bvse_barrier_forward_eV, abs=1e-6)
    model = json.loads((CALC / "barrier_model.json").read_text())
    assert model == summary["model"]


def test_guide_quotes_the_benchmark_runs():
    guide = GUIDE.read_text()
    runs = [json.loads((ROOT / "benchmarks" / "results" / name).read_text())
            for name in ("bench_neb.json", "bench_neb_run2.json")]
    for key, label in (("ours_s_per_force_call", "ours, one CHGNet batch per step"),
                       ("ase_s_per_force_call", "ASE, image by image"),
                       ("ratio_ase_over_ours", "ratio ASE / ours")):
        row = next(line for line in guide.splitlines() if line.startswith(f"| {label}"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        assert cells == [f"{r[key]:.2f}" for r in runs]
    for r in runs:
        assert r["barrier_difference_eV"] < 1e-3
