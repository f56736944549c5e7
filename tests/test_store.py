"""Results store: content hashes and the ase.db round trip."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.store import ResultsStore, canonical_json, structure_fingerprint, task_hash


@pytest.fixture()
def nacl():
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice.cubic(5.64), ["Na+", "Cl-"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def test_hash_is_order_and_noise_independent():
    a = task_hash({"x": 1.0, "y": [1, 2], "z": {"b": 2, "a": 1}})
    b = task_hash({"z": {"a": 1, "b": 2}, "y": (1, 2), "x": 1.0 + 1e-14})
    assert a == b
    assert task_hash({"x": 1.0}) != task_hash({"x": 1.1})


def test_fingerprint_wraps_coordinates(nacl):
    shifted = nacl.copy()
    shifted.translate_sites([0], [1.0, 0, 0], frac_coords=True, to_unit_cell=False)
    assert canonical_json(structure_fingerprint(nacl)) == canonical_json(structure_fingerprint(shifted))


def test_round_trip_and_no_duplicates(tmp_path, nacl):
    store = ResultsStore(tmp_path / "r.db")
    key = task_hash({"structure": structure_fingerprint(nacl)})
    assert key not in store
    result = {"E_3D_eV": 0.81, "dims": [1, 2, 3], "name": "x", "inf": float("inf")}
    first = store.put(key, nacl, result, tags={"label": "NaCl", "index": np.int64(3)})
    assert key in store and len(store) == 1
    assert store.put(key, nacl, result) == first and len(store) == 1
    got = store.get(key)
    assert got["E_3D_eV"] == 0.81 and got["dims"] == [1, 2, 3]
    (row,) = list(store.rows(label="NaCl"))
    assert row["index"] == 3 and row["task_hash"] == key
    # reopening the file sees the same row (nothing held in memory)
    assert ResultsStore(tmp_path / "r.db").get(key)["name"] == "x"
