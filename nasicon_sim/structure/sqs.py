"""Special quasirandom structures (SQS) of a supercell, with icet.

Method: an SQS is the occupation of a finite supercell whose cluster correlations best match
those of the infinite random alloy (Zunger, Wei, Ferreira, Bernard, Phys. Rev. Lett. 65 (1990)
353). icet (Angqvist et al., Adv. Theory Simul. 2 (2019) 1900015) builds the cluster space of
the parent cell (sublattices: Na/vacancy, the M cations, Si/P when mixed; O and ordered Si, P
fixed) and anneals the supercell's occupation towards the random cluster vector with the
objective of van de Walle et al., Calphad 42 (2013) 13
(:func:`icet.tools.structure_generation.generate_sqs_from_supercells`).

icet is an optional dependency (``pip install "nasicon-sim[sqs]"``): it compiles a C++ core
and pulls numba, which the other methods do not need. icet does not know the Na short-contact
constraint; an SQS that breaks it is rejected with a clear error (with Hong's parent and the
default 2.5 A threshold no pair is that close, so this does not happen there).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from nasicon_sim.errors import OptionalDependencyError, StructureError, SublatticeError
from nasicon_sim.structure.na_contacts import violations
from nasicon_sim.structure.parent import load_reference
from nasicon_sim.structure.sites import SupercellSites

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_CUTOFFS_A", "sqs_objective", "sqs_occupation"]

#: Cluster-space cutoffs (pairs, triplets ...) in Angstrom: pairs up to 6 A cover the
#: first Na-Na (3.5-3.9 A), Na-M and M-M (about 5-6 A) shells of the parent.
DEFAULT_CUTOFFS_A: tuple[float, ...] = (6.0,)


def _import_icet():
    try:
        import icet  # noqa: F401
        from icet.tools import structure_generation
    except ImportError:
        raise OptionalDependencyError(
            "method 'sqs' needs icet: pip install \"nasicon-sim[sqs]\" (or pip install icet)"
        ) from None
    return structure_generation


def _allowed_symbols(sites: SupercellSites) -> list[list[str]]:
    """Allowed species of each parent site (icet's chemical_symbols)."""
    parent = load_reference(sites.choice.parent)
    by_parent: dict[int, set[str]] = {}
    for k in range(sites.n_positions):
        by_parent.setdefault(int(sites.parent_index[k]), set())
    for g in sites.groups:
        for k in g.indices:
            by_parent[int(sites.parent_index[k])].update(g.species)
    for k in np.flatnonzero(sites.fixed != ""):
        by_parent[int(sites.parent_index[k])].add(str(sites.fixed[k]))
    return [sorted(by_parent[i]) for i in range(len(parent))]


def _atoms(lattice_matrix, frac_coords, symbols):
    from ase import Atoms

    return Atoms(symbols=list(symbols), scaled_positions=frac_coords, cell=lattice_matrix, pbc=True)


def _cluster_space(sites: SupercellSites, cutoffs: Sequence[float]):
    from icet import ClusterSpace

    parent = load_reference(sites.choice.parent)
    allowed = _allowed_symbols(sites)
    scale = sites.lattice_scale
    prim = _atoms(parent.lattice.matrix * scale, parent.frac_coords, [a[0] for a in allowed])
    return ClusterSpace(prim, cutoffs=list(cutoffs), chemical_symbols=allowed)


def _target_concentrations(sites: SupercellSites, cs) -> dict[str, dict[str, float]]:
    sublattices = cs.get_sublattices(cs.primitive_structure)
    target: dict[str, dict[str, float]] = {}
    for sl in sublattices:
        symbols = set(sl.chemical_symbols)
        if len(symbols) < 2:
            continue
        group = next((g for g in sites.groups if set(g.species) == symbols), None)
        if group is None:  # pragma: no cover - groups and sublattices come from the same sets
            raise StructureError(f"no ordered group for icet sublattice {sorted(symbols)}")
        n = len(group.species)
        target[sl.symbol] = {sp: c / n for sp, c in group.counts().items()}
    return target


def sqs_occupation(
    sites: SupercellSites,
    start: np.ndarray,
    rng: np.random.Generator,
    *,
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS_A,
    n_steps: int | None = None,
) -> np.ndarray:
    """An SQS occupation of the supercell (icet), starting from ``start``.

    Parameters
    ----------
    sites : SupercellSites
    start : (N,) str array
        A valid occupation with the supercell's site counts (e.g. a random one).
    rng : numpy.random.Generator
        Source of icet's random seed.
    cutoffs : sequence of float, default (6.0,)
        Cluster-space cutoffs in Angstrom (pairs, triplets, ...).
    n_steps : int, optional
        Annealing steps; default ``max(3000, 20 * ordered positions)``.

    Returns
    -------
    (N,) str array

    Raises
    ------
    OptionalDependencyError
        icet is not installed.
    SublatticeError
        The SQS puts two Na closer than the minimum Na-Na distance.
    """
    generation = _import_icet()
    if not sites.groups:
        return np.asarray(start).astype(str)
    cs = _cluster_space(sites, cutoffs)
    target = _target_concentrations(sites, cs)
    supercell = _atoms(sites.lattice_matrix, sites.frac_coords, start)
    n_ordered = sum(len(g.indices) for g in sites.groups)
    steps = int(n_steps) if n_steps is not None else max(3000, 20 * n_ordered)
    seed = int(rng.integers(0, 2**31 - 1))
    sqs = generation.generate_sqs_from_supercells(
        cs, [supercell], target, n_steps=steps, random_seed=seed, random_start=False
    )
    delta = sqs.get_scaled_positions() - sites.frac_coords
    delta -= np.round(delta)
    if np.abs(delta).max() > 1e-6:  # pragma: no cover - icet keeps the atom order
        raise StructureError("icet returned the SQS with its atoms reordered")
    occupation = np.array(sqs.get_chemical_symbols(), dtype="<U3")
    if len(sites.na_pairs):
        bad = violations(occupation == "Na", sites.na_pairs)
        if len(bad):
            raise SublatticeError(
                f"the SQS puts {len(bad)} Na pair(s) closer than {sites.na_min_distance_A} A; "
                "icet cannot enforce the Na short-contact rule: use method 'ewald' or 'random'"
            )
    for g in sites.groups:  # icet keeps concentrations; check anyway
        if sorted(occupation[g.indices]) != sorted(g.species):  # pragma: no cover
            raise StructureError(f"icet changed the {g.name} site counts")
    return occupation


def sqs_objective(
    sites: SupercellSites, occupation: np.ndarray, cutoffs: Sequence[float] = DEFAULT_CUTOFFS_A
) -> float:
    """icet's SQS objective of an occupation (0 = cluster vector of the random alloy).

    Parameters
    ----------
    sites : SupercellSites
    occupation : (N,) str array
    cutoffs : sequence of float

    Returns
    -------
    float
        :func:`mchammer.calculators.compare_cluster_vectors` between the occupation's cluster
        vector and the random one (lower = closer to random).
    """
    generation = _import_icet()
    from mchammer.calculators import compare_cluster_vectors

    cs = _cluster_space(sites, cutoffs)
    target = _target_concentrations(sites, cs)
    random_cv = generation._get_sqs_cluster_vector(cs, target)
    cv = cs.get_cluster_vector(_atoms(sites.lattice_matrix, sites.frac_coords, occupation))
    return float(compare_cluster_vectors(cv, random_cv, cs.as_list))
