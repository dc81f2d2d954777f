"""Reproducible synthetic trace tables for benchmarks, shaped like real microservice traces.

:func:`synth_table` draws a few hundred *trace templates* from a service topology (a web
frontend calling ~20 services over HTTP and gRPC, databases, a message queue with
asynchronous consumers and span links), then replicates templates (with a skewed choice, fresh
ids, shifted times and per-instance high-cardinality attribute values: URLs with ids, user
ids, statements) until the table has the requested number of spans. The table is assembled
column by column with numpy, so a million spans take about a second.

What the templates contain, per span: 6-16 attributes with the keys instrumentations emit
(``http.request.method``, ``url.full``, ``http.route``, ``db.system``, ``rpc.service``,
``messaging.destination.name``...), resource attributes per service, errors with
``exception`` events (about 3% of calls), retries with ``http.request.resend_count``, log
events, PRODUCER -> CONSUMER edges (consumers start after the producer ended, some linked
instead of parented), occasional spans without an end, clock skew, personal data in a few
attribute values, and a few malformed traces (orphans, two roots).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.traces.builder import AttrBuilder
from workbench.traces.model import AttrColumns, SpanTable, StringTable

MS = 1_000_000

#: service -> (operations, downstream services, datastore or "")
TOPOLOGY: dict[str, tuple[list[str], list[str], str]] = {
    "frontend": (
        ["GET /", "GET /product/{id}", "POST /cart", "POST /checkout", "GET /search"],
        ["catalog", "cart", "checkout", "recommendation", "ad", "search", "auth"],
        "",
    ),
    "catalog": (["GetProduct", "ListProducts"], ["inventory", "pricing"], "postgresql"),
    "cart": (["GetCart", "AddItem", "EmptyCart"], ["pricing"], "redis"),
    "checkout": (
        ["PlaceOrder"],
        ["cart", "payment", "shipping", "currency", "user", "orders"],
        "postgresql",
    ),
    "payment": (["Charge"], ["fraud", "currency"], "postgresql"),
    "shipping": (["GetQuote", "ShipOrder"], ["currency"], ""),
    "currency": (["Convert", "GetSupportedCurrencies"], [], "redis"),
    "recommendation": (["ListRecommendations"], ["catalog"], ""),
    "ad": (["GetAds"], [], "redis"),
    "search": (["Search"], ["catalog"], "elasticsearch"),
    "auth": (["Verify"], ["user"], "redis"),
    "user": (["GetUser"], [], "postgresql"),
    "inventory": (["Check"], [], "postgresql"),
    "pricing": (["Price"], ["currency"], ""),
    "fraud": (["Score"], [], ""),
    "orders": (["Save"], [], "postgresql"),
    "email": (["SendConfirmation"], ["user"], ""),
    "notification": (["Notify"], [], "redis"),
}
#: producer service -> consumers of its messages
QUEUES: dict[str, list[str]] = {"checkout": ["email", "notification"], "orders": ["email"]}
HTTP_SERVICES = frozenset({"frontend", "search", "auth"})


@dataclass
class _Span:
    name: str
    kind: int
    service: str
    start: int
    end: int
    parent: int
    status: int = 0
    status_message: str = ""
    has_end: bool = True
    attrs: list[tuple[str, Any, int]] = field(default_factory=list)  # (key, value, pool)
    events: list[tuple[str, int, list[tuple[str, Any, int]]]] = field(default_factory=list)
    links: list[int] = field(default_factory=list)  # template-local span index


class _Templates:
    """Draws trace templates from the topology."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def duration(self, scale: float) -> int:
        return max(1000, int(self.rng.lognormal(np.log(scale * MS), 0.6)))

    def trace(self) -> list[_Span]:
        spans: list[_Span] = []
        route = str(self.rng.choice(TOPOLOGY["frontend"][0]))
        self.server(spans, "frontend", route, 0, -1, depth=0)
        if self.rng.random() < 0.01:  # an orphan subtree: a lost parent
            spans[min(len(spans) - 1, 2)].parent = -2
        return spans

    def http_attrs(self, route: str, server: bool) -> list[tuple[str, Any, int]]:
        method, _, path = route.partition(" ")
        attrs: list[tuple[str, Any, int]] = [
            ("http.request.method", method or "GET", 0),
            ("http.route", path or "/", 0),
            ("url.path", (path or "/").replace("{id}", "{n}"), 500),
            ("http.response.status_code", 200, 0),
            ("network.protocol.version", "1.1", 0),
            ("server.address", "shop.example.com", 0),
            ("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)", 20),
        ]
        if not server:
            attrs.append(("url.full", "https://api.example.com" + (path or "/"), 2000))
        else:
            attrs.append(("client.address", "10.0.0.{n}", 250))
        return attrs

    def server(
        self, spans: list[_Span], svc: str, op: str, start: int, parent: int, depth: int
    ) -> int:
        _, downstream, store = TOPOLOGY[svc]
        kind = 2
        me = len(spans)
        span = _Span(op, kind, svc, start, start, parent)
        spans.append(span)
        if svc in HTTP_SERVICES:
            span.attrs += self.http_attrs(op, server=True)
        else:
            span.attrs += [
                ("rpc.system", "grpc", 0),
                ("rpc.service", f"shop.{svc}.Service", 0),
                ("rpc.method", op, 0),
                ("rpc.grpc.status_code", 0, 0),
            ]
        span.attrs += [("app.request_id", "req-{n}", 100000), ("enduser.id", "user-{n}", 20000)]
        if self.rng.random() < 0.002:
            span.attrs.append(("user.email", "jane.doe{n}@example.com", 1000))
        t = start + self.duration(0.2)
        n_calls = (
            0
            if depth >= 5
            else int(
                self.rng.choice(
                    [0, 1, 1, 2, 2, 3, 4, 6], p=[0.2, 0.2, 0.15, 0.15, 0.1, 0.1, 0.05, 0.05]
                )
            )
        )
        for _ in range(n_calls):
            if downstream and self.rng.random() < 0.8:
                callee = str(self.rng.choice(downstream))
                t = self.client(spans, svc, callee, t, me, depth) + self.duration(0.05)
            elif store:
                t = self.db(spans, svc, store, t, me) + self.duration(0.02)
        if self.rng.random() < 0.3:
            k = len(spans)
            spans.append(
                _Span(
                    f"{op} render",
                    1,
                    svc,
                    t,
                    t + self.duration(0.3),
                    me,
                    attrs=[("app.items", int(self.rng.integers(0, 50)), 0)],
                )
            )
            t = spans[k].end
        if svc in QUEUES and self.rng.random() < 0.7:
            t = self.produce(spans, svc, t, me, depth)
        if self.rng.random() < 0.05:
            span.events.append(("log", t, [("log.message", "cache miss for key {n}", 0)]))
        span.end = t + self.duration(0.1)
        if self.rng.random() < 0.02:
            span.status, span.status_message = 2, "upstream failure"
            span.events.append(
                (
                    "exception",
                    span.end,
                    [
                        ("exception.type", "UpstreamError", 0),
                        ("exception.message", "call failed after retries", 0),
                    ],
                )
            )
        if self.rng.random() < 0.001:
            span.has_end = False
        return span.end

    def client(
        self, spans: list[_Span], svc: str, callee: str, start: int, parent: int, depth: int
    ) -> int:
        op = str(self.rng.choice(TOPOLOGY[callee][0]))
        name = f"{callee}/{op}" if callee not in HTTP_SERVICES else op
        me = len(spans)
        span = _Span(name, 3, svc, start, start, parent)
        spans.append(span)
        span.attrs += (
            self.http_attrs(op, server=False)
            if callee in HTTP_SERVICES
            else [
                ("rpc.system", "grpc", 0),
                ("rpc.service", f"shop.{callee}.Service", 0),
                ("rpc.method", op, 0),
                ("server.address", f"{callee}.shop.svc", 0),
            ]
        )
        skew = int(self.rng.normal(0, 2 * MS)) if self.rng.random() < 0.05 else 0
        end = self.server(spans, callee, op, start + self.duration(0.05) + skew, me, depth + 1)
        span.end = end + self.duration(0.05)
        if self.rng.random() < 0.03:  # a failed call, retried once
            span.status, span.status_message = 2, "DEADLINE_EXCEEDED"
            span.events.append(
                (
                    "exception",
                    span.end,
                    [
                        ("exception.type", "TimeoutError", 0),
                        ("exception.message", "deadline exceeded after 2s", 0),
                        ("exception.escaped", False, 0),
                    ],
                )
            )
            retry = _Span(
                name,
                3,
                svc,
                span.end + self.duration(0.1),
                0,
                parent,
                attrs=[*span.attrs, ("http.request.resend_count", 1, 0)],
            )
            retry.end = retry.start + self.duration(0.5)
            spans.append(retry)
            return retry.end
        return span.end

    def db(self, spans: list[_Span], svc: str, store: str, start: int, parent: int) -> int:
        op = str(self.rng.choice(["SELECT", "INSERT", "UPDATE", "GET", "SET"]))
        table = str(self.rng.choice(["orders", "users", "items", "carts"]))
        attrs: list[tuple[str, Any, int]] = [
            ("db.system", store, 0),
            ("db.operation", op, 0),
            ("server.address", f"{store}.shop.svc", 0),
        ]
        if store in ("postgresql", "elasticsearch"):
            attrs += [
                ("db.name", "shop", 0),
                ("db.statement", f"{op} * FROM {table} WHERE id = {{n}}", 5000),
            ]
        end = start + self.duration(0.3)
        spans.append(_Span(f"{op} {table}", 3, svc, start, end, parent, attrs=attrs))
        return end

    def produce(self, spans: list[_Span], svc: str, start: int, parent: int, depth: int) -> int:
        me = len(spans)
        end = start + self.duration(0.05)
        attrs: list[tuple[str, Any, int]] = [
            ("messaging.system", "kafka", 0),
            ("messaging.destination.name", f"{svc}-events", 0),
            ("messaging.operation", "publish", 0),
        ]
        spans.append(_Span(f"{svc}-events publish", 4, svc, start, end, parent, attrs=attrs))
        for consumer in QUEUES[svc]:
            begin = end + self.duration(2.0)
            linked = self.rng.random() < 0.3
            k = len(spans)
            spans.append(
                _Span(
                    f"{svc}-events process",
                    5,
                    consumer,
                    begin,
                    begin,
                    -1 if linked else me,
                    attrs=[
                        ("messaging.system", "kafka", 0),
                        ("messaging.destination.name", f"{svc}-events", 0),
                        ("messaging.operation", "process", 0),
                    ],
                    links=[me] if linked else [],
                )
            )
            spans[k].end = (
                self.server(spans, consumer, TOPOLOGY[consumer][0][0], begin + 1000, k, depth + 1)
                + 1000
            )
        return end


@dataclass
class _Flat:
    """Templates as concatenated columns (template-local parent indices)."""

    offsets: np.ndarray
    cols: dict[str, np.ndarray]
    attr_counts: np.ndarray
    attrs: AttrColumns
    attr_pool: np.ndarray  # per attribute entry: pool size (0: fixed value)
    event_counts: np.ndarray
    event_name: np.ndarray
    event_time: np.ndarray
    event_attrs: AttrColumns
    event_attr_counts: np.ndarray
    link_counts: np.ndarray
    link_target: np.ndarray


def _flatten(templates: list[list[_Span]], strings: StringTable, services: dict[str, int]) -> _Flat:
    code = strings.code
    attrs, ev_attrs = AttrBuilder(strings), AttrBuilder(strings)
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "name",
            "kind",
            "service",
            "start",
            "end",
            "parent",
            "status",
            "smsg",
            "has_end",
            "depth",
        )
    }
    pool: list[int] = []
    attr_counts, ev_counts, ev_names, ev_times = [], [], [], []
    link_counts, link_target = [], []
    offsets = [0]
    for spans in templates:
        order = sorted(range(len(spans)), key=lambda k: (spans[k].start, k))
        where = {old: new for new, old in enumerate(order)}
        depth = [0] * len(spans)
        for old in range(len(spans)):  # parents precede children in drawing order
            p = spans[old].parent
            depth[old] = depth[p] + 1 if p >= 0 else 0
        for old in order:
            s = spans[old]
            cols["name"].append(code(s.name))
            cols["kind"].append(s.kind)
            cols["service"].append(services[s.service])
            cols["start"].append(s.start)
            cols["end"].append(s.end if s.has_end else s.start)
            cols["parent"].append(where[s.parent] if s.parent >= 0 else s.parent)
            cols["status"].append(s.status)
            cols["smsg"].append(code(s.status_message))
            cols["has_end"].append(s.has_end)
            cols["depth"].append(depth[old])
            for key, value, size in s.attrs:
                attrs.push(key, value)
                pool.append(size)
            attr_counts.append(len(s.attrs))
            ev_counts.append(len(s.events))
            for name, time, items in s.events:
                ev_names.append(code(name))
                ev_times.append(time)
                ev_attrs.push_all((k, v) for k, v, *_ in items)
            link_counts.append(len(s.links))
            link_target += [where[k] for k in s.links]
        offsets.append(offsets[-1] + len(spans))
    arr = {k: np.asarray(v) for k, v in cols.items()}
    return _Flat(
        np.asarray(offsets, np.int64),
        arr,
        np.asarray(attr_counts, np.int64),
        attrs.columns(),
        np.asarray(pool, np.int64),
        np.asarray(ev_counts, np.int64),
        np.asarray(ev_names, np.int32),
        np.asarray(ev_times, np.int64),
        ev_attrs.columns(),
        np.diff(ev_attrs.columns().offsets),
        np.asarray(link_counts, np.int64),
        np.asarray(link_target, np.int64),
    )


def _gather_csr(counts: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of the new owners and the indices of their items in the template columns."""
    starts = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    c = counts[owners]
    off = np.zeros(owners.shape[0] + 1, np.int64)
    np.cumsum(c, out=off[1:])
    owner_of = np.repeat(np.arange(owners.shape[0]), c)
    idx = starts[owners][owner_of] + np.arange(int(off[-1])) - off[owner_of]
    return off, idx


def synth_table(n_spans: int, seed: int = 0, templates: int = 300) -> SpanTable:
    """A table of about ``n_spans`` spans (whole traces), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    strings = StringTable()
    draw = _Templates(rng)
    shapes = [draw.trace() for _ in range(templates)]
    services = {s: k for k, s in enumerate(TOPOLOGY)}
    flat = _flatten(shapes, strings, services)
    sizes = np.diff(flat.offsets)
    weights = rng.zipf(1.6, templates).astype(float)
    weights /= weights.sum()
    n_inst = max(1, int(n_spans / float((weights * sizes).sum())))
    inst = rng.choice(templates, size=n_inst, p=weights)
    counts = sizes[inst]
    keep = np.cumsum(counts) <= max(n_spans, int(counts[0]))
    inst, counts = inst[keep], counts[keep]
    n_tr = inst.shape[0]
    toff = np.zeros(n_tr + 1, np.int64)
    np.cumsum(counts, out=toff[1:])
    n = int(toff[-1])
    trace_of = np.repeat(np.arange(n_tr), counts)
    src = flat.offsets[inst][trace_of] + np.arange(n) - toff[trace_of]  # template span index
    c = flat.cols
    base = np.int64(1_700_000_000_000_000_000) + np.cumsum(rng.integers(MS, 50 * MS, n_tr))
    start = c["start"][src] + base[trace_of]
    end = c["end"][src] + base[trace_of]
    tparent = c["parent"][src]
    parent = np.where(tparent >= 0, tparent + toff[trace_of], tparent).astype(np.int64)
    span_id = rng.integers(1, 2**62, dtype=np.int64).astype(np.uint64) + np.arange(
        n, dtype=np.uint64
    ) * np.uint64(0x9E3779B97F4A7C15 >> 3)
    par_id = np.where(parent >= 0, span_id[np.maximum(parent, 0)], np.uint64(0))
    orphan = tparent == -2
    par_id[orphan] = np.uint64(0xDEAD)
    plen = np.where((parent >= 0) | orphan, 8, 0).astype(np.int8)
    tid_bytes = rng.integers(0, 256, size=(n_tr, 16), dtype=np.uint8)
    tid_hex = [bytes(row).hex() for row in tid_bytes]
    # attributes: template entries, high-cardinality values drawn per instance
    a_off, a_idx = _gather_csr(flat.attr_counts, src)
    a = flat.attrs
    sval = a.sval[a_idx].copy()
    sizes_pool = flat.attr_pool[a_idx]
    varying = np.nonzero(sizes_pool > 0)[0]
    if varying.size:
        pools: dict[tuple[int, int], np.ndarray] = {}
        keyed = a.sval[a_idx[varying]]
        pick = rng.integers(0, 1 << 30, varying.shape[0]) % sizes_pool[varying]
        for tmpl, size in {
            (int(t), int(s)) for t, s in zip(keyed, sizes_pool[varying], strict=True)
        }:
            text = strings[tmpl]
            pools[(tmpl, size)] = np.asarray(
                [
                    strings.code(text.replace("{n}", str(k)).replace("{id}", str(k)))
                    for k in range(size)
                ],
                np.int32,
            )
        for (tmpl, size), codes in pools.items():
            sel = np.nonzero((keyed == tmpl) & (sizes_pool[varying] == size))[0]
            sval[varying[sel]] = codes[pick[sel]]
    attrs = AttrColumns(a_off, a.key[a_idx], a.type[a_idx], a.ival[a_idx], a.fval[a_idx], sval)
    e_off, e_idx = _gather_csr(flat.event_counts, src)
    ev_owner = np.repeat(np.arange(n), np.diff(e_off))
    event_time = (
        flat.event_time[e_idx] + base[trace_of[ev_owner]] if e_idx.size else np.zeros(0, np.int64)
    )
    ea_off, ea_idx = _gather_csr(flat.event_attr_counts, e_idx)
    ea = flat.event_attrs
    event_attrs = AttrColumns(
        ea_off, ea.key[ea_idx], ea.type[ea_idx], ea.ival[ea_idx], ea.fval[ea_idx], ea.sval[ea_idx]
    )
    l_off, l_idx = _gather_csr(flat.link_counts, src)
    l_owner = np.repeat(np.arange(n), np.diff(l_off))
    link_row = flat.link_target[l_idx] + toff[trace_of[l_owner]]
    link_tid = np.asarray([strings.code(tid_hex[int(t)]) for t in trace_of[l_owner]], np.int32)
    link_sid = np.asarray(
        [strings.code(format(int(span_id[r]), "016x")) for r in link_row], np.int32
    )
    res = AttrBuilder(strings)
    for svc in TOPOLOGY:
        res.push_all(
            [
                ("service.name", svc),
                ("service.version", "1.4.2"),
                ("telemetry.sdk.language", "go"),
                ("host.name", f"{svc}-7d9f"),
            ]
        )
    service_codes = np.asarray([strings.code(s) for s in TOPOLOGY], np.int32)
    resource = c["service"][src].astype(np.int32)
    return SpanTable(
        strings=strings,
        trace_offsets=toff,
        trace_id_hex=tid_hex,
        trace_id_bytes=tid_bytes,
        trace_id_len=np.full(n_tr, 16, np.int8),
        trace_index=trace_of.astype(np.int32),
        span_id=span_id,
        span_id_len=np.full(n, 8, np.int8),
        parent_span_id=par_id,
        parent_id_len=plen,
        parent=parent,
        depth=c["depth"][src].astype(np.int32),
        in_cycle=np.zeros(n, np.bool_),
        name=c["name"][src].astype(np.int32),
        service=service_codes[resource],
        scope=np.full(n, strings.code("io.opentelemetry"), np.int32),
        kind=c["kind"][src].astype(np.int8),
        status=c["status"][src].astype(np.int8),
        status_message=c["smsg"][src].astype(np.int32),
        start=start,
        end=end,
        has_end=c["has_end"][src].astype(np.bool_),
        flags=np.ones(n, np.uint32),
        trace_state=np.zeros(n, np.int32),
        resource=resource,
        source=np.full(n, strings.code("synth"), np.int32),
        attrs=attrs,
        resource_attrs=res.columns(),
        event_offsets=e_off,
        event_name=flat.event_name[e_idx] if e_idx.size else np.zeros(0, np.int32),
        event_time=event_time.astype(np.int64),
        event_attrs=event_attrs,
        link_offsets=l_off,
        link_trace_id=link_tid,
        link_span_id=link_sid,
        link_row=link_row.astype(np.int64),
        link_attrs=AttrColumns(
            np.zeros(int(l_off[-1]) + 1, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.int8),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(0, np.int32),
        ),
        link_trace_state=np.zeros(int(l_off[-1]), np.int32),
        link_flags=np.zeros(int(l_off[-1]), np.uint32),
    )


def replicate(table: SpanTable, copies: int) -> SpanTable:
    """``copies`` concatenated copies of ``table`` (fresh trace ids; for scaling real traces)."""
    from workbench.traces.builder import TableBuilder

    b = TableBuilder()
    resources: dict[int, int] = {}
    for k in range(copies):
        for row in range(table.n_spans):
            r = int(table.resource[row])
            if r not in resources:
                resources[r] = b.add_resource(
                    table.resource_attrs.owner_dict(r, table.strings).items()
                )
            trace = table.trace_id_hex[int(table.trace_index[row])]
            b.add_span(
                trace_id=f"{k:04x}{trace[4:]}" if len(trace) == 32 else f"{trace}-{k}",
                span_id=table.span_id_hex(row),
                parent_id=table.parent_id_hex(row),
                name=table.name_of(row),
                kind=int(table.kind[row]),
                status=int(table.status[row]),
                status_message=table.strings[int(table.status_message[row])],
                start=int(table.start[row]),
                end=int(table.end[row]) if bool(table.has_end[row]) else None,
                flags=int(table.flags[row]),
                resource=resources[r],
                attributes=table.attributes_of(row).items(),
                events=[(e.name, e.time, e.attributes.items()) for e in table.events_of(row)],
                links=[
                    (ln.trace_id, ln.span_id, ln.attributes.items()) for ln in table.links_of(row)
                ],
            )
    return b.build()
