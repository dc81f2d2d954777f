"""``otlspec check --cluster/--workers``: the options and the distributed check step."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any

from workbench.errors import Diagnostic


def add_options(c: argparse.ArgumentParser) -> None:
    """Add ``--cluster`` and ``--workers`` to the ``check`` parser."""
    g = c.add_mutually_exclusive_group()
    g.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="run on the Dask scheduler at ADDRESS, e.g. tcp://scheduler:8786")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run on a local Dask cluster of N worker processes")


def run(
    spec: Any,
    trace_args: Sequence[str],
    overrides: dict[str, str],
    *,
    cluster: str | None,
    workers: int | None,
    backend: str,
    properties: Sequence[str] | None,
    max_bytes: int | None,
    show_progress: bool,
) -> tuple[Any, list[Diagnostic]]:
    """Check on the cluster, with a progress bar over shards and the dashboard link on
    stderr; returns what the single-process path gives to the report."""
    from rich.console import Console

    from workbench.distributed import check_distributed, connect, dashboard_link

    err = Console(stderr=True)
    with connect(cluster, workers) as client, contextlib.ExitStack() as stack:
        link = dashboard_link(client)
        where = cluster or f"local cluster of {workers} worker(s)"
        print(f"otlspec: checking on {where}" + (f", dashboard {link}" if link else ""),
              file=sys.stderr)
        tick = None
        if show_progress:
            from rich.progress import Progress

            bar = stack.enter_context(Progress(console=err, transient=True))
            task = bar.add_task("checking shards", total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total,
                           description=f"checking shards {done}/{total}")

        return check_distributed(client, spec, list(trace_args), overrides, backend=backend,
                                 properties=properties, max_bytes=max_bytes, progress=tick)
