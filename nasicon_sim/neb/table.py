"""Versioned barrier tables and the barrier model the kinetic Monte Carlo stage uses.

**Table** (version :data:`TABLE_VERSION`; CSV and JSON hold the same rows). One row per hop
*direction* (a computed hop i -> j gives the row i -> j and the row j -> i):

=====================  ==========================================================================
column                 meaning
=====================  ==========================================================================
hop_type               ``"<from_label>-<to_label>|<env_key>"``, e.g. ``Na1-Na2|M:Zr3|T:P1Si3``
from_label, to_label   parent-site labels of the start and end sites
env_key                framework cations within 4 A of the BVSE saddle (``M:...|T:...``)
barrier_eV             NEB barrier in this direction (highest image - start), eV
reverse_barrier_eV     NEB barrier of the opposite direction, eV
delta_E_eV             E(end) - E(start) of the relaxed end points, eV
kra_eV                 (barrier_eV + reverse_barrier_eV) / 2, eV
bvse_barrier_eV        BVSE barrier of the same link in this direction, eV
bvse_kra_eV            BVSE KRA of the link, eV
converged              band converged to the settings' fmax
status                 ``converged`` / ``not-converged``
source                 structure the hop was computed in (file or formula)
calculator             e.g. ``chgnet 0.4.2 (model 0.3.0) on cpu`` or ``vasp``
settings               NEB settings as compact JSON
hop_id                 ``<source>#<site i>-<site j>``: the computed hop a row comes from (its two
                       directions share it; cross-validation leaves them out together)
=====================  ==========================================================================

The JSON adds ``nasicon_sim_barrier_table`` (version), ``created`` (UTC), ``nasicon_sim``
(package version) and ``skipped`` (hops without a barrier, with the reason: an end point that
left its site, a band that did not converge, or a band whose highest image is an end point,
i.e. no saddle between the end points).

**Model** (:class:`BarrierModel`): the barrier of a hop direction is (1) the mean
``barrier_eV`` of the table rows of the same ``hop_type`` (exact lookup); else (2) a linear
map ``a + b * bvse_barrier_eV`` fitted by least squares on all converged rows, whose error is
the leave-one-hop-out cross-validated RMSE (both directions of a hop are left out together);
with fewer than three computed hops there is no fit and (3) the BVSE barrier itself is
returned, flagged ``bvse``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from nasicon_sim.errors import DataError

__all__ = ["COLUMNS", "TABLE_VERSION", "BarrierModel", "BarrierTable", "fit_model", "rows_of"]

TABLE_VERSION = 1
COLUMNS: tuple[str, ...] = (
    "hop_type", "from_label", "to_label", "env_key", "barrier_eV", "reverse_barrier_eV",
    "delta_E_eV", "kra_eV", "bvse_barrier_eV", "bvse_kra_eV", "converged", "status", "source",
    "calculator", "settings", "hop_id",
)
_FLOATS = ("barrier_eV", "reverse_barrier_eV", "delta_E_eV", "kra_eV", "bvse_barrier_eV",
           "bvse_kra_eV")


def _r(x: float) -> float:
    return round(float(x), 6)


def rows_of(results: Iterable, include_unconverged: bool = False) -> tuple[list[dict], list[dict]]:
    """Table rows (two per hop with a barrier) and the skipped hops of some NEB results.

    Parameters
    ----------
    results : iterable of NEBResult
    include_unconverged : bool
        Keep bands that ran out of steps (flagged ``converged = False``).

    Returns
    -------
    (rows, skipped)
    """
    rows, skipped = [], []
    for r in results:
        no_saddle = r.barrier_forward_eV is not None and not r.has_saddle
        if r.barrier_forward_eV is None or no_saddle or (not r.converged
                                                         and not include_unconverged):
            reason = r.message or r.status
            if no_saddle:
                reason = ("the highest image is an end point: no saddle between the end points "
                          "(an end point is not a minimum of the path)")
            skipped.append({"hop_type": r.hop.hop_type, "sites": [r.hop.site_i, r.hop.site_j],
                            "status": r.status, "source": r.source, "reason": reason})
            continue
        hop = r.hop
        settings = json.dumps(r.settings, sort_keys=True, separators=(",", ":"))
        de = r.final_energy_eV - r.initial_energy_eV
        for fwd in (True, False):
            a, b = (0, 1) if fwd else (1, 0)
            rows.append({
                "hop_type": f"{hop.labels[a]}-{hop.labels[b]}|{hop.env_key}",
                "from_label": hop.labels[a], "to_label": hop.labels[b], "env_key": hop.env_key,
                "barrier_eV": _r(r.barrier_forward_eV if fwd else r.barrier_backward_eV),
                "reverse_barrier_eV": _r(r.barrier_backward_eV if fwd else r.barrier_forward_eV),
                "delta_E_eV": _r(de if fwd else -de), "kra_eV": _r(r.kra_eV),
                "bvse_barrier_eV": _r(hop.bvse_barrier_forward_eV if fwd
                                      else hop.bvse_barrier_backward_eV),
                "bvse_kra_eV": _r(hop.bvse_kra_eV), "converged": bool(r.converged),
                "status": r.status, "source": r.source, "calculator": r.calculator,
                "settings": settings, "hop_id": f"{r.source}#{hop.site_i}-{hop.site_j}",
            })
    return rows, skipped


@dataclass(frozen=True)
class BarrierTable:
    """Rows of :data:`COLUMNS` plus provenance."""

    rows: tuple[dict, ...]
    skipped: tuple[dict, ...] = ()
    created: str = ""
    package_version: str = ""

    @classmethod
    def from_results(cls, results: Iterable, include_unconverged: bool = False) -> BarrierTable:
        from nasicon_sim import __version__

        rows, skipped = rows_of(results, include_unconverged)
        return cls(rows=tuple(rows), skipped=tuple(skipped),
                   created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   package_version=__version__)

    def as_dict(self) -> dict[str, Any]:
        return {"nasicon_sim_barrier_table": TABLE_VERSION, "created": self.created,
                "nasicon_sim": self.package_version, "columns": list(COLUMNS),
                "rows": [{k: r[k] for k in COLUMNS} for r in self.rows],
                "skipped": list(self.skipped)}

    def csv_text(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({k: r[k] for k in COLUMNS})
        return buf.getvalue()

    def write(self, stem: str | Path) -> tuple[Path, Path]:
        """Write ``<stem>.csv`` and ``<stem>.json`` atomically."""
        from nasicon_sim.io.atomic import atomic_write_text

        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        c = atomic_write_text(stem.with_suffix(".csv"), self.csv_text())
        j = atomic_write_text(stem.with_suffix(".json"), json.dumps(self.as_dict(), indent=1)
                              + "\n")
        return c, j

    @classmethod
    def read(cls, path: str | Path) -> BarrierTable:
        """Read a table from its JSON or CSV file (CSV: rows only, no provenance header).

        Raises
        ------
        DataError
            Wrong version, missing columns or non-numeric barriers.
        """
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise DataError(f"cannot read the barrier table {path}: {exc}") from None
        if path.suffix.lower() == ".json":
            try:
                d = json.loads(text)
            except ValueError as exc:
                raise DataError(f"{path}: not JSON ({exc})") from None
            if not isinstance(d, dict) or d.get("nasicon_sim_barrier_table") != TABLE_VERSION:
                raise DataError(f"{path} is not a barrier table (version {TABLE_VERSION})")
            raw = d.get("rows", [])
            meta = (tuple(d.get("skipped", [])), d.get("created", ""), d.get("nasicon_sim", ""))
        else:
            reader = csv.DictReader(io.StringIO(text))
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
            raw = list(reader)
            meta = ((), "", "")
        rows = []
        for n, r in enumerate(raw, start=2):
            row = dict(r)
            for k in _FLOATS:
                try:
                    row[k] = float(row[k])
                except (TypeError, ValueError, KeyError):
                    raise DataError(f"{path}: row {n}: {k} is not a number "
                                    f"({row.get(k)!r})") from None
                if not math.isfinite(row[k]):
                    raise DataError(f"{path}: row {n}: {k} is not finite")
            row["converged"] = str(row["converged"]).lower() in ("true", "1")
            rows.append(row)
        return cls(rows=tuple(rows), skipped=meta[0], created=meta[1], package_version=meta[2])


@dataclass(frozen=True)
class BarrierModel:
    """Barriers per hop direction for kMC: exact hop type, else a fitted map from BVSE.

    Attributes
    ----------
    exact : dict
        hop_type -> mean NEB barrier (eV) of its rows.
    intercept_eV, slope : float or None
        The linear map NEB = intercept + slope * BVSE (None with fewer than 3 hops).
    cv_rmse_eV, cv_mae_eV : float or None
        Leave-one-hop-out cross-validated errors of the map (eV).
    n_hops, n_rows : int
    """

    exact: dict = field(default_factory=dict)
    intercept_eV: float | None = None
    slope: float | None = None
    cv_rmse_eV: float | None = None
    cv_mae_eV: float | None = None
    fit_rmse_eV: float | None = None
    n_hops: int = 0
    n_rows: int = 0

    def barrier(self, hop_type: str, bvse_barrier_eV: float | None = None) -> tuple[float, str]:
        """Barrier of one hop direction, eV, and where it came from.

        Parameters
        ----------
        hop_type : str
            ``"<from>-<to>|<env key>"``.
        bvse_barrier_eV : float, optional
            BVSE barrier of the hop in this direction (needed by the fallbacks).

        Returns
        -------
        (barrier_eV, source)
            source is ``"exact"``, ``"linear-map"`` or ``"bvse"``.

        Raises
        ------
        DataError
            Unknown hop type and no BVSE barrier given.
        """
        if hop_type in self.exact:
            return float(self.exact[hop_type]), "exact"
        if bvse_barrier_eV is None:
            raise DataError(f"hop type {hop_type!r} is not in the barrier table; give its BVSE "
                            "barrier for the fallback")
        if self.slope is not None:
            return float(self.intercept_eV + self.slope * bvse_barrier_eV), "linear-map"
        return float(bvse_barrier_eV), "bvse"

    def as_dict(self) -> dict[str, Any]:
        return {"exact": dict(sorted(self.exact.items())),
                "linear_map": None if self.slope is None else {
                    "intercept_eV": _r(self.intercept_eV), "slope": _r(self.slope),
                    "fit_rmse_eV": _r(self.fit_rmse_eV),
                    "cv_rmse_eV": _r(self.cv_rmse_eV), "cv_mae_eV": _r(self.cv_mae_eV),
                    "cv": "leave-one-hop-out (both directions of a hop held out together)"},
                "n_hops": self.n_hops, "n_rows": self.n_rows,
                "fallback_order": ["exact", "linear-map", "bvse"]}


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept), float(slope)


def fit_model(table: BarrierTable | Sequence[dict], min_hops: int = 3) -> BarrierModel:
    """The barrier model of a table (converged rows only).

    Parameters
    ----------
    table : BarrierTable or rows
    min_hops : int
        Fewest distinct hops for the linear map (default 3: leave-one-out needs 2 to fit).

    Returns
    -------
    BarrierModel
    """
    rows = [r for r in (table.rows if isinstance(table, BarrierTable) else table)
            if r["converged"]]
    exact: dict[str, list[float]] = {}
    for r in rows:
        exact.setdefault(r["hop_type"], []).append(float(r["barrier_eV"]))
    means = {k: float(np.mean(v)) for k, v in exact.items()}
    hops = sorted({r["hop_id"] for r in rows})
    out = BarrierModel(exact=means, n_hops=len(hops), n_rows=len(rows))
    x = np.array([r["bvse_barrier_eV"] for r in rows], dtype=float)
    y = np.array([r["barrier_eV"] for r in rows], dtype=float)
    if len(hops) < min_hops or np.ptp(x) == 0:
        return out
    a, b = _fit(x, y)
    fit_rmse = float(np.sqrt(np.mean((a + b * x - y) ** 2)))
    group = np.array([hops.index(r["hop_id"]) for r in rows])
    errors = []
    for g in range(len(hops)):
        train = group != g
        if np.ptp(x[train]) == 0:
            continue
        ag, bg = _fit(x[train], y[train])
        errors.extend(ag + bg * x[~train] - y[~train])
    errors = np.array(errors)
    return BarrierModel(exact=means, intercept_eV=a, slope=b,
                        cv_rmse_eV=float(np.sqrt(np.mean(errors ** 2))),
                        cv_mae_eV=float(np.mean(np.abs(errors))), fit_rmse_eV=fit_rmse,
                        n_hops=len(hops), n_rows=len(rows))
