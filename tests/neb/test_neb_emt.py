"""A textbook hop against ASE's own NEB: vacancy migration in fcc Cu with EMT."""

from __future__ import annotations

import numpy as np
import pytest
from _neb_helpers import cu_vacancy

from nasicon_sim.neb.band import NEBSettings, interpolate_band, relax_atoms, run_band

pytestmark = pytest.mark.slow
N_IMAGES = 3
FMAX = 0.02


def _end_points():
    from ase.calculators.emt import EMT

    atoms, k, vac = cu_vacancy(2)
    final = atoms.copy()
    final.positions[k] = vac
    ini, e0, c0, *_ = relax_atoms(atoms, EMT(), 0.005, 500)
    fin, e1, c1, *_ = relax_atoms(final, EMT(), 0.005, 500)
    assert c0 and c1
    return ini, e0, fin, e1, k


def _ase_reference(ini, fin):
    """ASE's NEB as its documentation runs it: own calculator per image, IDPP, climbing, FIRE."""
    from ase.calculators.emt import EMT
    from ase.mep import NEB
    from ase.optimize import FIRE

    images = [ini.copy()] + [ini.copy() for _ in range(N_IMAGES)] + [fin.copy()]
    for image in images:
        image.calc = EMT()
    neb = NEB(images, climb=True, method="improvedtangent")
    neb.interpolate(method="idpp")
    with FIRE(neb, logfile=None) as opt:
        assert opt.run(fmax=FMAX, steps=2000)
    energies = np.array([image.get_potential_energy() for image in images])
    return energies, images


def test_emt_vacancy_hop_matches_ase_neb():
    from ase.calculators.emt import EMT

    ini, e0, fin, e1, k = _end_points()
    ref_e, ref_images = _ase_reference(ini, fin)
    images = interpolate_band(ini, fin, N_IMAGES, idpp=True)
    band = run_band(images, e0, e1, EMT(), NEBSettings(n_images=N_IMAGES, fmax_eV_A=FMAX,
                                                       steps=2000, calculator="emt"))
    assert band.converged and not band.batched
    ref_forward = ref_e.max() - ref_e[0]
    assert 0.3 < ref_forward < 1.5  # a vacancy hop, not a failed band
    assert band.barrier_forward_eV == pytest.approx(ref_forward, abs=0.01)
    assert band.barrier_backward_eV == pytest.approx(ref_e.max() - ref_e[-1], abs=0.01)
    # symmetric hop: forward = backward, saddle halfway
    assert band.barrier_forward_eV - band.barrier_backward_eV == pytest.approx(e1 - e0, abs=1e-9)
    saddle = band.images[band.saddle_image].positions[k]
    ref_saddle = ref_images[int(np.argmax(ref_e))].positions[k]
    assert np.linalg.norm(saddle - ref_saddle) < 0.05
    assert np.linalg.norm(saddle - 0.5 * (ini.positions[k] + fin.positions[k])) < 0.05
