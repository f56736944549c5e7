"""Outputs are whole or absent, with the user's permissions, and leave no litter (issue 12, 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasicon_sim.io.atomic import (
    atomic_write_text,
    clean_stale_temporaries,
    new_file_mode,
)

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"},
                          timeout=300)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_new_files_get_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        assert new_file_mode() == 0o666 & ~umask
        path = atomic_write_text(tmp_path / "a.txt", "x")
        # what a plain open() makes in the same directory
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == (tmp_path / "plain.txt").stat().st_mode & 0o777
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o640


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_write_killed_before_the_rename_is_cleaned_by_the_next(tmp_path):
    """A process killed with its temporary file written leaves it; the next write of the same
    file (or the runner's sweep of its output directory) removes it."""
    target = tmp_path / "report.html"
    target.write_text("old report")
    proc = _python("import os\nfrom nasicon_sim.io.atomic import atomic_write_bytes\n"
                   f"atomic_write_bytes({str(target)!r}, b'new report',\n"
                   "                   _before_replace=lambda: os.kill(os.getpid(), 9))\n",
                   tmp_path)
    assert proc.returncode == -9
    left = list(tmp_path.glob(".report.html.*.tmp"))
    assert len(left) == 1 and target.read_text() == "old report"
    atomic_write_text(target, "newer report")
    assert list(tmp_path.glob(".*.tmp")) == [] and target.read_text() == "newer report"


def test_sweep_removes_only_temporaries_of_finished_writers(tmp_path):
    from nasicon_sim.io.atomic import _host

    dead = tmp_path / f".report.html.{_host()}-{_dead_pid()}.abc123.tmp"
    alive = tmp_path / f".summary.json.{_host()}-{os.getpid()}.abc123.tmp"
    foreign = tmp_path / ".summary.json.otherhost-1.abc123.tmp"
    unrelated = tmp_path / ".hidden.tmp"
    for p in (dead, alive, foreign, unrelated):
        p.write_text("partial")
    assert clean_stale_temporaries(tmp_path) == [dead]
    assert alive.exists() and foreign.exists() and unrelated.exists()
    old = 2 * 3600
    os.utime(foreign, (foreign.stat().st_atime - old, foreign.stat().st_mtime - old))
    assert clean_stale_temporaries(tmp_path) == [foreign]


def test_a_figure_killed_while_being_written_leaves_the_old_file(tmp_path):
    """matplotlib's savefig is interrupted (the process killed) halfway through its output:
    the destination keeps its previous content; it is never a truncated PNG."""
    fig_path = tmp_path / "figures" / "barriers.png"
    fig_path.parent.mkdir()
    fig_path.write_bytes(b"previous figure")
    code = f"""
import io, os
import matplotlib.figure
real = matplotlib.figure.Figure.savefig

def savefig_then_die(self, fname, **kwargs):
    buffer = io.BytesIO()
    real(self, buffer, format="png")
    data = buffer.getvalue()
    if hasattr(fname, "write"):
        fname.write(data[: len(data) // 2])
    else:
        with open(fname, "wb") as handle:
            handle.write(data[: len(data) // 2])
            handle.flush()
    os.kill(os.getpid(), 9)

matplotlib.figure.Figure.savefig = savefig_then_die
from nasicon_sim.report.figures import plot_barrier_distributions
plot_barrier_distributions({{"A": {{"E_3D_eV": [0.5, 0.6]}}}}, {str(fig_path)!r})
"""
    proc = _python(code, tmp_path)
    assert proc.returncode == -9, proc.stderr
    assert fig_path.read_bytes() == b"previous figure"
