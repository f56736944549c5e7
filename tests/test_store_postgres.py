"""The results store on a real PostgreSQL server (a throw-away cluster started by the test)."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from nasicon_sim.store import ResultsStore

pytestmark = pytest.mark.slow


def _unavailable(reason: str) -> None:
    """Skip, unless CI requires the PostgreSQL test (NASICON_SIM_REQUIRE_POSTGRES=1)."""
    import os

    if os.environ.get("NASICON_SIM_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL test required but {reason}")
    pytest.skip(reason)


def _pg_bin() -> Path | None:
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def postgres_url():
    try:
        import ase_db_backends  # noqa: F401
    except ImportError:
        _unavailable("ase-db-backends is not installed (pip install -e '.[postgres]')")
    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None:
        _unavailable("the PostgreSQL server binaries are not installed")
    import os
    import pwd
    import tempfile

    # pytest's tmp_path lives under a root-only directory: use a fresh one the server can reach
    tmp_path = Path(tempfile.mkdtemp(prefix="nasicon-sim-pg-"))

    # PostgreSQL refuses to run as root: run the cluster as the 'postgres' user when we are root
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root without a 'postgres' user")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(tmp_path, "postgres")
    data = tmp_path / "pgdata"
    port = _free_port()
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                    "nasicon"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l",
                    str(tmp_path / "log"), "-o",
                    f"-p {port} -k {tmp_path} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    try:
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                        "nasicon", "results"], check=True, capture_output=True)
        yield f"postgresql://nasicon@127.0.0.1:{port}/results"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(tmp_path, ignore_errors=True)


def test_store_round_trip_on_postgresql(postgres_url):
    import numpy as np
    from pymatgen.core import Lattice, Structure

    nacl = Structure(Lattice.cubic(5.64), ["Na+", "Cl-"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    store = ResultsStore(postgres_url)
    store.put("key-1", nacl, {"E_3D_eV": 0.81, "dims": [1, 2, 3]}, {"label": "NaCl"},
              extra_data={"preview": np.arange(4, dtype=np.float32)})
    store.put("key-1", nacl, {"E_3D_eV": 9.99})  # already stored: ignored
    again = ResultsStore(postgres_url)  # a second client sees the same rows
    assert len(again) == 1 and "key-1" in again
    result, data = again.get_with_data("key-1")
    assert result == {"E_3D_eV": 0.81, "dims": [1, 2, 3]}
    assert data["preview"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert [r["label"] for r in again.rows(label="NaCl")] == ["NaCl"]


def test_missing_driver_is_a_clear_error(monkeypatch):
    import builtins

    from nasicon_sim.errors import DataError

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("ase_db_backends"):
            raise ModuleNotFoundError("No module named 'ase_db_backends'", name="ase_db_backends")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DataError, match=r"pip install -e '\.\[postgres\]'"):
        ResultsStore("postgresql://nobody@127.0.0.1:1/none")
