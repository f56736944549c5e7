"""Barriers must not depend on how the crystal is described (ase test_minimum_image_convention
in spirit): supercell, origin, atom order, cell basis; and they converge with the grid.

Grid barriers are exactly invariant when the grids are commensurate (same points); for general
transformations the grid samples other points, so the saddle-refined barriers are compared.
The issue asks for 5 meV; refined barriers agree to 1e-9 eV, and the tests hold them to
1 micro-eV. Grid barriers converge towards them (and agree within 5 meV at 0.07 A, slow test).
"""

from __future__ import annotations

import numpy as np
import pytest
from _bvse_helpers import nzsp

from nasicon_sim.bvse import BVSESettings, analyse
from nasicon_sim.bvse.grid import grid_shape

TOL_EV = 5e-3  # the tolerance
REFINED_TOL_EV = 1e-6
SPACING = 0.25


def barriers(structure, **kw):
    r = analyse(structure, BVSESettings(**{"spacing_A": SPACING, **kw}))
    return np.array(r.barriers_eV), np.array(r.refined_barriers_eV, dtype=float)


@pytest.fixture(scope="module")
def reference():
    s = nzsp()
    shape = grid_shape(s.lattice.matrix, SPACING)
    grid, refined = barriers(s, grid_shape=shape, cutoff_A=10.0)
    grid_tol, refined_tol = barriers(s)
    return {"shape": shape, "grid": grid, "refined": refined, "refined_tol": refined_tol}


def test_supercell_commensurate_grid_is_exact(reference):
    s = nzsp()
    s.make_supercell([2, 1, 1])
    n1, n2, n3 = reference["shape"]
    grid, refined = barriers(s, grid_shape=(2 * n1, n2, n3), cutoff_A=10.0)
    assert np.allclose(grid, reference["grid"], atol=1e-9)
    assert np.allclose(refined, reference["refined"], atol=1e-6)


def test_supercell_with_default_cutoffs(reference):
    s = nzsp()
    s.make_supercell([1, 2, 1])
    _, refined = barriers(s)
    assert np.allclose(refined, reference["refined_tol"], atol=REFINED_TOL_EV)


def test_origin_shift_by_a_grid_vector_is_exact(reference):
    s = nzsp()
    shift = np.array([3, 5, 7]) / np.array(reference["shape"])
    s.translate_sites(range(len(s)), shift)
    grid, _ = barriers(s, grid_shape=reference["shape"], cutoff_A=10.0)
    assert np.allclose(grid, reference["grid"], atol=1e-9)


def test_arbitrary_origin_shift(reference):
    s = nzsp()
    s.translate_sites(range(len(s)), [0.0123, 0.4567, 0.789])
    _, refined = barriers(s)
    assert np.allclose(refined, reference["refined_tol"], atol=REFINED_TOL_EV)


def test_permutation_of_atoms(reference):
    s = nzsp()
    order = np.random.default_rng(0).permutation(len(s))
    from pymatgen.core import Structure

    shuffled = Structure.from_sites([s[int(i)] for i in order])
    grid, refined = barriers(shuffled, grid_shape=reference["shape"], cutoff_A=10.0)
    assert np.allclose(grid, reference["grid"], atol=1e-9)
    assert np.allclose(refined, reference["refined"], atol=1e-9)


@pytest.mark.parametrize("matrix", [
    [[1, 0, 1], [0, 1, 0], [0, 0, 1]],
    [[0, 1, 0], [1, 0, 0], [0, 0, -1]],
    [[1, 0, 0], [0, 1, 0], [-1, 0, 1]],
])
def test_unimodular_change_of_basis(reference, matrix):
    assert round(abs(np.linalg.det(matrix))) == 1
    s = nzsp()
    s.make_supercell(matrix)
    assert len(s) == len(nzsp())
    _, refined = barriers(s)
    assert np.allclose(refined, reference["refined_tol"], atol=REFINED_TOL_EV)


def test_grid_barriers_converge_to_the_refined_saddles(reference):
    s = nzsp()
    errors = []
    for h in (0.4, 0.2):
        r = analyse(s, BVSESettings(spacing_A=h))
        errors.append(np.abs(np.array(r.barriers_eV) - reference["refined_tol"]).max())
        assert np.allclose(r.refined_barriers_eV, reference["refined_tol"], atol=REFINED_TOL_EV)
    assert errors[1] < errors[0]


@pytest.mark.slow
def test_fine_grid_barriers_are_within_5_meV_under_basis_change_and_shift():
    results = []
    for matrix, shift in (([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 0, 0]),
                          ([[1, 0, 1], [0, 1, 0], [0, 0, 1]], [0.0123, 0.4567, 0.789])):
        s = nzsp()
        s.make_supercell(matrix)
        s.translate_sites(range(len(s)), shift)
        r = analyse(s, BVSESettings(spacing_A=0.07, keep_landscape=False))
        results.append(np.array(r.barriers_eV))
        assert np.abs(np.array(r.barriers_eV) - np.array(r.refined_barriers_eV)).max() < 8e-3
    assert np.abs(results[0] - results[1]).max() < TOL_EV
