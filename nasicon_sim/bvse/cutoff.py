"""Real-space cutoffs of the BVSE pair sums from a bound on the neglected tail.

For a framework atom group k (same term and parameters) with a positive, decreasing envelope
h_k(R) >= |E_k(R)| of its pair term, the part of the site energy dropped by summing only atoms
within R_c is, for every test-ion position (Stieltjes integration by parts over the number
N_k(R) of group-k atoms within distance R),

    T_k(R_c) = sum_{R_j > R_c} h_k(R_j) <= integral_{R_c}^inf N_k^up(R) |h_k'(R)| dR,

for any upper bound N_k^up of the count. Two bounds are used, and their minimum:

* lattice bound: each group atom is one point of a lattice per basis atom; the cells around
  the points within R are disjoint and lie inside a ball of radius R + D (D = diameter of the
  Minkowski-reduced cell), so N <= n_k (4 pi / 3) (R + D)^3 / V;
* packing bound: spheres of radius delta = d_min / 2 around the group atoms (d_min = their
  smallest mutual distance, periodic images included) are disjoint and lie inside a ball of
  radius R + delta, so N <= ((R + delta) / delta)^3. It does not grow with the supercell size.

Envelopes: the Morse term c[(e^{-alpha x} - 1)^2 - 1] with x = R - r_min equals
c(e^{-2 alpha x} - 2 e^{-alpha x}), bounded in magnitude by h = 2|c| e^{-alpha x} for x >= 0;
the screened Coulomb term P erfc(R / rho) / R is its own envelope. The total tolerance
(default :data:`DEFAULT_TOLERANCE_EV` = 1 meV on the site energy at every point) is split
between the groups in proportion to their number of atoms (the pair count, hence the cost,
grows with both the number of atoms and R_c^3, so large groups get a larger share), and
R_c,k is the smallest radius whose bound meets the share (found by root finding; never below
r_min for a Morse group). Barriers (differences of two
site energies) are then exact to within twice the tolerance.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize, special

from nasicon_sim.bvse.energy import MORSE
from nasicon_sim.errors import NasiconSimError

__all__ = [
    "DEFAULT_TOLERANCE_EV",
    "MAX_CUTOFF_A",
    "cell_diameter",
    "min_group_distance",
    "tail_bound",
    "tail_cutoffs",
]

#: Default bound on the neglected tail of the site energy at any point (eV).
DEFAULT_TOLERANCE_EV: float = 1e-3
#: Largest cutoff the bound may ask for (Angstrom); beyond it something is wrong with the input.
MAX_CUTOFF_A: float = 40.0
_SEARCH_A = 4.0
_TINY = 1e-300  # floor of the tail bound under its logarithm


def cell_diameter(lattice: np.ndarray) -> float:
    """Diameter (Angstrom) of the parallelepiped of the Minkowski-reduced basis of a lattice."""
    from ase.geometry import minkowski_reduce

    reduced, _ = minkowski_reduce(np.asarray(lattice, dtype=float))
    combos = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)])
    return float(np.linalg.norm(combos @ reduced, axis=1).max())


def min_group_distance(lattice: np.ndarray, frac: np.ndarray, search_A: float = _SEARCH_A) -> float:
    """Smallest distance between the given atoms, periodic images included (Angstrom).

    Returns ``search_A`` when no pair is closer than that (a valid lower bound is all the
    packing bound needs). A k-d tree over the atoms and the images within ``search_A`` of the
    cell (scipy's ``cKDTree``): memory grows with the number of atoms, not with the cell volume
    (a cell-list search over a 1000 Angstrom cell would need gigabytes of empty bins).

    >>> round(min_group_distance(np.eye(3) * 1000.0, [[0, 0, 0], [0.002, 0, 0]]), 6)
    2.0
    >>> min_group_distance(np.eye(3) * 3.0, [[0, 0, 0]])
    3.0
    """
    from scipy.spatial import cKDTree

    from nasicon_sim.bvse.grid import interplanar_spacings

    lat = np.asarray(lattice, dtype=float)
    f = np.asarray(frac, dtype=float).reshape(-1, 3)
    f = f - np.floor(f)
    reps = np.ceil(search_A / interplanar_spacings(lat)).astype(int)
    shifts = np.array([(i, j, k) for i in range(-reps[0], reps[0] + 1)
                       for j in range(-reps[1], reps[1] + 1)
                       for k in range(-reps[2], reps[2] + 1)], dtype=float)
    cart = f @ lat
    images = (f[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ lat
    # the nearest hit of an atom is itself (distance 0); the second is its nearest neighbour
    # (another image of itself included), or 0 again when two atoms coincide
    d, _ = cKDTree(images).query(cart, k=2, distance_upper_bound=search_A)
    best = float(np.min(d[:, 1]))
    best = min(best, float(search_A))
    return best


def _envelope_derivative(kind: int, p_a: float, p_b: float, p_c: float):
    if kind == MORSE:
        c2 = 2.0 * abs(p_a)

        def dh(r):  # |d/dR| of 2|c| exp(-alpha (R - r_min))
            return c2 * p_b * math.exp(-p_b * (r - p_c))
        return dh
    pabs = abs(p_a)

    def dh_c(r):  # |d/dR| of |P| erfc(R / rho) / R, with p_b = 1 / rho
        x = r * p_b
        return pabs * (2.0 / math.sqrt(math.pi) * p_b * math.exp(-x * x) / r
                       + special.erfc(x) / (r * r))
    return dh_c


def tail_bound(
    r_cut_A: float, kind: int, p_a: float, p_b: float, p_c: float,
    n_atoms: int, volume_A3: float, diameter_A: float, d_min_A: float,
) -> float:
    """Upper bound (eV) on the site energy dropped by cutting one atom group at ``r_cut_A``.

    Parameters
    ----------
    r_cut_A : float
        Cutoff radius (Angstrom); for a Morse group it must be at least r_min (``p_c``).
    kind, p_a, p_b, p_c : int, float
        Term of the group (see :mod:`nasicon_sim.bvse.energy`).
    n_atoms : int
        Atoms of the group per cell.
    volume_A3, diameter_A : float
        Cell volume and reduced-cell diameter (lattice bound).
    d_min_A : float
        Smallest distance between group atoms (packing bound).
    """
    if kind == MORSE and r_cut_A < p_c:
        raise NasiconSimError("a Morse cutoff below r_min has no exponential tail bound")
    dh = _envelope_derivative(kind, p_a, p_b, p_c)
    delta = 0.5 * d_min_A
    k_lat = n_atoms * 4.0 * math.pi / (3.0 * volume_A3)

    def integrand(r):
        n_up = min(k_lat * (r + diameter_A) ** 3, ((r + delta) / delta) ** 3)
        return n_up * dh(r)

    # the integrand decays at least like exp(-R / length); integrate far enough
    length = 1.0 / p_b if kind == MORSE else 1.0 / p_b
    upper = r_cut_A + 80.0 * length + 20.0
    value, _ = integrate.quad(integrand, r_cut_A, upper, limit=200, epsrel=1e-8, epsabs=0.0)
    return float(value)


def tail_cutoffs(
    lattice: np.ndarray,
    frac: np.ndarray,
    kind: np.ndarray,
    p_a: np.ndarray,
    p_b: np.ndarray,
    p_c: np.ndarray,
    tolerance_eV: float = DEFAULT_TOLERANCE_EV,
) -> np.ndarray:
    """Per-atom cutoff radii that bound the neglected tail of the site energy by ``tolerance_eV``.

    Parameters
    ----------
    lattice : array (3, 3)
        Rows are lattice vectors (Angstrom).
    frac : array (n_atoms, 3)
        Fractional coordinates of the framework atoms.
    kind, p_a, p_b, p_c : arrays (n_atoms,)
        Terms (see :mod:`nasicon_sim.bvse.energy`).
    tolerance_eV : float
        Bound on the total neglected energy at any point, split between atom groups in
        proportion to their sizes.

    Returns
    -------
    numpy.ndarray (n_atoms,)
        Cutoff radius of every atom (Angstrom); atoms of a group share one.

    Raises
    ------
    NasiconSimError
        If the tolerance is not positive or would need a cutoff beyond :data:`MAX_CUTOFF_A`.
    """
    if not (math.isfinite(tolerance_eV) and tolerance_eV > 0):
        raise NasiconSimError(f"the cutoff tolerance must be positive, got {tolerance_eV}")
    lat = np.asarray(lattice, dtype=float)
    frac = np.asarray(frac, dtype=float)
    keys = np.stack([np.asarray(kind, float), p_a, p_b, p_c], axis=1)
    groups, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    volume = abs(float(np.linalg.det(lat)))
    diameter = cell_diameter(lat)
    counts = np.bincount(inverse, minlength=len(groups))
    radii = np.empty(len(groups))
    for g, (kd, a, b, c) in enumerate(groups):
        members = frac[inverse == g]
        share = tolerance_eV * counts[g] / len(frac)
        d_min = min_group_distance(lat, members)
        if d_min < 1e-6:
            raise NasiconSimError(
                f"two framework atoms coincide (group of {counts[g]} atoms with term "
                f"{int(kd)}); fix the coordinates")
        args = (int(kd), float(a), float(b), float(c), len(members), volume, diameter, d_min)
        lo = max(float(c), 0.5) if int(kd) == MORSE else 0.5
        if tail_bound(lo, *args) <= share:
            radii[g] = lo
            continue
        if tail_bound(MAX_CUTOFF_A, *args) > share:
            raise NasiconSimError(
                f"a tail tolerance of {tolerance_eV:g} eV would need a cutoff beyond "
                f"{MAX_CUTOFF_A} A; use a larger tolerance"
            )
        # log of the bound, floored: a short screening length makes the bound underflow to 0
        # before MAX_CUTOFF_A, and the root lies where it crosses ``share`` either way
        radii[g] = optimize.brentq(
            lambda r, args=args, share=share: (math.log(max(tail_bound(r, *args), _TINY))
                                               - math.log(share)),
            lo, MAX_CUTOFF_A, xtol=1e-3)
    return radii[inverse]
