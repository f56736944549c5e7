"""One call per hop: end points, relaxation, IDPP through the BVSE saddle, CI-NEB, result.

:func:`network_of` runs BVSE on a structure (parent Na sites as references for builder
configurations) and returns what :func:`nasicon_sim.neb.hops.find_hops` needs;
:func:`compute_hop` computes one hop and returns a frozen :class:`NEBResult`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np

from nasicon_sim.neb.band import NEBSettings, interpolate_band, relax_atoms, run_band
from nasicon_sim.neb.endpoints import EndPointError, check_sites, make_end_points
from nasicon_sim.neb.hops import Hop, site_positions
from nasicon_sim.neb.result import NEBResult

if TYPE_CHECKING:
    from ase.calculators.calculator import BaseCalculator
    from pymatgen.core import Structure

    from nasicon_sim.bvse import BVSEResult, BVSESettings
    from nasicon_sim.network import ReferenceSites

__all__ = ["calculator_for", "candidate_sites", "compute_hop", "network_of"]

logger = logging.getLogger(__name__)


def network_of(structure: Structure, settings: BVSESettings | None = None
               ) -> tuple[BVSEResult, ReferenceSites | None]:
    """BVSE analysis of a structure and the reference sites that label it.

    Builder configurations (relaxed or not) use all parent Na sites, so vacant sites are in
    the network with their labels; other structures use their own Na sites.
    """
    from nasicon_sim.bvse import BVSESettings, analyse
    from nasicon_sim.network import ReferenceSites
    from nasicon_sim.structure.supercell import parent_sites_of

    settings = settings or BVSESettings(spacing_A=0.2)
    sites = parent_sites_of(structure, "Na")
    reference = ReferenceSites(*sites) if sites is not None else None
    result = analyse(structure, settings, reference).without_landscape()
    return result, reference


def candidate_sites(result: BVSEResult, reference: ReferenceSites | None,
                    lattice: np.ndarray) -> np.ndarray:
    """Fractional positions an ion in the way may be moved to: reference sites and minima."""
    pos = site_positions(result.network, lattice, reference)
    if reference is not None and len(reference.labels):
        pos = np.vstack([np.asarray(reference.frac_coords), pos])
    return pos


def calculator_for(settings: NEBSettings) -> BaseCalculator:
    """The calculator of the settings (CHGNet cached per process, like ``relax``)."""
    from nasicon_sim.relax import _cached_chgnet, _set_threads, calculator_from_spec

    _set_threads(settings.threads)
    if settings.calculator.strip().lower() == "chgnet":
        return _cached_chgnet(settings.device)
    return calculator_from_spec(settings.calculator, settings.device)


def _unwrap(reference, atoms):
    """``atoms`` moved by lattice vectors so that every atom is next to ``reference``'s."""
    from ase.geometry import find_mic

    d, _ = find_mic(atoms.positions - reference.positions, reference.cell.array, pbc=True)
    out = atoms.copy()
    out.positions = reference.positions + d
    out.calc = atoms.calc
    return out


def compute_hop(structure: Structure, hop: Hop, settings: NEBSettings | None = None,
                calculator: BaseCalculator | None = None,
                candidates_frac: np.ndarray | None = None, mobile: str = "Na",
                source: str = "") -> NEBResult:
    """Barrier of one hop: end points, relaxation, IDPP through the BVSE saddle, CI-NEB.

    Parameters
    ----------
    structure : pymatgen Structure
        Ordered; the cell the hop was found in.
    hop : Hop
    settings : NEBSettings, optional
    calculator : ASE calculator, optional
        Instead of building ``settings.calculator``.
    candidates_frac : array, optional
        Where ions in the way may go (:func:`candidate_sites`).
    mobile : str
    source : str
        Recorded in the result.

    Returns
    -------
    NEBResult
        Status ``end-point-left-site`` (no barrier, ``message`` says which ion went where)
        when an end point relaxes into another site.
    """
    from nasicon_sim.relax import _describe_calculator

    settings = settings or NEBSettings()
    calc = calculator if calculator is not None else calculator_for(settings)
    described = _describe_calculator(calc, settings.calculator)
    t0 = time.perf_counter()
    ends = make_end_points(structure, hop, candidates_frac, mobile=mobile)
    notes = list(ends.notes)
    relaxed = []
    for which, atoms, site in (("initial", ends.initial, ends.start_cart_A),
                               ("final", ends.final, ends.end_cart_A)):
        out, e, conv, n, fmax = relax_atoms(atoms, calc, settings.end_point_fmax_eV_A,
                                            settings.relax_steps)
        out = _unwrap(atoms, out)
        notes.append(f"{which} end point relaxed: E {e:.4f} eV, {n} steps, max force "
                     f"{fmax:.3f} eV/A{'' if conv else ' (NOT converged)'}")
        logger.info("%s: %s", hop.tag, notes[-1])
        try:
            cands = None if candidates_frac is None else \
                np.asarray(candidates_frac, float).reshape(-1, 3) @ atoms.cell.array
            check_sites(atoms, out, ends.mover, site, which, mobile, candidates_cart_A=cands)
        except EndPointError as exc:
            logger.warning("%s: %s", hop.tag, exc)
            return NEBResult(hop=hop, status="end-point-left-site", mover=ends.mover,
                             calculator=described, settings=settings.as_dict(),
                             notes=tuple(notes), message=str(exc),
                             seconds=time.perf_counter() - t0, source=source, images=(out,))
        relaxed.append((out, e))
    (ini, e_ini), (fin, e_fin) = relaxed
    images = interpolate_band(ini, fin, settings.n_images, mover=ends.mover,
                              via_cart_A=ends.saddle_cart_A, idpp=settings.idpp)
    band = run_band(images, e_ini, e_fin, calc, settings)
    k = band.saddle_image
    status = "converged" if band.converged else "not-converged"
    logger.info("%s: %s after %d steps, forward %.3f eV, backward %.3f eV", hop.tag, status,
                band.n_steps, band.barrier_forward_eV, band.barrier_backward_eV)
    return NEBResult(
        hop=hop, status=status, energies_eV=tuple(float(x) for x in band.energies_eV),
        path_A=tuple(float(x) for x in band.path_length_A()), converged=band.converged,
        n_steps=band.n_steps, max_force_eV_A=band.max_force_eV_A, saddle_image=k,
        saddle_cart_A=tuple(float(x) for x in band.images[k].positions[ends.mover]),
        mover=ends.mover, calculator=described, settings=settings.as_dict(), notes=tuple(notes),
        seconds=time.perf_counter() - t0, source=source, images=band.images)
