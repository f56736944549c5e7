"""Time per relaxation of a ~170-atom ME1 supercell (2 parent cells) with CHGNet on this machine.

Side by side in one process, on the same structure and the same loaded CHGNet model:

* ours: ``nasicon_sim.relax.relax_structure`` (FIRE, FrechetCellFilter, per-step energy and
  force record, ``.traj`` written every step);
* reference: CHGNet's own ``StructOptimizer.relax`` (FIRE, FrechetCellFilter, its trajectory
  observer), the way CHGNet's documentation relaxes a structure.

Each repeat runs ``--steps`` optimiser steps from the same unrelaxed structure (plus the
first energy/force evaluation); the script prints the median time per step over ``--repeats``
repeats for torch threads 1 and 2 and the ratio ours / reference. With ``--full`` it also
relaxes the supercell to convergence once (fmax 0.05 eV/A, cell too) with ours and prints the
steps taken and the time, which with the time per step gives the time per relaxation.

    .venv/bin/python benchmarks/bench_relax.py --repeats 3 --steps 10 --full \
        --json benchmarks/results/bench_relax.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--full", action="store_true", help="also one full relaxation")
    parser.add_argument("--full-threads", type=int, default=2)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    import torch
    from chgnet.model.dynamics import StructOptimizer

    from nasicon_sim.relax import RelaxSettings, calculator_from_spec, relax_structure
    from nasicon_sim.structure import build_ensemble

    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    config = build_ensemble(ME1, n=1, seed=0, method="ewald", n_cells=2)[0]
    structure = config.structure
    n_atoms = len(structure)
    calc = calculator_from_spec("chgnet", device="cpu")
    with contextlib.redirect_stdout(io.StringIO()):
        reference = StructOptimizer(model=calc.model, optimizer_class="FIRE", use_device="cpu")
    plain = structure.copy()
    plain.remove_oxidation_states()
    for key in list(plain.site_properties):
        plain.remove_site_property(key)
    print(f"ME1 supercell: {n_atoms} atoms (2 parent cells), CHGNet "
          f"{calc.model.version}, torch {torch.__version__}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    rows = []
    tmp = Path(tempfile.mkdtemp())
    for threads in args.threads:
        torch.set_num_threads(threads)
        ours, ref = [], []
        settings = RelaxSettings(fmax_eV_A=1e-6, steps=args.steps, cell=True, threads=threads,
                                 optimizer="FIRE")  # as the reference below

        for k in range(args.repeats):  # alternate the order: load from other jobs hits both
            for which in (("ours", "chgnet") if k % 2 == 0 else ("chgnet", "ours")):
                t0 = time.perf_counter()
                if which == "ours":
                    r = relax_structure(structure, settings, calculator=calc,
                                        trajectory=tmp / f"{k}.traj")
                    ours.append((time.perf_counter() - t0) / (r.n_steps + 1))
                else:
                    with contextlib.redirect_stdout(io.StringIO()):
                        out = reference.relax(plain.copy(), fmax=1e-6, steps=args.steps,
                                              relax_cell=True, verbose=False)
                    ref.append((time.perf_counter() - t0) / len(out["trajectory"].energies))
        row = {"threads": threads, "load_average": os.getloadavg()[0],
               "ours_s_per_step": statistics.median(ours),
               "chgnet_s_per_step": statistics.median(ref), "ours_all": ours, "chgnet_all": ref}
        row["ratio_ours_over_chgnet"] = row["ours_s_per_step"] / row["chgnet_s_per_step"]
        rows.append(row)
        print(f"threads {threads}: ours {row['ours_s_per_step']:.3f} s/step, CHGNet "
              f"StructOptimizer {row['chgnet_s_per_step']:.3f} s/step (medians of "
              f"{args.repeats} x {args.steps} steps); ratio ours/CHGNet "
              f"{row['ratio_ours_over_chgnet']:.3f}; all ours "
              f"{[round(x, 2) for x in ours]}, CHGNet {[round(x, 2) for x in ref]}; load "
              f"average {row['load_average']:.2f}")
    full = None
    if args.full:
        torch.set_num_threads(args.full_threads)
        settings = RelaxSettings(fmax_eV_A=0.05, steps=2000, cell=True, threads=args.full_threads,
                                 optimizer="FIRE")
        t0 = time.perf_counter()
        r = relax_structure(structure, settings, calculator=calc)
        wall = time.perf_counter() - t0
        full = {"threads": args.full_threads, "converged": r.converged, "n_steps": r.n_steps,
                "seconds": wall, "s_per_step": wall / (r.n_steps + 1),
                "max_force_final_eV_A": r.final_max_force_eV_A,
                "energy_change_per_atom_eV": (r.final_energy_eV - r.initial_energy_eV) / n_atoms}
        print(f"full relaxation (fmax 0.05 eV/A, cell, {args.full_threads} threads): "
              f"{'converged' if r.converged else 'NOT converged'} in {r.n_steps} steps, "
              f"{wall:.0f} s ({full['s_per_step']:.3f} s/step), final max force "
              f"{r.final_max_force_eV_A:.4f} eV/A, load average {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "n_atoms": n_atoms, "steps_per_repeat": args.steps, "repeats": args.repeats,
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "torch": torch.__version__}, "per_step": rows, "full": full}, indent=1)
            + "\n")


if __name__ == "__main__":
    main()
