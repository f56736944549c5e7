"""Does relaxing an ensemble in one batch pay on this CPU? Batched vs one-by-one CHGNet relaxation.

One process, the same loaded CHGNet model, the same N Ewald configurations of one composition:

* one by one: ``nasicon_sim.relax.relax_structure`` on each configuration in turn;
* batched: ``nasicon_sim.relax.relax_batch`` on all N (one ``CHGNet.predict_graph`` call per
  step for every member still running).

Both take exactly the same optimiser steps (the members' trajectories are identical; the
tests check it), so the script runs a fixed number of ``--steps`` per configuration (fmax set
unreachably small) and compares wall times for the same work: configuration-steps per
second, and the ratio one-by-one / batched (> 1: batching pays). The two run alternately,
``--repeats`` times, and the medians are printed, with the load average, for each torch
thread count. With ``--full`` the batch is also relaxed to convergence once (fmax 0.05).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_batch.py --formula ME1 -n 8 --steps 8 \\
        --repeats 2 --threads 1 2 --json benchmarks/results/bench_batch_ME1.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

LABELS = {"NZSP": "Na3Zr2Si2PO12", "LE": "Na3.5Zr1.5Lu0.5Si2PO12",
          "ME1": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formula", default="ME1")
    parser.add_argument("-n", type=int, default=8, help="configurations")
    parser.add_argument("--cells", type=int, default=1)
    parser.add_argument("--steps", type=int, default=8, help="optimiser steps per configuration")
    parser.add_argument("--optimizer", default="BFGS")
    parser.add_argument("--cell", action="store_true", default=True)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=None,
                        help="members relaxed together (default: all N)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    import torch

    from nasicon_sim.relax import RelaxSettings, calculator_from_spec, relax_batch, relax_structure
    from nasicon_sim.structure import build_ensemble

    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    formula = LABELS.get(args.formula, args.formula)
    configs = build_ensemble(formula, n=args.n, seed=2026, method="ewald", n_cells=args.cells)
    structures = [c.structure for c in configs]
    calc = calculator_from_spec("chgnet", device="cpu")
    n_atoms = len(structures[0])
    head = (f"{args.formula} ({formula}): {len(structures)} configurations of {n_atoms} atoms, "
            f"{args.optimizer}, cell={args.cell}, {args.steps} steps each, batch size "
            f"{args.batch_size or len(structures)}, CHGNet "
            f"{calc.model.version}, torch {torch.__version__}, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.2f}")
    print(head, flush=True)
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        settings = RelaxSettings(fmax_eV_A=1e-9, steps=args.steps, cell=args.cell,
                                 optimizer=args.optimizer, threads=threads)
        seq, bat, loads = [], [], []
        for k in range(args.repeats):
            for which in (("seq", "batch") if k % 2 == 0 else ("batch", "seq")):
                loads.append(os.getloadavg()[0])
                t0 = time.perf_counter()
                if which == "seq":
                    one = [relax_structure(s, settings, calculator=calc) for s in structures]
                    seq.append(time.perf_counter() - t0)
                    steps_seq = sum(r.n_steps + 1 for r in one)
                else:
                    b = relax_batch(structures, settings, calculator=calc,
                                    batch_size=args.batch_size)
                    bat.append(time.perf_counter() - t0)
                    steps_bat = sum(r.n_steps + 1 for r in b.results)
                print(f"  threads {threads} repeat {k} {which:5s} {(seq if which == 'seq' else bat)[-1]:7.1f} s "
                      f"load {loads[-1]:.2f}", flush=True)
        assert steps_seq == steps_bat
        row = {"threads": threads, "evaluations": steps_seq,
               "one_by_one_s": statistics.median(seq), "batched_s": statistics.median(bat),
               "one_by_one_all": [round(x, 2) for x in seq], "batched_all": [round(x, 2) for x in bat],
               "load_average": [round(x, 2) for x in loads]}
        row["speedup_batched"] = row["one_by_one_s"] / row["batched_s"]
        rows.append(row)
        print(f"threads {threads}: one by one {row['one_by_one_s']:.1f} s, batched "
              f"{row['batched_s']:.1f} s for {steps_seq} configuration-evaluations "
              f"({steps_seq / row['one_by_one_s']:.2f} vs {steps_seq / row['batched_s']:.2f} "
              f"per s); one-by-one / batched = {row['speedup_batched']:.2f} (medians of "
              f"{args.repeats}); load {min(loads):.2f}-{max(loads):.2f}", flush=True)
    if args.json:
        from nasicon_sim.io.atomic import atomic_write_text

        atomic_write_text(Path(args.json), json.dumps({
            "header": head, "formula": formula, "n": len(structures), "n_atoms": n_atoms,
            "steps": args.steps, "optimizer": args.optimizer,
            "batch_size": args.batch_size or len(structures),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "torch": torch.__version__}, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
