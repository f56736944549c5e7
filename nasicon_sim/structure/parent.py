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
    "PARENTS",
    "PARENT_NAME",
    "RHOMBOHEDRAL_PARENT_NAME",
    "REFERENCE_OXIDATION_STATES",
    "list_reference_structures",
    "load_parent",
    "load_reference",
    "read_annotated_cif",
    "reference_structures_dir",
    "rhombohedral_z4",
    "sublattice_of",
]

#: Name of the default parent structure (file stem in ``structures/``).
PARENT_NAME = "NZSP_C2c"
#: Name of the rhombohedral parent: Boilot et al.'s R-3c NZSP (``structures/NZSP_R-3c.cif``)
#: re-expressed in a Z = 4 cell of the C2/c parent's shape (see :func:`rhombohedral_z4`).
RHOMBOHEDRAL_PARENT_NAME = "NZSP_R-3c_Z4"
#: Builder parents by space group.
PARENTS: Mapping[str, str] = {"C2/c": PARENT_NAME, "R-3c": RHOMBOHEDRAL_PARENT_NAME}

#: The Z = 4 cell of R-3c NASICON in the shape of the C2/c cell: rows are its lattice vectors
#: in the primitive rhombohedral vectors of the hexagonal setting (found by matching the
#: C2/c parent's lengths and angles; det 2, two primitive cells).
_R3C_Z4_IN_PRIMITIVE = ((-2, 1, 1), (0, -1, 1), (1, 0, 0))
#: Primitive rhombohedral vectors (obverse setting) in hexagonal fractional coordinates.
_RHOMBOHEDRAL_PRIMITIVE = ((2 / 3, 1 / 3, 1 / 3), (-1 / 3, 1 / 3, 1 / 3), (-1 / 3, -2 / 3, 1 / 3))

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
    """Names (file stems) of the reference CIFs (:func:`load_reference` also knows the derived
    :data:`RHOMBOHEDRAL_PARENT_NAME`)."""
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


def rhombohedral_z4(hexagonal: Structure) -> Structure:
    """R-3c NASICON (hexagonal axes, Z = 6) re-expressed in a Z = 4 cell shaped like C2/c.

    The C2/c NZSP cell is a slightly distorted supercell of two primitive rhombohedral cells;
    this is that supercell of the undistorted R-3c structure (a 15.71, b 9.07, c 9.28 A,
    beta 124.4 deg for Boilot's cell against 15.59, 9.03, 9.21 A, 123.7 deg for Hong's C2/c),
    so it holds the same positions per cell as the C2/c parent: 16 Na (Na1 6b + Na2 18e),
    8 M (12c), 12 T (one 18e site, Si/P mixed) and 48 O. The split mid-Na 36f positions
    (``Na3mid``, occupancy 0.11, 1.75-1.93 A from Na1/Na2 and never occupied together with
    them) are left out: the builder occupies Na1 and Na2; the BVSE landscape still shows the
    mid-Na minima. Site properties (label, Wyckoff position in the hexagonal setting,
    sublattice) are carried over.

    Parameters
    ----------
    hexagonal : pymatgen.core.Structure
        The annotated R-3c structure (:func:`read_annotated_cif` of ``NZSP_R-3c.cif``).

    Returns
    -------
    pymatgen.core.Structure
        84 sites, ordered by the hexagonal structure's site order.
    """
    import numpy as np
    from pymatgen.core import Lattice, Structure

    hex_lat = hexagonal.lattice.matrix
    vectors = np.array(_R3C_Z4_IN_PRIMITIVE, float) @ np.array(_RHOMBOHEDRAL_PRIMITIVE)
    lattice = vectors @ hex_lat
    inv = np.linalg.inv(lattice)
    shifts = np.array([(i, j, k) for i in range(-3, 4) for j in range(-3, 4)
                       for k in range(-3, 4)], float)
    species, frac, props = [], [], {key: [] for key in ("label", "wyckoff", "sublattice")}
    site_props = hexagonal.site_properties
    for idx, site in enumerate(hexagonal):
        if site_props["label"][idx] == "Na3mid":
            continue
        images = ((site.frac_coords + shifts) @ hex_lat) @ inv
        images = images[np.all((images > -1e-6) & (images < 1 - 1e-6), axis=1)]
        kept: list[np.ndarray] = []
        for f in np.round(images, 8) % 1.0:
            if not any(np.allclose(f, g, atol=1e-5) for g in kept):
                kept.append(f)
        for f in kept:
            species.append(site.species)
            frac.append(f)
            for key in props:
                props[key].append(site_props[key][idx])
    out = Structure(Lattice(lattice), species, frac, site_properties=props,
                    labels=props["label"])
    out.properties["derived_from"] = "NZSP_R-3c.cif (Boilot, Collin, Colomban 1988)"
    return out


@lru_cache(maxsize=8)
def _load_cached(name: str) -> Structure:
    if name == RHOMBOHEDRAL_PARENT_NAME:
        return rhombohedral_z4(_load_cached("NZSP_R-3c"))
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
