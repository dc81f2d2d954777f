"""Counters and histograms of the server, written out in the Prometheus text format.

Every metric is named ``otlspec_*`` with a unit suffix, as Prometheus' naming guide asks.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from typing import Any

#: Latency buckets, in seconds.
BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Histogram:
    """A cumulative histogram that also keeps the raw samples' quantiles (bounded reservoir)."""

    def __init__(self, keep: int = 100_000) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.n = 0
        self.samples: list[float] = []
        self.keep = keep

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, value)] += 1
        self.total += value
        self.n += 1
        if len(self.samples) < self.keep:
            self.samples.append(value)

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the kept samples (0.0 when empty)."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Metrics:
    """The server's counters; thread-safe. ``gauges`` are read when the text is written."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans_received = 0
        self.spans_accepted = 0
        self.spans_rejected = 0
        self.requests: dict[tuple[str, str], int] = {}  # (transport, outcome) -> count
        self.dropped: dict[str, int] = {}  # reason -> spans
        self.refused: dict[str, int] = {}  # reason -> requests answered "retry later"
        self.traces_checked = 0
        self.revisions = 0
        self.violations: dict[tuple[str, str], int] = {}  # (property, severity) -> count
        self.alerts: dict[str, int] = {}  # outcome -> count
        self.deep = Histogram()
        self.fast = Histogram()
        self.gauges: dict[str, Callable[[], float]] = {}

    def inc(self, table: dict[Any, int], key: object, n: int = 1) -> None:
        with self.lock:
            table[key] = table.get(key, 0) + n

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def observe_fast(self, seconds: float) -> None:
        with self.lock:
            self.fast.observe(seconds)

    def observe_deep(self, seconds: float) -> None:
        with self.lock:
            self.deep.observe(seconds)

    def text(self) -> str:
        """The Prometheus exposition text."""
        out: list[str] = []

        def metric(name: str, kind: str, help: str, samples: list[tuple[str, float]]) -> None:
            out.append(f"# HELP {name} {help}")
            out.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                out.append(f"{name}{labels} {value:g}")

        def lab(**kv: str) -> str:
            inner = ",".join(f'{k}="{_escape(v)}"' for k, v in kv.items())
            return "{" + inner + "}"

        with self.lock:
            metric("otlspec_spans_received_total", "counter", "Spans received.",
                   [("", self.spans_received)])
            metric("otlspec_spans_accepted_total", "counter", "Spans accepted for checking.",
                   [("", self.spans_accepted)])
            metric("otlspec_spans_rejected_total", "counter",
                   "Spans rejected as invalid (reported as partial success).",
                   [("", self.spans_rejected)])
            metric("otlspec_requests_total", "counter", "Export requests by outcome.",
                   [(lab(transport=t, outcome=o), n)
                    for (t, o), n in sorted(self.requests.items())])
            metric("otlspec_dropped_spans_total", "counter", "Accepted spans dropped, by reason.",
                   [(lab(reason=r), n) for r, n in sorted(self.dropped.items())])
            metric("otlspec_refused_requests_total", "counter",
                   "Requests answered with a retryable overload code, by reason.",
                   [(lab(reason=r), n) for r, n in sorted(self.refused.items())])
            metric("otlspec_traces_checked_total", "counter", "Trace checks (revisions included).",
                   [("", self.traces_checked)])
            metric("otlspec_trace_revisions_total", "counter",
                   "Checks of a trace reopened by late spans.", [("", self.revisions)])
            metric("otlspec_violations_total", "counter", "Violated verdicts by property.",
                   [(lab(property=p, severity=s), n)
                    for (p, s), n in sorted(self.violations.items())])
            metric("otlspec_alerts_total", "counter", "Alerts by outcome.",
                   [(lab(outcome=o), n) for o, n in sorted(self.alerts.items())])
            for name, help, hist in (
                ("otlspec_fast_path_latency_seconds",
                 "Export request received -> its spans' verdicts updated (stream monitor).",
                 self.fast),
                ("otlspec_deep_path_latency_seconds", "Trace complete -> verdict stored.",
                 self.deep),
            ):
                out.append(f"# HELP {name} {help}")
                out.append(f"# TYPE {name} histogram")
                acc = 0
                for bound, count in zip((*BUCKETS, float("inf")), hist.counts, strict=True):
                    acc += count
                    le = "+Inf" if bound == float("inf") else f"{bound:g}"
                    out.append(f'{name}_bucket{{le="{le}"}} {acc}')
                out.append(f"{name}_sum {hist.total:g}")
                out.append(f"{name}_count {hist.n}")
            gauges = dict(self.gauges)
        for gname, read in sorted(gauges.items()):
            metric(gname, "gauge", gname.removeprefix("otlspec_").replace("_", " ") + ".",
                   [("", float(read()))])
        return "\n".join(out) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
