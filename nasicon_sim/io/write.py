"""Writers for ordered supercells and ensembles: CIF, POSCAR, extended XYZ, manifest.json.

The site map of ``docs/design.md`` survives on disk as follows:

* **CIF** (pymatgen ``CifWriter``, P1, oxidation states in ``_atom_type_oxidation_number``):
  atom labels ``<parent_label>_<n>`` with ``n`` the 0-based index of the atom in the
  structure; the metadata (``structure.properties["nasicon_sim"]``) as JSON in the data item
  ``_nasicon_sim_metadata``. ``parent_index`` is restored from positions and the supercell
  matrix with :func:`nasicon_sim.structure.supercell.parent_indices_of`.
* **extended XYZ** (ASE): per-atom arrays ``parent_label``, ``wyckoff``, ``sublattice``,
  ``parent_index`` and ``oxi_state``; the metadata as a JSON string in ``info["nasicon_sim"]``
  plus ``ewald_energy_eV`` as a number.
* **POSCAR** (pymatgen ``Poscar``): positions and species only; the comment line names the
  composition and configuration.
* **manifest.json**: the ensemble's description and, per configuration, its files and
  metadata.

Every file is written atomically (temporary file in the same directory, then ``os.replace``),
and :class:`EnsembleWriter` writes each configuration as soon as it is built and rewrites the
manifest after it, so an interrupted build keeps everything finished.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.errors import NasiconSimError, StructureError
from nasicon_sim.io.atomic import atomic_write_text

if TYPE_CHECKING:
    from pymatgen.core import Structure

    from nasicon_sim.structure.ensemble import Configuration

logger = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "MANIFEST_NAME",
    "MANIFEST_VERSION",
    "RESUME_KEYS",
    "EnsembleWriter",
    "atomic_write_text",
    "cif_string",
    "configuration_stem",
    "extxyz_string",
    "poscar_string",
    "write_structure",
]

#: File formats and their extensions.
FORMATS: Mapping[str, str] = {"cif": "cif", "poscar": "vasp", "extxyz": "extxyz"}
#: Name of the ensemble manifest in the output directory.
MANIFEST_NAME = "manifest.json"
#: Version of the manifest layout.
MANIFEST_VERSION = 1
#: Ensemble fields that must agree for :meth:`EnsembleWriter.resume` to continue a build.
RESUME_KEYS: tuple[str, ...] = (
    "requested_composition", "composition", "supercell_matrix", "tetrahedral", "method",
    "seed", "na_min_distance_A", "lattice_scale", "settings",
)
_SITE_ARRAYS = ("parent_label", "wyckoff", "sublattice", "parent_index")


def _metadata(structure: Structure) -> dict[str, Any]:
    return dict(structure.properties.get("nasicon_sim", {}))


def _check_site_map(structure: Structure) -> None:
    missing = [k for k in _SITE_ARRAYS if k not in structure.site_properties]
    if missing:
        raise StructureError(
            f"structure lacks the site properties {', '.join(missing)} of the site-map "
            "contract (build it with nasicon_sim.structure)"
        )


def cif_string(structure: Structure) -> str:
    """CIF text of an ordered supercell: labels ``<parent_label>_<n>``, oxidation states.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered, with the site-map site properties.

    Returns
    -------
    str
    """
    from pymatgen.io.cif import CifWriter

    _check_site_map(structure)
    labelled = structure.copy()
    for n, site in enumerate(labelled):
        site.label = f"{site.properties['parent_label']}_{n}"
    text = str(CifWriter(labelled)).rstrip("\n") + "\n"
    meta = _metadata(structure)
    if meta:
        # a semicolon text field, written by hand so that no line of the JSON is re-wrapped
        body = json.dumps(meta, indent=1, sort_keys=True)
        text += f"_nasicon_sim_metadata\n;\n{body}\n;\n"
    return text


def poscar_string(structure: Structure) -> str:
    """POSCAR text (VASP 5, species line, direct coordinates).

    Parameters
    ----------
    structure : pymatgen Structure

    Returns
    -------
    str
    """
    from pymatgen.core import Structure as _Structure
    from pymatgen.io.vasp import Poscar

    meta = _metadata(structure)
    words = [str(meta.get("composition", structure.composition.formula))]
    for key in ("method", "index", "seed"):
        if key in meta:
            words.append(f"{key} {meta[key]}")
    plain = _Structure(structure.lattice, [site.specie.symbol for site in structure],
                       structure.frac_coords)
    return Poscar(plain, comment=" ".join(" ".join(words).split())).get_str(significant_figures=8)


def extxyz_string(structure: Structure) -> str:
    """Extended XYZ text with per-atom site-map arrays and JSON metadata.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered, with the site-map site properties.

    Returns
    -------
    str
    """
    import io

    from ase import Atoms
    from ase.io import write

    _check_site_map(structure)
    props = structure.site_properties
    atoms = Atoms(
        symbols=[site.specie.symbol for site in structure],
        scaled_positions=structure.frac_coords,
        cell=structure.lattice.matrix,
        pbc=True,
    )
    for key in ("parent_label", "wyckoff", "sublattice"):
        atoms.arrays[key] = np.array([str(v) for v in props[key]])
    atoms.arrays["parent_index"] = np.array(props["parent_index"], dtype=int)
    atoms.arrays["oxi_state"] = np.array(
        [float(getattr(site.specie, "oxi_state", 0) or 0) for site in structure]
    )
    meta = _metadata(structure)
    if meta:
        atoms.info["nasicon_sim"] = json.dumps(meta, sort_keys=True)
        if "ewald_energy_eV" in meta:
            atoms.info["ewald_energy_eV"] = float(meta["ewald_energy_eV"])
    buffer = io.StringIO()
    write(buffer, atoms, format="extxyz")
    return buffer.getvalue()


_WRITERS = {"cif": cif_string, "poscar": poscar_string, "extxyz": extxyz_string}


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    out = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in out if f not in FORMATS]
    if unknown or not out:
        raise NasiconSimError(
            f"unknown output format(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(FORMATS)}"
        )
    return out


def write_structure(structure: Structure, path: str | Path, fmt: str | None = None) -> Path:
    """Write one structure atomically as CIF, POSCAR or extended XYZ.

    Parameters
    ----------
    structure : pymatgen Structure
    path : str or Path
    fmt : {"cif", "poscar", "extxyz"}, optional
        Guessed from the extension (``.cif``, ``.vasp``/``POSCAR``, ``.extxyz``/``.xyz``).

    Returns
    -------
    Path
    """
    path = Path(path)
    if fmt is None:
        suffix = path.suffix.lower()
        fmt = {".cif": "cif", ".vasp": "poscar", ".extxyz": "extxyz", ".xyz": "extxyz"}.get(suffix)
        if fmt is None and path.name.upper().startswith("POSCAR"):
            fmt = "poscar"
        if fmt is None:
            raise NasiconSimError(f"cannot tell the format of {path.name}: give fmt")
    (fmt,) = _check_formats([fmt])
    return atomic_write_text(path, _WRITERS[fmt](structure))


def configuration_stem(index: int) -> str:
    """File stem of configuration ``index`` in an ensemble directory (``conf_000``)."""
    return f"conf_{index:03d}"


class EnsembleWriter:
    """Writes an ensemble into a directory as it is built.

    One file per configuration and format directly in ``directory`` (``conf_000.cif`` ...)
    and ``directory/manifest.json``; each file is written atomically, the manifest is
    rewritten after every configuration with ``status`` ``"running"``, and
    :meth:`finish` / :meth:`abort` set it to ``"complete"`` / ``"interrupted"``.

    Parameters
    ----------
    directory : str or Path
        Created if missing.
    header : mapping
        JSON-able description of the ensemble (stored under ``"ensemble"``).
    formats : iterable of str, default ("cif",)
        Any of ``cif``, ``poscar``, ``extxyz``.
    overwrite : bool, default False
        Allow writing into a directory that already holds a manifest.
    """

    def __init__(
        self,
        directory: str | Path,
        header: Mapping[str, Any],
        formats: Iterable[str] = ("cif",),
        overwrite: bool = False,
        entries: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self.directory = Path(directory)
        self.formats = _check_formats(formats)
        if self.directory.exists() and not self.directory.is_dir():
            raise NasiconSimError(f"output {self.directory} exists and is not a directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        if (self.directory / MANIFEST_NAME).exists() and not overwrite:
            raise NasiconSimError(
                f"{self.directory} already holds an ensemble ({MANIFEST_NAME}); "
                "choose another output directory, or pass --overwrite (start again) or "
                "--resume (continue it)"
            )
        self._header = json.loads(json.dumps(dict(header)))
        self._entries: list[dict[str, Any]] = [json.loads(json.dumps(dict(e))) for e in entries]
        self._status = "running"
        self._write_manifest()

    @classmethod
    def resume(
        cls,
        directory: str | Path,
        header: Mapping[str, Any],
        formats: Iterable[str] = ("cif",),
        keys: Iterable[str] = RESUME_KEYS,
    ) -> EnsembleWriter:
        """Continue an interrupted ensemble in ``directory``.

        The manifest's ensemble description must agree with ``header`` on ``keys``; the
        configurations listed with all their files present (indices 0, 1, ... without gaps)
        are kept, later ones are dropped and rebuilt. :attr:`n_done` says how many.

        Raises
        ------
        NasiconSimError
            No manifest, or one describing a different ensemble.
        """
        directory = Path(directory)
        path = directory / MANIFEST_NAME
        if not path.is_file():
            raise NasiconSimError(f"nothing to resume: {path} does not exist")
        try:
            old = json.loads(path.read_text())
            old_header, old_entries = old["ensemble"], old["configurations"]
        except (ValueError, KeyError, TypeError) as exc:
            raise NasiconSimError(f"{path} is not a nasicon-sim manifest ({exc})") from None
        new = json.loads(json.dumps(dict(header)))
        differ = [k for k in keys if old_header.get(k) != new.get(k)]
        if differ:
            shown = "; ".join(f"{k}: {old_header.get(k)!r} vs {new.get(k)!r}" for k in differ)
            raise NasiconSimError(f"{directory} holds a different ensemble ({shown}): cannot resume")
        formats = _check_formats(formats)
        kept = []
        for k, entry in enumerate(old_entries):
            files = entry.get("files", {})
            if entry.get("index") != k or any(
                f not in files or not (directory / files[f]).is_file() for f in formats
            ):
                break
            kept.append(entry)
        writer = cls(directory, new, formats=formats, overwrite=True, entries=kept)
        logger.info("resuming %s after %d configuration(s)", directory, len(kept))
        return writer

    @property
    def n_done(self) -> int:
        """Configurations written so far (including those of a resumed build)."""
        return len(self._entries)

    @property
    def manifest_path(self) -> Path:
        """Path of ``manifest.json``."""
        return self.directory / MANIFEST_NAME

    def manifest(self) -> dict[str, Any]:
        """The manifest as it stands."""
        return {
            "nasicon_sim_manifest": MANIFEST_VERSION,
            "status": self._status,
            "ensemble": self._header,
            "n_configurations": len(self._entries),
            "configurations": list(self._entries),
        }

    def _write_manifest(self) -> None:
        atomic_write_text(self.manifest_path, json.dumps(self.manifest(), indent=1) + "\n")

    def add(self, configuration: Configuration) -> dict[str, str]:
        """Write one configuration in every format, then update the manifest.

        Returns
        -------
        dict
            Format -> file name (relative to the directory).
        """
        stem = configuration_stem(configuration.index)
        files = {}
        for fmt in self.formats:
            name = f"{stem}.{FORMATS[fmt]}"
            atomic_write_text(self.directory / name, _WRITERS[fmt](configuration.structure))
            files[fmt] = name
        entry = {"index": configuration.index, "files": files, **configuration.metadata()}
        self._entries.append(json.loads(json.dumps(entry)))
        self._write_manifest()
        logger.info("wrote %s", ", ".join(files.values()))
        return files

    def finish(self, summary: Mapping[str, Any] | None = None) -> Path:
        """Mark the manifest complete (merging ``summary`` into the ensemble description)."""
        if summary:
            self._header.update(json.loads(json.dumps(dict(summary))))
        self._status = "complete"
        self._write_manifest()
        return self.manifest_path

    def abort(self, reason: str = "interrupted") -> Path:
        """Mark the manifest as not complete (finished configurations stay listed)."""
        self._status = reason
        self._write_manifest()
        return self.manifest_path
