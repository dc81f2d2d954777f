"""Zipkin JSON traces: v2 span lists and v1 span lists (also lists of v1 batches).

v2: ``timestamp``/``duration`` in microseconds (no duration: ``has_end`` false), ``kind``,
``localEndpoint.serviceName`` -> resource ``service.name``, ``remoteEndpoint.serviceName`` ->
``peer.service``, ``tags`` -> attributes, an ``error`` tag -> status ERROR (its value is the
message), annotations -> events.

v1: each record is first converted to v2 form. Core annotations give kind and times
(``cs``/``cr`` CLIENT, ``sr``/``ss`` SERVER, ``ms`` PRODUCER, ``mr`` CONSUMER; else the earliest
and latest annotation), their endpoints the service (else the ``lc`` binary annotation's),
``binaryAnnotations`` become attributes, and a record holding both ``cs`` and ``sr`` is split
into its client and server halves.

Fragments: Zipkin reports a span in pieces (a tracer flushes annotations as they happen), so
records with the same trace and span id, the same side (the same kind, or one without kind; the
same ``shared`` flag) and the same local service (or one without) are merged first, as Zipkin's
``Trace.merge`` does (:func:`merge_fragments`): the earliest start, the latest end, the first
non-empty name, kind and endpoints, the union of tags (first value wins) and of annotations.

Shared spans: when a client and a server record carry the same span id (Zipkin's shared RPC
span), the client keeps the id and the server half gets a derived one, :func:`server_span_id`;
its parent becomes the client half, every other span whose parent was the shared id is
re-pointed to the server half, and the server half records the original id in the attribute
``zipkin.shared_span_id``. Any other repeated id is kept as a duplicate with a warning.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from workbench.errors import Diagnostic
from workbench.traces.builder import TableBuilder
from workbench.traces.otlp_repair import type_name

UNSET, INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = range(6)
_KINDS = {"CLIENT": CLIENT, "SERVER": SERVER, "PRODUCER": PRODUCER, "CONSUMER": CONSUMER}
_CORE = frozenset({"cs", "cr", "sr", "ss", "ms", "mr"})
_ADDRESS = frozenset({"ca", "sa", "ma"})
SHARED_ATTRIBUTE = "zipkin.shared_span_id"
#: largest accepted |time| and |duration| in ns (2**62: year 2116), so start + duration fits int64
TIME_LIMIT = 2**62


def server_span_id(span_id: str) -> str:
    """The id given to the server half of a shared span: blake2b(id + "/server")[:8] in hex."""
    digest = hashlib.blake2b((span_id.lower() + "/server").encode(), digest_size=8).digest()
    return digest.hex()


def _service(endpoint: dict[str, Any]) -> str:
    name = endpoint.get("serviceName")
    return name if isinstance(name, str) else ""


def recognizes(obj: Any) -> bool:
    """Whether a decoded JSON value is a Zipkin span list (or a list of v1 batches)."""
    if not isinstance(obj, list):
        return False
    if not obj:
        return True
    first = obj[0]
    if isinstance(first, list):
        return all(isinstance(b, list) for b in obj) and (
            not first or (isinstance(first[0], dict) and "traceId" in first[0])
        )
    return isinstance(first, dict) and "traceId" in first and ("id" in first or "name" in first)


def is_v1(spans: list[Any]) -> bool:
    """v1 records carry ``binaryAnnotations`` or annotations with an ``endpoint``."""
    for span in spans:
        if not isinstance(span, dict):
            continue
        if "binaryAnnotations" in span:
            return True
        if "localEndpoint" in span or "kind" in span or "tags" in span:
            return False
        annotations = span.get("annotations")
        if isinstance(annotations, list) and any(
            isinstance(a, dict) and ("endpoint" in a or a.get("value") in _CORE)
            for a in annotations
        ):
            return True
    return False


class _Record:
    """One span in v2 form, before shared-span resolution."""

    __slots__ = (
        "attrs",
        "end",
        "end_guessed",
        "events",
        "id",
        "kind",
        "message",
        "name",
        "parent",
        "path",
        "pending",
        "remote",
        "service",
        "shared",
        "start",
        "start_guessed",
        "status",
        "timed",
        "trace",
    )

    def __init__(self, path: str, trace: str, span_id: str, parent: str) -> None:
        self.path = path
        self.trace = trace
        self.id = span_id
        self.parent = parent
        self.name = ""
        self.kind = UNSET
        self.start = 0
        self.timed = True  # False: no timestamp anywhere in the record
        self.end: int | None = None
        # start/end taken from plain annotations, not from a timestamp or core annotation
        self.start_guessed = False
        self.end_guessed = False
        self.pending = ""  # warning reported only if the start is still guessed after merging
        self.service = ""
        self.remote = ""
        self.attrs: list[tuple[str, Any]] = []
        self.events: list[tuple[str, int, list[tuple[str, Any]]]] = []
        self.status = 0
        self.message = ""
        self.shared = False


def load(obj: Any, file: str, builder: TableBuilder) -> bool:
    """Append every span of a decoded Zipkin JSON list to ``builder``.

    Parameters
    ----------
    obj
        A list of v2 or v1 spans, or a list of such lists (batches).
    file
        Name for diagnostics and the ``source`` column.
    builder
        Receives spans and diagnostics.

    Returns
    -------
    bool
        True (the input was recognised; unreadable records are diagnostics).
    """
    reader = _Reader(file, builder)
    batches = (
        [(f"[{i}]", b) for i, b in enumerate(obj)]
        if obj and isinstance(obj[0], list)
        else [("", obj)]
    )
    records: list[_Record] = []
    for prefix, batch in batches:
        if not isinstance(batch, list):
            reader.report(prefix, f"expected a list of spans, got {type_name(batch)}", "error")
            continue
        v1 = is_v1(batch)
        for k, span in enumerate(batch):
            path = f"{prefix}[{k}]"
            records.extend(reader.v1(span, path) if v1 else reader.v2(span, path))
    records, _merged = merge_fragments(records)
    for rec in records:
        if rec.pending and rec.start_guessed:
            reader.report(f"{rec.path}.timestamp", rec.pending)
    reader.resolve_shared(records)
    reader.emit(records)
    return True


def _compatible(a: _Record, b: _Record) -> bool:
    """Whether two records of one span id are fragments of one span (Zipkin's merge rule)."""
    if a.kind != b.kind and UNSET not in (a.kind, b.kind):
        return False
    if a.shared != b.shared and UNSET not in (a.kind, b.kind):
        return False
    return a.service == b.service or not a.service or not b.service


def _pick(values: list[tuple[int, bool]], latest: bool) -> tuple[int, bool] | None:
    """The earliest (latest) of ``(time, guessed)`` values, preferring non-guessed ones."""
    if not values:
        return None
    best = [v for v in values if not v[1]] or values
    return max(best) if latest else min(best)


def _absorb(a: _Record, b: _Record) -> None:
    """Merge fragment ``b`` into ``a`` (``a`` came first in the file)."""
    starts = [(r.start, r.start_guessed) for r in (a, b) if r.timed]
    start = _pick(starts, latest=False)
    if start is not None:
        a.start, a.start_guessed = start
        a.timed = True
        if not a.start_guessed:
            a.pending = ""
    ends = [(r.end, r.end_guessed) for r in (a, b) if r.end is not None]
    end = _pick(ends, latest=True)
    if end is not None:
        a.end, a.end_guessed = end
    if not a.pending and a.start_guessed:
        a.pending = b.pending
    a.name = a.name or b.name
    a.parent = a.parent or b.parent
    if a.kind == UNSET and b.kind != UNSET:
        a.kind, a.shared = b.kind, b.shared
    a.service = a.service or b.service
    a.remote = a.remote or b.remote
    keys = {k for k, _v in a.attrs}
    a.attrs.extend((k, v) for k, v in b.attrs if k not in keys)
    if not a.status and b.status:
        a.status, a.message = b.status, b.message
    seen = {(name, time) for name, time, _a in a.events}
    a.events.extend(e for e in b.events if (e[0], e[1]) not in seen)
    a.events.sort(key=lambda e: e[1])


def merge_fragments(records: list[_Record]) -> tuple[list[_Record], int]:
    """Merge the records that are fragments of one span; return the rest and how many merged.

    A record joins the first earlier record of its trace and span id that is compatible with it
    (:func:`_compatible`), preferring one of the same local service; CLIENT and SERVER halves
    of a shared span never merge (they differ in kind).
    """
    kept: list[_Record] = []
    groups: dict[tuple[str, str], list[_Record]] = {}
    merged = 0
    for rec in records:
        group = groups.setdefault((rec.trace, rec.id), [])
        fits = [r for r in group if _compatible(r, rec)]
        target = next((r for r in fits if r.service == rec.service), fits[0] if fits else None)
        if target is None:
            group.append(rec)
            kept.append(rec)
        else:
            _absorb(target, rec)
            merged += 1
    return kept, merged


class _Reader:
    def __init__(self, file: str, builder: TableBuilder) -> None:
        self.file = file
        self.builder = builder
        self.resources: dict[str, int] = {}

    def report(self, path: str, message: str, severity: str = "warning") -> None:
        self.builder.diagnostics.append(Diagnostic(self.file, path, message, severity))

    # ------------------------------------------------------------------ fields
    def ids(self, span: Any, path: str) -> tuple[str, str, str] | None:
        if not isinstance(span, dict):
            self.report(path, f"expected an object, got {type_name(span)}; span dropped", "error")
            return None
        out = []
        for key in ("traceId", "id"):
            value = span.get(key)
            if value is None or value == "":
                self.report(path, f"missing required field {key}; span dropped", "error")
                return None
            if not isinstance(value, str):
                self.report(
                    f"{path}.{key}",
                    f"expected an id string, got {type_name(value)}; span dropped",
                    "error",
                )
                return None
            out.append(value.lower())
        parent = span.get("parentId")
        if parent is not None and not isinstance(parent, str):
            self.report(
                f"{path}.parentId",
                f"expected an id string, got {type_name(parent)}; span dropped",
                "error",
            )
            return None
        return out[0], out[1], (parent or "").lower()

    def micros(self, span: dict[str, Any], key: str, path: str) -> int | None:
        value = span.get(key)
        if value is None:
            return None
        ns: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            ns = value * 1000
        elif isinstance(value, float) and math.isfinite(value * 1000):  # 1e306 * 1000 = inf
            ns = round(value * 1000)
        elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            ns = int(value) * 1000
        if ns is None or not -TIME_LIMIT <= ns <= TIME_LIMIT:
            got = type_name(value) if ns is None else f"{value} (out of range)"
            self.report(
                f"{path}.{key}", f"expected microseconds as an integer, got {got}; field ignored"
            )
            return None
        return ns

    def text(self, span: dict[str, Any], key: str, path: str) -> str:
        value = span.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        self.report(f"{path}.{key}", f"expected a string, got {type_name(value)}; field ignored")
        return ""

    def annotations(self, span: dict[str, Any], path: str) -> list[tuple[str, int, dict[str, Any]]]:
        """``(value, time ns, endpoint)`` of each readable annotation."""
        raw = span.get("annotations")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.report(
                f"{path}.annotations", f"expected a list, got {type_name(raw)}; field ignored"
            )
            return []
        out = []
        for i, ann in enumerate(raw):
            where = f"{path}.annotations[{i}]"
            if not isinstance(ann, dict):
                self.report(where, f"expected an object, got {type_name(ann)}; dropped")
                continue
            time = self.micros(ann, "timestamp", where)
            value = ann.get("value")
            if time is None or not isinstance(value, str):
                self.report(where, "annotation needs a timestamp and a string value; dropped")
                continue
            endpoint = ann.get("endpoint")
            out.append((value, time, endpoint if isinstance(endpoint, dict) else {}))
        return out

    # ------------------------------------------------------------------ v2
    def v2(self, span: Any, path: str) -> list[_Record]:
        ids = self.ids(span, path)
        if ids is None:
            return []
        rec = _Record(path, *ids)
        kind = span.get("kind")
        if kind is not None:
            rec.kind = _KINDS.get(str(kind).upper(), UNSET)
            if rec.kind == UNSET:
                self.report(f"{path}.kind", f"unknown span kind {kind!r}; field ignored")
        annotations = self.annotations(span, path)
        start = self.micros(span, "timestamp", path)
        if start is None:
            if annotations:
                start = min(t for _v, t, _e in annotations)
                rec.start_guessed = True
                rec.pending = "missing timestamp; using the first annotation"
            else:
                start = 0
                rec.timed = False
        rec.start = start
        duration = self.micros(span, "duration", path)
        rec.end = None if duration is None else start + duration
        for key, field in (("localEndpoint", "service"), ("remoteEndpoint", "remote")):
            endpoint = span.get(key)
            if isinstance(endpoint, dict) and isinstance(endpoint.get("serviceName"), str):
                setattr(rec, field, endpoint["serviceName"])
        name = self.text(span, "name", path)
        tags = span.get("tags")
        if isinstance(tags, dict):
            rec.attrs = [(str(k), v) for k, v in tags.items() if v is not None]
        elif tags is not None:
            self.report(f"{path}.tags", f"expected an object, got {type_name(tags)}; field ignored")
        rec.events = [(value, time, []) for value, time, _e in annotations]
        rec.shared = span.get("shared") is True
        self.finish(rec, name)
        return [rec]

    @staticmethod
    def finish(rec: _Record, name: str) -> None:
        rec.name = name
        for key, value in rec.attrs:
            if key == "error":
                rec.status = 2
                rec.message = value if isinstance(value, str) else str(value)
        if rec.remote:
            rec.attrs.append(("peer.service", rec.remote))

    # ------------------------------------------------------------------ v1
    def v1(self, span: Any, path: str) -> list[_Record]:
        ids = self.ids(span, path)
        if ids is None:
            return []
        name = self.text(span, "name", path)
        annotations = self.annotations(span, path)
        core = {v: (t, e) for v, t, e in reversed(annotations) if v in _CORE}
        binary = self.binary(span, path)
        timestamp = self.micros(span, "timestamp", path)
        duration = self.micros(span, "duration", path)

        halves: list[tuple[int, str | None, str | None]] = []  # kind, start key, end key
        if "cs" in core or "cr" in core:
            halves.append((CLIENT, "cs", "cr"))
        if "sr" in core or "ss" in core:
            halves.append((SERVER, "sr", "ss"))
        if not halves and "ms" in core:
            halves.append((PRODUCER, "ms", None))
        if not halves and "mr" in core:
            halves.append((CONSUMER, "mr", None))
        if not halves:
            halves.append((UNSET, None, None))

        local_service = next(
            (_service(e) for k, _v, e in binary if k == "lc" and _service(e)), ""
        ) or next((v for k, v, _e in binary if k == "lc" and isinstance(v, str)), "")
        records = []
        for n, (kind, first, last) in enumerate(halves):
            rec = _Record(path, *ids)
            rec.kind = kind
            endpoint = core.get(first or "", core.get(last or "", (0, {})))[1]
            rec.service = _service(endpoint) or local_service
            if not rec.service:
                rec.service = next((_service(e) for _v, _t, e in annotations if _service(e)), "")
            begin = core[first][0] if first in core else None
            finish = core[last][0] if last in core else None
            if n == 0 and timestamp is not None:  # timestamp/duration describe the first half
                begin = timestamp if begin is None else begin
                if finish is None and duration is not None:
                    finish = timestamp + duration
            if begin is None and annotations:
                begin = min(t for _v, t, _e in annotations)
                rec.start_guessed = True
                if finish is None and len(annotations) > 1:
                    finish = max(t for _v, t, _e in annotations)
                    rec.end_guessed = True
            if begin is None:
                begin = 0
                rec.timed = False
            rec.start = begin
            rec.end = finish
            # v1 has no shared flag (Zipkin infers one from an absent timestamp, which fragments
            # lack too): left False, so fragments of one side and service always merge
            records.append(rec)
        # attributes, events and remote endpoints go to the half whose service logged them
        by_service = {r.service: r for r in reversed(records)}
        for key, value, endpoint in binary:
            owner = by_service.get(_service(endpoint), records[0])
            if key in _ADDRESS:
                target = records[0] if key == "sa" else records[-1]
                if key == "ca" and len(records) == 1 and records[0].kind != SERVER:
                    continue
                if (
                    isinstance(endpoint.get("serviceName"), str)
                    and target.service != endpoint["serviceName"]
                ):
                    target.remote = endpoint["serviceName"]
                continue
            owner.attrs.append((key, value))
        for value, time, endpoint in annotations:
            if value in _CORE:
                continue
            owner = by_service.get(_service(endpoint), records[0])
            owner.events.append((value, time, []))
        for rec in records:
            self.finish(rec, name)
        return records

    def binary(self, span: dict[str, Any], path: str) -> list[tuple[str, Any, dict[str, Any]]]:
        raw = span.get("binaryAnnotations")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.report(
                f"{path}.binaryAnnotations", f"expected a list, got {type_name(raw)}; ignored"
            )
            return []
        out = []
        for i, ann in enumerate(raw):
            where = f"{path}.binaryAnnotations[{i}]"
            if not isinstance(ann, dict) or not isinstance(ann.get("key"), str):
                self.report(where, "binary annotation needs a string key; dropped")
                continue
            value = ann.get("value")
            if value is None or isinstance(value, list | dict):
                self.report(f"{where}.value", f"unsupported value {type_name(value)}; dropped")
                continue
            endpoint = ann.get("endpoint")
            out.append((ann["key"], value, endpoint if isinstance(endpoint, dict) else {}))
        return out

    # ------------------------------------------------------------------ shared spans
    def resolve_shared(self, records: list[_Record]) -> None:
        """Fill missing timestamps from same-id records, split shared spans, re-point children."""
        groups: dict[tuple[str, str], list[_Record]] = {}
        for rec in records:
            groups.setdefault((rec.trace, rec.id), []).append(rec)
        for rec in records:
            if not rec.timed:
                self.borrow_start(rec, groups[(rec.trace, rec.id)])
        moved: dict[tuple[str, str], str] = {}
        halves: set[int] = set()
        for (trace, span_id), group in groups.items():
            if len(group) == 1:
                continue
            clients = [r for r in group if r.kind == CLIENT]
            servers = [r for r in group if r.kind == SERVER]
            if clients and servers:
                # a kind-less fragment logged by the server's service belongs to the server half
                server_side = {r.service for r in servers} - {r.service for r in clients}
                servers += [r for r in group if r.kind == UNSET and r.service in server_side]
                derived = server_span_id(span_id)
                for rec in servers:
                    rec.id = derived
                    rec.parent = span_id
                    rec.attrs.append((SHARED_ATTRIBUTE, span_id))
                    halves.add(id(rec))
                moved[(trace, span_id)] = derived
                repeats = max(len(group) - len(servers) - 1, 0) + max(len(servers) - 1, 0)
            else:
                repeats = len(group) - 1
            if repeats > 0:
                self.report(
                    group[-1].path,
                    f"span id {span_id} appears {len(group)} times in trace {trace}; "
                    "kept as duplicates",
                )
        if moved:
            for rec in records:
                if id(rec) not in halves and rec.parent:
                    rec.parent = moved.get((rec.trace, rec.parent), rec.parent)

    def borrow_start(self, rec: _Record, group: list[_Record]) -> None:
        """A record without any timestamp (a Zipkin span fragment) takes the start of another
        record of the same span id, preferably from the same service; else 0."""
        donors = [r for r in group if r.timed]
        donor = next((r for r in donors if r.service == rec.service), donors[0] if donors else None)
        if donor is None:
            self.report(f"{rec.path}.timestamp", "missing timestamp; using 0")
            return
        rec.start = donor.start
        self.report(
            f"{rec.path}.timestamp",
            f"missing timestamp; using that of {donor.path or 'another record'} (same span id)",
        )

    def emit(self, records: list[_Record]) -> None:
        b = self.builder
        for rec in records:
            resource = self.resources.get(rec.service)
            if resource is None:
                items = [("service.name", rec.service)] if rec.service else []
                resource = self.resources[rec.service] = b.add_resource(items)
            b.add_span(
                trace_id=rec.trace,
                span_id=rec.id,
                parent_id=rec.parent,
                name=rec.name,
                kind=rec.kind,
                status=rec.status,
                status_message=rec.message,
                start=rec.start,
                end=rec.end,
                resource=resource,
                source=self.file,
                attributes=rec.attrs,
                events=rec.events,
                path=rec.path,
            )
