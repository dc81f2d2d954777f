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

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from workbench._version import __version__
from workbench.datasets.model import Dataset, GenSpan, GenTrace
from workbench.traces import otlp_write, records
from workbench.traces.model import SpanTable

FORMATS = ("otlp-json", "otlp-proto")
SUFFIX = {"otlp-json": ".json", "otlp-proto": ".pb"}


# ---------------------------------------------------------------------------- requests


def _spans(traces: Sequence[GenTrace]) -> Iterator[GenSpan]:
    for trace in traces:
        yield from trace.spans


def otlp_json(ds: Dataset, traces: Sequence[GenTrace]) -> dict[str, Any]:
    """An ``ExportTraceServiceRequest`` as OTLP/JSON.

    Parameters
    ----------
    ds
        The dataset (kept for the signature: spans carry their resource and scope).
    traces
        The traces to put in the request.

    Returns
    -------
    dict
        Spans grouped by resource, then scope, in order of first appearance
        (:func:`workbench.traces.otlp_write.otlp_json` with ``regroup=True``).
    """
    del ds
    return otlp_write.otlp_json(_spans(traces), regroup=True)


def otlp_proto(ds: Dataset, traces: Sequence[GenTrace]) -> bytes:
    """An ``ExportTraceServiceRequest`` as protobuf, serialized deterministically.

    Parameters
    ----------
    ds
        The dataset (kept for the signature).
    traces
        The traces to put in the request. Ids are written as their bytes, so they must be
        even-length hex (the fault injectors only produce such ids).

    Returns
    -------
    bytes
    """
    del ds
    return otlp_write.otlp_proto(_spans(traces), regroup=True)


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
    return records.to_table(_spans(ds.traces), source, regroup=True)


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
