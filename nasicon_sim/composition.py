"""NASICON compositions: site assignment, oxidation states and charge balance.

A NASICON formula Na(1+y) M2 (Si,P,S)3 O12 is split into three cation sublattices per formula
unit of 12 O (Hong, Mat. Res. Bull. 11 (1976) 173; Anantharamulu et al., J. Mater. Sci. 46
(2011) 2821):

* the **A (Na) site**: 0 to 4 Na+ over one 6b (Na1) and three 18e (Na2) positions of R-3c,
  i.e. 4d + 4e + 8f = 16 positions per Z = 4 cell in C2/c;
* the **M site**: octahedral cations, 2 per formula unit (Zr 8f in C2/c);
* the **T site**: tetrahedral polyanion centres Si4+, P5+, S6+ (As5+), 3 per formula unit.

Oxidation states come from a fixed table (``data/oxidation_states.csv``, with its sources);
for elements that can take several states, the assignment that balances the charge is
chosen and reported in :attr:`NasiconComposition.notes`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from nasicon_sim.errors import (
    ChargeBalanceError,
    FormulaError,
    MSiteError,
    NotNasiconError,
    OxidationStateError,
)
from nasicon_sim.formula import format_amount, parse_amounts

__all__ = [
    "CHARGE_TOLERANCE",
    "M_SITE_TOLERANCE",
    "NA_SITES_PER_FU",
    "OXYGEN_PER_FU",
    "T_SITE_ELEMENTS",
    "NasiconComposition",
    "compose",
    "oxidation_state_table",
    "parse_nasicon",
]

#: Oxygen atoms per NASICON formula unit; formulas are normalised to this.
OXYGEN_PER_FU: float = 12.0
#: Octahedral M-site cations per formula unit.
M_SITE_PER_FU: float = 2.0
#: Tetrahedral (polyanion) cations per formula unit.
T_SITE_PER_FU: float = 3.0
#: Na positions per formula unit (Na1 6b + Na2 18e in R-3c = 16 positions per C2/c cell, Z = 4).
NA_SITES_PER_FU: float = 4.0
#: Largest accepted deviation of the M- and T-site sums from 2 and 3 per formula unit.
#: Printed formulas are rounded to two decimals, so sums can be off by up to ~0.01.
M_SITE_TOLERANCE: float = 0.02
#: Largest accepted net charge per formula unit (elementary charges).
CHARGE_TOLERANCE: float = 0.02
#: Elements placed on the tetrahedral site.
T_SITE_ELEMENTS: frozenset[str] = frozenset({"Si", "P", "S", "As"})
_OTHER_ALKALI = frozenset({"H", "Li", "K", "Rb", "Cs", "Fr", "Ag"})
_ANIONS_NOT_O = frozenset({"F", "Cl", "Br", "I", "N", "C", "Se"})


@lru_cache(maxsize=1)
def oxidation_state_table() -> Mapping[str, tuple[int, ...]]:
    """Allowed oxidation states per element, preferred first (from ``data/oxidation_states.csv``).

    Returns
    -------
    Mapping of str to tuple of int
        Read-only mapping element -> states.
    """
    text = resources.files("nasicon_sim").joinpath("data/oxidation_states.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    table = {row["element"]: tuple(int(s) for s in row["states"].split(";")) for row in rows}
    return MappingProxyType(table)


def _candidate_states(element: str) -> tuple[int, ...]:
    table = oxidation_state_table()
    if element in table:
        return table[element]
    from pymatgen.core.periodic_table import Element

    el = Element(element)
    states = tuple(s for s in el.common_oxidation_states if s > 0) or tuple(
        s for s in el.icsd_oxidation_states if s > 0
    )
    if not states:
        raise OxidationStateError(
            f"{element} has no known positive oxidation state; give one explicitly"
        )
    return states


@dataclass(frozen=True)
class NasiconComposition:
    """A charge-balanced NASICON composition per formula unit of 12 O.

    Attributes
    ----------
    formula_input : str
        The formula as given by the user.
    na : float
        Na per formula unit (A site), 0-4.
    m_site : Mapping[str, float]
        Octahedral-site cations per formula unit, in input order; sums to 2 within
        :data:`M_SITE_TOLERANCE`.
    t_site : Mapping[str, float]
        Tetrahedral-site cations (Si, P, S, As) per formula unit; sums to 3.
    oxidation_states : Mapping[str, int]
        Oxidation state of every element, O included.
    notes : tuple of str
        How ambiguous oxidation states were resolved, and normalisation applied.
    """

    formula_input: str = field(compare=False)
    na: float
    m_site: Mapping[str, float]
    t_site: Mapping[str, float]
    oxidation_states: Mapping[str, int] = field(compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # private copies, so that the caller's dicts cannot change this object (and it pickles)
        object.__setattr__(self, "m_site", dict(self.m_site))
        object.__setattr__(self, "t_site", dict(self.t_site))
        object.__setattr__(self, "oxidation_states", dict(self.oxidation_states))

    def __hash__(self) -> int:
        # equality compares the site dicts regardless of order, so the hash must too
        return hash((self.na, tuple(sorted(self.m_site.items())), tuple(sorted(self.t_site.items()))))

    @property
    def m_fractions(self) -> dict[str, float]:
        """M-site fractions x_i (sum 1), in input order."""
        total = sum(self.m_site.values())
        return {el: amt / total for el, amt in self.m_site.items()}

    @property
    def si(self) -> float:
        """Si per formula unit (the y of Na(1+y)Zr2SiyP(3-y)O12 for M4+ frameworks)."""
        return self.t_site.get("Si", 0.0)

    @property
    def formula(self) -> str:
        """Canonical formula that :func:`parse_nasicon` reads back to this composition."""
        parts = [f"Na{format_amount(self.na)}"] if self.na > 0 else []
        parts += [f"{el}{format_amount(a)}" for el, a in self.m_site.items()]
        parts += [f"{el}{format_amount(self.t_site[el])}" for el in ("Si", "P", "S", "As")
                  if el in self.t_site]
        parts.append("O12")
        return "".join(parts)

    @property
    def formula_pretty(self) -> str:
        """Formula with amounts rounded to 4 decimals, for tables and plots."""
        def fmt(v: float) -> str:
            return format_amount(round(v, 4))

        parts = [f"Na{fmt(self.na)}"] if self.na > 0 else []
        parts += [f"{el}{fmt(a)}" for el, a in self.m_site.items()]
        parts += [f"{el}{fmt(self.t_site[el])}" for el in ("Si", "P", "S", "As")
                  if el in self.t_site]
        return "".join(parts) + "O12"

    @property
    def charge(self) -> float:
        """Net charge per formula unit (e); |charge| <= :data:`CHARGE_TOLERANCE`."""
        return _net_charge(self.na, self.m_site, self.t_site, self.oxidation_states)

    def amounts(self) -> dict[str, float]:
        """All element amounts per formula unit (O = 12)."""
        out: dict[str, float] = {}
        if self.na > 0:
            out["Na"] = self.na
        for part in (self.m_site, self.t_site):
            for el, amt in part.items():
                out[el] = out.get(el, 0.0) + amt
        out["O"] = OXYGEN_PER_FU
        return out


def _net_charge(
    na: float,
    m_site: Mapping[str, float],
    t_site: Mapping[str, float],
    states: Mapping[str, int],
) -> float:
    cations = na * states.get("Na", 1)
    cations += sum(a * states[el] for el, a in m_site.items())
    cations += sum(a * states[el] for el, a in t_site.items())
    return cations - 2.0 * OXYGEN_PER_FU


#: Largest number of partial assignments the oxidation-state search visits before refusing.
OXIDATION_SEARCH_BUDGET: int = 200_000
#: Largest number of equally plausible alternative assignments listed in the notes.
MAX_ALTERNATIVES_SHOWN: int = 5


class _Budget:
    """Counts search nodes; raises when the budget is spent."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def tick(self) -> None:
        self.used += 1
        if self.used > self.limit:
            raise _BudgetSpent


class _BudgetSpent(Exception):
    pass


def _balanced_at_rank(
    contrib: list[list[float]], lo: list[float], hi: list[float], ranks_left: list[int],
    base: float, rank: int, limit: int, budget: _Budget,
) -> list[tuple[int, ...]]:
    """State-index combinations of total rank ``rank`` (sum of indices) with |charge| <= tol,
    in lexicographic order, at most ``limit`` of them.

    Depth-first with two bounds: the charge the remaining elements can still add lies in
    ``[lo[i], hi[i]]``, and their indices can add at most ``ranks_left[i]``.
    """
    n = len(contrib)
    found: list[tuple[int, ...]] = []
    combo: list[int] = []

    def visit(i: int, q: float, r: int) -> None:
        budget.tick()
        if len(found) >= limit:
            return
        if q + lo[i] > CHARGE_TOLERANCE or q + hi[i] < -CHARGE_TOLERANCE or r > ranks_left[i]:
            return
        if i == n:
            if r == 0 and abs(q) <= CHARGE_TOLERANCE:
                found.append(tuple(combo))
            return
        for k in range(min(len(contrib[i]), r + 1)):
            combo.append(k)
            visit(i + 1, q + contrib[i][k], r - k)
            combo.pop()

    visit(0, base, rank)
    return found


def _closest(
    contrib: list[list[float]], lo: list[float], hi: list[float], base: float, budget: _Budget,
) -> tuple[int, ...]:
    """The combination with the smallest |charge| (then the smallest rank) found within the
    budget (branch and bound on the distance of the reachable charge interval from 0)."""
    n = len(contrib)
    best: list[Any] = [math.inf, math.inf, ()]
    combo: list[int] = []

    def visit(i: int, q: float, rank: int) -> None:
        budget.tick()
        bound = max(0.0, q + lo[i], -(q + hi[i]))
        if bound > best[0] + 1e-12:
            return
        if i == n:
            key = (abs(q), rank)
            if key[0] < best[0] - 1e-12 or (abs(key[0] - best[0]) <= 1e-12 and rank < best[1]):
                best[:] = [abs(q), rank, tuple(combo)]
            return
        for k in range(len(contrib[i])):
            combo.append(k)
            visit(i + 1, q + contrib[i][k], rank + k)
            combo.pop()

    try:
        visit(0, base, 0)
    except _BudgetSpent:
        pass
    return best[2]


def _assign_oxidation_states(
    na: float,
    m_site: Mapping[str, float],
    t_site: Mapping[str, float],
    overrides: Mapping[str, int],
    formula: str,
) -> tuple[dict[str, int], list[str]]:
    """Choose one state per element so that the formula is neutral; prefer table order.

    Among the neutral assignments, the one with the smallest sum of table positions (rank)
    wins, ties broken by table order of the first element, then the next... The search runs
    rank by rank with charge bounds, so its cost grows with the number of plausible
    assignments, not with the number of all combinations; past
    :data:`OXIDATION_SEARCH_BUDGET` visited nodes it refuses and asks for ``--oxi``.
    """
    elements = list(m_site) + list(t_site)
    amounts = [float(m_site[el]) if el in m_site else float(t_site[el]) for el in elements]
    choices: list[tuple[int, ...]] = []
    for el in elements:
        if el in overrides:
            choices.append((int(overrides[el]),))
        else:
            choices.append(_candidate_states(el))
    fixed = {"Na": 1, "O": -2}
    base = na * 1 - 2.0 * OXYGEN_PER_FU
    contrib = [[a * state for state in c] for a, c in zip(amounts, choices)]
    n = len(elements)
    lo = [0.0] * (n + 1)
    hi = [0.0] * (n + 1)
    ranks_left = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        lo[i] = lo[i + 1] + min(contrib[i])
        hi[i] = hi[i + 1] + max(contrib[i])
        ranks_left[i] = ranks_left[i + 1] + len(contrib[i]) - 1

    def states_of(combo: tuple[int, ...]) -> dict[str, int]:
        return {**fixed, **{el: choices[i][k] for i, (el, k) in enumerate(zip(elements, combo))}}

    multi = [el for el, c in zip(elements, choices) if len(c) > 1]
    budget = _Budget(OXIDATION_SEARCH_BUDGET)
    balanced: list[tuple[int, ...]] = []
    try:
        for rank in range(ranks_left[0] + 1):
            balanced = _balanced_at_rank(contrib, lo, hi, ranks_left, base, rank,
                                         MAX_ALTERNATIVES_SHOWN + 2, budget)
            if balanced:
                break
    except _BudgetSpent:
        raise OxidationStateError(
            f"{formula!r}: too many cations with several oxidation states ({len(multi)}: "
            f"{', '.join(multi)}) to search their combinations; give their states with --oxi "
            f"(e.g. --oxi {multi[0]}={choices[elements.index(multi[0])][0]})") from None
    notes: list[str] = []
    if balanced:
        states = states_of(balanced[0])
        if multi:
            chosen = ", ".join(f"{el}{states[el]:+d}" for el in multi)
            notes.append(f"oxidation states chosen to balance the charge: {chosen}")
            alternatives = [states_of(c) for c in balanced[1:MAX_ALTERNATIVES_SHOWN + 1]]
            if alternatives:
                alt = "; ".join(", ".join(f"{el}{s[el]:+d}" for el in multi) for s in alternatives)
                more = " and more" if len(balanced) > MAX_ALTERNATIVES_SHOWN + 1 else ""
                notes.append(f"equally plausible alternative(s): {alt}{more}")
        return states, notes
    states = states_of(_closest(contrib, lo, hi, base, _Budget(OXIDATION_SEARCH_BUDGET)))
    signed = _net_charge(na, m_site, t_site, states)
    shown = ", ".join(f"{el}{states[el]:+d}" for el in elements)
    raise ChargeBalanceError(
        f"{formula!r} is not charge neutral: net charge {signed:+.3f} e per formula unit "
        f"(12 O) with Na+1, {shown}"
        + (f" (closest of the allowed states of {', '.join(multi)})" if multi else "")
    )


def _validate_amount(name: str, value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise FormulaError(f"amount of {name} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise FormulaError(f"amount of {name} must be finite, got {value!r}")
    if value < 0:
        raise FormulaError(f"negative amount of {name}: {value:g}")
    return value


def _split_sites(
    amounts: Mapping[str, float], formula: str
) -> tuple[float, dict[str, float], dict[str, float], list[str]]:
    notes: list[str] = []
    others = sorted(set(amounts) & _OTHER_ALKALI)
    if others:
        raise NotNasiconError(
            f"{formula!r} contains {', '.join(others)}: nasicon-sim models Na-NASICON only "
            "(the A site holds Na)"
        )
    anions = sorted(set(amounts) & _ANIONS_NOT_O)
    if anions:
        raise NotNasiconError(
            f"{formula!r} contains the anion(s) {', '.join(anions)}: NASICON frameworks here are oxides"
        )
    oxygen = amounts.get("O", 0.0)
    if oxygen <= 0:
        raise NotNasiconError(
            f"{formula!r} has no oxygen: a NASICON formula unit holds 12 O "
            "(e.g. Na3Zr2Si2PO12 or Na3Zr2(SiO4)2(PO4))"
        )
    scale = OXYGEN_PER_FU / oxygen
    if abs(scale - 1.0) > 1e-9:
        notes.append(f"amounts scaled by {scale:g} to 12 O per formula unit")
    na = amounts.get("Na", 0.0) * scale
    t_site = {el: a * scale for el, a in amounts.items() if el in T_SITE_ELEMENTS}
    m_site = {
        el: a * scale for el, a in amounts.items()
        if el not in T_SITE_ELEMENTS and el not in ("Na", "O")
    }
    t_sum = sum(t_site.values())
    if abs(t_sum - T_SITE_PER_FU) > M_SITE_TOLERANCE:
        raise NotNasiconError(
            f"{formula!r}: the tetrahedral site (Si+P+S+As) holds {t_sum:.3f} per 12 O; "
            f"NASICON needs {T_SITE_PER_FU:g} ± {M_SITE_TOLERANCE}"
        )
    if not m_site:
        raise MSiteError(f"{formula!r} has no octahedral (M-site) cation")
    m_sum = sum(m_site.values())
    if abs(m_sum - M_SITE_PER_FU) > M_SITE_TOLERANCE:
        detail = " + ".join(f"{el} {a:.3g}" for el, a in m_site.items())
        raise MSiteError(
            f"{formula!r}: the M site sums to {m_sum:.3f} per formula unit ({detail}); "
            f"expected {M_SITE_PER_FU:g} ± {M_SITE_TOLERANCE}"
        )
    if na > NA_SITES_PER_FU + M_SITE_TOLERANCE:
        raise NotNasiconError(
            f"{formula!r}: {na:.3f} Na per formula unit overfills the A site "
            f"(at most {NA_SITES_PER_FU:g}: Na1 + 3 Na2 positions)"
        )
    return na, m_site, t_site, notes


def parse_nasicon(
    formula: str,
    variables: Mapping[str, float] | None = None,
    oxidation_states: Mapping[str, int] | None = None,
) -> NasiconComposition:
    """Parse a NASICON formula into sites, oxidation states and a charge check.

    Parameters
    ----------
    formula : str
        As printed in the literature, e.g. ``"Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"``,
        ``"Na3Zr2(SiO4)2(PO4)"``, ``"NaTi2(PO4)3"`` or ``"Na1+xZr2SixP3-xO12"``.
        Any multiple of the formula unit is normalised to 12 O.
    variables : mapping, optional
        Values of variables in the formula, e.g. ``{"x": 2.0}``.
    oxidation_states : mapping, optional
        Oxidation states that override the table, e.g. ``{"Ti": 3}``.

    Returns
    -------
    NasiconComposition

    Raises
    ------
    FormulaError
        Unreadable formula, unknown element, negative amount (subclasses say which).
    NotNasiconError, MSiteError
        The formula is not of the NASICON type (no O, T site != 3, M site != 2, Na > 4).
    ChargeBalanceError
        No oxidation-state assignment balances the charge; the message gives the net charge.

    Examples
    --------
    >>> c = parse_nasicon("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")
    >>> dict(c.m_site), c.na
    ({'Zr': 1.0, 'Ti': 0.5, 'Lu': 0.5}, 3.5)
    """
    amounts = parse_amounts(formula, variables)
    na, m_site, t_site, notes = _split_sites(amounts, formula)
    states, state_notes = _assign_oxidation_states(
        na, m_site, t_site, dict(oxidation_states or {}), formula
    )
    return NasiconComposition(
        formula_input=formula,
        na=na,
        m_site=m_site,
        t_site=t_site,
        oxidation_states=states,
        notes=tuple(notes + state_notes),
    )


def compose(
    m_site: Mapping[str, float],
    si: float = 2.0,
    *,
    t_site: Mapping[str, float] | None = None,
    na: float | None = None,
    oxidation_states: Mapping[str, int] | None = None,
) -> NasiconComposition:
    """Build a composition of the family Na(1+y) M2 Si(y) P(3-y) O12 from its M site.

    Parameters
    ----------
    m_site : mapping of str to float
        M-site cations per formula unit (sum 2), e.g. ``{"Zr": 1.0, "Ti": 0.5, "Lu": 0.5}``.
    si : float, default 2.0
        Si per formula unit; P = 3 - si. Ignored when ``t_site`` is given.
    t_site : mapping, optional
        Explicit tetrahedral site (e.g. ``{"S": 3}``).
    na : float, optional
        Na per formula unit; by default it follows from charge balance.
    oxidation_states : mapping, optional
        Overrides of the oxidation-state table.

    Returns
    -------
    NasiconComposition

    Examples
    --------
    >>> compose({"Zr": 1.0, "Ti": 0.5, "Lu": 0.5}).na
    3.5
    """
    m = {el: _validate_amount(el, a) for el, a in m_site.items()}
    m = {el: a for el, a in m.items() if a > 0}
    if t_site is None:
        si = _validate_amount("Si", si)
        if si > T_SITE_PER_FU:
            raise FormulaError(f"Si = {si:g} exceeds the 3 tetrahedral sites per formula unit")
        t = {"Si": si, "P": T_SITE_PER_FU - si}
    else:
        t = {el: _validate_amount(el, a) for el, a in t_site.items()}
    t = {el: a for el, a in t.items() if a > 0}
    overrides = dict(oxidation_states or {})
    if na is None:
        # Na from charge balance; oxidation states of multivalent M cations use table order.
        states = {el: overrides.get(el, _candidate_states(el)[0]) for el in list(m) + list(t)}
        na = -_net_charge(0.0, m, t, states)
        if na < -CHARGE_TOLERANCE:
            raise ChargeBalanceError(
                f"M site {m} with T site {t} needs {na:+.3f} Na per formula unit: "
                "the framework is already over-charged"
            )
        na = max(na, 0.0)
    amounts = {"Na": _validate_amount("Na", na), **m, **t, "O": OXYGEN_PER_FU}
    label = "".join(f"{el}{format_amount(a)}" for el, a in amounts.items() if a > 0)
    n, m_split, t_split, notes = _split_sites({k: v for k, v in amounts.items() if v > 0}, label)
    states, state_notes = _assign_oxidation_states(n, m_split, t_split, overrides, label)
    return NasiconComposition(
        formula_input=label,
        na=n,
        m_site=m_split,
        t_site=t_split,
        oxidation_states=states,
        notes=tuple(notes + state_notes),
    )
