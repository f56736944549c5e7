"""Supercells of the parent C2/c cell that host a NASICON composition with integer site counts.

Method
------
A supercell matrix ``P`` (3x3 integers, rows = supercell vectors in parent lattice vectors, the
convention of :mod:`ase.build` and pymatgen's ``make_supercell``) contains ``D = |det P|``
parent cells, each with Z = 4 formula units: 16 Na positions (Na1 4d + Na2 4e + Na3 8f),
8 M positions (Zr1 8f), 12 T positions (P1 4e + Si2 8f) and 48 O. Every site count of a
composition is ``4 D`` times its amount per formula unit, so whether a composition fits
depends on ``D`` only, not on the shape of ``P``:

1. the smallest ``D`` (at least ``min_atoms`` atoms, at most ``max_atoms``) whose counts are
   all integers, charge neutral and fit their sublattices is chosen;
2. for that ``D`` the most nearly cubic ``P`` is taken from ASE's
   :func:`ase.build.find_optimal_cell_shape` with the normalised-metric score
   (``score_key="metric"``: ``sum((h h^T / a0^2 - I)^2)`` with ``a0^3 = |det h|``;
   ASE tutorial "Tools for defect calculations"), which also accounts for angles;
3. when no ``D`` under the cap is exact, the M-site (and mixed T-site) counts are rounded by
   largest remainders to fill their sublattice, Na follows from charge balance, and the
   ``D`` with the smallest largest deviation per formula unit is chosen; the requested and
   realised compositions and the per-element deviation are recorded and logged, and a
   deviation beyond ``max_deviation`` is an error. The composition is never changed silently.

Si/P: when the T site is exactly Si2P per formula unit, Hong's ordered model is kept (Si on
the 8f ``Si2`` site, P on the 4e ``P1`` site: ``tetrahedral="ordered"``); otherwise, or when
asked, Si/P mix over all 12 T positions per cell as in the reference ``NZSP_C2c_SiP_mixed``
(``tetrahedral="mixed"``). Positions, labels and ``parent_index`` always come from
:func:`~nasicon_sim.structure.parent.load_parent` (the mixed reference lists the same
positions in another order), so the site map means the same in both cases.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.composition import (
    M_SITE_TOLERANCE,
    NA_SITES_PER_FU,
    OXYGEN_PER_FU,
    NasiconComposition,
    compose,
)
from nasicon_sim.errors import StructureError, SublatticeError, SupercellError
from nasicon_sim.structure.parent import (
    PARENT_NAME,
    PARENTS,
    RHOMBOHEDRAL_PARENT_NAME,
    load_reference,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

logger = logging.getLogger(__name__)

__all__ = [
    "COUNT_TOLERANCE",
    "DEFAULT_MAX_ATOMS",
    "DEFAULT_MAX_DEVIATION",
    "FORMULA_UNITS_PER_CELL",
    "MIXED_PARENT_NAME",
    "VACANCY",
    "MONOCLINIC_NA_RANGE",
    "SupercellChoice",
    "choose_parent",
    "choose_supercell",
    "exact_site_counts",
    "optimal_supercell_matrix",
    "parent_indices_of",
    "parent_sites_of",
    "tetrahedral_mode",
    "parent_sites_in_supercell",
    "rounded_site_counts",
    "supercell_positions",
    "supercell_matrix_from_string",
]

#: Formula units per parent C2/c cell.
FORMULA_UNITS_PER_CELL: int = 4
#: Reference used when Si and P share the T positions.
MIXED_PARENT_NAME: str = "NZSP_C2c_SiP_mixed"
#: Symbol of a vacant Na position in site counts.
VACANCY: str = "X"
#: A site count within this of an integer counts as an integer (absorbs float noise only).
COUNT_TOLERANCE: float = 1e-6
#: Default cap on atoms per supercell (HE1, the study's largest exact cell, has 412).
DEFAULT_MAX_ATOMS: int = 500
#: Default largest accepted |realised - requested| amount per formula unit when rounding.
DEFAULT_MAX_DEVIATION: float = 0.05
#: Positions per parent cell on each sublattice (Hong 1976, C2/c, Z = 4).
_POSITIONS_PER_CELL: Mapping[str, int] = {"Na": 16, "M": 8, "T": 12, "O": 48}
_ORDERED_T = {"Si": 2.0, "P": 1.0}
#: Na per formula unit within which the builder takes the monoclinic C2/c parent; R-3c outside.
#: Na(1+x)Zr2Si(x)P(3-x)O12 is monoclinic at room temperature for 1.8 <= x <= 2.2, i.e. Na
#: 2.8-3.2 (U. von Alpen, M. F. Bell, H. H. Hofer, Solid State Ionics 3/4 (1981) 215,
#: doi:10.1016/0167-2738(81)90086-1); NaZr2P3O12 and Na4Zr2Si3O12 are rhombohedral. Substituted
#: compositions with Na 3.0-3.6 are monoclinic too: Na3Zr1.5Sc0.5Si1.5P1.5O12 (Subramanian et
#: al. 1985, structures/) and the Na3.5-3.6 multi-cation NASICONs of Zuo et al. 2026
#: (doi:10.1039/d5ee06594a). A rule of thumb: force the parent with ``--parent``.
MONOCLINIC_NA_RANGE: tuple[float, float] = (2.8, 3.6)


def choose_parent(composition: NasiconComposition, parent: str | None = None) -> tuple[str, str]:
    """The builder parent for a composition, and why.

    Parameters
    ----------
    composition : NasiconComposition
    parent : {"C2/c", "R-3c"} or None
        Forced choice; ``None`` (or ``"auto"``) chooses by the Na content: C2/c when Na per
        formula unit lies in :data:`MONOCLINIC_NA_RANGE`, else R-3c.

    Returns
    -------
    (name, reason)
        Reference name (:data:`~nasicon_sim.structure.parent.PARENTS`) and a sentence.

    Examples
    --------
    >>> from nasicon_sim.composition import parse_nasicon
    >>> choose_parent(parse_nasicon("Na3Zr2Si2PO12"))[0], choose_parent(parse_nasicon("NaZr2P3O12"))[0]
    ('NZSP_C2c', 'NZSP_R-3c_Z4')
    """
    if parent not in (None, "auto"):
        if parent not in PARENTS:
            raise StructureError(f"unknown parent {parent!r}; use one of {', '.join(PARENTS)} "
                                 "or auto (--parent)")
        return PARENTS[parent], f"{parent} as requested"
    na = float(composition.na)
    lo, hi = MONOCLINIC_NA_RANGE
    if lo - COUNT_TOLERANCE <= na <= hi + COUNT_TOLERANCE:
        return PARENTS["C2/c"], (f"C2/c: Na {na:g} per formula unit is within {lo:g}-{hi:g}, "
                                 "where NASICON is monoclinic (von Alpen et al. 1981; Zuo et "
                                 "al. 2026)")
    return PARENTS["R-3c"], (f"R-3c: Na {na:g} per formula unit is outside {lo:g}-{hi:g}, "
                             "where NASICON is rhombohedral (von Alpen et al. 1981)")


@dataclass(frozen=True)
class SupercellChoice:
    """A supercell of the parent cell and the integer site counts it hosts.

    Attributes
    ----------
    matrix : tuple of 3 tuples of 3 int
        Supercell matrix P, rows = supercell vectors in parent lattice vectors; det P > 0.
    n_cells : int
        det P, the number of parent cells (4 formula units each).
    tetrahedral : str
        ``"ordered"`` (Hong: Si on 8f, P on 4e) or ``"mixed"`` (Si/P over all T positions,
        as in ``NZSP_C2c_SiP_mixed``).
    requested : NasiconComposition
        The composition asked for.
    realised : NasiconComposition
        The composition the supercell holds (equal to ``requested`` when ``exact``).
    site_counts : Mapping[str, Mapping[str, int]]
        Per sublattice (``Na``, ``M``, ``T``, ``O``) the count of each species; ``X`` counts
        vacant Na positions. Counts sum to the positions of the sublattice.
    deviation : Mapping[str, float]
        realised - requested amount per formula unit for every element (0 when exact).
    exact : bool
        Whether the requested composition is hosted without rounding.
    shape_deviation : float
        ASE normalised-metric deviation from a cube of the supercell (0 = cube).
    n_atoms : int
        Atoms in the supercell (vacancies excluded).
    notes : tuple of str
        What was rounded or adjusted, in words.
    parent : str
        Reference name of the parent cell (``NZSP_C2c`` or ``NZSP_R-3c_Z4``).
    """

    matrix: tuple[tuple[int, int, int], ...]
    n_cells: int
    tetrahedral: str
    requested: NasiconComposition = field(compare=False)
    realised: NasiconComposition = field(compare=False)
    site_counts: Mapping[str, Mapping[str, int]]
    deviation: Mapping[str, float] = field(compare=False)
    exact: bool
    shape_deviation: float = field(compare=False)
    n_atoms: int
    notes: tuple[str, ...] = field(default=(), compare=False)
    parent: str = PARENT_NAME

    def __hash__(self) -> int:
        counts = tuple((k, tuple(sorted(v.items()))) for k, v in self.site_counts.items())
        return hash((self.matrix, self.tetrahedral, counts, self.parent))

    @property
    def max_abs_deviation(self) -> float:
        """Largest |realised - requested| amount per formula unit over all elements."""
        return max((abs(v) for v in self.deviation.values()), default=0.0)

    def as_dict(self) -> dict:
        """JSON-able summary (compositions as canonical formulas)."""
        return {
            "supercell_matrix": [list(row) for row in self.matrix],
            "n_cells": self.n_cells,
            "parent": self.parent,
            "tetrahedral": self.tetrahedral,
            "requested_composition": self.requested.formula,
            "realised_composition": self.realised.formula,
            "exact": self.exact,
            "deviation_per_fu": {k: round(v, 12) for k, v in self.deviation.items()},
            "site_counts": {k: dict(v) for k, v in self.site_counts.items()},
            "shape_deviation": self.shape_deviation,
            "n_atoms": self.n_atoms,
            "notes": list(self.notes),
        }


def tetrahedral_mode(composition: NasiconComposition, mix_tetrahedral: bool | None = None,
                     parent: str = PARENT_NAME) -> str:
    """Whether Si/P stay ordered as in Hong's model (T site exactly Si2P) or mix.

    Parameters
    ----------
    composition : NasiconComposition
    mix_tetrahedral : bool or None
        ``None``: mix only when needed; ``True``: always mix Si/P over the 12 T positions;
        ``False``: require Hong's ordered Si/P (an error when the T site is not Si2P).

    Returns
    -------
    str
        ``"ordered"`` or ``"mixed"``.

    Raises
    ------
    StructureError
        ``mix_tetrahedral=False`` with a T site other than Si2P.
    """
    t = dict(composition.t_site)
    if parent == RHOMBOHEDRAL_PARENT_NAME:  # one T site (18e): nothing to order
        if mix_tetrahedral is False and len(t) > 1:
            raise StructureError("the R-3c parent has one T site: Si/P cannot be ordered on it "
                                 "(use --parent C2/c for Hong's ordered Si2/P1)")
        return "mixed"
    ordered_ok = set(t) == set(_ORDERED_T) and all(
        abs(t[el] - v) <= COUNT_TOLERANCE for el, v in _ORDERED_T.items()
    )
    if mix_tetrahedral is None:
        return "ordered" if ordered_ok else "mixed"
    if mix_tetrahedral:
        return "mixed"
    if not ordered_ok:
        shown = " ".join(f"{el}{a:g}" for el, a in t.items())
        raise StructureError(
            f"the T site {shown} per formula unit cannot keep Hong's ordered Si2/P1 "
            "(Si on 8f, P on 4e): let Si/P mix over the 12 T positions"
        )
    return "ordered"


def _atoms_per_cell(na_per_fu: float) -> float:
    return FORMULA_UNITS_PER_CELL * (na_per_fu + 2.0 + 3.0 + OXYGEN_PER_FU)


def exact_site_counts(
    composition: NasiconComposition, n_cells: int, tetrahedral: str
) -> dict[str, dict[str, float]]:
    """Site counts of a composition in ``n_cells`` parent cells, as floats (not rounded).

    Parameters
    ----------
    composition : NasiconComposition
    n_cells : int
        Number of parent cells (det of the supercell matrix), >= 1.
    tetrahedral : str
        ``"ordered"`` or ``"mixed"`` (see :func:`tetrahedral_mode`).

    Returns
    -------
    dict
        ``{"Na": {"Na": n, "X": n_vac}, "M": {...}, "T": {...}, "O": {"O": n}}``.
    """
    fu = FORMULA_UNITS_PER_CELL * n_cells
    na = composition.na * fu
    return {
        "Na": {"Na": na, VACANCY: _POSITIONS_PER_CELL["Na"] * n_cells - na},
        "M": {el: a * fu for el, a in composition.m_site.items()},
        "T": {el: a * fu for el, a in composition.t_site.items()},
        "O": {"O": OXYGEN_PER_FU * fu},
    }


def _net_charge(counts: Mapping[str, Mapping[str, float]], states: Mapping[str, int]) -> float:
    total = 0.0
    for sub, species in counts.items():
        for el, n in species.items():
            if el == VACANCY:
                continue
            total += n * (states[el] if sub != "Na" else states.get("Na", 1))
    return total


def _check_fill(
    counts: Mapping[str, Mapping[str, float]], n_cells: int, what: str, tolerance_per_fu: float = 0.0
) -> None:
    """Raise :class:`SublatticeError` when a sublattice holds more (or fewer) species than
    positions, beyond ``tolerance_per_fu`` per formula unit."""
    slack = tolerance_per_fu * FORMULA_UNITS_PER_CELL * n_cells + COUNT_TOLERANCE
    for sub in ("M", "T"):
        held = sum(counts[sub].values())
        positions = _POSITIONS_PER_CELL[sub] * n_cells
        if abs(held - positions) > slack:
            word = "overfilled" if held > positions else "underfilled"
            detail = " + ".join(f"{el} {n:g}" for el, n in counts[sub].items())
            raise SublatticeError(
                f"{what}: the {sub} sublattice is {word}: {held:g} cations ({detail}) for "
                f"{positions} positions in {n_cells} parent cell(s)"
            )
    na = counts["Na"]["Na"]
    positions = _POSITIONS_PER_CELL["Na"] * n_cells
    if na > positions + slack:
        raise SublatticeError(
            f"{what}: the Na sublattice is overfilled: {na:g} Na for {positions} positions "
            f"({NA_SITES_PER_FU:g} per formula unit) in {n_cells} parent cell(s)"
        )
    if na < -slack:
        raise SublatticeError(f"{what}: negative Na count {na:g} (over-charged framework)")


def _fills_exactly(counts: Mapping[str, Mapping[str, float]], n_cells: int) -> bool:
    try:
        _check_fill(counts, n_cells, "")
    except SublatticeError:
        return False
    return True


def _is_integral(counts: Mapping[str, Mapping[str, float]]) -> bool:
    return all(
        abs(n - round(n)) <= COUNT_TOLERANCE for species in counts.values() for n in species.values()
    )


def _largest_remainder(targets: Mapping[str, float], total: int) -> dict[str, int]:
    """Integers summing to ``total`` closest to ``targets`` scaled to that total."""
    scale = total / sum(targets.values())
    raw = {el: v * scale for el, v in targets.items()}
    out = {el: math.floor(v + 1e-9) for el, v in raw.items()}
    left = total - sum(out.values())
    # ties broken by input order, so the result is deterministic
    order = sorted(raw, key=lambda el: (-(raw[el] - out[el]), list(raw).index(el)))
    for el in order[:left]:
        out[el] += 1
    return out


def rounded_site_counts(
    composition: NasiconComposition, n_cells: int, tetrahedral: str
) -> dict[str, dict[str, int]]:
    """Nearest representable integer site counts in ``n_cells`` cells, Na from charge balance.

    The M site (and the T site when Si/P mix) is filled by largest-remainder rounding of the
    requested fractions; Na follows from charge neutrality with the composition's oxidation
    states. The counts may hold more Na than positions: check with :func:`choose_supercell`.

    Parameters
    ----------
    composition : NasiconComposition
    n_cells : int
    tetrahedral : str
        ``"ordered"`` or ``"mixed"``.

    Returns
    -------
    dict
        Integer counts in the layout of :func:`exact_site_counts`.
    """
    m = _largest_remainder(composition.m_site, _POSITIONS_PER_CELL["M"] * n_cells)
    if tetrahedral == "ordered":
        t = {el: int(round(a * FORMULA_UNITS_PER_CELL * n_cells)) for el, a in _ORDERED_T.items()}
    else:
        t = _largest_remainder(composition.t_site, _POSITIONS_PER_CELL["T"] * n_cells)
    o = int(OXYGEN_PER_FU * FORMULA_UNITS_PER_CELL * n_cells)
    states = composition.oxidation_states
    framework = sum(n * states[el] for el, n in m.items()) + sum(n * states[el] for el, n in t.items())
    na = 2 * o - framework
    positions = _POSITIONS_PER_CELL["Na"] * n_cells
    return {
        "Na": {"Na": na, VACANCY: positions - na},
        "M": {el: n for el, n in m.items() if n > 0},
        "T": {el: n for el, n in t.items() if n > 0},
        "O": {"O": o},
    }


def _composition_from_counts(
    counts: Mapping[str, Mapping[str, int]], n_cells: int, template: NasiconComposition
) -> NasiconComposition:
    fu = FORMULA_UNITS_PER_CELL * n_cells
    states = {el: s for el, s in template.oxidation_states.items() if el not in ("Na", "O")}
    return compose(
        {el: n / fu for el, n in counts["M"].items()},
        t_site={el: n / fu for el, n in counts["T"].items()},
        na=counts["Na"]["Na"] / fu,
        oxidation_states=states,
    )


def _deviation(requested: NasiconComposition, realised: NasiconComposition) -> dict[str, float]:
    a, b = requested.amounts(), realised.amounts()
    return {el: b.get(el, 0.0) - a.get(el, 0.0) for el in dict.fromkeys([*a, *b])}


@lru_cache(maxsize=64)
def _optimal_matrix_cached(cell_key: tuple[float, ...], n_cells: int) -> tuple[tuple[int, ...], ...]:
    from ase.build import find_optimal_cell_shape

    cell = np.array(cell_key, dtype=float).reshape(3, 3)
    try:
        matrix = find_optimal_cell_shape(cell, n_cells, "sc", score_key="metric")
    except TypeError:  # ASE found no matrix of this size in its search range
        matrix = None
    if matrix is None:
        logger.info("no near-cubic matrix of size %d in ASE's search range: using diag", n_cells)
        matrix = np.diag([n_cells, 1, 1])
    matrix = np.asarray(matrix, dtype=int)
    if round(np.linalg.det(matrix)) < 0:
        matrix = -matrix
    return tuple(tuple(int(v) for v in row) for row in matrix)


def optimal_supercell_matrix(
    lattice_matrix: np.ndarray, n_cells: int
) -> tuple[np.ndarray, float]:
    """Most nearly cubic supercell matrix of a given size (ASE ``find_optimal_cell_shape``).

    Parameters
    ----------
    lattice_matrix : (3, 3) array
        Parent lattice vectors as rows, Angstrom.
    n_cells : int
        Required determinant (>= 1).

    Returns
    -------
    matrix : (3, 3) int array
        Rows = supercell vectors in parent lattice vectors, det = ``n_cells``.
    shape_deviation : float
        ASE ``eval_shape_deviation`` of the supercell (0 = cube).
    """
    from ase.build.supercells import eval_shape_deviation

    if n_cells < 1:
        raise SupercellError(f"a supercell needs at least one parent cell, got {n_cells}")
    cell = np.asarray(lattice_matrix, dtype=float)
    key = tuple(float(round(v, 6)) for v in cell.ravel())
    matrix = np.array(_optimal_matrix_cached(key, int(n_cells)), dtype=int)
    return matrix, float(eval_shape_deviation(matrix @ cell))


def supercell_matrix_from_string(text: str) -> np.ndarray:
    """Read ``"1x2x2"`` (diagonal) or nine integers (row by row) into a supercell matrix.

    Parameters
    ----------
    text : str
        ``"AxBxC"`` or ``"a b c d e f g h i"`` (commas or spaces).

    Returns
    -------
    (3, 3) int array

    Raises
    ------
    SupercellError
        Unreadable text or a determinant <= 0.

    Examples
    --------
    >>> supercell_matrix_from_string("1x2x2").tolist()
    [[1, 0, 0], [0, 2, 0], [0, 0, 2]]
    """
    raw = text.strip().lower()
    try:
        if "x" in raw:
            parts = [int(p) for p in raw.split("x")]
            if len(parts) != 3:
                raise ValueError
            matrix = np.diag(parts)
        else:
            values = [int(p) for p in raw.replace(",", " ").split()]
            if len(values) != 9:
                raise ValueError
            matrix = np.array(values, dtype=int).reshape(3, 3)
    except ValueError:
        raise SupercellError(
            f"supercell {text!r} is not 'AxBxC' (e.g. 1x2x2) or nine integers row by row"
        ) from None
    _check_matrix(matrix)
    return matrix


def _check_matrix(matrix: np.ndarray) -> int:
    matrix = np.asarray(matrix)
    if matrix.shape != (3, 3) or not np.all(np.equal(np.mod(matrix, 1), 0)):
        raise SupercellError(f"a supercell matrix is 3x3 integers, got {matrix.tolist()}")
    det = int(round(np.linalg.det(matrix)))
    if det <= 0:
        raise SupercellError(
            f"supercell matrix {matrix.astype(int).tolist()} has determinant {det}: "
            "it must be positive (a right-handed supercell of at least one cell)"
        )
    return det


def _attempt(
    composition: NasiconComposition, n_cells: int, tetrahedral: str
) -> tuple[dict[str, dict[str, int]], NasiconComposition, bool]:
    """Counts, realised composition and exactness for one size; raises SublatticeError."""
    exact = exact_site_counts(composition, n_cells, tetrahedral)
    what = f"{composition.formula_pretty} in {n_cells} cell(s)"
    # sums within the parser's tolerance (printed formulas are rounded) go to rounding
    _check_fill(exact, n_cells, what, M_SITE_TOLERANCE)
    if _is_integral(exact) and _fills_exactly(exact, n_cells):
        counts = {sub: {el: int(round(n)) for el, n in sp.items()} for sub, sp in exact.items()}
        if tetrahedral == "ordered":
            ordered = {el: int(round(v * FORMULA_UNITS_PER_CELL * n_cells)) for el, v in _ORDERED_T.items()}
            ok = counts["T"] == ordered
        else:
            ok = True
        if ok and _net_charge(counts, composition.oxidation_states) == 0:
            return counts, composition, True
    counts = rounded_site_counts(composition, n_cells, tetrahedral)
    _check_fill(counts, n_cells, what + " (rounded)")
    return counts, _composition_from_counts(counts, n_cells, composition), False


def choose_supercell(
    composition: NasiconComposition,
    *,
    matrix: Sequence[Sequence[int]] | np.ndarray | None = None,
    n_cells: int | None = None,
    min_atoms: int = 0,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    max_deviation: float = DEFAULT_MAX_DEVIATION,
    mix_tetrahedral: bool | None = None,
    parent: str | None = None,
) -> SupercellChoice:
    """Choose a supercell of the parent cell for a composition (see the module docstring).

    Parameters
    ----------
    composition : NasiconComposition
        From :func:`~nasicon_sim.composition.parse_nasicon` or
        :func:`~nasicon_sim.composition.compose`.
    matrix : (3, 3) int array-like, optional
        Use this supercell matrix (rows in parent lattice vectors) instead of choosing one.
    n_cells : int, optional
        Use this many parent cells; the most nearly cubic matrix of that size is taken.
    min_atoms : int, default 0
        Smallest acceptable supercell (atoms); larger cells average the disorder better.
    max_atoms : int, default 500
        Cap on atoms per supercell.
    max_deviation : float, default 0.05
        Largest accepted |realised - requested| amount per formula unit when the
        composition must be rounded. ``0`` accepts exact supercells only.
    mix_tetrahedral : bool or None
        See :func:`tetrahedral_mode`.
    parent : {"C2/c", "R-3c", "auto"} or None
        Parent cell; by composition when None or ``"auto"`` (:func:`choose_parent`). Both
        have Z = 4 and the same positions per sublattice, so the counts do not depend on it.

    Returns
    -------
    SupercellChoice

    Raises
    ------
    SupercellError
        No supercell within the limits hosts the composition within ``max_deviation``, or
        the given matrix / size is invalid or over the cap.
    SublatticeError
        A sublattice would hold more species than it has positions.

    Examples
    --------
    >>> from nasicon_sim.composition import parse_nasicon
    >>> c = choose_supercell(parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"))
    >>> c.n_cells, dict(c.site_counts["M"])
    (1, {'Zr': 4, 'Ti': 2, 'Lu': 2})
    """
    parent_name, parent_reason = choose_parent(composition, parent)
    tetrahedral = tetrahedral_mode(composition, mix_tetrahedral, parent_name)
    if max_atoms < 1:
        raise SupercellError(f"max_atoms must be positive, got {max_atoms}")
    lattice = load_reference(parent_name).lattice.matrix
    if matrix is not None:
        given = np.asarray(matrix)
        sizes = [_check_matrix(given)]
        given = given.astype(int)
    elif n_cells is not None:
        if int(n_cells) != n_cells or n_cells < 1:
            raise SupercellError(f"n_cells must be a positive integer, got {n_cells!r}")
        sizes = [int(n_cells)]
        given = None
    else:
        per_cell = _atoms_per_cell(composition.na)
        d_max = int(max_atoms // per_cell)
        if d_max < 1:
            raise SupercellError(
                f"{composition.formula_pretty}: one parent cell already has "
                f"{per_cell:g} atoms, over the cap of {max_atoms}"
            )
        d_min = max(1, math.ceil(min_atoms / per_cell - 1e-9))
        if d_min > d_max:
            raise SupercellError(
                f"min_atoms {min_atoms} and max_atoms {max_atoms} leave no supercell size "
                f"({per_cell:g} atoms per parent cell)"
            )
        sizes = list(range(d_min, d_max + 1))
        given = None

    best: tuple[float, int, dict, NasiconComposition, bool] | None = None
    for d in sizes:
        counts, realised, exact = _attempt(composition, d, tetrahedral)
        n_atoms = sum(n for sp in counts.values() for el, n in sp.items() if el != VACANCY)
        if n_atoms > max_atoms:
            if matrix is not None or n_cells is not None:
                raise SupercellError(
                    f"{composition.formula_pretty}: the requested {d}-cell supercell has "
                    f"{n_atoms} atoms, over the cap of {max_atoms}"
                )
            continue
        if exact:
            best = (0.0, d, counts, realised, True)
            break
        dev = max(abs(v) for v in _deviation(composition, realised).values())
        if best is None or dev < best[0] - 1e-12:
            best = (dev, d, counts, realised, False)

    if best is None:
        raise SupercellError(
            f"{composition.formula_pretty}: no supercell of at most {max_atoms} atoms"
        )
    dev, d, counts, realised, exact = best
    deviation = _deviation(composition, realised)
    if not exact and dev > max_deviation:
        shown = ", ".join(f"{el} {v:+.4f}" for el, v in deviation.items() if abs(v) > 1e-12)
        hint = _exact_size_hint(composition, tetrahedral)
        raise SupercellError(
            f"{composition.formula_pretty} is not representable in a supercell of at most "
            f"{max_atoms} atoms: the nearest ({d} cell(s), {realised.formula_pretty}) deviates "
            f"by {shown} per formula unit, more than max_deviation {max_deviation:g}"
            + (f"; {hint}" if hint else "")
        )
    if given is None:
        mat, score = optimal_supercell_matrix(lattice, d)
    else:
        from ase.build.supercells import eval_shape_deviation

        mat, score = given, float(eval_shape_deviation(given @ lattice))
    notes: list[str] = [f"parent {parent_reason}"]
    if not exact:
        shown = ", ".join(f"{el} {v:+.4f}" for el, v in deviation.items() if abs(v) > 1e-12)
        notes.append(
            f"composition rounded to {realised.formula_pretty} in {d} cell(s): deviation per "
            f"formula unit {shown}; Na adjusted for charge neutrality"
        )
        logger.warning("%s: %s", composition.formula_pretty, notes[-1])
    t_present = sorted(el for el, n in counts["T"].items() if n > 0)
    if len(t_present) == 1:
        notes.append(f"T site all {t_present[0]}")
    elif tetrahedral == "mixed":
        where = "the one 18e T site of R-3c" if parent_name == RHOMBOHEDRAL_PARENT_NAME else \
            f"as in {MIXED_PARENT_NAME}"
        notes.append(f"{'/'.join(t_present)} mixed over all 12 T positions per cell ({where})")
    n_atoms = sum(n for sp in counts.values() for el, n in sp.items() if el != VACANCY)
    return SupercellChoice(
        matrix=tuple(tuple(int(v) for v in row) for row in mat),
        n_cells=d,
        tetrahedral=tetrahedral,
        requested=composition,
        realised=realised,
        site_counts={sub: dict(sp) for sub, sp in counts.items()},
        deviation=deviation,
        exact=exact,
        shape_deviation=score,
        n_atoms=n_atoms,
        notes=tuple(notes),
        parent=parent_name,
    )


def _exact_size_hint(composition: NasiconComposition, tetrahedral: str, limit: int = 200) -> str:
    for d in range(1, limit + 1):
        exact = exact_site_counts(composition, d, tetrahedral)
        if _is_integral(exact):
            n = sum(v for sp in exact.values() for el, v in sp.items() if el != VACANCY)
            return f"the smallest exact supercell has {d} parent cells ({round(n)} atoms)"
    return ""


def parent_sites_in_supercell(
    parent: Structure,
    supercell_matrix: Sequence[Sequence[int]] | np.ndarray,
    sublattice: str | None = "Na",
) -> tuple[np.ndarray, list[str], list[str]]:
    """All positions of a parent sublattice in a supercell, occupied or not, with their labels.

    The BVSE network labels landscape minima by the nearest parent Na position, and vacant
    positions matter, so this returns every image of every parent site of the sublattice.

    Parameters
    ----------
    parent : pymatgen Structure
        An annotated reference (:func:`~nasicon_sim.structure.parent.load_parent`), with
        site properties ``label``, ``wyckoff`` and ``sublattice``.
    supercell_matrix : (3, 3) int array-like
        Rows = supercell vectors in parent lattice vectors.
    sublattice : str or None, default "Na"
        ``Na``, ``M``, ``T``, ``O``, or ``None`` for all sites.

    Returns
    -------
    frac_coords : (n, 3) float array
        Fractional coordinates in the supercell, in [0, 1).
    parent_labels : list of str
        CIF label of the parent site of each position (``Na1``, ``Na2``, ``Na3`` ...).
    wyckoff : list of str
        Wyckoff position of that parent site (``4d``, ``4e``, ``8f``).

    Examples
    --------
    >>> from nasicon_sim.structure.parent import load_parent
    >>> xyz, labels, wyck = parent_sites_in_supercell(load_parent(), [[1, 0, 0], [0, 2, 0], [0, 0, 1]])
    >>> xyz.shape, sorted(set(zip(labels, wyck)))
    ((32, 3), [('Na1', '4d'), ('Na2', '4e'), ('Na3', '8f')])
    """
    matrix = np.asarray(supercell_matrix)
    _check_matrix(matrix)
    props = parent.site_properties
    if "label" not in props or "wyckoff" not in props or "sublattice" not in props:
        raise StructureError(
            "parent structure lacks the label/wyckoff/sublattice site properties: "
            "load it with nasicon_sim.structure.parent.load_reference"
        )
    keep = [i for i, sub in enumerate(props["sublattice"]) if sublattice is None or sub == sublattice]
    if not keep:
        raise StructureError(f"the parent has no {sublattice!r} sites")
    frac, index = supercell_positions(parent.frac_coords[keep], matrix)
    labels = [props["label"][keep[k]] for k in index]
    wyckoff = [props["wyckoff"][keep[k]] for k in index]
    return frac, labels, wyckoff


def parent_sites_of(
    structure: Structure, sublattice: str | None = "Na"
) -> tuple[np.ndarray, list[str], list[str]] | None:
    """:func:`parent_sites_in_supercell` for a structure carrying the builder's metadata.

    Reads ``parent`` and ``supercell_matrix`` from ``structure.properties["nasicon_sim"]``
    (builder output, relaxed or read back from DFT with its site map). Fractional coordinates
    are the ideal parent positions in the structure's own cell.

    Returns
    -------
    tuple or None
        (frac_coords, parent_labels, wyckoff), or None without that metadata.
    """
    from nasicon_sim.structure.parent import load_reference

    meta = structure.properties.get("nasicon_sim") or {}
    matrix = meta.get("supercell_matrix")
    if matrix is None:
        return None
    return parent_sites_in_supercell(load_reference(meta.get("parent", "NZSP_C2c")), matrix,
                                     sublattice)


def _lattice_points(matrix: np.ndarray) -> np.ndarray:
    """Integer translations (parent fractional) of the parent lattice inside the supercell."""
    det = int(round(abs(np.linalg.det(matrix))))
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]) @ matrix
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    grid = np.stack(
        np.meshgrid(*[np.arange(lo[d], hi[d] + 1) for d in range(3)], indexing="ij"), axis=-1
    ).reshape(-1, 3)
    inv = np.linalg.inv(matrix)
    frac = grid @ inv  # in supercell fractional coordinates
    inside = np.all((frac > -1e-8) & (frac < 1 - 1e-8), axis=1)
    points = grid[inside]
    if len(points) != det:  # pragma: no cover - a bug, not a user error
        raise AssertionError(f"found {len(points)} lattice points for det {det}")
    return points


def supercell_positions(
    parent_frac: np.ndarray, matrix: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every image of parent positions in a supercell.

    Parameters
    ----------
    parent_frac : (n, 3) array
        Fractional coordinates in the parent cell.
    matrix : (3, 3) int array
        Supercell matrix (rows in parent lattice vectors), det > 0.

    Returns
    -------
    frac_coords : (n * det, 3) float array
        Supercell fractional coordinates in [0, 1), parent-site major, translation minor.
    parent_row : (n * det,) int array
        Row of ``parent_frac`` each position is an image of.
    """
    points = _lattice_points(matrix)
    inv = np.linalg.inv(matrix)
    # order: parent site major, translation minor (as pymatgen's make_supercell)
    images = parent_frac[:, None, :] + points[None, :, :]
    frac = (images.reshape(-1, 3) @ inv) % 1.0
    frac[np.isclose(frac, 1.0, atol=1e-10)] = 0.0
    index = np.repeat(np.arange(len(parent_frac)), len(points))
    return frac, index


def parent_indices_of(
    frac_coords: np.ndarray,
    supercell_matrix: Sequence[Sequence[int]] | np.ndarray,
    parent: Structure,
    tolerance_A: float = 0.5,
    parent_labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Index in ``parent`` of the parent site each supercell position came from.

    Readers use this to restore ``parent_index`` from positions and the supercell matrix
    (a CIF keeps only the label). Works on relaxed structures as long as atoms moved less
    than ``tolerance_A``; with ``parent_labels`` (the labels the file keeps) only parent
    sites of the same label are candidates, so a relaxed structure maps back even when an
    atom moved farther than half the distance to a parent site of another label.

    Parameters
    ----------
    frac_coords : (n, 3) array
        Fractional coordinates in the supercell.
    supercell_matrix : (3, 3) int array-like
    parent : pymatgen Structure
        The reference named in the structure's metadata.
    tolerance_A : float, default 0.5
        Largest accepted distance to the nearest parent position, Angstrom (``numpy.inf``:
        no limit).
    parent_labels : sequence of str, optional
        The parent label of each position (``Na3``, ``O1`` ...); restricts the candidates.

    Returns
    -------
    (n,) int array

    Raises
    ------
    StructureError
        A position is farther than ``tolerance_A`` from every parent position.
    """
    matrix = np.asarray(supercell_matrix, dtype=float)
    _check_matrix(matrix)
    parent_frac = np.asarray(frac_coords, dtype=float) @ matrix  # parent fractional
    diff = parent_frac[:, None, :] - parent.frac_coords[None, :, :]
    diff -= np.round(diff)
    dist = np.linalg.norm(diff @ parent.lattice.matrix, axis=-1)
    if parent_labels is not None:
        own = np.asarray(parent.site_properties["label"], dtype=object)
        wanted = np.asarray(list(parent_labels), dtype=object)
        if len(wanted) != len(dist):
            raise StructureError(
                f"{len(wanted)} parent labels for {len(dist)} positions")
        unknown = sorted(set(wanted) - set(own))
        if unknown:
            raise StructureError(
                f"parent label(s) {', '.join(map(str, unknown))} not in the parent structure")
        dist = np.where(wanted[:, None] == own[None, :], dist, np.inf)
    nearest = np.argmin(dist, axis=1)
    worst = dist[np.arange(len(nearest)), nearest]
    if len(worst) and worst.max() > tolerance_A:
        i = int(np.argmax(worst))
        raise StructureError(
            f"atom {i} is {worst[i]:.2f} A from the nearest parent site (tolerance "
            f"{tolerance_A} A): not a supercell of this parent with this matrix"
        )
    return nearest
