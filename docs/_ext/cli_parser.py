"""The ``nasicon-sim`` argparse parser as the CLI reference page renders it.

It is the real parser (``nasicon_sim.cli.main.build_parser``), so the reference cannot drift
from the command; only help texts are made safe for reStructuredText (``|x|`` is a
substitution there, ``*`` emphasis).
"""

from __future__ import annotations

import argparse

from nasicon_sim.cli.main import build_parser


def _escape(text: str | None) -> str | None:
    if not text or text is argparse.SUPPRESS:
        return text
    return text.replace("\\", "\\\\").replace("|", r"\|").replace("*", r"\*")


def _walk(parser: argparse.ArgumentParser, seen: set[int]) -> None:
    if id(parser) in seen:
        return
    seen.add(id(parser))
    parser.description = _escape(parser.description)
    parser.epilog = _escape(parser.epilog)
    for action in parser._actions:
        action.help = _escape(action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                choice.help = _escape(choice.help)
            for sub in action.choices.values():
                _walk(sub, seen)


def parser() -> argparse.ArgumentParser:
    """The full ``nasicon-sim`` parser with RST-safe help texts."""
    p = build_parser()
    _walk(p, set())
    return p
