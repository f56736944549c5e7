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
        "balance), score them with the synthesizability model (p(single phase), its bootstrap "
        "spread and conformal set) and a transport figure (the stated proxy -|Na - 3.3|, Guin & "
        "Tietz 2015, unless --transport-csv gives one), mark the Pareto front of the two, and "
        "write a ranked CSV (and, with --study-toml, a study definition for the top N).",
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
    p.add_argument("--model", metavar="PATH|NAME",
                   help="a .json model written by 'ml fit', 'selected' (default: the nested-CV "
                   "choice) or 'study' (the study's GNB); pickle/joblib files are refused")
    p.add_argument("--transport-csv", metavar="CSV",
                   help="transport figure per formula (higher = better) instead of the proxy")
    p.add_argument("--transport-column", metavar="NAME", help="its column")
    p.add_argument("--study-toml", metavar="PATH",
                   help="write a study definition ('nasicon-sim run') for the top candidates")
    p.add_argument("--study-top", type=int, default=5,
                   help="how many candidates go into --study-toml (default 5)")
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
    from nasicon_sim.cli.ml import _load_named_or_file
    from nasicon_sim.errors import NasiconSimError
    from nasicon_sim.ml.acquisition import ColumnTransport, NaContentProxy, write_study_toml

    if bool(args.transport_csv) != bool(args.transport_column):
        raise NasiconSimError("--transport-csv and --transport-column go together")
    if args.study_top < 1:
        raise NasiconSimError(f"--study-top must be at least 1, got {args.study_top}")
    transport = (ColumnTransport(args.transport_csv, args.transport_column)
                 if args.transport_csv else NaContentProxy())
    model = _load_named_or_file(args.model)  # fitted before the clock starts
    start = time.perf_counter()
    result = screen(spec, model, transport)
    elapsed = time.perf_counter() - start
    n = write_candidates_csv(result, args.output, args.top, args.in_domain_only)
    if args.plot:  # the figure (nasicon_sim.report.figures), from the scores as computed
        from nasicon_sim.report.figures import plot_screen_candidates
        plot_screen_candidates(result.scores, args.plot)
    c = result.candidates
    n_in = int(result.scores["in_domain"].sum()) if len(c) else 0
    best = result.rows(args.show, args.in_domain_only)
    front = [r for r in result.rows(None, args.in_domain_only) if r["pareto_front"]] \
        if len(c) else []
    toml = None
    if args.study_toml:
        top = result.rows(args.study_top, args.in_domain_only)
        toml = write_study_toml([r["formula"] for r in top], args.study_toml, "screened",
                                f"nasicon-sim screen --elements {args.elements}, model "
                                f"{result.model}, top {len(top)} by p(single phase)")
    if args.json:
        json.dump({"counts": c.counts, "candidates": len(c), "in_domain": n_in,
                   "written": n, "output": args.output, "seconds": elapsed, "model": result.model,
                   "transport": result.transport, "best": best, "pareto_front": front,
                   "study_toml": str(toml) if toml else None}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"cations {', '.join(f'{el}{v:+d}' for el, v in zip(c.cations, c.valences))}; "
          f"grid points {c.counts['grid_points']}, <= {spec.max_cations} cations "
          f"{c.counts['max_cations']}, entropy range {c.counts['entropy']}, "
          f"{spec.na_min:g} <= Na <= {spec.na_max:g}: {len(c)} candidates "
          f"({n_in} inside the model's training range), scored in {elapsed:.2f} s")
    print(f"model: {result.model}; transport: {result.transport}")
    _table(best, "")
    print(f"Pareto front of p(single phase) and transport: {len(front)} candidates")
    _table(front[: args.show], "")
    print(f"wrote {n} rows to {args.output}")
    if toml:
        print(f"wrote {toml} (study of the top {min(args.study_top, len(c))}; run it with "
              f"'nasicon-sim run {toml}')")
    return 0


def _table(rows: list[dict], indent: str) -> None:
    from nasicon_sim.cli.ml import _set_text

    print(f"{indent}{'rank':>4} {'formula':<44} {'p(single)':>9} {'± boot':>7} {'set':>12} "
          f"{'in dom.':>7} {'dS/R':>6} {'transport':>9} {'E_hull pred':>11}")
    for row in rows:
        eh = row.get("e_hull_pred_meV")
        sd = row.get("p_std")
        pset = _set_text([k for k, c in (("single_phase", "set_single"),
                                         ("secondary_phases", "set_secondary")) if row.get(c)])
        print(f"{indent}{row['rank']:>4} {row['formula']:<44} {row['p_single_phase']:>9.4f} "
              f"{'' if sd is None else f'{sd:.3f}':>7} {pset:>12} "
              f"{'yes' if row['in_domain'] else 'no':>7} {row['entropy_R']:>6.3f} "
              f"{row['transport']:>9.3f} {'' if eh is None else f'{eh:.1f} meV':>11}")
