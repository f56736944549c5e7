"""A study file is data: it names no code that runs, and no path outside the output
(issue 12, items 5 and 8)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasicon_sim.errors import DataError, NasiconSimError
from nasicon_sim.runner import check_plugins
from nasicon_sim.study import load_study

ROOT = Path(__file__).resolve().parents[1]

STUDY = """
[study]
name = "s"
title = "t"
source = "test"

[relax]
method = "{method}"

[[composition]]
label = "{label}"
formula = "Na3Zr2Si2PO12"
"""


def _study(tmp_path: Path, method: str = "none", label: str = "NZSP") -> Path:
    d = tmp_path / "study"
    d.mkdir(exist_ok=True)
    (d / "study.toml").write_text(STUDY.format(method=method, label=label))
    return d


def test_a_plugin_named_by_a_study_file_is_not_imported_without_the_flag(tmp_path):
    """The module would leave a marker file when imported; the run refuses before that."""
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    marker = tmp_path / "imported"
    (plugin_dir / "evil_calc.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "def factory():\n    raise SystemExit('should not get here')\n")
    study = _study(tmp_path, method="evil_calc:factory")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "nasicon_sim", "run", str(study), "-o", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(plugin_dir)])})
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--allow-plugins" in lines[0] and "evil_calc" in lines[0]
    assert not marker.exists() and not out.exists()


def test_builtin_methods_need_no_flag_and_the_flag_allows_plugins(tmp_path):
    for method in ("none", "chgnet", "CHGNet"):
        check_plugins(load_study(_study(tmp_path, method=method)), allow_plugins=False)
    plugin = load_study(_study(tmp_path, method="ase.calculators.emt:EMT"))
    with pytest.raises(NasiconSimError, match="--allow-plugins"):
        check_plugins(plugin, allow_plugins=False)
    check_plugins(plugin, allow_plugins=True)


def test_run_help_names_the_flag():
    from nasicon_sim.cli.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "--allow-plugins" in sub.choices["run"].format_help()


@pytest.mark.parametrize("label", ["NZSP/../x", "../x", "a/b", "..", "", "x" * 41, "a b",
                                   ".hidden"])
def test_labels_that_are_not_file_names_are_refused_before_any_work(tmp_path, label):
    with pytest.raises(DataError, match="label"):
        load_study(_study(tmp_path, label=label))


@pytest.mark.parametrize("label", ["NZSP", "ME1", "HE-2", "x_1.5", "Na3+"])
def test_ordinary_labels_are_accepted(tmp_path, label):
    assert load_study(_study(tmp_path, label=label)).compositions[0].label == label
