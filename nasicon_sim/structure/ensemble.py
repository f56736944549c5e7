"""Ensembles of ordered supercells of a disordered NASICON composition.

:func:`build_ensemble` is the public entry point (the CLI ``nasicon-sim build`` and the study
runner call it): choose a supercell (:mod:`~nasicon_sim.structure.supercell`), list its
positions (:mod:`~nasicon_sim.structure.sites`), compute the unit-charge Ewald matrix once
(:mod:`~nasicon_sim.structure.ewald`), then draw N configurations with one of the methods

* ``random``: seeded random occupation of each sublattice;
* ``ewald``: low-Ewald-energy orderings by annealed swaps (:mod:`~nasicon_sim.structure.ordering`);
* ``sqs``: special quasirandom structures with icet (:mod:`~nasicon_sim.structure.sqs`).

Reproducibility: configuration ``k`` draws from ``numpy.random.SeedSequence(seed,
spawn_key=(k,))``, the ``k``-th child of ``SeedSequence(seed).spawn``; the same seed gives
the same structures, and each configuration can be rebuilt alone from ``(seed, spawn_key)``.

Deduplication (optional): symmetry-equivalent orderings have equal Ewald energies, so a new
configuration is compared with pymatgen's ``StructureMatcher`` only against kept ones whose
energy agrees within 1e-6 relative; duplicates are dropped and drawing continues until N
unique configurations or ``max_attempts`` draws (default 10 N), whichever comes first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from nasicon_sim import __version__
from nasicon_sim.composition import NasiconComposition, parse_nasicon
from nasicon_sim.errors import StructureError
from nasicon_sim.structure.ewald import ewald_energy, ewald_matrix
from nasicon_sim.structure.na_contacts import NA_MIN_DISTANCE_A
from nasicon_sim.structure.ordering import AnnealSchedule, anneal_occupation, random_occupation
from nasicon_sim.structure.parent import PARENT_NAME
from nasicon_sim.structure.sites import (
    SupercellSites,
    charges_of,
    structure_from_occupation,
    supercell_sites,
)
from nasicon_sim.structure.sqs import DEFAULT_CUTOFFS_A
from nasicon_sim.structure.supercell import (
    DEFAULT_MAX_ATOMS,
    DEFAULT_MAX_DEVIATION,
    MIXED_PARENT_NAME,
    SupercellChoice,
    choose_supercell,
    supercell_matrix_from_string,
)
from nasicon_sim.structure.vegard import vegard_scale

if TYPE_CHECKING:
    from pymatgen.core import Structure

logger = logging.getLogger(__name__)

__all__ = [
    "METHODS",
    "BuildPlan",
    "Configuration",
    "Ensemble",
    "build_ensemble",
    "make_configuration",
    "method_settings",
    "prepare_build",
]

#: Ordering methods.
METHODS: tuple[str, ...] = ("random", "ewald", "sqs")
_ENERGY_RTOL = 1e-6


@dataclass(frozen=True, eq=False)
class Configuration:
    """One ordered supercell of an ensemble.

    Attributes
    ----------
    structure : pymatgen Structure
        Ordered, oxidation-state decorated, with the site map of ``docs/design.md`` (site
        properties ``sublattice``, ``parent_label``, ``wyckoff``, ``parent_index``) and
        ``structure.properties["nasicon_sim"]`` = :meth:`metadata`. Treat as read-only
        (copy before modifying).
    composition : NasiconComposition
        The requested composition.
    realised_composition : NasiconComposition
        The composition the structure holds (differs only when rounding was needed).
    deviation : Mapping[str, float]
        realised - requested amount per formula unit, per element.
    supercell_matrix : tuple of tuples of int
        Rows = supercell vectors in parent lattice vectors.
    method : str
        ``random``, ``ewald`` or ``sqs``.
    seed : int
        Ensemble seed (the entropy of the ``SeedSequence``).
    spawn_key : tuple of int
        ``SeedSequence(seed, spawn_key=spawn_key)`` rebuilds this configuration.
    index : int
        Position in the ensemble (0-based, after deduplication).
    ewald_energy_eV : float
        Ewald energy of the supercell with formal charges, eV.
    """

    structure: Structure = field(repr=False)
    composition: NasiconComposition
    realised_composition: NasiconComposition
    deviation: Mapping[str, float]
    supercell_matrix: tuple[tuple[int, ...], ...]
    method: str
    seed: int
    spawn_key: tuple[int, ...]
    index: int
    ewald_energy_eV: float

    @property
    def n_atoms(self) -> int:
        """Atoms in the supercell."""
        return len(self.structure)

    @property
    def ewald_energy_per_atom_eV(self) -> float:
        """Ewald energy per atom, eV."""
        return self.ewald_energy_eV / len(self.structure)

    @property
    def site_map(self) -> dict[str, np.ndarray]:
        """Per-atom ``sublattice``, ``parent_label``, ``wyckoff`` (str) and ``parent_index`` (int)."""
        props = self.structure.site_properties
        return {
            "sublattice": np.array(props["sublattice"]),
            "parent_label": np.array(props["parent_label"]),
            "wyckoff": np.array(props["wyckoff"]),
            "parent_index": np.array(props["parent_index"], dtype=int),
        }

    def metadata(self) -> dict[str, Any]:
        """JSON-able metadata (``structure.properties["nasicon_sim"]``)."""
        return dict(self.structure.properties["nasicon_sim"])


@dataclass(frozen=True, eq=False)
class Ensemble:
    """N configurations of one composition, with how they were drawn.

    Attributes
    ----------
    configurations : tuple of Configuration
    choice : SupercellChoice
        The supercell and its site counts (requested vs realised composition).
    method : str
    seed : int
    n_requested : int
        N asked for; ``len(configurations)`` is smaller when deduplication ran out of
        attempts, or when the build resumed at ``start`` (then it holds ``start .. n-1``).
    n_attempts : int
        Configurations drawn.
    n_duplicates : int
        Draws dropped as symmetry duplicates.
    settings : Mapping[str, Any]
        The build parameters (JSON-able).
    """

    configurations: tuple[Configuration, ...]
    choice: SupercellChoice
    method: str
    seed: int
    n_requested: int
    n_attempts: int
    n_duplicates: int
    settings: Mapping[str, Any]

    def __len__(self) -> int:
        return len(self.configurations)

    def __iter__(self):
        return iter(self.configurations)

    def __getitem__(self, k: int) -> Configuration:
        return self.configurations[k]

    @property
    def ewald_energies_eV(self) -> np.ndarray:
        """Ewald energy of each configuration, eV per supercell."""
        return np.array([c.ewald_energy_eV for c in self.configurations])

    def summary(self) -> dict[str, Any]:
        """JSON-able description of the ensemble (without per-configuration entries)."""
        return {
            "nasicon_sim_version": __version__,
            **self.choice.as_dict(),
            "method": self.method,
            "seed": self.seed,
            "n_requested": self.n_requested,
            "n_configurations": len(self.configurations),
            "n_attempts": self.n_attempts,
            "n_duplicates_dropped": self.n_duplicates,
            "settings": dict(self.settings),
        }


@dataclass(frozen=True, eq=False)
class BuildPlan:
    """Everything shared by the configurations of one ensemble (computed once).

    Attributes
    ----------
    choice : SupercellChoice
    sites : SupercellSites
    ewald_matrix : (N, N) float array
        Unit-charge Ewald matrix of all positions, eV.
    vegard : bool
        Whether the lattice was Vegard-scaled (factor in ``sites.lattice_scale``).
    """

    choice: SupercellChoice
    sites: SupercellSites
    ewald_matrix: np.ndarray
    vegard: bool

    def base_metadata(self) -> dict[str, Any]:
        """Metadata common to all configurations of the plan."""
        c = self.choice
        lattice = self.sites.lattice_matrix
        return {
            "parent": c.parent,
            "tetrahedral": c.tetrahedral,
            **({"disorder_reference": MIXED_PARENT_NAME}
               if c.tetrahedral == "mixed" and c.parent == PARENT_NAME else {}),
            "supercell_matrix": [list(row) for row in c.matrix],
            "n_cells": c.n_cells,
            "composition": c.realised.formula,
            "requested_composition": c.requested.formula,
            "exact": c.exact,
            "deviation_per_fu": {k: round(v, 12) for k, v in c.deviation.items()},
            "na_min_distance_A": self.sites.na_min_distance_A,
            "vegard": self.vegard,
            "lattice_scale": self.sites.lattice_scale,
            "cell_abc_A": [float(x) for x in np.linalg.norm(lattice, axis=1)],
            "nasicon_sim_version": __version__,
        }


def _as_composition(composition: NasiconComposition | str) -> NasiconComposition:
    if isinstance(composition, NasiconComposition):
        return composition
    if isinstance(composition, str):
        return parse_nasicon(composition)
    raise StructureError(
        f"composition must be a formula string or a NasiconComposition, got {type(composition).__name__}"
    )


def prepare_build(
    composition: NasiconComposition | str,
    *,
    supercell: str | Sequence[Sequence[int]] | np.ndarray | None = None,
    n_cells: int | None = None,
    min_atoms: int = 0,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    max_deviation: float = DEFAULT_MAX_DEVIATION,
    mix_tetrahedral: bool | None = None,
    vegard: bool = False,
    na_min_distance_A: float = NA_MIN_DISTANCE_A,
    parent: str | None = None,
) -> BuildPlan:
    """Choose the supercell, list its positions and compute its Ewald matrix.

    Parameters are those of :func:`build_ensemble`.

    Returns
    -------
    BuildPlan
    """
    comp = _as_composition(composition)
    matrix = supercell_matrix_from_string(supercell) if isinstance(supercell, str) else supercell
    choice = choose_supercell(
        comp, matrix=matrix, n_cells=n_cells, min_atoms=min_atoms, max_atoms=max_atoms,
        max_deviation=max_deviation, mix_tetrahedral=mix_tetrahedral, parent=parent,
    )
    scale = vegard_scale(choice.realised) if vegard else 1.0
    sites = supercell_sites(choice, na_min_distance_A=na_min_distance_A, lattice_scale=scale)
    matrix_eV = ewald_matrix(sites.lattice_matrix, sites.frac_coords)
    if vegard:
        logger.info("Vegard scale %.5f: cell %s A", scale,
                    np.round(np.linalg.norm(sites.lattice_matrix, axis=1), 4).tolist())
    return BuildPlan(choice=choice, sites=sites, ewald_matrix=matrix_eV, vegard=bool(vegard))


def make_configuration(
    plan: BuildPlan,
    method: str,
    seed: int,
    spawn_key: tuple[int, ...],
    index: int = 0,
    *,
    schedule: AnnealSchedule | None = None,
    sqs_cutoffs: Sequence[float] = DEFAULT_CUTOFFS_A,
    sqs_steps: int | None = None,
) -> Configuration:
    """Draw one configuration of a plan.

    Parameters
    ----------
    plan : BuildPlan
    method : {"random", "ewald", "sqs"}
    seed : int
        Ensemble seed.
    spawn_key : tuple of int
        Child key of ``SeedSequence(seed)``.
    index : int
        Index recorded in the metadata.
    schedule : AnnealSchedule, optional
        For ``ewald``.
    sqs_cutoffs, sqs_steps
        For ``sqs`` (see :func:`~nasicon_sim.structure.sqs.sqs_occupation`).

    Returns
    -------
    Configuration
    """
    if method not in METHODS:
        raise StructureError(f"unknown ordering method {method!r}; choose one of {', '.join(METHODS)}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(spawn_key)))
    sites = plan.sites
    extra: dict[str, Any] = {}
    if method == "random":
        occupation = random_occupation(sites, rng)
    elif method == "ewald":
        schedule = schedule or AnnealSchedule()
        result = anneal_occupation(sites, plan.ewald_matrix, rng, schedule)
        occupation = result.occupation
        extra["anneal"] = {**schedule.as_dict(), "accepted": result.accepted, "trials": result.trials}
    else:
        from nasicon_sim.structure.sqs import sqs_occupation

        start = random_occupation(sites, rng)
        occupation = sqs_occupation(sites, start, rng, cutoffs=sqs_cutoffs, n_steps=sqs_steps)
        extra["sqs"] = {"cutoffs_A": [float(c) for c in sqs_cutoffs], "n_steps": sqs_steps}
    energy = ewald_energy(plan.ewald_matrix, charges_of(sites, occupation))
    n_atoms = int(np.sum(occupation != "X"))
    metadata = {
        **plan.base_metadata(),
        "method": method,
        "seed": int(seed),
        "spawn_key": [int(k) for k in spawn_key],
        "index": int(index),
        "n_atoms": n_atoms,
        "ewald_energy_eV": energy,
        "ewald_energy_per_atom_eV": energy / n_atoms,
        **extra,
    }
    structure = structure_from_occupation(sites, occupation, metadata)
    c = plan.choice
    return Configuration(
        structure=structure,
        composition=c.requested,
        realised_composition=c.realised,
        deviation=dict(c.deviation),
        supercell_matrix=c.matrix,
        method=method,
        seed=int(seed),
        spawn_key=tuple(int(k) for k in spawn_key),
        index=int(index),
        ewald_energy_eV=energy,
    )


def method_settings(
    method: str,
    schedule: AnnealSchedule | None = None,
    sqs_cutoffs: Sequence[float] = DEFAULT_CUTOFFS_A,
    sqs_steps: int | None = None,
) -> dict[str, Any]:
    """The method's own parameters, JSON-able (annealing schedule or SQS settings)."""
    if method == "ewald":
        return {"anneal": (schedule or AnnealSchedule()).as_dict()}
    if method == "sqs":
        return {"sqs": {"cutoffs_A": [float(c) for c in sqs_cutoffs], "n_steps": sqs_steps}}
    return {}


def _reindexed(config: Configuration, index: int) -> Configuration:
    if config.index == index:
        return config
    structure = config.structure.copy()
    structure.properties["nasicon_sim"] = {**config.metadata(), "index": index}
    return Configuration(**{**config.__dict__, "structure": structure, "index": index})


def _is_duplicate(new: Configuration, kept: Sequence[Configuration], matcher) -> bool:
    for old in kept:
        e1, e2 = new.ewald_energy_eV, old.ewald_energy_eV
        if abs(e1 - e2) > _ENERGY_RTOL * max(1.0, abs(e1)):
            continue
        if matcher.fit(new.structure, old.structure):
            return True
    return False


def build_ensemble(
    composition: NasiconComposition | str,
    n: int = 10,
    seed: int | None = 0,
    method: str = "ewald",
    supercell: str | Sequence[Sequence[int]] | np.ndarray | None = None,
    *,
    n_cells: int | None = None,
    min_atoms: int = 0,
    max_atoms: int = DEFAULT_MAX_ATOMS,
    max_deviation: float = DEFAULT_MAX_DEVIATION,
    mix_tetrahedral: bool | None = None,
    vegard: bool = False,
    na_min_distance_A: float = NA_MIN_DISTANCE_A,
    dedup: bool = False,
    max_attempts: int | None = None,
    schedule: AnnealSchedule | None = None,
    sqs_cutoffs: Sequence[float] = DEFAULT_CUTOFFS_A,
    sqs_steps: int | None = None,
    callback: Callable[[Configuration], None] | None = None,
    plan: BuildPlan | None = None,
    start: int = 0,
    parent: str | None = None,
) -> Ensemble:
    """Build N ordered supercells of a (disordered) NASICON composition.

    Parameters
    ----------
    composition : NasiconComposition or str
        E.g. ``"Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"``.
    n : int, default 10
        Number of configurations.
    seed : int or None, default 0
        Ensemble seed; ``None`` draws fresh entropy (recorded, so still reproducible).
    method : {"ewald", "random", "sqs"}, default "ewald"
    supercell : str or (3, 3) int array-like, optional
        ``"1x2x2"``, nine integers, or a matrix (rows in parent lattice vectors);
        chosen automatically when omitted.
    n_cells : int, optional
        Number of parent cells when choosing the matrix automatically.
    min_atoms, max_atoms : int
        Size window of the automatic choice (default 0 and 500 atoms).
    max_deviation : float, default 0.05
        Largest accepted rounding of an amount per formula unit (see
        :func:`~nasicon_sim.structure.supercell.choose_supercell`).
    mix_tetrahedral : bool or None
        Si/P mixing (``None``: only when the T site is not Si2P).
    parent : {"C2/c", "R-3c", "auto"} or None
        Parent cell; chosen by composition when None (see
        :func:`~nasicon_sim.structure.supercell.choose_parent`).
    vegard : bool, default False
        Scale the cell with the mean M-site radius (:mod:`~nasicon_sim.structure.vegard`).
    na_min_distance_A : float, default 2.5
        Minimum Na-Na distance (:mod:`~nasicon_sim.structure.na_contacts`).
    dedup : bool, default False
        Drop symmetry-equivalent configurations (pymatgen ``StructureMatcher``).
    max_attempts : int, optional
        Cap on draws when deduplicating (default ``10 * n``).
    schedule : AnnealSchedule, optional
        Annealing schedule of ``ewald``.
    sqs_cutoffs, sqs_steps
        Cluster-space cutoffs (Angstrom) and annealing steps of ``sqs``.
    callback : callable, optional
        Called with each configuration as soon as it is accepted (incremental writing).
    plan : BuildPlan, optional
        A plan from :func:`prepare_build` to reuse (the size arguments are then ignored).
    start : int, default 0
        Resume an interrupted build: configurations ``0 .. start-1`` exist already and only
        ``start .. n-1`` are drawn (and returned); each is identical to what an uninterrupted
        build makes. Not with ``dedup``.

    Returns
    -------
    Ensemble

    Raises
    ------
    NasiconSimError
        Bad composition, no supercell within the limits, overfilled sublattice, Na that
        cannot be placed, unknown method, or icet missing for ``sqs``.

    Examples
    --------
    >>> ens = build_ensemble("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", n=2, seed=1, method="random")
    >>> len(ens), ens[0].n_atoms, ens[0].metadata()["supercell_matrix"]
    (2, 82, [[1, 0, 1], [0, 1, 0], [0, 0, 1]])
    """
    if method not in METHODS:
        raise StructureError(f"unknown ordering method {method!r}; choose one of {', '.join(METHODS)}")
    if int(n) != n or n < 1:
        raise StructureError(f"the number of configurations must be a positive integer, got {n!r}")
    n = int(n)
    if method == "sqs":
        from nasicon_sim.structure.sqs import _import_icet

        _import_icet()  # fail before any work when icet is missing
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)
    if int(seed) != seed or seed < 0:
        raise StructureError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if plan is None:
        plan = prepare_build(
            composition, supercell=supercell, n_cells=n_cells, min_atoms=min_atoms,
            max_atoms=max_atoms, max_deviation=max_deviation, mix_tetrahedral=mix_tetrahedral,
            parent=parent,
            vegard=vegard, na_min_distance_A=na_min_distance_A,
        )
    attempts_cap = n if not dedup else (int(max_attempts) if max_attempts else 10 * n)
    if attempts_cap < n:
        raise StructureError(f"max_attempts {attempts_cap} is smaller than n = {n}")
    if int(start) != start or not 0 <= start <= n:
        raise StructureError(f"start must be an integer from 0 to n = {n}, got {start!r}")
    if start and dedup:
        raise StructureError("resuming a build (start > 0) is not supported with dedup")
    start = int(start)
    matcher = None
    if dedup:
        from pymatgen.analysis.structure_matcher import StructureMatcher

        matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False)
    kept: list[Configuration] = []
    duplicates = 0
    attempts = start
    while start + len(kept) < n and attempts < attempts_cap:
        index = start + len(kept)
        config = make_configuration(
            plan, method, seed, (attempts,), index=index, schedule=schedule,
            sqs_cutoffs=sqs_cutoffs, sqs_steps=sqs_steps,
        )
        attempts += 1
        if matcher is not None and _is_duplicate(config, kept, matcher):
            duplicates += 1
            logger.info("draw %d is a symmetry duplicate: dropped", attempts - 1)
            continue
        config = _reindexed(config, index)
        kept.append(config)
        logger.info("configuration %d/%d: E_ewald = %.4f eV", index + 1, n, config.ewald_energy_eV)
        if callback is not None:
            callback(config)
    if start + len(kept) < n:
        logger.warning(
            "only %d unique configurations of %d requested after %d draws (%d duplicates)",
            len(kept), n, attempts, duplicates,
        )
    settings = method_settings(method, schedule, sqs_cutoffs, sqs_steps)
    settings.update({
        "na_min_distance_A": plan.sites.na_min_distance_A,
        "vegard": plan.vegard,
        "lattice_scale": plan.sites.lattice_scale,
        "dedup": bool(dedup),
        "max_attempts": attempts_cap,
        "start": start,
    })
    return Ensemble(
        configurations=tuple(kept),
        choice=plan.choice,
        method=method,
        seed=seed,
        n_requested=n,
        n_attempts=attempts,
        n_duplicates=duplicates,
        settings=settings,
    )
