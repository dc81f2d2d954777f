"""Under an offered load the checker cannot keep up with, ``--max-memory`` holds: requests are
refused as retryable (and counted) while the spans held stay bounded, nothing accepted is
dropped, and admission resumes once the checker catches up, even when the completed traces
kept for late spans alone would fill the limit (they are shed, not held for good)."""

from __future__ import annotations

import threading
import time

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.datasets.generator import generate
from workbench.datasets.writer import otlp_proto
from workbench.serve.assembly import Assembler
from workbench.serve.config import ServeConfig
from workbench.serve.decode import Piece, invalid_reason
from workbench.serve.pipeline import Overloaded, Pipeline
from workbench.serve.replay import assemble, explode
from workbench.serve.store import open_store
from workbench.serve.wire import split_wire


def _requests(n_traces: int, batch: int) -> list[bytes]:
    ds = generate(traces=n_traces, seed=7, services=6)
    spans = [t for t in explode(ExportTraceServiceRequest.FromString(otlp_proto(ds, ds.traces)))
             if not invalid_reason(t[2])]
    return [assemble(spans[i:i + batch]).SerializeToString()
            for i in range(0, len(spans), batch)]


def test_shed_forgets_retained_traces_only() -> None:
    a = Assembler(idle=0.0)
    for n, tid in enumerate((b"\x01" * 16, b"\x02" * 16, b"\x03" * 16)):
        piece = Piece(tid, {(b"", "", b"", ""): [bytes([n + 1]) * 100]}, 1, 1, 100)
        a.add(piece, 0.0)
    a._complete(b"\x01" * 16, 1.0, "idle")
    a._complete(b"\x02" * 16, 1.0, "idle")
    assert a.held_bytes == 300
    assert a.shed(150) == 2 and a.held_bytes == 100  # the open trace stays
    assert a.shed(0) == 0 and a.n_open == 1


@pytest.mark.slow
def test_overload_is_refused_bounded_and_lossless(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    requests = _requests(300, 256)
    limit = 1 << 20  # far less than the ~6 MB offered
    config = ServeConfig(store=":memory:", idle=0.05, max_age=30.0, max_memory_bytes=limit)
    pipeline = Pipeline(config, stdlib_spec, open_store(":memory:"))
    pipeline.start()
    held: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.01):
            held.append(pipeline.held_bytes())

    sampler = threading.Thread(target=sample)
    sampler.start()
    refused = 0
    try:
        for data in requests:
            decoded = split_wire(data)
            assert decoded is not None
            deadline = time.monotonic() + 60
            while True:  # an exporter: retry after the back-off until admitted
                try:
                    pipeline.offer(decoded)
                    break
                except Overloaded as exc:
                    assert exc.reason == "memory_limit" and exc.retry_after >= 1
                    refused += 1
                    assert time.monotonic() < deadline, "refused for good"
                    time.sleep(0.02)
        assert pipeline.flush(120)
    finally:
        stop.set()
        sampler.join()
        pipeline.stop()
    m = pipeline.metrics
    assert refused and m.refused == {"memory_limit": refused}
    assert m.dropped == {}
    assert m.spans_accepted == sum(split_wire(d).n_spans for d in requests)  # type: ignore[union-attr]
    # every trace checked and stored (some twice: a trace cut across requests completes at
    # --idle and is revised when its last spans arrive)
    assert pipeline.store.stats()["traces"] == {"checked": 300} and m.traces_checked >= 300
    # admitted up to the limit; completing a trace copies its spans into the payload the
    # checker reads (2x), and a revision of a trace still waiting for the checker holds one
    # more copy: the bound is 3x the limit (plus one request)
    assert max(held) <= 3 * limit + max(len(d) for d in requests)
