"""``otlspec check --cluster/--workers``: the options and the distributed check step."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from typing import Any

from workbench.errors import Diagnostic


def add_options(c: argparse.ArgumentParser) -> None:
    """Add ``--cluster``, ``--workers`` and ``--max-shard-spans`` to the ``check`` parser."""
    g = c.add_mutually_exclusive_group()
    g.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="run on the Dask scheduler at ADDRESS, e.g. tcp://scheduler:8786")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run on a local Dask cluster of N worker processes")
    c.add_argument("--max-shard-spans", type=_positive, default=None, metavar="N",
                   help="with --cluster/--workers: at most about N spans per shard (one engine "
                   "call; bounds a worker's memory, ~2 KB per span). Default 1,000,000")


def _positive(text: str) -> int:
    try:
        n = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of spans, not {text!r}")
    return n


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
    verdicts: str = "failed",
    max_shard_spans: int | None = None,
) -> tuple[Any, list[Diagnostic]]:
    """Check on the cluster, with a progress bar over shards and the dashboard link on
    stderr; returns what the single-process path gives to the report.

    ``verdicts`` is the report's (``"all"``: every trace travels to the driver; else only
    the failing ones and counts); ``max_shard_spans`` (default
    :data:`~workbench.distributed.runner.MAX_SHARD_SPANS`) bounds the spans of a shard."""
    from rich.console import Console

    import workbench.distributed as dist
    from workbench.distributed.runner import MAX_SHARD_SPANS

    err = Console(stderr=True)
    with dist.connect(cluster, workers) as client, contextlib.ExitStack() as stack:
        link = dist.dashboard_link(client)
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

        return dist.check_distributed(
            client, spec, list(trace_args), overrides, backend=backend, properties=properties,
            max_bytes=max_bytes, progress=tick, verdicts=verdicts,
            max_shard_spans=max_shard_spans or MAX_SHARD_SPANS)
