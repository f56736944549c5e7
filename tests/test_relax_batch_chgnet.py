"""CHGNet through the batched path (one ``predict_graph`` call for several structures): the same
energies, forces and stresses as CHGNet's ASE calculator, the same relaxed structures as
one-by-one relaxations, and the ``free_energy`` that ASE's preconditioned optimisers need.

CI installs the [relax] extra and sets ``CI``; there a missing CHGNet fails instead of skipping.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

if os.environ.get("CI"):
    import chgnet  # noqa: F401  (CI must test the relax extra)
else:
    pytest.importorskip("chgnet")

from pymatgen.core import Lattice, Structure

from nasicon_sim.relax import (
    RelaxSettings,
    _Evaluator,
    _to_atoms,
    calculator_from_spec,
    relax_batch,
    relax_structure,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def calc():
    return calculator_from_spec("chgnet", device="cpu")


def _rocksalt(k: int) -> Structure:
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.70), ["Na", "Cl"],
                                  [[0, 0, 0], [0.5, 0.5, 0.5]])
    rng = np.random.default_rng(k)
    return Structure(s.lattice, s.species, s.cart_coords + rng.normal(scale=0.05 + 0.03 * k,
                                                                      size=(len(s), 3)),
                     coords_are_cartesian=True)


def test_batched_predictions_are_the_calculators(calc):
    atoms = [_to_atoms(_rocksalt(k)) for k in range(3)]
    batched, singles = _Evaluator(calc, with_stress=True)(atoms)
    assert singles == 0
    for a, out in zip(atoms, batched):
        a.calc = calc
        assert out["energy"] == pytest.approx(a.get_potential_energy(), abs=1e-4)
        assert np.abs(out["forces"] - a.get_forces()).max() < 1e-4
        assert np.abs(out["stress"] - a.get_stress()).max() < 1e-5


def test_chgnet_gives_free_energy_for_the_preconditioned_optimizers(calc):
    a = _to_atoms(_rocksalt(0))
    a.calc = calc
    assert a.get_potential_energy(force_consistent=True) == pytest.approx(
        a.get_potential_energy())
    r = relax_structure(_rocksalt(0), RelaxSettings(fmax_eV_A=0.05, steps=60, cell=True,
                                                    optimizer="PreconLBFGS"), calculator=calc)
    assert r.converged and r.final_energy_eV < r.initial_energy_eV


@pytest.mark.parametrize("optimizer", ["BFGS", "FIRE"])
def test_batch_gives_the_one_by_one_structures(calc, optimizer):
    structures = [_rocksalt(k) for k in range(3)]
    settings = RelaxSettings(fmax_eV_A=0.02, steps=300, cell=True, optimizer=optimizer)
    one = [relax_structure(s, settings, calculator=calc) for s in structures]
    batch = relax_batch(structures, settings, calculator=calc)
    assert batch.not_converged == ()
    # every evaluation was batched: one call per step of the slowest member, none alone
    assert batch.n_single_calls == 0
    assert batch.n_batched_calls == max(r.n_steps for r in batch.results) + 1
    assert all(r.n_calls == r.n_steps + 1 for r in batch.results)
    for a, b in zip(one, batch.results):
        assert a.converged and b.converged
        assert np.abs(a.structure.lattice.matrix - b.structure.lattice.matrix).max() < 1e-3
        assert np.abs(a.structure.cart_coords - b.structure.cart_coords).max() < 1e-3
