"""The command-line interface: describe, errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nasicon_sim.cli.main import main


def test_describe_json_keys(capsys, study_formulas):
    assert main(["describe", "--json", *study_formulas.values()]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == len(study_formulas)
    for key in ("formula", "na", "m_site", "radius_pm", "electronegativity", "valence",
                "entropy_R", "delta_radius"):
        assert key in rows[0]
    me1 = rows[list(study_formulas).index("ME1")]
    assert me1["m_site"] == {"Zr": 1.0, "Ti": 0.5, "Lu": 0.5}
    assert round(me1["entropy_R"], 2) == 1.04


def test_describe_table(capsys):
    assert main(["describe", "Na3Zr2(SiO4)2(PO4)"]) == 0
    out = capsys.readouterr().out
    assert "dS/R" in out and "Zr2" in out


def test_describe_with_variable(capsys):
    assert main(["describe", "--json", "--var", "x=2", "Na1+xZr2SixP3-xO12"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["na"] == 3.0


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["describe", "Na3Zr2Xx2PO12"], "unknown element 'Xx'"),
        (["describe", "Na4Zr2Si2PO12"], "net charge +1.000"),
        (["describe", "--var", "x", "Na3Zr2Si2PO12"], "NAME=VALUE"),
        (["describe", "--oxi", "Ti=four", "NaTi2(PO4)3"], "not a number"),
    ],
)
def test_user_errors_are_one_line(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_traceback_flag_reraises():
    from nasicon_sim.errors import ChargeBalanceError

    with pytest.raises(ChargeBalanceError):
        main(["--traceback", "describe", "Na4Zr2Si2PO12"])


def test_console_script_runs_as_a_process():
    proc = subprocess.run(
        [sys.executable, "-m", "nasicon_sim", "describe", "Na4Zr2Si2PO12"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
