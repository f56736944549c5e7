"""Print the site energy actually dropped by the tolerance-derived cutoffs (NZSP cell).

The cutoffs of :mod:`nasicon_sim.bvse.cutoff` guarantee a bound (default 1 meV per point);
this measures the real tail at random points against a 22 A cutoff for every atom. Usage::

    .venv/bin/python benchmarks/check_cutoff_tail.py [--tolerance 1e-3] [--points 2000]
"""

from __future__ import annotations

import argparse

import numpy as np

from nasicon_sim.bvse import BVSESettings, build_framework
from nasicon_sim.bvse.energy import point_energies
from nasicon_sim.io.read import read_structure
from nasicon_sim.structure.parent import reference_structures_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--points", type=int, default=2000)
    args = ap.parse_args(argv)
    s = read_structure(reference_structures_dir() / "NZSP_C2c.cif")
    fw = build_framework(s, BVSESettings(tail_tolerance_eV=args.tolerance))
    pts = np.random.default_rng(0).random((args.points, 3)) @ fw.lattice
    e_cut, _ = point_energies(fw.lattice, pts, *fw.arrays)
    far = np.full_like(fw.cutoff_A, 22.0)
    e_far, _ = point_energies(fw.lattice, pts, fw.frac, fw.kind, fw.p_a, fw.p_b, fw.p_c, far)
    dropped = np.abs(e_far - e_cut)
    print(f"cutoffs (A): {fw.cutoff_summary()}")
    print(f"bound {args.tolerance:g} eV; dropped tail at {args.points} random points: "
          f"max {dropped.max():.2e} eV, median {np.median(dropped):.2e} eV")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
