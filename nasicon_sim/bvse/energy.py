"""BVSE energy kernels: pure functions on arrays (numba-compiled).

The bond-valence site energy of a test ion A at r (Chen & Adams, IUCrJ 4 (2017) 614; Chen, Wong
& Adams, Acta Cryst. B 75 (2019) 18; the form implemented by bvlain and CAVD, see
``shared/research/BVSE-REPORT.md`` section 1.1) is a sum over framework atoms j:

* counter-ions (opposite sign to A), Morse attraction
  ``E_j = c_j [(exp(alpha_j (r_min,j - R)) - 1)^2 - 1]`` with ``c_j = s_M D0_j``;
* same-sign ions, screened Coulomb repulsion ``E_j = P_j erfc(R / rho_j) / R`` with
  ``P_j = k_e s_C q_A q_j`` and ``rho_j = f (r_A + r_j)``.

Every atom j carries its own cutoff radius R_c,j (chosen by :mod:`nasicon_sim.bvse.cutoff` from a
bound on the neglected tail); the sum is exact over all periodic images within it (no
nearest-k truncation). Atoms are described by five arrays of equal length:

``kind``  (int64) 0 = Morse, 1 = screened Coulomb;
``p_a``   c_j (eV) for Morse, P_j (eV Angstrom) for Coulomb;
``p_b``   alpha_j (1/Angstrom) for Morse, 1/rho_j (1/Angstrom) for Coulomb;
``p_c``   r_min,j (Angstrom) for Morse, unused for Coulomb;
``cutoff_A`` R_c,j (Angstrom).

:func:`grid_energies` evaluates a whole periodic grid. It loops over lattice planes of the grid
(in parallel, one thread owns a plane: no locks, no temporaries), and for every atom visits only
the grid points inside its cutoff sphere: the sphere's cross-sections in fractional index space are
solved exactly (quadratic forms of the metric G = L L^T), so the cost is that of the pair sum
itself and the memory is that of the output. :func:`point_energies` evaluates energies and
Cartesian gradients at arbitrary points (used to refine minima and saddles) by looping over
periodic images, a different algorithm on the same formula.

Distances below :data:`R_FLOOR_A` are raised to it (a grid point on top of a framework cation
would otherwise give an infinite Coulomb term; such points are thousands of eV high anyway).
"""

from __future__ import annotations

import math
import types
from contextlib import contextmanager

import numba
import numpy as np

from nasicon_sim.errors import NasiconSimError

__all__ = [
    "COULOMB",
    "MORSE",
    "R_FLOOR_A",
    "grid_energies",
    "point_energies",
    "thread_count",
]

#: ``kind`` code of a Morse (counter-ion) term.
MORSE: int = 0
#: ``kind`` code of a screened-Coulomb (same-sign ion) term.
COULOMB: int = 1
#: Smallest distance (Angstrom) used in a pair term.
R_FLOOR_A: float = 1e-3

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _grid_kernel(lattice, shape, frac, kind, p_a, p_b, p_c, cutoff, out):
    n1, n2, n3 = shape[0], shape[1], shape[2]
    g = lattice @ lattice.T
    g11, g22, g33 = g[0, 0], g[1, 1], g[2, 2]
    g12, g13, g23 = g[0, 1], g[0, 2], g[1, 2]
    # reciprocal vector lengths |b_i*| = 1 / d_i: a sphere of radius R spans R |b_i*| in u_i
    inv = np.linalg.inv(lattice)
    rl1 = math.sqrt(inv[0, 0] ** 2 + inv[1, 0] ** 2 + inv[2, 0] ** 2)
    # cross-section coefficients (see module docstring)
    a2 = g22 - g23 * g23 / g33
    b2f = g12 - g13 * g23 / g33
    c2f = g11 - g13 * g13 / g33
    floor2 = R_FLOOR_A * R_FLOOR_A
    natoms = frac.shape[0]
    for ip in numba.prange(n1):
        for a in range(natoms):
            rc = cutoff[a]
            rc2 = rc * rc
            s1, s2, s3 = frac[a, 0], frac[a, 1], frac[a, 2]
            e1 = rc * rl1
            ilo = math.floor((s1 - e1) * n1) - 1
            ihi = math.ceil((s1 + e1) * n1) + 1
            mlo = -((ip - ilo) // n1)
            mhi = (ihi - ip) // n1
            ka = kind[a]
            pa, pb, pc = p_a[a], p_b[a], p_c[a]
            for m in range(mlo, mhi + 1):
                d1 = (ip + m * n1) / n1 - s1
                # j range: min over d3 of the quadratic form <= rc^2
                bq = 2.0 * d1 * b2f
                cq = d1 * d1 * c2f - rc2
                disc = bq * bq - 4.0 * a2 * cq
                if disc < 0.0:
                    continue
                sq = math.sqrt(disc)
                jlo = math.floor((s2 + (-bq - sq) / (2.0 * a2)) * n2) - 1
                jhi = math.ceil((s2 + (-bq + sq) / (2.0 * a2)) * n2) + 1
                for j in range(jlo, jhi + 1):
                    d2 = j / n2 - s2
                    beta = g13 * d1 + g23 * d2
                    q0 = g11 * d1 * d1 + 2.0 * g12 * d1 * d2 + g22 * d2 * d2
                    disc3 = beta * beta - g33 * (q0 - rc2)
                    if disc3 < 0.0:
                        continue
                    sq3 = math.sqrt(disc3)
                    klo = math.floor((s3 + (-beta - sq3) / g33) * n3) - 1
                    khi = math.ceil((s3 + (-beta + sq3) / g33) * n3) + 1
                    jj = j % n2
                    kk = klo % n3
                    for k in range(klo, khi + 1):
                        d3 = k / n3 - s3
                        r2 = q0 + 2.0 * beta * d3 + g33 * d3 * d3
                        if r2 <= rc2:
                            if r2 < floor2:
                                r2 = floor2
                            r = math.sqrt(r2)
                            if ka == 0:
                                ex = math.exp(pb * (pc - r))
                                out[ip, jj, kk] += pa * (ex * ex - 2.0 * ex)
                            else:
                                out[ip, jj, kk] += pa * math.erfc(r * pb) / r
                        kk += 1
                        if kk == n3:
                            kk = 0
    return out


def _point_kernel(lattice, points, frac, kind, p_a, p_b, p_c, cutoff, energy, grad):
    inv = np.linalg.inv(lattice)
    rl = np.empty(3)
    for i in range(3):
        rl[i] = math.sqrt(inv[0, i] ** 2 + inv[1, i] ** 2 + inv[2, i] ** 2)
    floor2 = R_FLOOR_A * R_FLOOR_A
    for p in numba.prange(points.shape[0]):
        x, y, z = points[p, 0], points[p, 1], points[p, 2]
        u = np.empty(3)
        for i in range(3):
            u[i] = x * inv[0, i] + y * inv[1, i] + z * inv[2, i]
        e_sum = 0.0
        gx = 0.0
        gy = 0.0
        gz = 0.0
        for a in range(frac.shape[0]):
            rc = cutoff[a]
            lo = np.empty(3, np.int64)
            hi = np.empty(3, np.int64)
            for i in range(3):
                lo[i] = math.floor(u[i] - frac[a, i] - rc * rl[i])
                hi[i] = math.ceil(u[i] - frac[a, i] + rc * rl[i])
            for t1 in range(lo[0], hi[0] + 1):
                for t2 in range(lo[1], hi[1] + 1):
                    for t3 in range(lo[2], hi[2] + 1):
                        f1 = frac[a, 0] + t1
                        f2 = frac[a, 1] + t2
                        f3 = frac[a, 2] + t3
                        dx = x - (f1 * lattice[0, 0] + f2 * lattice[1, 0] + f3 * lattice[2, 0])
                        dy = y - (f1 * lattice[0, 1] + f2 * lattice[1, 1] + f3 * lattice[2, 1])
                        dz = z - (f1 * lattice[0, 2] + f2 * lattice[1, 2] + f3 * lattice[2, 2])
                        r2 = dx * dx + dy * dy + dz * dz
                        if r2 > rc * rc:
                            continue
                        if r2 < floor2:
                            r2 = floor2
                        r = math.sqrt(r2)
                        if kind[a] == 0:
                            ex = math.exp(p_b[a] * (p_c[a] - r))
                            e_sum += p_a[a] * (ex * ex - 2.0 * ex)
                            de = -2.0 * p_a[a] * p_b[a] * ex * (ex - 1.0)
                        else:
                            xr = r * p_b[a]
                            erfc_v = math.erfc(xr)
                            e_sum += p_a[a] * erfc_v / r
                            de = p_a[a] * (-_TWO_OVER_SQRT_PI * p_b[a] * math.exp(-xr * xr) / r
                                           - erfc_v / r2)
                        gx += de * dx / r
                        gy += de * dy / r
                        gz += de * dz / r
        energy[p] = e_sum
        grad[p, 0] = gx
        grad[p, 1] = gy
        grad[p, 2] = gz


def _named_copy(func, name: str):
    """The same Python function under another name: numba's on-disk cache is keyed by the
    function's qualified name and byte code, not by compile options, so the serial and the
    parallel variants of one kernel need distinct names or they would load each other."""
    f = types.FunctionType(func.__code__, func.__globals__, name, func.__defaults__,
                           func.__closure__)
    f.__qualname__ = name
    return f


# floating-point contraction and reassociation (no finite-math assumptions): about 25 % faster
# on the pair sum, results differ from the strict kernel by rounding only
_FASTMATH = {"contract", "afn", "reassoc", "nsz", "arcp"}
_grid_parallel = numba.njit(parallel=True, cache=True, fastmath=_FASTMATH)(
    _named_copy(_grid_kernel, "_grid_kernel_parallel"))
_grid_serial = numba.njit(cache=True, fastmath=_FASTMATH)(
    _named_copy(_grid_kernel, "_grid_kernel_serial"))
_point_parallel = numba.njit(parallel=True, cache=True)(
    _named_copy(_point_kernel, "_point_kernel_parallel"))
_point_serial = numba.njit(cache=True)(_named_copy(_point_kernel, "_point_kernel_serial"))


@contextmanager
def thread_count(threads: int | None):
    """Run numba parallel regions with ``threads`` threads (None: all available).

    Starts numba's threading layer; the serial kernels (``threads=1``) never enter this, so a
    process that forks workers after a serial run stays fork-safe.
    """
    old = numba.get_num_threads()
    n = numba.config.NUMBA_NUM_THREADS if threads is None else int(threads)
    if n < 1:
        raise NasiconSimError(f"threads must be at least 1, got {threads}")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _check_atoms(frac, kind, p_a, p_b, p_c, cutoff):
    frac = np.ascontiguousarray(frac, dtype=np.float64)
    if frac.ndim != 2 or frac.shape[1] != 3:
        raise NasiconSimError("frac must have shape (n_atoms, 3)")
    n = frac.shape[0]
    arrays = [np.ascontiguousarray(kind, dtype=np.int64)]
    arrays += [np.ascontiguousarray(x, dtype=np.float64) for x in (p_a, p_b, p_c, cutoff)]
    if any(x.shape != (n,) for x in arrays):
        raise NasiconSimError("kind, p_a, p_b, p_c and cutoff_A need one entry per atom")
    if not (np.all(np.isfinite(frac)) and all(np.all(np.isfinite(x)) for x in arrays[1:])):
        raise NasiconSimError("atom coordinates and parameters must be finite")
    if np.any(arrays[4] < 0):
        raise NasiconSimError("cutoff radii must be non-negative")
    return (frac - np.floor(frac), *arrays)


def grid_energies(
    lattice: np.ndarray,
    shape: tuple[int, int, int],
    frac: np.ndarray,
    kind: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    p_c: np.ndarray,
    cutoff_A: np.ndarray,
    threads: int | None = None,
) -> np.ndarray:
    """BVSE site energies on the periodic grid (i/n1, j/n2, k/n3).

    Parameters
    ----------
    lattice : array (3, 3)
        Rows are the lattice vectors (Angstrom).
    shape : (n1, n2, n3)
        Grid shape (see :mod:`nasicon_sim.bvse.grid`).
    frac : array (n_atoms, 3)
        Fractional coordinates of the framework atoms.
    kind, p_a, p_b, p_c, cutoff_A : arrays (n_atoms,)
        Term type, parameters and cutoff of each atom (module docstring).
    threads : int, optional
        Number of threads (default: all cores numba sees); 1 runs a serial kernel.

    Returns
    -------
    numpy.ndarray, shape (n1, n2, n3), float64
        Site energies (eV).

    Examples
    --------
    One Morse centre in a 10 Angstrom cube: the grid point at the centre's distance r_min has
    the well depth -c; a point beyond the cutoff (from every image) gets nothing.

    >>> lat = np.eye(3) * 10.0
    >>> e = grid_energies(lat, (10, 10, 10), np.array([[0.0, 0.0, 0.0]]), [MORSE], [0.3],
    ...                   [2.0], [2.0], [4.5], threads=1)
    >>> round(float(e[2, 0, 0]), 12), float(e[5, 0, 0])
    (-0.3, 0.0)
    """
    lat = np.ascontiguousarray(lattice, dtype=np.float64)
    if lat.shape != (3, 3) or abs(np.linalg.det(lat)) < 1e-9:
        raise NasiconSimError("lattice must be a non-singular 3x3 matrix")
    shp = np.asarray(shape, dtype=np.int64)
    if shp.shape != (3,) or np.any(shp < 1):
        raise NasiconSimError(f"grid shape must be three positive integers, got {shape}")
    args = _check_atoms(frac, kind, p_a, p_b, p_c, cutoff_A)
    out = np.zeros(tuple(int(n) for n in shp), dtype=np.float64)
    if args[0].shape[0] == 0:
        return out
    if threads == 1:
        _grid_serial(lat, shp, *args, out)
    else:
        with thread_count(threads):
            _grid_parallel(lat, shp, *args, out)
    return out


def point_energies(
    lattice: np.ndarray,
    points_cart: np.ndarray,
    frac: np.ndarray,
    kind: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    p_c: np.ndarray,
    cutoff_A: np.ndarray,
    threads: int | None = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """BVSE energies and Cartesian gradients at arbitrary points.

    Parameters
    ----------
    lattice, frac, kind, p_a, p_b, p_c, cutoff_A
        As in :func:`grid_energies`.
    points_cart : array (n_points, 3)
        Cartesian positions of the test ion (Angstrom).
    threads : int, default 1

    Returns
    -------
    energies : numpy.ndarray (n_points,)
        Site energies (eV).
    gradients : numpy.ndarray (n_points, 3)
        dE/dr (eV/Angstrom).
    """
    lat = np.ascontiguousarray(lattice, dtype=np.float64)
    pts = np.ascontiguousarray(np.atleast_2d(points_cart), dtype=np.float64)
    if pts.shape[1] != 3 or not np.all(np.isfinite(pts)):
        raise NasiconSimError("points must be finite with shape (n_points, 3)")
    args = _check_atoms(frac, kind, p_a, p_b, p_c, cutoff_A)
    energy = np.zeros(pts.shape[0])
    grad = np.zeros((pts.shape[0], 3))
    if args[0].shape[0] == 0 or pts.shape[0] == 0:
        return energy, grad
    if threads == 1:
        _point_serial(lat, pts, *args, energy, grad)
    else:
        with thread_count(threads):
            _point_parallel(lat, pts, *args, energy, grad)
    return energy, grad
