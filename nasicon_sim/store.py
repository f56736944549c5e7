"""Results store: every configuration's inputs and results in an ASE database.

One row per (configuration, settings) task, keyed by a content hash of the task's inputs
(:func:`task_hash`). A run asks the store first and computes only what is missing, so an
interrupted run resumes where it stopped, loses no finished result and never recomputes one.
Each row is written in its own transaction as soon as its task finishes.

The backend is :mod:`ase.db`: a SQLite file by default; any URL ase.db accepts
(``postgresql://user:pw@host:5432/db``, which needs ``psycopg2``) for shared use.
Row layout: the (input) structure as the row's atoms; scalar results and identifiers as
key-value pairs (searchable: ``label=ME1``, ``E_3D_eV<0.5``); the full result dict in
``row.data["result"]``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nasicon_sim.errors import DataError

__all__ = ["ResultsStore", "canonical_json", "structure_fingerprint", "task_hash"]

log = logging.getLogger(__name__)

#: Version of the row layout; part of every hash so that a layout change never reuses rows.
STORE_LAYOUT_VERSION = 1


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
        if "://" not in self.url:
            Path(self.url).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = ase.db.connect(self.url, append=True)
        except ImportError as exc:
            raise DataError(
                f"the results store {self.url!r} needs a database driver ({exc.name}): "
                "pip install -e '.[postgres]' (ase-db-backends with psycopg2)"
            ) from exc
        except Exception as exc:  # bad URL, unreachable server
            raise DataError(f"cannot open results store {self.url!r}: {exc}") from exc

    def __contains__(self, key: str) -> bool:
        return self._db.count(task_hash=key) > 0

    def __len__(self) -> int:
        return self._db.count()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored result dict of a task, or None."""
        rows = list(self._db.select(task_hash=key, limit=1))
        if not rows:
            return None
        return dict(rows[0].data.get("result", {}))

    def get_with_data(self, key: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The stored result dict and the row's other data entries, or None."""
        rows = list(self._db.select(task_hash=key, limit=1))
        if not rows:
            return None
        data = dict(rows[0].data)
        return dict(data.pop("result", {})), data

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

        existing = list(self._db.select(task_hash=key, limit=1))
        if existing:
            return int(existing[0].id)
        atoms = AseAtomsAdaptor.get_atoms(structure)
        for name in list(atoms.arrays):
            if atoms.arrays[name].dtype.kind in "OUS":  # ase.db stores numeric arrays only
                del atoms.arrays[name]
        pairs = _scalar_pairs(result)
        pairs.update(_scalar_pairs(dict(tags or {})))
        pairs["task_hash"] = key
        data = {"result": json.loads(canonical_json(result)), **dict(extra_data or {})}
        return int(self._db.write(atoms, key_value_pairs=pairs, data=data))

    def rekey(self, old: str, new: str) -> bool:
        """Store the row of task ``old`` under the key ``new`` (nothing recomputed).

        Returns False (and changes nothing) when ``old`` is absent or ``new`` is present.
        """
        rows = list(self._db.select(task_hash=old, limit=1))
        if not rows or new in self:
            return False
        self._db.update(rows[0].id, task_hash=new)
        return True

    def rows(self, **selection: Any) -> Iterator[dict[str, Any]]:
        """Stored results matching key-value pairs (e.g. ``study="zuo2026"``), as dicts.

        Each dict is the stored result with the row's key-value pairs merged in.
        """
        for row, _ in self._select(selection, atoms=False):
            yield row

    def records(self, **selection: Any) -> Iterator[tuple[dict[str, Any], Any]]:
        """Like :meth:`rows`, each with the structure it analysed as an :class:`ase.Atoms`."""
        yield from self._select(selection, atoms=True)

    def _select(self, selection: Mapping[str, Any], atoms: bool) -> Iterator[tuple[dict[str, Any], Any]]:
        for row in self._db.select(**selection):
            out = dict(row.data.get("result", {}))
            out.update(row.key_value_pairs)
            yield out, (row.toatoms() if atoms else None)
