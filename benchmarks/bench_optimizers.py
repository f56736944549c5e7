"""Which ASE optimiser relaxes the study's supercells fastest with CHGNet?

One process per cell, side by side on the same unrelaxed structure and the same loaded CHGNet
model: every optimiser of ``nasicon_sim.relax.OPTIMIZERS`` relaxes the cell's first Ewald
configuration (positions only, and positions + cell with ``FrechetCellFilter``) to the same
``--fmax``; the script prints the optimiser steps, the CHGNet calls (line searches make more
than one per step), the wall time, the final energy and the ratios to FIRE (the default before
this benchmark). The optimisers run in a rotating order so that load from other jobs on a
shared machine does not always hit the same one; the load average is printed with every row.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_optimizers.py --formula ME1 --cells 1 \\
        --json benchmarks/results/bench_optimizers_ME1_1cell.json

(``--formula`` takes a label of calculations/zuo2026 or a formula.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

LABELS = {"NZSP": "Na3Zr2Si2PO12", "LE": "Na3.5Zr1.5Lu0.5Si2PO12",
          "ME1": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"}


def main() -> None:
    from nasicon_sim.relax import OPTIMIZERS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formula", default="ME1", help="label (NZSP, LE, ME1) or formula")
    parser.add_argument("--cells", type=int, default=1, help="parent cells in the supercell")
    parser.add_argument("--min-atoms", type=int, default=None,
                        help="smallest exact supercell with at least this many atoms "
                        "(instead of --cells; HE1 needs 5 cells)")
    parser.add_argument("--fmax", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["cell", "positions"],
                        choices=["cell", "positions"])
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    import torch

    from nasicon_sim.relax import RelaxSettings, calculator_from_spec, relax_structure
    from nasicon_sim.structure import build_ensemble

    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    torch.set_num_threads(args.threads)
    formula = LABELS.get(args.formula, args.formula)
    if args.min_atoms is not None:
        config = build_ensemble(formula, n=1, seed=0, method="ewald", min_atoms=args.min_atoms)[0]
    else:
        config = build_ensemble(formula, n=1, seed=0, method="ewald", n_cells=args.cells)[0]
    structure = config.structure
    calc = calculator_from_spec("chgnet", device="cpu")
    head = (f"{args.formula} ({formula}): {len(structure)} atoms, CHGNet {calc.model.version}, "
            f"torch {torch.__version__} ({args.threads} thread(s)), {os.cpu_count()} cores, "
            f"fmax {args.fmax} eV/A, steps <= {args.steps}, load average "
            f"{os.getloadavg()[0]:.2f}")
    print(head, flush=True)
    rows = []
    for mode in args.modes:
        order = list(args.optimizers)
        shift = 0 if mode == "cell" else len(order) // 2
        order = order[shift:] + order[:shift]
        mode_rows = []
        for name in order:
            settings = RelaxSettings(fmax_eV_A=args.fmax, steps=args.steps, cell=mode == "cell",
                                     optimizer=name, threads=args.threads)
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            try:
                r = relax_structure(structure, settings, calculator=calc)
            except Exception as exc:  # an optimiser that fails is a result too
                row = {"mode": mode, "optimizer": name, "error": f"{type(exc).__name__}: {exc}"}
                print(f"{mode:9s} {name:14s} FAILED: {row['error']}", flush=True)
                mode_rows.append(row)
                continue
            wall = time.perf_counter() - t0
            row = {"mode": mode, "optimizer": name, "converged": r.converged,
                   "steps": r.n_steps, "calls": r.n_calls, "seconds": round(wall, 2),
                   "s_per_call": round(wall / max(1, r.n_calls or 1), 4),
                   "energy_eV": round(r.final_energy_eV, 5),
                   "max_force_eV_A": round(r.final_max_force_eV_A, 4),
                   "max_stress_GPa": r.max_stress_GPa,
                   "load_before": round(load0, 2), "load_after": round(os.getloadavg()[0], 2)}
            mode_rows.append(row)
            print(f"{mode:9s} {name:14s} {'conv' if r.converged else 'NOT conv':8s} "
                  f"steps {r.n_steps:4d} calls {r.n_calls:4d} {wall:7.1f} s "
                  f"E {r.final_energy_eV:.4f} eV fmax {r.final_max_force_eV_A:.4f} "
                  f"load {load0:.2f}->{row['load_after']:.2f}", flush=True)
        fire = next((x for x in mode_rows if x["optimizer"] == "FIRE" and "error" not in x), None)
        if fire is not None:
            for x in mode_rows:
                if "error" in x:
                    continue
                x["time_ratio_to_FIRE"] = round(x["seconds"] / fire["seconds"], 3)
                x["calls_ratio_to_FIRE"] = round(x["calls"] / fire["calls"], 3)
                x["energy_minus_FIRE_meV"] = round(1000 * (x["energy_eV"] - fire["energy_eV"]), 1)
            print(f"--- {mode}: ratios to FIRE (time, calls; energy - E_FIRE in meV per cell)")
            for x in sorted((x for x in mode_rows if "error" not in x), key=lambda x: x["seconds"]):
                print(f"    {x['optimizer']:14s} time x{x['time_ratio_to_FIRE']:.3f}  calls "
                      f"x{x['calls_ratio_to_FIRE']:.3f}  dE {x['energy_minus_FIRE_meV']:+7.1f} meV"
                      f"{'' if x['converged'] else '  (NOT converged)'}", flush=True)
        rows.extend(mode_rows)
    if args.json:
        from nasicon_sim.io.atomic import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps({
            "formula": formula, "label": args.formula, "n_atoms": len(structure),
            "fmax_eV_A": args.fmax, "threads": args.threads, "header": head,
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "torch": torch.__version__}, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
