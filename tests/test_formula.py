"""Formula reading: notations of the NASICON literature, variables, and errors."""

from __future__ import annotations

import pytest

from nasicon_sim.errors import FormulaError, UnknownElementError
from nasicon_sim.formula import format_amount, parse_amounts


@pytest.mark.parametrize(
    ("formula", "variables", "expected"),
    [
        ("Na3Zr2Si2PO12", None, {"Na": 3, "Zr": 2, "Si": 2, "P": 1, "O": 12}),
        ("Na3Zr2(SiO4)2(PO4)", None, {"Na": 3, "Zr": 2, "Si": 2, "O": 12, "P": 1}),
        ("NaTi2(PO4)3", None, {"Na": 1, "Ti": 2, "P": 3, "O": 12}),
        ("Na3.52Mg0.16Zr1.84(SiO4)2.2(PO4)0.8", None,
         {"Na": 3.52, "Mg": 0.16, "Zr": 1.84, "Si": 2.2, "O": 12.0, "P": 0.8}),
        ("Na1+xZr2SixP3-xO12", {"x": 2}, {"Na": 3, "Zr": 2, "Si": 2, "P": 1, "O": 12}),
        ("Na(1+y)Zr2Si(y)P(3-y)O12", {"y": 0.4}, {"Na": 1.4, "Zr": 2, "Si": 0.4, "P": 2.6, "O": 12}),
        ("Na1+2xZr2-xMgxP3O12", {"x": 0.25}, {"Na": 1.5, "Zr": 1.75, "Mg": 0.25, "P": 3, "O": 12}),
        ("Na₃Zr₂Si₂PO₁₂", None, {"Na": 3, "Zr": 2, "Si": 2, "P": 1, "O": 12}),
        ("Na3 Zr2 Si2 P O12", None, {"Na": 3, "Zr": 2, "Si": 2, "P": 1, "O": 12}),
        ("Na6Hf3MgSi2(PO6)4", None, {"Na": 6, "Hf": 3, "Mg": 1, "Si": 2, "P": 4, "O": 24}),
        ("Na[Zr2(PO4)3]", None, {"Na": 1, "Zr": 2, "P": 3, "O": 12}),
        ("Na1+xZr2SixP3-xO12", {"x": 0}, {"Na": 1, "Zr": 2, "P": 3, "O": 12}),
    ],
)
def test_literature_notations(formula, variables, expected):
    got = parse_amounts(formula, variables)
    assert set(got) == set(expected)
    for el, amt in expected.items():
        assert got[el] == pytest.approx(amt, abs=1e-12)


def test_dysprosium_is_not_a_variable():
    assert parse_amounts("Na3Dy2P3O12") == {"Na": 3, "Dy": 2, "P": 3, "O": 12}


@pytest.mark.parametrize(
    ("formula", "error", "fragment"),
    [
        ("Na3Xx2Si2PO12", UnknownElementError, "'Xx'"),
        ("Qq3", UnknownElementError, "'Qq'"),
        ("Na1+xZr2SixP3-xO12", FormulaError, "no value was given"),
        ("Na3Zr2(SiO4", FormulaError, "missing ')'"),
        ("Na3Zr2)", FormulaError, "unbalanced"),
        ("Na-3Zr2", FormulaError, "negative"),
        ("", FormulaError, "empty"),
        ("()", FormulaError, "empty group"),
        ("na3zr2", FormulaError, "unexpected"),
        ("Na3Zr2Si2PO12#", FormulaError, "unexpected '#'"),
    ],
)
def test_errors_name_the_problem(formula, error, fragment):
    with pytest.raises(error) as info:
        parse_amounts(formula)
    assert fragment in str(info.value)


def test_negative_amount_from_variable_is_reported():
    with pytest.raises(FormulaError, match="negative"):
        parse_amounts("Na1+xZr2SixP3-xO12", {"x": 3.5})


def test_non_string_input():
    with pytest.raises(FormulaError, match="must be a string"):
        parse_amounts(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.0, 2.0, 0.5, 1 / 3, 3.52, 1e-7, 12.0])
def test_format_amount_round_trips(value):
    text = format_amount(value)
    assert (float(text) if text else 1.0) == value
