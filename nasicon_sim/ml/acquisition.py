"""Closing the design loop: a transport figure, the Pareto front, and what to make next.

**Transport figure.** Until the kinetic Monte Carlo stage predicts conductivities, the
figure is a stated proxy, :class:`NaContentProxy`: ``-|Na - 3.3|`` per formula unit (higher
is better). Guin & Tietz (J. Power Sources 273 (2015) 1056, doi:10.1016/j.jpowsour.2014.09.137)
surveyed the NASICON literature and found the total conductivity highest for about 3.3 Na per
formula unit, falling on both sides; the proxy encodes only that trend, not the dopants'
chemistry. Any other source plugs in through the same two-method interface
(:class:`TransportSource`): :class:`ColumnTransport` reads a column of a CSV keyed by
formula (for example a kMC or BVSE result per composition).

**Pareto front.** A candidate is on the front of (p(single phase), transport) when no other
candidate is at least as good in both and better in one (:func:`pareto_ranks`: rank 0 is the
front, rank 1 the front after removing it, ...).

**Acquisition rule** of ``ml suggest`` (:func:`suggest`), stated before looking at results:

1. candidates are the screening grid minus every composition already labelled in the table
   (same site occupancies per 12 O), and by default minus those outside the model's
   training range (predictions there are extrapolations);
2. each candidate gets an optimistic purity ``u = min(1, p + kappa * s)`` (upper confidence
   bound; ``p`` the calibrated probability of single phase, ``s`` its bootstrap spread,
   ``kappa`` = 1 by default): uncertain candidates are worth a synthesis because their outcome
   teaches the model most;
3. candidates are ranked by Pareto rank of ``(u, transport)``; within a rank by ``u *
   transport_scaled`` (transport min-max scaled to [0, 1] over the candidates), ties by
   ``u``, then by grid order;
4. the batch is filled greedily in that order, skipping a candidate closer than
   ``min_distance`` (L1 distance of the M-site amounts per formula unit plus that of Si) to
   one already chosen, so one batch does not spend syntheses on near-duplicates.

Everything is deterministic for a seed (the seed of the model's bootstrap refits). Adding a
measured outcome to the table (``data add``) and running ``suggest`` again refits the model:
the measured composition leaves the candidate list and the probabilities of its neighbours
move with its label (a test checks both).
"""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from nasicon_sim.errors import DataError

__all__ = [
    "NA_OPTIMUM",
    "ColumnTransport",
    "NaContentProxy",
    "Suggestion",
    "TransportSource",
    "pareto_ranks",
    "suggest",
]

logger = logging.getLogger(__name__)

#: Na per formula unit of the conductivity maximum (Guin & Tietz 2015).
NA_OPTIMUM = 3.3


class TransportSource(Protocol):
    """Anything that gives a transport figure (higher = better) per composition."""

    name: str
    description: str

    def values(self, na: np.ndarray, formulas: Sequence[str]) -> np.ndarray:
        """Figure per composition, shape (n,); NaN where unknown."""


@dataclass(frozen=True)
class NaContentProxy:
    """``-|Na - 3.3|`` per formula unit (Guin & Tietz 2015); a proxy, not a conductivity."""

    optimum: float = NA_OPTIMUM
    name: str = "na_proxy"
    description: str = ("transport proxy -|Na - 3.3| per f.u. (NASICON conductivity peaks "
                        "near 3.3 Na per f.u., Guin & Tietz, J. Power Sources 273 (2015) 1056)")

    def values(self, na: np.ndarray, formulas: Sequence[str]) -> np.ndarray:
        return -np.abs(np.asarray(na, dtype=float) - self.optimum)


@dataclass(frozen=True)
class ColumnTransport:
    """A transport figure read from a CSV column, matched by composition (any notation).

    Parameters
    ----------
    path : str
        CSV with a ``formula`` column and ``column``.
    column : str
        Higher = better (give e.g. ``-E_3D`` values or log10 conductivities).
    """

    path: str
    column: str

    @property
    def name(self) -> str:
        return self.column

    @property
    def description(self) -> str:
        return f"column {self.column!r} of {self.path}"

    def _table(self) -> dict[tuple, float]:
        from nasicon_sim.composition import parse_nasicon
        from nasicon_sim.ml.dataset import composition_key

        path = Path(self.path)
        if not path.is_file():
            raise DataError(f"no transport table {path} (--transport-csv)")
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "formula" not in reader.fieldnames or \
                    self.column not in reader.fieldnames:
                raise DataError(f"{path} needs columns 'formula' and {self.column!r} "
                                "(--transport-column)")
            out = {}
            for i, row in enumerate(reader, start=2):
                try:
                    value = float(row[self.column])
                except (TypeError, ValueError):
                    raise DataError(f"{path}:{i}: {self.column} is not a number: "
                                    f"{row[self.column]!r}") from None
                out[composition_key(parse_nasicon(row["formula"]))] = value
        return out

    def values(self, na: np.ndarray, formulas: Sequence[str]) -> np.ndarray:
        from nasicon_sim.composition import parse_nasicon
        from nasicon_sim.ml.dataset import composition_key

        table = self._table()
        return np.array([table.get(composition_key(parse_nasicon(f)), np.nan)
                         for f in formulas])


def pareto_ranks(objectives: np.ndarray) -> np.ndarray:
    """Non-dominated sorting ranks (0 = Pareto front), all objectives maximised.

    Parameters
    ----------
    objectives : numpy.ndarray, shape (n, m)
        NaN rows are ranked last (``n``).

    Returns
    -------
    numpy.ndarray of int, shape (n,)

    Examples
    --------
    >>> pareto_ranks(np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.4, 0.4]])).tolist()
    [0, 0, 0, 1]
    """
    obj = np.asarray(objectives, dtype=float)
    n = len(obj)
    ranks = np.full(n, n, dtype=int)
    remaining = np.flatnonzero(~np.isnan(obj).any(axis=1))
    rank = 0
    while remaining.size:
        sub = obj[remaining]
        # dominated[i]: some j >= in all objectives and > in one
        ge = (sub[None, :, :] >= sub[:, None, :]).all(axis=2)
        gt = (sub[None, :, :] > sub[:, None, :]).any(axis=2)
        dominated = (ge & gt).any(axis=1)
        front = remaining[~dominated]
        ranks[front] = rank
        remaining = remaining[dominated]
        rank += 1
    return ranks


def pareto_front_mask(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Candidates on the front of (p, t); memory O(n log n) (sort by p, keep record t)."""
    p = np.asarray(p, dtype=float)
    t = np.asarray(t, dtype=float)
    ok = np.isfinite(p) & np.isfinite(t)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((-t[idx], -p[idx]))]  # p desc, then t desc
    mask = np.zeros(len(p), dtype=bool)
    best_t = -np.inf
    last = None
    for i in order:
        if t[i] > best_t:
            mask[i] = True
            best_t = t[i]
            last = (p[i], t[i])
        elif last is not None and p[i] == last[0] and t[i] == last[1]:
            mask[i] = True  # exact ties share the front
    return mask


@dataclass(frozen=True)
class Suggestion:
    """One proposed composition and why."""

    rank: int
    formula: str
    p_single_phase: float
    p_std: float
    optimistic_p: float
    transport: float
    pareto_rank: int
    in_domain: bool
    prediction_set: tuple[str, ...]

    def as_dict(self) -> dict:
        return {**self.__dict__, "prediction_set": list(self.prediction_set)}


def suggest(
    result,
    labelled_keys: set,
    n: int,
    transport: TransportSource | None = None,
    kappa: float = 1.0,
    min_distance: float = 0.2,
    in_domain_only: bool = True,
) -> list[Suggestion]:
    """The acquisition rule above on a scored screening grid.

    Parameters
    ----------
    result : ScreenResult
        From :func:`nasicon_sim.ml.screening.screen` (needs ``p_std``).
    labelled_keys : set
        :func:`~nasicon_sim.ml.dataset.composition_key` of every labelled composition.
    n : int
        Batch size.
    transport : TransportSource, optional
        Default :class:`NaContentProxy`.
    kappa : float, default 1
    min_distance : float, default 0.2
        Per formula unit.
    in_domain_only : bool, default True

    Returns
    -------
    list of Suggestion
    """
    from nasicon_sim.ml.dataset import composition_key

    if n < 1:
        raise DataError(f"-n must be at least 1, got {n}")
    if kappa < 0 or min_distance < 0:
        raise DataError("--kappa and --min-distance must be >= 0")
    transport = NaContentProxy() if transport is None else transport
    c = result.candidates
    sc = result.scores
    formulas = [c.formula(i) for i in range(len(c))]
    t = np.asarray(transport.values(c.na, formulas), dtype=float)
    p = sc["p_single_phase"]
    s = np.nan_to_num(sc.get("p_std", np.zeros(len(c))), nan=0.0)
    u = np.minimum(1.0, p + kappa * s)
    keep = np.isfinite(t)
    if in_domain_only:
        keep &= sc["in_domain"]
    if labelled_keys:
        from nasicon_sim.composition import parse_nasicon

        for i in np.flatnonzero(keep):
            if composition_key(parse_nasicon(formulas[i])) in labelled_keys:
                keep[i] = False
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        raise DataError("no candidate left to suggest (all labelled, outside the model's "
                        "training range, or without a transport value); widen the grid or "
                        "pass --include-out-of-domain")
    ranks = np.full(len(c), len(c), dtype=int)
    ranks[idx] = pareto_ranks(np.column_stack([u[idx], t[idx]]))
    t_lo, t_hi = float(np.min(t[idx])), float(np.max(t[idx]))
    t_scaled = (t - t_lo) / (t_hi - t_lo) if t_hi > t_lo else np.ones(len(c))
    order = idx[np.lexsort((idx, -u[idx], -(u[idx] * t_scaled[idx]), ranks[idx]))]
    position = np.column_stack([c.units * c.step, c.si])
    chosen: list[int] = []
    for i in order:
        if chosen and np.min(np.abs(position[chosen] - position[i]).sum(axis=1)) < \
                min_distance - 1e-12:
            continue
        chosen.append(int(i))
        if len(chosen) == n:
            break
    out = []
    for r, i in enumerate(chosen, start=1):
        pset = tuple(name for name, key in (("single_phase", "set_single"),
                                            ("secondary_phases", "set_secondary"))
                     if key in sc and sc[key][i])
        out.append(Suggestion(r, formulas[i], float(p[i]), float(s[i]), float(u[i]),
                              float(t[i]), int(ranks[i]), bool(sc["in_domain"][i]), pset))
    return out


def write_study_toml(
    formulas: Sequence[str], path: str | os.PathLike, name: str, source: str,
    labels: Sequence[str] | None = None,
) -> Path:
    """A study definition (``nasicon-sim run``) for these compositions, written atomically.

    The ensemble, BVSE and ML sections take the runner's defaults except ``[ml] model =
    "selected"`` (the nested-CV default); edit the file before running a large study.
    """
    from nasicon_sim.io.atomic import atomic_write_bytes

    labels = list(labels) if labels else [f"C{i + 1:02d}" for i in range(len(formulas))]
    lines = [
        "# Written by nasicon-sim from a screening/suggestion run: the top candidates.",
        "[study]",
        f"name = {_toml_str(name)}",
        f"title = {_toml_str('Screened candidates: ' + name)}",
        f"source = {_toml_str(source)}",
        "",
        "[ml]",
        'model = "selected"',
        "",
    ]
    for label, formula in zip(labels, formulas):
        lines += ["[[composition]]", f"label = {_toml_str(label)}",
                  f"formula = {_toml_str(formula)}", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, "\n".join(lines).encode())
    return path


def _toml_str(text: str) -> str:
    import json

    return json.dumps(str(text))  # a JSON string is a valid TOML basic string
