"""Fault variants on the shape and timing of traces: orphans, cycles, duplicate ids, missing
ends, clock skew, timestamp errors, broken context propagation and wrong span kinds.

Every function takes an :class:`~workbench.datasets.faults.base.Editor` and returns
``(primary, affected, detail)`` or ``None`` when the trace offers no place for the variant.
"""

from __future__ import annotations

from workbench.datasets.faults.base import SKEW_TOLERANCE, Editor, Result, remove
from workbench.datasets.model import CLIENT, CONSUMER, ERROR, INTERNAL, PRODUCER, SERVER, GenSpan

MS = 1_000_000


# ------------------------------------------------------------------------------ structure


def orphan_lost_span(x: Editor) -> Result:
    """Drop a non-root span that has children (a lost export): its children name a parent
    that is not in the trace. Primary: the children; affected: their descendants."""
    s = x.pick([s for s in x.spans if s.parent_id and s.span_id in x.kids])
    if s is None:
        return None
    kids = x.kids[s.span_id]
    remove(x.spans, s)
    below = [d for k in kids for d in x.trace.subtree(k) if d not in kids]
    return kids, below, f"dropped {s.name} ({s.service})"


def orphan_lost_root(x: Editor) -> Result:
    """Drop the root span: every other span is below a missing parent and there is no root."""
    roots = [s for s in x.spans if not s.parent_id]
    if len(roots) != 1 or roots[0].span_id not in x.kids:
        return None
    root = roots[0]
    kids = x.kids[root.span_id]
    remove(x.spans, root)
    rest = [s for s in x.spans if s not in kids]
    return kids, rest, f"dropped the root {root.name}"


def cycle_parent_cycle(x: Editor) -> Result:
    """Point a non-root span's parent id at one of its descendants (a corrupted parent id):
    the path between them becomes a parent cycle cut off from the root."""
    cands = [s for s in x.spans if s.parent_id and s.span_id in x.kids]
    s = x.pick(cands)
    if s is None:
        return None
    below = [d for d in x.trace.subtree(s) if d is not s]
    d = x.pick(below)
    assert d is not None
    path = [d]
    p = x.parent(d)
    while p is not None and p is not s:
        path.append(p)
        p = x.parent(p)
    s.parent_id = d.span_id
    loop = [s, *path]
    return loop, [b for b in below if b not in loop], f"{s.name} now names {d.name} as parent"


def duplicate_id_reused_id(x: Editor) -> Result:
    """Give a leaf the span id of another leaf (a weak id generator)."""
    leaves = x.leaves()
    if len(leaves) < 2:
        return None
    a, b = x.rng.sample(leaves, 2)
    b.span_id = a.span_id
    return [a, b], [], f"{b.name} reuses the id of {a.name}"


def missing_end_unended(x: Editor) -> Result:
    """Remove a span's end time (a span that was never ended)."""
    s = x.pick([s for s in x.spans if s.parent_id and s.end is not None])
    if s is None:
        return None
    s.end = None
    return [s], [], f"{s.name} has no end"


# ------------------------------------------------------------------------------ time


def _skew(x: Editor, sign: int) -> Result:
    services = sorted({s.service for s in x.spans if (p := x.parent(s)) is not None
                       and p.service != s.service})
    x.rng.shuffle(services)
    for svc in services:
        delta = sign * round(x.rng.uniform(0.3, 2.0) * 1000) * MS
        primary: dict[int, GenSpan] = {}
        expect: set[str] = set()
        for c in x.spans:
            p = x.parent(c)
            if p is None or (p.service == svc) == (c.service == svc):
                continue
            rel = delta if c.service == svc else -delta  # child's shift relative to parent
            mine = c if c.service == svc else p
            if p.start - (c.start + rel) > 2 * SKEW_TOLERANCE:
                primary[id(mine)] = mine
                expect.add("child_starts_after_parent")
            sync = p.kind not in (PRODUCER, CONSUMER) and c.kind not in (PRODUCER, CONSUMER)
            if (sync and p.end is not None and c.end is not None
                    and (c.end + rel) - p.end > 2 * SKEW_TOLERANCE):
                primary[id(mine)] = mine
                expect.add("child_ends_within_parent")
        if not primary:
            continue
        mine_all = [s for s in x.spans if s.service == svc]
        for s in mine_all:
            s.shift(delta)
        x.expect = tuple(sorted(expect))
        prim = [s for s in mine_all if id(s) in primary]
        return prim, [s for s in mine_all if id(s) not in primary], \
            f"clock of {svc} off by {delta / MS:+.0f} ms"
    return None


def clock_skew_late_clock(x: Editor) -> Result:
    """Shift every span (and event) of one service by +0.3..2 s: that host's clock is ahead."""
    return _skew(x, +1)


def clock_skew_early_clock(x: Editor) -> Result:
    """Shift every span (and event) of one service by -0.3..2 s: that host's clock is behind."""
    return _skew(x, -1)


def timestamp_error_negative_duration(x: Editor) -> Result:
    """Swap the start and end of a leaf (the end was read from another clock)."""
    s = x.pick([s for s in x.leaves() if s.status != ERROR and s.duration > 0])
    if s is None:
        return None
    assert s.end is not None
    s.start, s.end = s.end, s.start
    return [s], [], f"{s.name} ends before it starts"


def timestamp_error_event_outside_span(x: Editor) -> Result:
    """Add an event stamped 2-10 s after its span ended (a late callback's clock)."""
    s = x.pick([s for s in x.spans if s.end is not None])
    if s is None:
        return None
    assert s.end is not None
    s.events.append(("callback.completed", s.end + round(x.rng.uniform(2, 10) * 1e9),
                     {"app.callback": "notify"}))
    return [s], [], f"event 'callback.completed' of {s.name} after the span"


def timestamp_error_unit_error(x: Editor) -> Result:
    """Stretch a leaf's duration a million-fold (nanoseconds read as milliseconds): a span of
    4 ms or more then lasts over an hour."""
    s = x.pick([s for s in x.leaves() if s.duration >= 4 * MS and s.status != ERROR])
    if s is None:
        return None
    assert s.end is not None
    s.end = s.start + s.duration * 1_000_000
    return [s], [], f"{s.name} lasts {s.duration / 1e9:.0f} s"


# ------------------------------------------------------------------------------ context


def broken_propagation_new_root(x: Editor) -> Result:
    """A callee drops the incoming parent span id but keeps the trace id: its SERVER span
    becomes a second root. Affected: the original root and the new root's subtree."""
    s = x.pick(x.entries())
    if s is None:
        return None
    root = [r for r in x.spans if not r.parent_id]
    s.parent_id = ""
    s.flags &= ~0x200
    return [s], [*root, *(d for d in x.trace.subtree(s) if d is not s)], \
        f"{s.service} lost the parent of {s.name}"


def broken_propagation_sampling_decision(x: Editor) -> Result:
    """A callee ignores the incoming sampling decision: its subtree is marked unsampled below
    a sampled parent (flags recorded on both sides)."""
    # an SDK that records IS_REMOTE bits (0x100) still writes non-zero flags when unsampled
    s = x.pick([s for s in x.entries() if s.flags & 0x100 and (p := x.parent(s)) is not None
                and p.flags])
    if s is None:
        return None
    sub = x.trace.subtree(s)
    for d in sub:
        d.flags &= ~1
    x.expect = ("sampled_flag_inherited",)
    if any(d.status == ERROR and d.flags for d in sub):
        x.expect = ("sampled_flag_inherited", "error_trace_sampled")
    return [s], sub[1:], f"{s.service} sampled {s.name} out under a sampled parent"


def broken_propagation_consumer_context(x: Editor) -> Result:
    """A CONSUMER continues the ambient context (the publisher's parent) instead of the
    message's: its parent is no longer the PRODUCER."""
    cands = []
    for s in x.spans:
        p = x.parent(s)
        if s.kind == CONSUMER and not s.links and p is not None and p.kind == PRODUCER:
            gp = x.parent(p)
            if gp is not None and gp.kind not in (PRODUCER, CONSUMER):
                cands.append((s, gp))
    if not cands:
        return None
    s, gp = x.rng.choice(cands)
    s.parent_id = gp.span_id
    return [s], [gp], f"{s.name} continued {gp.name}'s context"


def broken_propagation_detached_work(x: Editor) -> Result:
    """Background work keeps the request's context: a synchronous INTERNAL span below the
    root starts 0.5-3 s after the root ended (the request was answered long before)."""
    roots = [r for r in x.spans if not r.parent_id and r.end is not None and r.kind == SERVER]
    if len(roots) != 1:
        return None
    root = roots[0]
    assert root.end is not None
    parent = x.pick([s for s in x.spans if s.parent_id and x.sync(s) and s.end is not None
                     and s.kind in (SERVER, INTERNAL)])
    if parent is None:
        return None
    start = root.end + round(x.rng.uniform(0.5, 3.0) * 1000) * MS
    span = GenSpan(root.trace_id, f"{x.rng.getrandbits(64) or 1:016x}", parent.span_id,
                   "refresh cache", INTERNAL, start=start,
                   end=start + round(x.rng.uniform(1, 20) * MS), resource=parent.resource,
                   scope=parent.scope, scope_version=parent.scope_version,
                   service=parent.service, flags=parent.flags)
    x.spans.append(span)
    return [span], [parent, root], f"{span.name} starts after the request ended"


# ------------------------------------------------------------------------------ kinds


def wrong_kind_server_as_internal(x: Editor) -> Result:
    """The callee's entry span is recorded as INTERNAL instead of SERVER."""
    s = x.pick([s for s in x.entries() if x.plain(s)])
    if s is None:
        return None
    s.kind = INTERNAL
    p = x.parent(s)
    return [s], [p] if p else [], f"{s.name} ({s.service}) recorded as INTERNAL"


def _exit_spans(x: Editor) -> list[GenSpan]:
    return [c for c in x.spans if c.kind == CLIENT and x.plain(c) and x.sync(c)
            and (p := x.parent(c)) is not None and p.service == c.service
            and p.kind != CLIENT and any(k.kind == SERVER and k.service != c.service
                                         for k in x.kids.get(c.span_id, []))]


def wrong_kind_client_as_internal(x: Editor) -> Result:
    """An outgoing call is recorded as INTERNAL instead of CLIENT."""
    c = x.pick(_exit_spans(x))
    if c is None:
        return None
    c.kind = INTERNAL
    return [c], x.kids[c.span_id], f"{c.name} ({c.service}) recorded as INTERNAL"


def wrong_kind_client_as_server(x: Editor) -> Result:
    """An outgoing call is recorded as SERVER instead of CLIENT."""
    c = x.pick(_exit_spans(x))
    if c is None:
        return None
    c.kind = SERVER
    p = x.parent(c)
    return [c], [*x.kids[c.span_id], *([p] if p else [])], \
        f"{c.name} ({c.service}) recorded as SERVER"


#: (class, variant) -> injector.
VARIANTS = {
    ("orphan", "lost_span"): orphan_lost_span,
    ("orphan", "lost_root"): orphan_lost_root,
    ("cycle", "parent_cycle"): cycle_parent_cycle,
    ("duplicate_id", "reused_id"): duplicate_id_reused_id,
    ("missing_end", "unended"): missing_end_unended,
    ("clock_skew", "late_clock"): clock_skew_late_clock,
    ("clock_skew", "early_clock"): clock_skew_early_clock,
    ("timestamp_error", "negative_duration"): timestamp_error_negative_duration,
    ("timestamp_error", "event_outside_span"): timestamp_error_event_outside_span,
    ("timestamp_error", "unit_error"): timestamp_error_unit_error,
    ("broken_propagation", "new_root"): broken_propagation_new_root,
    ("broken_propagation", "sampling_decision"): broken_propagation_sampling_decision,
    ("broken_propagation", "consumer_context"): broken_propagation_consumer_context,
    ("broken_propagation", "detached_work"): broken_propagation_detached_work,
    ("wrong_kind", "server_as_internal"): wrong_kind_server_as_internal,
    ("wrong_kind", "client_as_internal"): wrong_kind_client_as_internal,
    ("wrong_kind", "client_as_server"): wrong_kind_client_as_server,
}
