"""The comparison baselines of ``benchmarks/check.py``: ten stdlib properties written as DuckDB
SQL and as a straightforward networkx program, plus the event streams fed to reelay and rtamt.

Both baselines start from the raw columns a user would have (span and parent ids as hex text,
attributes as a key/value table), not from otlspec's resolved parent pointers, and both
return the set of failing trace numbers per property, so ``check.py`` verifies that they
compute the same thing as otlspec before it compares their speed.

The ten properties (stdlib names, written from their current definitions in
``specs/stdlib``): end_after_start, span_ended, parent_exists, single_root, unique_span_ids,
child_starts_after_parent, child_ends_within_parent, kind_edge_consistency,
error_surfaces_to_ancestor, http_status_code_range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.traces.model import SpanTable

PROPERTIES = (
    "end_after_start", "span_ended", "parent_exists", "single_root", "unique_span_ids",
    "child_starts_after_parent", "child_ends_within_parent", "kind_edge_consistency",
    "error_surfaces_to_ancestor", "http_status_code_range",
)
SKEW = 50_000_000  # the stdlib's default `skew` (50ms)
STATUS_KEYS = ("http.response.status_code", "http.status_code")


def _hex_column(table: SpanTable, which: str) -> np.ndarray:
    """Hex text of span or parent ids, vectorized (odd ids through the table's accessors)."""
    from workbench.engine.plan import _hex16

    vals = table.span_id if which == "span" else table.parent_span_id
    lens = table.span_id_len if which == "span" else table.parent_id_len
    out = _hex16(vals).astype(object)
    out[lens == 0] = b""
    for (row, kind), text in table.id_text.items():
        if kind == which:
            out[row] = text.encode()
    return np.asarray([b.decode() for b in out], dtype=object)


# ---------------------------------------------------------------------------- DuckDB

SQL: dict[str, str] = {
    "end_after_start": "SELECT DISTINCT trace FROM spans WHERE has_end AND end_ns < start_ns",
    "span_ended": "SELECT DISTINCT trace FROM spans WHERE NOT has_end",
    "parent_exists": """
        SELECT DISTINCT s.trace FROM spans s
        WHERE s.parent_id <> '' AND NOT EXISTS (
            SELECT 1 FROM spans p WHERE p.trace = s.trace AND p.span_id = s.parent_id)""",
    "single_root": """
        SELECT trace FROM spans WHERE parent_id = '' GROUP BY trace HAVING count(*) > 1""",
    "unique_span_ids": """
        SELECT DISTINCT trace FROM spans GROUP BY trace, span_id HAVING count(*) > 1""",
    # parent edges: a child names its parent's id; the first span (lowest row) with that id
    # in the trace is the parent, as in otlspec's loader
    "child_starts_after_parent": f"""
        SELECT DISTINCT c.trace FROM edges e JOIN spans c ON c.row = e.child
        JOIN spans p ON p.row = e.parent WHERE c.start_ns < p.start_ns - {SKEW}""",
    "child_ends_within_parent": f"""
        SELECT DISTINCT c.trace FROM edges e JOIN spans c ON c.row = e.child
        JOIN spans p ON p.row = e.parent
        WHERE p.has_end AND c.has_end AND p.kind NOT IN (4, 5) AND c.kind NOT IN (4, 5)
          AND c.end_ns > p.end_ns + {SKEW}""",
    "kind_edge_consistency": """
        SELECT DISTINCT c.trace FROM edges e JOIN spans c ON c.row = e.child
        JOIN spans p ON p.row = e.parent
        WHERE p.service <> c.service AND p.service <> '' AND c.service <> ''
          AND p.kind <> 0 AND c.kind <> 0
          AND NOT ((p.kind = 3 AND c.kind = 2) OR (p.kind = 4 AND c.kind = 5))""",
    "error_surfaces_to_ancestor": """
        WITH RECURSIVE anc(row, a) AS (
            SELECT e.child, e.parent FROM edges e JOIN spans s ON s.row = e.child
            WHERE s.status = 2
          UNION
            SELECT anc.row, e.parent FROM anc JOIN edges e ON e.child = anc.a
        )
        SELECT DISTINCT s.trace FROM spans s
        WHERE s.status = 2 AND s.parent_id <> '' AND s.kind <> 5
          AND EXISTS (SELECT 1 FROM anc JOIN spans a ON a.row = anc.a
                      WHERE anc.row = s.row AND a.parent_id = '')
          AND NOT EXISTS (SELECT 1 FROM anc JOIN spans a ON a.row = anc.a
                          WHERE anc.row = s.row AND a.kind = 5)
          AND NOT EXISTS (SELECT 1 FROM anc JOIN spans a ON a.row = anc.a
                          WHERE anc.row = s.row AND a.status = 2)
          AND NOT EXISTS (SELECT 1 FROM spans r
                          WHERE r.trace = s.trace AND r.parent_id = '' AND r.status = 2)""",
    # str(value) as Python writes it: ints in decimal, bools as true/false, floats with a
    # decimal point (never matching); the last value of a repeated key wins
    "http_status_code_range": """
        WITH last AS (
            SELECT row, key, arg_max(text, pos) AS text FROM attrs
            WHERE key IN ('http.response.status_code', 'http.status_code') GROUP BY row, key)
        SELECT DISTINCT s.trace FROM last JOIN spans s ON s.row = last.row
        WHERE NOT regexp_matches(last.text, '^[1-5][0-9][0-9]$')""",
}


def duckdb_load(table: SpanTable) -> Any:
    """A DuckDB connection holding the table as ``spans``, ``edges`` and ``attrs``."""
    import duckdb
    import pyarrow as pa

    n = table.n_spans
    strings = np.asarray(table.strings.strings, dtype=object)
    con = duckdb.connect()
    spans = pa.table({
        "row": np.arange(n, dtype=np.int64),
        "trace": table.trace_index.astype(np.int64),
        "span_id": _hex_column(table, "span"),
        "parent_id": _hex_column(table, "parent"),
        "kind": table.kind.astype(np.int32),
        "status": table.status.astype(np.int32),
        "service": strings[table.service],
        "start_ns": table.start,
        "end_ns": table.end,
        "has_end": table.has_end,
    })
    con.register("spans_arrow", spans)
    con.execute("CREATE TABLE spans AS SELECT * FROM spans_arrow")
    # the parent edge of each child: the lowest-row span of the trace with the named id
    con.execute("""
        CREATE TABLE edges AS
        SELECT c.row AS child, min(p.row) AS parent FROM spans c
        JOIN spans p ON p.trace = c.trace AND p.span_id = c.parent_id
        WHERE c.parent_id <> '' GROUP BY c.row""")
    a = table.attrs
    keys = {table.strings.lookup(k) for k in STATUS_KEYS}
    sel = np.nonzero(np.isin(a.key, list(keys - {-1})))[0]
    owner = np.repeat(np.arange(n), np.diff(a.offsets))[sel]
    text = []
    for j in sel.tolist():
        value = a.value(j, table.strings)
        text.append(("true" if value else "false") if isinstance(value, bool) else str(value))
    attrs = pa.table({"row": owner.astype(np.int64), "key": strings[a.key[sel]],
                      "pos": sel.astype(np.int64), "text": np.asarray(text, dtype=object)})
    con.register("attrs_arrow", attrs)
    con.execute("CREATE TABLE attrs AS SELECT * FROM attrs_arrow")
    return con


def duckdb_run(con: Any) -> dict[str, set[int]]:
    return {name: {int(r[0]) for r in con.execute(sql).fetchall()} for name, sql in SQL.items()}


# ---------------------------------------------------------------------------- networkx


def nx_graphs(table: SpanTable) -> list[Any]:
    """One ``networkx.DiGraph`` per trace: nodes are rows with their fields, edges parent ->
    child resolved from the id texts."""
    import networkx as nx

    span_ids = _hex_column(table, "span")
    parent_ids = _hex_column(table, "parent")
    graphs = []
    a = table.attrs
    codes = {table.strings.lookup(k): k for k in STATUS_KEYS}
    for t in range(table.n_traces):
        g = nx.DiGraph()
        first: dict[str, int] = {}
        rows = range(int(table.trace_offsets[t]), int(table.trace_offsets[t + 1]))
        for r in rows:
            status_attrs = {}
            for j in range(int(a.offsets[r]), int(a.offsets[r + 1])):
                key = codes.get(int(a.key[j]))
                if key is not None:
                    status_attrs[key] = a.value(j, table.strings)
            g.add_node(r, span_id=span_ids[r], parent_id=parent_ids[r], kind=int(table.kind[r]),
                       status=int(table.status[r]), service=table.service_of(r),
                       start=int(table.start[r]), end=int(table.end[r]),
                       has_end=bool(table.has_end[r]), attrs=status_attrs)
            first.setdefault(span_ids[r], r)
        for r in rows:
            p = first.get(parent_ids[r]) if parent_ids[r] else None
            if p is not None:
                g.add_edge(p, r)
        graphs.append(g)
    return graphs


def nx_run(graphs: list[Any]) -> dict[str, set[int]]:
    import re

    import networkx as nx

    status_ok = re.compile(r"^[1-5][0-9][0-9]$")
    out: dict[str, set[int]] = {name: set() for name in PROPERTIES}
    for t, g in enumerate(graphs):
        nodes = g.nodes
        ids: dict[str, int] = {}
        for r, d in nodes(data=True):
            if d["has_end"] and d["end"] < d["start"]:
                out["end_after_start"].add(t)
            if not d["has_end"]:
                out["span_ended"].add(t)
            if d["parent_id"] and g.in_degree(r) == 0:
                out["parent_exists"].add(t)
            ids[d["span_id"]] = ids.get(d["span_id"], 0) + 1
            for value in d["attrs"].values():
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                if not status_ok.search(text):
                    out["http_status_code_range"].add(t)
        if sum(1 for _, d in nodes(data=True) if not d["parent_id"]) > 1:
            out["single_root"].add(t)
        if any(c > 1 for c in ids.values()):
            out["unique_span_ids"].add(t)
        for p, c in g.edges:
            dp, dc = nodes[p], nodes[c]
            if dc["start"] < dp["start"] - SKEW:
                out["child_starts_after_parent"].add(t)
            if (dp["has_end"] and dc["has_end"] and dp["kind"] not in (4, 5)
                    and dc["kind"] not in (4, 5) and dc["end"] > dp["end"] + SKEW):
                out["child_ends_within_parent"].add(t)
            if (dp["service"] != dc["service"] and dp["service"] and dc["service"]
                    and dp["kind"] != 0 and dc["kind"] != 0
                    and not ((dp["kind"] == 3 and dc["kind"] == 2)
                             or (dp["kind"] == 4 and dc["kind"] == 5))):
                out["kind_edge_consistency"].add(t)
        root_error = any(d["status"] == 2 and not d["parent_id"] for _, d in nodes(data=True))
        for r, d in nodes(data=True):
            if d["status"] == 2 and d["parent_id"] and d["kind"] != 5 and not root_error:
                above = [nodes[a] for a in nx.ancestors(g, r)]
                if (any(not a["parent_id"] for a in above)
                        and not any(a["kind"] == 5 for a in above)
                        and not any(a["status"] == 2 for a in above)):
                    out["error_surfaces_to_ancestor"].add(t)
    return out


# ---------------------------------------------------------------------------- monitors


def event_streams(table: SpanTable) -> list[list[tuple[int, bool, bool]]]:
    """Per trace, its timeline as ``(time, p, q)``: ``p`` = a retried CLIENT call starts here
    (``http.request.resend_count`` > 0), ``q`` = a failed CLIENT call ends here."""
    from workbench.engine.plan import table_index

    index = table_index(table)
    index.need("timeline")
    arr = index.arrays
    key = table.strings.lookup("http.request.resend_count")
    a = table.attrs
    retried = np.zeros(table.n_spans, np.bool_)
    sel = np.nonzero(a.key == key)[0]
    owner = np.repeat(np.arange(table.n_spans), np.diff(a.offsets))[sel]
    retried[owner[(a.type[sel] == 2) & (a.ival[sel] > 0)]] = True
    client = table.kind == 3
    p_row = client & retried
    q_row = client & (table.status == 2)
    streams = []
    phase, row, time = arr["tl_phase"], arr["tl_row"], arr["tl_time"]
    for t in range(table.n_traces):
        lo, hi = int(arr["tl_off"][t]), int(arr["tl_off"][t + 1])
        ph, rw = phase[lo:hi], row[lo:hi]
        p = (ph == 0) & p_row[rw]
        q = (ph == 2) & q_row[rw]
        streams.append(list(zip(time[lo:hi].tolist(), p.tolist(), q.tolist(), strict=True)))
    return streams


PAST_PATTERN = "historically({p} -> once[0:5000000000] {q})"
FUTURE_SPEC = "always((q > 0.5) -> eventually[0,10](p > 0.5))"


def reelay_monitors(n: int) -> list[Any]:
    """One fresh reelay monitor per trace (built before timing: building parses the
    pattern, and reelay monitors cannot be reset between traces)."""
    import reelay

    return [reelay.dense_timed_monitor(pattern=PAST_PATTERN) for _ in range(n)]


def reelay_run(streams: list[list[tuple[int, bool, bool]]], monitors: list[Any]) -> set[int]:
    """Traces violating ``historically(p -> once[0, 5s] q)`` per reelay's dense-time monitor
    (timestamps in ns, rebased per trace; points at equal times are shifted by 1 ns)."""
    failing = set()
    for t, stream in enumerate(streams):
        monitor = monitors[t]
        ok = True
        last = None
        origin = stream[0][0] if stream else 0
        for time, p, q in stream:
            time -= origin  # reelay keeps time as a double: stay well inside 2**53 ns
            if last is not None and time <= last:
                time = last + 1  # dense monitors need strictly increasing timestamps
            last = time
            for out in monitor.update({"time": time, "p": p, "q": q}):
                ok = ok and bool(out["value"])
        if not ok:
            failing.add(t)
    return failing


def rtamt_run(streams: list[list[tuple[int, bool, bool]]]) -> set[int]:
    """Traces violating ``always(q -> eventually[0,10] p)`` per rtamt's discrete-time offline
    monitor (time = position on the timeline: rtamt's discrete time is a sample index)."""
    import rtamt

    spec = rtamt.StlDiscreteTimeSpecification()
    spec.declare_var("p", "float")
    spec.declare_var("q", "float")
    spec.spec = FUTURE_SPEC
    spec.parse()
    failing = set()
    for t, stream in enumerate(streams):
        if len(stream) < 2:
            stream = stream + stream  # rtamt cannot evaluate a one-sample signal
        rob = spec.evaluate({"time": list(range(len(stream))),
                             "p": [float(p) for _, p, _ in stream],
                             "q": [float(q) for _, _, q in stream]})
        if rob[0][1] <= 0:
            failing.add(t)
    return failing
