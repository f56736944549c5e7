"""The BVSE guide page (moved from the README) runs as written (commands in a scratch directory, Python block)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = ROOT.joinpath("docs", "guide", "bvse-landscapes.md").read_text()


def bash_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_section_has_commands_and_python():
    assert len(bash_commands()) >= 2
    assert "```python" in SECTION


@pytest.mark.parametrize("command", bash_commands())
def test_command_runs(command, tmp_path):
    bindir = Path(sys.executable).parent
    command = command.replace(".venv/bin/", f"{bindir}/").replace(
        "structures/", f"{ROOT / 'structures'}/")
    proc = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True,
                          check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for name in re.findall(r"--(?:cube|grd|slice) (\S+)", command):
        assert (tmp_path / name).stat().st_size > 0


def test_python_example_runs(tmp_path, capsys):
    code = re.findall(r"```python\n(.*?)```", SECTION, flags=re.S)[0]
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, "README-bvse", "exec"), {})
    finally:
        os.chdir(old)
    assert "Na" in capsys.readouterr().out
