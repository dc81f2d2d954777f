"""``otlspec report`` and ``otlspec ui``: the command-line face of :mod:`workbench.ui`."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR = 0, 2


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``report`` and ``ui`` to ``sub``; returns ``{command: handler}``."""
    r = sub.add_parser(
        "report",
        help="render a JSON report as a self-contained HTML page (and PDF)",
        description="Render RESULTS.json (from otlspec check --format json) as one HTML file "
        "that works offline. With the trace files, failing traces get a waterfall with their "
        "violating spans highlighted.",
    )
    r.add_argument("results", metavar="RESULTS.json", help="a JSON report of otlspec check")
    r.add_argument("traces", nargs="*", metavar="TRACES",
                   help="the checked trace files (optional; for waterfalls)")
    r.add_argument("--output", "-o", metavar="FILE", default="report.html",
                   help="the HTML file to write (default report.html)")
    r.add_argument("--pdf", nargs="?", const="", default=None, metavar="FILE",
                   help="also print a PDF with headless Chromium (default: the HTML name "
                   "with .pdf)")
    r.add_argument("--title", default="otlspec report", help="the page title")

    u = sub.add_parser(
        "ui",
        help="open the trace explorer over a batch run or a results store",
        description="Serve the explorer (dashboard, traces with waterfalls, reports, specs) "
        "over RESULTS.json and its TRACES, or over the store of otlspec serve (--store), with "
        "live updates.",
    )
    u.add_argument("results", nargs="?", metavar="RESULTS.json",
                   help="a JSON report of otlspec check (or give --store)")
    u.add_argument("traces", nargs="*", metavar="TRACES", help="the checked trace files")
    u.add_argument("--store", metavar="PATH_OR_URL", default=None,
                   help="the results store of otlspec serve instead of RESULTS.json")
    u.add_argument("--spec", nargs="+", default=None, metavar="SPEC",
                   help="specs shown on the Specs page (default: stdlib with --store)")
    u.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; others need --token)")
    u.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    u.add_argument("--token", default=None,
                   help="token every request must carry (default $OTLSPEC_TOKEN)")
    return {"report": cmd_report, "ui": cmd_ui}


def _table(traces: Sequence[str]) -> Any:
    if not traces:
        return None
    from workbench.traces import load_traces

    table = load_traces(list(traces))
    for d in table.diagnostics:
        if d.severity == "error":
            print(str(d), file=sys.stderr)
    return table


def cmd_report(args: argparse.Namespace) -> int:
    from workbench.ui.render import html_to_pdf, load_report, render_report

    report = load_report(args.results)
    page = render_report(report, _table(args.traces), title=args.title)
    out = Path(args.output)
    out.write_text(page, encoding="utf-8")
    print(f"wrote HTML report to {out}", file=sys.stderr)
    if args.pdf is not None:
        pdf = Path(args.pdf) if args.pdf else out.with_suffix(".pdf")
        html_to_pdf(out, pdf)
        print(f"wrote PDF report to {pdf}", file=sys.stderr)
    return EXIT_OK


def cmd_ui(args: argparse.Namespace) -> int:
    from workbench.ui.server import UiConfig, start_ui
    from workbench.ui.sources import BatchSource, Source, StoreSource

    spec = None
    if args.spec or args.store:
        from workbench.lang import load_specs

        spec = load_specs(list(args.spec or ["stdlib"]))
    source: Source
    store = None
    if args.store:
        if args.results:
            print("otlspec ui: give RESULTS.json or --store, not both", file=sys.stderr)
            return EXIT_ERROR
        from workbench.serve.store import StoreError, open_store

        try:
            store = open_store(args.store)
        except StoreError as err:
            print(f"otlspec ui: {err}", file=sys.stderr)
            return EXIT_ERROR
        source = StoreSource(store, spec)
    elif args.results:
        from workbench.ui.render import load_report

        source = BatchSource(load_report(args.results), _table(args.traces), spec,
                             name=str(args.results))
    else:
        print("otlspec ui: give RESULTS.json [TRACES...] or --store PATH", file=sys.stderr)
        return EXIT_ERROR
    server = start_ui(UiConfig(host=args.host, port=args.port, token=args.token), source)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    hint = "" if not server.config.token else " (open it once with ?token=TOKEN)"
    print(f"otlspec ui: serving {server.url}{hint}; Ctrl-C stops", file=sys.stderr, flush=True)
    while not stop.wait(0.5):
        pass
    server.stop()
    if store is not None:
        store.close()
    return EXIT_OK
