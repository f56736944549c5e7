"""The band on analytic potentials: barrier, saddle, forward - backward, batching, settings."""

from __future__ import annotations

import numpy as np
import pytest
from _neb_helpers import BatchedDoubleWell, DoubleWell, double_well, well_atoms
from scipy.optimize import brentq, minimize_scalar

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.neb.band import NEBSettings, interpolate_band, relax_atoms, run_band


def _band(calc, n_images=5, batch=True, via=None, fmax=0.005):
    ini, e0, *_ = relax_atoms(well_atoms(-1.0), calc, 1e-4, 500)
    fin, e1, *_ = relax_atoms(well_atoms(1.0), calc, 1e-4, 500)
    images = interpolate_band(ini, fin, n_images, mover=0, via_cart_A=via, idpp=False)
    settings = NEBSettings(n_images=n_images, fmax_eV_A=fmax, steps=2000, batch=batch,
                           calculator="analytic:none")
    return run_band(images, e0, e1, calc, settings), e0, e1


def test_symmetric_double_well_barrier_and_saddle():
    band, e0, e1 = _band(DoubleWell(height=0.5, half_width=1.0))
    assert band.converged
    assert band.barrier_forward_eV == pytest.approx(0.5, abs=1e-4)  # V(0) - V(+-w) = h
    k = band.saddle_image
    assert band.images[k].positions[0, 0] - 5.0 == pytest.approx(0.0, abs=0.01)


def test_tilted_well_forward_minus_backward_is_end_point_difference():
    h, w, t = 0.4, 1.2, 0.1
    calc = DoubleWell(height=h, half_width=w, tilt=t)
    band, e0, e1 = _band(calc, n_images=7)
    assert band.converged
    # analytic reference: minima and the barrier top of V(x) = h (u^2 - 1)^2 + t u
    xa = minimize_scalar(lambda x: double_well(x, h, w, t)[0], bounds=(-2 * w, 0),
                         method="bounded", options={"xatol": 1e-10}).x
    xb = minimize_scalar(lambda x: double_well(x, h, w, t)[0], bounds=(0, 2 * w),
                         method="bounded", options={"xatol": 1e-10}).x
    xs = brentq(lambda x: double_well(x, h, w, t)[1], xa + 1e-3, xb - 1e-3)
    va, vb, vs = (double_well(x, h, w, t)[0] for x in (xa, xb, xs))
    assert band.barrier_forward_eV == pytest.approx(vs - va, abs=2e-4)
    assert band.barrier_backward_eV == pytest.approx(vs - vb, abs=2e-4)
    de = band.energies_eV[-1] - band.energies_eV[0]
    assert band.barrier_forward_eV - band.barrier_backward_eV == pytest.approx(de, abs=1e-9)
    assert band.images[band.saddle_image].positions[0, 0] - 5.0 == pytest.approx(xs, abs=0.01)


def test_batched_and_unbatched_give_the_same_barrier():
    batched, _, _ = _band(BatchedDoubleWell(height=0.3, tilt=0.05))
    calc = DoubleWell(height=0.3, tilt=0.05)
    assert not hasattr(calc, "batch_energies_forces")
    single, _, _ = _band(calc)
    assert batched.batched and not single.batched
    assert abs(batched.barrier_forward_eV - single.barrier_forward_eV) < 1e-3
    assert abs(batched.barrier_backward_eV - single.barrier_backward_eV) < 1e-3


def test_via_point_routes_the_moving_atom():
    ini, fin = well_atoms(-1.0), well_atoms(1.0)
    via = np.array([5.0, 6.0, 5.0])
    images = interpolate_band(ini, fin, 5, mover=0, via_cart_A=via, idpp=False)
    assert len(images) == 7
    middle = images[3].positions[0]
    assert middle == pytest.approx(via, abs=1e-9)  # the path is symmetric: image 3 is the via
    assert images[1].positions[0, 1] > 5.0


@pytest.mark.parametrize(("kwargs", "flag"), [
    ({"n_images": 0}, "--images"), ({"n_images": 31}, "--images"),
    ({"n_images": 2.5}, "--images"), ({"n_images": True}, "--images"),
    ({"spring_eV_A2": 0.0}, "--spring"), ({"spring_eV_A2": -1}, "--spring"),
    ({"spring_eV_A2": float("nan")}, "--spring"), ({"spring_eV_A2": 100.0}, "--spring"),
    ({"fmax_eV_A": 0}, "--fmax"), ({"steps": 0}, "--steps"),
    ({"relax_fmax_eV_A": -0.1}, "--relax-fmax"), ({"relax_steps": 0}, "--relax-steps"),
])
def test_bad_settings_name_the_flag(kwargs, flag):
    with pytest.raises(NasiconSimError, match=flag):
        NEBSettings(**kwargs)


def test_settings_round_trip_and_unknown_keys():
    s = NEBSettings(n_images=3, spring_eV_A2=0.5)
    assert NEBSettings.from_dict(s.as_dict()) == s
    with pytest.raises(NasiconSimError, match="unknown NEB setting"):
        NEBSettings.from_dict({"n_image": 3})
    with pytest.raises(NasiconSimError, match="unknown NEB method"):
        NEBSettings(method="nudge")
