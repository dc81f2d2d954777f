"""Many traces completing at once are checked as one batch (one merged request, one engine
call, one store transaction) and stored exactly as the batch checker answers each of them."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.datasets.faults import inject, parse_faults
from workbench.datasets.generator import generate
from workbench.datasets.writer import otlp_proto
from workbench.engine import check
from workbench.serve.assembly import Assembler
from workbench.serve.config import ServeConfig
from workbench.serve.decode import invalid_reason, split_request
from workbench.serve.pipeline import Pipeline, batch_payload
from workbench.serve.replay import assemble, explode
from workbench.serve.store import open_store
from workbench.traces import otlp_proto as otlp_proto_reader
from workbench.traces.builder import TableBuilder


def _requests(n_traces: int, batch: int) -> list[ExportTraceServiceRequest]:
    ds = generate(traces=n_traces, seed=11, services=6)
    inject(ds, parse_faults("all", n_traces, rate=0.3), seed=11)
    spans = [t for t in explode(ExportTraceServiceRequest.FromString(otlp_proto(ds, ds.traces)))
             if not invalid_reason(t[2])]  # the ids OTLP rejects are answered, not stored
    return [assemble(spans[i:i + batch]) for i in range(0, len(spans), batch)]


def _table(payload: bytes):  # type: ignore[no-untyped-def]
    builder = TableBuilder()
    otlp_proto_reader.load(payload, "otlp", builder)
    return builder.build()


def test_many_traces_completing_at_once_get_the_batch_verdicts(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    requests = _requests(60, 97)
    store = open_store(":memory:")
    pipeline = Pipeline(ServeConfig(store=":memory:", idle=60.0, max_age=600.0), stdlib_spec,
                        store)
    pipeline.start()
    try:
        for request in requests:
            pipeline.offer(split_request(request))
        assert pipeline.flush(120)  # every trace completes now: a few large check batches
    finally:
        pipeline.stop()
    whole = ExportTraceServiceRequest()
    for request in requests:
        whole.MergeFrom(request)
    table = _table(whole.SerializeToString())
    want = check(stdlib_spec, table)
    assert table.n_traces > 50
    assert pipeline.metrics.traces_checked == table.n_traces
    violations = 0
    for t, trace_id in enumerate(table.trace_id_hex):
        stored = store.trace(trace_id)
        assert stored is not None and stored["state"] == "checked"
        got = {v["property"]: v["holds"] for v in stored["verdicts"]}
        assert got == {r.name: bool(r.holds[t]) for r in want.results}, trace_id
        violations += sum(not h for h in got.values())
        rows = table.trace_rows(t)
        roots = [r for r in rows if int(table.parent_id_len[r]) == 0]
        assert stored["root_name"] == (table.name_of(roots[0]) if roots else "")
        assert stored["services"] == ",".join(sorted({table.service_of(r) for r in rows} - {""}))
    assert violations  # the injected faults are found


def test_batch_payload_merges_groups_and_keeps_every_span() -> None:
    assembler = Assembler(idle=0.0)
    for request in _requests(30, 41):
        for piece in split_request(request).pieces:
            assembler.add(piece, 0.0)
    done = assembler.complete_all(1.0)
    merged = _table(batch_payload(done))
    joined = _table(b"".join(d.payload for d in done))
    assert merged.n_spans == joined.n_spans == sum(d.n_spans for d in done)
    assert sorted(merged.trace_id_hex) == sorted(joined.trace_id_hex)
    request = ExportTraceServiceRequest.FromString(batch_payload(done))
    keys = {(rs.resource.SerializeToString(deterministic=True),
             ss.scope.SerializeToString(deterministic=True))
            for rs in request.resource_spans for ss in rs.scope_spans}
    # one ResourceSpans per resource and scope, not one per trace and group
    assert len(request.resource_spans) == len(keys) < sum(len(d.groups) for d in done)


def test_the_checkers_backend_on_a_small_batch_equals_the_reference(stdlib_spec) -> None:  # type: ignore[no-untyped-def]
    """A batch of a few traces runs on the compiled backend (``auto`` would send it to the
    reference by cost); verdicts and witnesses are the oracle's."""
    from workbench.serve.pipeline import serving_backend

    backend = serving_backend("auto")
    assert serving_backend("reference") == "reference"
    table = _table(b"".join(r.SerializeToString() for r in _requests(4, 500)))
    got = check(stdlib_spec, table, backend=backend)
    want = check(stdlib_spec, table, backend="reference")
    assert table.n_traces >= 3
    for g, w in zip(got.results, want.results, strict=True):
        assert g.name == w.name and g.holds.tolist() == w.holds.tolist(), g.name
        assert {t: [x.message for x in ws] for t, ws in g.witnesses.items()} == \
            {t: [x.message for x in ws] for t, ws in w.witnesses.items()}, g.name
    if backend != "auto":
        assert any(r.backend == backend for r in got.results)
