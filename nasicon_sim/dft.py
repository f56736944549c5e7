"""The DFT bridge: VASP input sets for configurations, and finished runs read back.

Inputs are pymatgen's Materials Project input sets (``MPRelaxSet`` by default: PBE, PAW
potentials of the MP choice, 520 eV cut-off, k-point density 64 per reciprocal atom; see
pymatgen ``pymatgen/io/vasp/MPRelaxSet.yaml``; Jain et al., Comput. Mater. Sci. 50 (2011)
2295). VASP potentials are licensed, so only ``POTCAR.spec`` (one symbol per species block) is
written; on the cluster ``pymatgen``'s ``Potcar(symbols)`` or the site's own script makes the
POTCAR. Atoms keep the configuration's order (``sort_structure=False``) and
``nasicon_sim.json`` (:mod:`nasicon_sim.io.sitemap`) records the site map, oxidation states
and metadata next to the inputs, so a finished run's CONTCAR or ``vasprun.xml`` maps back to
its configuration atom by atom: :func:`read_vasp_output` (and ``read_structure`` on either
file) attaches it after checking the elements.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasicon_sim.errors import NasiconSimError, StructureError

if TYPE_CHECKING:
    from pymatgen.core import Structure
    from pymatgen.io.vasp.sets import VaspInputSet

__all__ = [
    "INPUT_SETS",
    "VaspInputSettings",
    "read_vasp_output",
    "vasp_input_set",
    "write_vasp_inputs",
]

logger = logging.getLogger(__name__)

#: pymatgen input sets that can be chosen by name.
INPUT_SETS: tuple[str, ...] = ("MPRelaxSet", "MPStaticSet", "MPScanRelaxSet")
#: Files of a finished run tried by :func:`read_vasp_output` in a directory, in this order.
OUTPUT_FILES: tuple[str, ...] = ("vasprun.xml", "vasprun.xml.gz", "CONTCAR")


@dataclass(frozen=True)
class VaspInputSettings:
    """Which VASP input set to write.

    Attributes
    ----------
    input_set : str
        One of :data:`INPUT_SETS` (default ``MPRelaxSet``).
    cell : bool
        Relax the cell too (``ISIF = 3``, default) or positions only (``ISIF = 2``); ignored
        by ``MPStaticSet``.
    incar : mapping
        INCAR settings that override the set's (e.g. ``{"ISPIN": 1, "NCORE": 4}``).
    reciprocal_density : int or None
        k-points per reciprocal atom instead of the set's.
    """

    input_set: str = "MPRelaxSet"
    cell: bool = True
    incar: Mapping[str, Any] = field(default_factory=dict)
    reciprocal_density: int | None = None

    def __post_init__(self) -> None:
        if self.input_set not in INPUT_SETS:
            raise NasiconSimError(
                f"unknown input set {self.input_set!r}; choose from {', '.join(INPUT_SETS)}")
        if self.reciprocal_density is not None and (
                not isinstance(self.reciprocal_density, int) or self.reciprocal_density < 1):
            raise NasiconSimError(
                f"k-point density must be a positive integer, got {self.reciprocal_density!r}")
        object.__setattr__(self, "incar", dict(self.incar))


def vasp_input_set(structure: Structure, settings: VaspInputSettings | None = None) -> VaspInputSet:
    """The pymatgen input set of an ordered structure, atoms in their order.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered.
    settings : VaspInputSettings, optional

    Returns
    -------
    pymatgen.io.vasp.sets.VaspInputSet
    """
    from pymatgen.io.vasp import sets

    settings = settings or VaspInputSettings()
    if not structure.is_ordered:
        raise StructureError(
            "VASP inputs need an ordered structure: order it with nasicon-sim build first")
    incar = dict(settings.incar)
    if settings.input_set != "MPStaticSet":
        incar.setdefault("ISIF", 3 if settings.cell else 2)
    kpoints = ({"reciprocal_density": settings.reciprocal_density}
               if settings.reciprocal_density else None)
    cls = getattr(sets, settings.input_set)
    return cls(structure, sort_structure=False, user_incar_settings=incar,
               user_kpoints_settings=kpoints)


def write_vasp_inputs(
    structure: Structure,
    directory: str | Path,
    settings: VaspInputSettings | None = None,
    source: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write INCAR, KPOINTS, POSCAR, POTCAR.spec and ``nasicon_sim.json`` into a directory.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered; its site map and metadata, when present, go to ``nasicon_sim.json``.
    directory : str or Path
        Created if missing.
    settings : VaspInputSettings, optional
    source : str, optional
        Where the structure came from (recorded in ``nasicon_sim.json``).
    overwrite : bool
        Allow a directory that already holds a POSCAR.

    Returns
    -------
    Path
        The directory.

    Raises
    ------
    NasiconSimError
        The directory holds inputs already (without ``overwrite``).
    """
    from nasicon_sim.io.sitemap import SITE_MAP_FILE, site_map_record
    from nasicon_sim.io.write import atomic_write_text

    settings = settings or VaspInputSettings()
    directory = Path(directory)
    if (directory / "POSCAR").exists() and not overwrite:
        raise NasiconSimError(f"{directory} already holds VASP inputs; choose another directory "
                              "or pass --overwrite")
    vis = vasp_input_set(structure, settings)
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's notes on POTCAR availability
        vis.write_input(str(directory), potcar_spec=True)
        symbols = list(vis.potcar_symbols)
        incar = {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                 for k, v in vis.incar.items() if k != "MAGMOM"}
    record = site_map_record(
        structure, source=source,
        vasp={"input_set": settings.input_set, "potcar_symbols": symbols,
              "isif": incar.get("ISIF"), "incar_overrides": dict(settings.incar),
              "reciprocal_density": settings.reciprocal_density},
    )
    import json

    atomic_write_text(directory / SITE_MAP_FILE, json.dumps(record, indent=1) + "\n")
    logger.info("wrote %s inputs (%s) in %s", settings.input_set, " ".join(symbols), directory)
    return directory


def read_vasp_output(path: str | Path, oxidation_states: Mapping[str, float] | None = None) -> Structure:
    """The final structure of a VASP run, with its configuration's site map when known.

    Parameters
    ----------
    path : str or Path
        A run directory (``vasprun.xml``, then ``CONTCAR`` is read) or one of those files,
        or a CIF exported from the run.
    oxidation_states : mapping, optional
        Element -> oxidation state overrides.

    Returns
    -------
    pymatgen Structure
        ``properties["nasicon_sim"]`` holds the configuration's metadata when a
        ``nasicon_sim.json`` lies next to the file, and ``properties["dft"]`` the run's
        final energy and convergence when read from ``vasprun.xml``.

    Raises
    ------
    StructureError
        No output in the directory; a site map whose elements differ from the run's.
    """
    from nasicon_sim.io.read import read_structure

    path = Path(path)
    if path.is_dir():
        found = next((path / n for n in OUTPUT_FILES if (path / n).is_file()), None)
        if found is None:
            raise StructureError(f"{path} holds none of {', '.join(OUTPUT_FILES)}")
        path = found
    return read_structure(path, oxidation_states)
