"""``nasicon-sim neb``: one clear line per bad input, nothing half-written, resumable output."""

from __future__ import annotations

import json

import pytest

from nasicon_sim.cli.main import main


def _err(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_calculator_not_installed_writes_nothing(nzsp, tmp_path, capsys):
    _, cif, _, _ = nzsp
    out = tmp_path / "o"
    assert main(["neb", str(cif), "--calculator", "no_such_module:make", "-o", str(out)]) == 2
    assert "cannot import no_such_module" in _err(capsys)
    assert not out.exists()


def test_chgnet_missing_says_how_to_install(nzsp, tmp_path, capsys, monkeypatch):
    import nasicon_sim.relax as relax

    monkeypatch.setattr(relax, "chgnet_available", lambda: False)
    relax._cached_chgnet.cache_clear()
    _, cif, _, _ = nzsp
    out = tmp_path / "o"
    assert main(["neb", str(cif), "-o", str(out)]) == 2
    assert "CHGNet is not installed: pip install" in _err(capsys)
    assert not out.exists()
    relax._cached_chgnet.cache_clear()


def test_unlinked_hop_and_bad_settings(nzsp, tmp_path, capsys):
    _, cif, bvse, _ = nzsp
    out = tmp_path / "o"
    assert main(["neb", str(cif), "--calculator", "ase.calculators.emt:EMT", "--bvse-spacing",
                 "0.3", "--hop", "0,0", "-o", str(out)]) == 2
    assert "not linked in the BVSE network" in _err(capsys)
    assert main(["neb", str(cif), "--images", "0", "-o", str(out)]) == 2
    assert "(--images)" in _err(capsys)
    assert main(["neb", str(cif), "--spring", "-1", "-o", str(out)]) == 2
    assert "(--spring)" in _err(capsys)
    assert not out.exists()


def test_end_point_leaving_its_site_one_line_and_a_complete_record(nzsp, tmp_path, capsys):
    _, cif, _, _ = nzsp
    out = tmp_path / "o"
    args = ["neb", str(cif), "--calculator", "_neb_helpers:tether", "--bvse-spacing", "0.3",
            "--hop", "link:0", "--images", "1", "-o", str(out)]
    assert main(args) == 2
    line = _err(capsys)
    assert "end point is not stable" in line
    summary = json.loads((out / "neb.json").read_text())
    assert summary["status"] == "complete" and summary["n_done"] == 1
    rec = summary["hops"][0]
    assert rec["status"] == "end-point-left-site" and rec["barrier_forward_eV"] is None
    table = json.loads((out / "barriers.json").read_text())
    assert table["rows"] == [] and table["skipped"][0]["status"] == "end-point-left-site"
    assert not list(out.glob(".*.tmp"))
    # the directory is not silently reused
    assert main(args) == 2
    assert "already holds neb.json" in _err(capsys)


def test_json_lists_one_object_per_hop_with_the_documented_keys(nzsp, tmp_path, capsys):
    _, cif, _, _ = nzsp
    out = tmp_path / "o"
    code = main(["neb", str(cif), "--calculator", "_neb_helpers:tether", "--bvse-spacing",
                 "0.3", "--max-hops", "2", "--images", "1", "--json", "-o", str(out)])
    assert code == 1  # no hop has a barrier under the tether potential
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2
    for key in ("labels", "barrier_forward_eV", "barrier_backward_eV", "initial_energy_eV",
                "final_energy_eV", "bvse_kra_eV", "converged"):
        assert all(key in r for r in records)
    assert main(["neb", str(cif), "--calculator", "_neb_helpers:tether", "--bvse-spacing",
                 "0.3", "--max-hops", "2", "--images", "1", "--json", "--resume",
                 "-o", str(out)]) == 1
    assert json.loads(capsys.readouterr().out) == records  # resumed: read back, not recomputed


@pytest.mark.parametrize("bad", [["--max-hops", "0"]])
def test_max_hops_validated(nzsp, tmp_path, capsys, bad):
    _, cif, _, _ = nzsp
    assert main(["neb", str(cif), *bad, "-o", str(tmp_path / "o")]) == 2
    assert "--max-hops" in _err(capsys)


def test_images_are_batched_by_default_only_on_cuda():
    from nasicon_sim.cli.neb import _batch

    assert _batch(None, None) is False and _batch(None, "cpu") is False
    assert _batch(None, "cuda") is True and _batch(None, "cuda:1") is True
    assert _batch(True, "cpu") is True and _batch(False, "cuda") is False
