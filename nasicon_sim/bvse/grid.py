"""Periodic grids over a unit cell.

A grid of shape (n1, n2, n3) holds the points with fractional coordinates
(i/n1, j/n2, k/n3), 0 <= i < n1 etc.: every point of the periodic lattice of grid points
appears exactly once (no duplicated 0 and 1 planes, unlike ``numpy.linspace(0, 1, n)`` grids).
For a requested spacing h, n_i = ceil(|a_i| / h), so the spacing along every lattice vector is
at most h. Array axes follow the lattice vectors: ``energies[i, j, k]``.
"""

from __future__ import annotations

import math

import numpy as np

from nasicon_sim.errors import NasiconSimError

__all__ = [
    "frac_points",
    "grid_shape",
    "grid_spacings",
    "interplanar_spacings",
]


def _check_lattice(lattice: np.ndarray) -> np.ndarray:
    lat = np.asarray(lattice, dtype=float)
    if lat.shape != (3, 3) or not np.all(np.isfinite(lat)):
        raise NasiconSimError("a lattice must be a finite 3x3 matrix (rows = lattice vectors)")
    if abs(np.linalg.det(lat)) < 1e-6:
        raise NasiconSimError("the lattice vectors are linearly dependent (zero cell volume)")
    return lat


def grid_shape(lattice: np.ndarray, spacing_A: float) -> tuple[int, int, int]:
    """Number of grid points along each lattice vector for a spacing of at most ``spacing_A``.

    Parameters
    ----------
    lattice : array (3, 3)
        Rows are the lattice vectors (Angstrom).
    spacing_A : float
        Largest allowed distance between neighbouring points along a lattice vector (Angstrom).

    Returns
    -------
    tuple of int
        (n1, n2, n3) with n_i = ceil(|a_i| / spacing_A).

    Examples
    --------
    >>> grid_shape(np.diag([4.0, 4.05, 10.0]), 0.1)
    (40, 41, 100)
    """
    lat = _check_lattice(lattice)
    if not (isinstance(spacing_A, (int, float)) and math.isfinite(spacing_A) and spacing_A > 0):
        raise NasiconSimError(f"the grid spacing must be a positive number, got {spacing_A!r}")
    lengths = np.linalg.norm(lat, axis=1)
    if float(lengths.max()) / spacing_A > 1e6:
        raise NasiconSimError(
            f"a grid spacing of {spacing_A:g} A would put more than a million points along a "
            "lattice vector; use a spacing of 0.1-0.4 A")
    # a tiny relative slack so that 4.0 / 0.1 gives 40, not 41 from rounding noise
    return tuple(int(math.ceil(length / spacing_A - 1e-9)) for length in lengths)


def grid_spacings(lattice: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Actual spacing (Angstrom) between neighbouring points along each lattice vector."""
    lat = _check_lattice(lattice)
    return np.linalg.norm(lat, axis=1) / np.asarray(shape, dtype=float)


def interplanar_spacings(lattice: np.ndarray) -> np.ndarray:
    """Distances between lattice planes (100), (010), (001): V / |a_j x a_k| (Angstrom).

    A sphere of radius R spans R / d_i in fractional coordinate i; this, not a_i sin(angle),
    bounds the periodic images needed for a cutoff sum in a skewed cell.

    >>> np.round(interplanar_spacings(np.array([[2.0, 0, 0], [1.0, 2.0, 0], [0, 0, 3.0]])), 6)
    array([1.788854, 2.      , 3.      ])
    """
    lat = _check_lattice(lattice)
    vol = abs(np.linalg.det(lat))
    return np.array([vol / np.linalg.norm(np.cross(lat[(i + 1) % 3], lat[(i + 2) % 3]))
                     for i in range(3)])


def frac_points(shape: tuple[int, int, int]) -> np.ndarray:
    """Fractional coordinates of all grid points, shape (n1*n2*n3, 3), in C (i, j, k) order."""
    axes = [np.arange(n) / n for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
