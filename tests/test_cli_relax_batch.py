"""CLI relax --batch-size and --optimizer: a batch writes what one-by-one writes; bad values
are one clear line (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_cli_relax import SPRINGS, ensemble_dir  # noqa: F401  (fixture)

from nasicon_sim.cli.main import main
from nasicon_sim.io.read import read_structure


def test_batch_writes_what_one_by_one_writes(ensemble_dir, tmp_path, capsys):  # noqa: F811
    d, _ = ensemble_dir
    files = [str(d / "conf_000.cif"), str(d / "conf_001.cif")]
    common = ["--calculator", SPRINGS, "--fmax", "0.01", "--optimizer", "lbfgs"]
    assert main(["relax", *files, *common, "-o", str(tmp_path / "one")]) == 0
    assert main(["relax", *files, *common, "--batch-size", "2", "-o", str(tmp_path / "two")]) == 0
    capsys.readouterr()
    one = json.loads((tmp_path / "one" / "relax.json").read_text())
    two = json.loads((tmp_path / "two" / "relax.json").read_text())
    assert two["status"] == "complete" and two["n_done"] == 2
    assert two["settings"]["optimizer"] == "LBFGS"
    by_out = {r["output"]: r for r in one["structures"]}
    for r in two["structures"]:
        assert r["converged"] and r["n_steps"] == by_out[r["output"]]["n_steps"]
        a = read_structure(tmp_path / "one" / r["output"])
        b = read_structure(tmp_path / "two" / r["output"])
        assert np.abs(a.cart_coords - b.cart_coords).max() < 1e-3
        assert (tmp_path / "two" / r["trajectory"]).stat().st_size > 0


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--optimizer", "CG"], "unknown optimizer 'CG'"),
])
def test_bad_values_are_one_line(ensemble_dir, tmp_path, capsys, args, message):  # noqa: F811
    d, _ = ensemble_dir
    with pytest.raises(SystemExit) as exc:
        code = main(["relax", str(d / "conf_000.cif"), "--calculator", SPRINGS, *args,
                     "-o", str(tmp_path / "x")])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
