"""Na-Na interactions of the kMC energy model.

Configurational energy of an arrangement of mobile ions on the lattice sites:

    E = sum_i n_i e_i + 1/2 sum_{i != j} n_i n_j V(r_ij),

with ``e_i`` the BVSE (framework) site energy and ``V`` the BVSE engine's own screened-Coulomb
repulsion between two mobile ions (:mod:`nasicon_sim.bvse.energy`; Chen & Adams, IUCrJ 4 (2017)
614): ``V(R) = s k_e q^2 erfc(R / rho) / R`` with the effective charge ``q = V / sqrt(n)``
(Na+: 1 / sqrt(3)), the screening length ``rho = f (r_cov + r_cov)`` (f = 0.74, ASE covalent
radii: the BVSE settings in use) and ``s`` = :attr:`KMCSettings.interaction_scale` (1 by
default). The sum is cut at the radius at which the engine's tail bound
(:func:`nasicon_sim.bvse.cutoff.tail_bound`, packing and lattice bounds) drops below the
tolerance, so the neglected part of any site's interaction field is below it.

Two sites closer than the blocking distance (default
:data:`nasicon_sim.structure.na_contacts.NA_MIN_DISTANCE_A` = 2.5 A, sourced there from the
refined Na-Na contacts of rhombohedral NZSP and monoclinic Na3Zr1.5Sc0.5Si1.5P1.5O12) cannot
both be occupied.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from nasicon_sim.errors import NasiconSimError

__all__ = ["PairInteraction", "pair_energy"]


def pair_energy(r_A: np.ndarray, prefactor_eV_A: float, rho_A: float) -> np.ndarray:
    """Screened Coulomb energy ``P erfc(R / rho) / R`` (eV) at distances ``r_A`` (Angstrom).

    >>> round(float(pair_energy(np.array([3.0]), 4.8, 2.4568)[0]), 4)
    0.1347
    """
    r = np.asarray(r_A, dtype=float)
    return prefactor_eV_A * special.erfc(r / rho_A) / r


@dataclass(frozen=True)
class PairInteraction:
    """Screened-Coulomb Na-Na pair terms and site blocking.

    Attributes
    ----------
    prefactor_eV_A : float
        P = s k_e q^2 (eV Angstrom); 0 switches the repulsion off (blocking stays).
    rho_A : float
        Screening length (Angstrom).
    blocking_distance_A : float
        Sites closer than this exclude each other.
    tolerance_eV : float
        Bound on the neglected tail of a site's interaction field (sets the cutoff).
    source : str
        Where the parameters come from (recorded in results).
    """

    prefactor_eV_A: float
    rho_A: float
    blocking_distance_A: float = 2.5
    tolerance_eV: float = 1e-3
    source: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.prefactor_eV_A) and self.prefactor_eV_A >= 0):
            raise NasiconSimError("the interaction prefactor must be >= 0 (set "
                                  f"--interaction-scale >= 0), got {self.prefactor_eV_A}")
        if not (math.isfinite(self.rho_A) and self.rho_A > 0):
            raise NasiconSimError(f"the screening length must be > 0, got {self.rho_A}")
        if not (math.isfinite(self.blocking_distance_A) and self.blocking_distance_A >= 0):
            raise NasiconSimError("the blocking distance must be >= 0 (--blocking-distance), "
                                  f"got {self.blocking_distance_A}")
        if not (math.isfinite(self.tolerance_eV) and self.tolerance_eV > 0):
            raise NasiconSimError(f"the interaction tolerance must be > 0, got {self.tolerance_eV}")

    @classmethod
    def from_bvse(cls, settings=None, scale: float = 1.0, blocking_distance_A: float = 2.5,
                  tolerance_eV: float = 1e-3) -> PairInteraction:
        """The engine's mobile-ion/mobile-ion term for ``settings.mobile_ion``.

        Parameters
        ----------
        settings : BVSESettings, optional
            Screening factor, radii and Coulomb constant (defaults: bvlain's).
        scale : float
            Multiplies the repulsion.
        """
        from nasicon_sim.bvse.params import covalent_radius, principal_quantum_number
        from nasicon_sim.bvse.settings import BVSESettings, parse_ion

        settings = settings or BVSESettings()
        el, val = parse_ion(settings.mobile_ion)
        if not (math.isfinite(scale) and scale >= 0):
            raise NasiconSimError(f"--interaction-scale must be >= 0, got {scale}")
        q = val / math.sqrt(principal_quantum_number(el))
        rho = settings.screening_factor * 2.0 * covalent_radius(el, val, settings.radii)
        p = scale * settings.coulomb_constant_eV_A * q * q
        src = (f"BVSE screened Coulomb {settings.mobile_ion}-{settings.mobile_ion}: q = "
               f"{val}/sqrt({principal_quantum_number(el)}), rho = {settings.screening_factor} x "
               f"2 r_cov ({settings.radii}), k_e = {settings.coulomb_constant_eV_A}, "
               f"scale {scale}")
        return cls(p, rho, blocking_distance_A, tolerance_eV, src)

    def cutoff_A(self, lattice: np.ndarray, frac: np.ndarray) -> float:
        """Radius beyond which the dropped part of any site's field is below the tolerance."""
        if self.prefactor_eV_A == 0:
            return 0.0
        from scipy.optimize import brentq

        from nasicon_sim.bvse.cutoff import cell_diameter, min_group_distance, tail_bound
        from nasicon_sim.bvse.energy import COULOMB

        lattice = np.asarray(lattice, dtype=float)
        args = (COULOMB, self.prefactor_eV_A, 1.0 / self.rho_A, 0.0, len(frac),
                abs(float(np.linalg.det(lattice))), cell_diameter(lattice),
                min_group_distance(lattice, np.asarray(frac, dtype=float)))
        lo, hi = 0.5, 40.0
        if tail_bound(lo, *args) <= self.tolerance_eV:
            return lo
        if tail_bound(hi, *args) > self.tolerance_eV:
            raise NasiconSimError(f"an interaction tolerance of {self.tolerance_eV:g} eV would "
                                  "need a cutoff beyond 40 A; use a larger tolerance")
        return float(brentq(lambda r: tail_bound(r, *args) - self.tolerance_eV, lo, hi,
                            xtol=1e-3))

    def pairs(self, lattice: np.ndarray, frac: np.ndarray, widths_A: np.ndarray):
        """Pair list of a supercell.

        Returns
        -------
        i, j : numpy.ndarray
            Ordered site pairs (both orders) within max(cutoff, blocking distance).
        v : numpy.ndarray
            Pair energy (eV), 0 for blocked pairs.
        blocked : numpy.ndarray of bool
        info : dict
            Form, parameters, cutoff (Angstrom), tolerance.
        """
        from ase.neighborlist import primitive_neighbor_list

        rc = self.cutoff_A(lattice, frac)
        reach = max(rc, self.blocking_distance_A)
        info = {"form": "screened_coulomb", "prefactor_eV_A": self.prefactor_eV_A,
                "rho_A": self.rho_A, "cutoff_A": round(rc, 4), "tolerance_eV": self.tolerance_eV,
                "blocking_distance_A": self.blocking_distance_A, "source": self.source}
        if reach <= 0:
            z = np.zeros(0, np.int64)
            return z, z, np.zeros(0), np.zeros(0, bool), info
        if np.min(widths_A) < 2.0 * reach:
            raise NasiconSimError(
                f"the kMC supercell ({np.round(widths_A, 2).tolist()} A between faces) is "
                f"narrower than twice the interaction reach ({reach:.2f} A); use a larger "
                "--min-length or --supercell")
        cart = np.asarray(frac) @ np.asarray(lattice)
        i, j, d = primitive_neighbor_list("ijd", (True, True, True), np.asarray(lattice),
                                          cart, reach, self_interaction=False)
        blocked = d < self.blocking_distance_A
        v = np.where(blocked | (d > rc), 0.0, pair_energy(np.maximum(d, 1e-6),
                                                          self.prefactor_eV_A, self.rho_A))
        keep = blocked | (v != 0.0)
        return (i[keep].astype(np.int64), j[keep].astype(np.int64), v[keep], blocked[keep], info)
