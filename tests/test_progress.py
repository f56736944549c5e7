"""Progress on standard error: stage lines when piped, a live status on terminals, nothing on
stdout (so --json output stays pure JSON), nothing with -q."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

from nasicon_sim import progress
from nasicon_sim.progress import job, stage


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stage_lines_inside_a_job_and_silence_outside_and_when_quiet(monkeypatch):
    monkeypatch.setattr(progress, "QUIET_AFTER_S", 0.0)
    stage("outside any job")  # a library call: prints nothing, raises nothing
    out = io.StringIO()
    with job("run", stream=out):
        stage("building 2 configurations of ME1")
        stage("computing 2 configurations (0 reused from the store)")
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["nasicon-sim run: building 2 configurations of ME1",
                         "nasicon-sim run: computing 2 configurations (0 reused from the store)"]
    assert lines[2].startswith("nasicon-sim run: done in ")
    quiet = io.StringIO()
    with job("run", quiet=True, stream=quiet):
        stage("anything")
    assert quiet.getvalue() == ""


def test_a_silent_piped_job_says_that_it_runs(monkeypatch):
    monkeypatch.setattr(progress, "RUNNING_AFTER_S", 0.3)
    out = io.StringIO()
    with job("ml evaluate", stream=out):
        time.sleep(0.8)
    assert out.getvalue().splitlines()[0] == "nasicon-sim ml evaluate: running ..."


def test_terminal_gets_a_live_status_with_elapsed_time(monkeypatch):
    monkeypatch.setattr(progress, "BAR_DELAY_S", 0.2)
    term = _Terminal()
    with job("relax", stream=term):
        stage("relaxing conf_000.cif")
        time.sleep(1.2)
    text = term.getvalue()
    assert "nasicon-sim relax: relaxing conf_000.cif" in text
    assert "\r" in text and "[00:01]" in text  # the status line was redrawn with the time


TINY = """
[study]
name = "tiny"
title = "progress test"
source = "test fixture"

[ensemble]
n_configurations = 1
method = "random"
seed = 1

[bvse]
spacing_A = 0.5

[[composition]]
label = "NZSP"
formula = "Na3Zr2Si2PO12"
sigma_total_mS_cm = 0.26
"""


def test_run_prints_stages_on_stderr_only_and_q_silences(tmp_path):
    (tmp_path / "study.toml").write_text(TINY)
    cmd = [sys.executable, "-m", "nasicon_sim", "run", str(tmp_path), "--workers", "1",
           "--no-progress"]
    first = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600)
    assert "nasicon-sim run: building configurations of NZSP" in first.stderr
    assert "nasicon-sim run: computing 1 configurations (0 reused from the store)" in first.stderr
    assert "nasicon-sim run:" not in first.stdout
    quiet = subprocess.run([*cmd[:3], "-q", *cmd[3:]], capture_output=True, text=True,
                           check=True, timeout=600)
    assert "nasicon-sim run:" not in quiet.stderr + quiet.stdout
    assert "1 reused" in quiet.stdout


def test_json_stdout_is_pure_json_with_the_version():
    proc = subprocess.run([sys.executable, "-m", "nasicon_sim", "describe", "Na3Zr2Si2PO12",
                           "--json"], capture_output=True, text=True, check=True, timeout=300)
    rows = json.loads(proc.stdout)
    assert rows[0]["nasicon_sim_version"]


def test_a_stage_that_fails_at_once_leaves_the_error_alone():
    import pytest

    out = io.StringIO()
    with pytest.raises(ValueError), job("bvse", stream=out):
        stage("BVSE landscape of x.cif")
        raise ValueError("bad input")
    assert out.getvalue() == ""


def test_a_stage_that_lasts_is_printed_while_it_runs(monkeypatch):
    monkeypatch.setattr(progress, "STAGE_DELAY_S", 0.2)
    out = io.StringIO()
    with job("relax", stream=out):
        stage("relaxing conf_000.cif")
        time.sleep(0.8)
        seen = out.getvalue()
    assert seen.startswith("nasicon-sim relax: relaxing conf_000.cif")
