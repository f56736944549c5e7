"""The relaxation guide page (moved from the README) runs as written (commands in a scratch directory, Python
block). It relaxes with CHGNet, so it is slow and needs the [relax] extra (CI installs it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = ROOT.joinpath("docs", "guide", "relaxation-dft.md").read_text()


def bash_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S)
    return [line for block in blocks for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_section_has_commands_and_python():
    commands = bash_commands()
    assert any(" relax " in c for c in commands) and any(" dft-inputs " in c for c in commands)
    assert any(" distortion " in c for c in commands)
    assert "```python" in SECTION


@pytest.mark.slow
def test_commands_run_in_order(tmp_path):
    if not os.environ.get("CI"):
        pytest.importorskip("chgnet")
    bindir = Path(sys.executable).parent
    for command in bash_commands():
        command = command.replace(".venv/bin/", f"{bindir}/")
        proc = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True,
                              check=False, timeout=1800)
        assert proc.returncode == 0, (command, proc.stderr)
    assert (tmp_path / "me1-relaxed" / "conf_000.cif").is_file()
    assert (tmp_path / "me1-dft" / "conf_000" / "POTCAR.spec").is_file()


@pytest.mark.slow
def test_python_example_runs(capsys):
    if not os.environ.get("CI"):
        pytest.importorskip("chgnet")
    code = re.findall(r"```python\n(.*?)```", SECTION, flags=re.S)[0]
    exec(compile(code, "README-relax", "exec"), {})
    assert "eV" in capsys.readouterr().out
