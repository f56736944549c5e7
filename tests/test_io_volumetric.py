"""Cube, VESTA .grd and PNG section writers."""

from __future__ import annotations

import numpy as np
import pytest
from _bvse_helpers import nzsp

from nasicon_sim.bvse import BVSESettings, compute_landscape
from nasicon_sim.errors import NasiconSimError
from nasicon_sim.io.images import section, write_slice_png
from nasicon_sim.io.volumetric import read_grd, write_cube, write_grd
from nasicon_sim.units import BOHR_A


@pytest.fixture(scope="module")
def landscape():
    return compute_landscape(nzsp(), BVSESettings(spacing_A=0.5))


def test_cube_round_trip_with_ase(landscape, tmp_path):
    from ase.io.cube import read_cube

    path = write_cube(tmp_path / "l.cube", landscape, mobile_frac=[[0.25, 0.25, 0.5]])
    with path.open() as fh:
        content = read_cube(fh)
    data, atoms = content["data"], content["atoms"]
    assert data.shape == landscape.shape
    assert np.allclose(data, landscape.energies_eV, rtol=1e-5, atol=1e-5)
    assert np.allclose(atoms.cell, landscape.lattice, atol=1e-4)
    assert len(atoms) == len(landscape.framework.frac) + 1 and atoms[-1].symbol == "Na"
    header = path.read_text().splitlines()
    voxel = np.array(header[3].split()[1:], dtype=float) * BOHR_A
    assert np.allclose(voxel, landscape.lattice[0] / landscape.shape[0], atol=1e-5)


@pytest.mark.parametrize("order", ["F", "C"])
def test_grd_round_trip(landscape, tmp_path, order):
    path = write_grd(tmp_path / "l.grd", landscape, order=order)
    data, cellpar, title = read_grd(path, order=order)
    assert np.allclose(data, landscape.energies_eV, rtol=1e-6, atol=1e-6)
    assert cellpar[:3] == pytest.approx(np.linalg.norm(landscape.lattice, axis=1), abs=1e-5)
    assert cellpar[4] == pytest.approx(123.70, abs=1e-3)  # NZSP beta
    assert "Na" in title
    lines = path.read_text().splitlines()
    assert lines[2].split() == [str(n) for n in landscape.shape]
    first = landscape.energies_eV[1, 0, 0] if order == "F" else landscape.energies_eV[0, 0, 1]
    assert float(lines[4]) == pytest.approx(first, rel=1e-6)
    with pytest.raises(NasiconSimError):
        write_grd(tmp_path / "x.grd", landscape, order="Z")


def test_section_geometry_and_png(landscape, tmp_path):
    x, y, values, plane = section(landscape, axis=2, position=0.5)
    n1, n2, _ = landscape.shape
    assert values.shape == (n1 + 1, n2 + 1) == x.shape
    assert values.min() >= 0
    assert np.allclose(values[0], values[-1]) and np.allclose(values[:, 0], values[:, -1])
    corner = np.hypot(x[-1, 0], y[-1, 0])
    assert corner == pytest.approx(np.linalg.norm(landscape.lattice[0]))
    path = write_slice_png(tmp_path / "s.png", landscape, levels_eV=[0.6],
                           sites=[("Na1", (0.25, 0.25, 0.5))])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(NasiconSimError):
        section(landscape, axis=3)
