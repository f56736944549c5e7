"""``nasicon-sim bvse``: BVSE landscape, percolation barriers, sites and paths of a structure."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from nasicon_sim.cli.describe import parse_assignments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bvse",
        help="BVSE site-energy landscape, 1D/2D/3D percolation barriers and migration paths",
        description="Compute the bond-valence site-energy landscape of a mobile ion in a "
        "structure (CIF, POSCAR/CONTCAR, vasprun.xml, extxyz), its exact 1D/2D/3D percolation barriers, "
        "its sites (minima) and the saddles between them. Defaults follow bvlain's conventions "
        "(Morse prefactor 1/2, f = 0.74, ASE covalent radii, no neutrality scaling).",
    )
    p.add_argument("structure", metavar="STRUCTURE", help="structure file (framework ordered)")
    p.add_argument("--spacing", type=float, default=0.1, metavar="A",
                   help="largest grid spacing in Angstrom (default 0.1)")
    p.add_argument("--mobile-ion", default="Na+", help="mobile ion, e.g. Na+ (default), Li+")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="oxidation state override, e.g. Ti=3 (repeatable)")
    conv = p.add_argument_group("energy convention (defaults = bvlain 0.25)")
    conv.add_argument("--radii", choices=("ase", "softbv"), default="ase",
                      help="covalent radii of the Coulomb screening length")
    conv.add_argument("--screening-factor", type=float, default=0.74, metavar="F",
                      help="f in rho = f (r_A + r_B) (default 0.74)")
    conv.add_argument("--morse-prefactor", type=float, default=0.5, metavar="S",
                      help="prefactor of the Morse sum (default 0.5; CAVD 2019 uses 1)")
    conv.add_argument("--neutrality-scaling", action="store_true",
                      help="scale the Coulomb term by -sum(q-)/sum(q+) (CAVD/CCNB)")
    conv.add_argument("--coulomb-constant", choices=("bvlain", "codata"), default="bvlain",
                      help="14.4 eV A (bvlain) or the CODATA value")
    conv.add_argument("--tolerance", type=float, default=1e-3, metavar="EV",
                      help="bound on the neglected pair-sum tail per point (default 0.001 eV)")
    conv.add_argument("--cutoff", type=float, default=None, metavar="A",
                      help="fixed cutoff radius for all atoms instead of --tolerance")
    p.add_argument("--connectivity", type=int, choices=(6, 26), default=26,
                   help="grid neighbours for percolation (default 26, as bvlain)")
    p.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    p.add_argument("--max-memory-gb", type=float, default=4.0, metavar="GB",
                   help="refuse grids that would need more memory (default 4)")
    out = p.add_argument_group("outputs")
    out.add_argument("--cube", metavar="FILE", help="write the landscape as a Gaussian cube file")
    out.add_argument("--grd", metavar="FILE", help="write the landscape as a VESTA .grd file")
    out.add_argument("--slice", metavar="PNG", help="write a cross-section image")
    out.add_argument("--slice-axis", choices=("a", "b", "c"), default="c",
                     help="lattice vector across the section (default c)")
    out.add_argument("--slice-position", type=float, default=0.5, metavar="FRAC",
                     help="fractional coordinate of the section (default 0.5)")
    out.add_argument("--json", action="store_true",
                     help="print one JSON object (barriers, sites, links, paths, settings)")
    p.set_defaults(func=run)


def _print_table(d: dict) -> None:
    print(f"{d['formula']}  mobile ion {d['mobile_ion']}  grid {'x'.join(map(str, d['grid_shape']))}"
          f" ({d['n_grid_points']:,} points, spacing <= {d['spacing_A']} A)")
    print(f"{'':6}{'grid (eV)':>12}{'refined (eV)':>14}   bottleneck (refined network)")
    paths = {p["dimension"]: p for p in d["paths"]}
    critical = (d.get("metadata", {}).get("refinement") or {}).get("bottleneck_links") or []
    for dim in (1, 2, 3):
        grid = d[f"E_{dim}D_eV"]
        ref = d[f"E_{dim}D_refined_eV"]
        bott = ""
        link = None
        if dim <= len(critical) and critical[dim - 1] is not None:
            link = d["links"][critical[dim - 1]]
        elif dim in paths:
            link = paths[dim]["bottleneck"]
        if link is not None:
            names = [x if x is not None else f"site{i}" for x, i in
                     zip(link["labels"], (link["site_a"], link["site_b"]))]
            bott = (f"{names[0]}-{names[1]} at "
                    f"({', '.join(f'{x:.3f}' for x in link['frac_coords'])})")
        ref_s = f"{ref:14.4f}" if ref is not None else f"{'-':>14}"
        print(f"E_{dim}D {grid:12.4f}{ref_s}   {bott}")
    print(f"sites: {d['n_sites']}")
    for s in d["sites"]:
        label = s["label"] or "-"
        extra = f" {s['wyckoff']}" if s["wyckoff"] else ""
        flag = " interstitial" if s["interstitial"] else ""
        ref = s.get("energy_refined_eV")
        ref_s = f" (refined {ref:.4f})" if ref is not None else ""
        print(f"  {s['index']:3d} {label:>8}{extra:<5} E = {s['energy_eV']:.4f} eV{ref_s} at "
              f"({', '.join(f'{x:.3f}' for x in s['frac_coords'])}){flag}")
    warning = (d.get("metadata", {}).get("refinement") or {}).get("warning")
    if warning:
        print(f"note: {warning}")


def run(args: argparse.Namespace) -> int:

    from nasicon_sim.bvse import BVSESettings, analyse
    from nasicon_sim.bvse.settings import MAX_SPACING_A
    from nasicon_sim.errors import NasiconSimError
    from nasicon_sim.io.read import read_structure
    from nasicon_sim.progress import stage
    from nasicon_sim.structure.supercell import parent_sites_of

    if not (math.isfinite(args.spacing) and 0 < args.spacing <= MAX_SPACING_A):
        raise NasiconSimError(
            f"--spacing must be a grid spacing in Angstrom above 0 and at most {MAX_SPACING_A:g} "
            f"(coarser grids cannot resolve the sites), got {args.spacing:g}; 0.1-0.4 is usual")
    if not (math.isfinite(args.max_memory_gb) and args.max_memory_gb > 0):
        raise NasiconSimError(f"--max-memory-gb must be a positive number of GB, got "
                              f"{args.max_memory_gb:g}")
    settings = BVSESettings(
        spacing_A=args.spacing, mobile_ion=args.mobile_ion, morse_prefactor=args.morse_prefactor,
        screening_factor=args.screening_factor, radii=args.radii,
        neutrality_scaling=args.neutrality_scaling, coulomb_constant=args.coulomb_constant,
        tail_tolerance_eV=args.tolerance, cutoff_A=args.cutoff, connectivity=args.connectivity,
        threads=args.threads, max_memory_GB=args.max_memory_gb,
        keep_landscape=bool(args.cube or args.grd or args.slice),
    )
    overrides = parse_assignments(args.oxi, "--oxi", int)
    structure = read_structure(args.structure, overrides)
    reference = None
    sites = parent_sites_of(structure, "Na")  # builder configurations, relaxed or from DFT
    if sites is not None:
        from nasicon_sim.network import ReferenceSites

        reference = ReferenceSites(*sites)
    stage(f"BVSE landscape of {args.structure}")
    result = analyse(structure, settings, reference)
    d = result.as_dict()
    d["input"] = args.structure
    meta = structure.properties.get("nasicon_sim")
    if meta:  # the link back to the configuration (and its relaxation, if any)
        d["configuration"] = meta
    if structure.properties.get("dft"):
        d["dft"] = structure.properties["dft"]
    if result.landscape is not None:
        from nasicon_sim.io.volumetric import write_cube, write_grd

        if args.cube:
            mobile = [s.frac_coords for s in structure
                      if result.landscape.framework.mobile_element
                      in {sp.symbol for sp in s.species}]
            write_cube(args.cube, result.landscape, mobile_frac=mobile)
        if args.grd:
            write_grd(args.grd, result.landscape)
        if args.slice:
            from nasicon_sim.io.images import parent_axis_names, write_slice_png

            axis = "abc".index(args.slice_axis)
            levels = {f"E_{k}D": d[f"E_{k}D_eV"] for k in (1, 2, 3)
                      if d[f"E_{k}D_eV"] is not None and math.isfinite(d[f"E_{k}D_eV"])}
            sites = [(s["label"] or str(s["index"]), s["frac_coords"]) for s in d["sites"]]
            clip = max(levels.values()) + 0.15 if levels else 1.0  # the channels span the colours
            path3 = result.network.path(3)
            matrix = structure.properties.get("nasicon_sim", {}).get("supercell_matrix")
            write_slice_png(args.slice, result.landscape, axis=axis,
                            position=args.slice_position, clip_eV=clip, levels_eV=levels,
                            sites=sites, title=f"{d['formula']}: BVSE of {d['mobile_ion']}, "
                            f"{args.slice_axis} = {args.slice_position:g}",
                            bottleneck=None if path3 is None else
                            (f"3D bottleneck {path3.bottleneck.name}", path3.bottleneck.frac_coords),
                            axis_names=parent_axis_names(matrix) if matrix else None)
        d["outputs"] = {k: v for k, v in (("cube", args.cube), ("grd", args.grd),
                                          ("slice", args.slice)) if v}
    try:
        if args.json:
            json.dump(d, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            _print_table(d)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (e.g. `head`) stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
