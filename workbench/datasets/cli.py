"""``otlspec gen``, ``otlspec convert`` and ``otlspec eval``: the command-line face of
:mod:`workbench.datasets`.

:func:`register` adds the commands to an ``argparse`` sub-parser set and returns their
handlers. Exit codes: 0 done; 1 (``eval --min-recall``) a fault class was detected below the
asked recall; 2 usage and input errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import OtlspecError

EXIT_OK, EXIT_BELOW, EXIT_ERROR = 0, 1, 2


def register(subparsers: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``gen``, ``convert`` and ``eval`` to ``subparsers``; returns ``{command: handler}``."""
    g = subparsers.add_parser(
        "gen", help="generate realistic microservice traces, with labelled faults",
        description="Generate OTLP traces of a random microservice system (reproducible: the "
        "same options and seed give byte-identical files), inject faults and write their "
        "ground-truth labels. Writes OUT/traces/, OUT/labels.jsonl and OUT/manifest.json.")
    g.add_argument("--traces", "-n", type=int, default=100, help="number of traces")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", "-o", required=True, metavar="DIR")
    g.add_argument("--format", choices=("otlp-json", "otlp-proto"), default="otlp-json")
    g.add_argument("--services", type=int, default=10, help="services in the topology")
    g.add_argument("--depth", type=int, default=4, help="service layers below the frontend")
    g.add_argument("--no-messaging", action="store_true", help="no Kafka producers/consumers")
    g.add_argument("--error-scale", type=float, default=1.0,
                   help="multiply every operation's error rate (0: no errors)")
    g.add_argument("--faults", default="none", metavar="SPEC",
                   help="'none' (default), 'all', or CLASS[=COUNT],... (see docs/research.md)")
    g.add_argument("--fault-rate", type=float, default=0.2,
                   help="fraction of traces given a fault, for classes without a count")
    g.add_argument("--fault-seed", type=int, default=None, help="default: --seed")
    g.add_argument("--traces-per-file", type=int, default=1000)

    c = subparsers.add_parser(
        "convert", help="convert traces to Parquet for fast reloading",
        description="Load trace files (any supported format) and write them as a Parquet "
        "dataset partitioned by trace id hash; read it back with "
        "workbench.datasets.load_parquet.")
    c.add_argument("inputs", nargs="+", metavar="TRACES")
    c.add_argument("--out", "-o", required=True, metavar="DIR")
    c.add_argument("--partitions", type=int, default=16)
    from workbench.traces.jobs import add_jobs_option

    add_jobs_option(c)

    e = subparsers.add_parser(
        "eval", help="precision and recall of properties against labelled faults",
        description="Check SPECs against a labelled DATASET (written by otlspec gen) and "
        "report precision and recall per property and per fault class, with the false "
        "positives and false negatives.")
    e.add_argument("inputs", nargs="+", metavar="SPEC... DATASET")
    e.add_argument("--backend", default="auto")
    e.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE")
    e.add_argument("--format", "-f", choices=("text", "json"), default="text")
    e.add_argument("--output", "-o", metavar="FILE")
    e.add_argument("--fp-limit", type=int, default=30, help="false positives listed in text")
    e.add_argument("--min-recall", type=float, default=None,
                   help="exit 1 when a fault class with claiming properties is detected "
                   "below this recall")
    return {"gen": cmd_gen, "convert": cmd_convert, "eval": cmd_eval}


def _guard(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except (ValueError, FileNotFoundError) as err:
        print(f"otlspec: {err}", file=sys.stderr)
        return EXIT_ERROR


def cmd_gen(args: argparse.Namespace) -> int:
    """``otlspec gen``."""
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import write_dataset

    def run() -> int:
        if args.traces < 1:
            raise ValueError("--traces must be at least 1")
        faults = parse_faults(args.faults, args.traces, args.fault_rate)
        ds = generate(traces=args.traces, seed=args.seed, services=args.services,
                      depth=args.depth, messaging=not args.no_messaging,
                      error_scale=args.error_scale)
        made = inject(ds, faults, seed=args.seed if args.fault_seed is None
                      else args.fault_seed)
        manifest = write_dataset(ds, args.out, format=args.format,
                                 traces_per_file=args.traces_per_file, faults=faults)
        counts = manifest["counts"]
        print(f"wrote {counts['traces']} traces ({counts['spans']} spans) in "
              f"{len(manifest['files'])} file(s) to {Path(args.out) / 'traces'}; "
              f"{len(made)} fault(s) injected, labels in {Path(args.out) / 'labels.jsonl'}",
              file=sys.stderr)
        short = {k: (v, counts["faults"].get(k, 0)) for k, v in faults.items()
                 if counts["faults"].get(k, 0) < v}
        for cls, (want, got) in short.items():
            print(f"otlspec gen: only {got} of {want} {cls} faults fit these traces",
                  file=sys.stderr)
        return EXIT_OK

    return _guard(run)


def cmd_convert(args: argparse.Namespace) -> int:
    """``otlspec convert``."""
    from workbench.datasets.parquet import write_parquet
    from workbench.traces import load_traces

    def run() -> int:
        table = load_traces(list(args.inputs), jobs=args.jobs)
        for d in table.diagnostics:
            print(str(d), file=sys.stderr)
        meta = write_parquet(table, args.out, partitions=args.partitions)
        print(f"wrote {meta['spans']} spans of {meta['traces']} traces to {args.out} "
              f"({args.partitions} partitions)", file=sys.stderr)
        return EXIT_OK

    return _guard(run)


def _split(inputs: Sequence[str]) -> tuple[list[str], str]:
    from workbench.lang import is_spec_arg

    specs = [a for a in inputs if is_spec_arg(a)]
    rest = [a for a in inputs if a not in specs]
    if not specs:
        raise OtlspecError("otlspec eval: no spec given (a *.otlspec file or 'stdlib')")
    if len(rest) != 1:
        raise OtlspecError("otlspec eval: give exactly one DATASET directory after the specs")
    return specs, rest[0]


def cmd_eval(args: argparse.Namespace) -> int:
    """``otlspec eval``."""
    from workbench.datasets.evaluation import dump, evaluate_dataset
    from workbench.lang import bind_params, load_specs, param_overrides

    specs, dataset = _split(args.inputs)
    if not (Path(dataset) / "labels.jsonl").is_file():
        raise OtlspecError(f"otlspec eval: {dataset} has no labels.jsonl (write one with "
                           "otlspec gen)")
    spec = load_specs(specs)
    params: dict[str, Any] | None = None
    if args.param:
        overrides = {k.strip(): v.strip() for k, _, v in
                     (item.partition("=") for item in args.param)}
        params = param_overrides(spec, overrides)
        spec = bind_params(spec, overrides)
    evaluation, _ = evaluate_dataset(spec, dataset, backend=args.backend, params=params)
    text = dump(evaluation) if args.format == "json" else evaluation.to_text(args.fp_limit)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.min_recall is not None:
        low = [m.name for m in evaluation.classes
               if m.claims and m.recall is not None and m.recall < args.min_recall]
        if low:
            print(f"otlspec eval: recall below {args.min_recall} for {', '.join(low)}",
                  file=sys.stderr)
            return EXIT_BELOW
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one of the commands standalone (``python -m workbench.datasets.cli gen ...``)."""
    parser = argparse.ArgumentParser(prog="otlspec")
    handlers = register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except OtlspecError as err:
        print(str(err), file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["cmd_convert", "cmd_eval", "cmd_gen", "main", "register"]
