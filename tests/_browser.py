"""Run a page in a real headless Chromium and return the DOM after its scripts ran."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader",  # software WebGL for plotly 3D
]


def chromium() -> str:
    """Path of the Chromium binary; skip (or fail when CI requires it) if absent."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("NASICON_SIM_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (NASICON_SIM_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    return exe


def rendered_dom(page: Path, budget_ms: int = 15000) -> str:
    """The DOM of ``page`` after up to ``budget_ms`` of (virtual) script time."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=180, check=False,
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout
