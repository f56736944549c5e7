"""Store integrity under real concurrency and damage (issue 12, items 4 and 8).

The races are run with real processes (``multiprocessing`` with the ``spawn`` start method):
several processes released by one barrier put the same task, or create one new store, at the
same moment.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
from pathlib import Path

import pytest

from nasicon_sim.errors import DataError
from nasicon_sim.store import ResultsStore, task_hash

N_PROCESSES = 4
ROOT = Path(__file__).resolve().parents[1]


def _nacl():
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.cubic(5.64), ["Na+", "Cl-"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def _slow_down() -> None:
    """Widen the race windows as a busy machine would: building the row's atoms takes 0.5 s,
    and creating the tables pauses 0.5 s after the first table exists."""
    import time

    from pymatgen.io.ase import AseAtomsAdaptor

    get_atoms = AseAtomsAdaptor.get_atoms

    def slow_get_atoms(*args, **kwargs):
        time.sleep(0.5)
        return get_atoms(*args, **kwargs)

    AseAtomsAdaptor.get_atoms = staticmethod(slow_get_atoms)
    connect = sqlite3.connect

    def slow_connect(*args, **kwargs):
        con = connect(*args, **kwargs)

        def trace(statement: str) -> None:
            if statement.lstrip().upper().startswith("CREATE TABLE SPECIES"):
                time.sleep(0.5)

        con.set_trace_callback(trace)
        return con

    sqlite3.connect = slow_connect


def _put_same_task(path: str, barrier, queue, create_first: bool) -> None:
    try:
        _slow_down()
        structure = _nacl()
        if create_first:  # the store exists and holds another task
            store = ResultsStore(path)
            store.put("e" * 64, structure, {"E_3D_eV": 0.1})
            barrier.wait()
        else:
            barrier.wait()
            store = ResultsStore(path)  # every process creates the (new) store at once
        row_id = store.put("k" * 64, structure, {"E_3D_eV": 0.5}, {"label": "NaCl", "index": 0})
        queue.put(("ok", row_id))
    except BaseException as exc:  # reported to the parent, which fails the test
        barrier.abort()
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def _race(path: Path, create_first: bool) -> list[tuple[str, object]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(N_PROCESSES)
    queue = ctx.Queue()
    procs = [ctx.Process(target=_put_same_task, args=(str(path), barrier, queue, create_first))
             for _ in range(N_PROCESSES)]
    for p in procs:
        p.start()
    out = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return out


def _raw_rows(path: Path, key: str) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT COUNT(*) FROM text_key_values WHERE key='task_hash' AND "
                           "value=?", (key,)).fetchone()[0]
    finally:
        con.close()


@pytest.mark.slow
def test_processes_putting_one_task_write_it_once(tmp_path):
    db = tmp_path / "results.db"
    outcome = _race(db, create_first=True)
    assert [o for o in outcome if o[0] == "error"] == []
    assert len({o[1] for o in outcome}) == 1  # every process got the one row's id
    assert _raw_rows(db, "k" * 64) == 1


@pytest.mark.slow
def test_processes_creating_one_new_store_all_succeed(tmp_path):
    db = tmp_path / "new" / "results.db"
    outcome = _race(db, create_first=False)
    assert [o for o in outcome if o[0] == "error"] == []
    assert _raw_rows(db, "k" * 64) == 1
    assert len(ResultsStore(db)) == 1


def test_unique_index_refuses_a_second_row_written_behind_the_store(tmp_path):
    import ase.db
    from pymatgen.io.ase import AseAtomsAdaptor

    db = tmp_path / "results.db"
    ResultsStore(db).put("a" * 64, _nacl(), {"x": 1})
    raw = ase.db.connect(str(db), use_lock_file=False)
    with pytest.raises(sqlite3.IntegrityError):
        raw.write(AseAtomsAdaptor.get_atoms(_nacl()), key_value_pairs={"task_hash": "a" * 64})
    assert _raw_rows(db, "a" * 64) == 1


def test_readers_ignore_duplicates_of_an_older_store(tmp_path):
    """A store written before the unique index may hold a task twice: it counts once."""
    import ase.db
    from pymatgen.io.ase import AseAtomsAdaptor

    db = tmp_path / "old.db"
    raw = ase.db.connect(str(db), use_lock_file=False)  # an old store: no unique index
    atoms = AseAtomsAdaptor.get_atoms(_nacl())
    for value in (0.5, 0.7):
        raw.write(atoms, key_value_pairs={"task_hash": "d" * 64, "label": "NaCl"},
                  data={"result": {"E_3D_eV": value}})
    store = ResultsStore(db)
    rows = list(store.rows(label="NaCl"))
    assert len(rows) == 1 and rows[0]["E_3D_eV"] == 0.5  # the first row written
    assert len(store) == 1
    assert store.put("d" * 64, _nacl(), {"E_3D_eV": 0.9}) > 0  # still no third row
    assert _raw_rows(db, "d" * 64) == 2


@pytest.mark.parametrize("damage", ["random", "truncated", "directory"])
def test_damaged_store_is_one_line_and_left_unchanged(tmp_path, damage):
    db = tmp_path / "results.db"
    if damage == "directory":
        db.mkdir()
    else:
        store = ResultsStore(db)
        for i in range(40):
            store.put(task_hash({"i": i}), _nacl(), {"E_3D_eV": 0.5, "pad": "x" * 2000})
        data = db.read_bytes()
        data = os.urandom(len(data)) if damage == "random" else data[: len(data) // 2]
        db.write_bytes(data)
    before = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    with pytest.raises(DataError) as err:
        ResultsStore(db)
    message = str(err.value)
    assert str(db) in message and "\n" not in message
    if damage == "directory":
        assert "not a file" in message
    else:
        assert "damaged" in message and "nothing was changed" in message
    after = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in tmp_path.iterdir())
    assert after == before


def test_cli_run_on_a_damaged_store_prints_one_line(tmp_path, capsys):
    from nasicon_sim.cli.main import main

    study = tmp_path / "s"
    study.mkdir()
    (study / "study.toml").write_text(
        '[study]\nname = "s"\ntitle = "t"\nsource = "test"\n'
        '[[composition]]\nlabel = "NZSP"\nformula = "Na3Zr2Si2PO12"\n')
    out = tmp_path / "out"
    out.mkdir()
    damaged = os.urandom(8192)
    (out / "results.db").write_bytes(damaged)
    assert main(["run", str(study), "-o", str(out), "--no-progress"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "results.db" in lines[0] and "damaged" in lines[0] and "nothing was changed" in lines[0]
    assert (out / "results.db").read_bytes() == damaged
    assert sorted(p.name for p in out.iterdir()) == ["results.db"]
