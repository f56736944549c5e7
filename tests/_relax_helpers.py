"""A calculator with an analytic minimum, for fast relaxation tests without CHGNet.

``ShiftSprings``: every atom is tied by a spring of stiffness ``k`` to the position it had at
the first evaluation plus a fixed Cartesian shift, so the relaxed positions are the start
positions + shift, the initial energy is ``k/2 N |shift|^2`` and the final energy 0.
"""

from __future__ import annotations

import weakref

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

SHIFT_A = np.array([0.12, -0.05, 0.08])
STIFFNESS_EV_A2 = 2.0


class ShiftSprings(Calculator):
    implemented_properties = ("energy", "forces")

    def __init__(self, shift=SHIFT_A, k=STIFFNESS_EV_A2):
        super().__init__()
        self.shift = np.asarray(shift, float)
        self.k = float(k)
        self.anchor = None
        self.owner = None
        self.n_structures = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        if atoms is not None and (self.owner is None or self.owner() is not atoms):
            self.owner, self.anchor = weakref.ref(atoms), None  # a new structure: new anchors
            self.n_structures += 1
            self.new_structure()
        super().calculate(atoms, properties, system_changes)
        pos = self.atoms.get_positions()
        if self.anchor is None:
            self.anchor = pos + self.shift
        d = pos - self.anchor
        self.results["energy"] = 0.5 * self.k * float((d ** 2).sum())
        self.results["forces"] = -self.k * d


    def new_structure(self):
        pass


class InterruptOnSecond(ShiftSprings):
    """Behaves like ShiftSprings, and raises KeyboardInterrupt on the second structure."""

    def new_structure(self):
        if self.n_structures == 2:
            raise KeyboardInterrupt


def interrupt_on_second() -> InterruptOnSecond:
    return InterruptOnSecond()


def shift_springs() -> ShiftSprings:
    """Factory for ``--calculator _relax_helpers:shift_springs``."""
    return ShiftSprings()


def not_a_calculator():
    return 42
