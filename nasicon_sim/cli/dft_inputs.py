"""``nasicon-sim dft-inputs``: VASP input sets (POTCAR.spec, site map) for structures."""

from __future__ import annotations

import argparse
from pathlib import Path

from nasicon_sim.cli.describe import parse_assignments


def _incar_value(text: str):
    """INCAR value from text: bool, int, float or the string itself."""
    low = text.strip().lower()
    if low in (".true.", "true", "t"):
        return True
    if low in (".false.", "false", "f"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dft-inputs",
        help="write VASP inputs (pymatgen MP input sets, POTCAR.spec) for structures",
        description="Write one VASP input directory per structure, DIR/<name>/ with INCAR, "
        "KPOINTS, POSCAR (atoms in the structure's order), POTCAR.spec (potential symbols; "
        "POTCARs are licensed and made on the cluster) and nasicon_sim.json (site map and "
        "metadata: CONTCAR/vasprun.xml of the finished run map back to the configuration).",
    )
    p.add_argument("structures", nargs="+", metavar="STRUCTURE",
                   help="CIF, POSCAR/CONTCAR, vasprun.xml or extxyz files (ordered)")
    p.add_argument("--input-set", default="MPRelaxSet",
                   choices=("MPRelaxSet", "MPStaticSet", "MPScanRelaxSet"),
                   help="pymatgen input set (default MPRelaxSet)")
    p.add_argument("--positions-only", action="store_true",
                   help="relax positions only (ISIF = 2; default ISIF = 3, cell too)")
    p.add_argument("--incar", action="append", metavar="KEY=VALUE",
                   help="INCAR setting overriding the set's, e.g. ISPIN=1 (repeatable)")
    p.add_argument("--kpoint-density", type=int, default=None, metavar="N",
                   help="k-points per reciprocal atom (default: the set's)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="oxidation state override, e.g. Ti=3 (repeatable)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into directories that already hold inputs")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.cli.relax import output_stems
    from nasicon_sim.dft import VaspInputSettings, write_vasp_inputs
    from nasicon_sim.io.read import read_structure

    incar = {k.upper(): _incar_value(v)
             for k, v in parse_assignments(args.incar, "--incar", str).items()}
    settings = VaspInputSettings(input_set=args.input_set, cell=not args.positions_only,
                                 incar=incar, reciprocal_density=args.kpoint_density)
    overrides = parse_assignments(args.oxi, "--oxi", int)
    from nasicon_sim.io.read import require_file

    for name in args.structures:
        require_file(name)
    out = Path(args.output)
    for path, stem in zip(args.structures, output_stems(args.structures)):
        structure = read_structure(path, overrides)
        directory = write_vasp_inputs(structure, out / stem, settings,
                                      source=str(Path(path).resolve()), overwrite=args.overwrite)
        spec = (directory / "POTCAR.spec").read_text().split()
        kpts = (directory / "KPOINTS").read_text().splitlines()
        grid = kpts[3].split() if len(kpts) > 3 else ["?"]
        isif = "" if args.input_set == "MPStaticSet" else f", ISIF {2 if args.positions_only else 3}"
        print(f"{directory}: {len(structure)} atoms, {args.input_set}{isif}, k-points "
              f"{'x'.join(grid)}, POTCAR.spec {' '.join(spec)}")
    return 0
