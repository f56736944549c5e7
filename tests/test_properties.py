"""Property-based tests of the formula parser (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasicon_sim.composition import compose, parse_nasicon
from nasicon_sim.errors import NasiconSimError

# M cations with a single oxidation state in the table, so that Na follows unambiguously
FIXED_M = ["Zr", "Hf", "Ge", "Sc", "Lu", "Ga", "Al", "In", "Y", "Mg", "Zn", "Ca", "Ta", "Yb"]
FIXED_M.remove("Yb")  # Yb has two states


@st.composite
def compositions(draw):
    k = draw(st.integers(1, 5))
    elements = draw(st.lists(st.sampled_from(FIXED_M), min_size=k, max_size=k, unique=True))
    steps = draw(st.lists(st.integers(1, 40), min_size=k, max_size=k))
    total = sum(steps)
    m_site = {el: 2.0 * s / total for el, s in zip(elements, steps)}
    si = draw(st.integers(0, 12)) / 4.0
    try:
        return compose(m_site, si=si)
    except NasiconSimError:
        return None


@settings(max_examples=300, deadline=None)
@given(compositions())
def test_valid_compositions_round_trip(comp):
    if comp is None or comp.na > 4:
        return
    back = parse_nasicon(comp.formula)
    assert back.na == pytest.approx(comp.na, abs=1e-12)
    assert dict(back.m_site) == pytest.approx(dict(comp.m_site), abs=1e-12)
    assert dict(back.t_site) == pytest.approx(dict(comp.t_site), abs=1e-12)
    assert back.oxidation_states == comp.oxidation_states
    # and through a printed multiple of the formula unit
    doubled = "".join(f"{el}{2 * a!r}" for el, a in comp.amounts().items())
    assert parse_nasicon(doubled) == back


ALPHABET = "NaZrSiPOTiLuHfGaScxy()[]{}0123456789.+-*# \u2082\u00b7"


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=30))
def test_garbage_never_crashes(text):
    try:
        parse_nasicon(text)
    except NasiconSimError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["x", "y", "z", "q"]), st.floats(-5, 5) | st.just(float("nan"))))
def test_garbage_variables_never_crash(variables):
    try:
        parse_nasicon("Na1+xZr2SixP3-xO12", variables=variables)
    except NasiconSimError:
        pass


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(compositions(), st.sampled_from([1, 2, 3, 6]))
def test_round_trip_thoroughly(comp, multiple):
    """Slow, thorough variant: many compositions, printed as multiples of the formula unit."""
    if comp is None or comp.na > 4:
        return
    printed = "".join(f"{el}{multiple * a!r}" for el, a in comp.amounts().items())
    back = parse_nasicon(printed)
    assert back.na == pytest.approx(comp.na, abs=1e-9)
    assert dict(back.m_site) == pytest.approx(dict(comp.m_site), abs=1e-9)
