"""VASP NEB inputs written, synthetic outputs read back into the same result."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _neb_helpers import write_vasprun
from ase import Atoms
from ase.io import read

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.neb.hops import Hop
from nasicon_sim.neb.result import NEBResult, read_result
from nasicon_sim.neb.vasp import read_vasp_neb, write_vasp_neb_inputs

HOP = Hop(site_i=0, site_j=13, translation=(0, 0, 1), labels=("Na1", "Na2"),
          env_key="M:Zr3|T:P1Si3", frac_i=(0.25, 0.25, 0.25), frac_j=(0.5, 0.3, 0.0),
          saddle_frac=(0.4, 0.3, 0.6), bvse_saddle_eV=0.66, bvse_barrier_forward_eV=0.66,
          bvse_barrier_backward_eV=0.23, link_index=7, bottleneck_of=(3,))


def _result(n_images=3):
    cell = np.diag([8.0, 8.5, 9.0])
    base = Atoms("NaZrO2", positions=[[1, 1, 1], [4, 4, 4], [2, 5, 6], [6, 2, 3]], cell=cell,
                 pbc=True)
    images, energies = [], []
    for k in range(n_images + 2):
        a = base.copy()
        a.positions[0] += [0.6 * k, 0.2 * k, 0.8 * k]  # crosses the cell boundary in z
        images.append(a)
        energies.append(-20.0 + 0.3 * np.sin(np.pi * k / (n_images + 1)) + 0.05 * k)
    return NEBResult(hop=HOP, status="converged", energies_eV=tuple(energies),
                     path_A=tuple(range(n_images + 2)), converged=True, n_steps=12,
                     max_force_eV_A=0.03, saddle_image=int(np.argmax(energies)), mover=0,
                     calculator="test", settings={"n_images": n_images}, source="x.cif",
                     images=tuple(images))


def test_vasp_tree_round_trip(tmp_path):
    r = _result()
    top = write_vasp_neb_inputs(r, tmp_path / "vasp", incar={"NCORE": 4})
    names = sorted(p.name for p in top.iterdir())
    assert names == ["00", "01", "02", "03", "04", "INCAR", "KPOINTS", "POTCAR.spec",
                     "nasicon_sim.json"]
    assert (top / "POTCAR.spec").read_text().split() == ["Na_pv", "Zr_sv", "O"]
    incar = (top / "INCAR").read_text()
    assert "IMAGES = 3" in incar and "LCLIMB = True" in incar and "NCORE = 4" in incar
    side = json.loads((top / "nasicon_sim.json").read_text())
    assert side["elements"] == ["Na", "Zr", "O", "O"] and side["neb"]["n_images"] == 3
    assert not list(tmp_path.glob(".vasp*"))  # no temporary directory left
    for k, image in enumerate(r.images):
        poscar = read(str(top / f"{k:02d}" / "POSCAR"), format="vasp")
        assert poscar.get_chemical_symbols() == image.get_chemical_symbols()
        write_vasprun(top / f"{k:02d}" / "vasprun.xml", poscar, r.energies_eV[k])
    back = read_vasp_neb(top)
    assert back.energies_eV == pytest.approx(r.energies_eV, abs=1e-6)
    assert back.barrier_forward_eV == pytest.approx(r.barrier_forward_eV, abs=1e-6)
    assert back.barrier_backward_eV == pytest.approx(r.barrier_backward_eV, abs=1e-6)
    assert back.hop == HOP and back.converged and back.saddle_image == r.saddle_image
    for a, b in zip(back.images, r.images):  # continuous positions across the boundary
        assert np.allclose(a.positions, b.positions, atol=1e-6)
    back.write(tmp_path / "res")
    again = read_result(tmp_path / "res" / f"{HOP.tag}.json", with_images=True)
    assert again.as_dict() == back.as_dict() and len(again.images) == 5


def test_vasp_errors(tmp_path):
    r = _result()
    top = write_vasp_neb_inputs(r, tmp_path / "v")
    with pytest.raises(NasiconSimError, match="choose another --vasp-inputs"):
        write_vasp_neb_inputs(r, top)
    with pytest.raises(NasiconSimError, match=r"00 holds no vasprun.xml or OUTCAR .*end points"):
        read_vasp_neb(top)
    with pytest.raises(NasiconSimError, match="no nasicon_sim.json"):
        read_vasp_neb(tmp_path)
    empty = NEBResult(hop=HOP, status="end-point-left-site", message="left")
    with pytest.raises(NasiconSimError, match="no band"):
        write_vasp_neb_inputs(empty, tmp_path / "w")
    assert not (tmp_path / "w").exists()


def test_band_result_forward_minus_backward():
    r = _result(5)
    de = r.final_energy_eV - r.initial_energy_eV
    assert r.barrier_forward_eV - r.barrier_backward_eV == pytest.approx(de, abs=1e-12)
    assert r.kra_eV == pytest.approx(0.5 * (r.barrier_forward_eV + r.barrier_backward_eV))
