"""Results store: every configuration's inputs and results in an ASE database.

One row per (configuration, settings) task, keyed by a content hash of the task's inputs
(:func:`task_hash`). A run asks the store first and computes only what is missing, so an
interrupted run resumes where it stopped, loses no finished result and never recomputes one.
Each row is written in its own transaction as soon as its task finishes.

The backend is :mod:`ase.db`: a SQLite file by default; any URL ase.db accepts
(``postgresql://user:pw@host:5432/db``, which needs ``psycopg2``) for shared use.

Guarantees of the SQLite store (``docs/guide/trust.md``):

* a task key is stored at most once: :meth:`ResultsStore.put` checks and writes inside one
  ``BEGIN IMMEDIATE`` transaction, and a unique index on the ``task_hash`` key backs it, so two
  runs of one study on one store never write a task twice (readers also ignore duplicates);
* two processes creating one new store at the same moment both succeed (the tables are made
  in one exclusive transaction);
* a damaged file (truncated, overwritten) is refused with one line naming it, before anything
  is written to it;
* no lock file: a process killed at any moment leaves nothing that blocks the next run.

Row layout: the (input) structure as the row's atoms; scalar results and identifiers as
key-value pairs (searchable: ``label=ME1``, ``E_3D_eV<0.5``); the full result dict in
``row.data["result"]``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nasicon_sim.errors import DataError

__all__ = ["ResultsStore", "canonical_json", "structure_fingerprint", "task_hash"]

log = logging.getLogger(__name__)

#: Version of the row layout; part of every hash so that a layout change never reuses rows.
STORE_LAYOUT_VERSION = 1
#: Unique partial index that makes a task key occur at most once in a SQLite store.
UNIQUE_TASK_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS nasicon_sim_unique_task_hash "
    "ON text_key_values(value) WHERE key = 'task_hash'"
)
#: Seconds a writer waits for another process's transaction on the same SQLite file.
SQLITE_TIMEOUT_S = 60.0


def canonical_json(obj: Any) -> str:
    """Deterministic JSON (sorted keys, floats rounded to 10 significant digits)."""

    def norm(x: Any) -> Any:
        if isinstance(x, Mapping):
            return {str(k): norm(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        if isinstance(x, np.ndarray):
            return norm(x.tolist())
        if isinstance(x, (np.integer,)):
            return int(x)
        if isinstance(x, (float, np.floating)):
            x = float(x)
            return float(f"{x:.10g}") if math.isfinite(x) else str(x)
        if isinstance(x, Path):
            return str(x)
        return x

    return json.dumps(norm(obj), sort_keys=True, separators=(",", ":"))


def structure_fingerprint(structure: Any) -> dict[str, Any]:
    """JSON-able identity of a structure: lattice, species with charges, fractional coordinates.

    Coordinates are wrapped into [0, 1) and rounded to 1e-6, lattice to 1e-6 A.
    """
    frac = np.mod(np.asarray(structure.frac_coords, dtype=float), 1.0)
    frac = np.round(frac, 6) % 1.0
    return {
        "lattice": np.round(np.asarray(structure.lattice.matrix, dtype=float), 6).tolist(),
        "species": [site.species_string for site in structure],
        "frac_coords": frac.tolist(),
    }


def task_hash(inputs: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a task's inputs (plus the store layout version)."""
    payload = canonical_json({"layout": STORE_LAYOUT_VERSION, **inputs})
    return hashlib.sha256(payload.encode()).hexdigest()


def _scalar_pairs(result: Mapping[str, Any]) -> dict[str, Any]:
    """Flat, searchable key-value pairs: the scalar (str/int/float/bool) top-level entries.

    Keys that ase.db reserves for itself (``formula``, ``energy``, ``id`` ...) stay in the
    result dict only.
    """
    from ase.db.core import reserved_keys

    out: dict[str, Any] = {}
    for key, value in result.items():
        if not key.isidentifier() or key in reserved_keys:
            continue
        if isinstance(value, bool) or isinstance(value, str):
            out[key] = value
        elif isinstance(value, (int, np.integer)):
            out[key] = int(value)
        elif isinstance(value, (float, np.floating)) and math.isfinite(float(value)):
            out[key] = float(value)
    return out


class ResultsStore:
    """A thin, typed wrapper around an :mod:`ase.db` database.

    Parameters
    ----------
    url : str or Path
        SQLite file path (created on first write) or an ase.db URL.
    """

    def __init__(self, url: str | Path) -> None:
        import ase.db

        self.url = str(url)
        self.path: Path | None = None
        self._unique_index_checked = False
        if "://" not in self.url:
            path = Path(self.url)
            if path.exists() and not path.is_file():
                raise DataError(f"the results store {self.url!r} is not a file "
                                "(give a file path with --store, or another --output)")
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".db":  # ase.db's SQLite backend (others: .json)
                self.path = path
                self._init_sqlite()
        try:
            # no ase lock file for SQLite: a writer killed while holding it would block every
            # later run; SQLite's own transactions serialise the writers instead
            self._db = ase.db.connect(self.url, append=True, use_lock_file=not self.is_sqlite)
        except ImportError as exc:
            raise DataError(
                f"the results store {self.url!r} needs a database driver ({exc.name}): "
                "pip install -e '.[postgres]' (ase-db-backends with psycopg2)"
            ) from exc
        except Exception as exc:  # bad URL, unreachable server
            raise DataError(f"cannot open results store {self.url!r}: {exc}") from exc

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def _damaged(self, exc: BaseException) -> DataError:
        return DataError(f"the results store {self.url} is damaged ({exc}); nothing was changed: "
                         "move it away (or give another --output/--store) and rerun")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(str(self.path), timeout=SQLITE_TIMEOUT_S, isolation_level=None)
        return con

    def _init_sqlite(self) -> None:
        """Check an existing file, or create the tables of a new one in one transaction."""
        from ase.db.sqlite import index_statements, init_statements

        assert self.path is not None
        try:
            con = self._connect()
        except sqlite3.Error as exc:
            raise DataError(f"cannot open results store {self.url!r}: {exc}") from None
        try:
            try:
                # read first: a damaged file is refused before any write lock is taken
                con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                if con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name='systems'"
                               ).fetchone()[0]:
                    check = con.execute("PRAGMA quick_check").fetchall()
                    if check != [("ok",)]:
                        raise sqlite3.DatabaseError("; ".join(str(r[0]) for r in check[:3]))
                    return
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    raise DataError(f"the results store {self.url} is locked by another "
                                    f"process for over {SQLITE_TIMEOUT_S:.0f} s") from None
                raise self._damaged(exc) from None
            # a new store: the tables are made in one exclusive transaction, so a second
            # process creating the same store waits and then finds them complete
            con.execute("BEGIN EXCLUSIVE")
            try:
                exists = con.execute(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name='systems'").fetchone()[0]
                if not exists:
                    for statement in (*init_statements, *index_statements, UNIQUE_TASK_INDEX):
                        con.execute(statement)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            raise DataError(f"cannot create results store {self.url}: {exc}") from None
        finally:
            con.close()

    def _ensure_unique_index(self, con: sqlite3.Connection) -> None:
        """Add the unique task index to a store made by an older version (if it has no
        duplicates; readers ignore duplicates anyway)."""
        if self._unique_index_checked:
            return
        self._unique_index_checked = True
        try:
            con.execute(UNIQUE_TASK_INDEX)
        except sqlite3.IntegrityError:
            log.warning("results store %s holds duplicate task keys (written by an older "
                        "version); readers use the first row of each", self.url)

    def __contains__(self, key: str) -> bool:
        with self._reading():
            return self._db.count(task_hash=key) > 0

    def __len__(self) -> int:
        """Number of distinct tasks stored."""
        with self._reading():
            return len({row.get("task_hash", row.id) for row in self._db.select(columns=[
                "id", "key_value_pairs"])})

    def _first(self, key: str) -> Any:
        with self._reading():
            rows = list(self._db.select(task_hash=key, sort="id", limit=1))
        return rows[0] if rows else None

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result dict of a task, or None."""
        row = self._first(key)
        return None if row is None else dict(row.data.get("result", {}))

    def get_with_data(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The stored result dict and the row's other data entries, or None."""
        row = self._first(key)
        if row is None:
            return None
        data = dict(row.data)
        return dict(data.pop("result", {})), data

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn SQLite damage found while reading into one clear :class:`DataError`."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise
            raise self._damaged(exc) from None

    def rekey(self, old: str, new: str) -> bool:
        """Give the row stored under ``old`` the key ``new`` (a migration of task keys).

        Returns False (and changes nothing) if ``old`` is not stored or ``new`` already is.
        """
        if not self.is_sqlite:
            row = self._first(old)
            if row is None or new in self:
                return False
            self._db.update(row.id, task_hash=new)
            return True
        with self._db as db:
            db.connection.execute("BEGIN IMMEDIATE")
            if db.count(task_hash=new) > 0:
                return False
            rows = list(db.select(task_hash=old, sort="id", limit=1))
            if not rows:
                return False
            db.update(rows[0].id, task_hash=new)
            return True

    def put(
        self,
        key: str,
        structure: Any,
        result: Mapping[str, Any],
        tags: Mapping[str, Any] | None = None,
        extra_data: Mapping[str, Any] | None = None,
    ) -> int:
        """Store one finished task (a no-op returning the existing id if already stored).

        Parameters
        ----------
        key : str
            The task hash.
        structure : pymatgen Structure
            The structure the task analysed (stored as the row's atoms).
        result : mapping
            JSON-able results; scalar top-level entries also become key-value pairs.
        tags : mapping, optional
            Extra searchable key-value pairs (study, label, method, seed, index ...).
        extra_data : mapping, optional
            Further row data, stored as is (numpy arrays allowed), e.g. a landscape preview.

        Returns
        -------
        int
            Row id.
        """
        from pymatgen.io.ase import AseAtomsAdaptor

        atoms = AseAtomsAdaptor.get_atoms(structure)
        for name in list(atoms.arrays):
            if atoms.arrays[name].dtype.kind in "OUS":  # ase.db stores numeric arrays only
                del atoms.arrays[name]
        pairs = _scalar_pairs(result)
        pairs.update(_scalar_pairs(dict(tags or {})))
        pairs["task_hash"] = key
        data = {"result": json.loads(canonical_json(result)), **dict(extra_data or {})}
        if not self.is_sqlite:  # other backends: check, then write (readers drop duplicates)
            row = self._first(key)
            if row is not None:
                return int(row.id)
            return int(self._db.write(atoms, key_value_pairs=pairs, data=data))
        try:
            with self._db as db:
                # check and write in one write transaction: a second writer of the same key
                # waits here and then finds the row
                db.connection.execute("BEGIN IMMEDIATE")
                self._ensure_unique_index(db.connection)
                existing = list(db.select(task_hash=key, sort="id", limit=1))
                if existing:
                    return int(existing[0].id)
                return int(db.write(atoms, key_value_pairs=pairs, data=data))
        except sqlite3.IntegrityError:  # the unique index caught a writer outside this class
            row = self._first(key)
            assert row is not None
            return int(row.id)

    def update_figures(self, key: str, extra_data: Mapping[str, Any]) -> None:
        """Replace a stored task's figure data (``preview``, ``slice_png``); its results,
        tags and structure are never changed.

        Raises
        ------
        DataError
            No row under ``key``, or an entry other than the figure data.
        """
        allowed = {"preview", "slice_png"}
        bad = sorted(set(extra_data) - allowed)
        if bad:
            raise DataError(f"only figure data ({', '.join(sorted(allowed))}) can be replaced, "
                            f"not {', '.join(bad)}")
        row = self._first(key)
        if row is None:
            raise DataError(f"no stored task {key!r}")
        with self._db as db:
            db.update(int(row.id), data=dict(extra_data))

    def rows(self, **selection: Any) -> Iterator[dict[str, Any]]:
        """Stored results matching key-value pairs (e.g. ``study="zuo2026"``), as dicts.

        Each dict is the stored result with the row's key-value pairs merged in.
        """
        for row, _ in self._select(selection, atoms=False):
            yield row

    def tags(self, **selection: Any) -> list[dict[str, Any]]:
        """The key-value pairs (``task_hash``, ``label``, ``index`` ...) of the matching rows,
        without reading their data (fast on large stores)."""
        with self._reading():
            return [dict(row.key_value_pairs)
                    for row in self._db.select(columns=["id", "key_value_pairs"], **selection)]

    def records(self, **selection: Any) -> Iterator[tuple[dict[str, Any], Any]]:
        """Like :meth:`rows`, each with the structure it analysed as an :class:`ase.Atoms`."""
        yield from self._select(selection, atoms=True)

    def _select(self, selection: Mapping[str, Any], atoms: bool) -> Iterator[tuple[dict[str, Any], Any]]:
        seen: set[str] = set()
        with self._reading():
            selected = list(self._db.select(sort="id", **selection))
        for row in selected:
            key = row.get("task_hash")
            if key is not None:  # a task stored twice (older versions) counts once
                if key in seen:
                    continue
                seen.add(key)
            out = dict(row.data.get("result", {}))
            out.update(row.key_value_pairs)
            yield out, (row.toatoms() if atoms else None)
