"""NEB as a study stage: the [neb] table, one stored task per hop, resumed, reported beside BVSE."""

from __future__ import annotations

import csv
import json

import pytest

from nasicon_sim.errors import DataError, NasiconSimError
from nasicon_sim.store import ResultsStore
from nasicon_sim.study import load_study

STUDY = """
[study]
name = "tinyneb"
title = "tiny NEB study"
source = "test fixture"

[ensemble]
n_configurations = 1
method = "ewald"
seed = 0

[bvse]
spacing_A = 0.3
threshold_eV = 0.9

[neb]
calculator = "_neb_helpers:born_mayer"
n_images = 3
fmax_eV_A = 0.1
steps = 200
max_hops = 2

[[composition]]
label = "NZSP"
formula = "Na3Zr2Si2PO12"
sigma_total_mS_cm = 0.26
"""


def _study(tmp_path, text=STUDY):
    d = tmp_path / "s"
    d.mkdir(exist_ok=True)
    (d / "study.toml").write_text(text)
    return load_study(d)


@pytest.mark.parametrize("old, new, match", [
    ("n_images = 3", "n_images = 0", r"\[neb\].*images"),
    ("n_images = 3", "n_imagez = 3", "n_imagez"),
    ("max_hops = 2", "max_hops = 0", r"\[neb\] max_hops"),
    ("max_hops = 2", 'max_hops = 2\nlabel_pairs = ["Na1 to Na2"]', r"\[neb\] label_pairs"),
    ("fmax_eV_A = 0.1", "fmax_eV_A = -1", r"\[neb\].*fmax"),
])
def test_neb_table_is_validated(tmp_path, old, new, match):
    with pytest.raises(DataError, match=match):
        _study(tmp_path, STUDY.replace(old, new))


def test_a_plugin_calculator_needs_allow_plugins(tmp_path):
    from nasicon_sim.runner import run_study

    study = _study(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(NasiconSimError, match=r"\[neb\] calculator.*--allow-plugins"):
        run_study(study, out, workers=1, progress=False)
    assert not (out / "results.db").exists()  # refused before any work


def test_study_computes_stores_resumes_and_reports_neb(tmp_path):
    from nasicon_sim.neb import Hop
    from nasicon_sim.neb.study import neb_key, plan_neb_tasks
    from nasicon_sim.runner import run_study, task_keys

    study = _study(tmp_path)
    out = tmp_path / "out"
    res = run_study(study, out, workers=1, progress=False, allow_plugins=True)
    assert not res.run.failures
    hops = res.neb["compositions"]["NZSP"]["hops"]
    assert len(hops) == 2
    store = ResultsStore(out / "results.db")
    ckey = task_keys(study, study.compositions[0])[0]
    with_barrier = 0
    for h in hops:
        row = next(r for r in store.rows(neb_study="tinyneb") if r["sites"] == h["sites"])
        assert row["configuration_key"] == ckey
        assert neb_key(ckey, Hop.from_dict(row["hop"]).tag, study.neb.settings_dict()) in store
        # the report's BVSE column is the configuration's own network link
        config = store.get(ckey)
        link = config["links"][row["hop"]["link_index"]]
        assert {round(link["barrier_from_a_eV"], 6), round(link["barrier_from_b_eV"], 6)} == \
            {round(h["bvse_forward_eV"], 6), round(h["bvse_backward_eV"], 6)}
        if h["neb_forward_eV"] is not None:
            with_barrier += 1
            de = row["final_energy_eV"] - row["initial_energy_eV"]
            assert h["neb_forward_eV"] - h["neb_backward_eV"] == pytest.approx(de, abs=1e-5)
    assert with_barrier >= 1  # the toy potential has real saddles
    report = (out / "report.md").read_text()
    assert "## NEB barriers beside BVSE" in report
    first = hops[0]
    assert f"| NZSP | 0 | {first['hop']} |" in report
    summary = json.loads((out / "summary.json").read_text())
    assert summary["neb"]["compositions"]["NZSP"]["hops"] == hops
    with open(out / "neb_barriers.csv") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 2 * sum(h["converged"] and h["has_saddle"] for h in hops)
    model = json.loads((out / "neb_barrier_model.json").read_text())
    assert model["n_hops"] == len(table) // 2
    n_rows = len(store)
    # rerun: every hop is reused
    tasks, n_done = plan_neb_tasks(study, store, {"NZSP": [ckey]})
    assert tasks == [] and n_done == 2
    res2 = run_study(study, out, workers=1, progress=False, allow_plugins=True)
    assert len(ResultsStore(out / "results.db")) == n_rows
    assert res2.neb["compositions"]["NZSP"]["hops"] == hops
    # other band settings are other tasks; the configuration is not recomputed
    study3 = _study(tmp_path, STUDY.replace("max_hops = 2", "max_hops = 1")
                    .replace("fmax_eV_A = 0.1", "fmax_eV_A = 0.09"))
    res3 = run_study(study3, out, workers=1, progress=False, allow_plugins=True)
    assert res3.run.n_computed == 0
    assert len(ResultsStore(out / "results.db")) == n_rows + 1
    assert len(res3.neb["compositions"]["NZSP"]["hops"]) == 1


def test_label_pairs_select_hops(tmp_path):
    from pymatgen.io.ase import AseAtomsAdaptor

    from nasicon_sim.neb.study import hops_of_row
    from nasicon_sim.runner import run_study, task_keys

    text = STUDY.replace("[neb]\n", "").replace('calculator = "_neb_helpers:born_mayer"\n', "")
    for key in ("n_images = 3\n", "fmax_eV_A = 0.1\n", "steps = 200\n", "max_hops = 2\n"):
        text = text.replace(key, "")
    study = _study(tmp_path, text)
    out = tmp_path / "out"
    run_study(study, out, workers=1, progress=False, report=False)
    store = ResultsStore(out / "results.db")
    row, atoms = next(store.records(task_hash=task_keys(study, study.compositions[0])[0]))
    structure = AseAtomsAdaptor.get_structure(atoms)
    every = hops_of_row(row, structure, 50)
    assert every and every[0].bottleneck_of  # bottlenecks first
    only = hops_of_row(row, structure, 50, ["Na2-Na1"])
    assert only and all(sorted(lab.rstrip("*") for lab in h.labels) == ["Na1", "Na2"]
                        for h in only)
    assert len(only) < len(every)
