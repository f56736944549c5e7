"""Periodic grids and the compiled BVSE kernels against brute-force sums and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erfc

from nasicon_sim.bvse import energy
from nasicon_sim.bvse.grid import frac_points, grid_shape, grid_spacings, interplanar_spacings
from nasicon_sim.errors import NasiconSimError

LATTICE = np.array([[5.0, 0.0, 0.0], [1.3, 4.6, 0.0], [-0.8, 0.9, 6.1]])  # triclinic


def random_atoms(n=7, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, 3)), rng.integers(0, 2, n), rng.random(n) + 0.2,
            rng.random(n) + 0.5, rng.random(n) + 1.8, rng.random(n) * 3 + 4.0)


def brute_force(lattice, points, frac, kind, p_a, p_b, p_c, cutoff, reach=4):
    """Plain numpy sum over a block of periodic images (independent of the kernels)."""
    out = np.zeros(len(points))
    rng = range(-reach, reach + 1)
    for a in range(len(frac)):
        for t in [(i, j, k) for i in rng for j in rng for k in rng]:
            r = np.linalg.norm(points - (frac[a] + t) @ lattice, axis=1)
            r = np.maximum(r, energy.R_FLOOR_A)
            if kind[a] == energy.MORSE:
                v = p_a[a] * ((np.exp(p_b[a] * (p_c[a] - r)) - 1) ** 2 - 1)
            else:
                v = p_a[a] * erfc(r * p_b[a]) / r
            out += np.where(r <= cutoff[a], v, 0.0)
    return out


def test_grid_shape_uses_ceil_and_no_duplicated_planes():
    shape = grid_shape(LATTICE, 0.37)
    lengths = np.linalg.norm(LATTICE, axis=1)
    assert shape == tuple(int(np.ceil(x / 0.37)) for x in lengths)
    assert np.all(grid_spacings(LATTICE, shape) <= 0.37)
    pts = frac_points(shape)
    assert pts.max() < 1.0 and pts.min() == 0.0
    assert len(np.unique(np.round(pts, 9), axis=0)) == len(pts) == np.prod(shape)


def test_interplanar_spacings_match_pymatgen():
    from pymatgen.core import Lattice

    lat = Lattice(LATTICE)
    expected = [lat.d_hkl(hkl) for hkl in ((1, 0, 0), (0, 1, 0), (0, 0, 1))]
    assert np.allclose(interplanar_spacings(LATTICE), expected)


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), "0.1"])
def test_grid_shape_rejects_bad_spacing(bad):
    with pytest.raises(NasiconSimError):
        grid_shape(LATTICE, bad)


def test_grid_kernel_equals_brute_force_on_a_triclinic_cell():
    atoms = random_atoms()
    shape = (11, 9, 13)
    e = energy.grid_energies(LATTICE, shape, *atoms)
    pts = frac_points(shape) @ LATTICE
    ref = brute_force(LATTICE, pts, *atoms)
    assert np.max(np.abs(e.ravel() - ref)) < 1e-9 * max(1.0, np.abs(ref).max())
    # serial and parallel kernels agree exactly (each point is summed in the same order)
    assert np.array_equal(e, energy.grid_energies(LATTICE, shape, *atoms, threads=1))


def test_cutoff_larger_than_cell_counts_every_image():
    frac = np.array([[0.1, 0.2, 0.3]])
    args = (frac, [energy.COULOMB], [2.0], [0.3], [0.0], [12.0])  # sphere spans several cells
    e = energy.grid_energies(LATTICE, (4, 5, 6), *args)
    ref = brute_force(LATTICE, frac_points((4, 5, 6)) @ LATTICE, *args, reach=5)
    assert np.allclose(e.ravel(), ref, rtol=1e-12, atol=1e-12)


def test_point_energies_match_grid_and_gradients_match_finite_differences():
    atoms = random_atoms(seed=3)
    shape = (6, 5, 7)
    grid = energy.grid_energies(LATTICE, shape, *atoms)
    pts = frac_points(shape) @ LATTICE
    e, _ = energy.point_energies(LATTICE, pts, *atoms)
    assert np.allclose(e, grid.ravel(), rtol=1e-12, atol=1e-10)
    x = pts[:4] + np.array([0.123, -0.071, 0.044])
    _, g = energy.point_energies(LATTICE, x, *atoms)
    h = 1e-5
    for i in range(3):
        d = np.zeros(3)
        d[i] = h
        ep, _ = energy.point_energies(LATTICE, x + d, *atoms)
        em, _ = energy.point_energies(LATTICE, x - d, *atoms)
        assert np.allclose((ep - em) / (2 * h), g[:, i], rtol=1e-5, atol=1e-6)


def test_morse_minimum_and_empty_framework():
    lat = np.eye(3) * 10.0
    e = energy.grid_energies(lat, (10, 10, 10), np.array([[0.0, 0.0, 0.0]]), [energy.MORSE],
                             [0.3], [2.0], [2.0], [4.5])
    assert e[2, 0, 0] == pytest.approx(-0.3, abs=1e-12)  # at r = r_min the well depth
    assert e[5, 5, 5] == 0.0
    empty = energy.grid_energies(lat, (3, 3, 3), np.zeros((0, 3)), [], [], [], [], [])
    assert empty.shape == (3, 3, 3) and not empty.any()


@pytest.mark.parametrize("kwargs, match", [
    ({"shape": (0, 3, 3)}, "grid shape"),
    ({"cutoff": [-1.0]}, "non-negative"),
    ({"frac": np.array([[np.nan, 0, 0]])}, "finite"),
    ({"lattice": np.zeros((3, 3))}, "non-singular"),
])
def test_kernel_input_errors(kwargs, match):
    args = {"lattice": np.eye(3) * 5, "shape": (3, 3, 3), "frac": np.zeros((1, 3)),
            "cutoff": [3.0]}
    args.update(kwargs)
    with pytest.raises(NasiconSimError, match=match):
        energy.grid_energies(args["lattice"], args["shape"], args["frac"], [0], [1.0], [1.0],
                             [2.0], args["cutoff"])
