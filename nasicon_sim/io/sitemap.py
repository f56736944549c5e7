"""The site-map sidecar: ``nasicon_sim.json`` next to files that cannot carry the site map.

POSCAR, CONTCAR and ``vasprun.xml`` keep species and positions only, in a fixed order. When
:func:`nasicon_sim.dft.write_vasp_inputs` writes a VASP input set for a configuration, it puts
this JSON file next to the POSCAR: the per-atom site map of ``docs/design.md``
(``parent_label``, ``wyckoff``, ``sublattice``, ``parent_index``), the element and oxidation
state of every atom in POSCAR order, and the configuration's metadata
(``structure.properties["nasicon_sim"]``). VASP keeps the atom order, so a finished run's
CONTCAR or ``vasprun.xml`` maps back atom by atom; :func:`apply_site_map` checks that the
elements agree position by position before it attaches anything.

Layout (version 1)::

    {"nasicon_sim_site_map": 1, "n_atoms": n, "elements": [...], "oxidation_states": [...],
     "parent_label": [...], "wyckoff": [...], "sublattice": [...], "parent_index": [...],
     "metadata": {...}, "source": "conf_000.cif", ...extra keys (e.g. "vasp": {...})}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasicon_sim.errors import StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "SITE_MAP_FILE",
    "SITE_MAP_VERSION",
    "apply_site_map",
    "find_site_map",
    "read_site_map",
    "site_map_record",
]

logger = logging.getLogger(__name__)

#: File name of the sidecar, looked up in the directory of a POSCAR/CONTCAR/vasprun.xml.
SITE_MAP_FILE = "nasicon_sim.json"
#: Version of the sidecar layout.
SITE_MAP_VERSION = 1
_ARRAYS = ("parent_label", "wyckoff", "sublattice", "parent_index")


def site_map_record(structure: Structure, **extra: Any) -> dict[str, Any]:
    """The sidecar content for an ordered structure (JSON-able).

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered; the site-map site properties are stored when present (all four or none).
    **extra
        More JSON-able keys (e.g. ``source``, ``vasp``).

    Returns
    -------
    dict
    """
    if not structure.is_ordered:
        raise StructureError("the site-map sidecar needs an ordered structure")
    record: dict[str, Any] = {
        "nasicon_sim_site_map": SITE_MAP_VERSION,
        "n_atoms": len(structure),
        "elements": [site.specie.symbol for site in structure],
        "oxidation_states": [getattr(site.specie, "oxi_state", None) for site in structure],
    }
    props = structure.site_properties
    if all(k in props for k in _ARRAYS):
        for key in ("parent_label", "wyckoff", "sublattice"):
            record[key] = [str(v) for v in props[key]]
        record["parent_index"] = [int(v) for v in props["parent_index"]]
    record["metadata"] = dict(structure.properties.get("nasicon_sim", {}))
    record.update(extra)
    return json.loads(json.dumps(record))


def read_site_map(path: str | Path) -> dict[str, Any]:
    """Read and check a sidecar file.

    Raises
    ------
    StructureError
        Not a nasicon-sim site map, or inconsistent lengths.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise StructureError(f"cannot read the site map {path}: {exc}") from None
    if not isinstance(record, dict) or record.get("nasicon_sim_site_map") != SITE_MAP_VERSION:
        raise StructureError(f"{path} is not a nasicon-sim site map (version {SITE_MAP_VERSION})")
    n = record.get("n_atoms")
    for key in ("elements", "oxidation_states", *_ARRAYS):
        if key in record and len(record[key]) != n:
            raise StructureError(f"{path}: {key} has {len(record[key])} entries for {n} atoms")
    return record


def find_site_map(structure_path: str | Path) -> Path | None:
    """The sidecar in the directory of ``structure_path``, if there is one."""
    candidate = Path(structure_path).parent / SITE_MAP_FILE
    return candidate if candidate.is_file() else None


def apply_site_map(
    structure: Structure, record: Mapping[str, Any], source: str = "site map"
) -> Structure:
    """Attach a sidecar's site map, oxidation states and metadata to a structure read by order.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered, atoms in the order the sidecar was written (e.g. a CONTCAR). Modified in
        place and returned.
    record : mapping
        From :func:`read_site_map` or :func:`site_map_record`.
    source : str
        Named in error messages.

    Returns
    -------
    pymatgen Structure

    Raises
    ------
    StructureError
        Different number of atoms, or an element differs at some position.
    """
    from pymatgen.core import Species

    n = int(record["n_atoms"])
    if len(structure) != n:
        raise StructureError(
            f"{source} describes {n} atoms but the structure has {len(structure)}: "
            "not the configuration it was written for")
    elements = [site.specie.symbol for site in structure]
    expected = list(record["elements"])
    bad = [i for i, (a, b) in enumerate(zip(elements, expected)) if a != b]
    if bad:
        i = bad[0]
        raise StructureError(
            f"{source}: atom {i} is {elements[i]} in the structure but {expected[i]} in the "
            f"site map ({len(bad)} position(s) differ): atoms were reordered or it is another "
            "configuration")
    states = record.get("oxidation_states")
    if states and all(v is not None for v in states):
        for site, state in zip(structure, states):
            site.species = {Species(site.specie.symbol, state): 1.0}
    if all(k in record for k in _ARRAYS):
        for key in ("parent_label", "wyckoff", "sublattice"):
            structure.add_site_property(key, [str(v) for v in record[key]])
        structure.add_site_property("parent_index", [int(v) for v in record["parent_index"]])
    if record.get("metadata"):
        structure.properties["nasicon_sim"] = dict(record["metadata"])
    logger.info("attached the site map of %s (%d atoms)", source, n)
    return structure
