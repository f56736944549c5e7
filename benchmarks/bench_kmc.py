"""kMC side by side with kmcpy 0.3.0: same lattice, same rates; D_sigma, Haven ratio, hops/s.

kmcpy is not a project dependency: install it into its own venv
(``python3.11 -m venv /tmp/kmcpy-venv && /tmp/kmcpy-venv/bin/pip install kmcpy==0.3.0``) and
give its NASICON test CIF (``tests/files/EntryWithCollCode15546_Na4Zr2Si3O12_573K.cif`` of a
kmcpy checkout, ICSD 15546, Na4Zr2Si3O12 R-3c at 573 K; not redistributed here).

For each supercell of the primitive cell, ``kmcpy_side.py`` (run by the kmcpy venv) generates
kmcpy's events fresh, runs ``KMC.run()`` with a constant 300 meV barrier at 573 K,
nu = 5e12 Hz, 1/8 of the Na sites vacant, and writes the lattice it used. This script then
builds our lattice from exactly those sites and hops (E_KRA = 0.3 eV, equal site energies, no
Na-Na term: the same rates) and runs ours. Printed: D_sigma (D_J) and Haven ratio of both with
standard errors over runs (ours also over blocks), and the ratio of hops per second, each side
timing its own production loop (kmcpy: ``KMC.run`` with its tracker; ours: the kernel).

Usage::

    python benchmarks/bench_kmc.py --cif PATH/EntryWithCollCode15546_Na4Zr2Si3O12_573K.cif

Results: ``benchmarks/results/bench_kmc.json`` and ``.txt``.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def ours(d: dict, passes: int, runs: int, blocks: int, seed: int):
    from nasicon_sim.transport import CellModel, KMCSettings, build_lattice, simulate

    lat = np.array(d["lattice"])
    frac = np.array(d["na_frac"])
    index = {int(g): k for k, g in enumerate(d["na_index"])}
    la, lb, lt = [], [], []
    for a, b in d["pairs"]:
        i, j = index[a], index[b]
        t = -np.round(frac[j] - frac[i]).astype(int)  # nearest image of j from i
        la.append(i)
        lb.append(j)
        lt.append(t)
    vacant = {index[int(v)] for v in d["vacant"]}
    occupied = np.array([k for k in range(len(frac)) if k not in vacant])
    cell = CellModel(lat, frac, np.zeros(len(frac)), ("Na",) * len(frac), la, lb,
                     np.array(lt), [d["barrier_eV"]] * len(la), ("Na-Na",) * len(la),
                     len(occupied), occupied)
    lattice = build_lattice(cell, (1, 1, 1))
    hop = np.linalg.norm(lattice.hop_vec_A, axis=1)
    assert np.allclose(hop, np.mean(d["hop_lengths_A"]), atol=1e-3), "hop lengths differ"
    s = KMCSettings(temperatures_K=(d["temperature_K"],), passes=passes, runs=runs,
                    blocks=blocks, equilibration_passes=0,
                    attempt_frequency_Hz=d["attempt_frequency_Hz"], seed=seed)
    t0 = time.perf_counter()
    res = simulate(lattice, s)
    return res, time.perf_counter() - t0


def kmcpy_stats(runs: list[dict]) -> dict:
    dj = np.array([r["D_J_cm2_s"] for r in runs])
    dt = np.array([r["D_tracer_cm2_s"] for r in runs])
    n = len(runs)
    sem = (lambda x: float(x.std(ddof=1) / math.sqrt(n))) if n > 1 else (lambda x: float("nan"))
    h = dt.mean() / dj.mean()
    h_err = h * math.hypot(sem(dt) / dt.mean(), sem(dj) / dj.mean()) if n > 1 else float("nan")
    return {"D_sigma_cm2_s": float(dj.mean()), "D_sigma_err_cm2_s": sem(dj),
            "D_tracer_cm2_s": float(dt.mean()), "D_tracer_err_cm2_s": sem(dt),
            "haven_ratio": float(h), "haven_ratio_err": float(h_err),
            "hops_per_second": float(np.median([r["hops_per_second"] for r in runs])),
            "runs": n, "hops": int(sum(r["hops"] for r in runs))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cif", required=True, help="kmcpy's ICSD 15546 NASICON test CIF")
    ap.add_argument("--kmcpy-python", default="/tmp/kmcpy-venv/bin/python")
    ap.add_argument("--sizes", default="4x4x4:12:10,8x8x8:1:1",
                    help="SHAPE:KMCPY_RUNS:KMCPY_PASSES,... (default 4x4x4:12:10,8x8x8:1:1)")
    ap.add_argument("--passes", type=int, default=400, help="our passes per run")
    ap.add_argument("--runs", type=int, default=8, help="our runs")
    ap.add_argument("--out", default=str(HERE / "results" / "bench_kmc"))
    args = ap.parse_args()
    report: dict = {"sizes": {}}
    lines = []
    for item in args.sizes.split(","):
        shape, k_runs, k_passes = item.split(":")
        side = Path(args.out).with_name(f"kmcpy_side_{shape}.json")
        t0 = time.perf_counter()
        subprocess.run([args.kmcpy_python, str(HERE / "kmcpy_side.py"), args.cif, shape, k_runs,
                        k_passes, str(side)], check=True)
        d = json.loads(side.read_text())
        side.unlink()
        k = kmcpy_stats(d["runs"])
        k["event_generation_s"] = d["event_generation_s"]
        res, wall = ours(d, args.passes, args.runs, 20, seed=1)
        p = res.points[0]
        o = {"D_sigma_cm2_s": p.D_sigma_cm2_s, "D_sigma_err_cm2_s": p.D_sigma_err_cm2_s,
             "D_tracer_cm2_s": p.D_tracer_cm2_s, "D_tracer_err_cm2_s": p.D_tracer_err_cm2_s,
             "haven_ratio": p.haven_ratio, "haven_ratio_err": p.haven_ratio_err,
             "hops_per_second": res.hops_per_second, "hops": p.n_hops, "wall_s": wall}
        ratio = o["hops_per_second"] / k["hops_per_second"]
        z_d = (o["D_sigma_cm2_s"] - k["D_sigma_cm2_s"]) / math.hypot(
            o["D_sigma_err_cm2_s"], k["D_sigma_err_cm2_s"]) if k["runs"] > 1 else None
        z_h = (o["haven_ratio"] - k["haven_ratio"]) / math.hypot(
            o["haven_ratio_err"], k["haven_ratio_err"]) if k["runs"] > 1 else None
        report["sizes"][shape] = {"n_sites": len(d["na_index"]), "n_events": d["n_events"],
                                  "kmcpy": k, "ours": o, "hops_per_second_ratio": ratio,
                                  "z_D_sigma": z_d, "z_haven": z_h}
        lines.append(f"{shape}: {len(d['na_index'])} Na sites, {d['n_events']} events, "
                     f"T = {d['temperature_K']} K, E = {d['barrier_eV']} eV constant")
        for name, r in (("kmcpy", k), ("ours ", o)):
            lines.append(f"  {name} D_sigma = {r['D_sigma_cm2_s']:.3e} ± "
                         f"{r['D_sigma_err_cm2_s']:.1e} cm2/s   Haven = {r['haven_ratio']:.3f} ± "
                         f"{r['haven_ratio_err']:.3f}   {r['hops_per_second']:,.0f} hops/s "
                         f"({r['hops']:,} hops)")
        if z_d is not None:
            lines.append(f"  difference / combined error: D_sigma {z_d:+.2f}, Haven {z_h:+.2f}")
        lines.append(f"  hops/s ratio ours / kmcpy = {ratio:,.0f}")
        print("\n".join(lines[-5:]), flush=True)
        print(f"  (kmcpy side {time.perf_counter() - t0 - wall:.0f} s incl. event generation)",
              file=sys.stderr)
    report["settings"] = {"our_passes": args.passes, "our_runs": args.runs,
                          "sizes": args.sizes, "command": " ".join(sys.argv)}
    from nasicon_sim.io.atomic import atomic_write_text

    atomic_write_text(args.out + ".json", json.dumps(report, indent=1))
    atomic_write_text(args.out + ".txt", "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
