"""``nasicon-sim build``: files in DIR, manifest, one-line errors, interruption."""

from __future__ import annotations

import json

import pytest

from nasicon_sim.cli.main import main
from nasicon_sim.structure import ensemble as ensemble_module

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


def test_build_writes_one_cif_per_configuration_and_a_manifest(tmp_path, capsys):
    out = tmp_path / "me1"
    argv = ["build", ME1, "--supercell", "1x1x2", "-n", "3", "--seed", "0", "--method", "ewald",
            "--format", "extxyz", "-o", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "2 parent cell(s)" in text and "E_ewald" in text
    cifs = sorted(p.name for p in out.glob("*.cif"))
    assert cifs == ["conf_000.cif", "conf_001.cif", "conf_002.cif"]
    assert len(list(out.glob("*.extxyz"))) == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["ensemble"]["method"] == "ewald" and manifest["ensemble"]["seed"] == 0
    assert manifest["ensemble"]["supercell_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    assert [c["files"]["cif"] for c in manifest["configurations"]] == cifs
    for entry in manifest["configurations"]:
        assert entry["composition"] == "Na3.5ZrTi0.5Lu0.5Si2PO12" and entry["n_atoms"] == 164
        assert entry["ewald_energy_per_atom_eV"] == pytest.approx(entry["ewald_energy_eV"] / 164)
    # same command, same seed: the same files
    again = tmp_path / "again"
    assert main([*argv[:-1], str(again)]) == 0
    for name in cifs:
        assert (again / name).read_text() == (out / name).read_text()


def test_build_chooses_the_supercell_and_reports_vegard(tmp_path, capsys):
    assert main(["build", ME1, "-n", "1", "--method", "random", "--vegard", "-o", str(tmp_path / "v")]) == 0
    text = capsys.readouterr().out
    assert "1 parent cell(s)" in text and "vegard       scale 1.00307" in text
    assert "15.6338 9.0567 9.2332" in text


def test_build_rounding_note(tmp_path, capsys):
    he1 = "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12"
    assert main(["build", he1, "-n", "1", "--method", "random", "--max-atoms", "300",
                 "-o", str(tmp_path / "r")]) == 0
    assert "composition rounded" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["ensemble"]["exact"] is False


@pytest.mark.parametrize(("extra", "fragment"), [
    (["Na3Zr2Xx2PO12"], "unknown element 'Xx'"),
    (["Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12", "--max-atoms", "100"], "not representable"),
    ([ME1, "--na-min-distance", "3.6"], "cannot be placed"),
    ([ME1, "--supercell", "1x2"], "AxBxC"),
    ([ME1, "--supercell", "1 0 0 0 1 0 0 0 1"], "--supercell takes AxBxC"),
    ([ME1, "--supercell-matrix", "1 0 0 0 0 0 0 0 1"], "determinant 0"),
    ([ME1, "--format", "pdb"], "unknown output format"),
    ([ME1, "-n", "0"], "at least 1"),
])
def test_build_errors_are_one_line(extra, fragment, tmp_path, capsys):
    assert main(["build", *extra, "-o", str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err and "Traceback" not in err


def test_build_refuses_to_overwrite_an_ensemble(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["build", ME1, "-n", "1", "--method", "random", "-o", out]) == 0
    assert main(["build", ME1, "-n", "1", "--method", "random", "-o", out]) == 2
    assert "already holds an ensemble" in capsys.readouterr().err
    assert main(["build", ME1, "-n", "1", "--method", "random", "--overwrite", "-o", out]) == 0


def test_interrupted_build_keeps_finished_files(tmp_path, monkeypatch, capsys):
    real = ensemble_module.make_configuration
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ensemble_module, "make_configuration", flaky)
    out = tmp_path / "cut"
    assert main(["build", ME1, "-n", "5", "--method", "random", "-o", str(out)]) == 130
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted" and manifest["n_configurations"] == 2
    assert sorted(p.name for p in out.glob("*.cif")) == ["conf_000.cif", "conf_001.cif"]
    assert "interrupted" in capsys.readouterr().err
    # --resume finishes the job; the files equal those of an uninterrupted build
    monkeypatch.setattr(ensemble_module, "make_configuration", real)
    assert main(["build", ME1, "-n", "5", "--method", "random", "--resume", "-o", str(out)]) == 0
    assert "resuming     2 configuration(s)" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["n_configurations"] == 5
    assert [c["index"] for c in manifest["configurations"]] == [0, 1, 2, 3, 4]
    whole = tmp_path / "whole"
    assert main(["build", ME1, "-n", "5", "--method", "random", "-o", str(whole)]) == 0
    for k in range(5):
        name = f"conf_{k:03d}.cif"
        assert (out / name).read_text() == (whole / name).read_text()


def test_resume_refuses_another_ensemble(tmp_path, capsys):
    out = str(tmp_path / "r")
    assert main(["build", ME1, "-n", "1", "--method", "random", "--resume", "-o", out]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(["build", ME1, "-n", "1", "--method", "random", "-o", out]) == 0
    assert main(["build", ME1, "-n", "2", "--method", "random", "--seed", "5", "--resume", "-o", out]) == 2
    assert "different ensemble (seed: 0 vs 5)" in capsys.readouterr().err
    assert main(["build", ME1, "-n", "2", "--method", "random", "--dedup", "--resume", "-o", out]) == 2
    assert "cannot continue a --dedup build" in capsys.readouterr().err
