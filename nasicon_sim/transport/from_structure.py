"""From a structure (or its BVSE result) to a kMC lattice and a transport result.

The kMC sites are the mobile-ion sites of the structure's BVSE migration network, labelled with
their parent Na site when the builder's site map is known; the number of mobile ions is the
structure's own count of the mobile element (partial occupancies summed and rounded); the cell
is repeated to a supercell at least ``min_length_A`` wide (and twice the interaction reach).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nasicon_sim.errors import NasiconSimError, StructureError
from nasicon_sim.transport.energy import PairInteraction
from nasicon_sim.transport.lattice import (
    KMCLattice,
    build_lattice,
    cell_model_from_network,
    supercell_for,
)
from nasicon_sim.transport.simulate import KMCSettings, TransportResult, simulate

__all__ = [
    "lattice_from_bvse",
    "lattice_from_network",
    "lattice_from_structure",
    "network_from_dict",
    "transport",
]

logger = logging.getLogger(__name__)


def _mobile(structure, element: str) -> tuple[int, np.ndarray]:
    amount = 0.0
    frac = []
    for site in structure:
        for sp, occ in site.species.items():
            if sp.symbol == element:
                amount += occ
                if occ >= 0.999:
                    frac.append(site.frac_coords)
    n = int(round(amount))
    if abs(amount - n) > 1e-6:
        raise StructureError(
            f"the structure holds {amount:g} {element} per cell, not a whole number of ions; "
            "make an ordered supercell with `nasicon-sim build`")
    return n, np.array(frac).reshape(-1, 3)


def lattice_from_network(structure, network, settings: KMCSettings | None = None,
                         bvse_settings=None) -> KMCLattice:
    """The kMC lattice of a structure and its migration network.

    Network sites closer than ``settings.blocking_distance_A`` (split minima that can never
    be occupied together) become one kMC site; see
    :func:`nasicon_sim.transport.lattice.cell_model_from_network`.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        The structure the network was computed for (gives the ion count and start).
    network : MigrationNetwork or equivalent
        Anything with ``sites`` and ``links`` carrying the attributes of
        :class:`nasicon_sim.network.Site` / :class:`~nasicon_sim.network.Link` (e.g. the
        stored dicts of a study run wrapped by :func:`network_from_dict`).
    settings : KMCSettings, optional
    bvse_settings : BVSESettings, optional
        Mobile ion and the parameters of the Na-Na term (default: bvlain's).
    """
    from nasicon_sim.bvse.settings import BVSESettings, parse_ion

    s = settings or KMCSettings()
    bs = bvse_settings or BVSESettings(keep_landscape=False)
    element, _ = parse_ion(bs.mobile_ion)
    n_mobile, frac = _mobile(structure, element)
    lattice = np.array(structure.lattice.matrix)
    if n_mobile > len(network.sites):
        raise NasiconSimError(
            f"{n_mobile} {element} ions but only {len(network.sites)} sites in the migration "
            "network (the BVSE merge depth may have merged sites; lower it)")
    # sites closer than the blocking distance exclude each other: one kMC site
    cell = cell_model_from_network(network, lattice, n_mobile,
                                   frac if len(frac) == n_mobile else None,
                                   dict(s.barrier_table) if s.barrier_table else None,
                                   merge_distance_A=s.blocking_distance_A)
    inter = PairInteraction.from_bvse(bs, s.interaction_scale, s.blocking_distance_A,
                                      s.tail_tolerance_eV)
    reach = max(inter.cutoff_A(lattice, cell.frac), s.blocking_distance_A)
    if s.supercell is not None:
        sc = s.supercell
    else:
        sc = supercell_for(lattice, max(s.min_length_A, 2.0 * reach + 1e-6))
    return build_lattice(cell, sc, inter)


def network_from_dict(d: dict):
    """A stored network (``BVSEResult.as_dict()``: its ``sites`` and ``links``) as objects.

    Extra keys (e.g. refined energies added by newer versions) are kept as attributes.
    """
    from types import SimpleNamespace

    sites = tuple(SimpleNamespace(**x) for x in d["sites"])
    links = tuple(SimpleNamespace(**{**x, "translation": tuple(x["translation"])})
                  for x in d["links"])
    return SimpleNamespace(sites=sites, links=links)


def lattice_from_bvse(structure, bvse_result, settings: KMCSettings | None = None,
                      bvse_settings=None) -> KMCLattice:
    """:func:`lattice_from_network` with the network and settings of a BVSE result."""
    return lattice_from_network(structure, bvse_result.network, settings,
                                bvse_settings or bvse_result.settings)


def lattice_from_structure(structure, settings: KMCSettings | None = None, bvse_settings=None,
                           ) -> tuple[KMCLattice, object]:
    """BVSE analysis of a structure, then its kMC lattice; returns (lattice, BVSE result)."""
    from nasicon_sim.bvse import BVSESettings, analyse
    from nasicon_sim.network import ReferenceSites
    from nasicon_sim.structure.supercell import parent_sites_of

    bs = bvse_settings or BVSESettings(keep_landscape=False)
    ref = parent_sites_of(structure, "Na")
    result = analyse(structure, bs, ReferenceSites(*ref) if ref is not None else None)
    return lattice_from_bvse(structure, result, settings, bs), result


def transport(structure, settings: KMCSettings | None = None, bvse_settings=None,
              bvse_result=None, checkpoint: str | Path | None = None,
              progress: Callable[[str], None] | None = None) -> TransportResult:
    """kMC Na+ transport of a structure: conductivity, diffusivities, Haven ratio, Ea.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Oxidation-decorated, ordered framework (builder supercell, relaxed, DFT, CIF).
    settings : KMCSettings, optional
    bvse_settings : BVSESettings, optional
        For the migration network (default: 0.1 A grid, bvlain conventions).
    bvse_result : BVSEResult, optional
        Reuse a stored network instead of recomputing it.
    checkpoint : path, optional
        Keeps finished temperatures (see :func:`nasicon_sim.transport.simulate.simulate`).
    progress : callable, optional

    Returns
    -------
    TransportResult
    """
    s = settings or KMCSettings()
    if bvse_result is None:
        lat, bvse_result = lattice_from_structure(structure, s, bvse_settings)
    else:
        lat = lattice_from_bvse(structure, bvse_result, s, bvse_settings)
    res = simulate(lat, s, checkpoint=checkpoint, progress=progress)
    meta = dict(res.metadata)
    meta.update({"formula": structure.composition.reduced_formula,
                 "n_network_sites": len(bvse_result.network.sites),
                 "bvse_spacing_A": bvse_result.settings.spacing_A,
                 "refined_barriers": any(getattr(lk, "saddle_refined_eV", None) is not None
                                         for lk in bvse_result.network.links)})
    from dataclasses import replace

    return replace(res, metadata=meta)


