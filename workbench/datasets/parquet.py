"""Parquet storage of span tables: convert once, reload fast (``otlspec convert``).

:func:`write_parquet` stores a :class:`~workbench.traces.model.SpanTable` as a Hive-partitioned
Parquet dataset, one row per span, partitioned by a hash of the trace id (``part=NN/``), so a
trace never straddles partitions and a subset of partitions is a subset of whole traces.
:func:`load_parquet` reads it back into a table equal to the original column by column (string
columns compare by text: the dictionary codes may differ), without decoding any trace format.

Layout::

    DIR/meta.json                 version, counts, partitions, diagnostics
    DIR/resources.parquet         resource index -> attributes
    DIR/spans/part=NN/*.parquet   the spans

Span columns: ``row`` (the row in the original table, which fixes the order), ids (text and
decoded value/length), the scalar fields, ``attrs`` as ``list<struct<key, type, ival, fval,
sval>>`` (the table's own typed encoding, so values round-trip exactly), and ``events`` and
``links`` as lists of structs with nested attribute lists.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workbench.errors import Diagnostic
from workbench.traces.model import AttrColumns, SpanTable, StringTable

FORMAT_VERSION = 1
_HEX = frozenset("0123456789abcdef")


def _pa() -> Any:
    try:
        import pyarrow
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError("Parquet support needs pyarrow: pip install 'otlspec[notebooks]'"
                          ) from err
    return pyarrow


def partition_of(trace_id: str, partitions: int) -> int:
    """The partition of a trace (stable across processes and machines).

    Parameters
    ----------
    trace_id
        The trace id as the table writes it (lowercase hex).
    partitions
        Number of partitions.

    Returns
    -------
    int
        CRC-32 of the id modulo ``partitions``.
    """
    return zlib.crc32(trace_id.encode("utf-8")) % partitions


# ----------------------------------------------------------------------------- writing


def _attr_type(pa: Any) -> Any:
    return pa.list_(pa.struct([("key", pa.string()), ("type", pa.int8()), ("ival", pa.int64()),
                               ("fval", pa.float64()), ("sval", pa.string())]))


def _attr_lists(pa: Any, cols: AttrColumns, strings: StringTable, owners: np.ndarray) -> Any:
    """A ``list<struct>`` array with the attributes of ``owners`` (in that order)."""
    counts = np.diff(cols.offsets)[owners] if owners.shape[0] else np.zeros(0, np.int64)
    offsets = np.zeros(owners.shape[0] + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    if owners.shape[0] and int(offsets[-1]):
        starts = cols.offsets[:-1][owners]
        gather = np.repeat(starts - offsets[:-1], counts) + np.arange(int(offsets[-1]))
    else:
        gather = np.zeros(0, dtype=np.int64)
    text = np.asarray(strings.strings, dtype=object)
    values = pa.StructArray.from_arrays(
        [pa.array(text[cols.key[gather]], pa.string()), pa.array(cols.type[gather]),
         pa.array(cols.ival[gather]), pa.array(cols.fval[gather]),
         pa.array(text[cols.sval[gather]], pa.string())],
        names=["key", "type", "ival", "fval", "sval"])
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def _nested(pa: Any, offsets: np.ndarray, rows: np.ndarray, fields: dict[str, Any]) -> Any:
    """A list array of structs: owner ``r`` gets items ``offsets[r]:offsets[r + 1]``."""
    counts = np.diff(offsets)[rows]
    out_offsets = np.zeros(rows.shape[0] + 1, dtype=np.int32)
    np.cumsum(counts, out=out_offsets[1:])
    values = pa.StructArray.from_arrays(list(fields.values()), names=list(fields))
    return pa.ListArray.from_arrays(pa.array(out_offsets), values)


def write_parquet(table: SpanTable, out: str | Path, *, partitions: int = 16) -> dict[str, Any]:
    """Write ``table`` as a partitioned Parquet dataset under ``out``.

    Parameters
    ----------
    table
        The spans (e.g. from :func:`workbench.traces.load_traces`).
    out
        Target directory (its ``spans/`` folder is replaced).
    partitions
        Number of trace-id hash partitions.

    Returns
    -------
    dict
        The metadata written to ``out/meta.json``.
    """
    pa = _pa()
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    strings = table.strings
    text = np.asarray(strings.strings, dtype=object)
    n = table.n_spans
    rows = np.arange(n, dtype=np.int64)
    trace_ids = np.asarray(table.trace_id_hex, dtype=object)[table.trace_index] if n else \
        np.zeros(0, dtype=object)
    part = np.asarray([partition_of(t, partitions) for t in table.trace_id_hex],
                      dtype=np.int32)[table.trace_index] if n else np.zeros(0, np.int32)
    span_text = [table.id_text.get((r, "span")) for r in range(n)]
    parent_text = [table.id_text.get((r, "parent")) for r in range(n)]
    n_events = int(table.event_offsets[-1]) if n else 0
    n_links = int(table.link_offsets[-1]) if n else 0
    events = _nested(pa, table.event_offsets, rows, {
        "name": pa.array(text[table.event_name], pa.string()),
        "time": pa.array(table.event_time),
        "attrs": _attr_lists(pa, table.event_attrs, strings, np.arange(n_events)),
    })
    has_extra = table.link_trace_state.shape[0] == n_links
    links = _nested(pa, table.link_offsets, rows, {
        "trace_id": pa.array(text[table.link_trace_id], pa.string()),
        "span_id": pa.array(text[table.link_span_id], pa.string()),
        "row": pa.array(table.link_row),
        "trace_state": pa.array(text[table.link_trace_state] if has_extra
                                else [""] * n_links, pa.string()),
        "flags": pa.array(table.link_flags if has_extra else np.zeros(n_links, np.uint32)),
        "attrs": _attr_lists(pa, table.link_attrs, strings, np.arange(n_links)),
    })

    def s(col: np.ndarray) -> Any:
        return pa.array(text[col], pa.string()).dictionary_encode()

    spans = pa.table({
        "row": pa.array(rows), "trace_id": pa.array(trace_ids, pa.string()),
        "span_id": pa.array(table.span_id), "span_id_len": pa.array(table.span_id_len),
        "span_id_text": pa.array(span_text, pa.string()),
        "parent_span_id": pa.array(table.parent_span_id),
        "parent_id_len": pa.array(table.parent_id_len),
        "parent_id_text": pa.array(parent_text, pa.string()),
        "parent": pa.array(table.parent), "depth": pa.array(table.depth),
        "in_cycle": pa.array(table.in_cycle), "name": s(table.name),
        "service": s(table.service), "scope": s(table.scope), "kind": pa.array(table.kind),
        "status": pa.array(table.status), "status_message": s(table.status_message),
        "start": pa.array(table.start), "end": pa.array(table.end),
        "has_end": pa.array(table.has_end), "flags": pa.array(table.flags),
        "trace_state": s(table.trace_state), "resource": pa.array(table.resource),
        "source": s(table.source), "attrs": _attr_lists(pa, table.attrs, strings, rows),
        "events": events, "links": links, "part": pa.array(part),
    })
    target = root / "spans"
    if target.exists():
        import shutil

        shutil.rmtree(target)
    pads.write_dataset(spans, target, format="parquet",
                       partitioning=pads.partitioning(pa.schema([("part", pa.int32())]),
                                                      flavor="hive"),
                       basename_template="spans-{i}.parquet", max_rows_per_group=1 << 17)
    n_res = int(table.resource_attrs.offsets.shape[0] - 1)
    pq.write_table(pa.table({"resource": pa.array(np.arange(n_res, dtype=np.int32)),
                             "attrs": _attr_lists(pa, table.resource_attrs, strings,
                                                  np.arange(n_res))}),
                   root / "resources.parquet")
    meta = {"format": "otlspec-parquet", "version": FORMAT_VERSION, "spans": n,
            "traces": table.n_traces, "partitions": partitions,
            "diagnostics": [dataclasses.asdict(d) for d in table.diagnostics]}
    (root / "meta.json").write_text(json.dumps(meta, indent=2, default=str) + "\n",
                                    encoding="utf-8")
    return meta


# ----------------------------------------------------------------------------- reading


def _codes(strings: StringTable, column: Any) -> np.ndarray:
    """String codes of an Arrow string column (nulls -> the empty string)."""
    pa = _pa()
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    if len(column) == 0:
        return np.zeros(0, dtype=np.int32)
    lookup = np.asarray(strings.codes(column.dictionary.to_pylist()), dtype=np.int32)
    idx = column.indices.to_numpy(zero_copy_only=False)
    return lookup[idx.astype(np.int64)] if idx.shape[0] else np.zeros(0, np.int32)


def _np(column: Any, dtype: Any) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=dtype)


def _list_parts(column: Any) -> tuple[np.ndarray, Any]:
    """(offsets relative to the values, flattened values) of a list array."""
    pa = _pa()
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    offsets = np.asarray(column.offsets.to_numpy(), dtype=np.int64)
    values = column.values
    start = int(offsets[0]) if offsets.shape[0] else 0
    end = int(offsets[-1]) if offsets.shape[0] else 0
    return offsets - start, values.slice(start, end - start)


def _attrs(strings: StringTable, column: Any) -> AttrColumns:
    offsets, values = _list_parts(column)
    return AttrColumns(
        offsets=offsets,
        key=_codes(strings, values.field("key")),
        type=_np(values.field("type"), np.int8),
        ival=_np(values.field("ival"), np.int64),
        fval=_np(values.field("fval"), np.float64),
        sval=_codes(strings, values.field("sval")),
    )


def _trace_columns(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Trace id bytes and lengths, as :class:`~workbench.traces.builder.TableBuilder` makes
    them."""
    t_bytes = np.zeros((len(keys), 16), dtype=np.uint8)
    t_len = np.zeros(len(keys), dtype=np.int8)
    for t, key in enumerate(keys):
        if key and len(key) <= 32 and _HEX.issuperset(key):
            t_bytes[t] = np.frombuffer(bytes.fromhex(key.rjust(32, "0")), dtype=np.uint8)
            t_len[t] = (len(key) + 1) // 2
        else:
            t_len[t] = -1 if key else 0
    return t_bytes, t_len


def load_parquet(path: str | Path, *, partitions: Sequence[int] | None = None) -> SpanTable:
    """Load a dataset written by :func:`write_parquet` into a span table.

    Parameters
    ----------
    path
        The directory given to :func:`write_parquet`.
    partitions
        Load only these partitions (whole traces). Parent pointers stay exact (a trace never
        straddles partitions); links into traces left out resolve to -1.

    Returns
    -------
    SpanTable
        With every partition loaded, equal to the written table column by column.
    """
    _pa()
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    root = Path(path)
    meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != "otlspec-parquet":
        raise ValueError(f"{root}: not an otlspec Parquet dataset")
    dataset = pads.dataset(root / "spans", format="parquet", partitioning="hive")
    flt = None if partitions is None else pads.field("part").isin(list(partitions))
    spans = dataset.to_table(filter=flt)
    spans = spans.sort_by("row")
    strings = StringTable()
    n = spans.num_rows
    old_rows = _np(spans["row"], np.int64)
    # rows are sorted, traces contiguous: dictionary codes follow first appearance
    encoded = spans["trace_id"].combine_chunks().dictionary_encode()
    keys: list[str] = encoded.dictionary.to_pylist()
    trace_index = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int32)
    counts = np.bincount(trace_index, minlength=len(keys)) if n else np.zeros(0, np.int64)
    trace_offsets = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=trace_offsets[1:])

    def remap(old: np.ndarray, missing: int) -> np.ndarray:
        if old.shape[0] == 0:
            return old.astype(np.int64)
        pos = np.searchsorted(old_rows, np.maximum(old, 0))
        pos_c = np.minimum(pos, max(n - 1, 0))
        hit = (old >= 0) & (pos < n) & (old_rows[pos_c] == old)
        return np.where(hit, pos_c, np.where(old >= 0, missing, old)).astype(np.int64)

    id_text: dict[tuple[int, str], str] = {}
    for which, name in (("span", "span_id_text"), ("parent", "parent_id_text")):
        col = spans[name].combine_chunks()
        kept = np.nonzero(col.is_valid().to_numpy(zero_copy_only=False))[0]
        for r, v in zip(kept.tolist(), col.take(kept).to_pylist(), strict=True):
            id_text[(r, which)] = v
    ev_offsets, ev = _list_parts(spans["events"])
    ln_offsets, ln = _list_parts(spans["links"])
    resources = pq.read_table(root / "resources.parquet").sort_by("resource")
    t_bytes, t_len = _trace_columns(keys)
    link_row = remap(_np(ln.field("row"), np.int64), -1)
    link_row[link_row < 0] = -1
    table = SpanTable(
        strings=strings, trace_offsets=trace_offsets, trace_id_hex=keys,
        trace_id_bytes=t_bytes, trace_id_len=t_len, trace_index=trace_index,
        span_id=_np(spans["span_id"], np.uint64), span_id_len=_np(spans["span_id_len"], np.int8),
        parent_span_id=_np(spans["parent_span_id"], np.uint64),
        parent_id_len=_np(spans["parent_id_len"], np.int8),
        parent=remap(_np(spans["parent"], np.int64), -2),
        depth=_np(spans["depth"], np.int32), in_cycle=_np(spans["in_cycle"], np.bool_),
        name=_codes(strings, spans["name"]), service=_codes(strings, spans["service"]),
        scope=_codes(strings, spans["scope"]), kind=_np(spans["kind"], np.int8),
        status=_np(spans["status"], np.int8),
        status_message=_codes(strings, spans["status_message"]),
        start=_np(spans["start"], np.int64), end=_np(spans["end"], np.int64),
        has_end=_np(spans["has_end"], np.bool_), flags=_np(spans["flags"], np.uint32),
        trace_state=_codes(strings, spans["trace_state"]),
        resource=_np(spans["resource"], np.int32), source=_codes(strings, spans["source"]),
        attrs=_attrs(strings, spans["attrs"]), resource_attrs=_attrs(strings,
                                                                      resources["attrs"]),
        event_offsets=ev_offsets, event_name=_codes(strings, ev.field("name")),
        event_time=_np(ev.field("time"), np.int64), event_attrs=_attrs(strings,
                                                                        ev.field("attrs")),
        link_offsets=ln_offsets, link_trace_id=_codes(strings, ln.field("trace_id")),
        link_span_id=_codes(strings, ln.field("span_id")), link_row=link_row,
        link_attrs=_attrs(strings, ln.field("attrs")), id_text=id_text,
        diagnostics=[Diagnostic(**d) for d in meta.get("diagnostics", [])],
        link_trace_state=_codes(strings, ln.field("trace_state")),
        link_flags=_np(ln.field("flags"), np.uint32),
    )
    return table
