"""``nasicon-sim distortion``: M-O distortion indices, bond-valence sums, GII, Na displacements."""

from __future__ import annotations

import argparse
import json
import sys

from nasicon_sim.cli.describe import parse_assignments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "distortion",
        help="M-site distortion index, bond-valence sums, GII and Na displacements",
        description="Per M site: Baur's distortion index of the M-O bonds; per atom: softBV "
        "bond-valence sums and the global instability index; per Na: displacement from its "
        "parent site (builder site map) or from the same atom of --reference.",
    )
    p.add_argument("structures", nargs="+", metavar="STRUCTURE",
                   help="CIF, POSCAR/CONTCAR, vasprun.xml or extxyz files (ordered)")
    p.add_argument("--reference", metavar="FILE",
                   help="unrelaxed structure (same atom order) as displacement reference")
    p.add_argument("--bond-cutoff", type=float, default=3.0, metavar="A",
                   help="M-O bonds of the distortion index within this distance (default 3.0)")
    p.add_argument("--bvs-cutoff", type=float, default=6.0, metavar="A",
                   help="bond-valence sums over counter-ions within this distance (default 6.0)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="oxidation state override, e.g. Ti=3 (repeatable)")
    p.add_argument("--json", action="store_true", help="print a JSON list (per-site details)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.distortion import DistortionSettings, analyse_distortion
    from nasicon_sim.io.read import read_structure

    settings = DistortionSettings(bond_cutoff_A=args.bond_cutoff, bvs_cutoff_A=args.bvs_cutoff)
    overrides = parse_assignments(args.oxi, "--oxi", int)
    reference = read_structure(args.reference, overrides) if args.reference else None
    rows = []
    for path in args.structures:
        structure = read_structure(path, overrides)
        result = analyse_distortion(structure, settings, reference=reference)
        d = result.as_dict()
        d["input"] = path
        meta = structure.properties.get("nasicon_sim") or {}
        d["configuration"] = {k: meta[k] for k in ("composition", "method", "seed", "index")
                              if k in meta}
        d["relaxed"] = "relaxation" in meta or "dft" in structure.properties
        rows.append(d)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    for d in rows:
        na = d.get("na_displacement_mean_A")
        na_s = (f"Na displacement mean {na:.3f} max {d['na_displacement_max_A']:.3f} A "
                f"(from {d['displacement_reference']})" if na is not None
                else "Na displacement: no site map or reference")
        print(f"{d['input']}: {d['formula']}  GII {d['gii_vu']:.3f} v.u.  {na_s}")
        print(f"    {'element':<8}{'n':>4}{'BVS':>8}{'|q|-dev':>9}{'D (Baur)':>10}{'<M-O> A':>9}")
        for el, row in d["by_element"].items():
            dist = row.get("distortion_index_mean")
            bond = row.get("mean_bond_A")
            print(f"    {el:<8}{row['n']:>4}{row['bvs_mean']:>8.3f}{row['bvs_deviation_mean']:>+9.3f}"
                  + (f"{dist:>10.4f}{bond:>9.3f}" if dist is not None else ""))
    return 0
