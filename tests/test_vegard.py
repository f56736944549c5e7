"""Vegard scaling rule: definition, parent limit, and the ME1 comparison."""

from __future__ import annotations

import pytest

from nasicon_sim.composition import parse_nasicon
from nasicon_sim.descriptors import shannon_radius_pm
from nasicon_sim.structure.parent import load_parent
from nasicon_sim.structure.vegard import (
    ME1_REFINED_CELL_A,
    OXYGEN_RADIUS_A,
    PARENT_M_RADIUS_A,
    mean_m_radius_A,
    vegard_scale,
)


def test_constants_are_shannons():
    from pymatgen.core import Species

    assert PARENT_M_RADIUS_A == pytest.approx(shannon_radius_pm("Zr", 4) / 100)
    assert OXYGEN_RADIUS_A == pytest.approx(Species("O", -2).get_shannon_radius("VI"))


def test_parent_composition_is_not_scaled():
    assert vegard_scale(parse_nasicon("Na3Zr2Si2PO12")) == pytest.approx(1.0)


def test_rule_by_hand_for_me1():
    comp = parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")
    r_m = 0.5 * 0.72 + 0.25 * 0.605 + 0.25 * 0.861  # Shannon VI: Zr4+, Ti4+, Lu3+
    assert mean_m_radius_A(comp) == pytest.approx(r_m)
    assert vegard_scale(comp) == pytest.approx((r_m + 1.40) / (0.72 + 1.40))


def test_me1_scaled_cell_within_half_a_percent_of_refinement():
    scale = vegard_scale(parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"))
    for parent, refined in zip(load_parent().lattice.abc, ME1_REFINED_CELL_A):
        assert abs(parent * scale - refined) / refined < 0.005


def test_larger_cations_expand_smaller_contract():
    assert vegard_scale(parse_nasicon("Na4Zr1Sc1Si2PO12")) > 1.0
    assert vegard_scale(parse_nasicon("Na3Ti2Si2PO12")) < 1.0
