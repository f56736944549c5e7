"""The "Disordered supercells" guide page (moved from the README): its commands and Python
example run as written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "guide" / "supercells.md"


def _section() -> str:
    return PAGE.read_text()


def test_section_has_commands_and_example():
    section = _section()
    assert re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.slow
def test_build_commands_run(tmp_path):
    bindir = Path(sys.executable).parent
    blocks = re.findall(r"```bash\n(.*?)```", _section(), flags=re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    for command in commands:
        proc = subprocess.run(command.replace(".venv/bin/", f"{bindir}/"), shell=True, cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=600)
        assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "out/me1/manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_configurations"] == 10
    assert len(list((tmp_path / "out/me1").glob("conf_*.cif"))) == 10


@pytest.mark.slow
def test_python_example_runs():
    (code,) = re.findall(r"```python\n(.*?)```", _section(), flags=re.S)
    namespace: dict = {}
    exec(compile(code, str(PAGE), "exec"), namespace)
    ens = namespace["ens"]
    assert len(ens) == 20 and ens[0].n_atoms == 328
