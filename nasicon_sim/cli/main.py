"""Entry point of the ``nasicon-sim`` command.

Each subcommand lives in its own module of :mod:`nasicon_sim.cli` exposing
``register(subparsers)``, which adds its parser and sets ``func`` to a function taking the
parsed arguments and returning an exit code. Heavy imports happen inside those functions.
User errors (:class:`~nasicon_sim.errors.NasiconSimError`) print one line and exit with 2;
``--traceback`` shows the full traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from nasicon_sim import __version__
from nasicon_sim.errors import NasiconSimError

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "describe", "build", "bvse", "relax", "dft-inputs", "distortion", "data", "ml", "screen",
    "run", "kmc", "neb",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (all subcommands registered)."""
    parser = argparse.ArgumentParser(
        prog="nasicon-sim",
        description="Screen NASICON sodium solid electrolytes before synthesis.",
    )
    parser.add_argument("--version", action="version", version=f"nasicon-sim {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full Python traceback on errors")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress (-v info, -vv debug)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines or bars on standard error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"nasicon_sim.cli.{name.replace('-', '_')}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (0 success, 2 user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    from nasicon_sim.progress import job

    name = " ".join(str(getattr(args, k)) for k in ("command", "ml_command", "data_command")
                    if getattr(args, k, None))
    try:
        with job(name, quiet=args.quiet):
            if getattr(args, "json", False):
                return _run_json(args)
            return int(args.func(args) or 0)
    except NasiconSimError as exc:
        if args.traceback:
            raise
        print(f"nasicon-sim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nasicon-sim {args.command}: interrupted", file=sys.stderr)
        return 130


def _run_json(args: argparse.Namespace) -> int:
    """Run a ``--json`` command and print its JSON with the package version added
    (:func:`nasicon_sim.provenance.stamp`); stdout carries nothing else."""
    import contextlib
    import io

    from nasicon_sim.provenance import stamp_json_text

    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            code = int(args.func(args) or 0)
    finally:
        text = buffer.getvalue()
        sys.stdout.write(stamp_json_text(text) if text.strip() else text)
        sys.stdout.flush()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
