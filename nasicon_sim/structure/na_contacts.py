"""Na-Na short contacts: which Na positions cannot be occupied together.

The 16 Na positions per C2/c cell (Na1 4d, Na2 4e, Na3 8f) are partly occupied; two Na+ ions
cannot sit closer than a physical minimum. The threshold :data:`NA_MIN_DISTANCE_A` = 2.5 A
separates the two kinds of contact the reference refinements show:

* **excluded**: in rhombohedral NZSP (Boilot, Collin, Colomban, J. Solid State Chem. 73 (1988)
  160; ``structures/NZSP_R-3c.cif``) the split "mid-Na" 36f positions lie 1.75-1.93 A from
  Na1/Na2 and are refined as alternatives to them, never occupied together;
* **real**: in monoclinic Na3Zr1.5Sc0.5Si1.5P1.5O12 (Subramanian, Rudolf, Clearfield, J. Solid
  State Chem. 60 (1985) 172; ``structures/NaScZrSiPO_C2c_Subramanian1985.cif``) each Na3 has
  one Na1 neighbour at 2.79 A with refined occupancies 0.69 (Na1) and 0.73 (Na3); their sum
  exceeds 1, so such pairs must be occupied together in part of the cells.

Any threshold between 1.93 and 2.79 A separates the two; 2.5 A sits between them, close to
twice the Shannon radius of six-fold Na+ (2 x 1.02 A = 2.04 A) plus a margin. In Hong's
model of NZSP (the parent) the shortest Na-Na distance is 3.52 A (Na1-Na3), so the constraint
never binds there; it binds for other parents, Vegard-shrunk cells or a larger threshold,
and every ordering method enforces it.

Feasibility (can ``n`` Na be placed at all?) is a maximum-independent-set question on the
exclusion graph; it is solved exactly per connected component with networkx
(``max_weight_clique`` of the complement graph).
"""

from __future__ import annotations

import logging

import numpy as np

from nasicon_sim.errors import SublatticeError

logger = logging.getLogger(__name__)

__all__ = [
    "NA_MIN_DISTANCE_A",
    "exclusion_pairs",
    "max_na_placeable",
    "neighbour_lists",
    "valid_placement",
    "violations",
]

#: Two Na closer than this (Angstrom) cannot both be present (see the module docstring).
NA_MIN_DISTANCE_A: float = 2.5
_EXACT_COMPONENT_LIMIT = 40


def exclusion_pairs(
    lattice_matrix: np.ndarray, frac_coords: np.ndarray, min_distance_A: float = NA_MIN_DISTANCE_A
) -> np.ndarray:
    """Pairs of positions closer than ``min_distance_A`` under periodic boundary conditions.

    Parameters
    ----------
    lattice_matrix : (3, 3) array
        Lattice vectors as rows, Angstrom.
    frac_coords : (n, 3) array
        Candidate Na positions, fractional.
    min_distance_A : float
        Threshold, Angstrom (exclusive: a pair at exactly the threshold is allowed).

    Returns
    -------
    (k, 2) int array
        Index pairs ``i < j`` into ``frac_coords``, sorted.

    Raises
    ------
    SublatticeError
        A position is closer than the threshold to its own periodic image (the cell is too
        small for this threshold).
    """
    from pymatgen.core import Lattice, Structure

    frac = np.asarray(frac_coords, dtype=float)
    if len(frac) == 0 or min_distance_A <= 0:
        return np.zeros((0, 2), dtype=int)
    dummy = Structure(Lattice(lattice_matrix), ["Na"] * len(frac), frac)
    centre, neighbour, images, dist = dummy.get_neighbor_list(min_distance_A - 1e-9)
    self_image = centre == neighbour
    if np.any(self_image):
        raise SublatticeError(
            f"Na position {int(centre[self_image][0])} is within {min_distance_A} A of its own "
            "periodic image: the cell is too small for this minimum Na-Na distance"
        )
    pairs = {(int(min(a, b)), int(max(a, b))) for a, b in zip(centre, neighbour)}
    return np.array(sorted(pairs), dtype=int).reshape(-1, 2)


def neighbour_lists(n_positions: int, pairs: np.ndarray) -> list[list[int]]:
    """For each position, the positions it excludes (from :func:`exclusion_pairs`)."""
    out: list[list[int]] = [[] for _ in range(n_positions)]
    for a, b in np.asarray(pairs, dtype=int).reshape(-1, 2):
        out[a].append(int(b))
        out[b].append(int(a))
    return out


def violations(occupied: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Excluded pairs that are both occupied.

    Parameters
    ----------
    occupied : (n,) bool array
        Occupation of the candidate positions.
    pairs : (k, 2) int array

    Returns
    -------
    (m, 2) int array
        The violating pairs (empty when the placement is valid).
    """
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    occ = np.asarray(occupied, dtype=bool)
    return pairs[occ[pairs[:, 0]] & occ[pairs[:, 1]]]


def _components(n_positions: int, pairs: np.ndarray):
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n_positions))
    graph.add_edges_from(map(tuple, np.asarray(pairs, dtype=int).reshape(-1, 2)))
    return graph, [sorted(c) for c in nx.connected_components(graph)]


def _max_independent_set(graph, nodes: list[int]) -> list[int]:
    import networkx as nx

    sub = graph.subgraph(nodes)
    if sub.number_of_edges() == 0:
        return list(nodes)
    if len(nodes) <= _EXACT_COMPONENT_LIMIT:
        clique, _ = nx.max_weight_clique(nx.complement(sub), weight=None)
        return sorted(int(v) for v in clique)
    from networkx.algorithms.approximation import maximum_independent_set

    logger.info("exclusion component of %d positions: approximate independent set", len(nodes))
    return sorted(int(v) for v in maximum_independent_set(sub))


def max_na_placeable(n_positions: int, pairs: np.ndarray) -> int:
    """Largest number of Na that fit on the positions without an excluded pair.

    Exact for connected components of up to 40 positions (networkx maximum clique of the
    complement), a lower bound beyond.
    """
    graph, comps = _components(n_positions, pairs)
    return sum(len(_max_independent_set(graph, c)) for c in comps)


def valid_placement(
    n_positions: int, n_na: int, pairs: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A random placement of ``n_na`` Na respecting the exclusions.

    Without exclusions this is a uniformly random subset. With exclusions, a maximum
    independent set of each component is taken and ``(total - n_na)`` of its members are
    removed at random (a subset of an independent set is independent); callers randomise
    further with constrained swaps.

    Parameters
    ----------
    n_positions : int
    n_na : int
    pairs : (k, 2) int array
    rng : numpy.random.Generator

    Returns
    -------
    (n_positions,) bool array

    Raises
    ------
    SublatticeError
        If ``n_na`` Na cannot be placed (the message gives the maximum).
    """
    occupied = np.zeros(n_positions, dtype=bool)
    if n_na > n_positions:
        raise SublatticeError(f"{n_na} Na for {n_positions} positions: sublattice overfilled")
    pairs = np.asarray(pairs, dtype=int).reshape(-1, 2)
    if len(pairs) == 0:
        occupied[rng.choice(n_positions, size=n_na, replace=False)] = True
        return occupied
    graph, comps = _components(n_positions, pairs)
    chosen = [v for c in comps for v in _max_independent_set(graph, c)]
    if len(chosen) < n_na:
        raise SublatticeError(
            f"cannot place {n_na} Na on {n_positions} positions without two Na closer than the "
            f"minimum Na-Na distance: at most {len(chosen)} fit ({len(pairs)} excluded pairs)"
        )
    keep = rng.choice(len(chosen), size=n_na, replace=False)
    occupied[np.asarray(chosen, dtype=int)[keep]] = True
    return occupied
