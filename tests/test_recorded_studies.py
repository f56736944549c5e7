"""The committed results of calculations/<study>/ are what this code makes of its store.

Every recorded study ships its ase.db store with its report. If a change of code version or
of the study's settings changes the task keys, or the stored rows no longer aggregate to the
committed summary, the recorded report is stale: rerun ``nasicon-sim run calculations/<study>``.
The tables of the recorded zuo2026 studies, in the README (headline) and on the guide pages
``docs/guide/study-runner.md`` and ``docs/guide/relaxation-dft.md``, are checked against the
same summaries.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from nasicon_sim.runner import (
    BARRIER_KEYS,
    RunSummary,
    aggregate,
    migrate_legacy_relax_keys,
    migrate_task_keys,
    task_keys,
)
from nasicon_sim.store import ResultsStore
from nasicon_sim.study import load_study

ROOT = Path(__file__).resolve().parents[1]
RECORDED = sorted(p.parent.parent for p in (ROOT / "calculations").glob("*/results/summary.json"))


def test_some_study_is_recorded():
    assert ROOT / "calculations" / "zuo2026" in RECORDED


@pytest.fixture(scope="module", params=RECORDED, ids=lambda p: p.name)
def recorded(request, tmp_path_factory):
    study = load_study(request.param)
    # a copy: aggregation must not touch the committed file
    db = tmp_path_factory.mktemp(study.name) / "results.db"
    shutil.copy(request.param / "results" / "results.db", db)
    summary = json.loads((request.param / "results" / "summary.json").read_text())
    store = ResultsStore(db)
    # what `nasicon-sim run` does first: rows keyed by an older version get the current keys
    migrate_task_keys(store, study)
    for comp in study.compositions:  # what run_study does first: FIRE rows stored before the
        migrate_legacy_relax_keys(store, study, comp)  # optimiser was in the key are re-keyed
    return study, store, summary


def test_store_holds_every_task_of_the_study(recorded):
    study, store, _ = recorded
    missing = {c.label: sum(k not in store for k in task_keys(study, c))
               for c in study.compositions}
    assert not any(missing.values()), f"stale recorded store, missing per composition: {missing}"


def test_summary_is_the_aggregate_of_the_store(recorded, tmp_path):
    study, store, summary = recorded
    run = RunSummary(n_tasks=0, n_computed=0, n_reused=0, failures=(), seconds=0.0,
                     executor="test")
    results = aggregate(study, store, run, tmp_path)
    by_label = {c["composition"]["label"]: c for c in summary["compositions"]}
    assert set(by_label) == {c.composition.label for c in results.compositions}
    for comp in results.compositions:
        recorded_comp = by_label[comp.composition.label]
        assert comp.n_configurations == study.ensemble.n_configurations
        for key in BARRIER_KEYS:
            assert comp.barriers[key] == pytest.approx(recorded_comp["barriers"][key], abs=1e-9)
            assert comp.summaries[key].mean_eV == pytest.approx(
                recorded_comp["summaries"][key]["mean_eV"], abs=1e-9)
    for name, recorded_corr in summary["correlations"].items():
        if recorded_corr is not None:
            assert results.correlations[name].rho == pytest.approx(recorded_corr["rho"],
                                                                   abs=1e-12)


README = ROOT / "README.md"
STUDY_PAGE = ROOT / "docs" / "guide" / "study-runner.md"
RELAX_PAGE = ROOT / "docs" / "guide" / "relaxation-dft.md"


def _readme_row(title: str, section: str = "**The recorded study**",
                page: Path = STUDY_PAGE) -> list[str]:
    """Cells of the row ``title`` of the first table after ``section`` in ``page``."""
    text = page.read_text().split(section, 1)[1]
    table = text[text.index("\n|"):].split("\n\n", 1)[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == title:
            return cells[1:]
    raise AssertionError(f"{page.name}'s recorded-study table has no row {title!r}")


@pytest.mark.parametrize("page", [README, STUDY_PAGE], ids=lambda p: p.name)
def test_readme_table_of_the_recorded_study_is_the_summary(page):
    summary = json.loads((ROOT / "calculations/zuo2026/results/summary.json").read_text())
    comps = summary["compositions"]
    e3d = [c["summaries"]["E_3D_eV"] for c in comps]

    def row(title: str) -> list[str]:
        return _readme_row(title, page=page)

    assert row("E_3D (eV), mean ± s.d.") == [
        f"{s['mean_eV']:.3f} ± {s['std_eV']:.3f}" for s in e3d]
    assert row("fraction with E_3D < 0.7 eV") == [f"{s['fraction_below']:.2f}" for s in e3d]
    refined = [c["refined_summaries"]["E_3D_refined_eV"] for c in comps]
    assert row("E_3D refined (eV), mean ± s.d.") == [
        f"{s['mean_eV']:.3f} ± {s['std_eV']:.3f}" for s in refined]
    assert [re.sub(r"\s*\*$", "", v) for v in row("GNB p(single phase)")] == [
        f"{c['ml']['p_single_phase']:.2f}" for c in comps]
    assert row("measured sigma_total (mS/cm)") == [
        f"{c['composition']['sigma_total_mS_cm']:.2f}" for c in comps]
    assert row("dS_mix/R") == [f"{c['descriptors']['entropy_R']:.2f}" for c in comps]
    corr = summary["correlations"]["E_3D_eV vs log10 sigma_total"]
    text = " ".join(page.read_text().split())
    assert (f"{corr['rho']:+.2f} (95 % bootstrap interval over configurations "
            f"{corr['ci_low']:+.2f}..{corr['ci_high']:+.2f}, p = {corr['p_value']:.2f})") in text


def test_readme_trap_numbers_of_the_recorded_study_are_the_summary():
    import numpy as np

    summary = json.loads((ROOT / "calculations/zuo2026/results/summary.json").read_text())
    comps = {c["composition"]["label"]: c for c in summary["compositions"]}
    minima = {k: np.mean(c["minima_eV"]) for k, c in comps.items()}
    levels = {k: np.add(c["minima_eV"], c["barriers"]["E_3D_eV"]) for k, c in comps.items()}
    text = " ".join(STUDY_PAGE.read_text().split())
    depth = np.median(list(minima.values())) - minima["HE1"]
    assert f"HE1's deepest Na site lies {depth:.3f} eV below the median minimum" in text
    n_ga = sum(v for k, v in comps["HE1"]["deepest_site_cations"].items() if "Ga" in k.split("-"))
    assert f"next to Ga in {n_ga} of 16 configurations" in text
    for label in ("HE1", "HE2"):
        assert f"{levels[label].mean():.3f} ± {levels[label].std():.3f} eV" in text
    from ase.data import atomic_numbers, covalent_radii

    radii = {el: covalent_radii[atomic_numbers[el]] for el in ("Ga", "Sc")}
    assert f"Ga {radii['Ga']:.2f} A, Sc {radii['Sc']:.2f} A" in text


def test_readme_table_of_the_relaxed_study_is_the_summary():
    summary = json.loads((ROOT / "calculations/zuo2026-relaxed/results/summary.json").read_text())
    relax = [c["relaxation"] for c in summary["compositions"]]
    text = RELAX_PAGE.read_text()
    section = text.split("**The recorded relaxed study**", 1)[1].split("**Speed.**", 1)[0]

    def row(title: str) -> list[str]:
        return _readme_row(title, "**The recorded relaxed study**", RELAX_PAGE)

    for stage in ("unrelaxed", "relaxed"):
        assert row(f"E_3D {stage} (eV)") == [
            f"{r[f'{stage}_E_3D_eV']['mean_eV']:.3f} ± {r[f'{stage}_E_3D_eV']['std_eV']:.3f}"
            for r in relax]
    assert row("M distortion index, largest (relaxed)") == [
        f"{r['relaxed_m_distortion_index_max']:.4f}" for r in relax]
    rises = [r["relaxed_E_3D_eV"]["mean_eV"] - r["unrelaxed_E_3D_eV"]["mean_eV"] for r in relax]
    flat = " ".join(section.split())
    assert f"raises every 3D barrier (by {min(rises):.2f}-{max(rises):.2f} eV)" in flat
    corr = summary["correlations"]["E_3D_eV vs log10 sigma_total"]
    assert (f"{corr['rho']:+.2f} (95 % bootstrap interval over configurations "
            f"{corr['ci_low']:+.2f}..{corr['ci_high']:+.2f}, p = {corr['p_value']:.2f})") in flat
