"""``otlspec experiment run|step|show``: run experiment files and look at past runs.

:func:`register` adds the ``experiment`` command to an ``argparse`` sub-parser set and returns
its handler. Exit codes: 0 done, or stopped on purpose at a step (``q``; the run is recorded as
``stopped``); 1 a run failed; 2 usage errors (a bad experiment file, an unknown run).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from workbench.errors import OtlspecError

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def register(subparsers: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``experiment`` (with ``run``, ``step``, ``show``) to ``subparsers``."""
    e = subparsers.add_parser(
        "experiment", help="run experiment files and show past runs",
        description="Experiments (TOML files, see docs/research.md) name datasets, specs, "
        "backends, parameters and seeds. Runs are recorded under --runs (default runs/) and "
        "indexed in runs/index.sqlite.")
    acts = e.add_subparsers(dest="experiment_action", metavar="ACTION")
    acts.required = True
    r = acts.add_parser("run", help="run an experiment and record it")
    r.add_argument("file", metavar="EXPERIMENT.toml")
    r.add_argument("--runs", default="runs", metavar="DIR")
    r.add_argument("--id", default=None, help="run id (default: NAME-TIME-HASH)")
    r.add_argument("--quiet", "-q", action="store_true", help="print only the run id")
    s = acts.add_parser("step", help="run an experiment stage by stage, pausing after each")
    s.add_argument("file", metavar="EXPERIMENT.toml")
    s.add_argument("--runs", default="runs", metavar="DIR")
    s.add_argument("--id", default=None)
    s.add_argument("--yes", "-y", action="store_true", help="do not wait between stages")
    w = acts.add_parser("show", help="show a recorded run (default: the latest)")
    w.add_argument("run", nargs="?", default="latest",
                   help="run id, unique id prefix, 'latest' or 'latest:NAME'")
    w.add_argument("--runs", default="runs", metavar="DIR")
    w.add_argument("--list", action="store_true", help="list the recorded runs")
    w.add_argument("--format", choices=("text", "json"), default="text")
    return {"experiment": cmd_experiment}


def cmd_experiment(args: argparse.Namespace) -> int:
    """Dispatch ``otlspec experiment ACTION``."""
    action = args.experiment_action
    if action == "show":
        return show(args.run, args.runs, listing=args.list, fmt=args.format)
    return run(args.file, args.runs, run_id=args.id, step=action == "step",
               yes=getattr(args, "yes", False), quiet=getattr(args, "quiet", False))


def run(file: str, runs: str = "runs", *, run_id: str | None = None, step: bool = False,
        yes: bool = False, quiet: bool = False, stdin: TextIO | None = None,
        stdout: TextIO | None = None) -> int:
    """Run (or step through) an experiment file; returns the exit code.

    Parameters
    ----------
    file
        The experiment TOML.
    runs
        The runs folder.
    run_id
        A fixed run id.
    step
        Show every stage's result and wait for Enter (``q`` stops) unless ``yes``.
    yes
        With ``step``: do not wait.
    quiet
        Print only the run id.
    stdin, stdout
        Streams (default ``sys.stdin``/``sys.stdout``), for tests.
    """
    from workbench.experiments.config import load_config
    from workbench.experiments.runner import STAGES, Run

    out = stdout or sys.stdout
    inp = stdin or sys.stdin
    config = load_config(file)

    def log(msg: str) -> None:
        if not quiet:
            print(f"  .. {msg}", file=sys.stderr)

    r = Run(config, runs, run_id, log)
    gen = r.stages()
    for k, stage in enumerate(gen, 1):
        if step:
            out.write(f"\n== stage {k}/{len(STAGES)}: {stage.name} ==\n{stage.summary}\n")
            if k < len(STAGES) and not yes:
                out.write("press Enter to continue, q to stop: ")
                out.flush()
                answer = inp.readline()
                if answer.strip().lower() in ("q", "quit"):
                    gen.close()
                    out.write(f"\nstopped after {stage.name}; run {r.id} marked stopped\n")
                    return EXIT_OK  # stopping on purpose is not a failure
        elif stage.name == "report" and not quiet:
            out.write(stage.summary + "\n")
    if quiet:
        out.write(r.id + "\n")
    return EXIT_OK


def show(ref: str = "latest", runs: str = "runs", *, listing: bool = False,
         fmt: str = "text", stdout: TextIO | None = None) -> int:
    """Print a recorded run (summary table, datasets, plots) or the list of runs.

    Parameters
    ----------
    ref
        A run id, a unique prefix, ``latest`` or ``latest:NAME``.
    runs
        The runs folder.
    listing
        List every run instead.
    fmt
        ``"text"`` or ``"json"``.
    stdout
        The stream (default ``sys.stdout``).

    Returns
    -------
    int
        The exit code.
    """
    from workbench.experiments import store
    from workbench.experiments.runner import render_summary

    out = stdout or sys.stdout
    if not (Path(runs) / "index.sqlite").is_file():
        raise OtlspecError(f"no runs recorded in {runs}/ (run: otlspec experiment run FILE)")
    if listing:
        rows = store.runs(runs)
        if fmt == "json":
            out.write(json.dumps(rows, indent=2) + "\n")
            return EXIT_OK
        for row in rows:
            out.write(f"{row['id']:<48} {row['status']:<8} {row['started']}  "
                      f"{(row['seconds'] or 0):7.1f} s  {(row['git_commit'] or '-')[:10]}\n")
        return EXIT_OK
    try:
        run_id = store.resolve(runs, ref)
    except LookupError as err:
        raise OtlspecError(str(err)) from None
    record = next(r for r in store.runs(runs) if r["id"] == run_id)
    path = Path(record["path"])
    results_file = path / "results.json"
    if not results_file.is_file():
        raise OtlspecError(f"run {run_id} has no results ({record['status']})")
    results = json.loads(results_file.read_text(encoding="utf-8"))
    if fmt == "json":
        out.write(json.dumps({"run": record, **results}, indent=2) + "\n")
        return EXIT_OK
    env = json.loads((path / "environment.json").read_text(encoding="utf-8"))
    out.write(f"run {run_id}: {record['status']}, started {record['started']}, "
              f"{record['seconds']} s, git {env.get('git_commit') or '-'}"
              f"{' (dirty)' if env.get('git_dirty') else ''}, Python {env['python']}\n")
    out.write("datasets: " + "; ".join(
        f"{d['key']} ({d['traces']} traces, {d['spans']} spans)" for d in results["datasets"])
        + "\n\n")
    out.write(render_summary(results))
    for p in results.get("plots", []):
        out.write(f"plot: {path / p}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``experiment`` standalone (``python -m workbench.experiments.cli run FILE``)."""
    parser = argparse.ArgumentParser(prog="otlspec")
    sub = parser.add_subparsers(dest="command", required=True)
    handlers = register(sub)
    args = parser.parse_args(["experiment", *(argv if argv is not None else sys.argv[1:])])
    try:
        return handlers["experiment"](args)
    except OtlspecError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
