"""The positions of a supercell, what may occupy each, and ordered structures made from them.

A :class:`SupercellSites` lists every position of the supercell (Na positions occupied or
vacant included) with its site map (sublattice, parent label, Wyckoff letter, index in the
parent cell of :func:`~nasicon_sim.structure.parent.load_parent`), the positions whose species
is fixed (O; Si and P in Hong's ordered model; a single-element M site) and the groups of
positions among which species are ordered (Na/vacancy, M cations, Si/P when mixed). An
*occupation* is an array with one species symbol per position (``"X"`` = vacant Na position);
orderings (:mod:`~nasicon_sim.structure.ordering`, :mod:`~nasicon_sim.structure.sqs`) only
permute species within a group, so every occupation has the supercell's exact site counts.

:func:`structure_from_occupation` turns an occupation into the ordered pymatgen ``Structure``
of the site-map contract (``docs/design.md``): oxidation-state species; site properties
``sublattice``, ``parent_label``, ``wyckoff``, ``parent_index``; sites sorted Na, M, T, O
(elements in composition order, then by position index), vacancies dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.errors import StructureError, SublatticeError
from nasicon_sim.structure.na_contacts import NA_MIN_DISTANCE_A, exclusion_pairs, max_na_placeable
from nasicon_sim.structure.parent import load_reference
from nasicon_sim.structure.supercell import (
    VACANCY,
    SupercellChoice,
    supercell_positions,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "SUBLATTICE_ORDER",
    "SiteGroup",
    "SupercellSites",
    "charges_of",
    "structure_from_occupation",
    "supercell_sites",
]

#: Order of the sublattices in built structures and site counts.
SUBLATTICE_ORDER: tuple[str, ...] = ("Na", "M", "T", "O")


@dataclass(frozen=True, eq=False)
class SiteGroup:
    """Positions among which species are permuted.

    Attributes
    ----------
    name : str
        Sublattice (``Na``, ``M`` or ``T``).
    indices : (n,) int array
        Position indices in :class:`SupercellSites`.
    species : tuple of str
        The multiset of species to distribute (length n; ``"X"`` = vacant), sorted in
        composition order.
    """

    name: str
    indices: np.ndarray
    species: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        """Species -> count."""
        out: dict[str, int] = {}
        for sp in self.species:
            out[sp] = out.get(sp, 0) + 1
        return out


@dataclass(frozen=True, eq=False)
class SupercellSites:
    """Every position of a supercell, its site map and what may occupy it.

    Attributes
    ----------
    choice : SupercellChoice
        The supercell and its site counts.
    lattice_matrix : (3, 3) float array
        Supercell lattice vectors as rows, Angstrom (after Vegard scaling, if any).
    frac_coords : (N, 3) float array
        Fractional coordinates of all N positions.
    sublattice, parent_label, wyckoff : (N,) str arrays
        Site map of each position.
    parent_index : (N,) int array
        Index of the parent site in :func:`~nasicon_sim.structure.parent.load_parent`.
    fixed : (N,) str array
        Species of positions that are not ordered; ``""`` for ordered positions.
    groups : tuple of SiteGroup
        The ordered groups (only groups holding more than one species).
    oxidation_states : Mapping[str, int]
        Element -> formal charge (Na +1, O -2 included).
    na_pairs : (k, 2) int array
        Pairs of Na positions (indices into all positions) closer than ``na_min_distance_A``.
    na_min_distance_A : float
        The threshold used for ``na_pairs``, Angstrom.
    lattice_scale : float
        Isotropic factor applied to the parent lattice (1 without Vegard scaling).
    """

    choice: SupercellChoice
    lattice_matrix: np.ndarray
    frac_coords: np.ndarray
    sublattice: np.ndarray
    parent_label: np.ndarray
    wyckoff: np.ndarray
    parent_index: np.ndarray
    fixed: np.ndarray
    groups: tuple[SiteGroup, ...]
    oxidation_states: Mapping[str, int] = field(repr=False)
    na_pairs: np.ndarray
    na_min_distance_A: float
    lattice_scale: float = 1.0

    @property
    def n_positions(self) -> int:
        """Number of positions (atoms plus vacant Na positions)."""
        return len(self.frac_coords)

    def group(self, name: str) -> SiteGroup | None:
        """The ordered group of a sublattice, or None when its species are fixed."""
        for g in self.groups:
            if g.name == name:
                return g
        return None

    def na_indices(self) -> np.ndarray:
        """Indices of all Na positions, occupied or not."""
        return np.flatnonzero(self.sublattice == "Na")


def supercell_sites(
    choice: SupercellChoice,
    *,
    na_min_distance_A: float = NA_MIN_DISTANCE_A,
    lattice_scale: float = 1.0,
) -> SupercellSites:
    """All positions of the chosen supercell with their site map and ordering groups.

    Parameters
    ----------
    choice : SupercellChoice
        From :func:`~nasicon_sim.structure.supercell.choose_supercell`.
    na_min_distance_A : float, default 2.5
        Minimum Na-Na distance (see :mod:`~nasicon_sim.structure.na_contacts`).
    lattice_scale : float, default 1.0
        Isotropic scale of the parent lattice (Vegard, see :mod:`~nasicon_sim.structure.vegard`).

    Returns
    -------
    SupercellSites

    Raises
    ------
    SublatticeError
        The Na count cannot be placed under the minimum Na-Na distance.
    """
    if not (lattice_scale > 0 and np.isfinite(lattice_scale)):
        raise StructureError(f"lattice scale must be a positive number, got {lattice_scale!r}")
    parent = load_reference(choice.parent)
    matrix = np.array(choice.matrix, dtype=int)
    frac, index = supercell_positions(parent.frac_coords, matrix)
    props = parent.site_properties
    sublattice = np.array([props["sublattice"][i] for i in index])
    label = np.array([props["label"][i] for i in index])
    wyckoff = np.array([props["wyckoff"][i] for i in index])
    lattice = (matrix @ parent.lattice.matrix) * lattice_scale

    counts = choice.site_counts
    realised = choice.realised
    fixed = np.full(len(frac), "", dtype="<U3")
    fixed[sublattice == "O"] = "O"
    groups: list[SiteGroup] = []

    def add_group(name: str, mask: np.ndarray, species_counts: Mapping[str, int]) -> None:
        idx = np.flatnonzero(mask)
        multiset = tuple(sp for sp, n in species_counts.items() for _ in range(int(n)))
        if len(multiset) != len(idx):  # pragma: no cover - guarded by choose_supercell
            raise SublatticeError(
                f"{name} sublattice: {len(multiset)} species for {len(idx)} positions"
            )
        present = {sp for sp, n in species_counts.items() if n > 0}
        if len(present) == 1:
            fixed[idx] = present.pop()
        else:
            groups.append(SiteGroup(name, idx, multiset))

    na_counts = {"Na": counts["Na"]["Na"], VACANCY: counts["Na"][VACANCY]}
    add_group("Na", sublattice == "Na", na_counts)
    add_group("M", sublattice == "M", {el: counts["M"][el] for el in realised.m_site if el in counts["M"]})
    if choice.tetrahedral == "ordered":
        for el, lab in (("Si", "Si2"), ("P", "P1")):
            fixed[(sublattice == "T") & (label == lab)] = el
        n_si = int(np.sum(fixed == "Si"))
        n_p = int(np.sum(fixed == "P"))
        if counts["T"] != {"Si": n_si, "P": n_p}:  # pragma: no cover - guarded upstream
            raise SublatticeError(f"ordered T site needs Si {n_si}, P {n_p}; got {counts['T']}")
    else:
        add_group("T", sublattice == "T", {el: counts["T"][el] for el in realised.t_site if el in counts["T"]})

    na_idx = np.flatnonzero(sublattice == "Na")
    local = exclusion_pairs(lattice, frac[na_idx], na_min_distance_A)
    na_pairs = na_idx[local] if len(local) else np.zeros((0, 2), dtype=int)
    n_na = counts["Na"]["Na"]
    if len(local):
        most = max_na_placeable(len(na_idx), local)
        if most < n_na:
            raise SublatticeError(
                f"{realised.formula_pretty}: {n_na} Na cannot be placed on {len(na_idx)} Na "
                f"positions without two Na closer than {na_min_distance_A} A; at most {most} fit "
                f"({len(local)} excluded pairs)"
            )
    states = dict(realised.oxidation_states)
    states.setdefault("Na", 1)
    states.setdefault("O", -2)
    return SupercellSites(
        choice=choice,
        lattice_matrix=lattice,
        frac_coords=frac,
        sublattice=sublattice,
        parent_label=label,
        wyckoff=wyckoff,
        parent_index=np.asarray(index, dtype=int),
        fixed=fixed,
        groups=tuple(groups),
        oxidation_states=states,
        na_pairs=na_pairs,
        na_min_distance_A=float(na_min_distance_A),
        lattice_scale=float(lattice_scale),
    )


def charges_of(sites: SupercellSites, occupation: np.ndarray) -> np.ndarray:
    """Formal charge of every position for an occupation (0 for vacancies), in e.

    Parameters
    ----------
    sites : SupercellSites
    occupation : (N,) str array
        One species symbol per position (``"X"`` = vacant).

    Returns
    -------
    (N,) float array
    """
    table = dict(sites.oxidation_states)
    table[VACANCY] = 0
    try:
        return np.array([table[sp] for sp in occupation], dtype=float)
    except KeyError as exc:
        raise StructureError(f"no oxidation state for species {exc.args[0]!r}") from None


def structure_from_occupation(
    sites: SupercellSites, occupation: np.ndarray, metadata: Mapping | None = None
) -> Structure:
    """The ordered pymatgen Structure of an occupation, with the site map of the contract.

    Parameters
    ----------
    sites : SupercellSites
    occupation : (N,) str array
        One species symbol per position (``"X"`` = vacant, dropped).
    metadata : mapping, optional
        Stored as ``structure.properties["nasicon_sim"]``.

    Returns
    -------
    pymatgen.core.Structure
    """
    from pymatgen.core import Lattice, Species, Structure

    occupation = np.asarray(occupation)
    if occupation.shape != (sites.n_positions,):
        raise StructureError(
            f"occupation has shape {occupation.shape}, expected ({sites.n_positions},)"
        )
    realised = sites.choice.realised
    element_rank = {"Na": 0}
    for el in [*realised.m_site, *realised.t_site, "Si", "P", "O"]:
        element_rank.setdefault(el, len(element_rank))
    sub_rank = {s: i for i, s in enumerate(SUBLATTICE_ORDER)}
    keep = [i for i in range(sites.n_positions) if occupation[i] != VACANCY]
    keep.sort(key=lambda i: (sub_rank[sites.sublattice[i]], element_rank.get(occupation[i], 99), i))
    species = [Species(str(occupation[i]), sites.oxidation_states[str(occupation[i])]) for i in keep]
    structure = Structure(
        Lattice(sites.lattice_matrix),
        species,
        sites.frac_coords[keep],
        site_properties={
            "sublattice": [str(sites.sublattice[i]) for i in keep],
            "parent_label": [str(sites.parent_label[i]) for i in keep],
            "wyckoff": [str(sites.wyckoff[i]) for i in keep],
            "parent_index": [int(sites.parent_index[i]) for i in keep],
        },
    )
    if metadata is not None:
        structure.properties["nasicon_sim"] = dict(metadata)
    return structure
