"""The cation environment of a mobile-ion site: which framework cations sit closest to it.

A BVSE barrier is measured from the landscape's global minimum, so one unusually deep site
(a trap) raises every barrier of its configuration even when the channels, and the energy
level at which they percolate, are unchanged. Naming the cations next to the deepest site
tells a user whether a composition's higher barrier comes from such a trap (e.g. next to an
M3+ cation with a small covalent radius, whose screened repulsion is short-ranged) or from
narrower channels. Distances are minimum-image
distances in the periodic cell (pymatgen ``Lattice.get_all_distances``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["nearest_cations", "neighbour_key"]


def nearest_cations(
    lattice: np.ndarray,
    site_frac: Sequence[float],
    atom_frac: np.ndarray,
    symbols: Sequence[str],
    elements: Sequence[str],
    n: int = 2,
) -> tuple[tuple[str, float], ...]:
    """The ``n`` atoms of the given elements nearest to a site, nearest first.

    Parameters
    ----------
    lattice : numpy.ndarray (3, 3)
        Cell vectors as rows (Angstrom).
    site_frac : sequence of 3 floats
        Fractional position of the site.
    atom_frac : numpy.ndarray (m, 3)
        Fractional positions of the atoms.
    symbols : sequence of str, length m
        Element of each atom.
    elements : sequence of str
        The elements that count (e.g. the M-site cations of the composition).
    n : int
        How many neighbours to return.

    Returns
    -------
    tuple of (str, float)
        ``(element, distance_A)`` pairs; fewer than ``n`` when the cell holds fewer atoms of
        those elements.

    Examples
    --------
    >>> import numpy as np
    >>> nearest_cations(np.eye(3) * 10, [0.0, 0.0, 0.0],
    ...                 np.array([[0.95, 0.0, 0.0], [0.5, 0.5, 0.5], [0.0, 0.2, 0.0]]),
    ...                 ["Ga", "Zr", "Ti"], ["Ga", "Ti"])
    (('Ga', 0.5), ('Ti', 2.0))
    """
    from pymatgen.core import Lattice

    symbols = np.asarray(list(symbols))
    mask = np.isin(symbols, list(elements))
    if not mask.any():
        return ()
    frac = np.asarray(atom_frac, dtype=float).reshape(-1, 3)[mask]
    d = Lattice(np.asarray(lattice, dtype=float)).get_all_distances(
        np.asarray(site_frac, dtype=float).reshape(1, 3), frac)[0]
    order = np.argsort(d, kind="stable")[:n]
    return tuple((str(symbols[mask][i]), round(float(d[i]), 3)) for i in order)


def neighbour_key(neighbours: Sequence[tuple[str, float]]) -> str:
    """A count key for an environment: the elements sorted and joined, e.g. ``"Ga-Ti"``.

    >>> neighbour_key((("Ti", 3.4), ("Ga", 3.3)))
    'Ga-Ti'
    """
    return "-".join(sorted(el for el, _ in neighbours)) or "none"
