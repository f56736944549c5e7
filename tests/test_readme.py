"""The README's quick-start commands run as written (with this interpreter's venv)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_commands() -> list[str]:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_quickstart_is_not_empty():
    assert quickstart_commands()


@pytest.mark.parametrize("command", quickstart_commands())
def test_quickstart_command_runs(command, tmp_path):
    bindir = Path(sys.executable).parent
    command = command.replace(".venv/bin/", f"{bindir}/")
    proc = subprocess.run(command, shell=True, cwd=README.parent, capture_output=True,
                          text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
