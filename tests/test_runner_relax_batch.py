"""The study runner's [relax] optimizer and batch_size: batched workers store the same rows as
one-by-one workers; the optimiser is in the task key; rows stored before it was (all FIRE) are
re-keyed, not recomputed; unrelaxed studies keep their keys."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from test_runner import TINY

from nasicon_sim.errors import DataError
from nasicon_sim.runner import _task_inputs, migrate_legacy_relax_keys, run_study, task_keys
from nasicon_sim.store import ResultsStore, task_hash
from nasicon_sim.study import load_study


def _study(tmp_path, name: str, relax: str, n: int = 2):
    d = tmp_path / name
    d.mkdir()
    text = TINY.format(n=n).split("[[composition]]")
    text = text[0] + "[relax]\n" + relax + "\n\n[[composition]]" + text[2]  # ME1 only
    (d / "study.toml").write_text(text)
    return load_study(d)


SPRINGS = 'method = "_relax_helpers:shift_springs"\nfmax_eV_A = 0.01\n'


def _rows(store: ResultsStore) -> dict[str, dict]:
    return {r["task_hash"]: r for r in store.rows()}


@pytest.mark.slow
def test_batched_workers_store_the_one_by_one_rows(tmp_path):
    one = _study(tmp_path, "one", SPRINGS + 'optimizer = "BFGS"\n')
    two = _study(tmp_path, "two", SPRINGS + 'optimizer = "bfgs"\nbatch_size = 2\n')
    assert task_keys(one, one.compositions[0]) == task_keys(two, two.compositions[0])
    r1 = run_study(one, tmp_path / "o1", workers=1, progress=False, report=False,
                       allow_plugins=True)
    r2 = run_study(two, tmp_path / "o2", workers=1, progress=False, report=False,
                       allow_plugins=True)
    assert r1.run.n_computed == r2.run.n_computed == 2 and not r2.run.failures
    rows1, rows2 = _rows(ResultsStore(tmp_path / "o1" / "results.db")), \
        _rows(ResultsStore(tmp_path / "o2" / "results.db"))
    assert rows1.keys() == rows2.keys()
    for key, a in rows1.items():
        b = rows2[key]
        assert b["relaxation"]["converged"] and b["relaxation"]["settings"]["optimizer"] == "BFGS"
        assert b["relaxation"]["n_steps"] == a["relaxation"]["n_steps"]
        assert b["E_3D_eV"] == pytest.approx(a["E_3D_eV"], abs=1e-6)
        assert b["relaxation"]["energy_final_eV"] == pytest.approx(
            a["relaxation"]["energy_final_eV"], abs=1e-9)
    # every saved relaxation of the batch was stored, so none is left in the cache
    assert not list((tmp_path / "o2" / "relax-cache").glob("*.json"))


def test_fire_rows_stored_under_the_old_key_are_rekeyed_not_recomputed(tmp_path):
    study = _study(tmp_path, "fire", SPRINGS + 'optimizer = "FIRE"\n', n=1)
    comp = study.compositions[0]
    out = tmp_path / "out"
    first = run_study(study, out, workers=1, progress=False, report=False,
                       allow_plugins=True)
    assert first.run.n_computed == 1
    store = ResultsStore(out / "results.db")
    (key,) = task_keys(study, comp)
    legacy = task_hash(_task_inputs(study, comp, 0, legacy=True))
    assert legacy != key
    assert store.rekey(key, legacy)  # as a store written before the optimiser was in the key
    assert key not in store
    again = run_study(study, out, workers=1, progress=False, report=False,
                       allow_plugins=True)
    assert again.run.n_computed == 0 and again.run.n_reused == 1
    assert key in store and legacy not in store
    # another optimiser does not take FIRE's rows
    bfgs = _study(tmp_path, "bfgs", SPRINGS + 'optimizer = "BFGS"\n', n=1)
    assert task_keys(bfgs, bfgs.compositions[0]) != [key]
    assert store.rekey(key, legacy)
    assert migrate_legacy_relax_keys(store, bfgs, bfgs.compositions[0]) == 0


def test_the_study_default_optimizer_is_the_relax_default(tmp_path):
    from nasicon_sim.relax import DEFAULT_OPTIMIZER

    assert _study(tmp_path, "d", SPRINGS).relax.optimizer == DEFAULT_OPTIMIZER == "LBFGS"


def test_unrelaxed_keys_do_not_change(tmp_path):
    # the relax part of a key without relaxation is what it was before optimizer/batch_size
    study = _study(tmp_path, "none", 'method = "none"\noptimizer = "BFGS"\nbatch_size = 4\n')
    inputs = _task_inputs(study, study.compositions[0], 0)
    assert inputs["relax"] == {"method": "none", "fmax_eV_A": 0.05, "steps": 500, "cell": False}
    assert set(asdict(study.relax)) == {"method", "fmax_eV_A", "steps", "cell", "optimizer",
                                        "batch_size"}


@pytest.mark.parametrize("relax, match", [
    ('method = "chgnet"\noptimizer = "CG"\n', "optimizer must be one of"),
    ('method = "chgnet"\nbatch_size = 0\n', "batch_size must be >= 1"),
    ('method = "chgnet"\nbatch_size = 2.5\n', "batch_size must be an integer"),
])
def test_bad_relax_options_are_one_clear_error(tmp_path, relax, match):
    with pytest.raises(DataError, match=match):
        _study(tmp_path, "bad", relax)


def test_an_interrupted_batch_keeps_its_finished_relaxations(tmp_path):
    """A member saved to the relaxation cache is not relaxed again."""
    from pymatgen.core import Structure

    from nasicon_sim.runner import ConfigTask, _build, _reference, run_configuration_batch

    study = _study(tmp_path, "cache", SPRINGS + "batch_size = 2\n", n=2)
    comp = study.compositions[0]
    ensemble = _build(study, comp)
    keys = task_keys(study, comp)
    tasks = tuple(ConfigTask(key=k, study=study.name, label=comp.label, formula=comp.formula,
                             index=i, structure=ensemble[i].structure.as_dict(),
                             reference=_reference(ensemble[i]), bvse={"spacing_A": 0.5},
                             relax=asdict(study.relax), relax_cache=str(tmp_path / "cache"))
                  for i, k in enumerate(keys))
    first = run_configuration_batch(tasks)
    saved = sorted(p.stem for p in (tmp_path / "cache").glob("*.json"))
    assert saved == sorted(keys)
    # make the saved relaxation of member 0 recognisable: a second run must use it as is
    import json

    path = tmp_path / "cache" / f"{keys[0]}.json"
    d = json.loads(path.read_text())
    d["record"]["n_steps"] = -7
    path.write_text(json.dumps(d))
    second = run_configuration_batch(tasks)
    assert second[0]["relaxation"]["n_steps"] == -7
    assert second[1]["relaxation"]["n_steps"] == first[1]["relaxation"]["n_steps"]
    s0 = Structure.from_dict(second[0]["relaxed_structure"])
    assert np.allclose(s0.cart_coords, Structure.from_dict(first[0]["relaxed_structure"]).cart_coords)


def test_the_successor_protocol_of_the_relaxed_study_loads():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "calculations"
    recorded = load_study(root / "zuo2026-relaxed")
    successor = load_study(root / "zuo2026-relaxed-8")
    assert recorded.relax.optimizer == "FIRE"  # what its stored rows were relaxed by
    assert successor.ensemble.n_configurations >= 8 and successor.relax.optimizer == "LBFGS"
    assert [c.formula for c in successor.compositions] == \
        [c.formula for c in recorded.compositions]
    assert successor.bvse == recorded.bvse
