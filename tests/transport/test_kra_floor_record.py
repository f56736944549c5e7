"""The recorded check of the E_KRA floor on the relaxed networks (calculations/kmc-kra-floor):
its table is what the script makes of its saved results and the study's store, and the
transport guide quotes it and what it says."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALC = ROOT / "calculations" / "kmc-kra-floor"
GUIDE = ROOT / "docs" / "guide" / "transport.md"


def _script():
    spec = importlib.util.spec_from_file_location("validate_kra_floor", CALC / "validate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_is_the_saved_results_against_the_study_store():
    mod = _script()
    saved = json.loads((CALC / "results.json").read_text())
    table = "\n".join(mod._table(saved, *mod._load()))
    assert table + "\n" == (CALC / "table.md").read_text()
    assert table in GUIDE.read_text()
    # each saved run used the study's [kmc] settings and only added the floor
    study, *_ = mod._load()
    settings = study.kmc.settings_dict()
    for job in saved.values():
        used = job["result"]["settings"]
        assert used["kra_floor_eV"] == job["floor_eV"] > 0
        assert {k: used[k] for k in settings} == settings


def test_guide_prose_is_the_recorded_check():
    import re

    import numpy as np

    text = " ".join(GUIDE.read_text().split())
    table = (CALC / "table.md").read_text()
    s35 = re.search(r"floor 0.35 eV: (\d+) .*?median ([\d.]+) .*?(\d+) of \d+ below 1, (\d+) "
                    r"beyond .*?per block ([\d.]+)-([\d.]+) times", table)
    s45 = re.search(r"floor 0.45 eV: (\d+) .*?median ([\d.]+) \(range ([\d.]+)-.*?(\d+) of "
                    r"\d+ below 1", table)
    assert f"(median ratio {s35[2]}, {s35[4]} of {s35[1]} beyond two standard errors)" in text
    assert f"each block holds {s35[5]}-{s35[6]} times the displacement" in text
    assert f"({s45[4]} of {s45[1]} points below the plain kMC" in text
    assert float(s45[3]) == 0.05 and "down to a twentieth for NZSP#3" in text
    assert "| NZSP#3 | 0.45 | 873 |" in table and "| 0.05 |" in table
    # "a configuration's sigma with a standard error of about 30 %"
    mod = _script()
    study, store, keys, kmc_key = mod._load()
    settings = study.kmc.settings_dict()
    rel = [r["sigma_err_S_cm"][i] / r["sigma_S_cm"][i]
           for c in study.compositions for k in keys[c.label]
           for r in [store.get(kmc_key(k, settings))] for i in range(len(r["sigma_S_cm"]))
           if r["converged"][i] and r["sigma_S_cm"][i] > 0]
    assert round(float(np.median(rel)), 1) == 0.3 and "standard error of about 30 %" in text
    means = [r["hop_types"]["Na1-Na3"]["E_KRA_eV_mean"]
             for c in study.compositions for k in keys[c.label]
             for r in [store.get(kmc_key(k, settings))]]
    assert f"Na1-Na3 hops (mean E_KRA {min(means):.2f}-{max(means):.2f} eV per configuration)" \
        in text
    runs = json.loads((CALC / "results.json").read_text())
    walls = [j["wall_s"] for j in runs.values()]
    assert f"{len(walls)} runs of {min(walls):.0f}-{max(walls):.0f} s" in text
