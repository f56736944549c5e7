"""Nearest cations of a site against a brute-force sum over periodic images, and trap notes."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from nasicon_sim.report.study import _trap_notes
from nasicon_sim.site_environment import nearest_cations, neighbour_key


def brute_force(lattice, site, frac, symbols, elements, n):
    site_cart = (np.asarray(site) % 1.0) @ lattice
    best = []
    for frac_i, el in zip(frac, symbols):
        if el not in elements:
            continue
        d = min(np.linalg.norm((frac_i + np.array(t)) @ lattice - site_cart)
                for t in itertools.product((-2, -1, 0, 1, 2), repeat=3))
        best.append((d, el))
    best.sort()
    return [(el, d) for d, el in best[:n]]


@pytest.mark.parametrize("seed", range(5))
def test_nearest_cations_match_brute_force_in_an_oblique_cell(seed):
    rng = np.random.default_rng(seed)
    lattice = np.array([[7.0, 0.0, 0.0], [2.1, 6.5, 0.0], [-1.3, 1.7, 8.2]])  # monoclinic-ish
    frac = rng.random((30, 3))
    symbols = rng.choice(["Zr", "Ga", "O", "Lu"], size=30).tolist()
    site = rng.random(3) + rng.integers(-2, 3, 3)  # any image of the site
    got = nearest_cations(lattice, site, frac, symbols, ["Zr", "Ga", "Lu"], n=3)
    want = brute_force(lattice, site, frac, symbols, {"Zr", "Ga", "Lu"}, 3)
    assert [el for el, _ in got] == [el for el, _ in want]
    assert [d for _, d in got] == pytest.approx([d for _, d in want], abs=1e-3)


def test_no_matching_element_gives_an_empty_environment():
    assert nearest_cations(np.eye(3) * 5, [0, 0, 0], np.zeros((1, 3)), ["O"], ["Zr"]) == ()
    assert neighbour_key(()) == "none"


def _comp(label, minima, barriers, m_site, near):
    return SimpleNamespace(composition=SimpleNamespace(label=label), minima_eV=minima,
                           barriers={"E_3D_eV": barriers}, descriptors={"m_site": m_site},
                           deepest_site_cations=near)


def test_trap_note_names_a_deep_minimum_with_an_unchanged_percolation_level():
    comps = [
        _comp("A", [-0.90, -0.92], [0.60, 0.62], {"Zr": 2.0}, {"Zr-Zr": 2}),
        _comp("B", [-0.91, -0.91], [0.61, 0.61], {"Zr": 1.5, "Lu": 0.5}, {"Lu-Zr": 2}),
        # same level (-0.30) as A and B, reached from a site 0.1 eV deeper: a trap next to Ga
        _comp("C", [-1.01, -1.01], [0.71, 0.71], {"Zr": 1.9, "Ga": 0.1}, {"Ga-Zr": 2}),
    ]
    notes = _trap_notes(SimpleNamespace(compositions=comps))
    assert len(notes) == 1
    assert notes[0].startswith("C: its deepest site lies 0.100 eV below")
    assert "next to Ga in 2 of 2" in notes[0] and "from that trap" in notes[0]


def test_no_trap_note_when_the_channels_also_move():
    comps = [
        _comp("A", [-0.90], [0.60], {"Zr": 2.0}, {"Zr-Zr": 1}),
        _comp("B", [-0.91], [0.61], {"Zr": 2.0}, {"Zr-Zr": 1}),
        _comp("C", [-1.01], [0.91], {"Zr": 2.0}, {"Zr-Zr": 1}),  # level -0.10: channels narrower
    ]
    notes = _trap_notes(SimpleNamespace(compositions=comps))
    assert len(notes) == 1 and "trap" not in notes[0]
