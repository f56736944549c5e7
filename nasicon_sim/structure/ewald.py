"""Electrostatic (Ewald) energy of occupations of a fixed set of positions.

Method: the Ewald sum (P. P. Ewald, Ann. Phys. 369 (1921) 253) of formal point charges is a
quadratic form in the charges, ``E(q) = q^T A q``, where ``A`` depends on the positions only.
``A`` is computed once per supercell with unit charges on every candidate position (occupied
or vacant) by pymatgen's :class:`~pymatgen.analysis.ewald.EwaldSummation` (real + reciprocal
+ point-self terms, its ``total_energy_matrix``), the approach of pymatgen's
``EwaldMinimizer`` / ``OrderDisorderedStructureTransformation`` and of the "supercell"
program (Okhotnikov, Charpentier, Cadars, J. Cheminform. 8 (2016) 17). For neutral ``q`` the
result is independent of the Ewald splitting parameter and the neutralising background term
vanishes, so ``E`` equals pymatgen's total energy of the ordered structure (tested).

Swapping the charges of positions ``i`` and ``j`` changes the energy by
``dE = 2 d (phi_j - phi_i) + d^2 (A_ii + A_jj - 2 A_ij)`` with ``d = q_i - q_j`` and
``phi = A q``: O(1) per trial swap, O(N) to update ``phi`` after an accepted swap
(:mod:`~nasicon_sim.structure.ordering`).
"""

from __future__ import annotations

import numpy as np

from nasicon_sim.errors import StructureError

__all__ = ["ewald_energy", "ewald_matrix", "swap_delta"]


def ewald_matrix(lattice_matrix: np.ndarray, frac_coords: np.ndarray) -> np.ndarray:
    """Unit-charge Ewald interaction matrix of a set of positions, eV.

    Parameters
    ----------
    lattice_matrix : (3, 3) array
        Lattice vectors as rows, Angstrom.
    frac_coords : (N, 3) array
        Fractional coordinates of all candidate positions.

    Returns
    -------
    (N, N) float array
        Symmetric ``A`` with ``E(q) = q @ A @ q`` (eV) for charges ``q`` in e summing to 0.
    """
    import warnings

    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Lattice, Species, Structure

    frac = np.asarray(frac_coords, dtype=float)
    if frac.ndim != 2 or frac.shape[1] != 3 or len(frac) == 0:
        raise StructureError(f"positions must be an (N, 3) array, got shape {frac.shape}")
    unit = Structure(Lattice(lattice_matrix), [Species("Na", 1)] * len(frac), frac)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "structure is charged": irrelevant for the matrix
        matrix = EwaldSummation(unit).total_energy_matrix
    return 0.5 * (matrix + matrix.T)


def ewald_energy(matrix: np.ndarray, charges: np.ndarray) -> float:
    """Ewald energy ``q^T A q`` of neutral charges, eV.

    Parameters
    ----------
    matrix : (N, N) array
        From :func:`ewald_matrix`.
    charges : (N,) array
        Charge of each position in e (0 for vacancies); must sum to 0.

    Returns
    -------
    float

    Raises
    ------
    StructureError
        If the charges are not neutral (the Ewald energy of a charged cell is not defined
        without a background term).
    """
    q = np.asarray(charges, dtype=float)
    if abs(q.sum()) > 1e-6:
        raise StructureError(f"charges sum to {q.sum():+.6f} e: the Ewald energy needs neutrality")
    return float(q @ matrix @ q)


def swap_delta(matrix: np.ndarray, phi: np.ndarray, charges: np.ndarray, i: int, j: int) -> float:
    """Energy change (eV) of swapping the charges at positions ``i`` and ``j``.

    Parameters
    ----------
    matrix : (N, N) array
    phi : (N,) array
        ``matrix @ charges``.
    charges : (N,) array
    i, j : int

    Returns
    -------
    float
    """
    d = charges[i] - charges[j]
    return float(2.0 * d * (phi[j] - phi[i]) + d * d * (matrix[i, i] + matrix[j, j] - 2.0 * matrix[i, j]))
