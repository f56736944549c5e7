"""Are relaxed BVSE barriers converged with respect to fmax and optimiser?

For each cell (the first Ewald configuration of a composition, one parent cell) and each
optimiser (FIRE, BFGS), CHGNet relaxes positions and cell (FrechetCellFilter) to fmax
0.05 eV/A, then continues from that structure to 0.02 and to 0.01 eV/A (a fresh optimiser
each time, so the steps add up; this is how a study would tighten fmax). After each stage the
BVSE landscape of the calculations/zuo2026-relaxed settings (0.15 A grid, Na+, 26-connectivity)
gives the 1D/2D/3D percolation barriers and the refined (continuous) saddles. The table shows
how far E_3D moves between fmax values and between optimisers at the same fmax.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/relax_convergence.py --formula NZSP ME1 \\
        --json benchmarks/results/relax_convergence.json

Results are written after every stage (resumable: stages in the JSON are not redone).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

LABELS = {"NZSP": "Na3Zr2Si2PO12", "LE": "Na3.5Zr1.5Lu0.5Si2PO12",
          "ME1": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"}
KEYS = ("E_1D_eV", "E_2D_eV", "E_3D_eV", "E_1D_refined_eV", "E_3D_refined_eV")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formula", nargs="+", default=["NZSP", "ME1"])
    parser.add_argument("--optimizers", nargs="+", default=["FIRE", "BFGS"])
    parser.add_argument("--fmax", type=float, nargs="+", default=[0.05, 0.02, 0.01])
    parser.add_argument("--spacing", type=float, default=0.15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", required=True)
    args = parser.parse_args()

    import torch

    from nasicon_sim.bvse.analysis import analyse
    from nasicon_sim.bvse.settings import BVSESettings
    from nasicon_sim.io.atomic import atomic_write_text
    from nasicon_sim.network import ReferenceSites
    from nasicon_sim.relax import RelaxSettings, calculator_from_spec, relax_structure
    from nasicon_sim.runner import _reference
    from nasicon_sim.structure import build_ensemble

    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
    torch.set_num_threads(args.threads)
    out_path = Path(args.json)
    data = json.loads(out_path.read_text()) if out_path.is_file() else {"rows": []}
    done = {(r["label"], r["optimizer"], r["fmax_eV_A"]) for r in data["rows"]}
    calc = calculator_from_spec("chgnet", device="cpu")
    bvse = BVSESettings(spacing_A=args.spacing, mobile_ion="Na+", connectivity=26, threads=1)

    def barriers(structure, reference) -> dict:
        res = analyse(structure, bvse, reference).without_landscape().as_dict()
        return {k: (None if res.get(k) is None else round(float(res[k]), 4)) for k in KEYS}

    def save() -> None:
        atomic_write_text(out_path, json.dumps(data, indent=1) + "\n")

    for label in args.formula:
        formula = LABELS.get(label, label)
        config = build_ensemble(formula, n=1, seed=0, method="ewald", n_cells=1)[0]
        frac, labels, wyck = _reference(config)
        import numpy as np

        reference = ReferenceSites(np.asarray(frac, float), tuple(labels), tuple(wyck))
        if (label, "unrelaxed", None) not in done:
            row = {"label": label, "optimizer": "unrelaxed", "fmax_eV_A": None,
                   "n_atoms": len(config.structure), **barriers(config.structure, reference)}
            data["rows"].append(row)
            save()
            print(f"{label} unrelaxed: " + " ".join(f"{k} {row[k]}" for k in KEYS), flush=True)
        for opt in args.optimizers:
            structure = config.structure
            calls = steps = 0
            seconds = 0.0
            for fmax in args.fmax:
                prev = next((r for r in data["rows"] if (r["label"], r["optimizer"],
                                                        r["fmax_eV_A"]) == (label, opt, fmax)),
                            None)
                if prev is not None:  # resume from the stored structure
                    from pymatgen.core import Structure

                    structure = Structure.from_dict(prev["structure"])
                    calls, steps, seconds = prev["calls"], prev["steps"], prev["seconds"]
                    continue
                load0 = os.getloadavg()[0]
                t0 = time.perf_counter()
                r = relax_structure(structure, RelaxSettings(
                    fmax_eV_A=fmax, steps=3000, cell=True, optimizer=opt, threads=args.threads),
                    calculator=calc)
                seconds += time.perf_counter() - t0
                calls += r.n_calls
                steps += r.n_steps
                structure = r.structure
                row = {"label": label, "optimizer": opt, "fmax_eV_A": fmax,
                       "converged": r.converged, "steps": steps, "calls": calls,
                       "seconds": round(seconds, 1), "load": round(load0, 2),
                       "energy_eV": round(r.final_energy_eV, 5),
                       "max_force_eV_A": round(r.final_max_force_eV_A, 4),
                       **barriers(structure, reference),
                       "structure": structure.as_dict()}
                data["rows"].append(row)
                save()
                print(f"{label} {opt:5s} fmax {fmax:.2f}: {'conv' if r.converged else 'NOT'} "
                      f"steps {steps} calls {calls} {seconds:.0f} s E {r.final_energy_eV:.4f} eV "
                      + " ".join(f"{k} {row[k]}" for k in KEYS) + f" (load {load0:.1f})",
                      flush=True)
    # summary: E_3D spread between optimisers and fmax
    print("\nE_3D_eV / E_3D_refined_eV by fmax (FIRE | BFGS), and the differences")
    for label in args.formula:
        for fmax in args.fmax:
            got = {r["optimizer"]: r for r in data["rows"]
                   if r["label"] == label and r["fmax_eV_A"] == fmax}
            if len(got) < 2:
                continue
            a, b = got.get("FIRE"), got.get("BFGS")
            if a and b:
                print(f"  {label} fmax {fmax:.2f}: E_3D {a['E_3D_eV']} | {b['E_3D_eV']} "
                      f"(diff {abs(a['E_3D_eV'] - b['E_3D_eV']):.3f}); refined "
                      f"{a['E_3D_refined_eV']} | {b['E_3D_refined_eV']} (diff "
                      f"{abs(a['E_3D_refined_eV'] - b['E_3D_refined_eV']):.3f}); dE "
                      f"{1000 * (b['energy_eV'] - a['energy_eV']):+.1f} meV/cell", flush=True)


if __name__ == "__main__":
    main()
