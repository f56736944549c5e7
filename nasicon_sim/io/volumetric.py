"""Volumetric files of periodic grids: Gaussian cube and VESTA general grid (.grd).

Both hold a *periodic* grid: point (i, j, k) sits at fractional (i/n1, j/n2, k/n3), the
planes at 1 are not repeated (VESTA and cube readers add them).

* ``.cube``: written by :func:`ase.io.cube.write_cube` (Bohr, voxel vectors a_i / n_i, data in
  C order: last index fastest). Values are in eV.
* ``.grd``: VESTA's "general" text format: a title line, ``a b c alpha beta gamma``
  (Angstrom, degrees), ``n1 n2 n3``, then one value per line, the last index fastest
  (``order="C"``), as bvlain's ``write_grd`` writes the files its users open in VESTA.
  We found no VESTA documentation of the order and could not run VESTA here; if a non-cubic
  landscape looks scrambled in VESTA, write it with ``order="F"`` (first index fastest).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.errors import NasiconSimError

if TYPE_CHECKING:
    from nasicon_sim.bvse.landscape import Landscape

__all__ = ["landscape_atoms", "read_grd", "write_cube", "write_grd"]


def landscape_atoms(landscape: Landscape, mobile_frac: np.ndarray | None = None):
    """ASE Atoms of a landscape's framework (plus mobile-ion sites, if given) for cube files."""
    from ase import Atoms
    from ase.data import atomic_numbers

    fw = landscape.framework
    symbols = [sp.rstrip("+-0123456789") for sp in fw.species]
    frac = np.asarray(fw.frac)
    if mobile_frac is not None and len(mobile_frac):
        symbols += [fw.mobile_element] * len(mobile_frac)
        frac = np.vstack([frac, np.asarray(mobile_frac, dtype=float)])
    numbers = [atomic_numbers[s] for s in symbols]
    return Atoms(numbers=numbers, scaled_positions=frac, cell=fw.lattice, pbc=True)


def write_cube(path: str | Path, landscape: Landscape,
               mobile_frac: np.ndarray | None = None) -> Path:
    """Write the landscape (eV) as a Gaussian cube file with the framework atoms.

    Parameters
    ----------
    path : str or Path
    landscape : Landscape
    mobile_frac : array (n, 3), optional
        Mobile-ion positions to include as atoms (e.g. the structure's Na sites).
    """
    from ase.io.cube import write_cube as _ase_write_cube

    path = Path(path)
    atoms = landscape_atoms(landscape, mobile_frac)
    comment = (f"BVSE site energy (eV) of {landscape.framework.mobile_element} from nasicon-sim; "
               f"grid {'x'.join(map(str, landscape.shape))}")
    with path.open("w") as fh:
        _ase_write_cube(fh, atoms, data=np.asarray(landscape.energies_eV), comment=comment)
    return path


def write_grd(path: str | Path, landscape: Landscape, order: str = "C",
              title: str | None = None) -> Path:
    """Write the landscape (eV) as a VESTA general grid file.

    Parameters
    ----------
    path : str or Path
    landscape : Landscape
    order : {"C", "F"}
        "C": last index fastest (default, bvlain's order); "F": first index fastest.
    title : str, optional
    """
    from ase.geometry import cell_to_cellpar

    if order not in ("F", "C"):
        raise NasiconSimError(f"order must be 'F' or 'C', got {order!r}")
    path = Path(path)
    data = np.asarray(landscape.energies_eV)
    cellpar = cell_to_cellpar(np.asarray(landscape.lattice))
    title = title or f"BVSE site energy (eV) of {landscape.framework.mobile_element}, nasicon-sim"
    with path.open("w") as fh:
        fh.write(title.replace("\n", " ") + "\n")
        fh.write(" ".join(f"{p:.6f}" for p in cellpar) + "\n")
        fh.write(" ".join(str(n) for n in data.shape) + "\n")
        np.savetxt(fh, data.ravel(order=order), fmt="%.6e")
    return path


def read_grd(path: str | Path, order: str = "C") -> tuple[np.ndarray, np.ndarray, str]:
    """Read a file written by :func:`write_grd`: (data (n1, n2, n3), cellpar (6,), title)."""
    path = Path(path)
    with path.open() as fh:
        title = fh.readline().rstrip("\n")
        cellpar = np.array(fh.readline().split(), dtype=float)
        shape = tuple(int(x) for x in fh.readline().split())
        values = np.loadtxt(fh)
    if len(shape) != 3 or values.size != int(np.prod(shape)) or cellpar.size != 6:
        raise NasiconSimError(f"{path} is not a well-formed .grd file")
    return values.reshape(shape, order=order), cellpar, title
