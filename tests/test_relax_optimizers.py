"""Every optimiser reaches an analytic minimum; batched relaxation = one-by-one relaxation; a
batch with a member that fails or does not converge finishes the others and names that one.

Fast: ASE's Lennard-Jones and EMT calculators, no CHGNet (see test_relax_batch_chgnet.py).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from pymatgen.core import Lattice, Structure

from nasicon_sim.errors import NasiconSimError
from nasicon_sim.relax import (
    OPTIMIZERS,
    RelaxSettings,
    canonical_optimizer,
    relax_batch,
    relax_structure,
)

SIGMA, EPS, RC = 1.0, 1.0, 2.5
#: LJ pair minimum 2^(1/6) sigma; truncated (not smoothed) pair energy at it: -eps - e(rc)
R_MIN = 2 ** (1 / 6) * SIGMA
E_SHIFT = 4 * EPS * ((SIGMA / RC) ** 12 - (SIGMA / RC) ** 6)


def _lj() -> LennardJones:
    return LennardJones(sigma=SIGMA, epsilon=EPS, rc=RC, smooth=False)


def _tetrahedron(box: float = 12.0) -> Structure:
    """Four Ar atoms near a regular tetrahedron (no periodic image within the cutoff)."""
    a = R_MIN / np.sqrt(2)
    pts = np.array([[0, 0, 0], [a, a, 0], [a, 0, a], [0, a, a]], float)
    pts += np.array([[0.05, -0.03, 0.02], [-0.04, 0.06, 0.0], [0.03, 0.0, -0.05],
                     [0.0, -0.02, 0.04]])
    return Structure(Lattice.cubic(box), ["Ar"] * 4, pts + box / 2, coords_are_cartesian=True)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_reaches_the_lj_tetrahedron(optimizer):
    # the LJ4 minimum is the regular tetrahedron: 6 pairs at 2^(1/6) sigma, E = 6 (-eps - e_rc)
    r = relax_structure(_tetrahedron(), RelaxSettings("ase.calculators.lj:LennardJones",
                                                      fmax_eV_A=1e-4, steps=3000,
                                                      optimizer=optimizer), calculator=_lj())
    assert r.converged, optimizer
    pos = r.structure.cart_coords
    d = [np.linalg.norm(pos[i] - pos[j]) for i, j in itertools.combinations(range(4), 2)]
    assert np.allclose(d, R_MIN, atol=1e-4), (optimizer, d)
    assert r.final_energy_eV == pytest.approx(6 * (-EPS - E_SHIFT), abs=1e-7)
    assert r.n_calls >= r.n_steps + 1


def _perturbed_cu(k: int, cells: tuple[int, int, int] = (2, 2, 2)) -> Structure:
    s = Structure(Lattice.cubic(3.70), ["Cu"] * 4,
                  [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    s.make_supercell(cells)
    rng = np.random.default_rng(k)
    return Structure(s.lattice, s.species,
                     s.cart_coords + rng.normal(scale=0.04 + 0.02 * k, size=(len(s), 3)),
                     coords_are_cartesian=True)


@pytest.mark.parametrize("optimizer", [
    pytest.param(o, marks=pytest.mark.slow) if o == "PreconFIRE" else o for o in OPTIMIZERS])
def test_batch_relaxation_gives_the_one_by_one_structures(optimizer):
    structures = [_perturbed_cu(k, (2, 1, 1)) for k in range(4)]  # 8 atoms each
    settings = RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.02, steps=400, cell=True,
                             optimizer=optimizer)
    one = [relax_structure(s, settings) for s in structures]
    batch = relax_batch(structures, settings, batch_size=3)  # the 4th waits for a free place
    assert batch.not_converged == () and batch.batch_size == 3
    for a, b in zip(one, batch.results):
        assert a.converged and b.converged
        assert a.n_steps == b.n_steps
        assert np.abs(a.structure.lattice.matrix - b.structure.lattice.matrix).max() < 1e-3
        assert np.abs(a.structure.cart_coords - b.structure.cart_coords).max() < 1e-3
        assert b.final_energy_eV == pytest.approx(a.final_energy_eV, abs=1e-6)
        assert b.structure.site_properties == a.structure.site_properties
    # fewer model calls than members x steps: members share a call per step
    if optimizer in ("FIRE", "BFGS", "LBFGS"):
        assert batch.n_batched_calls <= max(r.n_steps for r in one) + 2 + one[-1].n_steps


class _FailsOnSecondCall(Calculator):
    """EMT, except that it raises for the structure with 33 atoms after its first call."""

    implemented_properties = ("energy", "free_energy", "forces", "stress")

    def __init__(self):
        super().__init__()
        self.emt = EMT()
        self.seen = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if len(self.atoms) == 33:
            self.seen += 1
            if self.seen > 1:
                raise RuntimeError("model blew up on this structure")
        self.emt.calculate(self.atoms, properties, system_changes)
        self.results = dict(self.emt.results)


def test_a_failing_member_leaves_and_the_others_finish():
    good = [_perturbed_cu(k) for k in (0, 1)]
    bad = _perturbed_cu(2)
    bad.append("Cu", [0.25, 0.25, 0.25])  # 33 atoms: the calculator fails on its 2nd call
    settings = RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.01, steps=400)
    done = []
    batch = relax_batch([good[0], bad, good[1]], settings, calculator=_FailsOnSecondCall(),
                        on_done=lambda i, r, e: done.append((i, r is not None, e)))
    assert batch.not_converged == (1,)
    assert batch.results[1] is None and "model blew up" in batch.errors[1]
    assert done[0] == (1, False, batch.errors[1])  # reported as soon as it failed
    for s, r in zip(good, (batch.results[0], batch.results[2])):
        ref = relax_structure(s, settings)
        assert r.converged
        assert np.abs(r.structure.cart_coords - ref.structure.cart_coords).max() < 1e-3


def test_a_member_that_does_not_converge_within_steps_is_reported():
    near = _perturbed_cu(0)
    far = _perturbed_cu(6)  # much larger displacements: needs more FIRE steps
    settings = RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.005, optimizer="FIRE")
    n_near = relax_structure(near, settings).n_steps
    n_far = relax_structure(far, settings).n_steps
    assert n_far > n_near + 5
    capped = RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.005, optimizer="FIRE",
                           steps=n_near + 2)
    batch = relax_batch([far, near], capped)
    assert batch.not_converged == (0,)
    assert batch.results[0] is not None and not batch.results[0].converged
    assert batch.results[0].n_steps == n_near + 2
    assert batch.results[1].converged and batch.results[1].n_steps == n_near
    assert batch.summary()["not_converged"] == [0]


def test_batch_arguments_are_checked():
    s = [_perturbed_cu(0)]
    with pytest.raises(NasiconSimError, match="batch size"):
        relax_batch(s, RelaxSettings("ase.calculators.emt:EMT"), batch_size=0)
    with pytest.raises(NasiconSimError, match="trajectory"):
        relax_batch(s, RelaxSettings("ase.calculators.emt:EMT"), trajectories=[None, None])
    with pytest.raises(NasiconSimError, match="unknown optimizer 'CG'"):
        RelaxSettings(optimizer="CG")
    assert canonical_optimizer("bfgslinesearch") == "BFGSLineSearch"


def test_batch_writes_one_trajectory_per_member(tmp_path):
    from ase.io import read

    s = [_perturbed_cu(0), _perturbed_cu(1)]
    paths = [tmp_path / "a.traj", tmp_path / "b.traj"]
    batch = relax_batch(s, RelaxSettings("ase.calculators.emt:EMT", fmax_eV_A=0.02,
                                         optimizer="BFGS"), trajectories=paths)
    for p, r in zip(paths, batch.results):
        frames = read(p, ":")
        assert len(frames) == r.n_steps + 1
        assert frames[-1].get_potential_energy() == pytest.approx(r.final_energy_eV)
