"""Bond-valence site-energy (BVSE) landscapes of mobile ions.

Modules: :mod:`~nasicon_sim.bvse.params` (softBV tables), :mod:`~nasicon_sim.bvse.grid`
(periodic grids), :mod:`~nasicon_sim.bvse.energy` (compiled pair-sum kernels),
:mod:`~nasicon_sim.bvse.cutoff` (cutoffs from a tail bound), :mod:`~nasicon_sim.bvse.landscape`
(structure -> landscape), :mod:`~nasicon_sim.bvse.refine` (continuous minima and saddles),
:mod:`~nasicon_sim.bvse.settings` and :mod:`~nasicon_sim.bvse.analysis` (the one-call
:func:`analyse`). Percolation and the migration network are :mod:`nasicon_sim.percolation` and
:mod:`nasicon_sim.network`.
"""

from nasicon_sim.bvse.analysis import BVSEResult, analyse, analyse_landscape
from nasicon_sim.bvse.landscape import Framework, Landscape, build_framework, compute_landscape
from nasicon_sim.bvse.settings import BVSESettings

__all__ = [
    "BVSEResult",
    "BVSESettings",
    "Framework",
    "Landscape",
    "analyse",
    "analyse_landscape",
    "build_framework",
    "compute_landscape",
]
