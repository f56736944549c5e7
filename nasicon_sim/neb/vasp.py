"""VASP NEB inputs for a hop, and finished VASP NEB runs read back into an :class:`NEBResult`.

Inputs: pymatgen's ``CINEBSet`` (climbing image; ``NEBSet`` without it), built on the MP
relax set (PBE, 520 eV, ``ISIF = 2``, ``IBRION = 3``, ``IOPT = 1``...; see pymatgen
``pymatgen/io/vasp/sets.py``) with atoms in the images' order (``sort_structure=False``):
``INCAR``, ``KPOINTS`` and ``POTCAR.spec`` at the top, ``00/POSCAR`` .. ``NN/POSCAR`` with
``NN = images + 1`` (00 and NN are the relaxed end points), and ``nasicon_sim.json``: the
site-map sidecar of :mod:`nasicon_sim.io.sitemap` (elements in POSCAR order) plus ``neb``:
the hop, the moving atom, the number of images and the settings the images came from.
The tree is written into a temporary directory next to the target and renamed into place, so
an interruption leaves nothing half-written.

Reading: every ``NN`` directory must hold ``vasprun.xml`` or ``OUTCAR`` (VASP does not
compute the end points in an NEB run: run them separately and copy their outputs into 00 and
NN). Energies are ASE's (``energy(sigma->0)``); the positions of the last ionic step become
the images. ``converged`` means the largest atomic force of the highest image (the climbing
image) is below ``|EDIFFG|`` of the INCAR (0.05 eV/A when EDIFFG is absent or positive).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim.errors import NasiconSimError, StructureError
from nasicon_sim.neb.hops import Hop
from nasicon_sim.neb.result import NEBResult

if TYPE_CHECKING:
    from ase import Atoms

__all__ = ["read_vasp_neb", "write_vasp_neb_inputs"]

OUTPUTS = ("vasprun.xml", "OUTCAR")


def _structures(images: Sequence[Atoms], oxidation_states: Sequence | None):
    from pymatgen.io.ase import AseAtomsAdaptor

    out = []
    for a in images:
        s = AseAtomsAdaptor.get_structure(a)
        if oxidation_states is not None and all(v is not None for v in oxidation_states):
            s.add_oxidation_state_by_site(list(oxidation_states))
        out.append(s)
    return out


def write_vasp_neb_inputs(
    result: NEBResult,
    directory: str | Path,
    incar: Mapping[str, Any] | None = None,
    reciprocal_density: int | None = None,
    climb: bool = True,
    oxidation_states: Sequence | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a VASP NEB input tree for the images of a hop.

    Parameters
    ----------
    result : NEBResult
        With its images (end points first and last), e.g. from ``compute_hop``.
    directory : str or Path
        Created; must not exist unless ``overwrite``.
    incar : mapping, optional
        INCAR settings overriding the set's (e.g. ``{"NCORE": 4}``).
    reciprocal_density : int, optional
        k-points per reciprocal atom instead of the set's.
    climb : bool
        ``CINEBSet`` (``LCLIMB``) or ``NEBSet``.
    oxidation_states : sequence, optional
        Per atom, recorded in the sidecar.
    overwrite : bool

    Returns
    -------
    Path

    Raises
    ------
    NasiconSimError
        No images, or the directory exists.
    """
    from pymatgen.io.vasp.sets import CINEBSet, NEBSet

    from nasicon_sim.io.atomic import atomic_write_text
    from nasicon_sim.io.sitemap import SITE_MAP_FILE, site_map_record

    images = list(result.images)
    if len(images) < 3:
        raise NasiconSimError(
            f"hop {result.hop.tag} has no band ({result.status}): no VASP NEB inputs written")
    directory = Path(directory)
    if directory.exists() and not overwrite:
        raise NasiconSimError(f"{directory} exists; choose another --vasp-inputs directory")
    structures = _structures(images, oxidation_states)
    cls = CINEBSet if climb else NEBSet
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vis = cls(structures, user_incar_settings=dict(incar or {}),
                  user_kpoints_settings=({"reciprocal_density": reciprocal_density}
                                         if reciprocal_density else None))
        incar_text = str(vis.incar)
        kpoints_text = str(vis.kpoints)
        symbols = list(vis.potcar_symbols)
        poscars = [p.get_str() for p in vis.poscars]
        incar_dict = {k: (v if isinstance(v, (int, float, str, bool)) else str(v))
                      for k, v in vis.incar.items() if k != "MAGMOM"}
    record = site_map_record(structures[0], source=result.source, vasp={
        "input_set": cls.__name__, "potcar_symbols": symbols, "incar": incar_dict,
        "reciprocal_density": reciprocal_density})
    record["neb"] = {"hop": result.hop.as_dict(), "mover": result.mover,
                     "n_images": len(images) - 2, "settings": result.settings,
                     "calculator": result.calculator,
                     "energies_eV": [round(float(e), 6) for e in result.energies_eV]}
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    try:
        atomic_write_text(tmp / "INCAR", incar_text)
        atomic_write_text(tmp / "KPOINTS", kpoints_text)
        atomic_write_text(tmp / "POTCAR.spec", "\n".join(symbols) + "\n")
        for k, text in enumerate(poscars):
            (tmp / f"{k:02d}").mkdir()
            atomic_write_text(tmp / f"{k:02d}" / "POSCAR", text)
        atomic_write_text(tmp / SITE_MAP_FILE, json.dumps(record, indent=1) + "\n")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def _ediffg(directory: Path) -> float:
    path = directory / "INCAR"
    if path.is_file():
        from pymatgen.io.vasp import Incar

        value = Incar.from_file(str(path)).get("EDIFFG")
        if isinstance(value, (int, float)) and value < 0:
            return abs(float(value))
    return 0.05


def read_vasp_neb(directory: str | Path) -> NEBResult:
    """A finished VASP NEB run (written by :func:`write_vasp_neb_inputs`) as an NEBResult.

    Raises
    ------
    NasiconSimError
        No sidecar, a missing image directory or output, or elements that differ from the
        sidecar's.
    """
    from ase.io import read

    from nasicon_sim.io.sitemap import SITE_MAP_FILE, read_site_map

    directory = Path(directory)
    sidecar = directory / SITE_MAP_FILE
    if not sidecar.is_file():
        raise NasiconSimError(f"{directory} has no {SITE_MAP_FILE}: not a nasicon-sim NEB tree")
    record = read_site_map(sidecar)
    neb = record.get("neb")
    if not isinstance(neb, dict):
        raise NasiconSimError(f"{sidecar} describes no NEB (no 'neb' entry)")
    n = int(neb["n_images"]) + 2
    images, energies = [], []
    for k in range(n):
        sub = directory / f"{k:02d}"
        found = next((sub / name for name in OUTPUTS if (sub / name).is_file()), None)
        if found is None:
            hint = (" (VASP does not compute the end points in an NEB run: copy the OUTCAR of "
                    "their own runs there)") if k in (0, n - 1) else ""
            raise NasiconSimError(f"{sub} holds no {' or '.join(OUTPUTS)}{hint}")
        fmt = "vasp-xml" if found.name == "vasprun.xml" else "vasp-out"
        try:
            atoms = read(str(found), index=-1, format=fmt)
            energy = float(atoms.get_potential_energy())
        except Exception as exc:  # a truncated or foreign file
            raise NasiconSimError(f"cannot read {found}: {exc}") from None
        if atoms.get_chemical_symbols() != list(record["elements"]):
            raise StructureError(f"{found}: the atoms differ from the site map in {sidecar}")
        images.append(atoms)
        energies.append(energy)
    prev = images[0]
    for k in range(1, n):  # continuous positions (VASP may wrap)
        from ase.geometry import find_mic

        d, _ = find_mic(images[k].positions - prev.positions, images[k].cell.array, pbc=True)
        images[k].positions = prev.positions + d
        prev = images[k]
    e = np.array(energies)
    top = int(np.argmax(e))
    fmax = float(np.linalg.norm(images[top].get_forces(), axis=1).max())
    converged = bool(fmax <= _ediffg(directory))
    path = [0.0]
    for a, b in zip(images[:-1], images[1:]):
        path.append(path[-1] + float(np.linalg.norm(b.positions - a.positions)))
    mover = neb.get("mover")
    return NEBResult(
        hop=Hop.from_dict(neb["hop"]), status="converged" if converged else "not-converged",
        energies_eV=tuple(float(x) for x in e), path_A=tuple(path), converged=converged,
        n_steps=0, max_force_eV_A=fmax, saddle_image=top,
        saddle_cart_A=None if mover is None else tuple(float(x)
                                                        for x in images[top].positions[mover]),
        mover=mover, calculator=f"vasp ({record.get('vasp', {}).get('input_set', '?')})",
        settings={"vasp": record.get("vasp", {}), "neb_from": neb.get("settings", {})},
        notes=(f"read from {directory}",), source=record.get("source") or "",
        images=tuple(images))
