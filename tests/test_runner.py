"""The study runner: end to end on a tiny study, resume after a kill, dask = local pool."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nasicon_sim.errors import NasiconSimError
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
        # the deepest site's environment: one entry per configuration, made of M cations
        assert len(comp.minima_eV) == 2 and all(m < 0 for m in comp.minima_eV)
        assert sum(comp.deepest_site_cations.values()) == 2
        m_elements = set(comp.descriptors["m_site"])
        assert all(set(k.split("-")) <= m_elements for k in comp.deepest_site_cations)
    assert "Landscape minimum and percolation level" in text
    # NZSP's configurations differ only in Na (Zr on every M site, Hong's Si/P order): one
    # framework, one landscape; the report says so
    nzsp = next(c for c in results.compositions if c.composition.label == "NZSP")
    assert nzsp.n_frameworks == 1 and len(set(nzsp.barriers["E_3D_eV"])) == 1
    assert "NZSP: 2 configurations, 1 distinct framework" in text
    assert list((out / "figures").glob("section_*.png"))


def test_report_leads_with_network_refined_barriers(finished):
    """New rows carry network-refined thresholds (ordered E_1D <= E_2D <= E_3D, within the
    grid-vs-refined distance the BVSE stage reports) and the report's table shows them first."""
    _, results, out = finished
    for comp in results.compositions:
        r1, r2, r3 = (comp.refined[k] for k in ("E_1D_refined_eV", "E_2D_refined_eV",
                                                  "E_3D_refined_eV"))
        assert all(np.isfinite(r3)) and all(a <= b + 1e-9 <= c + 2e-9
                                            for a, b, c in zip(r1, r2, r3))
        grid = comp.barriers["E_3D_eV"]
        assert all(abs(g - r) < 0.3 for g, r in zip(grid, r3))
    text = (out / "report.md").read_text()
    assert "E_3D refined (eV)" in text and "E_3D grid (eV)" in text
    assert "E_3D_refined_eV vs log10 sigma_total" in results.correlations


def test_report_shows_the_nested_scores_of_both_models(finished):
    from nasicon_sim.ml.selection import shipped_selection

    _, results, out = finished
    text = (out / "report.md").read_text()
    if "ML evaluation unavailable" in text:
        pytest.skip("this fixture runs without the ML model")
    rec = shipped_selection().data
    ba = rec["outer_summary"]["selected_procedure"]["balanced_accuracy"]
    assert "Nested cross-validation of model selection" in text
    assert f"{ba['mean']:.3f} ± {ba['std']:.3f}" in text and rec["selected"]["key"] in text


def test_framework_key_ignores_na_and_atom_order_but_not_the_m_site():
    from ase import Atoms

    from nasicon_sim.runner import _framework_key

    base = Atoms("Na2ZrGaO2", scaled_positions=[[0, 0, 0], [0.5, 0, 0], [0.25, 0.25, 0.25],
                                                 [0.75, 0.75, 0.75], [0.1, 0.2, 0.3],
                                                 [0.6, 0.7, 0.8]], cell=[5, 6, 7], pbc=True)
    moved_na = base.copy()
    moved_na.positions[0] += [1.0, 1.0, 1.0]
    reordered = base[[5, 4, 3, 2, 1, 0]]
    swapped = base.copy()
    swapped.symbols[2], swapped.symbols[3] = "Ga", "Zr"
    key = _framework_key(base, "Na+")
    assert _framework_key(moved_na, "Na+") == key == _framework_key(reordered, "Na")
    assert _framework_key(swapped, "Na+") != key


def test_rerun_recomputes_nothing_and_gives_the_same_numbers(finished):
    study, results, out = finished
    before = barriers_by_key(ResultsStore(out / "results.db"))
    # what a run killed while writing its report leaves: removed by the next run
    from nasicon_sim.io.atomic import _host

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    litter = [out / f".report.html.{_host()}-{dead.pid}.x1y2z3.tmp",
              out / "figures" / f".barriers.png.{_host()}-{dead.pid}.x1y2z3.tmp"]
    for path in litter:
        path.write_bytes(b"partial")
    again = run_study(study, out, workers=1, progress=False)
    assert not any(path.exists() for path in litter)
    assert not list(out.glob(".*.tmp")) and not list((out / "figures").glob(".*.tmp"))
    assert again.run.n_computed == 0 and again.run.n_reused == 6
    assert barriers_by_key(ResultsStore(out / "results.db")) == before
    for a, b in zip(results.compositions, again.compositions):
        assert a.barriers == b.barriers


@pytest.fixture()
def no_ml(monkeypatch):
    """The ML scoring and its cross-validation are irrelevant to what the store holds."""
    import nasicon_sim.runner as runner

    monkeypatch.setattr(runner, "_ml_scores", lambda study: {})
    monkeypatch.setattr(runner, "_ml_evaluation", lambda study: {})


def test_more_configurations_reuse_the_first_ones(finished, tmp_path, no_ml):
    """Configuration k does not depend on the ensemble size (SeedSequence(seed, spawn_key=(k,))),
    so raising n_configurations from 2 to 3 computes only the third of each composition."""
    study, _, out = finished
    import shutil
    from dataclasses import replace

    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    before = barriers_by_key(ResultsStore(copy / "results.db"))
    bigger = replace(study, ensemble=replace(study.ensemble, n_configurations=3))
    res = run_study(bigger, copy, workers=1, progress=False, report=False)
    assert res.run.n_computed == 3 and res.run.n_reused == 6
    after = barriers_by_key(ResultsStore(copy / "results.db"))
    assert {k: after[k] for k in before} == before and len(after) == 9
    assert all(c.n_configurations == 3 for c in res.compositions)
    # and the third configuration is the one a 3-ensemble built from scratch holds
    from nasicon_sim.runner import _build

    comp = study.compositions[1]
    assert _build(bigger, comp, start=2)[2].structure == _build(bigger, comp)[2].structure


def test_a_store_keyed_by_an_older_version_is_migrated_not_recomputed(finished, tmp_path,
                                                                       no_ml):
    """Rows keyed with the ensemble size (versions <= 0.1.0) get the current keys."""
    import shutil

    from nasicon_sim.runner import _legacy_task_key, task_keys

    study, _, out = finished
    copy = tmp_path / "old"
    shutil.copytree(out, copy)
    store = ResultsStore(copy / "results.db")
    before = barriers_by_key(store)
    for comp in study.compositions:
        for i, key in enumerate(task_keys(study, comp)):
            assert store.rekey(key, _legacy_task_key(study, comp, i, 2))
    assert not any(k in store for c in study.compositions for k in task_keys(study, c))
    res = run_study(study, copy, workers=1, progress=False, report=False)
    assert res.run.n_computed == 0 and res.run.n_reused == 6
    assert barriers_by_key(ResultsStore(copy / "results.db")) == before


def test_a_task_stored_twice_counts_once_in_the_report(finished, tmp_path, no_ml):
    """A store written by an older version can hold a task twice: the aggregate (and with it
    the report's n and means) counts each task key once."""
    import shutil
    import sqlite3

    import ase.db

    from nasicon_sim.runner import RunSummary, aggregate

    study, results, out = finished
    copy = tmp_path / "dup"
    shutil.copytree(out, copy)
    db = copy / "results.db"
    con = sqlite3.connect(db)
    con.execute("DROP INDEX nasicon_sim_unique_task_hash")  # as in a store made before it
    con.commit()
    con.close()
    raw = ase.db.connect(str(db), use_lock_file=False)
    row = next(raw.select(label="ME1", index=0))
    data = dict(row.data)
    data["result"] = {**data["result"], "E_3D_eV": 9.0}  # a different number, same task
    raw.write(row.toatoms(), key_value_pairs={**row.key_value_pairs, "E_3D_eV": 9.0}, data=data)
    assert raw.count(task_hash=row.task_hash) == 2
    run = RunSummary(n_tasks=0, n_computed=0, n_reused=0, failures=(), seconds=0.0,
                     executor="test")
    again = aggregate(study, ResultsStore(db), run, copy)
    for a, b in zip(results.compositions, again.compositions):
        assert b.n_configurations == 2 and a.barriers == b.barriers


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


def test_relaxation_in_a_study_keeps_both_analyses(tmp_path):
    """Relax with a calculator whose minimum is a rigid shift: the relaxed structure is stored,
    both analyses are kept, and translation-invariant quantities do not change."""
    import numpy as np
    from _relax_helpers import SHIFT_A

    d = tmp_path / "relaxed"
    d.mkdir()
    text = TINY.format(n=1).split("[[composition]]")
    text = text[0] + '[relax]\nmethod = "_relax_helpers:shift_springs"\nfmax_eV_A = 0.01\n\n' \
        + "[[composition]]" + text[2]  # ME1 only
    (d / "study.toml").write_text(text)
    study = load_study(d)
    # the study names Python code: refused before any work unless the user allows plugins
    with pytest.raises(NasiconSimError, match="--allow-plugins"):
        run_study(study, tmp_path / "out", workers=1, progress=False)
    assert not (tmp_path / "out").exists()
    res = run_study(study, tmp_path / "out", workers=1, progress=False, allow_plugins=True)
    (comp,) = res.compositions
    assert comp.relaxation is not None and comp.relaxation["n_converged"] == 1
    store = ResultsStore(tmp_path / "out" / "results.db")
    (row,) = list(store.rows())
    assert row["relaxation"]["converged"]
    # bond-valence sums are exactly invariant under a rigid shift; grid barriers only up to the
    # grid error of a 0.5 A grid (the grid moves relative to the atoms)
    assert row["distortion"]["gii_vu"] == pytest.approx(row["unrelaxed"]["distortion"]["gii_vu"],
                                                        abs=1e-6)
    assert row["E_3D_eV"] == pytest.approx(row["unrelaxed"]["E_3D_eV"], abs=0.1)
    # the row's atoms are the relaxed (shifted) structure, not the input
    import ase.db

    atoms = next(ase.db.connect(str(tmp_path / "out" / "results.db")).select()).toatoms()
    from nasicon_sim.runner import _build

    start = _build(study, study.compositions[0])[0].structure
    cell = np.asarray(start.lattice.matrix)
    dfrac = (atoms.get_positions() - start.cart_coords) @ np.linalg.inv(cell)
    dcart = (dfrac - np.round(dfrac)) @ cell  # minimum image: atoms may wrap into the cell
    assert np.allclose(dcart, SHIFT_A, atol=0.02)
    assert "Relaxed vs unrelaxed" in (tmp_path / "out" / "report.md").read_text()


def test_redraw_sections_replaces_figures_only(tmp_path):
    """--redraw-sections redraws stored section figures with the current code; the stored
    numbers stay, and a store whose barriers the code no longer reproduces is refused."""
    from ase.db import connect

    from nasicon_sim.runner import task_keys

    study = load_study(tiny_study(tmp_path, n=1))
    out = tmp_path / "out"
    run_study(study, out, workers=1, progress=False)
    store = ResultsStore(out / "results.db")
    key = task_keys(study, study.compositions[0])[0]
    before = store.get(key)
    png = store.get_with_data(key)[1]["slice_png"]
    store.update_figures(key, {"slice_png": np.frombuffer(b"old figure", dtype=np.uint8)})
    with pytest.raises(Exception, match="only figure data"):
        store.update_figures(key, {"result": {}})
    res = run_study(study, out, workers=1, progress=False, redraw=True)
    assert res.run.n_computed == 0
    result, data = ResultsStore(out / "results.db").get_with_data(key)
    assert result == before
    redrawn = bytes(np.asarray(data["slice_png"], dtype=np.uint8))
    assert redrawn.startswith(b"\x89PNG") and len(redrawn) > 0.5 * len(bytes(np.asarray(png)))
    assert (out / "figures" / "section_NZSP.png").read_bytes() == redrawn
    # (the section may pass through another, symmetry-equivalent bottleneck link than the first
    # drawing: degenerate links tie to round-off; a redraw of the same store is the same figure)
    run_study(study, out, workers=1, progress=False, redraw=True)
    again = ResultsStore(out / "results.db").get_with_data(key)[1]["slice_png"]
    assert bytes(np.asarray(again, dtype=np.uint8)) == redrawn
    # a stored barrier the code does not reproduce: refused, nothing replaced
    db = connect(out / "results.db")
    row = next(db.select(task_hash=key))
    changed = dict(row.data["result"], E_3D_eV=row.data["result"]["E_3D_eV"] + 0.1)
    db.update(row.id, data={"result": changed}, E_3D_eV=changed["E_3D_eV"])
    with pytest.raises(NasiconSimError, match="recompute the study"):
        run_study(study, out, workers=1, progress=False, redraw=True)
