"""``nasicon-sim neb``: climbing-image NEB barriers of the BVSE network's hops."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nasicon_sim.cli.describe import parse_assignments
from nasicon_sim.errors import NasiconSimError

#: Summary of a run in the output directory (rewritten after every hop).
SUMMARY_NAME = "neb.json"
#: Barrier table stem in the output directory (``barriers.csv`` and ``barriers.json``).
TABLE_STEM = "barriers"
MODEL_NAME = "barrier_model.json"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "neb",
        help="NEB barriers of the BVSE network's hops (CHGNet or any ASE calculator; VASP inputs)",
        description="Find the hops of the structure's BVSE migration network (one per label "
        "pair and local environment, percolation bottlenecks first) or the hop given by "
        "--hop, make the end points (ion on i, j empty), relax them, interpolate with IDPP "
        "through the BVSE saddle and run a climbing-image NEB. Writes per hop "
        "DIR/<hop>.json, .extxyz and .png, then DIR/neb.json (summary), DIR/barriers.csv/.json "
        "(barrier table) and DIR/barrier_model.json. CHGNet needs the [relax] extra.",
    )
    p.add_argument("structure", metavar="STRUCTURE",
                   help="CIF, POSCAR/CONTCAR, vasprun.xml or extxyz (ordered)")
    p.add_argument("--hop", default="auto",
                   help="auto (default), 'i,j' (network site indices of 'nasicon-sim bvse "
                   "--json') or 'link:K' (its K-th link)")
    p.add_argument("--max-hops", type=int, default=None, metavar="N",
                   help="with --hop auto: compute the first N hops only")
    p.add_argument("--images", type=int, default=5, help="interior images (default 5)")
    p.add_argument("--spring", type=float, default=0.1, metavar="EV_A2",
                   help="spring constant, eV/A^2 (default 0.1)")
    p.add_argument("--fmax", type=float, default=0.05, metavar="EV_A",
                   help="band convergence, eV/A (default 0.05)")
    p.add_argument("--steps", type=int, default=500, help="band steps (default 500)")
    p.add_argument("--relax-fmax", type=float, default=None, metavar="EV_A",
                   help="end-point convergence, eV/A (default: --fmax)")
    p.add_argument("--relax-steps", type=int, default=500,
                   help="steps per end-point relaxation (default 500)")
    p.add_argument("--no-climb", action="store_true", help="plain NEB, no climbing image")
    p.add_argument("--batch", dest="batch", action="store_true", default=None,
                   help="evaluate all images of a step as one CHGNet batch (default on a CUDA "
                        "device only: on CPU batching measured 1.8-3.3x slower, "
                        "benchmarks/bench_neb.py)")
    p.add_argument("--no-batch", dest="batch", action="store_false",
                   help="evaluate images one by one (ASE's way)")
    p.add_argument("--calculator", default="chgnet", metavar="SPEC",
                   help="chgnet (default) or module:factory returning an ASE calculator")
    p.add_argument("--device", default=None, help="torch device for CHGNet")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--bvse-spacing", type=float, default=0.2, metavar="A",
                   help="BVSE grid spacing for the network, A (default 0.2)")
    p.add_argument("--vasp-inputs", default=None, metavar="VDIR",
                   help="also write VASP CI-NEB inputs per hop into VDIR/<hop>/")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="oxidation state override, e.g. Ti=3 (repeatable)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--overwrite", action="store_true",
                       help="write into DIR even if it holds a neb.json")
    again.add_argument("--resume", action="store_true",
                       help="keep the hops DIR already holds a result for")
    p.add_argument("--json", action="store_true",
                   help="print a list with one object per hop")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.set_defaults(func=run)


def _summary(settings: dict, source: str, records: list[dict], status: str) -> str:
    return json.dumps({"nasicon_sim_neb_run": 1, "status": status, "source": source,
                       "settings": settings, "n_done": len(records), "hops": records},
                      indent=1) + "\n"


def _line(d: dict) -> str:
    name = f"{d['labels'][0]}-{d['labels'][1]} (sites {d['sites'][0]}-{d['sites'][1]}, " \
           f"{d['hop_type'].split('|', 1)[1]})"
    if d["barrier_forward_eV"] is None:
        return f"{name}: {d['status']}: {d['message']}"
    return (f"{name}: forward {d['barrier_forward_eV']:.3f} eV, backward "
            f"{d['barrier_backward_eV']:.3f} eV (BVSE {d['bvse_barrier_forward_eV']:.3f} / "
            f"{d['bvse_barrier_backward_eV']:.3f}), {d['status']} after {d['n_steps']} steps, "
            f"{d['seconds']:.0f} s")


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.bvse import BVSESettings
    from nasicon_sim.io.atomic import atomic_write_text
    from nasicon_sim.io.read import read_structure
    from nasicon_sim.neb import NEBSettings, find_hops, hop_between, network_of, read_result
    from nasicon_sim.neb.table import BarrierTable, fit_model
    from nasicon_sim.neb.workflow import calculator_for, candidate_sites, compute_hop

    settings = NEBSettings(
        n_images=args.images, spring_eV_A2=args.spring, fmax_eV_A=args.fmax, steps=args.steps,
        climb=not args.no_climb, relax_fmax_eV_A=args.relax_fmax, relax_steps=args.relax_steps,
        calculator=args.calculator, batch=_batch(args.batch, args.device), device=args.device,
        threads=args.threads)
    if args.max_hops is not None and args.max_hops < 1:
        raise NasiconSimError(f"--max-hops must be a positive integer, got {args.max_hops}")
    if not Path(args.structure).is_file():
        raise NasiconSimError(f"no such file: {args.structure}")
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise NasiconSimError(f"output {out} exists and is not a directory")
    summary_path = out / SUMMARY_NAME
    if summary_path.exists() and not (args.resume or args.overwrite):
        raise NasiconSimError(f"{out} already holds {SUMMARY_NAME}: use --resume, --overwrite "
                              "or another directory")
    calc = calculator_for(settings)  # fails here (one line) when not installed
    structure = read_structure(args.structure, parse_assignments(args.oxi, "--oxi", int))
    bvse, reference = network_of(structure, BVSESettings(spacing_A=args.bvse_spacing))
    if args.hop.strip().lower() == "auto":
        hops = find_hops(bvse.network, structure, reference, max_hops=args.max_hops)
        if not hops:
            raise NasiconSimError("the BVSE network has no links: no hops to compute")
    else:
        hops = [hop_between(bvse.network, structure, args.hop, reference)]
    candidates = candidate_sites(bvse, reference, structure.lattice.matrix)
    source = str(Path(args.structure).resolve())
    out.mkdir(parents=True, exist_ok=True)
    results, records = [], []
    s_dict = settings.as_dict() | {"bvse_spacing_A": args.bvse_spacing}
    atomic_write_text(summary_path, _summary(s_dict, source, records, "running"))
    try:
        for hop in hops:
            done = out / f"{hop.tag}.json"
            result = None
            if args.resume and done.is_file():
                old = read_result(done, with_images=bool(args.vasp_inputs))
                if old.settings == settings.as_dict():
                    result = old
            if result is None:
                result = compute_hop(structure, hop, settings, calc, candidates, source=source)
                result.write(out)
            if args.vasp_inputs and result.images and len(result.images) > 2:
                from nasicon_sim.neb.vasp import write_vasp_neb_inputs

                target = Path(args.vasp_inputs) / hop.tag
                if not (args.resume and target.exists()):
                    write_vasp_neb_inputs(result, target, overwrite=args.overwrite)
            results.append(result)
            rec = result.as_dict()
            rec.pop("hop")
            records.append(rec)
            atomic_write_text(summary_path, _summary(s_dict, source, records, "running"))
            if not args.json:
                print(_line(rec), flush=True)
    except BaseException:
        atomic_write_text(summary_path, _summary(s_dict, source, records, "interrupted"))
        raise
    table = BarrierTable.from_results(results)
    table.write(out / TABLE_STEM)
    model = fit_model(table)
    atomic_write_text(out / MODEL_NAME, json.dumps(model.as_dict(), indent=1) + "\n")
    atomic_write_text(summary_path, _summary(s_dict, source, records, "complete"))
    if args.json:
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        n_conv = sum(r["converged"] for r in records)
        print(f"{len(records)} hop(s) in {out} ({n_conv} converged); table "
              f"{out / (TABLE_STEM + '.csv')}")
    if all(r["barrier_forward_eV"] is None for r in records):
        if args.hop.strip().lower() != "auto":
            raise NasiconSimError(records[0]["message"] or records[0]["status"])
        return 1
    return 0 if all(r["converged"] for r in records) else 1


def _batch(requested: bool | None, device: str | None) -> bool:
    """Batch the images when asked, else only on a CUDA device (slower on CPU, measured)."""
    if requested is not None:
        return requested
    return str(device or "").startswith("cuda")
