"""One call from a structure to BVSE barriers, sites and paths: :func:`analyse`.

Stages (each a public function a user may also call alone): landscape
(:func:`nasicon_sim.bvse.landscape.compute_landscape`), percolation thresholds
(:func:`nasicon_sim.percolation.percolation_thresholds`), migration network
(:func:`nasicon_sim.network.migration_network`), refinement of every site minimum and of every
link saddle within ``refine_window_eV`` of the grid 3D threshold
(:func:`nasicon_sim.bvse.refine.refine_network`).

Barriers are reported twice:

* ``E_1D_eV``, ``E_2D_eV``, ``E_3D_eV``: percolation energies of the grid landscape minus its
  minimum; exact for that grid (no bisection), the quantity bvlain computes;
* ``E_1D_refined_eV`` ...: the same periodic union-find run on the refined (continuous) link
  saddles of the network, minus the continuous global minimum. Refining every link, not only
  the critical grid saddle, matters when saddles are near-degenerate: which one is critical on
  a grid changes with the grid. The refined values do not depend on the grid within a few meV
  from 0.4 to 0.15 Angstrom (tests/test_bvse_refined_network.py), and E_1D <= E_2D <= E_3D
  always (None where the critical link's refinement did not converge).
  ``metadata["refinement"]["warning"]`` says when grid and refined differ by more than
  ``grid_tolerance_eV``.

:func:`analyse` is safe to call from worker processes (pass ``threads=1`` in the settings to
avoid nested parallelism); its result is frozen, cheap to pickle without the landscape, and
``as_dict()`` is JSON-able.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.bvse.landscape import Landscape, compute_landscape
from nasicon_sim.bvse.refine import NetworkRefinement, RefinedPoint, refine_network
from nasicon_sim.bvse.settings import BVSESettings, parse_ion
from nasicon_sim.network import (
    MigrationNetwork,
    ReferenceSites,
    migration_network,
    reference_sites_from_structure,
)
from nasicon_sim.percolation import PercolationResult, percolation_thresholds, sort_order

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = ["BVSEResult", "analyse", "analyse_landscape"]

logger = logging.getLogger(__name__)


def _round(x: float | None, nd: int = 6) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


@dataclass(frozen=True)
class BVSEResult:
    """Result of :func:`analyse`.

    Attributes
    ----------
    settings : BVSESettings
    formula : str
        Reduced formula of the input structure.
    n_atoms : int
        Sites in the input structure.
    grid_shape : tuple of 3 ints
    grid_spacings_A : tuple of 3 floats
        Actual spacing along each lattice vector.
    percolation : PercolationResult
        Grid thresholds (absolute energies) and critical points.
    refined_minimum : RefinedPoint
        The continuous global minimum.
    refined_saddles : tuple of RefinedPoint
        The refined saddles of the critical links of the refined 1D, 2D, 3D thresholds.
    network : MigrationNetwork
    metadata : dict
        Parameter versions, cutoffs, oxidation-state source, timings (JSON-able).
    landscape : Landscape or None
        The grid (only with ``settings.keep_landscape``).
    refined_thresholds_eV : tuple of 3 (float or None), optional
        Refined E_1D, E_2D, E_3D from the whole refined network (see
        :attr:`refined_barriers_eV`).
    """

    settings: BVSESettings
    formula: str
    n_atoms: int
    grid_shape: tuple[int, int, int]
    grid_spacings_A: tuple[float, float, float]
    percolation: PercolationResult
    refined_minimum: RefinedPoint
    refined_saddles: tuple[RefinedPoint, ...]
    network: MigrationNetwork
    metadata: dict = field(default_factory=dict)
    landscape: Landscape | None = field(default=None, compare=False, repr=False)
    refined_thresholds_eV: tuple[float | None, float | None, float | None] | None = None

    @property
    def barriers_eV(self) -> tuple[float, float, float]:
        """Grid percolation barriers E_1D, E_2D, E_3D (eV)."""
        return self.percolation.barriers_eV

    @property
    def refined_barriers_eV(self) -> tuple[float | None, float | None, float | None]:
        """Refined barriers E_1D, E_2D, E_3D (eV); None where a refinement failed.

        From the periodic union-find over the refined link saddles of the whole network
        (:func:`nasicon_sim.bvse.refine.refine_network`), so E_1D <= E_2D <= E_3D.
        """
        if self.refined_thresholds_eV is not None:
            return tuple(self.refined_thresholds_eV)
        if not self.refined_minimum.converged:
            return (None, None, None)
        return tuple(s.energy_eV - self.refined_minimum.energy_eV if s.converged else None
                     for s in self.refined_saddles)

    @property
    def n_sites(self) -> int:
        """Mobile-ion sites (landscape minima after merging) in the network."""
        return len(self.network.sites)

    def without_landscape(self) -> BVSEResult:
        """A copy without the energy grid (small to pickle and store)."""
        from dataclasses import replace

        return replace(self, landscape=None)

    def as_dict(self) -> dict:
        """JSON-able summary: barriers, grid, sites, links, paths, settings, metadata."""
        b = self.barriers_eV
        rb = self.refined_barriers_eV
        net = self.network.as_dict()
        return {
            "formula": self.formula,
            "mobile_ion": self.settings.mobile_ion,
            "E_1D_eV": _round(b[0]), "E_2D_eV": _round(b[1]), "E_3D_eV": _round(b[2]),
            "E_1D_refined_eV": _round(rb[0]), "E_2D_refined_eV": _round(rb[1]),
            "E_3D_refined_eV": _round(rb[2]),
            "E_min_eV": _round(self.percolation.e_min_eV),
            "E_min_refined_eV": _round(self.refined_minimum.energy_eV),
            "spacing_A": self.settings.spacing_A,
            "grid_spacings_A": [round(s, 6) for s in self.grid_spacings_A],
            "grid_shape": list(self.grid_shape),
            "n_grid_points": int(np.prod(self.grid_shape)),
            "n_sites": self.n_sites,
            "n_atoms": self.n_atoms,
            "connectivity": self.settings.connectivity,
            "percolation": self.percolation.as_dict(),
            "refined": {
                "minimum": _refined_dict(self.refined_minimum),
                "saddles": [_refined_dict(s) for s in self.refined_saddles],
            },
            "sites": net["sites"],
            "links": net["links"],
            "paths": net["paths"],
            "network_cap_eV": _round(self.network.cap_eV),
            "settings": self.settings.as_dict(),
            "metadata": self.metadata,
        }


def _refined_dict(p: RefinedPoint) -> dict:
    return {
        "converged": p.converged, "energy_eV": _round(p.energy_eV),
        "frac_coords": list(p.frac_coords), "gradient_norm": _round(p.gradient_norm, 8),
        "hessian_eigenvalues": [_round(v, 4) for v in p.hessian_eigenvalues],
        "displacement_A": _round(p.displacement_A, 4),
    }


def analyse_landscape(
    landscape: Landscape,
    reference: ReferenceSites | None = None,
    formula: str = "",
    n_atoms: int = 0,
    metadata: dict | None = None,
) -> BVSEResult:
    """Percolation, network and refinement of an existing landscape.

    Parameters
    ----------
    landscape : Landscape
    reference : ReferenceSites, optional
        Named positions for the site labels.
    formula, n_atoms : str, int
        Recorded in the result.
    metadata : dict, optional
        Merged into the result's metadata.
    """
    s = landscape.settings
    e = landscape.energies_eV
    timings = dict(landscape.metadata.get("timings_s", {}))
    t0 = time.perf_counter()
    order = sort_order(e)
    perc = percolation_thresholds(e, s.connectivity, order=order)
    t1 = time.perf_counter()
    cap = perc.barriers_eV[2] + s.network_margin_eV
    net = migration_network(e, landscape.lattice, cap, reference, s.connectivity,
                            s.merge_depth_eV, s.label_max_distance_A, order=order)
    t2 = time.perf_counter()
    del order
    spacing = float(np.max(landscape.spacings_A))
    reach = max(1.0, 4.0 * spacing)
    ref = refine_network(net, landscape.framework, landscape.shape, s.refine_window_eV, reach)
    net = ref.network
    refined_min, saddles = ref.minimum, list(ref.saddles)
    t3 = time.perf_counter()
    timings.update({"percolation": round(t1 - t0, 4), "network": round(t2 - t1, 4),
                    "refine": round(t3 - t2, 4)})
    meta = {k: v for k, v in landscape.metadata.items() if k != "timings_s"}
    meta.update(metadata or {})
    meta["timings_s"] = timings
    meta["refinement"] = refinement_summary(ref, perc.barriers_eV, s.grid_tolerance_eV)
    not_conv = [d + 1 for d, p in enumerate(saddles) if not p.converged]
    if not_conv or not refined_min.converged:
        logger.warning("saddle refinement did not converge for dimension(s) %s%s; no refined "
                       "value for it", not_conv, " and the minimum" if not
                       refined_min.converged else "")
    if meta["refinement"]["warning"]:  # said in the result (and by the CLI), logged here
        logger.info("%s", meta["refinement"]["warning"])
    return BVSEResult(
        settings=s, formula=formula, n_atoms=n_atoms, grid_shape=landscape.shape,
        grid_spacings_A=tuple(float(x) for x in landscape.spacings_A), percolation=perc,
        refined_minimum=refined_min, refined_saddles=tuple(saddles), network=net,
        metadata=meta, landscape=landscape if s.keep_landscape else None,
        refined_thresholds_eV=ref.thresholds_eV)


def refinement_summary(ref: NetworkRefinement, grid_barriers_eV, tolerance_eV: float) -> dict:
    """JSON-able account of a network refinement, with a warning when grid and refined differ.

    Parameters
    ----------
    ref : NetworkRefinement
    grid_barriers_eV : 3 floats
        Grid E_1D, E_2D, E_3D (eV; inf where not reached).
    tolerance_eV : float
        Largest difference between a grid threshold and its refined value that passes quietly.

    Returns
    -------
    dict
        ``window_eV``, link counts, ``bottleneck_links``, ``grid_minus_refined_eV`` per
        dimension and ``warning`` (a sentence, or None).
    """
    diffs = []
    for g, r in zip(grid_barriers_eV, ref.thresholds_eV):
        diffs.append(None if r is None or not math.isfinite(g) else round(float(g - r), 6))
    worst = max((abs(d) for d in diffs if d is not None), default=0.0)
    warning = None
    if worst > tolerance_eV:
        dims = ", ".join(f"E_{i + 1}D {d:+.3f}" for i, d in enumerate(diffs)
                         if d is not None and abs(d) > tolerance_eV)
        warning = (f"grid thresholds differ from the refined ones by more than "
                   f"{tolerance_eV:g} eV (grid minus refined: {dims} eV): the grid is too coarse "
                   "for its own values; use the refined ones, or a finer --spacing")
    return {
        "window_eV": ref.window_eV, "n_links": len(ref.network.links),
        "n_links_refined": ref.n_links_refined, "n_links_failed": ref.n_links_failed,
        "n_passes": ref.n_passes, "bottleneck_links": list(ref.bottleneck_links),
        "grid_minus_refined_eV": diffs, "tolerance_eV": tolerance_eV, "warning": warning,
    }


def analyse(
    structure: Structure,
    settings: BVSESettings | None = None,
    reference_sites: ReferenceSites | None = None,
) -> BVSEResult:
    """BVSE landscape, percolation barriers, sites and migration paths of a structure.

    Parameters
    ----------
    structure : pymatgen.core.Structure
        Oxidation-state decorated (:func:`nasicon_sim.io.read.read_structure` does it); the
        framework must be ordered, mobile-ion sites may be partially occupied.
    settings : BVSESettings, optional
        Defaults reproduce bvlain's conventions at 0.1 Angstrom.
    reference_sites : ReferenceSites, optional
        Positions that name the sites; default: the structure's own mobile-ion sites (with
        their ``parent_label`` / ``wyckoff`` properties when present). Pass all parent Na
        positions when some are vacant in the structure.

    Returns
    -------
    BVSEResult

    Raises
    ------
    StructureError, ParameterError, ResourceLimitError
        See :func:`nasicon_sim.bvse.landscape.compute_landscape`.
    """
    settings = settings or BVSESettings()
    landscape = compute_landscape(structure, settings)
    element, _ = parse_ion(settings.mobile_ion)
    if reference_sites is None:
        reference_sites = reference_sites_from_structure(structure, element)
    meta = {}
    if "oxidation_states_source" in structure.properties:
        meta["oxidation_states_source"] = structure.properties["oxidation_states_source"]
    return analyse_landscape(landscape, reference_sites,
                             formula=structure.composition.reduced_formula,
                             n_atoms=len(structure), metadata=meta)
