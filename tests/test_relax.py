"""Relaxation with pluggable ASE calculators: analytic minima, site map kept, clear errors.

CHGNet itself is tested in ``test_relax_chgnet.py`` (slow); here calculators with known
minima make the optimiser plumbing checkable in well under a second.
"""

from __future__ import annotations

import numpy as np
import pytest
from _relax_helpers import SHIFT_A, STIFFNESS_EV_A2, ShiftSprings

from nasicon_sim.errors import NasiconSimError, OptionalDependencyError, StructureError
from nasicon_sim.relax import (
    RelaxSettings,
    calculator_from_spec,
    relax_structure,
)
from nasicon_sim.structure.ensemble import build_ensemble

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


@pytest.fixture(scope="module")
def me1():
    return build_ensemble(ME1, n=1, seed=0, method="ewald")[0]


def springs_settings(**kw):
    return RelaxSettings(calculator="_relax_helpers:shift_springs", fmax_eV_A=0.01, **kw)


@pytest.mark.parametrize("optimizer", ["FIRE", "BFGS"])
def test_relaxation_reaches_the_analytic_minimum(me1, optimizer):
    s = me1.structure
    result = relax_structure(s, springs_settings(optimizer=optimizer))
    n = len(s)
    assert result.converged
    assert result.initial_energy_eV == pytest.approx(0.5 * STIFFNESS_EV_A2 * n * SHIFT_A @ SHIFT_A)
    # every |force| = k |d| < fmax, so E = sum k d^2 / 2 < N fmax^2 / (2 k)
    assert result.final_energy_eV < n * 0.01 ** 2 / (2 * STIFFNESS_EV_A2) < result.initial_energy_eV
    assert result.final_max_force_eV_A < 0.01
    assert len(result.energies_eV) == len(result.max_forces_eV_A) == result.n_steps + 1
    # every atom moved by the shift (to within fmax / k)
    moved = (result.structure.lattice.get_cartesian_coords(result.structure.frac_coords)
             - s.cart_coords)
    frac = s.lattice.get_fractional_coords(moved)
    frac -= np.round(frac)
    moved = s.lattice.get_cartesian_coords(frac)
    assert np.abs(moved - SHIFT_A).max() < 0.01 / STIFFNESS_EV_A2 + 1e-9


def test_relaxed_structure_keeps_species_site_map_and_metadata(me1):
    s = me1.structure
    r = relax_structure(s, springs_settings()).structure
    assert [str(x.specie) for x in r] == [str(x.specie) for x in s]  # oxidation states kept
    assert r.site_properties == s.site_properties
    meta = r.properties["nasicon_sim"]
    rec = meta.pop("relaxation")
    assert meta == me1.metadata()
    assert rec["converged"] and rec["settings"]["calculator"] == "_relax_helpers:shift_springs"
    assert rec["energy_final_eV"] < rec["energy_initial_eV"]
    assert np.allclose(r.lattice.matrix, s.lattice.matrix)  # positions only
    assert "relaxation" not in s.properties["nasicon_sim"]  # input untouched
    assert ((r.frac_coords >= 0) & (r.frac_coords < 1)).all()


def test_trajectory_has_one_frame_per_step(me1, tmp_path):
    from ase.io import read

    result = relax_structure(me1.structure, springs_settings(), trajectory=tmp_path / "r.traj")
    frames = read(tmp_path / "r.traj", index=":")
    assert len(frames) == result.n_steps + 1
    assert [f.get_potential_energy() for f in frames] == pytest.approx(list(result.energies_eV))
    assert result.record()["trajectory"] == str(tmp_path / "r.traj")


def test_cell_relaxation_finds_the_emt_lattice_constant():
    """EMT copper: the cell relaxation lands on the minimum of E(a) found by scipy."""
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from pymatgen.core import Lattice, Structure
    from scipy.optimize import minimize_scalar

    def energy(a):
        atoms = bulk("Cu", "fcc", a=a, cubic=True)
        atoms.calc = EMT()
        return atoms.get_potential_energy()

    a_ref = minimize_scalar(energy, bracket=(3.5, 3.6, 3.7), tol=1e-10).x
    s = Structure(Lattice.cubic(3.75), ["Cu"] * 4,
                  [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    r = relax_structure(s, RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=1e-4,
                                         cell=True, steps=2000))
    assert r.converged
    assert r.structure.lattice.abc == pytest.approx((a_ref,) * 3, abs=2e-3)
    assert r.max_stress_GPa < 0.05


def test_given_calculator_instance_is_used(me1):
    calc = ShiftSprings(shift=[0.0, 0.0, 0.05])
    r = relax_structure(me1.structure, RelaxSettings(fmax_eV_A=0.01), calculator=calc)
    assert r.converged and "ShiftSprings" in r.calculator


def test_settings_from_study_spec():
    s = RelaxSettings.from_spec({"method": "chgnet", "fmax_eV_A": 0.1, "steps": 50, "cell": True},
                                threads=1)
    assert (s.calculator, s.fmax_eV_A, s.steps, s.cell, s.threads) == ("chgnet", 0.1, 50, True, 1)
    assert RelaxSettings.from_dict(s.as_dict()) == s
    with pytest.raises(NasiconSimError, match="'none'"):
        RelaxSettings.from_spec({"method": "none"})
    assert RelaxSettings.from_spec({"method": "chgnet", "compare_unrelaxed": True}) == \
        RelaxSettings()  # the runner's own keys are not relaxation settings
    with pytest.raises(NasiconSimError, match="unknown relaxation setting"):
        RelaxSettings.from_dict({"calculator": "chgnet", "pressure": 1})


@pytest.mark.parametrize("kwargs, match", [
    ({"fmax_eV_A": 0}, "fmax"), ({"fmax_eV_A": float("nan")}, "fmax"),
    ({"steps": -1}, "steps"), ({"steps": 1.5}, "steps"), ({"optimizer": "LBFGSX"}, "optimizer"),
    ({"threads": 0}, "threads"), ({"calculator": " "}, "calculator"),
])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(NasiconSimError, match=match):
        RelaxSettings(**kwargs)


@pytest.mark.parametrize("spec, match", [
    ("nonsense", "module:factory"), ("no_such_module_xyz:f", "cannot import"),
    ("ase.calculators.emt:NoSuch", "has no"), ("_relax_helpers:not_a_calculator", "not an ASE"),
])
def test_bad_calculator_specs(spec, match):
    with pytest.raises(NasiconSimError, match=match):
        calculator_from_spec(spec)


def test_missing_chgnet_says_how_to_install(monkeypatch):
    import nasicon_sim.relax as relax

    monkeypatch.setattr(relax, "chgnet_available", lambda: False)
    with pytest.raises(OptionalDependencyError, match=r'pip install -e "\.\[relax\]"'):
        calculator_from_spec("chgnet")


def test_disordered_structures_and_cells_without_stress_are_refused(me1):
    from pymatgen.core import Lattice, Structure

    disordered = Structure(Lattice.cubic(4), [{"Na": 0.5}], [[0, 0, 0]])
    with pytest.raises(StructureError, match="ordered"):
        relax_structure(disordered, springs_settings())
    with pytest.raises(NasiconSimError, match="no stress"):
        relax_structure(me1.structure, springs_settings(cell=True))
