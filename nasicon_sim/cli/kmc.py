"""``nasicon-sim kmc``: kinetic Monte Carlo Na+ conductivity of a structure."""

from __future__ import annotations

import argparse
import json
import os
import sys

from nasicon_sim.cli.describe import parse_assignments
from nasicon_sim.errors import NasiconSimError


def _floats(text: str, flag: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise NasiconSimError(f"{flag} takes comma-separated numbers, got {text!r}") from None
    if not vals:
        raise NasiconSimError(f"{flag} needs at least one value")
    return vals


def _supercell(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    try:
        vals = tuple(int(x) for x in text.lower().split("x"))
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) < 1:
        raise NasiconSimError(f"--supercell must look like 2x3x3, got {text!r}")
    return vals


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "kmc", help="kinetic Monte Carlo Na+ conductivity, Ea and Haven ratio of a structure",
        description="Rejection-free kinetic Monte Carlo of the mobile ions on the BVSE migration "
        "network of a structure (sites = network sites, hops = its links with kinetically "
        "resolved barriers, BVSE Na-Na screened-Coulomb repulsion), at several temperatures; "
        "prints conductivity, tracer and jump diffusivities, Haven ratio, site occupancies per "
        "parent label and the Arrhenius Ea with sigma(25 C). Progress goes to stderr.")
    p.add_argument("structure", metavar="STRUCTURE", help="structure file (framework ordered)")
    p.add_argument("--temperatures", default="373,473,573", metavar="K,K,...",
                   help="temperatures in K (default 373,473,573)")
    p.add_argument("--passes", type=int, default=1000, metavar="N",
                   help="production passes per run; a pass is one hop per ion (default 1000)")
    p.add_argument("--runs", type=int, default=4, metavar="N",
                   help="independent runs per temperature (default 4)")
    p.add_argument("--blocks", type=int, default=25, metavar="N",
                   help="statistics blocks per run (default 25)")
    p.add_argument("--equilibration-passes", type=int, default=200, metavar="N",
                   help="Metropolis attempts per ion before production (default 200)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--attempt-frequency", type=float, default=5e12, metavar="HZ",
                   help="nu0 (default 5e12 Hz, Deng et al. 2022)")
    p.add_argument("--interaction-scale", type=float, default=1.0, metavar="S",
                   help="multiplies the BVSE Na-Na repulsion (default 1; 0 switches it off)")
    p.add_argument("--blocking-distance", type=float, default=2.5, metavar="A",
                   help="sites closer than this exclude each other (default 2.5 A)")
    p.add_argument("--min-length", type=float, default=20.0, metavar="A",
                   help="smallest face-to-face width of the kMC supercell (default 20 A)")
    p.add_argument("--supercell", default=None, metavar="AxBxC",
                   help="explicit repetition of the structure's cell instead of --min-length")
    p.add_argument("--barrier", action="append", metavar="HOP=EV",
                   help="E_KRA for a hop type, e.g. Na1-Na3=0.30 (repeatable; replaces BVSE)")
    p.add_argument("--kra-floor", type=float, default=0.0, metavar="EV",
                   help="raise every E_KRA below EV to it: fewer back-and-forth hops on stiff "
                   "networks, an approximation to check by lowering it (default 0: off)")
    p.add_argument("--spacing", type=float, default=0.1, metavar="A",
                   help="BVSE grid spacing of the migration network (default 0.1 A)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="oxidation state override, e.g. Ti=3 (repeatable)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="processes for the independent runs (default 1)")
    p.add_argument("--checkpoint", default=None, metavar="FILE",
                   help="keep finished temperatures in this JSON file; rerun to resume")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", default=None, metavar="PNG", help="write an Arrhenius figure")
    p.add_argument("--no-progress", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _print_table(d: dict, label: str) -> None:
    print(f"{label}: {d['n_mobile']} Na on {d['n_sites']} sites, kMC supercell "
          f"{'x'.join(map(str, d['supercell']))} ({d['volume_A3']:.0f} A^3)")
    if d["reason"]:
        print(f"sigma = 0: {d['reason']}")
        return
    print(f"{'T (K)':>7}{'sigma (S/cm)':>22}{'D* (cm2/s)':>12}{'D_sigma (cm2/s)':>17}"
          f"{'Haven':>13}{'f':>7}")
    for i, t in enumerate(d["temperatures_K"]):
        hv = d["haven_ratio"][i]
        he = d["haven_ratio_err"][i]
        f = d["correlation_factor"][i]
        hs = "-" if hv is None else f"{hv:.3f}±{he or 0:.3f}"
        print(f"{t:7.1f}{d['sigma_S_cm'][i]:12.3e} ± {d['sigma_err_S_cm'][i]:7.1e}"
              f"{d['D_tracer_cm2_s'][i]:12.3e}{d['D_sigma_cm2_s'][i]:17.3e}{hs:>13}"
              f"{'-' if f is None else f'{f:.3f}':>7}")
    occ = d["occupancy"][-1] if d["occupancy"] else {}
    print("occupancy at {:g} K: ".format(d["temperatures_K"][-1])
          + ", ".join(f"{k} {v[0]:.3f}" for k, v in occ.items()))
    if d["Ea_eV"] is not None:
        print(f"Ea = {d['Ea_eV']:.3f} ± {d['Ea_err_eV']:.3f} eV   sigma(25 C) = "
              f"{d['sigma_25C_S_cm']:.2e} S/cm (log10 {d['log10_sigma_25C']:.2f} ± "
              f"{d['log10_sigma_25C_err']:.2f})")
    for note in d.get("notes", []):
        print(f"note: {note}")
    print(f"{d['hops_per_second']:,.0f} hops/s")


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.bvse import BVSESettings
    from nasicon_sim.io.read import read_structure
    from nasicon_sim.transport import KMCSettings, transport

    barriers = parse_assignments(args.barrier, "--barrier", float)
    settings = KMCSettings(
        temperatures_K=_floats(args.temperatures, "--temperatures"), passes=args.passes,
        equilibration_passes=args.equilibration_passes, runs=args.runs, blocks=args.blocks,
        seed=args.seed, attempt_frequency_Hz=args.attempt_frequency,
        interaction_scale=args.interaction_scale, blocking_distance_A=args.blocking_distance,
        min_length_A=args.min_length, supercell=_supercell(args.supercell),
        barrier_table=barriers or None, kra_floor_eV=args.kra_floor, workers=args.workers)
    if args.spacing <= 0:
        raise NasiconSimError(f"--spacing must be positive, got {args.spacing}")
    structure = read_structure(args.structure, parse_assignments(args.oxi, "--oxi", int))

    def progress(msg: str) -> None:
        print(f"kmc: {msg}", file=sys.stderr, flush=True)

    from nasicon_sim.progress import is_quiet

    silent = args.no_progress or is_quiet()  # --no-progress, or nasicon-sim -q
    if not silent:
        progress(f"BVSE migration network at {args.spacing} A")
    result = transport(structure, settings,
                       BVSESettings(spacing_A=args.spacing, keep_landscape=False),
                       checkpoint=args.checkpoint, progress=None if silent else progress)
    d = result.as_dict()
    d["input"] = args.structure
    if args.plot:
        from nasicon_sim.transport.plot import plot_arrhenius

        plot_arrhenius({d["metadata"].get("formula", "kMC"): d}, args.plot,
                       title=f"kMC: {os.path.basename(args.structure)}")
        d["outputs"] = {"plot": args.plot}
    try:
        if args.json:
            json.dump(d, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            _print_table(d, d["metadata"].get("formula", args.structure))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
