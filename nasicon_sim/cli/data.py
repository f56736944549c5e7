"""``nasicon-sim data``: check labelled tables and append experimental outcomes to them."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data",
        help="check phase-outcome tables; append new experimental outcomes",
        description="Labelled tables of NASICON phase outcomes (single_phase, "
        "secondary_phases, ambiguous): check them under a label policy, or append a result.",
    )
    data = p.add_subparsers(dest="data_command", metavar="DATA_COMMAND")

    ck = data.add_parser("check", help="validate a table and report what the policy uses")
    ck.add_argument("csv", nargs="?", metavar="CSV",
                    help="a table of your own (default: the shipped literature table)")
    ck.add_argument("--policy", default="majority", help="label policy (default majority)")
    ck.add_argument("--lenient", action="store_true",
                    help="report unparseable formulas instead of failing on them")
    ck.add_argument("--all", action="store_true", help="also list the unlabelled rows")
    ck.add_argument("--json", action="store_true", help="print one JSON object")
    ck.add_argument("--require-quotes", action="store_true",
                    help="refuse labelled rows whose note quotes no words of the source "
                         "(always on for the shipped table; every labelled row needs a source)")
    ck.set_defaults(func=run_check)

    ad = data.add_parser("add", help="append one experimental outcome to your table (atomic)")
    ad.add_argument("formula", metavar="FORMULA")
    ad.add_argument("--label", required=True,
                    choices=("single_phase", "secondary_phases", "ambiguous"))
    ad.add_argument("--source", required=True, help="DOI, URL or lab notebook reference")
    ad.add_argument("--note", default="", help="free text (tags in [BRACKETS] are understood)")
    ad.add_argument("--data", required=True, metavar="CSV",
                    help="your table; created with a header if it does not exist")
    ad.set_defaults(func=run_add)
    p.set_defaults(func=lambda args: print_help(p))


def print_help(parser: argparse.ArgumentParser) -> int:
    """Show a command group's help when no subcommand is given (exit code 2)."""
    parser.print_help(sys.stderr)
    return 2


def print_dataset_summary(d) -> None:
    """Counts, left-out rows by kind, and conflicts of a Dataset."""
    c = d.counts()
    print(f"Dataset: {d.table_name} (sha256 {d.sha256[:12]}), label policy '{d.policy.name}'")
    print(f"  {c['rows']} rows -> {c['compositions']} compositions "
          f"({c['single_phase']} single_phase, {c['secondary_phases']} secondary_phases)")
    print(f"  left out: {c['rows_processing_variant']} processing variants, "
          f"{c['rows_unbalanced_as_printed']} unbalanced as printed, "
          f"{c['rows_unparseable']} unparseable, {c['rows_unlabelled']} unlabelled (ambiguous), "
          f"{c['rows_second_hand']} second-hand, {c['rows_dropped_by_conflict']} in dropped "
          "conflicts")
    for conflict in d.conflicts:
        print(f"  conflict: {conflict.formula} (lines {', '.join(map(str, conflict.lines))}): "
              f"{conflict.resolution}")


def run_check(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.dataset import (
        build_dataset,
        check_row_evidence,
        literature_table,
        read_table,
    )

    if args.csv:
        table, strict = read_table(args.csv), not args.lenient
    else:
        table, strict = literature_table(), False
    paraphrased = check_row_evidence(table, require_quote=args.require_quotes or not args.csv)
    d = build_dataset(table, args.policy, strict=strict)
    issues = [i for i in d.issues if args.all or i.kind != "unlabelled"]
    if args.json:
        json.dump({"dataset": d.table_name, "sha256": d.sha256, "label_policy": d.policy.name,
                   "counts": d.counts(),
                   "conflicts": [c.__dict__ | {"lines": list(c.lines)} for c in d.conflicts],
                   "paraphrased_lines": list(paraphrased),
                   "left_out": [i.__dict__ for i in issues]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print_dataset_summary(d)
    if paraphrased:
        print(f"  {len(paraphrased)} labelled rows rest on the curator's summary, not quoted words "
              f"(tagged [PARAPHRASE]): lines {', '.join(map(str, paraphrased))}")
    for issue in issues:
        print(f"  line {issue.line} [{issue.kind}] {issue.formula}: {issue.reason}")
    return 0


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet would run it as a formula.

    >>> spreadsheet_safe("=HYPERLINK(A1)"), spreadsheet_safe("doi:10.1/x")
    ("'=HYPERLINK(A1)", 'doi:10.1/x')
    """
    stripped = text.strip()
    return "'" + stripped if stripped.startswith(FORMULA_TRIGGERS) else stripped


def run_add(args: argparse.Namespace) -> int:
    from nasicon_sim.ml.dataset import append_outcome

    row = append_outcome(args.data, args.formula, args.label, spreadsheet_safe(args.source),
                         spreadsheet_safe(args.note))
    print(f"appended line {row.line} to {args.data}: {row.formula} -> {row.label}")
    return 0
