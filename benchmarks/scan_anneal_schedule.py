"""Calibration of the Ewald annealing schedule on the ME1 4-cell supercell (328 atoms).

Run from the repository root:

    .venv/bin/python benchmarks/scan_anneal_schedule.py [--runs 6]

Prints the Ewald energy (eV per supercell) of random orderings and, for a grid of starting
temperatures and sweep counts, the mean and lowest energy of ``--runs`` annealing runs with
their median time per run. The defaults of :class:`nasicon_sim.structure.ordering.AnnealSchedule`
were chosen from this table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasicon_sim.structure.ensemble import prepare_build  # noqa: E402
from nasicon_sim.structure.ewald import ewald_energy  # noqa: E402
from nasicon_sim.structure.ordering import (  # noqa: E402
    AnnealSchedule,
    anneal_occupation,
    random_occupation,
)
from nasicon_sim.structure.sites import charges_of  # noqa: E402

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    plan = prepare_build(ME1, min_atoms=300)
    sites, matrix = plan.sites, plan.ewald_matrix
    rand = [ewald_energy(matrix, charges_of(sites, random_occupation(sites, np.random.default_rng(k))))
            for k in range(50)]
    print(f"ME1, {plan.choice.n_atoms} atoms: random orderings (50): mean {np.mean(rand):.2f} eV, "
          f"std {np.std(rand):.2f}, min {np.min(rand):.2f}")
    # the median |dE| of a random charge-changing swap sets the temperature scale
    rng = np.random.default_rng(0)
    q = charges_of(sites, random_occupation(sites, rng))
    phi = matrix @ q
    deltas = []
    for g in sites.groups:
        for _ in range(300):
            i, j = rng.choice(g.indices, size=2, replace=False)
            d = q[i] - q[j]
            if d:
                deltas.append(abs(2 * d * (phi[j] - phi[i]) + d * d * (matrix[i, i] + matrix[j, j] - 2 * matrix[i, j])))
    print(f"median |dE| of a random charge-changing swap: {np.median(deltas):.2f} eV")
    print(f"{'kT_start':>8} {'sweeps':>6} {'mean E':>12} {'min E':>12} {'t/run (s)':>10}")
    for kt in (0.3, 1.0, 3.0, 10.0):
        for sweeps in (50, 100, 300, 1000):
            schedule = AnnealSchedule(kT_start_eV=kt, n_sweeps=sweeps)
            energies, times = [], []
            for k in range(args.runs):
                t0 = time.perf_counter()
                energies.append(anneal_occupation(sites, matrix, np.random.default_rng(k), schedule).energy_eV)
                times.append(time.perf_counter() - t0)
            print(f"{kt:>8.1f} {sweeps:>6d} {np.mean(energies):>12.3f} {np.min(energies):>12.3f} "
                  f"{statistics.median(times):>10.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
