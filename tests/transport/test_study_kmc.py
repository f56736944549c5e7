"""kMC as a study stage: [kmc] table, stored per configuration, resumed, reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nasicon_sim.errors import DataError
from nasicon_sim.store import ResultsStore
from nasicon_sim.study import load_study

STUDY = """
[study]
name = "tinykmc"
title = "tiny kMC study"
source = "test fixture"

[ensemble]
n_configurations = 1
method = "random"
seed = 1
min_atoms = 150

[bvse]
spacing_A = 0.4
threshold_eV = 0.9

[kmc]
temperatures_K = [473, 573]
passes = 40
runs = 2
blocks = 2
equilibration_passes = 5

[[composition]]
label = "NZSP"
formula = "Na3Zr2Si2PO12"
sigma_total_mS_cm = 0.26
ea_eV = 0.35

[[composition]]
label = "NZS"
formula = "Na4Zr2Si3O12"
sigma_total_mS_cm = 0.001

[[composition]]
label = "NZP"
formula = "NaZr2P3O12"
sigma_total_mS_cm = 0.0001
"""


def test_kmc_table_is_validated(tmp_path):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "study.toml").write_text(STUDY.replace("passes = 40", "passes = 0"))
    with pytest.raises(DataError, match=r"\[kmc\].*passes"):
        load_study(d)
    (d / "study.toml").write_text(STUDY.replace("passes = 40", "passses = 40"))
    with pytest.raises(DataError, match="passses"):
        load_study(d)


def test_report_does_not_import_the_runner():
    code = ("import sys, nasicon_sim.report.study; "
            "print('nasicon_sim.runner' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_study_runs_stores_resumes_and_reports_kmc(tmp_path):
    from nasicon_sim.runner import run_study, task_keys
    from nasicon_sim.transport.study import kmc_key

    d = tmp_path / "s"
    d.mkdir()
    (d / "study.toml").write_text(STUDY)
    study = load_study(d)
    assert study.kmc is not None and study.kmc.passes == 40
    out = tmp_path / "out"
    res = run_study(study, out, workers=1, progress=False)
    assert not res.run.failures
    store = ResultsStore(out / "results.db")
    settings = study.kmc.settings_dict()
    kmc_rows = {}
    for comp in study.compositions:
        k = kmc_key(task_keys(study, comp)[0], settings)
        assert k in store
        kmc_rows[comp.label] = store.get(k)
    nz = kmc_rows["NZSP"]
    assert nz["n_mobile"] > 0 and nz["sigma_S_cm"][1] > nz["sigma_S_cm"][0] > 0
    assert nz["Ea_eV"] is not None
    assert res.kmc["compositions"]["NZSP"]["n_configurations"] == 1
    assert set(res.kmc["correlations"]) == {
        "log10 sigma_25C kMC vs log10 sigma_total measured", "Ea kMC vs Ea measured"}
    report = (out / "report.md").read_text()
    assert "## Kinetic Monte Carlo transport" in report
    assert (out / "figures" / "kmc_arrhenius.png").stat().st_size > 1000
    n_rows = len(store)
    # rerun: nothing recomputed, same stored numbers
    res2 = run_study(study, out, workers=1, progress=False)
    assert res2.run.n_computed == 0 and len(ResultsStore(out / "results.db")) == n_rows
    assert res2.kmc["compositions"]["NZSP"]["sigma_25C_S_cm"] == \
        res.kmc["compositions"]["NZSP"]["sigma_25C_S_cm"]
    # another [kmc] setting is another task; the configurations are not recomputed
    (d / "study.toml").write_text(STUDY.replace("passes = 40", "passes = 44"))
    res3 = run_study(load_study(d), out, workers=1, progress=False)
    assert res3.run.n_computed == 0
    assert len(ResultsStore(out / "results.db")) == n_rows + 3
    assert Path(out / "summary.json").read_text().count('"kmc"') >= 1
