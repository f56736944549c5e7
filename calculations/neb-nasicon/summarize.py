"""Collect the recorded NEB hops of nzsp/ and me1/ into one barrier table, model and summary.

    python calculations/neb-nasicon/summarize.py

Writes barriers.csv/.json (both structures), barrier_model.json and summary.json/summary.md
next to this script from the per-hop ``hop_*.json`` files (nothing is recomputed).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from nasicon_sim.io.atomic import atomic_write_text
from nasicon_sim.neb import read_result
from nasicon_sim.neb.table import BarrierTable, fit_model

HERE = Path(__file__).resolve().parent
CELLS = {"nzsp": "NZSP Na3Zr2Si2PO12", "me1": "ME1 Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"}


def _f(x):
    return "-" if x is None else f"{x:.3f}"


def _current_hops(key: str) -> dict:
    """The hops of the relaxed cell as this version labels them (interstitial minima starred),
    by (site i, site j): results made by an earlier version get today's labels and keys."""
    from nasicon_sim.bvse import BVSESettings
    from nasicon_sim.io.read import read_structure
    from nasicon_sim.neb import hop_between, network_of

    s = read_structure(HERE / "relaxed" / f"{key}.cif")
    bvse, ref = network_of(s, BVSESettings(spacing_A=0.2))
    out = {}
    for k in range(len(bvse.network.links)):
        h = hop_between(bvse.network, s, f"link:{k}", ref)
        out.setdefault((h.site_i, h.site_j, h.translation), h)
        r = h.reversed()
        out.setdefault((r.site_i, r.site_j, r.translation), r)
    return out


def main() -> None:
    results, rows = [], []
    for key, name in CELLS.items():
        hops = _current_hops(key)
        for path in sorted(HERE.glob(f"{key}*/hop_*.json")):
            r = read_result(path)
            h = hops[(r.hop.site_i, r.hop.site_j, r.hop.translation)]
            assert abs(h.bvse_saddle_eV - r.hop.bvse_saddle_eV) < 1e-9, path
            r = replace(r, source=f"{key}/relaxed", hop=replace(h, bottleneck_of=r.hop.bottleneck_of))
            results.append(r)
            d = r.as_dict()
            rows.append({"cell": name, "file": str(path.relative_to(HERE)), "labels": d["labels"],
                         "env_key": r.hop.env_key,
                         "status": d["status"] + ("" if d["barrier_forward_eV"] is None
                                                  or r.has_saddle else ", no saddle"),
                         "neb_forward_eV": d["barrier_forward_eV"],
                         "neb_backward_eV": d["barrier_backward_eV"], "neb_kra_eV": d["kra_eV"],
                         "bvse_forward_eV": d["bvse_barrier_forward_eV"],
                         "bvse_backward_eV": d["bvse_barrier_backward_eV"],
                         "bvse_kra_eV": d["bvse_kra_eV"], "n_steps": d["n_steps"],
                         "max_force_eV_A": d["max_force_eV_A"], "seconds": d["seconds"],
                         "message": d["message"], "notes": d["notes"],
                         "band": f"{r.settings['n_images']} / {r.settings['fmax_eV_A']:g}"})
    table = BarrierTable.from_results(results)
    table.write(HERE / "barriers")
    model = fit_model(table)
    atomic_write_text(HERE / "barrier_model.json", json.dumps(model.as_dict(), indent=1) + "\n")
    summary = {"hops": rows, "model": model.as_dict(),
               "calculator": sorted({r.calculator for r in results if r.calculator}),
               "settings": results[0].settings if results else {}}
    atomic_write_text(HERE / "summary.json", json.dumps(summary, indent=1) + "\n")
    lines = ["| cell | hop | environment | images / fmax (eV/A) | NEB forward / backward (eV) | "
             "NEB KRA (eV) | BVSE forward / backward (eV) | BVSE KRA (eV) | status |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        env = r["env_key"].replace("|", "\\|")  # a table cell: escape the key's bar
        lines.append(f"| {r['cell'].split()[0]} | {'-'.join(r['labels'])} | `{env}` | "
                     f"{r['band']} | {_f(r['neb_forward_eV'])} / {_f(r['neb_backward_eV'])} | "
                     f"{_f(r['neb_kra_eV'])} | {_f(r['bvse_forward_eV'])} / "
                     f"{_f(r['bvse_backward_eV'])} | {_f(r['bvse_kra_eV'])} | {r['status']} |")
    atomic_write_text(HERE / "summary.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    lm = model.as_dict()["linear_map"]
    print(f"model: {model.n_hops} hops, {model.n_rows} rows; linear map: {lm}")


if __name__ == "__main__":
    main()
