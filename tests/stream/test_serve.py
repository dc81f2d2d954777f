"""The stream monitor inside the serve pipeline: the same stored verdicts, messages and witnesses
as the batch path, with out-of-order pieces and late spans; the work it does is incremental."""

from __future__ import annotations

import random
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.serve.conftest import make_config
from workbench.serve.decode import invalid_reason, split_request
from workbench.serve.replay import assemble, explode
from workbench.serve.server import Server, create_server


@pytest.fixture(scope="module")
def stdlib_spec() -> Any:
    from workbench.lang import load_specs

    return load_specs(["stdlib"])


def _generated(n_traces: int, seed: int) -> list[tuple[Any, ...]]:
    from workbench.datasets.faults import inject, parse_faults
    from workbench.datasets.generator import generate
    from workbench.datasets.writer import otlp_proto

    ds = generate(traces=n_traces, seed=seed, services=5)
    inject(ds, parse_faults("all", n_traces, rate=0.5), seed=seed)
    req = ExportTraceServiceRequest.FromString(otlp_proto(ds, ds.traces))
    return [t for t in explode(req) if not invalid_reason(t[2])]


def _rowless(witnesses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Witnesses without span rows: a row numbers a span in whichever table its trace was
    decoded into together with others (the batch path decodes a batch of traces at once)."""
    return [{**w, "bindings": {k: {f: x for f, x in b.items() if f != "row"}
                               for k, b in w["bindings"].items()}} for w in witnesses]


def _run(spec: Any, spans: list[tuple[Any, ...]], incremental: bool, seed: int,
         late: int) -> tuple[dict[tuple[str, str], Any], Server]:
    """Offer the spans in shuffled chunks to a pipeline (no network); the last ``late`` chunks
    arrive after every trace completed."""
    server = create_server(make_config(grpc_port=None, http_port=None, api_port=None,
                                       idle=30.0, incremental=incremental), spec)
    server.pipeline.start()
    rng = random.Random(seed)
    spans = list(spans)
    rng.shuffle(spans)
    chunks = [spans[i:i + 7] for i in range(0, len(spans), 7)]
    try:
        for k, chunk in enumerate(chunks):
            if k == len(chunks) - late:
                assert server.pipeline.flush(60)
            server.pipeline.offer(split_request(assemble(chunk)))
        assert server.pipeline.flush(60)
        got = {(v["trace_id"], v["property"]): (v["holds"], v["message"],
                                                _rowless(v["witnesses"]), v["revision"])
               for v in server.store.verdicts(limit=1_000_000)}
    finally:
        server.pipeline.stop()
    return got, server


def test_incremental_store_equals_batch_store(stdlib_spec: Any) -> None:
    spans = _generated(12, seed=5)
    batch, _ = _run(stdlib_spec, spans, incremental=False, seed=1, late=3)
    stream, server = _run(stdlib_spec, spans, incremental=True, seed=1, late=3)
    assert stream == batch
    assert sum(not v[0] for v in stream.values()) >= 5  # violations were found and explained
    assert max(v[3] for v in stream.values()) >= 2  # late spans revised stored verdicts
    feed = server.pipeline.feed
    assert feed.disagreements == 0
    assert feed.monitor.stats.bindings > 0
    assert feed.resyncs == 0  # every piece was followed incrementally
    assert server.metrics.fast.n > 0


@pytest.mark.slow
def test_incremental_store_equals_batch_store_more_seeds(stdlib_spec: Any) -> None:
    for seed in (2, 3):
        spans = _generated(20, seed=seed)
        batch, _ = _run(stdlib_spec, spans, incremental=False, seed=seed, late=4)
        stream, _ = _run(stdlib_spec, spans, incremental=True, seed=seed, late=4)
        assert stream == batch, seed

