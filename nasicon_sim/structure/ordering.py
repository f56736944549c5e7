"""Orderings of a supercell's sublattices: seeded random occupation and Ewald annealing.

``random``: each ordered group (Na/vacancy, M cations, Si/P when mixed) gets a uniformly
random permutation of its species from a seeded :class:`numpy.random.Generator`. When Na
positions exclude each other (:mod:`~nasicon_sim.structure.na_contacts`) the Na group starts
from a valid placement and is randomised by constrained swaps at infinite temperature.

``ewald``: simulated annealing (Kirkpatrick, Gelatt, Vecchi, Science 220 (1983) 671) of the
Ewald energy ``E = q^T A q`` (:mod:`~nasicon_sim.structure.ewald`) by Metropolis Monte Carlo
swaps within each group: M-M species swaps, Na occupied-vacant swaps (rejected if they
break a Na short contact) and Si/P swaps, each trial a uniformly random pair of unlike
positions (:class:`SwapProposer`). The energy change of a trial swap costs O(1) and
an accepted swap updates the potential ``phi = A q`` in O(N), so hundreds of sites are cheap.
Schedule (:class:`AnnealSchedule`): ``n_sweeps`` sweeps of ``n_ordered`` trial swaps each,
with ``kT`` falling geometrically from ``kT_start_eV`` to ``kT_end_eV``; the lowest-energy
occupation visited is returned. Defaults, from the table printed by
``benchmarks/scan_anneal_schedule.py`` on the ME1 4-cell supercell (328 atoms):
``kT_start_eV`` = 1 eV, below the median |dE| of a random charge-changing swap (2.34 eV with
formal charges); ``kT_end_eV`` = 0.01 eV, far below any such swap, so the end is a quench;
300 sweeps (0.07 s per run there). Starting temperatures of 0.3-10 eV and 50-1000 sweeps all
end between -13660.0 and -13660.9 eV per supercell on average (1000 sweeps gain about 0.4 eV
for 3.5 times the work), against -13635 +- 8 eV for random orderings: the low-energy
orderings are many and nearly degenerate, which is what an ensemble should sample. Swaps of
equal charges (Zr4+/Ti4+) never change ``E`` and are always accepted: Ewald ordering leaves
them random.
"""

from __future__ import annotations

import bisect
import logging
import math
from dataclasses import dataclass

import numpy as np

from nasicon_sim.errors import StructureError
from nasicon_sim.structure.ewald import ewald_energy
from nasicon_sim.structure.na_contacts import neighbour_lists, valid_placement, violations
from nasicon_sim.structure.sites import SupercellSites, charges_of
from nasicon_sim.structure.supercell import VACANCY

logger = logging.getLogger(__name__)

__all__ = [
    "AnnealResult",
    "AnnealSchedule",
    "SwapProposer",
    "anneal_occupation",
    "random_occupation",
]

_CONSTRAINED_RANDOM_SWEEPS = 20


@dataclass(frozen=True)
class AnnealSchedule:
    """Annealing schedule of the Ewald Monte Carlo.

    Attributes
    ----------
    kT_start_eV : float, default 1.0
        Initial temperature (energy units), eV.
    kT_end_eV : float, default 0.01
        Final temperature, eV.
    n_sweeps : int, default 300
        Number of sweeps; one sweep = as many trial swaps as ordered positions.
    """

    kT_start_eV: float = 1.0
    kT_end_eV: float = 0.01
    n_sweeps: int = 300

    def __post_init__(self) -> None:
        if not (self.kT_start_eV > 0 and self.kT_end_eV > 0):
            raise StructureError("annealing temperatures must be positive")
        if self.kT_end_eV > self.kT_start_eV:
            raise StructureError("kT_end_eV must not exceed kT_start_eV")
        if int(self.n_sweeps) != self.n_sweeps or self.n_sweeps < 1:
            raise StructureError(f"n_sweeps must be a positive integer, got {self.n_sweeps!r}")

    def temperatures(self) -> np.ndarray:
        """kT of each sweep, eV (geometric from start to end)."""
        return np.geomspace(self.kT_start_eV, self.kT_end_eV, int(self.n_sweeps))

    def as_dict(self) -> dict:
        """JSON-able parameters."""
        return {"kT_start_eV": self.kT_start_eV, "kT_end_eV": self.kT_end_eV,
                "n_sweeps": int(self.n_sweeps)}


class SwapProposer:
    """Uniformly random pairs of positions of one group that hold different species.

    A species pair (a, b) is drawn with probability n_a n_b / sum, then one position of each:
    every unordered pair of unlike positions is equally likely, so the proposal is symmetric
    (Metropolis detailed balance) and never wasted on like pairs, even with few vacancies.

    Parameters
    ----------
    indices : (n,) int array
        Positions of the group.
    occupation : (N,) array
        Current species per position.
    """

    def __init__(self, indices: np.ndarray, occupation: np.ndarray) -> None:
        species = sorted({str(occupation[k]) for k in indices})
        self._lists = {sp: [int(k) for k in indices if occupation[k] == sp] for sp in species}
        self._pairs = [(a, b) for n, a in enumerate(species) for b in species[n + 1:]]
        weights = np.array([len(self._lists[a]) * len(self._lists[b]) for a, b in self._pairs], float)
        self._cumulative = (np.cumsum(weights) / weights.sum()).tolist()

    def propose(self, u_pair: float, u_i: float, u_j: float) -> tuple[int, int, tuple]:
        """Positions ``i``, ``j`` from three uniform numbers in [0, 1), and a move token."""
        p = min(bisect.bisect_right(self._cumulative, u_pair), len(self._pairs) - 1)
        a, b = self._pairs[p]
        la, lb = self._lists[a], self._lists[b]
        ia, jb = int(u_i * len(la)), int(u_j * len(lb))
        return la[ia], lb[jb], (a, b, ia, jb)

    def accept(self, move: tuple) -> None:
        """Record that the proposed swap was made."""
        a, b, ia, jb = move
        la, lb = self._lists[a], self._lists[b]
        la[ia], lb[jb] = lb[jb], la[ia]


@dataclass(frozen=True, eq=False)
class AnnealResult:
    """Outcome of :func:`anneal_occupation`.

    Attributes
    ----------
    occupation : (N,) str array
        Lowest-energy occupation visited.
    energy_eV : float
        Its Ewald energy, recomputed as ``q^T A q``.
    accepted : int
        Accepted swaps that changed charges.
    trials : int
        Trial swaps.
    """

    occupation: np.ndarray
    energy_eV: float
    accepted: int
    trials: int


def _start(sites: SupercellSites, rng: np.random.Generator) -> np.ndarray:
    occupation = sites.fixed.astype(object)
    for g in sites.groups:
        if g.name == "Na" and len(sites.na_pairs):
            na_idx = sites.na_indices()
            pos = {int(v): k for k, v in enumerate(na_idx)}
            local = np.array([[pos[a], pos[b]] for a, b in sites.na_pairs], dtype=int)
            n_na = sum(1 for sp in g.species if sp == "Na")
            occupied = valid_placement(len(na_idx), n_na, local, rng)
            occupation[na_idx] = np.where(occupied, "Na", VACANCY)
        else:
            occupation[g.indices] = rng.permutation(np.array(g.species, dtype=object))
    return occupation


def _na_blocked(sites: SupercellSites) -> list[list[int]] | None:
    if not len(sites.na_pairs):
        return None
    return neighbour_lists(sites.n_positions, sites.na_pairs)


def _check(sites: SupercellSites, occupation: np.ndarray) -> None:
    if len(sites.na_pairs):
        bad = violations(occupation == "Na", sites.na_pairs)
        if len(bad):  # pragma: no cover - a bug, not a user error
            raise AssertionError(f"Na short contact left in an ordering: {bad[:3].tolist()}")


def _swap_allowed(occupation, blocked, i: int, j: int) -> bool:
    """Moving Na from i to j (or j to i) must not create a short contact."""
    if blocked is None:
        return True
    if occupation[i] == "Na" and occupation[j] == VACANCY:
        src, dst = i, j
    elif occupation[j] == "Na" and occupation[i] == VACANCY:
        src, dst = j, i
    else:
        return True
    return all(k == src or occupation[k] != "Na" for k in blocked[dst])


def _constrained_shuffle(sites, occupation, rng, blocked) -> None:
    """Infinite-temperature Na/vacancy swaps that keep the short-contact constraint."""
    g = sites.group("Na")
    if g is None or blocked is None:
        return
    idx = g.indices
    n = len(idx) * _CONSTRAINED_RANDOM_SWEEPS
    picks = rng.integers(0, len(idx), size=(n, 2))
    for a, b in picks:
        i, j = int(idx[a]), int(idx[b])
        if occupation[i] != occupation[j] and _swap_allowed(occupation, blocked, i, j):
            occupation[i], occupation[j] = occupation[j], occupation[i]


def random_occupation(sites: SupercellSites, rng: np.random.Generator) -> np.ndarray:
    """A seeded random occupation of every ordered group.

    Parameters
    ----------
    sites : SupercellSites
    rng : numpy.random.Generator

    Returns
    -------
    (N,) str array
        One species symbol per position (``"X"`` = vacant Na position).
    """
    occupation = _start(sites, rng)
    _constrained_shuffle(sites, occupation, rng, _na_blocked(sites))
    _check(sites, occupation)
    return occupation.astype(str)


def anneal_occupation(
    sites: SupercellSites,
    matrix: np.ndarray,
    rng: np.random.Generator,
    schedule: AnnealSchedule | None = None,
    start: np.ndarray | None = None,
) -> AnnealResult:
    """Low-Ewald-energy occupation by simulated annealing of swaps within groups.

    Parameters
    ----------
    sites : SupercellSites
    matrix : (N, N) array
        Unit-charge Ewald matrix of ``sites`` (:func:`~nasicon_sim.structure.ewald.ewald_matrix`).
    rng : numpy.random.Generator
    schedule : AnnealSchedule, optional
        Defaults to ``AnnealSchedule()``.
    start : (N,) str array, optional
        Initial occupation (default: :func:`random_occupation` from ``rng``).

    Returns
    -------
    AnnealResult
    """
    schedule = schedule or AnnealSchedule()
    n = sites.n_positions
    if matrix.shape != (n, n):
        raise StructureError(f"Ewald matrix has shape {matrix.shape}, expected ({n}, {n})")
    occupation = (random_occupation(sites, rng) if start is None else np.asarray(start)).astype(object)
    q = charges_of(sites, occupation.astype(str))
    phi = matrix @ q
    diag = np.diag(matrix).copy()
    energy = float(q @ phi)
    best_energy, best = energy, occupation.copy()
    blocked = _na_blocked(sites)
    if not sites.groups:
        return AnnealResult(occupation.astype(str), ewald_energy(matrix, q), 0, 0)
    proposers = [SwapProposer(g.indices, occupation) for g in sites.groups]
    sizes = np.array([len(g.indices) for g in sites.groups], dtype=float)
    weights = sizes / sizes.sum()
    n_ordered = int(sizes.sum())
    accepted = trials = 0
    for kT in schedule.temperatures():
        beta = 1.0 / float(kT)
        which = rng.choice(len(proposers), size=n_ordered, p=weights)
        draws = rng.random((n_ordered, 4))
        for t in range(n_ordered):
            proposer = proposers[which[t]]
            i, j, move = proposer.propose(draws[t, 0], draws[t, 1], draws[t, 2])
            trials += 1
            if blocked is not None and not _swap_allowed(occupation, blocked, i, j):
                continue
            d = q[i] - q[j]
            if d == 0.0:
                occupation[i], occupation[j] = occupation[j], occupation[i]
                proposer.accept(move)
                continue
            delta = 2.0 * d * (phi[j] - phi[i]) + d * d * (diag[i] + diag[j] - 2.0 * matrix[i, j])
            if delta > 0.0 and draws[t, 3] >= math.exp(-delta * beta):
                continue
            occupation[i], occupation[j] = occupation[j], occupation[i]
            proposer.accept(move)
            q[i], q[j] = q[j], q[i]
            phi += d * (matrix[:, j] - matrix[:, i])
            energy += delta
            accepted += 1
            if energy < best_energy - 1e-9:
                best_energy, best = energy, occupation.copy()
    best = best.astype(str)
    _check(sites, best)
    exact = ewald_energy(matrix, charges_of(sites, best))
    if abs(exact - best_energy) > 1e-6 * max(1.0, abs(exact)):  # pragma: no cover - a bug
        raise AssertionError(f"incremental energy drifted: {best_energy} vs {exact}")
    logger.debug("anneal: %d/%d swaps accepted, E = %.4f eV", accepted, trials, exact)
    return AnnealResult(best, exact, accepted, trials)
