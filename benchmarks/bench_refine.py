"""Benchmark: network-wide refinement against the critical-saddle-only refinement it replaced.

For conf_000 of ``nasicon-sim build FORMULA -n 1 --seed 0`` of each study composition
(calculations/zuo2026/study.toml) and each grid spacing, one process, one thread:

* grid E_1D/E_2D/E_3D and refined E_1D/E_2D/E_3D (:func:`nasicon_sim.bvse.analyse`), so the
  grid error of each spacing and the spacing-independence of the refined values can be read;
* timings of the stages: grid, percolation + network, network-wide refinement
  (``refine_network``: every site and every link within ``refine_window_eV``), and, as the
  reference side, the refinement the previous version did (the minima within 0.1 eV and the
  three critical grid saddles), timed on the same landscape; ratios are medians over the
  ``--repeats`` runs of the refinement calls.

Usage::

    .venv/bin/python benchmarks/bench_refine.py [--spacings 0.4,0.3,0.2,0.15,0.1]
        [--labels NZSP,ME1] [--repeats 3] [--json benchmarks/results/bench_refine.json]

Writes a text table to stdout and the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

STUDY = {
    "NZSP": "Na3Zr2Si2PO12",
    "LE": "Na3.5Zr1.5Lu0.5Si2PO12",
    "ME1": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12",
    "ME2": "Na3.5Zr0.5Ti0.5Hf0.5Lu0.5Si2PO12",
    "HE1": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12",
    "HE2": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Sc0.1Si2PO12",
}


def old_refinement(landscape, result) -> None:
    """What the previous version refined: minima within 0.1 eV and the 3 critical points."""
    from nasicon_sim.bvse.refine import refine_stationary_point

    lat = landscape.lattice
    reach = max(1.0, 4.0 * float(np.max(landscape.spacings_A)))
    for st in [s for s in result.network.sites if s.energy_eV < 0.1]:
        refine_stationary_point(landscape.framework, np.asarray(st.frac_coords) @ lat, 0, reach)
    for idx in result.percolation.critical_index:
        if idx >= 0:
            refine_stationary_point(landscape.framework, landscape.frac_coords(idx) @ lat, 1,
                                    reach)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spacings", default="0.4,0.3,0.2,0.15,0.1")
    ap.add_argument("--labels", default=",".join(STUDY))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    from nasicon_sim.bvse import BVSESettings
    from nasicon_sim.bvse.analysis import analyse_landscape
    from nasicon_sim.bvse.landscape import compute_landscape
    from nasicon_sim.bvse.refine import refine_network
    from nasicon_sim.structure.ensemble import build_ensemble

    rows = []
    print(f"{'label':5} {'atoms':>5} {'h':>5} | {'grid E1 E2 E3 (eV)':^22} | "
          f"{'refined E1 E2 E3 (eV)':^22} | {'max|g-r|':>8} | {'grid s':>7} {'net s':>6} "
          f"{'refine s':>8} {'old s':>6} {'links':>5}", flush=True)
    for label in args.labels.split(","):
        s = build_ensemble(STUDY[label], n=1, seed=0, method="ewald").configurations[0].structure
        for h in (float(x) for x in args.spacings.split(",")):
            settings = BVSESettings(spacing_A=h, threads=1, keep_landscape=True)
            t0 = time.perf_counter()
            land = compute_landscape(s, settings)
            t1 = time.perf_counter()
            r = analyse_landscape(land)
            tim = r.metadata["timings_s"]
            new_t, old_t = [], []
            for _ in range(args.repeats):
                a = time.perf_counter()
                refine_network(r.network, land.framework, land.shape, settings.refine_window_eV,
                               max(1.0, 4.0 * float(np.max(land.spacings_A))))
                b = time.perf_counter()
                old_refinement(land, r)
                c = time.perf_counter()
                new_t.append(b - a)
                old_t.append(c - b)
            grid = [round(float(x), 4) for x in r.barriers_eV]
            ref = [None if x is None else round(float(x), 4) for x in r.refined_barriers_eV]
            diff = max(abs(g - f) for g, f in zip(grid, ref) if f is not None)
            row = {
                "label": label, "formula": STUDY[label], "n_atoms": len(s), "spacing_A": h,
                "grid_shape": list(land.shape), "grid_eV": grid, "refined_eV": ref,
                "max_abs_grid_minus_refined_eV": round(diff, 4),
                "t_grid_s": round(t1 - t0, 3),
                "t_percolation_network_s": round(tim["percolation"] + tim["network"], 3),
                "t_refine_network_s": round(statistics.median(new_t), 4),
                "t_refine_old_s": round(statistics.median(old_t), 4),
                "n_links": len(r.network.links),
                "n_links_refined": r.metadata["refinement"]["n_links_refined"],
            }
            rows.append(row)
            print(f"{label:5} {len(s):5d} {h:5.2f} | {' '.join(f'{x:.4f}' for x in grid):22} | "
                  f"{' '.join(f'{x:.4f}' if x is not None else '  -   ' for x in ref):22} | "
                  f"{diff:8.4f} | {row['t_grid_s']:7.2f} {row['t_percolation_network_s']:6.2f} "
                  f"{row['t_refine_network_s']:8.3f} {row['t_refine_old_s']:6.3f} "
                  f"{row['n_links']:5d}", flush=True)
    # summaries
    print()
    for label in dict.fromkeys(r["label"] for r in rows):
        sub = [r for r in rows if r["label"] == label]
        ref = np.array([r["refined_eV"] for r in sub], dtype=float)
        print(f"{label}: refined values spread over spacings (max over E_1D/2D/3D) "
              f"{np.nanmax(np.ptp(ref, axis=0)) * 1000:.2f} meV")
    for h in dict.fromkeys(r["spacing_A"] for r in rows):
        sub = [r for r in rows if r["spacing_A"] == h]
        worst = max(r["max_abs_grid_minus_refined_eV"] for r in sub)
        share = statistics.median(r["t_refine_network_s"] / (r["t_grid_s"]
                                  + r["t_percolation_network_s"] + r["t_refine_network_s"])
                                  for r in sub)
        ratio = statistics.median(r["t_refine_network_s"] / max(r["t_refine_old_s"], 1e-9)
                                  for r in sub)
        print(f"h = {h:4.2f} A: largest |grid - refined| {worst * 1000:6.1f} meV; network "
              f"refinement is {share * 100:4.1f} % of the analysis (median), "
              f"{ratio:4.1f}x the old critical-only refinement")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        from nasicon_sim.io.atomic import atomic_write_text

        atomic_write_text(args.json, json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
