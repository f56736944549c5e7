"""The study runner: end to end on a tiny study, resume after a kill, dask = local pool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasicon_sim.runner import run_study
from nasicon_sim.store import ResultsStore
from nasicon_sim.study import load_study

TINY = """
[study]
name = "tiny"
title = "tiny test study"
source = "test fixture"

[ensemble]
n_configurations = {n}
method = "random"
seed = 1
min_atoms = 150

[bvse]
spacing_A = 0.5
threshold_eV = 0.9

[[composition]]
label = "NZSP"
formula = "Na3Zr2Si2PO12"
sigma_total_mS_cm = 0.26
sigma_bulk_mS_cm = 2.98
ea_eV = 0.35
single_phase = false

[[composition]]
label = "ME1"
formula = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"
sigma_total_mS_cm = 1.3
sigma_bulk_mS_cm = 2.95
single_phase = true

[[composition]]
label = "LE"
formula = "Na3.5Zr1.5Lu0.5Si2PO12"
sigma_total_mS_cm = 0.67
"""


def tiny_study(tmp_path: Path, n: int = 2, spacing_A: float = 0.5) -> Path:
    d = tmp_path / "tiny"
    d.mkdir(exist_ok=True)
    (d / "study.toml").write_text(TINY.format(n=n).replace("spacing_A = 0.5", f"spacing_A = {spacing_A}"))
    return d


def barriers_by_key(store: ResultsStore) -> dict[str, tuple]:
    return {r["task_hash"]: (r["label"], r["index"], r["E_1D_eV"], r["E_2D_eV"], r["E_3D_eV"])
            for r in store.rows()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    study = load_study(tiny_study(tmp))
    results = run_study(study, tmp / "out", workers=1, progress=False)
    return study, results, tmp / "out"


def test_end_to_end_outputs(finished):
    study, results, out = finished
    assert results.run.n_tasks == 6 and results.run.n_computed == 6 and not results.run.failures
    for name in ("report.md", "report.html", "summary.json", "results.db",
                 "figures/barriers.png", "figures/barrier_vs_sigma.png"):
        assert (out / name).is_file(), name
    text = (out / "report.md").read_text()
    assert "Spearman" in text and "Where the comparison cannot hold" in text
    assert "bulk" in text  # NZSP/ME1 bulk-vs-total note
    for comp in results.compositions:
        assert comp.n_configurations == 2
        s3 = comp.summaries["E_3D_eV"]
        assert 0.0 < s3.mean_eV < 3.0
        assert comp.n_atoms >= 150
    assert list((out / "figures").glob("section_*.png"))


def test_rerun_recomputes_nothing_and_gives_the_same_numbers(finished):
    study, results, out = finished
    before = barriers_by_key(ResultsStore(out / "results.db"))
    again = run_study(study, out, workers=1, progress=False)
    assert again.run.n_computed == 0 and again.run.n_reused == 6
    assert barriers_by_key(ResultsStore(out / "results.db")) == before
    for a, b in zip(results.compositions, again.compositions):
        assert a.barriers == b.barriers


def test_more_configurations_reuse_the_first_ones(finished, tmp_path):
    study, _, out = finished
    import shutil
    from dataclasses import replace

    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    bigger = replace(study, ensemble=replace(study.ensemble, n_configurations=3))
    # a different n changes the ensemble definition, hence every key: nothing is silently reused
    res = run_study(bigger, copy, workers=1, progress=False, report=False)
    assert res.run.n_computed == 9


def test_killed_run_resumes_without_loss_or_recomputation(tmp_path):
    study_dir = tiny_study(tmp_path, n=4, spacing_A=0.25)  # ~1 s per task: time to kill
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "nasicon_sim", "run", str(study_dir), "-o", str(out),
           "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = out / "results.db"
    deadline = time.time() + 300
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                stored = len(ResultsStore(db))
            except Exception:
                stored = 0
            if stored >= 1:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = ResultsStore(db)
    survived = barriers_by_key(store)
    assert 1 <= len(survived) < 12
    second = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert f"{12 - len(survived)} computed, {len(survived)} reused" in second.stdout
    final = barriers_by_key(ResultsStore(db))
    assert len(final) == 12
    assert all(final[k] == v for k, v in survived.items())  # nothing lost or changed
    assert len(list(ResultsStore(db).rows())) == 12  # every key exactly once


def test_dask_local_cluster_gives_the_same_results_as_the_local_pool(tmp_path, finished):
    distributed = pytest.importorskip("distributed")
    study, _, out = finished
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        res = run_study(study, tmp_path / "dask", dask_address=cluster.scheduler_address,
                        progress=False, report=False)
    assert res.run.n_computed == 6 and res.run.executor.startswith("dask:")
    assert barriers_by_key(ResultsStore(tmp_path / "dask" / "results.db")) == \
        barriers_by_key(ResultsStore(out / "results.db"))
