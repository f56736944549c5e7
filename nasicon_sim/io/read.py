"""Read structure files (CIF, POSCAR/CONTCAR, vasprun.xml, extended XYZ) into decorated Structures.

Parsing is pymatgen's (CIF, POSCAR, ``Vasprun``) and ASE's (extended XYZ); this module adds what
the analyses need on top:

* **Site map.** The builder's site map (``docs/design.md``) is restored when present: from
  extended XYZ per-atom arrays (``parent_label``, ``wyckoff``, ``sublattice``, ``parent_index``)
  and from CIF labels of the form ``<parent_label>_<n>`` (``Na3_17``). For those CIFs the atoms
  are put back in the written order (``n``), ``wyckoff`` and ``sublattice`` are looked up in
  the parent NZSP_C2c cell by label, the metadata is read from ``_nasicon_sim_metadata``, and
  ``parent_index`` is restored from positions and the supercell matrix, among parent sites of
  the same label (so relaxed structures map back too). POSCAR/CONTCAR and ``vasprun.xml``
  carry no site map: when a sidecar ``nasicon_sim.json`` (:mod:`nasicon_sim.io.sitemap`,
  written with VASP inputs) lies next to them, the site map, oxidation states and metadata
  are attached atom by atom after checking the elements. Files from elsewhere (DFT, user
  CIFs) keep their own labels. The metadata is ``structure.properties["nasicon_sim"]`` (a
  dict) in every case.
* **Oxidation states**, in this order: from the file (CIF ``_atom_type_oxidation_number``,
  decorated species, or an extended XYZ ``oxi_states`` array); else from NASICON chemistry
  (:func:`nasicon_sim.composition.parse_nasicon` on the formula); else pymatgen's
  ``BVAnalyzer``. Explicit ``oxidation_states`` override any of them per element. The source is
  recorded in ``structure.properties["oxidation_states_source"]``.

Partial occupancies are kept; whether they are acceptable is for the analysis to decide
(the BVSE engine accepts them on mobile-ion sites only).
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.errors import FormulaError, OxidationStateError, StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "MIN_ATOM_DISTANCE_A",
    "OXIDATION_SOURCES",
    "assign_oxidation_states",
    "check_geometry",
    "detect_format",
    "read_structure",
    "require_file",
]

logger = logging.getLogger(__name__)

#: Values of ``structure.properties["oxidation_states_source"]``.
OXIDATION_SOURCES = ("file", "nasicon", "bvanalyzer", "override")

#: Two fully occupied atoms closer than this (Angstrom) are an error in the input (the shortest
#: bonds of oxides, P-O and Si-O, are about 1.5 Angstrom; O-H 0.96 Angstrom).
MIN_ATOM_DISTANCE_A: float = 0.5

_BUILDER_LABEL = re.compile(r"^(?P<parent>[A-Z][a-z]?\d+)_(?P<n>\d+)$")


def detect_format(path: str | Path) -> str:
    """``"cif"``, ``"poscar"``, ``"vasprun"`` or ``"extxyz"`` from a file name.

    >>> detect_format("x/CONTCAR"), detect_format("a.cif"), detect_format("s.extxyz")
    ('poscar', 'cif', 'extxyz')
    >>> detect_format("run/vasprun.xml"), detect_format("vasprun.xml.gz")
    ('vasprun', 'vasprun')
    """
    name = Path(path).name
    lower = name.lower()
    if lower.endswith(".cif"):
        return "cif"
    if lower.startswith("vasprun") and ".xml" in lower:
        return "vasprun"
    if lower.endswith((".extxyz", ".xyz")):
        return "extxyz"
    if lower.endswith(".vasp") or name.startswith(("POSCAR", "CONTCAR")):
        return "poscar"
    raise StructureError(
        f"cannot tell the format of {name!r}: use a .cif, .vasp, POSCAR*/CONTCAR*, "
        "vasprun*.xml or .extxyz/.xyz file"
    )


def _read_cif(path: Path) -> Structure:
    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rounding notes on refined occupancies
        try:
            structures = CifParser(str(path)).parse_structures(primitive=False)
        except Exception as exc:  # pymatgen raises ValueError / KeyError / IndexError
            raise StructureError(f"cannot read the CIF {path}: {exc}") from exc
    if not structures:
        raise StructureError(f"no structure found in {path}")
    if len(structures) > 1:
        logger.warning("%s holds %d structures; using the first", path, len(structures))
    structure = structures[0]
    return _restore_cif_site_map(structure, path)


def _cif_metadata(path: Path) -> dict | None:
    """The builder's JSON metadata (``_nasicon_sim_metadata``) of a CIF, if present."""
    import json

    from pymatgen.io.cif import CifFile

    try:
        block = next(iter(CifFile.from_file(str(path)).data.values()))
        text = block.data.get("_nasicon_sim_metadata")
        meta = json.loads(text) if text else None
    except (ValueError, StopIteration, TypeError) as exc:
        logger.warning("%s: unreadable _nasicon_sim_metadata (%s); ignored", path, exc)
        return None
    return meta if isinstance(meta, dict) else None


def _restore_cif_site_map(structure: Structure, path: Path) -> Structure:
    labels = [getattr(site, "label", None) for site in structure]
    if not labels or not all(isinstance(x, str) for x in labels):
        return structure
    matches = [_BUILDER_LABEL.match(x) for x in labels]
    if not all(matches):
        structure.add_site_property("label", labels)
        # Wyckoff positions when the CIF states them per label (as the reference CIFs do)
        from nasicon_sim.structure.parent import _wyckoff_from_cif_block

        by_label = _wyckoff_from_cif_block(path)
        if by_label and all(lab in by_label for lab in labels):
            structure.add_site_property("wyckoff", [by_label[lab] for lab in labels])
        return structure
    # pymatgen regroups sites: put them back in the written order n
    numbers = [int(m.group("n")) for m in matches]
    if sorted(numbers) == list(range(len(numbers))) and numbers != sorted(numbers):
        order = sorted(range(len(numbers)), key=numbers.__getitem__)
        structure = structure.__class__.from_sites([structure[i] for i in order],
                                                   properties=structure.properties)
        matches = [matches[i] for i in order]
    parent_labels = [m.group("parent") for m in matches]
    structure.add_site_property("parent_label", parent_labels)
    from nasicon_sim.structure.parent import PARENT_NAME, PARENTS, load_reference, sublattice_of

    meta = _cif_metadata(path)
    parent_name = (meta or {}).get("parent", PARENT_NAME)
    parent = None
    if parent_name in PARENTS.values():  # the parent it was built on (C2/c or R-3c)
        parent = load_reference(parent_name)
    else:
        logger.warning("%s: unknown parent %r in the metadata; no Wyckoff positions restored",
                       path, parent_name)
    wyckoff_of = {} if parent is None else dict(zip(parent.site_properties["label"],
                                                    parent.site_properties["wyckoff"]))
    if wyckoff_of and all(lab in wyckoff_of for lab in parent_labels):
        structure.add_site_property("wyckoff", [wyckoff_of[lab] for lab in parent_labels])
    structure.add_site_property(
        "sublattice",
        [sublattice_of(next(iter(site.species)).symbol) for site in structure])
    if meta is not None:
        structure.properties["nasicon_sim"] = meta
        matrix = meta.get("supercell_matrix")
        if matrix is not None and parent is not None \
                and all(lab in wyckoff_of for lab in parent_labels):
            from nasicon_sim.structure.supercell import parent_indices_of

            index = parent_indices_of(structure.frac_coords, matrix, parent,
                                      tolerance_A=np.inf, parent_labels=parent_labels)
            structure.add_site_property("parent_index", [int(i) for i in index])
    return structure


def _read_poscar(path: Path) -> Structure:
    from pymatgen.io.vasp import Poscar

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Poscar.from_file(str(path), check_for_potcar=False).structure
    except Exception as exc:
        raise StructureError(f"cannot read the POSCAR/CONTCAR {path}: {exc}") from exc


def _read_vasprun(path: Path) -> Structure:
    from pymatgen.io.vasp import Vasprun

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unconverged-run notes are reported below
            run = Vasprun(str(path), parse_dos=False, parse_eigen=False,
                          parse_potcar_file=False, exception_on_bad_xml=False)
    except Exception as exc:
        raise StructureError(f"cannot read the vasprun.xml {path}: {exc}") from exc
    structure = run.final_structure.copy()
    for key in list(structure.site_properties):  # e.g. selective_dynamics, velocities
        structure.remove_site_property(key)
    info: dict = {"file": path.name, "converged_ionic": bool(run.converged_ionic),
                  "converged_electronic": bool(run.converged_electronic),
                  "ionic_steps": len(run.ionic_steps)}
    try:
        info["final_energy_eV"] = float(run.final_energy)
    except (TypeError, ValueError, IndexError):
        pass
    if not run.converged_ionic:
        logger.warning("%s: the ionic relaxation did not converge (%d steps)", path,
                       len(run.ionic_steps))
    structure.properties["dft"] = info
    return structure


def _read_extxyz(path: Path) -> Structure:
    from ase.io import read
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        atoms = read(str(path), format="extxyz", index=-1)
    except Exception as exc:
        raise StructureError(f"cannot read the extended XYZ {path}: {exc}") from exc
    if not all(atoms.pbc):
        raise StructureError(f"{path}: the structure is not periodic in all three directions")
    # tolerate a missing oxi_states array; keep per-atom arrays as site properties
    structure = AseAtomsAdaptor.get_structure(atoms)
    for key in ("parent_label", "wyckoff", "sublattice"):
        if key in structure.site_properties:
            structure.add_site_property(key, [str(v) for v in structure.site_properties[key]])
    if "parent_index" in structure.site_properties:
        structure.add_site_property(
            "parent_index", [int(v) for v in structure.site_properties["parent_index"]])
    meta = structure.properties.get("nasicon_sim")
    if isinstance(meta, str):  # the writer stores the metadata as a JSON string
        import json

        try:
            structure.properties["nasicon_sim"] = json.loads(meta)
        except ValueError:
            logger.warning("%s: unreadable nasicon_sim metadata; ignored", path)
            del structure.properties["nasicon_sim"]
    return structure


def _states_from_file(structure: Structure) -> bool:
    for site in structure:
        for sp in site.species:
            if getattr(sp, "oxi_state", None) is None:
                return False
    return True


def _nasicon_states(structure: Structure) -> dict[str, int] | None:
    from nasicon_sim.composition import parse_nasicon

    formula = "".join(f"{el.symbol}{amt:.6g}"
                      for el, amt in structure.composition.element_composition.items())
    try:
        return dict(parse_nasicon(formula).oxidation_states)
    except FormulaError as exc:
        logger.info("not a NASICON formula (%s): %s", formula, exc)
        return None


def _bvanalyzer_states(structure: Structure) -> list | None:
    from pymatgen.analysis.bond_valence import BVAnalyzer

    try:
        return BVAnalyzer().get_valences(structure)
    except Exception as exc:  # BVAnalyzer raises ValueError for unassignable structures
        logger.info("BVAnalyzer could not assign oxidation states: %s", exc)
        return None


def check_geometry(structure: Structure, name: str = "the structure") -> None:
    """Refuse a cell or atom positions that cannot be a crystal.

    Checks that the lattice and every coordinate are finite, the cell has volume, and no two
    atoms overlap: closer than :data:`MIN_ATOM_DISTANCE_A`, periodic images included, unless
    they are alternatives of a disordered site (their occupancies sum to at most 1).

    Parameters
    ----------
    structure : pymatgen.core.Structure
    name : str
        How to call the structure in the message (e.g. its file name).

    Raises
    ------
    StructureError
        Naming the first problem found.

    Examples
    --------
    >>> from pymatgen.core import Lattice, Structure
    >>> check_geometry(Structure(Lattice.cubic(5), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]))
    >>> check_geometry(Structure(Lattice.cubic(5), ["Zr", "O"], [[0, 0, 0], [0, 0, 0.02]]))
    Traceback (most recent call last):
    ...
    nasicon_sim.errors.StructureError: the structure: atoms 0 (Zr) and 1 (O) overlap (0.100 A apart, less than 0.5 A); fix the coordinates
    """
    lattice = np.asarray(structure.lattice.matrix, dtype=float)
    if not np.all(np.isfinite(lattice)):
        raise StructureError(f"{name}: the lattice has non-finite entries")
    with np.errstate(all="ignore"):
        volume = abs(float(np.linalg.det(lattice)))
    if not (np.isfinite(volume) and volume > 1e-6):
        raise StructureError(f"{name}: the cell has no volume (lattice vectors are dependent)")
    frac = np.array([site.frac_coords for site in structure], dtype=float).reshape(-1, 3)
    with np.errstate(all="ignore"):
        bad = ~np.all(np.isfinite(frac), axis=1) | np.any(np.abs(frac) > 1e6, axis=1)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise StructureError(
            f"{name}: atom {i} ({structure[i].species_string}) has a non-finite or absurd "
            f"fractional coordinate {frac[i].tolist()}; {int(bad.sum())} atom(s) in all")
    occ = np.array([float(sum(site.species.values())) for site in structure])
    i_idx, j_idx, _, dist = structure.get_neighbor_list(MIN_ATOM_DISTANCE_A)
    for i, j, d in zip(i_idx, j_idx, dist):
        if occ[i] + occ[j] <= 1.0 + 1e-3:  # alternatives of one disordered position
            continue
        i, j = (int(i), int(j)) if i <= j else (int(j), int(i))
        what = f"atoms {i} ({structure[i].species_string}) and {j} " \
            f"({structure[j].species_string})" if i != j else \
            f"atom {i} ({structure[i].species_string}) and its own periodic image"
        raise StructureError(
            f"{name}: {what} overlap ({float(d):.3f} A apart, less than "
            f"{MIN_ATOM_DISTANCE_A:g} A); fix the coordinates")


def assign_oxidation_states(
    structure: Structure, overrides: Mapping[str, float] | None = None
) -> Structure:
    """Decorate a structure with oxidation states (file, else NASICON, else BVAnalyzer).

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Modified in place and returned.
    overrides : mapping, optional
        Element -> oxidation state; wins over every other source for that element.

    Returns
    -------
    pymatgen.core.Structure
        With ``properties["oxidation_states_source"]`` set to one of :data:`OXIDATION_SOURCES`.

    Raises
    ------
    OxidationStateError
        No source gives states for every element; or an override names an absent element.
    """
    overrides = dict(overrides or {})
    elements = {el.symbol for el in structure.composition.element_composition}
    from pymatgen.core.periodic_table import Element

    not_elements = sorted(el for el in overrides if not Element.is_valid_symbol(str(el)))
    if not_elements:
        raise OxidationStateError(
            f"--oxi names {', '.join(not_elements)}, which is not a chemical element")
    unknown = sorted(set(overrides) - elements)
    if unknown:
        raise OxidationStateError(
            f"oxidation state given for {', '.join(unknown)}, which the structure does not contain")
    source = None
    if set(overrides) >= elements:
        structure.remove_oxidation_states()
        structure.add_oxidation_state_by_element(overrides)
        source = "override"
    elif _states_from_file(structure):
        source = "file"
    else:
        structure.remove_oxidation_states()
        states = _nasicon_states(structure)
        if states is not None and set(states) >= elements:
            structure.add_oxidation_state_by_element({el: states[el] for el in elements})
            source = "nasicon"
        else:
            valences = _bvanalyzer_states(structure)
            if valences is None:
                raise OxidationStateError(
                    "cannot assign oxidation states (not in the file, not a NASICON formula, "
                    "BVAnalyzer failed); give them with --oxi EL=STATE for every element")
            if structure.is_ordered:
                structure.add_oxidation_state_by_site(valences)
            else:
                from pymatgen.core import Species

                for i, site in enumerate(structure):
                    site.species = {Species(sp.symbol, v): occ for (sp, occ), v in
                                    zip(site.species.items(), valences[i])}
            source = "bvanalyzer"
    if overrides and source != "override":
        from pymatgen.core import Species

        for site in structure:
            site.species = {
                (Species(sp.symbol, overrides[sp.symbol]) if sp.symbol in overrides else sp): occ
                for sp, occ in site.species.items()}
        source = f"{source}+override"
    structure.properties["oxidation_states_source"] = source
    return structure


def read_structure(
    path: str | Path,
    oxidation_states: Mapping[str, float] | None = None,
    fmt: str | None = None,
    site_map: str | Path | bool | None = None,
) -> Structure:
    """Read a structure file with oxidation states and, when present, the builder's site map.

    Parameters
    ----------
    path : str or Path
        CIF, POSCAR/CONTCAR (``*.vasp``), ``vasprun.xml`` or extended XYZ file.
    oxidation_states : mapping, optional
        Element -> oxidation state overrides (``--oxi``).
    fmt : {"cif", "poscar", "vasprun", "extxyz"}, optional
        Format, if the file name does not tell.
    site_map : path, bool or None
        Site-map sidecar (:mod:`nasicon_sim.io.sitemap`) to attach by atom order. ``None``
        (default): ``nasicon_sim.json`` next to a POSCAR/CONTCAR/vasprun.xml when there is
        one; ``True``: that file must exist; ``False``: never; a path: that file.

    Returns
    -------
    pymatgen.core.Structure

    Raises
    ------
    StructureError
        Missing or unreadable file, unknown format, a site map that does not fit, non-finite
        coordinates or overlapping atoms (:func:`check_geometry`).
    OxidationStateError
        Oxidation states cannot be assigned.

    Examples
    --------
    >>> from nasicon_sim.structure.parent import reference_structures_dir
    >>> s = read_structure(reference_structures_dir() / "NZSP_C2c.cif")
    >>> s.properties["oxidation_states_source"], str(s[0].specie)
    ('nasicon', 'Na+')
    """
    path = require_file(path)
    fmt = fmt or detect_format(path)
    readers = {"cif": _read_cif, "poscar": _read_poscar, "vasprun": _read_vasprun,
               "extxyz": _read_extxyz}
    if fmt not in readers:
        raise StructureError(f"unknown structure format {fmt!r}; use one of {sorted(readers)}")
    structure = readers[fmt](path)
    if len(structure) == 0:
        raise StructureError(f"{path} contains no atoms")
    check_geometry(structure, str(path))
    sidecar = _sidecar(path, fmt, site_map)
    if sidecar is not None:
        from nasicon_sim.io.sitemap import apply_site_map, read_site_map

        apply_site_map(structure, read_site_map(sidecar), source=str(sidecar))
    return assign_oxidation_states(structure, oxidation_states)


def _sidecar(path: Path, fmt: str, site_map: str | Path | bool | None) -> Path | None:
    from nasicon_sim.io.sitemap import SITE_MAP_FILE, find_site_map

    if site_map is False:
        return None
    if site_map is None:
        return find_site_map(path) if fmt in ("poscar", "vasprun") else None
    if site_map is True:
        found = find_site_map(path)
        if found is None:
            raise StructureError(f"no {SITE_MAP_FILE} next to {path}")
        return found
    sidecar = Path(site_map)
    if not sidecar.is_file():
        raise StructureError(f"no such site map: {sidecar}")
    return sidecar


def require_file(path: str | os.PathLike, error: type[Exception] = StructureError) -> Path:
    """``path`` as a Path if it is a readable regular file; else ``error`` saying what it is
    instead (missing, a directory, a broken symbolic link, a symbolic-link loop...).

    >>> require_file("/")
    Traceback (most recent call last):
    ...
    nasicon_sim.errors.StructureError: / is a directory, not a file
    """
    import errno
    import stat

    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.lexists(path):
            raise error(f"{path} is a broken symbolic link (to {os.readlink(path)}, which "
                        "does not exist)") from None
        raise error(f"no such file: {path}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{path} is a symbolic link loop, not a file") from None
        raise error(f"cannot read {path}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path} is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise error(f"{path} is not a regular file")
    return path
