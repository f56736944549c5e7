"""Kinetic Monte Carlo Na+ transport on the BVSE migration network.

Stages: :mod:`~nasicon_sim.transport.lattice` (sites, hops, supercell),
:mod:`~nasicon_sim.transport.energy` (Na-Na pair terms), :mod:`~nasicon_sim.transport.kernel`
(compiled Metropolis and BKL kMC), :mod:`~nasicon_sim.transport.simulate` (observables, errors,
Arrhenius fit), :mod:`~nasicon_sim.transport.from_structure` (one call from a structure).
"""

from nasicon_sim.transport.energy import PairInteraction
from nasicon_sim.transport.from_structure import (
    lattice_from_bvse,
    lattice_from_network,
    lattice_from_structure,
    network_from_dict,
    transport,
)
from nasicon_sim.transport.lattice import (
    CellModel,
    KMCLattice,
    build_lattice,
    cell_model_from_network,
    cubic_cell,
    supercell_for,
)
from nasicon_sim.transport.simulate import (
    ArrheniusFit,
    KMCSettings,
    TemperaturePoint,
    TransportResult,
    arrhenius_fit,
    simulate,
)

__all__ = [
    "ArrheniusFit",
    "CellModel",
    "KMCLattice",
    "KMCSettings",
    "PairInteraction",
    "TemperaturePoint",
    "TransportResult",
    "arrhenius_fit",
    "build_lattice",
    "cell_model_from_network",
    "cubic_cell",
    "lattice_from_bvse",
    "lattice_from_network",
    "lattice_from_structure",
    "network_from_dict",
    "simulate",
    "supercell_for",
    "transport",
]
