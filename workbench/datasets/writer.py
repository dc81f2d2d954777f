"""Write a generated :class:`~workbench.datasets.model.Dataset`: OTLP JSON or protobuf files,
the labels, a manifest; or build a :class:`~workbench.traces.model.SpanTable` directly.

Layout of a dataset directory::

    DIR/manifest.json        generator version, configuration, faults, counts, file hashes
    DIR/labels.jsonl         one record per (fault or behaviour, span); see labels.py
    DIR/traces/traces-00000.json | .pb   OTLP ExportTraceServiceRequest, N traces per file

Traces live in their own folder so that ``otlspec check stdlib DIR/traces`` reads nothing but
traces. The output is deterministic: dictionaries are built in a fixed order, JSON is written
compactly (msgspec, keys in insertion order), protobuf with deterministic serialization, and
the manifest holds no timestamps, so the same dataset is the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec

from workbench._version import __version__
from workbench.datasets.model import Dataset, GenSpan, GenTrace
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

FORMATS = ("otlp-json", "otlp-proto")
SUFFIX = {"otlp-json": ".json", "otlp-proto": ".pb"}


# ---------------------------------------------------------------------------- OTLP/JSON


def any_value(value: Any) -> dict[str, Any]:
    """An OTLP/JSON ``AnyValue`` (int64 as a decimal string, as proto3 JSON requires)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _kv(items: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": k, "value": any_value(v)} for k, v in items]


def span_json(s: GenSpan) -> dict[str, Any]:
    """One span as OTLP/JSON."""
    out: dict[str, Any] = {"traceId": s.trace_id, "spanId": s.span_id}
    if s.trace_state:
        out["traceState"] = s.trace_state
    if s.parent_id:
        out["parentSpanId"] = s.parent_id
    if s.flags:
        out["flags"] = s.flags
    out["name"] = s.name
    out["kind"] = s.kind
    out["startTimeUnixNano"] = str(s.start)
    if s.end is not None:
        out["endTimeUnixNano"] = str(s.end)
    if s.attributes:
        out["attributes"] = _kv(s.attributes.items())
    if s.events:
        out["events"] = [{"timeUnixNano": str(t), "name": n, **({"attributes": _kv(a.items())}
                                                                  if a else {})}
                         for n, t, a in s.events]
    if s.links:
        out["links"] = [{"traceId": t, "spanId": i, **({"attributes": _kv(a.items())}
                                                       if a else {})}
                        for t, i, a in s.links]
    status: dict[str, Any] = {}
    if s.status_message:
        status["message"] = s.status_message
    if s.status:
        status["code"] = s.status
    out["status"] = status
    return out


def _groups(ds: Dataset, traces: Sequence[GenTrace]) -> list[tuple[int, list[tuple[int,
                                                                        list[GenSpan]]]]]:
    """Spans grouped by resource, then scope, in order of first appearance."""
    by_res: dict[int, dict[int, list[GenSpan]]] = {}
    for trace in traces:
        for s in trace.spans:
            by_res.setdefault(s.resource, {}).setdefault(s.scope, []).append(s)
    return [(r, list(scopes.items())) for r, scopes in by_res.items()]


def otlp_json(ds: Dataset, traces: Sequence[GenTrace]) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` as OTLP/JSON.

    Parameters
    ----------
    ds
        The dataset (resources and scopes).
    traces
        The traces to put in the request.

    Returns
    -------
    dict
        Spans grouped by resource, then scope, in order of first appearance.
    """
    out = []
    for res, scopes in _groups(ds, traces):
        out.append({
            "resource": {"attributes": _kv(ds.resources[res])},
            "scopeSpans": [{"scope": {"name": ds.scopes[sc][0], "version": ds.scopes[sc][1]},
                            "spans": [span_json(s) for s in spans]} for sc, spans in scopes],
        })
    return {"resourceSpans": out}


# ---------------------------------------------------------------------------- protobuf


def _pb_value(target: Any, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, list | tuple):
        for v in value:
            _pb_value(target.array_value.values.add(), v)
    else:
        target.string_value = str(value)


def _pb_attrs(target: Any, items: Iterable[tuple[str, Any]]) -> None:
    for k, v in items:
        kv = target.add()
        kv.key = k
        _pb_value(kv.value, v)


def otlp_proto(ds: Dataset, traces: Sequence[GenTrace]) -> bytes:
    """An ``ExportTraceServiceRequest`` as protobuf, serialized deterministically.

    Parameters
    ----------
    ds
        The dataset (resources and scopes).
    traces
        The traces to put in the request. Ids are written as their bytes, so they must be
        even-length hex (the fault injectors only produce such ids).

    Returns
    -------
    bytes
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    for res, scopes in _groups(ds, traces):
        rs = req.resource_spans.add()
        _pb_attrs(rs.resource.attributes, ds.resources[res])
        for sc, spans in scopes:
            ss = rs.scope_spans.add()
            ss.scope.name, ss.scope.version = ds.scopes[sc]
            for s in spans:
                p = ss.spans.add()
                p.trace_id = bytes.fromhex(s.trace_id)
                p.span_id = bytes.fromhex(s.span_id)
                if s.parent_id:
                    p.parent_span_id = bytes.fromhex(s.parent_id)
                if s.trace_state:
                    p.trace_state = s.trace_state
                p.flags = s.flags
                p.name = s.name
                p.kind = s.kind
                p.start_time_unix_nano = s.start
                if s.end is not None:
                    p.end_time_unix_nano = s.end
                _pb_attrs(p.attributes, s.attributes.items())
                for name, t, attrs in s.events:
                    e = p.events.add()
                    e.time_unix_nano, e.name = t, name
                    _pb_attrs(e.attributes, attrs.items())
                for tid, sid, attrs in s.links:
                    lk = p.links.add()
                    lk.trace_id, lk.span_id = bytes.fromhex(tid), bytes.fromhex(sid)
                    _pb_attrs(lk.attributes, attrs.items())
                if s.status_message:
                    p.status.message = s.status_message
                p.status.code = s.status
    return req.SerializeToString(deterministic=True)


# ---------------------------------------------------------------------------- table


def to_table(ds: Dataset, source: str = "generated") -> SpanTable:
    """The dataset as a span table, without writing files.

    Parameters
    ----------
    ds
        The dataset.
    source
        The ``source`` column's value.

    Returns
    -------
    SpanTable
        Equal, column by column except ``source``, to loading the files of a write with all
        traces in one file (spans are added in the same resource-grouped order).
    """
    b = TableBuilder()
    for res, scopes in _groups(ds, ds.traces):
        index = b.add_resource(ds.resources[res])
        for s in (s for _, spans in scopes for s in spans):
            b.add_span(trace_id=s.trace_id, span_id=s.span_id, parent_id=s.parent_id,
                       name=s.name, kind=s.kind, status=s.status,
                       status_message=s.status_message, start=s.start, end=s.end,
                       flags=s.flags, trace_state=s.trace_state, resource=index,
                       scope=ds.scopes[s.scope][0], source=source,
                       attributes=list(s.attributes.items()),
                       events=[(n, t, list(a.items())) for n, t, a in s.events],
                       links=[(t, i, list(a.items())) for t, i, a in s.links])
    return b.build()


# ---------------------------------------------------------------------------- files


def write_dataset(ds: Dataset, out: str | Path, *, format: str = "otlp-json",
                  traces_per_file: int = 1000, faults: dict[str, Any] | None = None,
                  ) -> dict[str, Any]:
    """Write ``ds`` under ``out`` (see the module docstring); returns the manifest.

    Parameters
    ----------
    ds
        The dataset (faults already injected).
    out
        The dataset directory; created if needed. Existing trace files of a previous run
        with other counts are removed, so the folder holds exactly this dataset.
    format
        ``"otlp-json"`` or ``"otlp-proto"``.
    traces_per_file
        Traces per file (a file is one export request).
    faults
        The fault request, recorded in the manifest.

    Returns
    -------
    dict
        The manifest, also written to ``out/manifest.json``.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    root = Path(out)
    folder = root / "traces"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("traces-*"):
        old.unlink()
    files = []
    step = max(1, traces_per_file)
    for k in range(0, len(ds.traces), step):
        chunk = ds.traces[k:k + step]
        path = folder / f"traces-{k // step:05d}{SUFFIX[format]}"
        if format == "otlp-json":
            data = msgspec.json.encode(otlp_json(ds, chunk))
        else:
            data = otlp_proto(ds, chunk)
        path.write_bytes(data)
        files.append({"path": f"traces/{path.name}", "traces": len(chunk),
                      "spans": sum(len(t.spans) for t in chunk),
                      "sha256": hashlib.sha256(data).hexdigest()})
    labels = ds.label_records()
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in labels)
    (root / "labels.jsonl").write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for a in ds.faults():
        counts[a.name] = counts.get(a.name, 0) + 1
    behaviours: dict[str, int] = {}
    for a in ds.annotations:
        if a.kind == "behaviour":
            behaviours[a.name] = behaviours.get(a.name, 0) + 1
    manifest = {
        "generator": "otlspec gen",
        "otlspec_version": __version__,
        "format": format,
        "config": ds.config,
        "faults_requested": faults or {},
        "counts": {"traces": len(ds.traces), "spans": ds.n_spans,
                   "faults": dict(sorted(counts.items())),
                   "behaviours": dict(sorted(behaviours.items()))},
        "labels": {"path": "labels.jsonl", "records": len(labels),
                   "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
        "files": files,
        "topology": ds.topology,
    }
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                        encoding="utf-8")
    return manifest
