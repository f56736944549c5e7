"""kMC on a real migration network: lattice from the BVSE network, supercell invariance,
finite-size check, CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasicon_sim.bvse import BVSESettings, analyse
from nasicon_sim.network import ReferenceSites
from nasicon_sim.structure.supercell import parent_sites_of
from nasicon_sim.transport import KMCSettings, lattice_from_bvse, simulate

SPACING = 0.3


@pytest.fixture(scope="module")
def nzsp():
    from nasicon_sim.structure.ensemble import build_ensemble

    structure = build_ensemble("Na3Zr2Si2PO12", n=1, seed=0, method="random")[0].structure
    ref = ReferenceSites(*parent_sites_of(structure, "Na"))
    res = analyse(structure, BVSESettings(spacing_A=SPACING, threads=1, keep_landscape=False),
                  ref)
    return structure, res


def test_lattice_from_the_network(nzsp):
    structure, res = nzsp
    lat = lattice_from_bvse(structure, res, KMCSettings())
    n_na = sum(1 for s in structure if s.specie.symbol == "Na")
    cells = int(np.prod(lat.supercell))
    assert lat.n_mobile == n_na * cells  # from the structure, not a free parameter
    # split minima closer than the blocking distance are one kMC site
    assert lat.n_mobile <= lat.n_sites <= len(res.network.sites) * cells
    assert set(lat.labels) <= {"Na1", "Na2", "Na3"}
    assert lat.volume_A3 == pytest.approx(structure.volume * cells)
    # every network link gives two directed hops per cell, with the link's own length
    assert len(lat.hop_src) <= 2 * len(res.network.links) * cells
    assert len(lat.hop_src) % (2 * cells) == 0
    lengths = np.linalg.norm(lat.hop_vec_A, axis=1)
    assert lengths.max() < 7.0  # merged sites sit at their lowest member
    # no two kMC sites closer than the blocking distance: no short rattling hops are left
    assert lengths.min() >= 2.5 and not lat.pair_blocked.any()
    # E_KRA = saddle - mean of the two site energies, from the network
    # a link between two sites that no other site is within 2.5 A of (they stay as they are)
    from pymatgen.core import Lattice

    frac = np.array([st.frac_coords for st in res.network.sites])
    dist = Lattice(structure.lattice.matrix).get_all_distances(frac, frac)
    alone = {i for i in range(len(frac)) if np.sum(dist[i] < 2.5) == 1}
    link = next(lk for lk in res.network.links if lk.site_a in alone and lk.site_b in alone)
    sa, sb = res.network.sites[link.site_a], res.network.sites[link.site_b]
    # refined values when every link is refined (grid minima that failed to refine are merged
    # into their neighbours), else the grid's: never a mix
    assert all(lk.saddle_refined_eV is not None for lk in res.network.links)
    kra = link.saddle_refined_eV - 0.5 * (sa.energy_refined_eV + sb.energy_refined_eV)
    assert np.isclose(lat.hop_kra_eV, kra).any()
    grid_kra = link.saddle_eV - 0.5 * (sa.energy_eV + sb.energy_eV)
    assert not np.isclose(lat.hop_kra_eV, grid_kra, atol=1e-6).all()
    # the supercell is at least 20 A and twice the interaction reach wide
    widths = 1.0 / np.linalg.norm(np.linalg.inv(lat.lattice), axis=0)
    assert widths.min() >= max(20.0, 2 * lat.interaction["cutoff_A"])
    assert lat.pair_v_eV.max() > 0.01  # the Na-Na repulsion is on


def test_barrier_table_replaces_bvse_values(nzsp):
    structure, res = nzsp
    lat = lattice_from_bvse(structure, res, KMCSettings(barrier_table={"Na3-Na1": 0.123}))
    names = lat.hop_names
    sel = lat.hop_type == names.index("Na1-Na3")
    assert np.allclose(lat.hop_kra_eV[sel], 0.123)
    from nasicon_sim.errors import NasiconSimError

    with pytest.raises(NasiconSimError, match="Na1-Na9.*--barrier"):
        lattice_from_bvse(structure, res, KMCSettings(barrier_table={"Na9-Na1": 0.1}))


def _sigma(structure, res, settings):
    p = simulate(lattice_from_bvse(structure, res, settings), settings).points[0]
    return p.sigma_S_cm, p.sigma_err_S_cm


@pytest.mark.slow
def test_supercell_of_the_input_and_larger_kmc_cell_give_the_same_sigma(nzsp):
    structure, res = nzsp
    big = structure * (2, 1, 1)
    frac, labels, wyck = parent_sites_of(structure, "Na")  # tiled: the same names
    frac = np.asarray(frac) / [2.0, 1.0, 1.0]
    ref2 = ReferenceSites(np.vstack([frac, frac + [0.5, 0.0, 0.0]]), tuple(labels) * 2,
                          tuple(wyck) * 2)
    res2 = analyse(big, BVSESettings(spacing_A=SPACING, threads=1, keep_landscape=False), ref2)
    s = KMCSettings(temperatures_K=(473.0,), passes=150, runs=4, blocks=15, seed=3)
    lat1 = lattice_from_bvse(structure, res, s)
    lat2 = lattice_from_bvse(big, res2, s)
    assert lat1.n_sites == lat2.n_sites and lat1.n_mobile == lat2.n_mobile
    assert lat1.volume_A3 == pytest.approx(lat2.volume_A3)
    a, ea = _sigma(structure, res, s)
    b, eb = _sigma(big, res2, s)
    assert abs(a - b) < 3 * math.hypot(ea, eb), (a, ea, b, eb)
    # finite size: a kMC cell about 1.5 times wider gives the same sigma within error
    c, ec = _sigma(structure, res, KMCSettings(temperatures_K=(473.0,), passes=150, runs=4,
                                               blocks=15, seed=4, min_length_A=30.0))
    assert abs(a - c) < 3 * math.hypot(ea, ec), (a, ea, c, ec)


def test_cli_json_and_errors(tmp_path, capsys, nzsp):
    from nasicon_sim.cli.main import main

    structure, _ = nzsp
    path = tmp_path / "nzsp.cif"
    structure.to(filename=str(path))
    code = main(["kmc", str(path), "--temperatures", "473,573", "--passes", "20", "--runs",
                 "2", "--blocks", "4", "--equilibration-passes", "5", "--spacing", str(SPACING),
                 "--json", "--plot", str(tmp_path / "a.png"), "--checkpoint",
                 str(tmp_path / "cp.json")])
    out = capsys.readouterr()
    assert code == 0
    d = json.loads(out.out)
    for key in ("temperatures_K", "sigma_S_cm", "sigma_err_S_cm", "D_tracer_cm2_s",
                "D_sigma_cm2_s", "haven_ratio", "Ea_eV", "Ea_err_eV", "sigma_25C_S_cm",
                "n_mobile", "n_sites", "hops_per_second"):
        assert key in d, key
    assert d["temperatures_K"] == [473.0, 573.0] and len(d["sigma_S_cm"]) == 2
    assert "run 2/2" in out.err  # progress on stderr only
    assert (tmp_path / "a.png").stat().st_size > 1000
    cp = json.loads((tmp_path / "cp.json").read_text())
    assert len(cp["points"]) == 2
    # resume: the checkpoint answers, same numbers
    main(["kmc", str(path), "--temperatures", "473,573", "--passes", "20", "--runs", "2",
          "--blocks", "4", "--equilibration-passes", "5", "--spacing", str(SPACING), "--json",
          "--checkpoint", str(tmp_path / "cp.json")])
    again = capsys.readouterr()
    assert json.loads(again.out)["sigma_S_cm"] == d["sigma_S_cm"]
    assert "from checkpoint" in again.err
    for bad, flag in ((["--passes", "0"], "--passes"), (["--temperatures", "a,b"],
                                                        "--temperatures"),
                      (["--supercell", "2x2"], "--supercell"),
                      (["--barrier", "Na1-Na3"], "--barrier"),
                      (["--interaction-scale", "-1"], "--interaction-scale"),
                      (["--kra-floor", "-0.1"], "--kra-floor"),
                      (["--kra-floor", "nan"], "--kra-floor"),
                      (["--min-length", "0"], "--min-length")):
        assert main(["kmc", str(path), *bad]) == 2
        assert flag in capsys.readouterr().err


def test_quiet_flag_silences_kmc_progress(tmp_path, capsys, nzsp):
    from nasicon_sim.cli.main import main

    structure, _ = nzsp
    path = tmp_path / "nzsp.cif"
    structure.to(filename=str(path))
    args = ["kmc", str(path), "--temperatures", "473", "--passes", "10", "--runs", "2",
            "--blocks", "2", "--equilibration-passes", "2", "--spacing", str(SPACING), "--json"]
    assert main(args) == 0
    assert "run 2/2" in capsys.readouterr().err
    assert main(["-q", *args]) == 0
    assert "kmc:" not in capsys.readouterr().err
