"""From an oxidation-decorated structure to a BVSE landscape on a periodic grid.

:func:`build_framework` turns a pymatgen ``Structure`` into the per-atom terms of the BVSE sum
(the mobile ions removed, parameters from :mod:`nasicon_sim.bvse.params`, cutoffs from
:mod:`nasicon_sim.bvse.cutoff`); :func:`compute_landscape` evaluates them on the grid of
:mod:`nasicon_sim.bvse.grid` with :func:`nasicon_sim.bvse.energy.grid_energies`.

Disorder: sites of the mobile ion may be partially occupied (they are removed anyway, so the
parent NZSP_C2c.cif with Na2/Na3 at 2/3 can be analysed directly); every other site must be
ordered. Make ordered supercells with ``nasicon-sim build``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.bvse import energy as _energy
from nasicon_sim.bvse.cutoff import tail_cutoffs
from nasicon_sim.bvse.grid import grid_shape, grid_spacings
from nasicon_sim.bvse.params import (
    covalent_radius,
    format_ion,
    load_tables,
    morse_pair,
    principal_quantum_number,
)
from nasicon_sim.bvse.settings import MIN_GRID_POINTS, BVSESettings, parse_ion
from nasicon_sim.errors import ResourceLimitError, StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "BYTES_PER_GRID_POINT",
    "Framework",
    "Landscape",
    "build_framework",
    "compute_landscape",
    "estimate_memory_bytes",
]

logger = logging.getLogger(__name__)

#: Working memory per grid point of a full analysis (bytes): energies (8), sort order (8) and
#: its temporary (8), percolation union-find (parent 4, offsets 12, size 4), basin labels and
#: cell offsets (4 + 12), flags (2). Checked against measured peaks in benchmarks/bench_bvse.py.
BYTES_PER_GRID_POINT: int = 62
_BASE_BYTES = 400 * 2**20  # interpreter, numpy, pymatgen, numba


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class Framework:
    """The framework terms of the BVSE sum for one mobile ion.

    Attributes
    ----------
    lattice : numpy.ndarray (3, 3)
        Rows are lattice vectors (Angstrom).
    frac : numpy.ndarray (n, 3)
        Fractional coordinates of the framework atoms that contribute (in [0, 1)).
    species : tuple of str
        Ion name of each atom (``"O2-"``, ``"Zr4+"``...).
    kind, p_a, p_b, p_c, cutoff_A : numpy.ndarray (n,)
        Terms and cutoffs (see :mod:`nasicon_sim.bvse.energy`).
    mobile_element : str
    mobile_valence : int
    neutrality_scale : float
        s_C applied to the Coulomb terms (1.0 unless ``neutrality_scaling``).
    n_removed : int
        Mobile-ion sites removed from the structure.
    """

    lattice: np.ndarray
    frac: np.ndarray
    species: tuple[str, ...]
    kind: np.ndarray
    p_a: np.ndarray
    p_b: np.ndarray
    p_c: np.ndarray
    cutoff_A: np.ndarray
    mobile_element: str
    mobile_valence: int
    neutrality_scale: float = 1.0
    n_removed: int = 0

    def __post_init__(self) -> None:
        for name in ("lattice", "frac", "kind", "p_a", "p_b", "p_c", "cutoff_A"):
            object.__setattr__(self, name, _readonly(np.array(getattr(self, name))))

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """(frac, kind, p_a, p_b, p_c, cutoff_A), the atom arguments of the kernels."""
        return self.frac, self.kind, self.p_a, self.p_b, self.p_c, self.cutoff_A

    def cutoff_summary(self) -> dict[str, float]:
        """Cutoff radius (Angstrom) per framework ion name."""
        out: dict[str, float] = {}
        for sp, rc in zip(self.species, self.cutoff_A):
            out[sp] = max(out.get(sp, 0.0), round(float(rc), 3))
        return out

    def energies_at(self, points_cart: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Site energies (eV) and gradients (eV/Angstrom) at Cartesian points (n, 3)."""
        return _energy.point_energies(self.lattice, points_cart, *self.arrays)


def _oxidation_state(site, element_symbol: str) -> float:
    sp = next(iter(site.species))
    oxi = getattr(sp, "oxi_state", None)
    if oxi is None:
        raise StructureError(
            f"site {element_symbol} at {np.round(site.frac_coords, 4).tolist()} has no oxidation "
            "state; read the file with nasicon_sim.io.read_structure (or give --oxi)"
        )
    return float(oxi)


def _neutrality_scale(structure: Structure) -> float:
    """s_C = -sum(anion occ q) / sum(cation occ q), q = V / sqrt(n), whole cell (CAVD/CCNB)."""
    pos = neg = 0.0
    for site in structure:
        for sp, occ in site.species.items():
            v = getattr(sp, "oxi_state", None)
            if not v:
                continue
            q = occ * v / math.sqrt(principal_quantum_number(sp.symbol))
            if q > 0:
                pos += q
            else:
                neg += q
    if pos <= 0 or neg >= 0:
        raise StructureError("charge-neutrality scaling needs both cations and anions")
    return -neg / pos


def build_framework(structure: Structure, settings: BVSESettings | None = None) -> Framework:
    """Framework terms of the BVSE sum for ``settings.mobile_ion``.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Oxidation-state-decorated; framework sites ordered (mobile-ion sites may be partial).
    settings : BVSESettings, optional

    Returns
    -------
    Framework

    Raises
    ------
    StructureError
        A framework site is disordered or partially occupied (use ``nasicon-sim build``), a
        site mixes the mobile ion with other species, or oxidation states are missing.
    ParameterError
        A Morse pair, quantum number or radius is missing from the tables (named).
    """
    settings = settings or BVSESettings()
    mob_el, mob_val = parse_ion(settings.mobile_ion)
    if len(structure) == 0:
        raise StructureError("the structure has no sites")
    from nasicon_sim.io.read import check_geometry

    check_geometry(structure)
    frac, species, kind, p_a, p_b, p_c = [], [], [], [], [], []
    n_removed = 0
    disordered = []
    for idx, site in enumerate(structure):
        elements = {sp.symbol for sp in site.species}
        if mob_el in elements:
            if len(elements) > 1:
                raise StructureError(
                    f"site {idx} mixes the mobile ion {mob_el} with {sorted(elements - {mob_el})}; "
                    "make an ordered supercell with `nasicon-sim build`"
                )
            for sp in site.species:
                oxi = getattr(sp, "oxi_state", None)
                if oxi is not None and oxi != mob_val:
                    raise StructureError(
                        f"the mobile ion is {settings.mobile_ion} but its sites carry oxidation "
                        f"state {oxi:+g} (site {idx}); the mobile ion's charge is set by "
                        "--mobile-ion, so drop the --oxi for it or change --mobile-ion")
            n_removed += 1
            continue
        if not site.is_ordered:
            disordered.append(idx)
            continue
        el = next(iter(elements))
        val = _oxidation_state(site, el)
        if val == 0:
            logger.warning("site %d (%s) has oxidation state 0 and does not contribute", idx, el)
            continue
        frac.append(site.frac_coords)
        species.append(format_ion(el, val))
        if val * mob_val < 0:
            pair = morse_pair(mob_el, mob_val, el, val)
            kind.append(_energy.MORSE)
            p_a.append(settings.morse_prefactor * pair.d0_eV)
            p_b.append(pair.alpha_per_A)
            p_c.append(pair.r_min_A)
        else:
            q_a = mob_val / math.sqrt(principal_quantum_number(mob_el))
            q_b = val / math.sqrt(principal_quantum_number(el))
            rho = settings.screening_factor * (
                covalent_radius(mob_el, mob_val, settings.radii)
                + covalent_radius(el, val, settings.radii))
            kind.append(_energy.COULOMB)
            p_a.append(settings.coulomb_constant_eV_A * q_a * q_b)
            p_b.append(1.0 / rho)
            p_c.append(0.0)
    if disordered:
        site = structure[disordered[0]]
        raise StructureError(
            f"{len(disordered)} framework site(s) are disordered or partially occupied (first: "
            f"site {disordered[0]}, {site.species.formula} at "
            f"{np.round(site.frac_coords, 4).tolist()}); BVSE needs an ordered framework: make "
            "ordered supercells with `nasicon-sim build FORMULA --parent C2/c` or `--parent R-3c` "
            "(partial occupancy of the mobile ion "
            "is fine)"
        )
    if not frac:
        raise StructureError(f"no framework atoms left after removing {mob_el}")
    if _energy.MORSE not in kind:
        sign = "anions" if mob_val > 0 else "cations"
        raise StructureError(
            f"the framework has no counter-ions of {settings.mobile_ion} ({sign}): the "
            "bond-valence energy needs the ions that bind the mobile ion; check the structure "
            "and the oxidation states (--oxi)")
    p_a_arr = np.array(p_a, dtype=float)
    kind_arr = np.array(kind, dtype=np.int64)
    scale = 1.0
    if settings.neutrality_scaling:
        scale = _neutrality_scale(structure)
        p_a_arr = np.where(kind_arr == _energy.COULOMB, p_a_arr * scale, p_a_arr)
    lattice = np.array(structure.lattice.matrix, dtype=float)
    frac_arr = np.array(frac, dtype=float)
    frac_arr -= np.floor(frac_arr)
    p_b_arr, p_c_arr = np.array(p_b, dtype=float), np.array(p_c, dtype=float)
    if settings.cutoff_A is not None:
        cutoff = np.full(len(frac_arr), float(settings.cutoff_A))
    else:
        cutoff = tail_cutoffs(lattice, frac_arr, kind_arr, p_a_arr, p_b_arr, p_c_arr,
                              settings.tail_tolerance_eV)
    if mob_el not in structure.composition.element_composition:
        logger.info("the structure contains no %s; the framework is used as it is", mob_el)
    return Framework(lattice, frac_arr, tuple(species), kind_arr, p_a_arr, p_b_arr, p_c_arr,
                     cutoff, mob_el, mob_val, scale, n_removed)


@dataclass(frozen=True)
class Landscape:
    """A BVSE site-energy landscape on a periodic grid.

    Attributes
    ----------
    energies_eV : numpy.ndarray (n1, n2, n3), float64, read-only
        Site energy of the mobile ion at fractional position (i/n1, j/n2, k/n3) (eV).
    framework : Framework
        The terms the energies were computed from (lattice included).
    settings : BVSESettings
    metadata : dict
        Parameter table versions, cutoffs per ion, timing.
    """

    energies_eV: np.ndarray
    framework: Framework
    settings: BVSESettings
    metadata: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "energies_eV", _readonly(self.energies_eV))

    @property
    def lattice(self) -> np.ndarray:
        """Rows are lattice vectors (Angstrom)."""
        return self.framework.lattice

    @property
    def shape(self) -> tuple[int, int, int]:
        """Grid shape (n1, n2, n3)."""
        return tuple(int(n) for n in self.energies_eV.shape)

    @property
    def spacings_A(self) -> np.ndarray:
        """Actual grid spacing along each lattice vector (Angstrom)."""
        return grid_spacings(self.lattice, self.shape)

    def frac_coords(self, flat_index: np.ndarray | int) -> np.ndarray:
        """Fractional coordinates of grid points given by flat (C-order) indices."""
        ijk = np.stack(np.unravel_index(np.asarray(flat_index), self.shape), axis=-1)
        return ijk / np.asarray(self.shape, dtype=float)


def estimate_memory_bytes(n_points: int) -> int:
    """Estimated peak working memory (bytes) of a full analysis on ``n_points`` grid points."""
    return int(_BASE_BYTES + BYTES_PER_GRID_POINT * n_points)


def resolve_grid_shape(lattice: np.ndarray, settings: BVSESettings) -> tuple[int, int, int]:
    """The grid shape for a lattice: ``settings.grid_shape`` or from ``settings.spacing_A``."""
    if settings.grid_shape is not None:
        return settings.grid_shape
    shape = grid_shape(lattice, settings.spacing_A)
    if min(shape) < MIN_GRID_POINTS:
        raise StructureError(
            f"a spacing of {settings.spacing_A:g} A gives a {shape[0]}x{shape[1]}x{shape[2]} "
            f"grid on this cell, fewer than {MIN_GRID_POINTS} points along a lattice vector "
            f"(the shortest is {min(np.linalg.norm(lattice, axis=1)):.3g} A); use a finer "
            "spacing (--spacing)")
    return shape


def check_memory(shape: tuple[int, int, int], settings: BVSESettings) -> None:
    """Raise :class:`ResourceLimitError` if the grid would exceed ``settings.max_memory_GB``."""
    n = int(np.prod(shape))
    need = estimate_memory_bytes(n)
    if need > settings.max_memory_GB * 1e9:
        raise ResourceLimitError(
            f"a {shape[0]}x{shape[1]}x{shape[2]} grid ({n:,} points) needs about "
            f"{need / 1e9:.1f} GB, more than max_memory_GB = {settings.max_memory_GB:g}; use a "
            "coarser spacing (--spacing) or raise the limit (--max-memory-gb on the command "
            "line, max_memory_GB in a study file)"
        )


def compute_landscape(structure: Structure, settings: BVSESettings | None = None) -> Landscape:
    """BVSE landscape of ``structure`` for the mobile ion of ``settings``.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Oxidation-state decorated (see :func:`nasicon_sim.io.read_structure`).
    settings : BVSESettings, optional

    Returns
    -------
    Landscape

    Raises
    ------
    StructureError, ParameterError
        See :func:`build_framework`.
    ResourceLimitError
        The grid would need more than ``settings.max_memory_GB``.
    """
    import time

    settings = settings or BVSESettings()
    shape = resolve_grid_shape(np.array(structure.lattice.matrix), settings)
    check_memory(shape, settings)
    t0 = time.perf_counter()
    framework = build_framework(structure, settings)
    t1 = time.perf_counter()
    energies = _energy.grid_energies(framework.lattice, shape, *framework.arrays,
                                     threads=settings.threads)
    t2 = time.perf_counter()
    logger.info("BVSE grid %s evaluated in %.2f s", shape, t2 - t1)
    metadata = {
        "parameter_versions": dict(load_tables().versions),
        "cutoff_A": framework.cutoff_summary(),
        "neutrality_scale": framework.neutrality_scale,
        "n_framework_atoms": len(framework.frac),
        "n_mobile_removed": framework.n_removed,
        "timings_s": {"framework": round(t1 - t0, 4), "grid": round(t2 - t1, 4)},
    }
    return Landscape(energies, framework, settings, metadata)
