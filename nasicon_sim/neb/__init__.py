"""Migration barriers beyond BVSE: nudged elastic band along the network's hops.

Modules: :mod:`~nasicon_sim.neb.hops` (hops of the BVSE network, labels and local
environment), :mod:`~nasicon_sim.neb.endpoints` (initial/final states), :mod:`~nasicon_sim.neb.band`
(settings, batched evaluation, IDPP, CI-NEB), :mod:`~nasicon_sim.neb.workflow` (one call per
hop), :mod:`~nasicon_sim.neb.result` (frozen result and files), :mod:`~nasicon_sim.neb.vasp`
(VASP NEB inputs and finished runs) and :mod:`~nasicon_sim.neb.table` (versioned barrier table
and the barrier model for kinetic Monte Carlo).
"""

from nasicon_sim.neb.band import NEBSettings
from nasicon_sim.neb.endpoints import EndPointError
from nasicon_sim.neb.hops import Hop, UnlinkedSitesError, find_hops, hop_between
from nasicon_sim.neb.result import NEBResult, read_result
from nasicon_sim.neb.workflow import compute_hop, network_of

__all__ = [
    "EndPointError",
    "Hop",
    "NEBResult",
    "NEBSettings",
    "UnlinkedSitesError",
    "compute_hop",
    "find_hops",
    "hop_between",
    "network_of",
    "read_result",
]
