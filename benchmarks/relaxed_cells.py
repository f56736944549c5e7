"""Relaxed cells of ME1 and NZSP (CHGNet, positions + cell) against the measured cells.

Builds 1-cell configurations (the ``ewald`` ordering of the builder, one per seed) of ME1
(Na3.5Zr1.0Ti0.5Lu0.5Si2PO12) and of the parent composition NZSP (Na3Zr2Si2PO12), relaxes
them with CHGNet (FIRE, FrechetCellFilter, fmax 0.05 eV/A), maps each relaxed supercell
back to the C2/c parent setting (L_parent = M^-1 L_super) and prints a, b, c, alpha, beta,
gamma against:

* ME1: the refined cell of Zuo et al. (2026): a = 15.61382, b = 9.04419, c = 9.19836 A
  (shared/paper/FACTS.md; beta not given);
* NZSP: Hong's cell (Mat. Res. Bull. 11 (1976) 173), the builder's parent
  (``structures/NZSP_C2c.cif``), like with like.

Also prints the distortion summary (GII, M-site distortion index, Na displacement) of each
relaxed configuration. Run:

    .venv/bin/python benchmarks/relaxed_cells.py --seeds 0 1 2 --threads 1 \
        --json benchmarks/results/relaxed_cells.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ME1 = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"
NZSP = "Na3Zr2Si2PO12"
#: Zuo et al., Energy Environ. Sci. 2026: refined ME1 cell (A).
ME1_REFINED_ABC = (15.61382, 9.04419, 9.19836)


def parent_cell(lattice_matrix: np.ndarray, supercell_matrix) -> tuple[float, ...]:
    from ase.geometry import cell_to_cellpar

    return tuple(float(x) for x in cell_to_cellpar(
        np.linalg.inv(np.asarray(supercell_matrix, float)) @ lattice_matrix))


def summarise(rows: list[dict], hong: tuple[float, ...]) -> None:
    """Mean deviations per composition and the like-with-like ME1 / NZSP comparison."""
    mean_abc = {}
    for label in ("ME1", "NZSP"):
        sel = [r for r in rows if r["label"] == label]
        if not sel:
            continue
        dev = np.array([r["deviation_abc_percent"] for r in sel])
        mean_abc[label] = np.mean([r["parent_cell_relaxed"][:3] for r in sel], axis=0)
        distinct = len({tuple(np.round(r["parent_cell_relaxed"], 3)) for r in sel})
        print(f"{label}: mean deviation over {len(sel)} configurations ({distinct} distinct "
              f"relaxed cells): a {dev[:, 0].mean():+.2f} %, b {dev[:, 1].mean():+.2f} %, "
              f"c {dev[:, 2].mean():+.2f} % (range {dev.min(axis=0).round(2).tolist()} .. "
              f"{dev.max(axis=0).round(2).tolist()}); mean relaxed a b c = "
              f"{' '.join(f'{x:.4f}' for x in mean_abc[label])} A")
    if len(mean_abc) == 2:
        calc = 100 * (mean_abc["ME1"] / mean_abc["NZSP"] - 1)
        expt = 100 * (np.array(ME1_REFINED_ABC) / np.array(hong[:3]) - 1)
        print("ME1 relative to NZSP, like with like: CHGNet (relaxed ME1 / relaxed NZSP) "
              f"a {calc[0]:+.2f} %, b {calc[1]:+.2f} %, c {calc[2]:+.2f} %; measured "
              f"(refined ME1 / Hong NZSP) a {expt[0]:+.2f} %, b {expt[1]:+.2f} %, "
              f"c {expt[2]:+.2f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fmax", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--summarise", metavar="FILE",
                        help="print the summary of a JSON written earlier (no relaxation)")
    args = parser.parse_args()
    if args.summarise:
        data = json.loads(Path(args.summarise).read_text())
        summarise(data["rows"], tuple(data["hong_parent_cell"]))
        return

    from nasicon_sim.distortion import analyse_distortion
    from nasicon_sim.relax import RelaxSettings, calculator_from_spec, relax_structure
    from nasicon_sim.structure import build_ensemble, load_parent

    hong = tuple(float(x) for x in load_parent().lattice.parameters)
    targets = {"ME1": ME1_REFINED_ABC, "NZSP": hong[:3]}
    settings = RelaxSettings(fmax_eV_A=args.fmax, steps=args.steps, cell=True,
                             threads=args.threads)
    calc = calculator_from_spec("chgnet")
    rows = []
    print(f"Hong 1976 parent cell: a b c = {hong[0]:.4f} {hong[1]:.4f} {hong[2]:.4f} A, "
          f"beta = {hong[4]:.3f} deg")
    print(f"ME1 refined (Zuo et al. 2026): a b c = {' '.join(f'{x:.5f}' for x in ME1_REFINED_ABC)} A")
    for label, formula in (("ME1", ME1), ("NZSP", NZSP)):
        for seed in args.seeds:
            config = build_ensemble(formula, n=1, seed=seed, method="ewald")[0]
            t0 = time.perf_counter()
            result = relax_structure(config.structure, settings, calculator=calc)
            wall = time.perf_counter() - t0
            cell = parent_cell(result.structure.lattice.matrix, config.supercell_matrix)
            ref = targets[label]
            dev = [100.0 * (cell[i] - ref[i]) / ref[i] for i in range(3)]
            vol_ratio = result.structure.volume / config.structure.volume
            dist = analyse_distortion(result.structure).summary()
            dist0 = analyse_distortion(config.structure).summary()
            row = {
                "label": label, "formula": formula, "seed": seed, "n_atoms": len(config.structure),
                "supercell_matrix": [list(r) for r in config.supercell_matrix],
                "converged": result.converged, "n_steps": result.n_steps,
                "max_force_final_eV_A": result.final_max_force_eV_A,
                "max_stress_final_GPa": result.max_stress_GPa,
                "energy_change_per_atom_eV": (result.final_energy_eV - result.initial_energy_eV)
                / len(config.structure),
                "parent_cell_relaxed": cell, "target_abc": ref, "deviation_abc_percent": dev,
                "volume_ratio_relaxed_over_built": vol_ratio, "seconds": wall,
                "distortion_unrelaxed": dist0, "distortion_relaxed": dist,
            }
            rows.append(row)
            print(f"{label} seed {seed}: {len(config.structure)} atoms, "
                  f"{'converged' if result.converged else 'NOT converged'} in {result.n_steps} "
                  f"steps ({wall:.0f} s), max force {result.final_max_force_eV_A:.4f} eV/A")
            print(f"    relaxed parent cell a b c = {cell[0]:.4f} {cell[1]:.4f} {cell[2]:.4f} A, "
                  f"alpha beta gamma = {cell[3]:.2f} {cell[4]:.2f} {cell[5]:.2f} deg")
            print(f"    vs {'refined ME1' if label == 'ME1' else 'Hong NZSP'}: "
                  f"a {dev[0]:+.2f} %, b {dev[1]:+.2f} %, c {dev[2]:+.2f} %; "
                  f"volume x{vol_ratio:.4f} of the built cell")
            print(f"    GII {dist0['gii_vu']:.3f} -> {dist['gii_vu']:.3f} v.u.; M distortion "
                  f"index mean {dist0['m_distortion_index_mean']:.4f} -> "
                  f"{dist['m_distortion_index_mean']:.4f}; Na displacement mean "
                  f"{dist['na_displacement_mean_A']:.3f} A, max {dist['na_displacement_max_A']:.3f} A")
    summarise(rows, hong)
    if args.json:
        Path(args.json).write_text(json.dumps({"hong_parent_cell": hong, "rows": rows},
                                              indent=1) + "\n")


if __name__ == "__main__":
    main()
