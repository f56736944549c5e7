"""``nasicon-sim bvse``: JSON, table, output files, one-line errors."""

from __future__ import annotations

import json

import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.structure.parent import reference_structures_dir

CIF = str(reference_structures_dir() / "NZSP_C2c.cif")


def test_json_has_the_promised_keys(capsys):
    assert main(["bvse", CIF, "--spacing", "0.5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("E_1D_eV", "E_2D_eV", "E_3D_eV", "spacing_A", "grid_shape", "n_sites"):
        assert key in d
    assert d["spacing_A"] == 0.5 and len(d["grid_shape"]) == 3
    assert d["settings"]["radii"] == "ase" and d["settings"]["connectivity"] == 26
    assert d["paths"][0]["bottleneck"]["labels"]


def test_table_and_output_files(capsys, tmp_path):
    cube, grd, png = tmp_path / "l.cube", tmp_path / "l.grd", tmp_path / "l.png"
    code = main(["bvse", CIF, "--spacing", "0.5", "--cube", str(cube), "--grd", str(grd),
                 "--slice", str(png), "--slice-axis", "b", "--radii", "softbv",
                 "--connectivity", "6", "--threads", "1"])
    assert code == 0
    out = capsys.readouterr().out
    assert "E_1D" in out and "E_3D" in out and "Na1" in out
    assert cube.stat().st_size > 0 and grd.stat().st_size > 0
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, message", [
    ([str(reference_structures_dir() / "NZSP_C2c_SiP_mixed.cif")], "nasicon-sim build"),
    ([CIF, "--mobile-ion", "Na"], "cannot read the ion"),
    ([CIF, "--oxi", "O=-1", "--oxi", "Na=1", "--oxi", "Zr=4", "--oxi", "Si=4", "--oxi", "P=5"],
     "Na+ - O-"),
    ([CIF, "--spacing", "0.01"], "--max-memory-gb"),
    (["missing.cif"], "no such file"),
    ([CIF, "--oxi", "Ti"], "NAME=VALUE"),
])
def test_errors_are_one_line(capsys, args, message):
    assert main(["bvse", *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
