"""CLI: relax (pluggable calculator, outputs, resume, missing extra), dft-inputs, distortion,
and bvse on a DFT output with its site map."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _relax_helpers import SHIFT_A

from nasicon_sim.cli.main import main
from nasicon_sim.io.read import read_structure
from nasicon_sim.io.write import EnsembleWriter

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"
SPRINGS = "_relax_helpers:shift_springs"


@pytest.fixture(scope="module")
def ensemble_dir(tmp_path_factory):
    from nasicon_sim.structure.ensemble import build_ensemble

    d = tmp_path_factory.mktemp("me1")
    ens = build_ensemble(ME1, n=2, seed=0, method="ewald")
    writer = EnsembleWriter(d, {"composition": ME1})
    for config in ens:
        writer.add(config)
    writer.finish()
    return d, ens


def test_relax_writes_cifs_trajectories_and_a_summary(ensemble_dir, tmp_path, capsys):
    d, ens = ensemble_dir
    out = tmp_path / "rel"
    code = main(["relax", str(d / "conf_000.cif"), str(d / "conf_001.cif"), "--calculator",
                 SPRINGS, "--fmax", "0.01", "-o", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "conf_000.cif: 82 atoms" in text and "2 structure(s)" in text
    summary = json.loads((out / "relax.json").read_text())
    assert summary["status"] == "complete" and summary["n_done"] == 2
    assert all(r["converged"] for r in summary["structures"])
    assert summary["structures"][1]["configuration"]["index"] == 1
    assert (out / "conf_000.traj").stat().st_size > 0
    relaxed = read_structure(out / "conf_000.cif")
    s = ens[0].structure
    for key in ("parent_label", "wyckoff", "sublattice", "parent_index"):
        assert relaxed.site_properties[key] == s.site_properties[key]
    meta = relaxed.properties["nasicon_sim"]
    assert meta["relaxation"]["converged"] and meta["index"] == 0
    shift = relaxed.cart_coords - s.cart_coords
    frac = s.lattice.get_fractional_coords(shift)
    shift = s.lattice.get_cartesian_coords(frac - np.round(frac))
    assert np.abs(shift - SHIFT_A).max() < 0.01


def test_relax_resume_overwrite_and_refusals(ensemble_dir, tmp_path, capsys):
    d, _ = ensemble_dir
    out = tmp_path / "rel"
    args = ["relax", str(d / "conf_000.cif"), "--calculator", SPRINGS, "-o", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "already holds relax.json" in capsys.readouterr().err
    assert main([*args[:2], str(d / "conf_001.cif"), *args[2:], "--resume"]) == 0
    summary = json.loads((out / "relax.json").read_text())
    assert [r["output"] for r in summary["structures"]] == ["conf_000.cif", "conf_001.cif"]
    assert main([*args, "--overwrite"]) == 0
    assert main(["relax", str(d / "conf_000.cif"), "--calculator", SPRINGS, "-o", str(d)]) == 2
    assert "would replace the input" in capsys.readouterr().err
    assert main(["relax", str(tmp_path / "nope.cif"), "-o", str(out / "x")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_an_interrupted_run_keeps_what_it_finished_and_resumes(ensemble_dir, tmp_path, capsys):
    d, ens = ensemble_dir
    out = tmp_path / "rel"
    inputs = [str(d / "conf_000.cif"), str(d / "conf_001.cif")]
    assert main(["relax", *inputs, "--calculator", "_relax_helpers:interrupt_on_second",
                 "-o", str(out)]) == 130
    summary = json.loads((out / "relax.json").read_text())
    assert summary["status"] == "interrupted" and summary["n_done"] == 1
    assert (out / "conf_000.cif").is_file() and not (out / "conf_001.cif").exists()
    assert main(["relax", *inputs, "--calculator", SPRINGS, "-o", str(out), "--resume"]) == 0
    summary = json.loads((out / "relax.json").read_text())
    assert summary["status"] == "complete" and summary["n_done"] == 2
    # each structure relaxed towards its own positions (a fresh anchor per structure)
    relaxed = read_structure(out / "conf_001.cif")
    s = ens[1].structure
    frac = s.lattice.get_fractional_coords(relaxed.cart_coords - s.cart_coords)
    shift = s.lattice.get_cartesian_coords(frac - np.round(frac))
    assert np.abs(shift - SHIFT_A).max() < 0.05


def test_relax_without_the_extra_says_how_to_install(ensemble_dir, tmp_path, capsys, monkeypatch):
    import nasicon_sim.relax as relax

    monkeypatch.setattr(relax, "chgnet_available", lambda: False)
    d, _ = ensemble_dir
    code = main(["relax", str(d / "conf_000.cif"), "-o", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert 'pip install -e ".[relax]"' in err and "Traceback" not in err
    assert err.count("\n") == 1


def test_dft_inputs_cli(ensemble_dir, tmp_path, capsys):
    d, _ = ensemble_dir
    out = tmp_path / "dft"
    code = main(["dft-inputs", str(d / "conf_000.cif"), str(d / "conf_001.cif"), "--incar",
                 "ISPIN=1", "--incar", "LREAL=.FALSE.", "--positions-only", "-o", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "MPRelaxSet, ISIF 2" in text and "POTCAR.spec Na_pv Zr_sv Ti_pv Lu_3 Si P O" in text
    from pymatgen.io.vasp import Incar

    incar = Incar.from_file(str(out / "conf_001" / "INCAR"))
    assert (incar["ISPIN"], incar["LREAL"], incar["ISIF"]) == (1, False, 2)
    assert main(["dft-inputs", str(d / "conf_000.cif"), "-o", str(out)]) == 2
    assert "already holds VASP inputs" in capsys.readouterr().err


def test_bvse_and_distortion_on_a_contcar_keep_the_link(ensemble_dir, tmp_path, capsys):
    import shutil

    d, ens = ensemble_dir
    out = tmp_path / "dft"
    assert main(["dft-inputs", str(d / "conf_000.cif"), "-o", str(out)]) == 0
    run = out / "conf_000"
    shutil.copy(run / "POSCAR", run / "CONTCAR")
    capsys.readouterr()
    assert main(["bvse", str(run / "CONTCAR"), "--spacing", "0.4", "--json"]) == 0
    d_bvse = json.loads(capsys.readouterr().out)
    assert d_bvse["configuration"] == ens[0].metadata()
    assert {s["label"] for s in d_bvse["sites"]} <= {"Na1", "Na2", "Na3", None}
    assert main(["distortion", str(run / "CONTCAR"), str(d / "conf_001.cif"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["configuration"]["index"] == 0 and rows[1]["configuration"]["index"] == 1
    assert rows[0]["na_displacement_max_A"] == pytest.approx(0, abs=1e-6)
    assert main(["distortion", str(d / "conf_000.cif")]) == 0
    text = capsys.readouterr().out
    assert "GII" in text and "Lu" in text
