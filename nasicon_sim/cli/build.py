"""``nasicon-sim build``: an ensemble of ordered supercells of a NASICON composition."""

from __future__ import annotations

import argparse

from nasicon_sim.cli.describe import parse_assignments
from nasicon_sim.errors import NasiconSimError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "build",
        help="build ordered supercells (random / ewald / sqs) of a disordered composition",
        description="Build N ordered supercells of a NASICON composition on the monoclinic "
        "C2/c or the rhombohedral R-3c parent (chosen by composition unless --parent), write "
        "one CIF per configuration directly in DIR and DIR/manifest.json.",
    )
    p.add_argument("formula", metavar="FORMULA", help="e.g. Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--supercell", metavar="AxBxC",
                      help="diagonal supercell of the parent cell, e.g. 1x2x2 (default: the "
                      "smallest near-cubic supercell that hosts the composition)")
    size.add_argument("--supercell-matrix", metavar="'a b c d e f g h i'",
                      help="supercell matrix, nine integers row by row (rows in parent vectors)")
    size.add_argument("--n-cells", type=int, metavar="D",
                      help="number of parent cells (the most nearly cubic matrix is chosen)")
    p.add_argument("-n", "--n", dest="n", type=int, default=10, help="configurations (default 10)")
    p.add_argument("--seed", type=int, default=0, help="ensemble seed (default 0)")
    p.add_argument("--method", choices=("random", "ewald", "sqs"), default="ewald",
                   help="ordering method (default ewald; sqs needs the [sqs] extra)")
    p.add_argument("--min-atoms", type=int, default=0, help="smallest supercell, atoms (default 0)")
    p.add_argument("--max-atoms", type=int, default=None,
                   help="largest supercell, atoms (default 500)")
    p.add_argument("--max-deviation", type=float, default=None,
                   help="largest rounding of an amount per formula unit (default 0.05)")
    p.add_argument("--parent", choices=("auto", "C2/c", "R-3c"), default="auto",
                   help="parent cell: monoclinic C2/c (Hong 1976) or rhombohedral R-3c (Boilot "
                   "1988); auto (default) takes C2/c when Na per formula unit is 2.8-3.6 and "
                   "R-3c otherwise (von Alpen et al. 1981; Zuo et al. 2026), and prints why")
    p.add_argument("--mix-tetrahedral", action="store_true",
                   help="mix Si/P over all T positions even for Si2P (default: Hong's order)")
    p.add_argument("--na-min-distance", type=float, default=None, metavar="ANGSTROM",
                   help="two Na never closer than this (default 2.5)")
    p.add_argument("--dedup", action="store_true",
                   help="drop symmetry-equivalent configurations (pymatgen StructureMatcher)")
    p.add_argument("--max-attempts", type=int, default=None,
                   help="cap on draws with --dedup (default 10 n)")
    p.add_argument("--sweeps", type=int, default=None,
                   help="annealing sweeps of the ewald method (default 300)")
    p.add_argument("--vegard", action="store_true",
                   help="scale the cell with the mean M-site Shannon radius (off by default)")
    p.add_argument("--format", default="cif", metavar="cif,poscar,extxyz",
                   help="file formats besides the CIF that is always written (comma-separated)")
    p.add_argument("--var", action="append", metavar="NAME=VALUE",
                   help="value of a variable used in the formula (repeatable)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="override an oxidation state, e.g. Ti=3 (repeatable)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true",
                       help="write into DIR even if it already holds a manifest")
    again.add_argument("--resume", action="store_true",
                       help="continue an interrupted build in DIR (same arguments; not with --dedup)")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from nasicon_sim.composition import parse_nasicon
    from nasicon_sim.io.write import EnsembleWriter
    from nasicon_sim.structure.ensemble import build_ensemble, method_settings, prepare_build
    from nasicon_sim.structure.ordering import AnnealSchedule
    from nasicon_sim.structure.parent import load_reference
    from nasicon_sim.structure.supercell import supercell_matrix_from_string

    comp = parse_nasicon(args.formula, variables=parse_assignments(args.var, "--var"),
                         oxidation_states=parse_assignments(args.oxi, "--oxi", int))
    if args.n < 1:
        raise NasiconSimError(f"-n must be at least 1, got {args.n}")
    supercell = None
    if args.supercell:
        if "x" not in args.supercell.lower():
            raise NasiconSimError(f"--supercell takes AxBxC (e.g. 1x2x2), got {args.supercell!r}")
        supercell = supercell_matrix_from_string(args.supercell)
    elif args.supercell_matrix:
        supercell = supercell_matrix_from_string(args.supercell_matrix)
    options = {}
    if args.max_atoms is not None:
        options["max_atoms"] = args.max_atoms
    if args.max_deviation is not None:
        options["max_deviation"] = args.max_deviation
    if args.na_min_distance is not None:
        options["na_min_distance_A"] = args.na_min_distance
    formats = ["cif", *[f for f in args.format.split(",") if f.strip()]]
    if args.method == "sqs":
        from nasicon_sim.structure.sqs import _import_icet

        _import_icet()
    plan = prepare_build(comp, supercell=supercell, n_cells=args.n_cells, min_atoms=args.min_atoms,
                         mix_tetrahedral=True if args.mix_tetrahedral else None,
                         vegard=args.vegard, parent=args.parent, **options)
    choice = plan.choice
    schedule = AnnealSchedule(n_sweeps=args.sweeps) if args.sweeps else None
    print(f"composition  {choice.requested.formula_pretty}")
    print(f"supercell    {choice.n_cells} parent cell(s), matrix {[list(r) for r in choice.matrix]}, "
          f"{choice.n_atoms} atoms, shape deviation {choice.shape_deviation:.3f}")
    counts = "; ".join(f"{sub}: " + " ".join(f"{el}{n}" for el, n in sp.items())
                       for sub, sp in choice.site_counts.items())
    print(f"site counts  {counts}")
    for note in choice.notes:
        print(f"note         {note}")
    if args.vegard:
        parent_abc = np.array(load_reference(choice.parent).lattice.abc)
        abc = parent_abc * plan.sites.lattice_scale
        print(f"vegard       scale {plan.sites.lattice_scale:.5f}: parent cell a b c = "
              + " ".join(f"{x:.4f}" for x in abc) + " A (unscaled "
              + " ".join(f"{x:.4f}" for x in parent_abc) + " A)")

    settings = method_settings(args.method, schedule)
    settings["dedup"] = bool(args.dedup)
    header = {**plan.base_metadata(), "method": args.method, "seed": args.seed,
              "n_requested": args.n, "site_counts": {k: dict(v) for k, v in choice.site_counts.items()},
              "notes": list(choice.notes), "settings": settings}
    start = 0
    if args.resume:
        if args.dedup:
            raise NasiconSimError("--resume cannot continue a --dedup build: rebuild it")
        writer = EnsembleWriter.resume(args.output, header, formats=formats)
        start = writer.n_done
        print(f"resuming     {start} configuration(s) already in {args.output}")
    else:
        writer = EnsembleWriter(args.output, header, formats=formats, overwrite=args.overwrite)

    def report(config) -> None:
        files = writer.add(config)
        print(f"  {files['cif']}  E_ewald {config.ewald_energy_eV:.4f} eV "
              f"({config.ewald_energy_per_atom_eV:.5f} eV/atom)")

    print(f"writing      {args.n - start} configuration(s), method {args.method}, seed {args.seed} "
          f"-> {args.output}")
    try:
        ensemble = build_ensemble(comp, n=args.n, seed=args.seed, method=args.method,
                                  dedup=args.dedup, max_attempts=args.max_attempts,
                                  schedule=schedule, callback=report, plan=plan, start=start)
    except BaseException:
        writer.abort("interrupted")
        raise
    summary = ensemble.summary()
    summary.pop("settings", None)  # the header's settings stay the reference for --resume
    summary["n_configurations"] = writer.n_done
    writer.finish(summary)
    entries = writer.manifest()["configurations"]
    energies = np.array([e["ewald_energy_eV"] for e in entries])
    print(f"done         {writer.n_done} configuration(s) in {args.output}; E_ewald mean "
          f"{energies.mean():.4f} eV, min {energies.min():.4f} eV")
    if args.dedup:
        print(f"dedup        {ensemble.n_duplicates} duplicate(s) dropped in {ensemble.n_attempts} draws")
    if writer.n_done < args.n:
        print(f"warning      only {writer.n_done} unique configuration(s) of {args.n} requested")
    return 0
