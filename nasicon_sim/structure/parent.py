"""Reference NASICON structures and their site annotations.

The parent of every supercell is Hong's monoclinic C2/c Na3Zr2Si2PO12 (H. Y-P. Hong,
Mat. Res. Bull. 11 (1976) 173; ICSD 467), Z = 4: Na1 4d (full), Na2 4e and Na3 8f (2/3 each),
Zr 8f, P 4e, Si 8f, O 6 x 8f. The CIFs and their provenance are in ``structures/README.md``.

Each site of a loaded structure carries three site properties:

* ``label``: the CIF ``_atom_site_label`` (``Na1``, ``Zr1``, ``O3`` ...);
* ``wyckoff``: multiplicity and letter in the CIF's setting (``4d``, ``8f`` ...), read from the
  CIF, or computed with spglib when the CIF does not give it;
* ``sublattice``: ``Na`` (mobile A site), ``M`` (octahedral), ``T`` (tetrahedral) or ``O``.

Na labels differ between papers (see the README of ``structures/``): analyses map Na sites by
Wyckoff letter, not by label.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from nasicon_sim.composition import T_SITE_ELEMENTS
from nasicon_sim.errors import StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "PARENT_NAME",
    "REFERENCE_OXIDATION_STATES",
    "list_reference_structures",
    "load_parent",
    "load_reference",
    "read_annotated_cif",
    "reference_structures_dir",
    "sublattice_of",
]

#: Name of the default parent structure (file stem in ``structures/``).
PARENT_NAME = "NZSP_C2c"

#: Formal oxidation states of the reference frameworks.
REFERENCE_OXIDATION_STATES: Mapping[str, int] = {
    "Na": 1, "Zr": 4, "Sc": 3, "Si": 4, "P": 5, "O": -2,
}


def reference_structures_dir() -> Path:
    """Directory holding the reference CIFs.

    The repository's ``structures/`` in a source checkout or editable install; the copy
    bundled into the wheel (``nasicon_sim/_bundled/structures``) otherwise.
    """
    checkout = Path(__file__).resolve().parents[2] / "structures"
    if (checkout / f"{PARENT_NAME}.cif").is_file():
        return checkout
    bundled = Path(str(resources.files("nasicon_sim"))) / "_bundled" / "structures"
    if (bundled / f"{PARENT_NAME}.cif").is_file():
        return bundled
    raise StructureError(
        "reference structures not found: expected structures/NZSP_C2c.cif in the repository "
        "or nasicon_sim/_bundled/structures in the installed package"
    )


def list_reference_structures() -> list[str]:
    """Names (file stems) of the reference CIFs."""
    return sorted(p.stem for p in reference_structures_dir().glob("*.cif"))


def sublattice_of(element: str) -> str:
    """Sublattice of a cation species in a NASICON: ``Na``, ``T``, ``O`` or ``M``."""
    if element == "Na":
        return "Na"
    if element == "O":
        return "O"
    if element in T_SITE_ELEMENTS:
        return "T"
    return "M"


def _wyckoff_from_cif_block(path: Path) -> dict[str, str]:
    from pymatgen.io.cif import CifFile

    block = next(iter(CifFile.from_file(str(path)).data.values()))
    labels = block.data.get("_atom_site_label")
    letters = block.data.get("_atom_site_Wyckoff_symbol")
    mults = block.data.get("_atom_site_symmetry_multiplicity")
    if not labels or not letters or not mults:
        return {}
    return {lab: f"{m}{w}" for lab, w, m in zip(labels, letters, mults)}


def _wyckoff_from_spglib(structure: Structure) -> list[str]:
    """Wyckoff positions computed by spglib on a copy coloured by CIF label."""
    from pymatgen.core import Structure as _Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    labels = sorted({site.label for site in structure})
    dummies = ["H", "Li", "Be", "B", "C", "N", "F", "Mg", "Al", "Si", "P", "S", "Cl", "K",
               "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge",
               "As", "Se", "Br", "Rb", "Sr"]
    if len(labels) > len(dummies):
        raise StructureError("too many distinct site labels to determine Wyckoff positions")
    colour = dict(zip(labels, dummies))
    coloured = _Structure(structure.lattice, [colour[s.label] for s in structure],
                          structure.frac_coords)
    sga = SpacegroupAnalyzer(coloured, symprec=1e-2)
    dataset = sga.get_symmetry_dataset()
    mult: dict[int, int] = {}
    for eq in dataset.equivalent_atoms:
        mult[int(eq)] = mult.get(int(eq), 0) + 1
    return [f"{mult[int(eq)]}{w}" for eq, w in zip(dataset.equivalent_atoms, dataset.wyckoffs)]


def read_annotated_cif(
    path: str | Path, oxidation_states: Mapping[str, int] | None = None
) -> Structure:
    """Read a CIF into a pymatgen Structure with oxidation states and site annotations.

    Parameters
    ----------
    path : str or Path
        CIF file (partial occupancies are kept as disordered sites).
    oxidation_states : mapping, optional
        Element -> oxidation state; defaults to :data:`REFERENCE_OXIDATION_STATES`.

    Returns
    -------
    pymatgen.core.Structure
        Conventional cell, with site properties ``label``, ``wyckoff`` and ``sublattice``.

    Raises
    ------
    StructureError
        If the file cannot be read or an element has no oxidation state.
    """
    from pymatgen.io.cif import CifParser

    path = Path(path)
    if not path.is_file():
        raise StructureError(f"no such CIF file: {path}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stoichiometry notes of refined occupancies
        try:
            structure = CifParser(str(path)).parse_structures(primitive=False)[0]
        except Exception as exc:  # pymatgen raises ValueError / KeyError variously
            raise StructureError(f"cannot read {path}: {exc}") from exc
    states = dict(REFERENCE_OXIDATION_STATES if oxidation_states is None else oxidation_states)
    missing = sorted({el.symbol for el in structure.composition.elements} - set(states))
    if missing:
        raise StructureError(f"{path.name}: no oxidation state given for {', '.join(missing)}")
    structure.add_oxidation_state_by_element(states)
    by_label = _wyckoff_from_cif_block(path)
    if by_label and all(site.label in by_label for site in structure):
        wyckoff = [by_label[site.label] for site in structure]
    else:
        wyckoff = _wyckoff_from_spglib(structure)
    sublattice = []
    for site in structure:
        kinds = {sublattice_of(sp.symbol) for sp in site.species}
        if len(kinds) != 1:
            raise StructureError(
                f"{path.name}: site {site.label} mixes sublattices {sorted(kinds)}"
            )
        sublattice.append(kinds.pop())
    structure.add_site_property("label", [site.label for site in structure])
    structure.add_site_property("wyckoff", wyckoff)
    structure.add_site_property("sublattice", sublattice)
    return structure


@lru_cache(maxsize=8)
def _load_cached(name: str) -> Structure:
    path = reference_structures_dir() / f"{name}.cif"
    if not path.is_file():
        known = ", ".join(list_reference_structures())
        raise StructureError(f"unknown reference structure {name!r}; known: {known}")
    return read_annotated_cif(path)


def load_reference(name: str = PARENT_NAME) -> Structure:
    """Load a reference structure from ``structures/`` by file stem.

    Parameters
    ----------
    name : str, default "NZSP_C2c"
        One of :func:`list_reference_structures`.

    Returns
    -------
    pymatgen.core.Structure
        A fresh copy (safe to modify), annotated as in :func:`read_annotated_cif`.
    """
    return _load_cached(name).copy()


def load_parent() -> Structure:
    """The parent C2/c Na3Zr2Si2PO12 cell (Hong 1976), annotated; see :func:`load_reference`."""
    return load_reference(PARENT_NAME)
