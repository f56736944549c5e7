"""CHGNet: all images in one batch give the barrier of ASE's image-by-image evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_sim.relax import chgnet_available

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not chgnet_available(), reason="needs the [relax] extra")]


def test_batched_and_image_by_image_chgnet_give_the_same_barrier():
    from ase.build import bulk

    from nasicon_sim.neb.band import (
        NEBSettings,
        batch_evaluator,
        evaluate_images,
        interpolate_band,
        relax_atoms,
        run_band,
    )
    from nasicon_sim.neb.workflow import calculator_for

    settings = NEBSettings(n_images=3, fmax_eV_A=0.1, steps=40, threads=1)
    calc = calculator_for(settings)
    assert batch_evaluator(calc) is not None
    atoms = bulk("NaCl", "rocksalt", a=5.64, cubic=True)
    na = [a.index for a in atoms if a.symbol == "Na"]
    vac = atoms.positions[na[0]].copy()
    del atoms[na[0]]
    k = int(np.argmin([np.linalg.norm(atoms.positions[i] - vac) if atoms[i].symbol == "Na"
                       else 1e9 for i in range(len(atoms))]))
    final = atoms.copy()
    final.positions[k] = vac
    ini, e0, *_ = relax_atoms(atoms, calc, 0.1, 60)
    fin, e1, *_ = relax_atoms(final, calc, 0.1, 60)
    images = interpolate_band(ini, fin, 3, idpp=True)
    e_b, f_b = evaluate_images(images[1:-1], calc, batch=True)
    e_s, f_s = evaluate_images(images[1:-1], calc, batch=False)
    assert np.abs(e_b - e_s).max() < 1e-3 and np.abs(f_b - f_s).max() < 1e-3
    batched = run_band(images, e0, e1, calc, settings)
    single = run_band(images, e0, e1, calc, NEBSettings(**{**settings.as_dict(), "batch": False}))
    assert batched.batched and not single.batched
    assert abs(batched.barrier_forward_eV - single.barrier_forward_eV) < 1e-3
    assert abs(batched.barrier_backward_eV - single.barrier_backward_eV) < 1e-3
