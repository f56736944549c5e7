"""``nasicon-sim relax``: relax structures with CHGNet (or any ASE calculator) and write CIFs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from nasicon_sim.cli.describe import parse_assignments
from nasicon_sim.errors import NasiconSimError
from nasicon_sim.relax import DEFAULT_OPTIMIZER, OPTIMIZERS


def _optimizer(name: str) -> str:
    from nasicon_sim.relax import canonical_optimizer

    try:
        return canonical_optimizer(name)
    except NasiconSimError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None

#: Summary of a relaxation run in the output directory (rewritten after every structure).
SUMMARY_NAME = "relax.json"


def output_stems(paths: Sequence[str | Path]) -> list[str]:
    """One distinct output name per input file.

    ``conf_000.cif`` -> ``conf_000``; files named only by VASP convention take their
    directory's name (``run1/CONTCAR`` -> ``run1_CONTCAR``); repeats get ``_2``, ``_3`` ...

    >>> output_stems(["a/conf_000.cif", "r1/CONTCAR", "r2/CONTCAR", "b/conf_000.cif"])
    ['conf_000', 'r1_CONTCAR', 'r2_CONTCAR', 'conf_000_2']
    """
    stems: list[str] = []
    seen: dict[str, int] = {}
    for p in map(Path, paths):
        if p.suffix.lower() in (".cif", ".vasp", ".extxyz", ".xyz"):
            stem = p.stem
        else:
            parent = p.resolve().parent.name
            stem = f"{parent}_{p.name}" if parent else p.name
            stem = stem.replace(".", "_")
        count = seen.get(stem, 0) + 1
        seen[stem] = count
        stems.append(stem if count == 1 else f"{stem}_{count}")
    return stems


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "relax",
        help="relax structures with a universal potential (CHGNet) or any ASE calculator",
        description="Relax each structure (positions, or positions and cell with --cell) and "
        "write DIR/<name>.cif (same site map and metadata, plus a relaxation record), the "
        "trajectory DIR/<name>.traj and DIR/relax.json (rewritten after every structure). "
        "CHGNet needs the [relax] extra: pip install -e \".[relax]\".",
    )
    p.add_argument("structures", nargs="+", metavar="STRUCTURE",
                   help="CIF, POSCAR/CONTCAR, vasprun.xml or extxyz files (ordered)")
    p.add_argument("--cell", action="store_true", help="relax the cell too (FrechetCellFilter)")
    p.add_argument("--fmax", type=float, default=0.05, metavar="EV_A",
                   help="largest force at convergence, eV/A (default 0.05)")
    p.add_argument("--steps", type=int, default=500, help="largest number of steps (default 500)")
    p.add_argument("--optimizer", type=_optimizer, default=DEFAULT_OPTIMIZER,
                   help=f"ASE optimiser: {', '.join(OPTIMIZERS)} (default {DEFAULT_OPTIMIZER})")
    p.add_argument("--batch-size", type=int, default=1, metavar="N",
                   help="relax N structures together, one batched CHGNet call per step "
                   "(default 1: one by one); see docs/guide/relax.md for when it pays")
    p.add_argument("--calculator", default="chgnet", metavar="SPEC",
                   help="chgnet (default) or module:factory returning an ASE calculator")
    p.add_argument("--device", default=None,
                   help="torch device for CHGNet, e.g. cpu or cuda (default: cuda when "
                   "present, else cpu)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: torch's choice, all cores)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="oxidation state override, e.g. Ti=3 (repeatable)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true",
                       help="write into DIR even if it holds a relax.json")
    again.add_argument("--resume", action="store_true",
                       help="skip the structures DIR/relax.json lists as done")
    p.add_argument("--json", action="store_true", help="print the records as JSON")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=run)


def write_relaxed_cif(structure, path: Path) -> Path:
    """CIF of a relaxed structure: the builder's writer when it has the site map, else plain."""
    from nasicon_sim.io.write import atomic_write_text, write_structure

    props = structure.site_properties
    if all(k in props for k in ("parent_label", "wyckoff", "sublattice", "parent_index")):
        return write_structure(structure, path, fmt="cif")
    from pymatgen.io.cif import CifWriter

    return atomic_write_text(path, str(CifWriter(structure)))


def _summary(settings: dict, records: list[dict], status: str) -> str:
    return json.dumps({"nasicon_sim_relax": 1, "status": status, "settings": settings,
                       "n_done": len(records), "structures": records}, indent=1) + "\n"


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.io.read import read_structure
    from nasicon_sim.io.write import atomic_write_text
    from nasicon_sim.progress import stage
    from nasicon_sim.relax import RelaxSettings, calculator_from_spec, relax_structure

    settings = RelaxSettings(calculator=args.calculator, fmax_eV_A=args.fmax, steps=args.steps,
                             cell=args.cell, optimizer=args.optimizer, device=args.device,
                             threads=args.threads)
    if args.batch_size < 1:
        raise NasiconSimError(f"--batch-size must be >= 1, got {args.batch_size}")
    overrides = parse_assignments(args.oxi, "--oxi", int)
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise NasiconSimError(f"output {out} exists and is not a directory")
    summary_path = out / SUMMARY_NAME
    records: list[dict] = []
    if summary_path.exists():
        if args.resume:
            try:
                old = json.loads(summary_path.read_text())
                records = [r for r in old["structures"]
                           if (out / Path(r["output"]).name).is_file()]
            except (ValueError, KeyError, TypeError) as exc:
                raise NasiconSimError(f"{summary_path} is not a relax summary ({exc})") from None
        elif not args.overwrite:
            raise NasiconSimError(f"{out} already holds {SUMMARY_NAME}: use --resume, "
                                  "--overwrite or another directory")
    from nasicon_sim.io.read import require_file

    for name in args.structures:
        require_file(name)
    stems = output_stems(args.structures)
    done = {r["input"] for r in records}
    todo = [(p, s) for p, s in zip(args.structures, stems) if str(Path(p).resolve()) not in done]
    for p, stem in todo:
        if (out / f"{stem}.cif").resolve() == Path(p).resolve():
            raise NasiconSimError(f"the output {out / (stem + '.cif')} would replace the input")
    calc = calculator_from_spec(settings.calculator, settings.device) if todo else None
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(summary_path, _summary(settings.as_dict(), records, "running"))

    def finished(path: str, stem: str, structure, result) -> None:
        cif = write_relaxed_cif(result.structure, out / f"{stem}.cif")
        rec = {"input": str(Path(path).resolve()), "output": cif.name,
               "n_atoms": len(structure), **result.record()}
        rec["trajectory"] = f"{stem}.traj"
        meta = structure.properties.get("nasicon_sim") or {}
        rec["configuration"] = {k: meta[k] for k in ("composition", "method", "seed", "index")
                                if k in meta}
        records.append(rec)
        atomic_write_text(summary_path, _summary(settings.as_dict(), records, "running"))
        if not args.json:
            _print_record(rec)

    failed: list[str] = []
    try:
        if args.batch_size == 1:
            for path, stem in todo:
                stage(f"relaxing {path}")
                structure = read_structure(path, overrides)
                result = relax_structure(structure, settings, calculator=calc,
                                         trajectory=out / f"{stem}.traj")
                finished(path, stem, structure, result)
        else:
            from nasicon_sim.relax import relax_batch

            structures = [read_structure(p, overrides) for p, _ in todo]
            stage(f"relaxing {len(structures)} structures in batches of {args.batch_size}")

            def done(i: int, result, error) -> None:  # written as each member leaves
                if result is None:
                    failed.append(f"{todo[i][0]}: {error}")
                    print(f"{todo[i][1]}: FAILED: {error}", file=sys.stderr)
                else:
                    finished(todo[i][0], todo[i][1], structures[i], result)

            # CHGNet is shared (one batched call); other calculators: one instance per member
            shared = calc if settings.calculator.strip().lower() == "chgnet" else None
            relax_batch(structures, settings, calculator=shared,
                        trajectories=[out / f"{stem}.traj" for _, stem in todo],
                        batch_size=args.batch_size, on_done=done)
    except BaseException:
        atomic_write_text(summary_path, _summary(settings.as_dict(), records, "interrupted"))
        raise
    atomic_write_text(summary_path, _summary(settings.as_dict(), records, "complete"))
    if args.json:
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        n_conv = sum(r["converged"] for r in records)
        print(f"{len(records)} structure(s) in {out} ({n_conv} converged); summary {summary_path}")
        if failed:
            print(f"{len(failed)} structure(s) failed: " + "; ".join(failed))
    return 0 if all(r["converged"] for r in records) and not failed else 1


def _print_record(rec: dict) -> None:
    n = rec["n_atoms"]
    abc0 = " ".join(f"{x:.4f}" for x in rec["cell_abc_initial_A"])
    abc1 = " ".join(f"{x:.4f}" for x in rec["cell_abc_final_A"])
    state = "converged" if rec["converged"] else "NOT converged"
    print(f"{rec['output']}: {n} atoms, E/atom {rec['energy_initial_eV'] / n:.5f} -> "
          f"{rec['energy_final_eV'] / n:.5f} eV, max force {rec['max_force_initial_eV_A']:.4f} -> "
          f"{rec['max_force_final_eV_A']:.4f} eV/A, {rec['n_steps']} steps, {state}, "
          f"{rec['seconds']:.1f} s")
    if abc0 != abc1:
        print(f"    cell a b c {abc0} -> {abc1} A")
