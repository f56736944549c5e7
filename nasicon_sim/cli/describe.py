"""``nasicon-sim describe``: sites, oxidation states and M-site descriptors of formulas."""

from __future__ import annotations

import argparse
import json
import sys

from nasicon_sim.errors import NasiconSimError


def parse_assignments(items: list[str] | None, what: str, cast: type = float) -> dict:
    """Turn ``["x=2", "y=0.5"]`` into ``{"x": 2.0, "y": 0.5}`` with a clear error."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise NasiconSimError(f"{what} must look like NAME=VALUE, got {item!r}")
        try:
            out[key.strip()] = cast(value)
        except ValueError:
            raise NasiconSimError(f"{what} {key}: {value!r} is not a number") from None
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "describe",
        help="parse NASICON formulas and print their M-site descriptors",
        description="Parse NASICON formulas (as printed in papers) and print sites, oxidation "
        "states and the M-site descriptors of Zuo et al. (2026).",
    )
    p.add_argument("formulas", nargs="+", metavar="FORMULA",
                   help="e.g. Na3.5Zr1.0Ti0.5Lu0.5Si2PO12 or 'Na1+xZr2SixP3-xO12' with --var x=2")
    p.add_argument("--var", action="append", metavar="NAME=VALUE",
                   help="value of a variable used in the formulas (repeatable)")
    p.add_argument("--oxi", action="append", metavar="EL=STATE",
                   help="override an oxidation state, e.g. Ti=3 (repeatable)")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from nasicon_sim.composition import parse_nasicon
    from nasicon_sim.descriptors import describe

    variables = parse_assignments(args.var, "--var")
    overrides = parse_assignments(args.oxi, "--oxi", int)
    rows = []
    for formula in args.formulas:
        comp = parse_nasicon(formula, variables=variables, oxidation_states=overrides)
        d = describe(comp)
        row = {"input": formula, **d.as_dict()}
        row["t_site"] = dict(comp.t_site)
        row["oxidation_states"] = dict(comp.oxidation_states)
        row["notes"] = list(comp.notes)
        rows.append(row)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    header = f"{'formula':<42} {'Na':>5} {'r (pm)':>7} {'chi':>6} {'v':>5} {'dS/R':>6} {'delta':>6}  M site"
    print(header)
    print("-" * len(header))
    for row in rows:
        m = " ".join(f"{el}{amt:g}" for el, amt in row["m_site"].items())
        print(f"{row['input']:<42} {row['na']:>5.3g} {row['radius_pm']:>7.2f} "
              f"{row['electronegativity']:>6.3f} {row['valence']:>5.2f} {row['entropy_R']:>6.3f} "
              f"{row['delta_radius']:>6.3f}  {m}")
        for note in row["notes"]:
            print(f"    note: {note}")
    return 0
