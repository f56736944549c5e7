"""docs/guide/ml.md quotes the shipped selection record, and its commands run."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.ml.selection import shipped_selection

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "guide" / "ml.md"


def _tool():
    spec = importlib.util.spec_from_file_location("ml_guide_numbers",
                                                  ROOT / "tools" / "ml_guide_numbers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nested_cv_block_is_the_shipped_record():
    """If this fails: python tools/ml_guide_numbers.py (after ml select --update-default)."""
    tool = _tool()
    assert tool.block(shipped_selection().data) in GUIDE.read_text()


def test_guide_states_the_verdict_the_record_holds():
    text = GUIDE.read_text()
    rec = shipped_selection().data
    assert ("The selection beats the majority" in text) == rec["beats_majority"]


@pytest.mark.parametrize("command", [
    "ml predict Na3.5Zr1.0Ti0.5Lu0.5Si2PO12 \"NaGe2(PO4)3\"",
    "ml predict --model study Na3Zr2Si2PO12",
])
def test_guide_predict_commands_run(capsys, command):
    assert f"nasicon-sim {command}" in GUIDE.read_text()
    import shlex

    assert main(shlex.split(command)) == 0
    assert "p(single phase)" in capsys.readouterr().out


def test_guide_screen_command_runs(capsys, tmp_path, monkeypatch):
    text = GUIDE.read_text().replace("\\\n    ", "")
    line = re.search(r"nasicon-sim (screen --elements .*)", text).group(1)
    monkeypatch.chdir(tmp_path)
    import shlex

    assert main(shlex.split(line)) == 0
    out = capsys.readouterr().out
    assert "Pareto front" in out and (tmp_path / "top" / "study.toml").is_file()
