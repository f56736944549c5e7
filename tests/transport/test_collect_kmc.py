"""collect_kmc on stored rows (no simulation): fitted counts and the Arrhenius chi-square test."""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

import numpy as np

from nasicon_sim.study import KMCSpec
from nasicon_sim.transport.simulate import arrhenius_fit
from nasicon_sim.transport.study import collect_kmc, kmc_key
from nasicon_sim.units import BOLTZMANN_EV_K

TEMPS = np.array([673.0, 773.0, 873.0])


def _row(sigma, converged=(True, True, True)):
    sigma = np.asarray(sigma, float)
    err = 0.02 * sigma
    ok = np.array(converged)
    fit = arrhenius_fit(TEMPS[ok], sigma[ok], err[ok])
    return {"sigma_S_cm": list(sigma), "converged": list(converged),
            "haven_ratio": [0.5, 0.5, 0.5], "reason": None, "notes": [],
            "Ea_eV": None if fit is None else fit.Ea_eV,
            "sigma_25C_S_cm": None if fit is None else fit.sigma_25C_S_cm,
            "arrhenius": None if fit is None else asdict(fit)}


def test_collect_counts_fits_and_rejects_curved_arrhenius_lines():
    spec = KMCSpec(temperatures_K=list(TEMPS))
    settings = spec.settings_dict()
    line = 1e4 / TEMPS * np.exp(-0.4 / (BOLTZMANN_EV_K * TEMPS))
    curved = line * np.array([1.0, 2.0, 1.0])  # 2 % errors: a factor 2 is far off the line
    rows = {"a0": _row(line), "a1": _row(curved), "a2": _row(line, (False, False, True)),
            "b0": _row(line, (False, True, True))}
    store = {kmc_key(k, settings): v for k, v in rows.items()}
    study = SimpleNamespace(kmc=spec, compositions=[
        SimpleNamespace(label="A", sigma_total_mS_cm=1.0, ea_eV=0.3),
        SimpleNamespace(label="B", sigma_total_mS_cm=0.5, ea_eV=None)])
    out = collect_kmc(study, SimpleNamespace(get=store.get), {"A": ["a0", "a1", "a2"],
                                                              "B": ["b0"]})
    a, b = out["compositions"]["A"], out["compositions"]["B"]
    assert (a["n_configurations"], a["n_fitted"]) == (3, 2)
    assert (a["n_arrhenius_tested"], a["n_arrhenius_rejected"]) == (2, 1)
    assert abs(min(a["Ea_eV"]) - 0.4) < 1e-6
    # two converged temperatures: a fit, but no test of the line
    assert (b["n_fitted"], b["n_arrhenius_tested"], b["n_arrhenius_rejected"]) == (1, 0, 0)


def test_floor_notes_of_a_composition_become_one_line():
    from nasicon_sim.transport.study import _merge_floor_notes

    notes = {"E_KRA floor 0.35 eV: 36 of 464 directed hops raised to it (an acceleration; check "
             "that sigma does not change with a lower --kra-floor)",
             "E_KRA floor 0.35 eV: 148 of 444 directed hops raised to it (an acceleration; check "
             "that sigma does not change with a lower --kra-floor)",
             "fewer than two converged temperatures: no Arrhenius fit"}
    out = _merge_floor_notes(notes)
    assert len(out) == 2
    assert out[0].startswith("E_KRA floor 0.35 eV: 36-148 of 444-464 directed hops raised")
    assert out[1] == "fewer than two converged temperatures: no Arrhenius fit"
    one = _merge_floor_notes({next(n for n in notes if "36 of" in n)})
    assert one[0].startswith("E_KRA floor 0.35 eV: 36 of 464 directed hops raised to it per")
