"""What ``otlspec COMMAND --help`` says beyond the options: exit codes and an example.

Every command (those other packages register too) gets the same help formatter, which shows
each option's default, and an epilog with its exit codes and one example. Kept apart from
:mod:`workbench.cli` so that the wiring stays short.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

_BUG = "3 internal error, a bug in otlspec (--debug shows the traceback)"
_INPUT = "2 usage, spec or trace-input errors"

#: Exit codes (after "exit codes: ") and one example, per command path.
EPILOGS: dict[str, tuple[str, str]] = {
    "check": (
        "0 nothing violated at or above --fail-on; 1 violations; " + _INPUT,
        "otlspec check stdlib datasets/real/ --param skew=10ms --format json -o report.json",
    ),
    "demo": (
        "0 the demo ran (its data contains known violations); 2 the datasets are missing",
        "otlspec demo --format json -o demo.json",
    ),
    "lint": (
        "0 every spec parses and type-checks (warnings do not fail); 2 an error",
        "otlspec lint specs/stdlib/ specs/examples/conflicting.otlspec",
    ),
    "fmt": (
        "0 done (with --check: already canonical); 1 --check found a file to reformat; 2 an error",
        "otlspec fmt --check specs/stdlib/",
    ),
    "explain": (
        "0 shown; 2 no such property or a spec error",
        "otlspec explain child_starts_after_parent",
    ),
    "prove": (
        "0 proved / satisfiable as asked; 1 refuted, a counterexample or a conflict; "
        "2 errors and unknown results",
        "otlspec prove consistent stdlib -o witness.json",
    ),
    "fix": (
        "0 every timing violation got a repair; 1 some did not; 2 an error",
        "otlspec fix stdlib.timing datasets/real/openzipkin-zipkin/skew.json -o patch.json",
    ),
    "gen": ("0 written; 2 an error", "otlspec gen --traces 200 --seed 1 --faults all --out gen/"),
    "convert": ("0 written; 2 an error", "otlspec convert datasets/real --out parquet/"),
    "eval": (
        "0 evaluated; 1 recall below --min-recall; 2 an error",
        "otlspec eval stdlib gen/",
    ),
    "serve": (
        "0 stopped cleanly (SIGTERM or Ctrl-C, open traces drained); 2 a bad spec or option",
        "otlspec serve stdlib --store verdicts.db",
    ),
    "results": (
        "0 every stored verdict holds; 1 some trace violates a property; 2 an error",
        "otlspec results --store verdicts.db",
    ),
    "report": (
        "0 written; 2 an unreadable results file or trace input, or --pdf without Chromium",
        "otlspec report results.json datasets/real -o report.html --pdf",
    ),
    "ui": (
        "0 stopped cleanly (SIGTERM or Ctrl-C); 2 a bad results file or store, or an address "
        "other than loopback without --token",
        "otlspec ui results.json datasets/real --port 8080",
    ),
    "experiment": (
        "0 done, or stopped on purpose with q; 1 a run failed; 2 a bad experiment file or "
        "an unknown run",
        "otlspec experiment run experiments/fault-detection.toml",
    ),
}

#: Usage lines argparse cannot write well (one positional list holding specs then traces).
USAGES = {
    "check": "otlspec check [options] SPEC [SPEC ...] TRACES [TRACES ...]",
    "fix": "otlspec fix [options] SPEC [SPEC ...] TRACES [TRACES ...]",
    "eval": "otlspec eval [options] SPEC [SPEC ...] DATASET",
}


class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the epilog's lines and appends ``(default: ...)`` to described options that
    have a default worth naming (not ``None``, not an off switch)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS) or (
            action.help and "default" in action.help
        ):
            return action.help
        return super()._get_help_string(action)


def _epilog(codes: str, example: str) -> str:
    text = textwrap.fill(f"exit codes: {codes}; {_BUG}.", width=78)
    return f"{text}\n\nexample:\n  {example}"


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def finish(
    parser: argparse.ArgumentParser, inherited: tuple[str, str] | None = None, name: str = ""
) -> None:
    """Give ``parser``'s commands (recursively) the formatter, usage lines and epilogs."""
    if not name and parser.epilog is None:
        parser.formatter_class = Formatter
        parser.epilog = _epilog(
            "0 success; 1 violations (check), refutations (prove), a failed run; " + _INPUT,
            "otlspec demo    (otlspec COMMAND --help describes each command)",
        )
    for command, child in _children(parser).items():
        path = f"{name} {command}".strip()
        info: Any = EPILOGS.get(path) or EPILOGS.get(command) or inherited
        child.formatter_class = Formatter
        if info is not None and child.epilog is None:
            child.epilog = _epilog(*info)
        if path in USAGES:
            child.usage = USAGES[path]
        finish(child, info, path)
