"""The ``otlspec`` command line: argument parsing and wiring, no logic of its own.

Exit codes: 0 nothing violated at or above ``--fail-on``; 1 violations; 2 usage, spec or input
errors (after reporting whatever could still be checked); 3 an internal error, i.e. a bug in
otlspec (one line on stderr; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from workbench import __version__
from workbench.errors import Diagnostic, OtlspecError

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
#: Where users report internal errors (printed with exit status 3).
BUG_REPORT = "the otlspec issue tracker, with the command line and its --debug output"
FORMATS = ("text", "json", "sarif", "junit")


class UsageError(OtlspecError):
    """Bad command-line usage."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="otlspec",
        description="Check temporal and causal properties of OpenTelemetry traces.",
    )
    p.add_argument("--version", action="version", version=f"otlspec {__version__}")
    p.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    c = sub.add_parser(
        "check",
        help="check specs against traces",
        description="Check SPECs against TRACES. The spec arguments come first.",
    )
    c.add_argument(
        "inputs",
        nargs="+",
        metavar="SPEC|TRACES",
        help="SPEC: a *.otlspec file, a directory of them, 'stdlib' or 'stdlib.MODULE'; "
        "TRACES: files, directories, globs, or '-' for stdin (OTLP JSON/protobuf, Jaeger, "
        "Zipkin; .gz)",
    )
    _add_check_options(c)

    d = sub.add_parser(
        "demo",
        help="check the standard library against the bundled real traces",
        description="Check the standard library against the real traces bundled in "
        "datasets/real/ (a source checkout). Real telemetry breaks conventions: the demo "
        "data contains known violations, and the demo exits 0 when it ran.",
    )
    d.add_argument("--format", choices=FORMATS, default="text", help="report format")
    d.add_argument("--output", "-o", metavar="FILE", help="write the report here (default stdout)")

    _EXTRA_HANDLERS.clear()
    from workbench.cli_specs import register as register_specs

    _EXTRA_HANDLERS.update(register_specs(sub))
    from workbench.smt.cli import register as register_smt

    _EXTRA_HANDLERS.update(register_smt(sub))
    from workbench.datasets.cli import register as register_datasets
    from workbench.experiments.cli import register as register_experiments

    _EXTRA_HANDLERS.update(register_datasets(sub))
    _EXTRA_HANDLERS.update(register_experiments(sub))
    from workbench.strategy.cli import register as register_strategy

    _EXTRA_HANDLERS.update(register_strategy(sub))
    from workbench.serve.cli import register as register_serve

    _EXTRA_HANDLERS.update(register_serve(sub))
    from workbench.ui.cli import register as register_ui

    _EXTRA_HANDLERS.update(register_ui(sub))
    from workbench.cli_help import finish

    finish(p)  # every command: defaults, exit codes and an example in --help
    return p


_SPEC_HELP = "a *.otlspec file, a directory of them, 'stdlib' or 'stdlib.MODULE'"


_DEBUG_HELP = "on an internal error (exit 3) print the Python traceback (also after COMMAND)"


#: Handlers of commands registered by other packages (``prove``, ``fix``).
_EXTRA_HANDLERS: dict[str, Any] = {}


def _add_check_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format")
    c.add_argument("--output", "-o", metavar="FILE", help="write the report here (default stdout)")
    c.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a spec param, e.g. --param skew=10ms",
    )
    c.add_argument(
        "--fail-on",
        choices=("error", "warning", "info"),
        default="error",
        help="lowest severity whose violations make the exit status 1",
    )
    c.add_argument("--backend", default="auto",
                   help="auto | cupy | numba | reference | stream (incremental monitors)")
    c.add_argument(
        "--explain-types",
        action="store_true",
        help="warn about attributes compared with numbers whose loaded values are text",
    )
    c.add_argument(
        "--property",
        action="append",
        default=None,
        metavar="NAME",
        help="check only this property (repeatable)",
    )
    c.add_argument(
        "--verdicts",
        choices=("all", "failed"),
        default="failed",
        help="json/junit/sarif list only failing traces (default; passing ones are counted), "
        "or every trace's verdict",
    )
    c.add_argument(
        "--all-verdicts",
        dest="verdicts",
        action="store_const",
        const="all",
        help="list every (property, trace) verdict, as report schema v1 did (--verdicts all)",
    )
    c.add_argument("--top", type=int, default=20, help="violations shown in text output")
    c.add_argument("--max-bytes", type=int, default=None, help="skip trace files larger than this")
    c.add_argument("--store", metavar="PATH_OR_URL", default=None,
                   help="also record the run in a results store (SQLite path or postgresql:// "
                   "URL), for the report history of otlspec ui/serve")
    c.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar on stderr (shown only when stderr is a terminal)",
    )
    from workbench.distributed.cli import add_options as add_distributed_options
    from workbench.traces.jobs import add_jobs_option

    add_distributed_options(c)
    add_jobs_option(c)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``otlspec`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug is global but may also follow the command: take it out wherever it stands
    head = argv[: argv.index("--")] if "--" in argv else argv
    debug = "--debug" in head
    if debug:
        argv.remove("--debug")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        handler = {
            "check": cmd_check,
            "demo": cmd_demo,
            **_EXTRA_HANDLERS,
        }[args.command]
        code: int = handler(args)
        return code
    except OtlspecError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("otlspec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # anything else is a bug: one line, the traceback behind --debug
        if debug:
            traceback.print_exc()
        print(internal_error_line(exc, debug), file=sys.stderr)
        return EXIT_BUG


def internal_error_line(exc: BaseException, debug: bool = False) -> str:
    """The one line printed for an unexpected exception (exit status 3)."""
    what = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    if len(what) > 200:
        what = what[:197] + "..."
    more = "" if debug else "; rerun with --debug for the traceback"
    return (
        f"otlspec: internal error (a bug in otlspec): {what}; "
        f"please report it to {BUG_REPORT}{more}"
    )


# ----------------------------------------------------------------------------- helpers


def repo_root() -> Path | None:
    """The source checkout holding ``datasets/`` and ``specs/``, when running from one."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "datasets").is_dir() else None


def _is_spec(arg: str) -> bool:
    from workbench.lang import is_spec_arg

    return is_spec_arg(arg)


def _spec_paths(args: Sequence[str]) -> list[str]:
    """Spec arguments with directories expanded into their ``*.otlspec`` files."""
    from workbench.lang import spec_files

    return [str(p) for a in args for p in spec_files(a)]


def _load_specs(paths: Sequence[str]) -> Any:
    from workbench.lang import load_specs

    return load_specs(list(paths))


def _parse_params(spec: Any, items: Sequence[str]) -> dict[str, str]:
    """``NAME=VALUE`` items -> overrides, checked against the spec's params early."""
    from workbench.errors import ParamError
    from workbench.lang import param_overrides

    overrides: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParamError(f"--param {item!r}: expected NAME=VALUE, e.g. --param skew=10ms")
        overrides[name.strip()] = value.strip()
    param_overrides(spec, overrides)  # raises ParamError naming the param and expected type
    return overrides


class _TextSink(io.BytesIO):
    """A binary sink for a text-only ``sys.stdout`` (no ``.buffer``): written out on close."""

    def close(self) -> None:
        sys.stdout.write(self.getvalue().decode("utf-8"))
        super().close()


def run_check(
    spec_args: Sequence[str],
    trace_args: Sequence[str],
    *,
    fmt: str = "text",
    output: str | None = None,
    params: Sequence[str] = (),
    fail_on: str = "error",
    backend: str = "auto",
    properties: Sequence[str] | None = None,
    verdicts: str = "failed",
    top: int = 20,
    max_bytes: int | None = None,
    progress: bool = True,
    cluster: str | None = None,
    workers: int | None = None,
    max_shard_spans: int | None = None,
    explain_types: bool = False,
    store: str | None = None,
    jobs: int | None = None,
) -> int:
    """Load, check, report; returns the exit code (on Dask with ``cluster``/``workers``).

    With ``store``, the run is also recorded in that results store (report history)."""
    from rich.console import Console

    from workbench.engine import check
    from workbench.errors import TraceInputError
    from workbench.traces import load_traces

    spec = _load_specs(spec_args)
    overrides = _parse_params(spec, params)  # checked now, before reading any trace
    history = None
    if store:  # opened before the check: a bad path or URL fails fast
        from workbench.ui.history import RunRecorder

        history = RunRecorder(store, spec_args, trace_args, fail_on, backend)

    if max_shard_spans is not None and not (cluster or workers):
        raise UsageError("otlspec check: --max-shard-spans needs --cluster or --workers")
    if cluster or workers:
        from workbench.distributed.cli import run as run_distributed

        result, shard_diagnostics = run_distributed(
            spec, trace_args, overrides, cluster=cluster, workers=workers, backend=backend,
            properties=properties, max_bytes=max_bytes,
            show_progress=progress and Console(stderr=True).is_terminal, verdicts=verdicts,
            max_shard_spans=max_shard_spans)
        if history:
            history.record(result, shard_diagnostics)
        return _report(result, fmt, spec_args, trace_args, shard_diagnostics, fail_on, verdicts,
                       top, output)
    if backend != "reference":  # numba, the compiled readers, kernels loading beside the traces
        from workbench.engine import prefetch

        prefetch.warm_up(spec, overrides, backend=backend, inputs=trace_args,
                         properties=properties)
    try:
        table = load_traces(list(trace_args), max_bytes=max_bytes, jobs=jobs)
    except TraceInputError as err:
        for d in err.diagnostics:
            print(str(d), file=sys.stderr)
        print("otlspec: no trace could be read from the input", file=sys.stderr)
        return EXIT_ERROR
    diagnostics: list[Diagnostic] = list(table.diagnostics)
    if explain_types:
        from workbench.engine.value_types import explain_types as value_type_warnings

        for warning in value_type_warnings(spec, table):
            print(str(warning), file=sys.stderr)
    err_console = Console(stderr=True)
    # A transient bar on stderr: long runs, and the first run that compiles the kernels.
    show_progress = progress and err_console.is_terminal
    with contextlib.ExitStack() as stack:
        tick = None
        if show_progress:
            from rich.progress import Progress

            bar = stack.enter_context(Progress(console=err_console, transient=True))
            task = bar.add_task("checking", total=len(spec.properties))

            def tick(name: str) -> None:
                bar.update(task, advance=1, description=f"checking {name}")

        # the engine binds the overrides (interval bounds too) and reports the typed values
        result = check(
            spec, table, overrides, backend=backend, properties=properties, progress=tick
        )
    if history:
        history.record(result, diagnostics)
    return _report(result, fmt, spec_args, trace_args, diagnostics, fail_on, verdicts, top,
                   output)


def _report(result: Any, fmt: str, spec_args: Sequence[str], trace_args: Sequence[str],
            diagnostics: list[Diagnostic], fail_on: str, verdicts: str, top: int,
            output: str | None) -> int:
    """Write the report (streamed); returns the exit code."""
    from rich.console import Console

    from workbench.report import write_report

    options: dict[str, Any] = dict(
        spec_files=list(spec_args), trace_inputs=list(trace_args), diagnostics=diagnostics,
        fail_on=fail_on, verdicts=verdicts, top=top,
        color=output is None and Console().is_terminal,
    )
    # the report is encoded as it is written (streamed), never held whole as text
    with contextlib.ExitStack() as stack:
        sink: IO[bytes]
        if output:
            sink = stack.enter_context(open(output, "wb"))
        else:
            sys.stdout.flush()
            sink = getattr(sys.stdout, "buffer", None) or stack.enter_context(_TextSink())
        report = write_report(result, fmt, sink, **options)
        sink.flush()
    if output and fmt != "text":
        print(f"wrote {fmt} report to {output}", file=sys.stderr)  # never wrapped
    if report["summary"]["input_errors"]:
        return EXIT_ERROR
    return EXIT_VIOLATIONS if report["summary"]["failing_at_or_above_fail_on"] else EXIT_OK


# ----------------------------------------------------------------------------- commands


def cmd_check(args: argparse.Namespace) -> int:
    specs = [a for a in args.inputs if _is_spec(a)]
    traces = [a for a in args.inputs if not _is_spec(a)]
    if not specs:
        raise UsageError("otlspec check: no spec given (a *.otlspec file or 'stdlib' comes first)")
    if not traces:
        raise UsageError("otlspec check: no trace input given (files, directories, globs or '-')")
    return run_check(
        specs,
        traces,
        fmt=args.format,
        output=args.output,
        params=args.param,
        fail_on=args.fail_on,
        backend=args.backend,
        properties=args.property,
        verdicts=args.verdicts,
        top=args.top,
        max_bytes=args.max_bytes,
        progress=not args.no_progress,
        cluster=args.cluster,
        workers=args.workers,
        max_shard_spans=args.max_shard_spans,
        explain_types=args.explain_types,
        store=args.store,
        jobs=_jobs(args.jobs),
    )


def _jobs(jobs: int | None) -> int:
    """``--jobs`` (or ``$OTLSPEC_JOBS``) as a thread count; a bad value is a usage error."""
    from workbench.traces.jobs import resolve_jobs

    try:
        return resolve_jobs(jobs)
    except ValueError as err:
        raise UsageError(f"otlspec: {err}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    root = repo_root()
    if root is None:
        raise UsageError(
            "otlspec demo needs the bundled datasets: run it from a source checkout "
            "(pip install -e .) so that datasets/real/ is present"
        )
    data = root / "datasets" / "real"
    files = _demo_traces(data)
    print(
        f"otlspec demo: the standard library against {len(files)} real trace files in {data}.\n"
        "The demo data contains known violations (real telemetry breaks conventions), so "
        "FAIL lines below are expected; the demo exits 0 when it ran.",
        file=sys.stderr,
    )
    code = run_check(["stdlib"], files, fmt=args.format, output=args.output, top=15)
    # Real telemetry violates conventions; the demo succeeded if it ran.
    if code == EXIT_VIOLATIONS:
        print("otlspec demo: done; the violations above are the known ones", file=sys.stderr)
    return EXIT_OK if code in (EXIT_OK, EXIT_VIOLATIONS) else code


#: Bundled files that are not traces: provenance manifests and OTLP logs/metrics samples.
_NOT_TRACES = ("*.manifest.json", "*.md", "logs.json", "metrics.json")


def _demo_traces(data: Path) -> list[str]:
    """The trace files under ``data``, without its manifests and non-trace samples."""
    return [
        str(f)
        for f in sorted(data.rglob("*"))
        if f.is_file() and not any(f.match(pattern) for pattern in _NOT_TRACES)
    ]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
