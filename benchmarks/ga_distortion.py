"""A first look at the study's Ga3+ claim: distortion and BVSE barriers, unrelaxed vs relaxed.

Zuo et al. (2026) explain HE1's weaker Na channels by local distortion driven by Ga3+. This
script builds one ``ewald`` configuration per composition (ME1: 1 parent cell, 82 atoms;
HE1: the smallest exact supercell, 5 cells, 412 atoms), relaxes it with CHGNet (positions and
cell, FIRE, fmax 0.05 eV/A) and prints, before and after relaxation: per M-site element the
mean Baur distortion index and bond-valence-sum deviation, the GII, the Na displacement from
the parent sites, and the BVSE percolation barriers (grid spacing 0.25 A, parent Na sites as
reference). One configuration per composition and a universal potential: an illustration of
the analysis, not a test of the claim.

    .venv/bin/python benchmarks/ga_distortion.py --threads 2 --json benchmarks/results/ga_distortion.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

COMPOSITIONS = {
    "ME1": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12",
    "HE1": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", nargs="+", default=list(COMPOSITIONS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spacing", type=float, default=0.25)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()

    from nasicon_sim.bvse import BVSESettings, analyse
    from nasicon_sim.distortion import analyse_distortion
    from nasicon_sim.network import ReferenceSites
    from nasicon_sim.relax import RelaxSettings, relax_structure
    from nasicon_sim.structure import build_ensemble
    from nasicon_sim.structure.supercell import parent_sites_of

    bvse = BVSESettings(spacing_A=args.spacing)
    out = {}
    for label in args.labels:
        config = build_ensemble(COMPOSITIONS[label], n=1, seed=args.seed, method="ewald")[0]
        t0 = time.perf_counter()
        relaxed = relax_structure(config.structure, RelaxSettings(cell=True, steps=1500,
                                                                  threads=args.threads))
        wall = time.perf_counter() - t0
        print(f"{label} ({COMPOSITIONS[label]}): {len(config.structure)} atoms, relaxation "
              f"{'converged' if relaxed.converged else 'NOT converged'} in {relaxed.n_steps} "
              f"steps ({wall:.0f} s)")
        rows = {}
        for state, s in (("unrelaxed", config.structure), ("relaxed", relaxed.structure)):
            dist = analyse_distortion(s)
            by = dist.by_element()
            summary = dist.summary()
            res = analyse(s, bvse, ReferenceSites(*parent_sites_of(s)))
            e = [float(x) for x in res.barriers_eV]
            rows[state] = {"summary": summary, "by_element": by, "barriers_eV": e}
            print(f"  {state:<9} GII {summary['gii_vu']:.3f} v.u., Na displacement mean "
                  f"{summary['na_displacement_mean_A']:.3f} A, BVSE E_1D/E_2D/E_3D "
                  f"{e[0]:.3f}/{e[1]:.3f}/{e[2]:.3f} eV")
            for m in sorted({m.element for m in dist.m_sites}):
                r = by[m]
                print(f"      {m:<3} n {r['n']:>2}  distortion index {r['distortion_index_mean']:.4f} "
                      f"(max {r['distortion_index_max']:.4f})  <M-O> {r['mean_bond_A']:.3f} A  "
                      f"BVS - |q| {r['bvs_deviation_mean']:+.3f}")
        out[label] = {"formula": COMPOSITIONS[label], "n_atoms": len(config.structure),
                      "converged": relaxed.converged, "n_steps": relaxed.n_steps,
                      "seconds": wall, **rows}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
