"""The NEB section of a study report: each computed hop's NEB barriers beside its BVSE
barriers, means per label pair, and the cross-validated BVSE-to-NEB map."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["neb_section"]


def _fmt(x: float | None, spec: str = ".3f", dash: str = "–") -> str:
    return dash if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def neb_section(neb: Mapping[str, Any]) -> list[str]:
    """Markdown lines of the NEB results (``StudyResults.neb``; [] when empty).

    Parameters
    ----------
    neb : mapping
        The summary of :func:`nasicon_sim.neb.study.collect_neb`.
    """
    comps = neb.get("compositions", {})
    if not comps:
        return []
    s = neb.get("settings", {})
    pairs = neb.get("label_pairs") or []
    lines = [
        "## NEB barriers beside BVSE",
        "",
        f"Climbing-image NEB ({s.get('calculator')}, {s.get('n_images')} images, spring "
        f"{s.get('spring_eV_A2')} eV/Å², band fmax {s.get('fmax_eV_A')} eV/Å, at most "
        f"{s.get('steps')} steps) of the first {neb.get('max_hops')} hops of the "
        f"{'first ' + str(neb.get('max_configurations')) if neb.get('max_configurations') else 'every'}"
        " configuration(s) of each composition"
        + (f" ({', '.join(pairs)} only)" if pairs else "")
        + ": percolation bottlenecks first, in the structure the configuration analysed, with "
        "Na+ on site i and site j empty, both end points relaxed. Forward: saddle minus "
        "initial state; backward: saddle minus final state. BVSE: the same link of the "
        "configuration's Na-free BVSE network (saddle minus site energy). A band whose "
        "highest image is an end point has no saddle and gives no barrier; an end point that "
        "relaxes into another site gives none either (both reported, not hidden).",
        "",
        "| Composition | configuration | hop | environment | NEB forward / backward (eV) | "
        "BVSE forward / backward (eV) | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, c in comps.items():
        for h in c["hops"]:
            status = h["status"]
            if h["neb_forward_eV"] is not None and not h["has_saddle"]:
                status += ", no saddle"
            if h.get("bottleneck_of"):
                status += f"; {'/'.join(f'{d}D' for d in h['bottleneck_of'])} bottleneck"
            lines.append(
                f"| {label} | {h['index']} | {h['hop']} | {h['environment']} | "
                f"{_fmt(h['neb_forward_eV'])} / {_fmt(h['neb_backward_eV'])} | "
                f"{_fmt(h['bvse_forward_eV'])} / {_fmt(h['bvse_backward_eV'])} | {status} |")
    lines += [
        "",
        "Mean kinetically resolved barrier (KRA, the mean of both directions) per label pair, "
        "over the hops with a converged band and a saddle (NEB) and over all computed hops "
        "(BVSE):",
        "",
        "| Composition | label pair | hops (with NEB barrier) | NEB KRA (eV) | BVSE KRA (eV) |",
        "|---|---|---|---|---|",
    ]
    for label, c in comps.items():
        for pair, p in c["label_pairs"].items():
            lines.append(f"| {label} | {pair} | {p['n_hops']} ({p['n_with_barrier']}) | "
                         f"{_fmt(p['neb_kra_eV_mean'])} | {_fmt(p['bvse_kra_eV_mean'])} |")
    m = neb.get("model") or {}
    lm = m.get("linear_map")
    lines.append("")
    if lm:
        lines.append(
            f"BVSE-to-NEB map over the {m['n_hops']} hops with a barrier (both directions): "
            f"NEB = {lm['intercept_eV']:.3f} eV + {lm['slope']:.3f} x BVSE; fit RMSE "
            f"{lm['fit_rmse_eV']:.3f} eV, leave-one-hop-out RMSE {lm['cv_rmse_eV']:.3f} eV "
            f"(MAE {lm['cv_mae_eV']:.3f} eV). The table and model are in neb_barriers.csv/"
            ".json and neb_barrier_model.json.")
    else:
        lines.append(f"{m.get('n_hops', 0)} hop(s) with a barrier: too few for the "
                     "cross-validated BVSE-to-NEB map (at least 3). The table is in "
                     "neb_barriers.csv/.json.")
    lines.append("")
    return lines
