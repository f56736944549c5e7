"""Benchmark: 20 Ewald-ordered ME1 configurations of 328 atoms (4 parent cells).

Run from the repository root:

    .venv/bin/python benchmarks/bench_build.py [--repeats 3] [--n 20]

Prints, side by side in one run:

1. ours: ``build_ensemble(ME1, n=20, method="ewald", min_atoms=300)`` end to end (supercell
   choice, Ewald matrix, annealing), and the same with every CIF and the manifest written
   (what ``nasicon-sim build`` does); median and spread over ``--repeats`` runs;
2. reference A, a plain-numpy Monte Carlo that recomputes the full energy ``q^T A q`` at
   every trial swap (same proposals, same random numbers: it must reach the same energies);
   the ratio is the gain of the O(1)/O(N) incremental update;
3. reference B, pymatgen's ``OrderDisorderedStructureTransformation`` (Ewald branch and
   bound, ``algo=0``) on the 1-cell ME1 supercell, the size it can handle, against ours on
   the same cell: time and energy of the best ordering. ``--pymatgen-2cells SECONDS`` also
   runs it on the 2-cell supercell in a child process stopped after SECONDS.

Times on a shared 2-core machine are noisy: compare medians and ratios.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nasicon_sim.io.write import EnsembleWriter  # noqa: E402
from nasicon_sim.structure.ensemble import build_ensemble, prepare_build  # noqa: E402
from nasicon_sim.structure.ordering import (  # noqa: E402
    AnnealSchedule,
    SwapProposer,
    random_occupation,
)
from nasicon_sim.structure.sites import charges_of  # noqa: E402

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"


def full_recompute_anneal(sites, matrix, rng, schedule):
    """Reference: the annealing of ``ordering.anneal_occupation`` (same proposals, same random
    numbers) with the energy recomputed as ``q^T A q`` at every trial swap."""
    occupation = random_occupation(sites, rng).astype(object)
    q = charges_of(sites, occupation.astype(str))
    energy = float(q @ matrix @ q)
    best = energy
    proposers = [SwapProposer(g.indices, occupation) for g in sites.groups]
    sizes = np.array([len(g.indices) for g in sites.groups], dtype=float)
    weights = sizes / sizes.sum()
    n_ordered = int(sizes.sum())
    for kT in schedule.temperatures():
        beta = 1.0 / float(kT)
        which = rng.choice(len(proposers), size=n_ordered, p=weights)
        draws = rng.random((n_ordered, 4))
        for t in range(n_ordered):
            proposer = proposers[which[t]]
            i, j, move = proposer.propose(draws[t, 0], draws[t, 1], draws[t, 2])
            if q[i] == q[j]:
                occupation[i], occupation[j] = occupation[j], occupation[i]
                proposer.accept(move)
                continue
            q[i], q[j] = q[j], q[i]
            trial = float(q @ matrix @ q)
            delta = trial - energy
            if delta > 0.0 and draws[t, 3] >= math.exp(-delta * beta):
                q[i], q[j] = q[j], q[i]
                continue
            occupation[i], occupation[j] = occupation[j], occupation[i]
            proposer.accept(move)
            energy = trial
            best = min(best, energy)
    return best


def timed(fn, repeats):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def fmt(times):
    return f"median {statistics.median(times):7.2f} s  (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--pymatgen-2cells", type=float, default=0.0, metavar="SECONDS",
                        help="also try pymatgen's ordering on the 2-cell supercell for this long")
    args = parser.parse_args()
    n = args.n

    def ours():
        return build_ensemble(ME1, n=n, seed=0, method="ewald", min_atoms=300)

    def ours_written():
        with tempfile.TemporaryDirectory() as tmp:
            plan = prepare_build(ME1, min_atoms=300)
            writer = EnsembleWriter(Path(tmp) / "out", plan.base_metadata(), formats=["cif"])
            ens = build_ensemble(ME1, n=n, seed=0, method="ewald", plan=plan, callback=writer.add)
            writer.finish(ens.summary())
            return ens

    t_ours, ens = timed(ours, args.repeats)
    t_written, _ = timed(ours_written, args.repeats)
    atoms = ens[0].n_atoms
    print(f"ME1 {ME1}: {len(ens)} configurations x {atoms} atoms, "
          f"{ens.choice.n_cells} parent cells, matrix {[list(r) for r in ens.choice.matrix]}")
    print(f"ours, build_ensemble (ewald)        {fmt(t_ours)}")
    print(f"ours, build + write CIFs + manifest {fmt(t_written)}")
    energies = ens.ewald_energies_eV
    print(f"  Ewald energies: mean {energies.mean():.4f} eV, min {energies.min():.4f}, max {energies.max():.4f}")

    # reference A: same annealing, full O(N^2) energy per trial swap
    plan = prepare_build(ME1, min_atoms=300)
    schedule = AnnealSchedule()
    n_ref = n

    def reference_a():
        return [full_recompute_anneal(plan.sites, plan.ewald_matrix,
                                      np.random.default_rng(np.random.SeedSequence(0, spawn_key=(k,))),
                                      schedule) for k in range(n_ref)]

    t_ref, ref_energies = timed(reference_a, max(1, args.repeats // 2))
    agree = np.abs(np.array(ref_energies) - energies).max()
    print(f"reference A, full-recompute MC       {fmt(t_ref)}")
    print(f"  same lowest energies as ours: max |dE| = {agree:.2e} eV")
    print(f"  ratio reference A / ours (build only): {statistics.median(t_ref) / statistics.median(t_ours):.2f}")

    # reference B: pymatgen Ewald branch-and-bound on the 1-cell supercell

    small = prepare_build(ME1)
    disordered = disordered_structure(small.sites)

    def reference_b():
        return pymatgen_best_energy(disordered)

    def ours_small():
        return build_ensemble(ME1, n=1, seed=0, method="ewald", plan=small)[0].ewald_energy_eV

    t_b, e_b = timed(reference_b, args.repeats)
    t_s, e_s = timed(ours_small, args.repeats)
    print(f"reference B, pymatgen ODST 1 cell    {fmt(t_b)}  best E {e_b:.4f} eV")
    print(f"ours, 1 configuration, 1 cell        {fmt(t_s)}  best E {e_s:.4f} eV")
    print(f"  ratio pymatgen / ours (1 cell): {statistics.median(t_b) / statistics.median(t_s):.2f}")
    if args.pymatgen_2cells > 0:
        try_two_cells(args.pymatgen_2cells)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this run: {peak:.0f} MiB")
    target = 30.0
    verdict = "meets" if statistics.median(t_written) < target else "MISSES"
    print(f"target: {n} configurations of ~340 atoms in < {target:.0f} s -> {verdict} it")
    return 0


def disordered_structure(s):
    """The disordered ME1 supercell as pymatgen partial occupancies (input of reference B)."""
    from pymatgen.core import Lattice, Species, Structure

    species = []
    for k in range(s.n_positions):
        if s.sublattice[k] == "Na":
            species.append({Species("Na", 1): 14 / 16})
        elif s.sublattice[k] == "M":
            species.append({Species("Zr", 4): 0.5, Species("Ti", 4): 0.25, Species("Lu", 3): 0.25})
        else:
            el = str(s.fixed[k])
            species.append({Species(el, s.oxidation_states[el]): 1})
    return Structure(Lattice(s.lattice_matrix), species, s.frac_coords)


def pymatgen_best_energy(disordered):
    from pymatgen.transformations.standard_transformations import (
        OrderDisorderedStructureTransformation,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OrderDisorderedStructureTransformation(algo=0).apply_transformation(
            disordered, return_ranked_list=1)[0]["energy"]


def _two_cell_child(queue):
    t0 = time.perf_counter()
    energy = pymatgen_best_energy(disordered_structure(prepare_build(ME1, n_cells=2).sites))
    queue.put((time.perf_counter() - t0, energy))


def try_two_cells(seconds):
    import multiprocessing as mp

    queue = mp.Queue()
    child = mp.Process(target=_two_cell_child, args=(queue,))
    t0 = time.perf_counter()
    child.start()
    child.join(seconds)
    if child.is_alive():
        child.terminate()
        child.join()
        print(f"reference B, pymatgen ODST 2 cells   not finished after {time.perf_counter() - t0:.0f} s (stopped)")
    else:
        elapsed, energy = queue.get()
        print(f"reference B, pymatgen ODST 2 cells   {elapsed:.2f} s  best E {energy:.4f} eV")


if __name__ == "__main__":
    raise SystemExit(main())
