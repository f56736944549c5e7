"""Settings of a BVSE analysis: one frozen, JSON-able dataclass.

The defaults reproduce bvlain 0.25.1's defaults (``Lain.bvse_distribution``), so that results are
comparable with it: Morse prefactor 1/2, screening factor f = 0.74, ASE covalent radii, effective
charges V / sqrt(n), no charge-neutrality scaling, Coulomb constant 14.4 eV Angstrom, and
26-neighbour percolation. The softBV choices are options (see ``shared/research/BVSE-REPORT.md``
sections 1.1-1.4 for what each changes: 0.1-0.25 eV on NASICON barriers).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.units import COULOMB_EV_A

__all__ = [
    "MAX_SPACING_A",
    "MIN_GRID_POINTS",
    "BVLAIN_COULOMB_EV_A",
    "COULOMB_CONSTANTS",
    "BVSESettings",
    "parse_ion",
]

#: The Coulomb constant e^2 / (4 pi eps0) as hard-coded (rounded) by bvlain 0.25.1
#: (``bvlain/potentials.py``, ``BVSEPotential.Coulomb``) and by CAVD ``BVAnalysis.py``; the
#: CODATA value is :data:`nasicon_sim.units.COULOMB_EV_A` (14.3996...).
BVLAIN_COULOMB_EV_A: float = 14.4

#: Names accepted by :attr:`BVSESettings.coulomb_constant` and their values (eV Angstrom).
COULOMB_CONSTANTS: dict[str, float] = {"bvlain": BVLAIN_COULOMB_EV_A, "codata": COULOMB_EV_A}

#: Coarsest grid spacing accepted (Angstrom). Na sites are about 3 Angstrom apart and the grid
#: error of a threshold is already about 0.2 eV at 0.4 Angstrom (docs/guide/bvse.md); beyond
#: 0.5 Angstrom the grid no longer resolves the network that refinement starts from.
MAX_SPACING_A: float = 0.5
#: Fewest grid points along any lattice vector for a spacing-derived grid.
MIN_GRID_POINTS: int = 4

_ION_RE = re.compile(r"^\s*([A-Z][a-z]?)\s*(\d*)\s*([+-])\s*$")


def parse_ion(text: str) -> tuple[str, int]:
    """Read an ion such as ``"Na+"``, ``"Na1+"``, ``"Li+"``, ``"O2-"`` into (element, valence).

    >>> parse_ion("Na+"), parse_ion("Mg2+"), parse_ion("F1-")
    (('Na', 1), ('Mg', 2), ('F', -1))
    """
    from pymatgen.core.periodic_table import Element

    m = _ION_RE.match(str(text))
    if not m:
        raise NasiconSimError(
            f"cannot read the ion {text!r}; write it like Na+, Li+, Mg2+ or F-"
        )
    element, mag, sign = m.groups()
    if not Element.is_valid_symbol(element):
        raise NasiconSimError(f"{element!r} in the ion {text!r} is not an element")
    value = int(mag) if mag else 1
    if value == 0:
        raise NasiconSimError(f"the mobile ion {text!r} must be charged")
    return element, value if sign == "+" else -value


@dataclass(frozen=True)
class BVSESettings:
    """Everything that decides a BVSE result, besides the structure.

    Attributes
    ----------
    spacing_A : float
        Largest grid spacing along each lattice vector (Angstrom); n_i = ceil(|a_i| / h).
    mobile_ion : str
        The migrating ion, e.g. ``"Na+"``; all its atoms are removed from the framework.
    morse_prefactor : float
        s_M in front of the Morse sum: 0.5 (bvlain, CCNB, bvsepath) or 1.0 (CAVD 2019).
    screening_factor : float
        f in the Coulomb screening length rho = f (r_A + r_B) (0.74 in bvlain, CAVD, CCNB).
    radii : {"ase", "softbv"}
        Covalent radii of the screening length: ASE/Cordero 2008 (bvlain's default) or softBV.
    neutrality_scaling : bool
        Multiply the Coulomb term by s_C = -sum(anion q) / sum(cation q) over the whole cell,
        mobile ions included, with q = occupancy V / sqrt(n) (CAVD/CCNB); bvlain does not.
    coulomb_constant : {"bvlain", "codata"}
        14.4 eV Angstrom as in bvlain, or the CODATA value.
    tail_tolerance_eV : float
        Bound on the pair-sum tail dropped at any grid point (sets the cutoffs,
        :mod:`nasicon_sim.bvse.cutoff`).
    cutoff_A : float or None
        Fixed cutoff for every atom instead of the tolerance-derived ones (for comparisons).
    grid_shape : tuple of int or None
        Explicit grid shape; overrides ``spacing_A``.
    connectivity : {6, 26}
        Grid neighbours in percolation and basin analysis; 26 (faces, edges, corners) is
        bvlain's choice and the default.
    network_margin_eV : float
        The migration network covers energies up to the 3D percolation threshold plus this.
    refine_window_eV : float
        Every link of the migration network whose grid saddle is at most the grid 3D
        threshold plus this is refined to its continuous saddle, and the refined thresholds
        are computed from those (:func:`nasicon_sim.bvse.refine.refine_network`). Must cover
        the grid error of the spacing (about 0.2 eV at 0.4 Angstrom, docs/guide/bvse.md).
    grid_tolerance_eV : float
        The result warns when a grid threshold and its refined value differ by more than this.
    merge_depth_eV : float
        Minima whose basin is shallower than this (saddle minus minimum) are merged into
        their neighbour when sites are reported (topological persistence).
    label_max_distance_A : float
        A minimum farther than this from every reference Na site is reported as interstitial
        (its nearest reference label is still given).
    threads : int or None
        Threads for the compiled kernels; None uses all cores numba sees. 1 is fork-safe.
    max_memory_GB : float
        Refuse grids whose estimated working memory exceeds this.
    keep_landscape : bool
        Keep the energy grid in the result (large; off for ensembles).
    """

    spacing_A: float = 0.1
    mobile_ion: str = "Na+"
    morse_prefactor: float = 0.5
    screening_factor: float = 0.74
    radii: str = "ase"
    neutrality_scaling: bool = False
    coulomb_constant: str = "bvlain"
    tail_tolerance_eV: float = 1e-3
    cutoff_A: float | None = None
    grid_shape: tuple[int, int, int] | None = None
    connectivity: int = 26
    network_margin_eV: float = 0.5
    refine_window_eV: float = 0.5
    grid_tolerance_eV: float = 0.02
    merge_depth_eV: float = 0.01
    label_max_distance_A: float = 1.0
    threads: int | None = None
    max_memory_GB: float = 4.0
    keep_landscape: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        from nasicon_sim.bvse.params import RADII_SOURCES

        def positive(name: str, value: float) -> None:
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise NasiconSimError(f"{name} must be a positive number, got {value!r}")

        positive("spacing_A", self.spacing_A)
        if self.spacing_A > MAX_SPACING_A:
            raise NasiconSimError(
                f"spacing_A = {self.spacing_A:g} A is coarser than {MAX_SPACING_A:g} A, which "
                "cannot resolve the sites (Na sites are about 3 A apart); use 0.1-0.4 A")
        positive("morse_prefactor", self.morse_prefactor)
        positive("screening_factor", self.screening_factor)
        positive("tail_tolerance_eV", self.tail_tolerance_eV)
        positive("max_memory_GB", self.max_memory_GB)
        positive("label_max_distance_A", self.label_max_distance_A)
        if self.cutoff_A is not None:
            positive("cutoff_A", self.cutoff_A)
        for name in ("network_margin_eV", "merge_depth_eV", "refine_window_eV",
                     "grid_tolerance_eV"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise NasiconSimError(f"{name} must be a non-negative number, got {value!r}")
        parse_ion(self.mobile_ion)
        if self.radii not in RADII_SOURCES:
            raise NasiconSimError(f"radii must be one of {RADII_SOURCES}, got {self.radii!r}")
        if self.coulomb_constant not in COULOMB_CONSTANTS:
            raise NasiconSimError(
                f"coulomb_constant must be one of {tuple(COULOMB_CONSTANTS)}, "
                f"got {self.coulomb_constant!r}")
        if self.connectivity not in (6, 26):
            raise NasiconSimError(f"connectivity must be 6 or 26, got {self.connectivity!r}")
        if self.grid_shape is not None:
            shape = tuple(self.grid_shape)
            if len(shape) != 3 or not all(isinstance(n, int) and n >= 1 for n in shape):
                raise NasiconSimError(f"grid_shape must be three positive integers, got {shape}")
            object.__setattr__(self, "grid_shape", tuple(int(n) for n in shape))
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise NasiconSimError(f"threads must be a positive integer or None, got {self.threads!r}")

    @property
    def coulomb_constant_eV_A(self) -> float:
        """The Coulomb constant in use (eV Angstrom)."""
        return COULOMB_CONSTANTS[self.coulomb_constant]

    #: Fields that change how a result is computed or reported but not the result (threads,
    #: memory limit, whether the grid is kept, when to warn): leave them out of content hashes.
    NON_PHYSICAL_FIELDS = ("threads", "max_memory_GB", "keep_landscape", "grid_tolerance_eV")

    def as_dict(self, physical_only: bool = False) -> dict:
        """JSON-able dict of the fields (``grid_shape`` as a list).

        Parameters
        ----------
        physical_only : bool
            Leave out :attr:`NON_PHYSICAL_FIELDS` (for a content hash of the inputs).

        >>> sorted(BVSESettings().as_dict(physical_only=True))[:3]
        ['connectivity', 'coulomb_constant', 'cutoff_A']
        """
        d = asdict(self)
        if d["grid_shape"] is not None:
            d["grid_shape"] = list(d["grid_shape"])
        if physical_only:
            for name in self.NON_PHYSICAL_FIELDS:
                d.pop(name)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> BVSESettings:
        """Inverse of :meth:`as_dict`; unknown keys raise an error naming them."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise NasiconSimError(f"unknown BVSE settings: {', '.join(unknown)}")
        d = dict(data)
        if d.get("grid_shape") is not None:
            d["grid_shape"] = tuple(d["grid_shape"])
        return cls(**d)
