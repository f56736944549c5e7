"""Finite-size and supercell check of kMC on NZSP: sigma(473 K) for the builder cell with kMC
cells at least 20 and 30 A wide, and for the 2x1x1 supercell of the input (BVSE recomputed).

Usage: python benchmarks/kmc_finite_size.py   (writes benchmarks/results/kmc_finite_size.txt)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nasicon_sim.bvse import BVSESettings, analyse
from nasicon_sim.io.atomic import atomic_write_text
from nasicon_sim.network import ReferenceSites
from nasicon_sim.structure.ensemble import build_ensemble
from nasicon_sim.structure.supercell import parent_sites_of
from nasicon_sim.transport import KMCSettings, lattice_from_bvse, simulate

SPACING = 0.2


def main() -> None:
    structure = build_ensemble("Na3Zr2Si2PO12", n=1, seed=0, method="random")[0].structure
    frac, labels, wyck = parent_sites_of(structure, "Na")
    bs = BVSESettings(spacing_A=SPACING, threads=1, keep_landscape=False)
    res = analyse(structure, bs, ReferenceSites(frac, labels, wyck))
    big = structure * (2, 1, 1)
    f2 = np.asarray(frac) / [2.0, 1.0, 1.0]
    res2 = analyse(big, bs, ReferenceSites(np.vstack([f2, f2 + [0.5, 0, 0]]),
                                           tuple(labels) * 2, tuple(wyck) * 2))
    lines = [f"NZSP (builder, random ordering, seed 0), BVSE {SPACING} A, 473 K, 4 runs x 600 "
             "passes, 10 blocks"]
    ref = None
    for name, st, r, min_len in (("cell, kMC >= 20 A", structure, res, 20.0),
                                 ("cell, kMC >= 30 A", structure, res, 30.0),
                                 ("2x1x1 input, kMC >= 20 A", big, res2, 20.0)):
        s = KMCSettings(temperatures_K=(473.0,), passes=600, blocks=10, runs=4, seed=1,
                        min_length_A=min_len)
        lat = lattice_from_bvse(st, r, s)
        p = simulate(lat, s).points[0]
        z = "" if ref is None else \
            f"  difference / combined error {(p.sigma_S_cm - ref[0]) / math.hypot(p.sigma_err_S_cm, ref[1]):+.2f}"
        lines.append(f"{name:26s} supercell {'x'.join(map(str, lat.supercell)):6s} "
                     f"{lat.n_sites:5d} sites  sigma = {p.sigma_S_cm:.3e} ± "
                     f"{p.sigma_err_S_cm:.1e} S/cm  Haven {p.haven_ratio:.3f}{z}")
        ref = ref or (p.sigma_S_cm, p.sigma_err_S_cm)
        print(lines[-1], flush=True)
    out = Path(__file__).resolve().parent / "results" / "kmc_finite_size.txt"
    atomic_write_text(out, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
