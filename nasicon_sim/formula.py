"""Read chemical formulas as chemists print them, into element amounts.

Handles what the NASICON literature writes: plain formulas (``Na3Zr2Si2PO12``), polyanion
groups with fractional multipliers (``Na3.52Mg0.16Zr1.84(SiO4)2.2(PO4)0.8``), square brackets,
unicode subscripts (``Na₃Zr₂Si₂PO₁₂``) and solid-solution amounts written with variables
(``Na1+xZr2SixP3-xO12``, ``Na(1+2y)...``) whose values are given by the caller.

This module knows nothing about NASICON; :mod:`nasicon_sim.composition` assigns the sites.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from nasicon_sim.errors import FormulaError, UnknownElementError

__all__ = ["parse_amounts", "format_amount"]

_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉₊₋", "0123456789+-")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2010": "-", "\u00b7": ".", "\u22c5": "."})
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_OPEN = {"(": ")", "[": "]", "{": "}"}
#: Characters an amount in brackets may hold: '(1+x)', '(0.5*y)'.
_AMOUNT_CHARS = frozenset("0123456789.+-*abcdefghijklmnopqrstuvwxyz")


@lru_cache(maxsize=1)
def _element_symbols() -> frozenset[str]:
    from pymatgen.core.periodic_table import Element

    return frozenset(e.symbol for e in Element)


def format_amount(value: float) -> str:
    """Shortest decimal string that reads back as exactly ``value`` ('' for 1).

    Parameters
    ----------
    value : float
        A stoichiometric amount, >= 0.

    Returns
    -------
    str
        ``''`` for 1, else the shortest round-trip representation without trailing zeros
        (``2``, ``0.5``, ``0.3333333333333333``).
    """
    if value == 1.0:
        return ""
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:.17f}".rstrip("0")
    if text.endswith(".0"):
        text = text[:-2]
    return text.rstrip(".")


def parse_amounts(
    formula: str, variables: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Element amounts of a formula, in order of first appearance.

    Parameters
    ----------
    formula : str
        A chemical formula. Amounts may be numbers, or linear expressions of single-letter
        lower-case variables (``1+x``, ``3-x``, ``2y``, ``(1+x)``) whose values are given in
        ``variables``. Groups in ``()``, ``[]`` or ``{}`` take a multiplier.
    variables : mapping of str to float, optional
        Values of the variables used in the formula (e.g. ``{"x": 2.0}``).

    Returns
    -------
    dict of str to float
        Amount of each element (zero amounts are dropped).

    Raises
    ------
    FormulaError
        On a syntax error, a missing variable value, or a negative amount.
    UnknownElementError
        On a symbol that is not a chemical element.
    """
    if not isinstance(formula, str):
        raise FormulaError(f"a formula must be a string, got {type(formula).__name__}")
    variables = dict(variables or {})
    for name, value in variables.items():
        if not (len(name) == 1 and name.islower() and name.isalpha()):
            raise FormulaError(f"variable names are single lower-case letters, got {name!r}")
        if not isinstance(value, (int, float)) or value != value:  # NaN check
            raise FormulaError(f"variable {name} must be a number, got {value!r}")
    text = formula.translate(_SUBSCRIPTS).translate(_DASHES)
    text = "".join(text.split())
    if not text:
        raise FormulaError("empty formula")
    parser = _Parser(text, variables, formula)
    amounts = parser.parse()
    return {el: amt for el, amt in amounts.items() if amt != 0.0}


class _Parser:
    """Reader of one formula string: a single left-to-right pass with an explicit stack of
    open groups, so its time is linear in the length and any nesting depth is fine."""

    def __init__(self, text: str, variables: dict[str, float], original: str) -> None:
        self.text = text
        self.pos = 0
        self.variables = variables
        self.original = original if len(original) <= 80 else original[:77] + "..."
        self._variable_letters = set(variables) | set("xyz")

    def error(self, message: str) -> FormulaError:
        return FormulaError(f"cannot read formula {self.original!r}: {message}")

    def parse(self) -> dict[str, float]:
        text = self.text
        # each open group: (its amounts, the bracket that closes it)
        stack: list[tuple[dict[str, float], str | None]] = [({}, None)]
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in _OPEN:
                stack.append(({}, _OPEN[ch]))
                self.pos += 1
            elif ch in ")]}":
                inner, closing = stack[-1]
                if closing != ch:
                    raise self.error(f"unbalanced {ch!r} at position {self.pos + 1}")
                stack.pop()
                self.pos += 1
                if not inner:
                    opening = next(k for k, v in _OPEN.items() if v == ch)
                    raise self.error(f"empty group {opening}{ch}")
                factor = self.amount()
                out = stack[-1][0]
                for el, amt in inner.items():
                    out[el] = out.get(el, 0.0) + amt * factor
            elif ch.isupper():
                element = self.element()
                amount = self.amount()
                out = stack[-1][0]
                out[element] = out.get(element, 0.0) + amount
            else:
                raise self.error(f"unexpected {ch!r} at position {self.pos + 1}")
        if len(stack) > 1:
            raise self.error(f"missing {stack[-1][1]!r}")
        result = stack[0][0]
        if not result:
            raise self.error("no elements found")
        return result

    def element(self) -> str:
        symbols = _element_symbols()
        two = self.text[self.pos : self.pos + 2]
        one = self.text[self.pos]
        # A lower-case letter that can be a variable ends the symbol, unless the two
        # letters form a real element (x, y, z never complete a symbol; 'Dy' is dysprosium).
        if len(two) == 2 and two[1].islower() and two in symbols:
            self.pos += 2
            return two
        if len(two) == 2 and two[1].islower() and two[1] not in self._variable_letters:
            j = self.pos + 2
            while j < len(self.text) and self.text[j].islower():
                j += 1
            raise UnknownElementError(
                f"unknown element {self.text[self.pos:j]!r} in formula {self.original!r}"
            )
        if one in symbols:
            self.pos += 1
            return one
        token = two if len(two) == 2 and two[1].islower() else one
        raise UnknownElementError(f"unknown element {token!r} in formula {self.original!r}")

    def amount(self) -> float:
        """Read the amount after an element or group; 1 when none is written."""
        start = self.pos
        if self.pos < len(self.text) and self.text[self.pos] in "([{":
            # '(1+x)' right after a symbol is an amount if it holds no element symbol; the
            # look-ahead stops at the first character an amount cannot hold, so a group that
            # follows is read once (linear time)
            closing = _OPEN[self.text[self.pos]]
            end = self.pos + 1
            while end < len(self.text) and self.text[end] in _AMOUNT_CHARS:
                end += 1
            inner = self.text[self.pos + 1 : end]
            if end < len(self.text) and self.text[end] == closing and inner:
                self.pos = end + 1
                return self._evaluate(inner)
            return 1.0
        allowed = set("0123456789.+-*") | set(self.variables)
        while self.pos < len(self.text) and self.text[self.pos] in allowed:
            self.pos += 1
        expr = self.text[start : self.pos]
        if self.pos < len(self.text) and self.text[self.pos].islower():
            name = self.text[self.pos]
            if name in self._variable_letters:
                raise self.error(
                    f"the amount uses the variable {name!r} but no value was given for it"
                    f" (pass e.g. --var {name}=0.5)"
                )
            raise self.error(f"unexpected {name!r} at position {self.pos + 1}")
        if not expr:
            return 1.0
        return self._evaluate(expr)

    def _evaluate(self, expr: str) -> float:
        """Evaluate a linear expression such as '3', '1+x', '3-x', '2y', '0.5*x'."""
        if expr[0] == "-":
            raise self.error(f"negative amount {expr!r}")
        terms = re.findall(r"[+-]?[^+-]+", expr)
        if "".join(terms) != expr or expr[-1] in "+-":
            raise self.error(f"cannot read amount {expr!r}")
        total = 0.0
        for term in terms:
            sign = -1.0 if term[0] == "-" else 1.0
            body = term.lstrip("+-")
            total += sign * self._term(body, expr)
        if total < -1e-12:
            values = ", ".join(f"{k}={v:g}" for k, v in self.variables.items())
            raise self.error(f"amount {expr!r} is negative ({total:g}) at {values}")
        return max(total, 0.0)

    def _term(self, body: str, expr: str) -> float:
        match = _NUMBER.match(body)
        coeff = 1.0
        rest = body
        if match:
            coeff = float(match.group())
            rest = body[match.end() :]
        rest = rest.lstrip("*")
        if not rest:
            if not match:
                raise self.error(f"cannot read amount {expr!r}")
            return coeff
        if len(rest) == 1 and rest in self.variables:
            return coeff * float(self.variables[rest])
        if len(rest) == 1 and rest.isalpha():
            raise self.error(f"no value given for variable {rest!r} (pass e.g. --var {rest}=0.5)")
        raise self.error(f"cannot read amount {expr!r}")
