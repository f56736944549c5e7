"""Is CHGNet's own batched prediction faster than one structure at a time on this CPU?

Model only (no optimiser): the same N Ewald configurations of ME1 (one parent cell, 82 atoms)
as benchmarks/bench_batch.py, converted to CHGNet graphs once, then in one process and
alternately: N single ``CHGNet.predict_graph`` calls, one call with ``batch_size=N``, and
calls with ``batch_size=2``; energies, forces and stresses (task ``efs``), one torch thread.
This separates the cost of CHGNet's batched forward pass from our batching loop.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_chgnet_batch_forward.py -n 8 --repeats 2
"""

from __future__ import annotations

import argparse
import os
import time
import warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from nasicon_sim.relax import calculator_from_spec
    from nasicon_sim.structure import build_ensemble

    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    torch.set_num_threads(args.threads)
    configs = build_ensemble("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", n=args.n, seed=2026,
                             method="ewald", n_cells=1)
    model = calculator_from_spec("chgnet", device="cpu").model
    graphs = [model.graph_converter(c.structure) for c in configs]
    print(f"ME1: {len(graphs)} configurations of {len(configs[0].structure)} atoms, torch "
          f"{torch.__version__}, {args.threads} thread(s), load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    for rep in range(args.repeats):
        t0 = time.perf_counter()
        for g in graphs:
            model.predict_graph(g, task="efs")
        single = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.predict_graph(graphs, task="efs", batch_size=len(graphs))
        whole = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.predict_graph(graphs, task="efs", batch_size=2)
        pairs = time.perf_counter() - t0
        print(f"repeat {rep}: {len(graphs)} single calls {single:.1f} s; one batch of "
              f"{len(graphs)} {whole:.1f} s (single/batched {single / whole:.2f}); batches of 2 "
              f"{pairs:.1f} s (single/batched {single / pairs:.2f}); load "
              f"{os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
