"""Benchmark: nasicon-sim's BVSE engine against bvlain, as whole processes, same machine.

Runs, each in its own child process (wall time and peak resident memory from ``os.wait4``):

1. bvlain 0.25.1 on the NZSP cell (Na removed: bvlain needs an ordered structure, and mobile
   ions are removed by both codes anyway) at 0.1 A: ``Lain.bvse_distribution(mobile_ion="Na1+",
   r_cut=10, resolution=0.1, k=100)`` then ``percolation_barriers()``, its defaults;
2. ``nasicon-sim bvse structures/NZSP_C2c.cif --spacing 0.1 --json`` (landscape, percolation,
   network, refinement), one warm-up run (numba cache) and then ``--repeats`` timed runs;
3. the same command on a 2x2x2 NZSP supercell (about 10 million grid points).

It prints the barriers side by side and the ratios (median of our runs; bvlain once by
default: it needs about 11 GB and a minute or two). Timings on a shared machine are noisy;
compare ratios from one run of this script. Usage::

    .venv/bin/python benchmarks/bench_bvse.py [--repeats 3] [--bvlain-repeats 1]
        [--skip-bvlain] [--skip-supercell] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CIF = ROOT / "structures" / "NZSP_C2c.cif"
BVLAIN_CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
from pymatgen.core import Structure
from bvlain import Lain
s = Structure.from_file(sys.argv[1])
s.remove_species([sp for sp in s.composition if sp.symbol == "Na"])
s.add_oxidation_state_by_element({"Zr": 4, "Si": 4, "P": 5, "O": -2})
t0 = time.perf_counter()
lain = Lain(verbose=False)
lain.read_structure(s, oxi_check=False)
data = lain.bvse_distribution(mobile_ion="Na1+", r_cut=10, resolution=float(sys.argv[2]), k=100)
t1 = time.perf_counter()
e = lain.percolation_barriers()
t2 = time.perf_counter()
print(json.dumps({"E_1D_eV": float(e["E_1D"]), "E_2D_eV": float(e["E_2D"]),
                  "E_3D_eV": float(e["E_3D"]), "grid_shape": list(data.shape),
                  "t_bvse_s": t1 - t0, "t_percolation_s": t2 - t1}))
"""


def run_child_wait4(cmd: list[str]) -> dict:
    """Run a command; its JSON stdout plus wall time and this child's own peak RSS (wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n"
                             f"{err.read()[-3000:]}")
        result = json.loads(out.read())
    result["wall_s"] = wall
    result["peak_rss_GB"] = usage.ru_maxrss * 1024 / 1e9  # Linux: kilobytes
    return result


def available_memory_GB() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / 1e9
    return float("nan")


def ours_cmd(structure: Path, spacing: float) -> list[str]:
    exe = Path(sys.executable).parent / "nasicon-sim"
    return [str(exe), "bvse", str(structure), "--spacing", str(spacing), "--json",
            "--max-memory-gb", "6"]


def summarize(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    rss = [r["peak_rss_GB"] for r in runs]
    return {"wall_s_median": statistics.median(walls), "wall_s_all": walls,
            "peak_rss_GB_max": max(rss), "barriers": [runs[-1][f"E_{d}D_eV"] for d in (1, 2, 3)],
            "refined": [runs[-1].get(f"E_{d}D_refined_eV") for d in (1, 2, 3)],
            "grid_shape": runs[-1]["grid_shape"],
            "timings_s": runs[-1].get("metadata", {}).get("timings_s")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spacing", type=float, default=0.1)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of ours (median)")
    ap.add_argument("--bvlain-repeats", type=int, default=1)
    ap.add_argument("--skip-bvlain", action="store_true")
    ap.add_argument("--skip-supercell", action="store_true")
    ap.add_argument("--json", type=Path, help="also write all numbers to this file")
    args = ap.parse_args(argv)
    report: dict = {"spacing_A": args.spacing, "cpu_count": os.cpu_count(),
                    "load_average_start": os.getloadavg()}
    print(f"# BVSE benchmark, NZSP (Hong 1976 C2/c), spacing {args.spacing} A, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")

    # ours, unit cell: a warm-up run fills the numba cache, then timed runs
    warm = run_child_wait4(ours_cmd(CIF, args.spacing))
    runs = [run_child_wait4(ours_cmd(CIF, args.spacing)) for _ in range(args.repeats)]
    ours = summarize(runs)
    ours["warmup_wall_s"] = warm["wall_s"]
    report["ours_cell"] = ours
    print(f"ours   cell  grid {ours['grid_shape']}: wall median {ours['wall_s_median']:.2f} s "
          f"(runs {', '.join(f'{w:.2f}' for w in ours['wall_s_all'])}; first run "
          f"{warm['wall_s']:.2f} s), peak RSS {ours['peak_rss_GB_max']:.2f} GB")
    print(f"       stages (s): {ours['timings_s']}")

    if not args.skip_bvlain:
        avail = available_memory_GB()
        if avail < 14:
            print(f"bvlain skipped: only {avail:.1f} GB available, it needs about 11 GB")
        else:
            bv_runs = [run_child_wait4([sys.executable, "-c", BVLAIN_CHILD, str(CIF),
                                        str(args.spacing)]) for _ in range(args.bvlain_repeats)]
            bv = {"wall_s_median": statistics.median(r["wall_s"] for r in bv_runs),
                  "wall_s_all": [r["wall_s"] for r in bv_runs],
                  "peak_rss_GB_max": max(r["peak_rss_GB"] for r in bv_runs),
                  "barriers": [bv_runs[-1][f"E_{d}D_eV"] for d in (1, 2, 3)],
                  "grid_shape": bv_runs[-1]["grid_shape"],
                  "t_bvse_s": bv_runs[-1]["t_bvse_s"],
                  "t_percolation_s": bv_runs[-1]["t_percolation_s"]}
            report["bvlain_cell"] = bv
            speed = bv["wall_s_median"] / ours["wall_s_median"]
            mem = bv["peak_rss_GB_max"] / ours["peak_rss_GB_max"]
            report["ratios"] = {"speed": speed, "memory": mem}
            print(f"bvlain cell  grid {bv['grid_shape']}: wall {bv['wall_s_median']:.2f} s "
                  f"(BVSE {bv['t_bvse_s']:.1f} s, percolation {bv['t_percolation_s']:.1f} s), "
                  f"peak RSS {bv['peak_rss_GB_max']:.2f} GB")
            print(f"ratios bvlain/ours: time {speed:.1f}x, peak memory {mem:.1f}x "
                  f"(targets >= 20x, >= 10x)")
            print(f"{'barrier (eV)':<14}{'bvlain':>10}{'ours grid':>11}{'ours refined':>14}"
                  f"{'bvlain - ours':>15}")
            for d in range(3):
                diff = bv["barriers"][d] - ours["barriers"][d]
                ref = ours["refined"][d]
                ref_s = f"{ref:14.4f}" if ref is not None else f"{'-':>14}"
                print(f"E_{d + 1}D{'':<10}{bv['barriers'][d]:10.4f}{ours['barriers'][d]:11.4f}"
                      f"{ref_s}{diff:15.4f}")
            print("(bvlain bisects with a 10/1024 eV window and returns its upper end)")

    if not args.skip_supercell:
        from pymatgen.io.cif import CifWriter

        from nasicon_sim.structure.parent import load_parent

        with tempfile.TemporaryDirectory() as tmp:
            s = load_parent()
            s.make_supercell([2, 2, 2])
            path = Path(tmp) / "NZSP_C2c_2x2x2.cif"
            CifWriter(s).write_file(path)
            sc_runs = [run_child_wait4(ours_cmd(path, args.spacing))
                       for _ in range(max(1, args.repeats))]
        sc = summarize(sc_runs)
        sc["n_grid_points"] = sc_runs[-1]["n_grid_points"]
        sc["n_atoms"] = sc_runs[-1]["n_atoms"]
        report["ours_supercell_2x2x2"] = sc
        print(f"ours   2x2x2 ({sc['n_atoms']} atoms) grid {sc['grid_shape']} "
              f"({sc['n_grid_points']:,} points): wall median {sc['wall_s_median']:.1f} s "
              f"(runs {', '.join(f'{w:.1f}' for w in sc['wall_s_all'])}), peak RSS "
              f"{sc['peak_rss_GB_max']:.2f} GB (targets < 60 s, < 3 GB)")
        print(f"       stages (s): {sc['timings_s']}")
        print(f"       barriers grid {[round(b, 4) for b in sc['barriers']]}, refined "
              f"{[None if b is None else round(b, 4) for b in sc['refined']]} "
              f"(unit cell: {[round(b, 4) for b in ours['barriers']]})")
    report["load_average_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
