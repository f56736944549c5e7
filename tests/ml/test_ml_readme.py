"""The commands of the "Try it" block of the synthesizability guide page (moved from the
README) run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "synthesizability.md"


def try_it_commands() -> list[str]:
    section = PAGE.read_text().split("## Try it", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_try_it_block_exists():
    assert len(try_it_commands()) >= 4


def test_try_it_commands_run_in_order(tmp_path):
    bindir = Path(sys.executable).parent
    for command in try_it_commands():
        proc = subprocess.run(command.replace(".venv/bin/", f"{bindir}/"), shell=True,
                              cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, (command, proc.stderr)
    assert (tmp_path / "candidates.csv").stat().st_size > 0
    assert "Sn0.5" in (tmp_path / "my_outcomes.csv").read_text()

