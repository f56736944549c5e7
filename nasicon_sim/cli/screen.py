"""``nasicon-sim screen``: enumerate multi-cation compositions, score and rank them."""

from __future__ import annotations

import argparse
import json
import math
import sys

from nasicon_sim.cli.describe import parse_assignments


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen",
        help="enumerate dopant combinations on the M site and rank them by the model",
        description="Enumerate Na(1+y) (Zr,dopants)2 Si(y) P(3-y) O12 compositions from a dopant "
        "palette (valence +2..+6, Shannon radius near Zr4+, amounts on a grid, Na from charge "
        "balance), score them with the synthesizability model and write a ranked CSV.",
    )
    p.add_argument("--elements", required=True, help="dopant palette, e.g. Ti,Hf,Lu,Ga,Sc")
    p.add_argument("--host", default="Zr", help="cation in every candidate (default Zr)")
    p.add_argument("--max-cations", type=int, default=5,
                   help="most distinct M-site cations, host included (default 5)")
    p.add_argument("--step", type=float, default=0.1,
                   help="grid of M-site amounts per formula unit (default 0.1)")
    p.add_argument("--si", default="2", help="Si per formula unit, or a comma list (default 2)")
    p.add_argument("--na-min", type=float, default=1.0, help="lowest Na per f.u. (default 1)")
    p.add_argument("--na-max", type=float, default=4.0, help="highest Na per f.u. (default 4)")
    p.add_argument("--entropy-min", type=float, default=0.0, help="lowest dS_mix/R (default 0)")
    p.add_argument("--entropy-max", type=float, default=math.inf, help="highest dS_mix/R")
    p.add_argument("--radius-tol", type=float, default=20.0,
                   help="largest |r(dopant) - r(Zr4+)|, six-fold Shannon, pm (default 20)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="dopant valence override, e.g. Ti=3 (repeatable)")
    p.add_argument("--model", metavar="PATH", help="a model saved by 'ml fit' (default: GNB)")
    p.add_argument("-o", "--output", required=True, metavar="CSV", help="ranked candidates")
    p.add_argument("--top", type=int, help="write only the best N rows")
    p.add_argument("--in-domain-only", action="store_true",
                   help="keep only candidates inside the model's training range")
    p.add_argument("--show", type=int, default=10, help="print the best N (default 10)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("--plot", metavar="PNG", help="figure: p(single phase) against dS_mix/R, "
                   "coloured by the model's applicability domain")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import time

    from nasicon_sim.errors import ScreeningError
    from nasicon_sim.ml.screening import ScreenSpec, screen, write_candidates_csv

    try:
        si_values = tuple(float(s) for s in args.si.split(",") if s.strip())
    except ValueError:
        raise ScreeningError(f"--si must be numbers, got {args.si!r}") from None
    spec = ScreenSpec(
        elements=tuple(args.elements.split(",")), host=args.host, max_cations=args.max_cations,
        step=args.step, si_values=si_values, na_min=args.na_min, na_max=args.na_max,
        entropy_min=args.entropy_min, entropy_max=args.entropy_max,
        radius_tolerance_pm=args.radius_tol,
        oxidation_states=parse_assignments(args.oxi, "--oxi", int),
    )
    if args.model:
        from nasicon_sim.ml.persistence import load_model

        model = load_model(args.model)
    else:
        from nasicon_sim.ml.prediction import default_model

        model = default_model()  # fitted before the clock starts: we time the screening
    start = time.perf_counter()
    result = screen(spec, model)
    elapsed = time.perf_counter() - start
    n = write_candidates_csv(result, args.output, args.top, args.in_domain_only)
    if args.plot:  # the figure (nasicon_sim.report.figures), from the scores as computed
        from nasicon_sim.report.figures import plot_screen_candidates
        plot_screen_candidates(result.scores, args.plot)
    c = result.candidates
    n_in = int(result.scores["in_domain"].sum()) if len(c) else 0
    best = result.rows(args.show, args.in_domain_only)
    if args.json:
        json.dump({"counts": c.counts, "candidates": len(c), "in_domain": n_in,
                   "written": n, "output": args.output, "seconds": elapsed, "model": result.model,
                   "best": best}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"cations {', '.join(f'{el}{v:+d}' for el, v in zip(c.cations, c.valences))}; "
          f"grid points {c.counts['grid_points']}, <= {spec.max_cations} cations "
          f"{c.counts['max_cations']}, entropy range {c.counts['entropy']}, "
          f"{spec.na_min:g} <= Na <= {spec.na_max:g}: {len(c)} candidates "
          f"({n_in} inside the model's training range), scored in {elapsed:.2f} s")
    print(f"{'rank':>4} {'formula':<44} {'p(single)':>9} {'in dom.':>7} {'dS/R':>6} "
          f"{'E_hull pred':>11}")
    for row in best:
        eh = row.get("e_hull_pred_meV")
        print(f"{row['rank']:>4} {row['formula']:<44} {row['p_single_phase']:>9.4f} "
              f"{'yes' if row['in_domain'] else 'no':>7} {row['entropy_R']:>6.3f} "
              f"{'' if eh is None else f'{eh:.1f} meV':>11}")
    print(f"wrote {n} rows to {args.output}")
    return 0
