"""kMC against results known without it: random walk, lattice gas, Fermi-Dirac, Arrhenius."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from nasicon_sim.transport import (
    KMCSettings,
    PairInteraction,
    arrhenius_fit,
    build_lattice,
    cubic_cell,
    simulate,
)
from nasicon_sim.units import BOLTZMANN_EV_K

A2_TO_CM2 = 1e-16


def _within(value, expected, err, n_sigma=4.0):
    assert err > 0
    assert abs(value - expected) < n_sigma * err, (value, expected, err)


def test_one_ion_on_simple_cubic_gives_gamma_a2():
    # D = Gamma a^2 for one walker with rate Gamma per neighbour (6 neighbours, d = 3)
    a, barrier, nu, temp = 2.0, 0.1, 1e12, 300.0
    lat = build_lattice(cubic_cell(a_A=a, barrier_eV=barrier), (5, 5, 5), n_mobile=1)
    s = KMCSettings(temperatures_K=(temp,), passes=20000, runs=4, blocks=50,
                    equilibration_passes=0, attempt_frequency_Hz=nu, seed=1)
    p = simulate(lat, s).points[0]
    gamma = nu * math.exp(-barrier / (BOLTZMANN_EV_K * temp))
    _within(p.D_tracer_cm2_s, gamma * a * a * A2_TO_CM2, p.D_tracer_err_cm2_s)
    # one ion: tracer = collective, no correlation
    assert p.D_sigma_cm2_s == pytest.approx(p.D_tracer_cm2_s)
    assert p.haven_ratio == pytest.approx(1.0)
    _within(p.correlation_factor, 1.0, p.correlation_factor_err)
    assert p.n_hops == 4 * 20000


@pytest.mark.parametrize("c", [0.25, 0.75])
def test_lattice_gas_jump_diffusivity_is_proportional_to_one_minus_c(c):
    # non-interacting lattice gas with site exclusion: D_J = Gamma a^2 (1 - c)
    # (the chemical diffusivity stays Gamma a^2 and the thermodynamic factor is 1 / (1 - c))
    n = round(c * 216)
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.0), (6, 6, 6), n_mobile=n)
    s = KMCSettings(temperatures_K=(300.0,), passes=600, runs=4, blocks=30,
                    equilibration_passes=5, attempt_frequency_Hz=1.0, seed=2)
    p = simulate(lat, s).points[0]
    _within(p.D_sigma_cm2_s / A2_TO_CM2, 1.0 - n / 216, p.D_sigma_err_cm2_s / A2_TO_CM2)


def test_tracer_correlation_factor_tends_to_simple_cubic_vacancy_value():
    # one vacancy on simple cubic: f = 0.6531 (Compaan & Haven, Trans. Faraday Soc. 52 (1956)
    # 786; Manning, Diffusion Kinetics for Atoms in Crystals (1968))
    n_sites = 216
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.0), (6, 6, 6), n_mobile=n_sites - 1)
    s = KMCSettings(temperatures_K=(300.0,), passes=400, runs=4, blocks=20,
                    equilibration_passes=0, attempt_frequency_Hz=1.0, seed=3)
    p = simulate(lat, s).points[0]
    assert abs(p.correlation_factor - 0.6531) < max(4 * p.correlation_factor_err, 0.02), (
        p.correlation_factor, p.correlation_factor_err)
    # and far from the uncorrelated value at half filling
    assert p.correlation_factor < 0.75


def test_two_energy_lattice_follows_fermi_dirac():
    # canonical occupancies of two site kinds differing by dE: c_B/(1-c_B) / (c_A/(1-c_A))
    # = exp(-dE / kT) (Fermi-Dirac with one chemical potential); both the Metropolis
    # equilibration and the kMC time average must give it
    de, temp = 0.05, 300.0
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.2, site_energies_eV=(0.0, de)),
                        (4, 8, 8), n_mobile=256)
    s = KMCSettings(temperatures_K=(temp,), passes=300, runs=4, blocks=10,
                    equilibration_passes=50, attempt_frequency_Hz=1e12, seed=4)
    p = simulate(lat, s).points[0]
    (ca, ea), (cb, _) = p.occupancy["A"], p.occupancy["B"]
    assert ca + cb == pytest.approx(1.0, abs=1e-9)  # half filling, equal site counts
    # solve for the chemical potential from the filling: ca + cb = 1 -> mu = dE/2
    x = math.exp(-de / (2 * BOLTZMANN_EV_K * temp))
    expected_a = 1.0 / (1.0 + x)
    _within(ca, expected_a, max(ea, 1e-4))


def test_one_dimensional_channel_moves_along_its_axis_only():
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.0, axes=(2,)), (4, 4, 8), n_mobile=40)
    s = KMCSettings(temperatures_K=(300.0,), passes=200, runs=2, blocks=10,
                    equilibration_passes=5, attempt_frequency_Hz=1.0, seed=5)
    p = simulate(lat, s).points[0]
    dx, dy, dz = p.D_sigma_xyz_cm2_s
    assert dx == 0.0 and dy == 0.0
    assert dz > 0
    assert dz == pytest.approx(3 * p.D_sigma_cm2_s)


def test_full_lattice_does_not_conduct():
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.1), (3, 3, 3), n_mobile=27)
    r = simulate(lat, KMCSettings(temperatures_K=(300.0, 400.0), passes=10, blocks=2))
    assert [p.sigma_S_cm for p in r.points] == [0.0, 0.0]
    assert r.arrhenius is None
    assert "every site is occupied" in r.reason
    d = r.as_dict()
    assert d["sigma_S_cm"] == [0.0, 0.0] and d["Ea_eV"] is None


def test_blocked_ions_do_not_conduct():
    # every neighbour of every vacancy is within the blocking distance of an ion: no hop
    inter = PairInteraction(0.0, 1.0, blocking_distance_A=1.01)
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.1), (4, 4, 4), inter, n_mobile=32)
    ijk = np.rint(lat.frac * 4).astype(int)
    lat = replace(lat, occupied=np.flatnonzero(ijk.sum(axis=1) % 2 == 0))
    r = simulate(lat, KMCSettings(temperatures_K=(300.0,), passes=10, blocks=2,
                                  equilibration_passes=0))
    # 32 ions on 64 sites with nearest neighbours excluded: only the checkerboard fits, and
    # every hop would put an ion next to another
    assert r.points[0].sigma_S_cm == 0.0
    assert "blocked" in r.reason


def test_dilute_arrhenius_slope_returns_the_input_barrier():
    barrier = 0.3
    lat = build_lattice(cubic_cell(a_A=3.0, barrier_eV=barrier), (5, 5, 5), n_mobile=1)
    s = KMCSettings(temperatures_K=(300.0, 450.0, 600.0), passes=20000, runs=4, blocks=40,
                    equilibration_passes=0, seed=6)
    r = simulate(lat, s)
    fit = r.arrhenius
    assert fit.Ea_err_eV < 0.02
    _within(fit.Ea_eV, barrier, fit.Ea_err_eV)


def test_arrhenius_fit_recovers_a_line_and_its_room_temperature_value():
    t = np.array([373.0, 473.0, 573.0])
    s = 2e5 / t * np.exp(-0.35 / (BOLTZMANN_EV_K * t))
    fit = arrhenius_fit(t, s, 0.02 * s)
    assert fit.Ea_eV == pytest.approx(0.35, abs=1e-9)
    assert fit.sigma_25C_S_cm == pytest.approx(
        2e5 / 298.15 * math.exp(-0.35 / (BOLTZMANN_EV_K * 298.15)), rel=1e-9)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-12)
    assert arrhenius_fit(t[:1], s[:1], s[:1]) is None


def test_interactions_enter_the_rates_and_keep_detailed_balance():
    # two site kinds, repulsive neighbours: occupancies from kMC time averages equal those of
    # the Metropolis sampler (both sample the same Boltzmann distribution)
    inter = PairInteraction(2.0, 1.5, blocking_distance_A=0.0, tolerance_eV=1e-3)
    cell = cubic_cell(a_A=2.0, barrier_eV=0.25, site_energies_eV=(0.0, 0.03))
    lat = build_lattice(cell, (3, 6, 6), inter, n_mobile=108)
    assert lat.pair_v_eV.max() > 0.05
    s0 = KMCSettings(temperatures_K=(400.0,), passes=2, runs=8, blocks=2,
                     equilibration_passes=300, seed=7)
    s1 = KMCSettings(temperatures_K=(400.0,), passes=150, runs=4, blocks=10,
                     equilibration_passes=20, seed=8)
    a0, e0 = simulate(lat, s0).points[0].occupancy["A"]
    a1, e1 = simulate(lat, s1).points[0].occupancy["A"]
    assert abs(a0 - a1) < 4 * math.hypot(e0, e1) + 2e-3


def test_rattling_ions_are_flagged_not_converged_and_left_out_of_the_fit():
    # blocks of one hop per ion: an ion cannot have left its site for good; the points are
    # flagged and no activation energy is claimed
    lat = build_lattice(cubic_cell(a_A=1.0, barrier_eV=0.2), (4, 4, 4), n_mobile=8)
    s = KMCSettings(temperatures_K=(300.0, 400.0), passes=10, runs=2, blocks=10,
                    equilibration_passes=0, seed=9)
    r = simulate(lat, s)
    assert [p.converged for p in r.points] == [False, False]
    assert all(p.msd_per_block_hops < 2.0 for p in r.points)
    assert r.arrhenius is None and r.reason is None
    assert any("not converged" in n for n in r.notes)
    assert r.as_dict()["converged"] == [False, False]


def _alternating_chain(a_A: float, e_fast: float, e_slow: float):
    """1D chain along x, two equal sites per cell, bonds alternating e_fast and e_slow."""
    from nasicon_sim.transport.lattice import CellModel

    return CellModel(
        lattice=np.diag([2 * a_A, 10.0, 10.0]), frac=[[0.0, 0, 0], [0.5, 0, 0]],
        site_energy_eV=[0.0, 0.0], labels=("A", "B"), link_a=[0, 1], link_b=[1, 0],
        link_t=[[0, 0, 0], [1, 0, 0]], link_kra_eV=[e_fast, e_slow],
        link_names=("A-B", "A-B"), n_mobile=0)


@pytest.mark.parametrize("floor", [0.0, 0.28])
def test_kra_floor_on_an_alternating_chain_follows_the_harmonic_mean_of_rates(floor):
    """One walker on bonds with rates k1, k2: D_1D = a^2 / <1/k> = 2 a^2 k1 k2 / (k1 + k2)
    (the 3D-normalised D* of the code is a third of it). The floor raises the fast bond's
    barrier: D follows the formula with the raised rate, and moves by the predicted
    k2 / (k1 + k2) terms only."""
    a, e_fast, e_slow, nu, temp = 2.0, 0.05, 0.3, 1e12, 600.0
    lat = build_lattice(_alternating_chain(a, e_fast, e_slow), (8, 1, 1), n_mobile=1)
    # one walker in 1D: each block's squared displacement scatters like chi-square with one
    # degree of freedom, so many blocks (1600: a 3.5 % error, against the 40 % the floor
    # of 0.28 eV moves D by)
    s = KMCSettings(temperatures_K=(temp,), passes=100000, runs=16, blocks=100,
                    equilibration_passes=0, attempt_frequency_Hz=nu, seed=11,
                    kra_floor_eV=floor)
    r = simulate(lat, s)
    p = r.points[0]
    kt = BOLTZMANN_EV_K * temp
    k1 = nu * math.exp(-max(e_fast, floor) / kt)
    k2 = nu * math.exp(-max(e_slow, floor) / kt)
    d_1d = 2 * a * a * k1 * k2 / (k1 + k2)
    _within(p.D_tracer_cm2_s, d_1d / 3 * A2_TO_CM2, p.D_tracer_err_cm2_s)
    assert p.D_tracer_err_cm2_s < 0.06 * p.D_tracer_cm2_s
    assert any("E_KRA floor" in n for n in r.notes) == (floor > 0)
    if floor:
        assert "16 of 32 directed hops raised" in r.notes[-1]


def test_kra_floor_keeps_site_occupancies():
    """E_KRA is symmetric, so raising it changes rates but not the equilibrium occupancy of
    a two-energy lattice (Fermi-Dirac, as in the test above)."""
    cell = cubic_cell(a_A=1.0, barrier_eV=0.05, site_energies_eV=(0.0, 0.1))
    lat = build_lattice(cell, (4, 4, 4), n_mobile=64)
    base = KMCSettings(temperatures_K=(600.0,), passes=400, runs=2, blocks=10,
                       equilibration_passes=20, seed=3)
    occ = [simulate(lat, replace(base, kra_floor_eV=f)).points[0].occupancy
           for f in (0.0, 0.25)]
    for label in ("A", "B"):
        (m0, e0), (m1, e1) = occ[0][label], occ[1][label]
        _within(m1 - m0, 0.0, math.hypot(e0, e1))
