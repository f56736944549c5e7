"""Screening: enumerate multi-cation NASICON compositions from a dopant palette, score, rank.

Candidates follow the dopant rules of Zuo et al. (Energy Environ. Sci. 19 (2026) 860):
dopants whose six-fold Shannon radius is close to that of Zr4+ (within
``radius_tolerance_pm``) and whose valence is +2 to +6 (to tune the Na content). The M site
(2 per formula unit) is filled on a grid of ``step`` per formula unit with the host (Zr)
always present and at most ``max_cations`` distinct cations; Si per formula unit is fixed or
on a list of values (P = 3 - Si); Na follows from charge balance,
Na = 24 - sum_i a_i v_i - 4 Si - 5 P, and must lie in [na_min, na_max] (A-site capacity 4);
the M-site entropy -sum x ln x must lie in [entropy_min, entropy_max].

Everything is done on integer grids and arrays: compositions are weak compositions of
N = 2 / step units over the cations (stars and bars, ``itertools.combinations`` of bar
positions), and descriptors come from per-species tables
(:class:`~nasicon_sim.ml.features.CompositionArrays`), never by writing and parsing a formula
per candidate. A test checks a sample against ``parse_nasicon`` + ``describe``.
"""

from __future__ import annotations

import csv
import io
import itertools
import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.special import entr

from nasicon_sim.composition import oxidation_state_table
from nasicon_sim.descriptors import shannon_radius_pm
from nasicon_sim.errors import ScreeningError
from nasicon_sim.formula import format_amount
from nasicon_sim.io.atomic import atomic_write_bytes
from nasicon_sim.ml.features import CompositionArrays, compute_features

__all__ = [
    "MAX_GRID_POINTS",
    "Candidates",
    "ScreenResult",
    "ScreenSpec",
    "enumerate_candidates",
    "screen",
    "write_candidates_csv",
]

logger = logging.getLogger(__name__)

#: Largest number of grid points (before filtering) one enumeration may visit.
MAX_GRID_POINTS = 3_000_000
_DESCRIPTORS = ("radius_pm", "electronegativity", "valence", "entropy_R", "delta_radius")


@dataclass(frozen=True)
class ScreenSpec:
    """What to enumerate.

    Attributes
    ----------
    elements : tuple of str
        Dopant palette (the host may be listed too; it is always used).
    host : str, default "Zr"
        Cation present in every candidate, and the radius reference.
    max_cations : int, default 5
        Most distinct M-site cations, host included.
    step : float, default 0.1
        Grid of M-site amounts per formula unit; 2 / step must be an integer.
    si_values : tuple of float, default (2.0,)
        Si per formula unit (P = 3 - Si).
    na_min, na_max : float, default 1.0, 4.0
        Bounds on Na per formula unit (from charge balance).
    entropy_min, entropy_max : float, default 0.0, inf
        Bounds on the M-site entropy, units of R.
    radius_tolerance_pm : float, default 20.0
        Largest |r(dopant) - r(host)| of six-fold Shannon radii, pm.
    valence_min, valence_max : int, default 2, 6
        Allowed dopant valences.
    oxidation_states : mapping, optional
        Valence overrides (default: the first state of the oxidation-state table).
    """

    elements: tuple[str, ...]
    host: str = "Zr"
    max_cations: int = 5
    step: float = 0.1
    si_values: tuple[float, ...] = (2.0,)
    na_min: float = 1.0
    na_max: float = 4.0
    entropy_min: float = 0.0
    entropy_max: float = math.inf
    radius_tolerance_pm: float = 20.0
    valence_min: int = 2
    valence_max: int = 6
    oxidation_states: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "elements", tuple(e.strip() for e in self.elements if e.strip()))
        object.__setattr__(self, "si_values", tuple(float(s) for s in self.si_values))
        object.__setattr__(self, "oxidation_states", dict(self.oxidation_states))


@dataclass(frozen=True)
class Candidates:
    """Enumerated compositions.

    Attributes
    ----------
    cations : tuple of str
        M-site cations, host first; columns of ``units``.
    valences : tuple of int
    units : numpy.ndarray, shape (n, k), int
        M-site amounts in grid units (amount = units * step).
    step : float
    si : numpy.ndarray, shape (n,)
    na : numpy.ndarray, shape (n,)
    arrays : CompositionArrays
        The same compositions for the feature kernel.
    counts : dict of str to int
        Grid points visited and kept after each filter.
    """

    cations: tuple[str, ...]
    valences: tuple[int, ...]
    units: np.ndarray
    step: float
    si: np.ndarray
    na: np.ndarray
    arrays: CompositionArrays
    counts: dict[str, int]

    def __len__(self) -> int:
        return int(self.na.shape[0])

    def key(self, i: int) -> tuple:
        """:func:`~nasicon_sim.ml.dataset.composition_key` of candidate ``i`` (no parsing)."""
        def site(pairs) -> tuple:
            return tuple(sorted((el, round(float(a), 3)) for el, a in pairs
                                if round(float(a), 3) > 0))
        si = float(self.si[i])
        return (round(float(self.na[i]), 3),
                site(zip(self.cations, self.units[i] * self.step)),
                site((("Si", si), ("P", 3.0 - si))))

    def formula(self, i: int) -> str:
        """Formula of candidate ``i`` (reads back with ``parse_nasicon``)."""
        def amt(x: float) -> str:
            return format_amount(round(float(x), 6))

        parts = [f"Na{amt(self.na[i])}"] if self.na[i] > 0 else []
        parts += [f"{el}{amt(u * self.step)}" for el, u in zip(self.cations, self.units[i]) if u]
        si = float(self.si[i])
        if si > 0:
            parts.append(f"Si{amt(si)}")
        if 3.0 - si > 1e-9:
            parts.append(f"P{amt(3.0 - si)}")
        return "".join(parts) + "O12"


def _palette(spec: ScreenSpec) -> tuple[tuple[str, ...], tuple[int, ...]]:
    table = oxidation_state_table()

    def valence(el: str) -> int:
        if el in spec.oxidation_states:
            return int(spec.oxidation_states[el])
        if el not in table:
            raise ScreeningError(
                f"{el} has no preferred oxidation state in the table; give one (e.g. --oxi {el}=3)"
            )
        return int(table[el][0])

    if not spec.elements:
        raise ScreeningError("the dopant palette is empty")
    host_v = valence(spec.host)
    r_host = shannon_radius_pm(spec.host, host_v)
    dopants = [e for e in dict.fromkeys(spec.elements) if e != spec.host]
    problems = []
    vals = []
    for el in dopants:
        v = valence(el)
        vals.append(v)
        if not spec.valence_min <= v <= spec.valence_max:
            problems.append(f"{el}{v:+d}: valence outside +{spec.valence_min}..+{spec.valence_max}")
            continue
        r = shannon_radius_pm(el, v)
        if abs(r - r_host) > spec.radius_tolerance_pm:
            problems.append(f"{el}{v:+d}: Shannon radius {r:g} pm differs from {spec.host}"
                            f"{host_v:+d} ({r_host:g} pm) by more than {spec.radius_tolerance_pm:g} pm")
    if problems:
        raise ScreeningError("dopant(s) outside the selection rules: " + "; ".join(problems))
    return (spec.host, *dopants), (host_v, *vals)


def _weak_compositions(total: int, parts: int) -> np.ndarray:
    """All non-negative integer vectors of length ``parts`` summing to ``total``."""
    if parts == 1:
        return np.array([[total]], dtype=np.int32)
    bars = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(total + parts - 1), parts - 1)),
        dtype=np.int32,
    ).reshape(-1, parts - 1)
    edges = np.hstack([np.full((len(bars), 1), -1, np.int32), bars,
                       np.full((len(bars), 1), total + parts - 1, np.int32)])
    return np.diff(edges, axis=1) - 1


def enumerate_candidates(spec: ScreenSpec) -> Candidates:
    """All grid compositions that satisfy the spec's rules.

    Raises
    ------
    ScreeningError
        Palette outside the rules, a step that does not divide 2, bad bounds, or a grid
        larger than :data:`MAX_GRID_POINTS`.
    """
    cations, valences = _palette(spec)
    if spec.step <= 0 or abs(2.0 / spec.step - round(2.0 / spec.step)) > 1e-9:
        raise ScreeningError(f"step {spec.step:g} must divide the 2 M-site cations per formula unit")
    if spec.max_cations < 1:
        raise ScreeningError("max_cations must be at least 1")
    if spec.na_min > spec.na_max or spec.entropy_min > spec.entropy_max:
        raise ScreeningError("a lower bound exceeds its upper bound")
    if not spec.si_values or any(not 0.0 <= s <= 3.0 for s in spec.si_values):
        raise ScreeningError(f"Si per formula unit must be within 0..3, got {spec.si_values}")
    total = round(2.0 / spec.step)
    k = len(cations)
    visits = math.comb(total - 1 + k - 1, k - 1)  # host >= 1 unit
    if visits > MAX_GRID_POINTS:
        raise ScreeningError(
            f"{visits:,} grid points for {k} cations at step {spec.step:g}: more than "
            f"{MAX_GRID_POINTS:,}; use a coarser step or fewer elements"
        )
    units = _weak_compositions(total - 1, k)
    units[:, 0] += 1  # the host is always present
    counts = {"grid_points": len(units)}
    units = units[(units > 0).sum(axis=1) <= spec.max_cations]
    counts["max_cations"] = len(units)
    amounts = units * spec.step
    x = units / total
    entropy = entr(x).sum(axis=1)
    ok = (entropy >= spec.entropy_min - 1e-12) & (entropy <= spec.entropy_max + 1e-12)
    units, amounts = units[ok], amounts[ok]
    counts["entropy"] = len(units)
    m_charge = amounts @ np.asarray(valences, dtype=float)
    blocks_u, blocks_si, blocks_na = [], [], []
    for si in spec.si_values:
        na = 24.0 - m_charge - 4.0 * si - 5.0 * (3.0 - si)
        na = np.round(na, 9)
        keep = (na >= spec.na_min - 1e-9) & (na <= spec.na_max + 1e-9)
        blocks_u.append(units[keep])
        blocks_si.append(np.full(int(keep.sum()), si))
        blocks_na.append(na[keep])
    units = np.vstack(blocks_u) if blocks_u else units[:0]
    si_arr = np.concatenate(blocks_si)
    na_arr = np.concatenate(blocks_na)
    counts["na_bounds"] = len(units)
    t = np.zeros((len(units), 4))
    t[:, 0], t[:, 1] = si_arr, 3.0 - si_arr
    arrays = CompositionArrays(tuple(zip(cations, valences)), units * spec.step, t, na_arr)
    logger.info("enumerated %s", counts)
    return Candidates(cations, valences, units, spec.step, si_arr, na_arr, arrays, counts)


@dataclass(frozen=True)
class ScreenResult:
    """Scored candidates, best first.

    Attributes
    ----------
    candidates : Candidates
    order : numpy.ndarray of int
        Candidate indices, ranked by p_single_phase (desc), then predicted E_hull (asc).
    scores : dict of str to numpy.ndarray
        Per candidate (not reordered): descriptors and model outputs.
    model : str
    transport : str
        Description of the transport figure.
    """

    candidates: Candidates
    order: np.ndarray
    scores: dict[str, np.ndarray]
    model: str
    transport: str = ""

    def rows(self, top: int | None = None, in_domain_only: bool = False) -> list[dict]:
        """Ranked rows as dicts (for CSV and JSON)."""
        out = []
        c = self.candidates
        for i in self.order:
            if in_domain_only and not self.scores["in_domain"][i]:
                continue
            row = {"rank": len(out) + 1, "formula": c.formula(int(i)),
                   "na": round(float(c.na[i]), 6), "si": round(float(c.si[i]), 6)}
            row.update({el: round(float(u * c.step), 6) for el, u in zip(c.cations, c.units[i])})
            for key, values in self.scores.items():
                v = values[i]
                row[key] = (bool(v) if values.dtype == bool
                            else None if not np.isfinite(v) else round(float(v), 6))
            out.append(row)
            if top is not None and len(out) >= top:
                break
        return out


class _LazyFormulas(Sequence):
    """Formulas of candidates, written only when read."""

    def __init__(self, candidates: Candidates) -> None:
        self._c = candidates

    def __len__(self) -> int:
        return len(self._c)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._c.formula(j) for j in range(*i.indices(len(self)))]
        return self._c.formula(int(i))


def screen(spec: ScreenSpec, model=None, transport=None) -> ScreenResult:
    """Enumerate and score candidates with a synthesizability model and a transport figure.

    Parameters
    ----------
    spec : ScreenSpec
    model : SynthesizabilityModel, optional
        Default :func:`nasicon_sim.ml.prediction.default_model`.
    transport : TransportSource, optional
        Default :class:`~nasicon_sim.ml.acquisition.NaContentProxy`. Scores gain
        ``transport`` and ``pareto_front`` (on the front of p(single phase) and transport).

    Returns
    -------
    ScreenResult
    """
    from nasicon_sim.ml.acquisition import NaContentProxy, pareto_front_mask
    from nasicon_sim.ml.prediction import default_model, predict_arrays

    model = default_model() if model is None else model
    transport = NaContentProxy() if transport is None else transport
    cands = enumerate_candidates(spec)
    desc = compute_features(cands.arrays, _DESCRIPTORS)
    scores = {name: desc[:, j] for j, name in enumerate(_DESCRIPTORS)}
    res = predict_arrays(cands.arrays, model)
    for key in ("p_single_phase", "p_std", "set_single", "set_secondary", "in_domain",
                "e_hull_pred_meV", "p_stable_dft", "stability_in_domain"):
        if key in res:
            scores[key] = res[key]
    scores["transport"] = np.asarray(transport.values(cands.na, _LazyFormulas(cands)),
                                     dtype=float)
    scores["pareto_front"] = pareto_front_mask(scores["p_single_phase"], scores["transport"])
    e_hull = scores.get("e_hull_pred_meV", np.zeros(len(cands)))
    order = np.lexsort((e_hull, -scores["p_single_phase"])) if len(cands) else np.zeros(0, int)
    return ScreenResult(cands, order, scores, model.label, transport.description)


def write_candidates_csv(
    result: ScreenResult,
    path: str | os.PathLike,
    top: int | None = None,
    in_domain_only: bool = False,
) -> int:
    """Write ranked candidates to CSV atomically; returns the number of rows written."""
    rows = result.rows(top, in_domain_only)
    columns = (["rank", "formula", "na", "si", *result.candidates.cations,
                *result.scores.keys()])
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
    return len(rows)

