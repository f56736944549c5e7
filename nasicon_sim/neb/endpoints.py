"""End points of a hop: the ion on site i with site j empty, and the ion moved to j.

Rules (each change is written into ``notes``):

* The moving ion is the one on site i (an ion of the mobile element within ``site_tol_A`` =
  1.0 A of the site). If i is empty and j is occupied, the ion on j is moved to i (the same
  hop walked the other way); if both are empty, the nearest ion is moved to i.
* Site j, and every other site within ``clearance_A`` (default 2.2 A) of i, j or the BVSE
  saddle, is emptied: its ion is moved to the vacant candidate site (parent Na sites and
  network minima) nearest to it that is at least ``clearance_A`` from the path and from every
  other ion; when there is none, the ion is removed (the cell then has one ion less).
* Final state: the initial one with the moving ion displaced by (site j image - site i).
  Positions are kept continuous (unwrapped) for the interpolation.

After relaxation, :func:`check_sites` requires the moving ion on its site and every other ion
on the site it started from: within ``site_tol_A`` (1.0 A), or up to 2.0 A away when no
other candidate site is nearer; :class:`EndPointError` says which atom left and how far.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.errors import NasiconSimError

if TYPE_CHECKING:
    from ase import Atoms
    from pymatgen.core import Structure

    from nasicon_sim.neb.hops import Hop

__all__ = ["EndPointError", "EndPoints", "check_sites", "make_end_points"]

SITE_TOL_A = 1.0
CLEARANCE_A = 2.2


class EndPointError(NasiconSimError):
    """An end point whose relaxation moved an ion to another site."""


@dataclass(frozen=True)
class EndPoints:
    """Unrelaxed end points of a hop.

    Attributes
    ----------
    initial, final : Atoms
        Same atoms and order; only the moving ion differs.
    mover : int
        Atom index of the moving ion.
    start_cart_A, saddle_cart_A, end_cart_A : (3,) arrays
        Ideal site i, BVSE saddle and site j positions on the path (unwrapped), A.
    notes : tuple of str
        Every ion moved or removed to make the end points.
    removed : tuple of int
        Indices (in the input structure) of removed ions.
    """

    initial: Atoms = field(repr=False)
    final: Atoms = field(repr=False)
    mover: int
    start_cart_A: np.ndarray = field(repr=False)
    saddle_cart_A: np.ndarray = field(repr=False)
    end_cart_A: np.ndarray = field(repr=False)
    notes: tuple[str, ...]
    removed: tuple[int, ...] = ()


def _mic(cell: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    from ase.geometry import find_mic

    v, _ = find_mic(np.asarray(vectors, float).reshape(-1, 3), cell, pbc=True)
    return v


def _dist(cell, a, b) -> np.ndarray:
    """Minimum-image distances from points ``a`` (n, 3) to ``b`` (3,), A."""
    return np.linalg.norm(_mic(cell, np.atleast_2d(a) - np.asarray(b)), axis=1)


def make_end_points(structure: Structure, hop: Hop, candidates_frac: np.ndarray | None = None,
                    mobile: str = "Na", site_tol_A: float = SITE_TOL_A,
                    clearance_A: float = CLEARANCE_A) -> EndPoints:
    """Initial and final states of a hop (unrelaxed).

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered, the cell the hop was found in.
    hop : Hop
    candidates_frac : (m, 3) array, optional
        Sites an ion in the way may be moved to (parent Na sites, network minima).
    mobile : str
    site_tol_A, clearance_A : float

    Returns
    -------
    EndPoints

    Raises
    ------
    NasiconSimError
        No ion of the mobile element in the structure.
    """
    from nasicon_sim.relax import _to_atoms

    atoms = _to_atoms(structure)
    cell = np.array(atoms.cell.array)
    start, saddle, end = hop.cart_path_A(cell)
    symbols = np.array(atoms.get_chemical_symbols())
    ions = [int(k) for k in np.flatnonzero(symbols == mobile)]
    if not ions:
        raise NasiconSimError(f"the structure has no {mobile}: nothing can hop")
    notes: list[str] = []
    pos = atoms.positions

    def on(point) -> int | None:
        d = _dist(cell, pos[ions], point)
        k = int(np.argmin(d))
        return ions[k] if d[k] <= site_tol_A else None

    at_i, at_j = on(start), on(end)
    if at_i is None:
        if at_j is not None:
            mover = at_j
            notes.append(f"site {hop.site_i} ({hop.labels[0]}) was empty: moved {mobile} atom "
                         f"{mover} there from site {hop.site_j} ({hop.labels[1]})")
        else:
            d = _dist(cell, pos[ions], start)
            mover = ions[int(np.argmin(d))]
            notes.append(f"site {hop.site_i} ({hop.labels[0]}) was empty: moved the nearest "
                         f"{mobile}, atom {mover} ({d.min():.2f} A away), there")
        atoms.positions[mover] = start
    else:
        mover = at_i
    # ions in the way: on site j, or closer than the clearance to the path
    blocking = []
    for k in ions:
        if k == mover:
            continue
        dmin = min(_dist(cell, pos[k], p)[0] for p in (start, saddle, end))
        if dmin < clearance_A or k == at_j:
            blocking.append((k, dmin))
    removed: list[int] = []
    cand = np.zeros((0, 3)) if candidates_frac is None else \
        np.asarray(candidates_frac, float).reshape(-1, 3) @ cell
    for k, dmin in blocking:
        others = [x for x in ions if x != k and x not in removed]
        ok = []
        for c in cand:
            if min(_dist(cell, np.array([start, saddle, end]), c)) < clearance_A:
                continue
            if others and _dist(cell, atoms.positions[others], c).min() < clearance_A:
                continue
            ok.append(c)
        what = (f"on site {hop.site_j} ({hop.labels[1]})" if k == at_j
                else f"{dmin:.2f} A from the path")
        if ok:
            ok = np.array(ok)
            d = _dist(cell, ok, atoms.positions[k])
            target = ok[int(np.argmin(d))]
            atoms.positions[k] = target
            notes.append(f"moved {mobile} atom {k} ({what}) {d.min():.2f} A to a vacant site "
                         "away from the path")
        else:
            removed.append(k)
            notes.append(f"removed {mobile} atom {k} ({what}): no vacant site away from the "
                         "path; the cell has one ion less")
    if removed:
        keep = [x for x in range(len(atoms)) if x not in removed]
        mover = keep.index(mover)
        atoms = atoms[keep]
    initial = atoms.copy()
    final = atoms.copy()
    final.positions[mover] = initial.positions[mover] + (end - start)
    return EndPoints(initial=initial, final=final, mover=mover, start_cart_A=start,
                     saddle_cart_A=saddle, end_cart_A=end, notes=tuple(notes),
                     removed=tuple(removed))


def check_sites(before: Atoms, after: Atoms, mover: int, site_cart_A: np.ndarray,
                which: str, mobile: str = "Na", site_tol_A: float = SITE_TOL_A,
                candidates_cart_A: np.ndarray | None = None, max_shift_A: float = 2.0) -> None:
    """Raise :class:`EndPointError` when a relaxed end point has an ion off its site.

    An ion stays on its site when it is within ``site_tol_A`` of it, or (with candidate sites
    given) when no other candidate site is nearer and it moved less than ``max_shift_A``:
    NASICON's Na2/Na3 sites are broad, and a neighbour's vacancy pulls an ion off centre
    without making it hop.

    Parameters
    ----------
    before, after : Atoms
        End point before and after relaxation (same order).
    mover : int
    site_cart_A : (3,) array
        Where the moving ion belongs.
    which : str
        ``"initial"`` or ``"final"`` (named in the message).
    candidates_cart_A : (m, 3) array, optional
        All sites an ion could sit on (parent sites, network minima).
    """
    cell = np.array(after.cell.array)
    symbols = np.array(after.get_chemical_symbols())
    cands = None if candidates_cart_A is None else np.asarray(candidates_cart_A, float)

    def left(k: int, own: np.ndarray) -> str | None:
        d = _dist(cell, after.positions[k], own)[0]
        if d <= site_tol_A:
            return None
        if cands is not None and len(cands) and d <= max_shift_A:
            dc = _dist(cell, cands, after.positions[k])
            same = _dist(cell, cands, own) < 0.5
            if not np.any(dc[~same] < d):  # no other site is nearer: still on its own
                return None
            return (f"relaxed {d:.2f} A away from its site, nearer another site "
                    f"({dc[~same].min():.2f} A)")
        return f"relaxed {d:.2f} A away from its site (tolerance {site_tol_A} A)"

    why = left(mover, np.asarray(site_cart_A, float))
    if why:
        raise EndPointError(
            f"the {which} end point is not stable: the moving {mobile} (atom {mover}) {why}")
    for k in np.flatnonzero(symbols == mobile):
        if k == mover:
            continue
        why = left(int(k), before.positions[k])
        if why:
            raise EndPointError(f"the {which} end point is not stable: {mobile} atom {k} {why}")
