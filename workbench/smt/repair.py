"""``otlspec fix``: repairs for traces that violate a spec.

Timing
------
Hosts disagree about the time. For each trace that violates a *timing property* (one that
reads ``start``, ``end``, ``duration``, event times, the timeline or happens-before), every
service ``v`` of the trace gets an integer clock offset ``o_v`` (ns) added to all timestamps
of its spans (starts, ends, events). Z3 ``Optimize`` minimizes ``sum |o_v|`` subject to every
timing property of the spec holding on the shifted trace: the classic clock-skew correction,
reported per service. The shifted trace is re-checked by the reference interpreter.

Structure
---------
Candidates, each with a confidence in ``[0, 1]`` and an explanation: a placeholder parent for
spans whose parent is missing (its id is known, its interval is the hull of its children), a
re-parent onto the tightest span whose interval contains the orphan, dropping an exact
duplicate (same id and content), and re-parenting extra roots under the main root.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import z3

from workbench.engine.reference import check
from workbench.lang import ir
from workbench.smt.domain import Usage, ValueDomain, scan
from workbench.smt.encode import Encoder
from workbench.smt.model import concrete_trace
from workbench.smt.terms import lift, py_value
from workbench.smt.values import EncodingError
from workbench.smt.witness import Disagreement
from workbench.traces.model import MISSING_PARENT, SpanTable
from workbench.traces.otlp_write import dumps
from workbench.traces.records import SpanRecord, records_from_table, to_table

_TIME_FIELDS = frozenset({"start", "end", "duration", "time"})


def is_timing(node: ir.Node) -> bool:
    """Whether a formula reads timestamps (so clock offsets can change its verdict)."""
    if isinstance(node, ir.Field) and node.name in _TIME_FIELDS:
        return True
    if isinstance(node, ir.Temporal | ir.StartOf | ir.EndOf | ir.EventOf | ir.HappensBefore):
        return True
    if isinstance(node, ir.Call) and node.func == "hb":
        return True
    return any(is_timing(c) for c in node.children())


@dataclass
class StructuralRepair:
    """A candidate structural repair of one trace."""

    op: str  # "add_placeholder_parent" | "reparent" | "drop_duplicate"
    span_id: str
    confidence: float
    explanation: str
    parent_id: str = ""
    span: dict[str, Any] | None = None  # the placeholder to add
    index: int = -1  # which duplicate (row order within the trace) to drop


@dataclass
class TraceRepair:
    """What ``fix`` found and proposes for one trace."""

    trace: int
    trace_id: str
    violated: list[str]
    timing_violated: list[str]
    status: str  # "ok" | "fixed" | "unsat" | "unknown" | "skipped"
    offsets: dict[str, int] = field(default_factory=dict)
    reason: str = ""
    skipped_properties: list[str] = field(default_factory=list)
    structural: list[StructuralRepair] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The patch entry of this trace."""
        out = asdict(self)
        out["structural"] = [asdict(r) for r in self.structural]
        out["operations"] = [{"op": "shift_service", "service": s, "offset_ns": o}
                             for s, o in sorted(self.offsets.items()) if o]
        return out


@dataclass
class FixReport:
    """The repairs of every trace (the JSON patch is :meth:`to_json`)."""

    spec: str
    traces: list[TraceRepair]

    @property
    def all_timing_fixed(self) -> bool:
        """Every timing violation was repaired by clock offsets."""
        return all(t.status in ("ok", "fixed") for t in self.traces)

    def to_json(self) -> dict[str, Any]:
        """The JSON patch (format documented in ``docs/reasoning.md``)."""
        return {"version": 1, "kind": "otlspec-repair-patch", "spec": self.spec,
                "traces": [t.to_json() for t in self.traces if t.status != "ok"
                           or t.structural]}

    def summary(self) -> str:
        """One line per repaired trace."""
        lines = []
        for t in self.traces:
            if t.status == "ok" and not t.structural:
                continue
            offs = ", ".join(f"{s or '<no service>'}: {o:+d}ns" for s, o in
                             sorted(t.offsets.items()) if o)
            lines.append(f"trace {t.trace_id}: timing {t.status}"
                         + (f" (offsets {offs})" if offs else "")
                         + (f"; {len(t.structural)} structural candidate(s)"
                            if t.structural else "")
                         + (f"; {t.reason}" if t.reason else ""))
        return "\n".join(lines) or "nothing to repair"


# ------------------------------------------------------------------------ timing


def repair_timing(spec: ir.Spec, table: SpanTable, trace: int, props: Sequence[ir.Property],
                  timeout: float) -> tuple[str, dict[str, int], str, list[str]]:
    """Minimal per-service offsets making ``props`` hold on one trace.

    Returns (status, offsets, reason, skipped property names).
    """
    params = {p.name: p.default.value for p in spec.params}
    usage = Usage()
    for p in props:
        scan(p.formula, usage)
    domain = ValueDomain(usage.strings, usage.numbers, (), ())
    services = sorted({table.service_of(r) for r in table.trace_rows(trace)})
    offset = {s: z3.Int(f"offset[{s}]") for s in services}
    terms = concrete_trace(table, trace, usage, domain,
                           shift=lambda r: offset[table.service_of(r)])
    enc = Encoder(terms, params)
    goals = []
    skipped = []
    for p in props:
        try:
            goals.append(enc.formula(p.formula))
        except EncodingError as err:
            skipped.append(f"{p.name} ({err})")
    opt = z3.Optimize()
    opt.set("timeout", max(1, int(timeout * 1000)))
    for a in terms.axioms:
        opt.add(lift(a))
    for g in goals:
        opt.add(lift(g))
    def magnitude(o: z3.ArithRef) -> z3.ArithRef:
        return z3.If(o >= 0, o, -o)

    # Lexicographic objectives: the least total correction first; among equally small totals
    # (often a whole segment of them), the least correction of each service in name order,
    # so that the answer is unique and does not depend on the solver's search.
    opt.minimize(z3.Sum(*[magnitude(o) for o in offset.values()]))
    for service in sorted(offset):
        opt.minimize(magnitude(offset[service]))
    r = opt.check()
    if r == z3.sat:
        m = opt.model()
        return "fixed", {s: int(py_value(m, o)) for s, o in offset.items()}, "", skipped
    if r == z3.unsat:
        return "unsat", {}, "no clock offsets per service make the timing properties hold", \
            skipped
    return "unknown", {}, f"z3: {opt.reason_unknown()}", skipped


# ------------------------------------------------------------------------ structure


def structural_candidates(table: SpanTable, trace: int) -> list[StructuralRepair]:
    """Placeholder parents, re-parents and duplicate drops for one trace."""
    rows = list(table.trace_rows(trace))
    out: list[StructuralRepair] = []
    # duplicates
    by_id: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        by_id[table.span_id_hex(r)].append(r)
    records = {r: rec for r, rec in zip(rows, records_from_table(table, trace), strict=True)}
    for sid, dup in by_id.items():
        if len(dup) < 2 or not sid:
            continue
        first = records[dup[0]]
        for k, r in enumerate(dup[1:], start=1):
            same = _same_content(first, records[r])
            out.append(StructuralRepair(
                "drop_duplicate", sid, 0.95 if same else 0.3,
                "an exact copy of an earlier span with this id (a re-export)" if same else
                "shares its id with a different span (e.g. a Zipkin shared client/server span); "
                "dropping it loses data, re-identifying it may be better",
                index=k))
    # missing parents
    orphans: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        if int(table.parent[r]) == MISSING_PARENT:
            orphans[table.parent_id_hex(r)].append(r)
    for pid, kids in orphans.items():
        lo = min(int(table.start[r]) for r in kids)
        hi = max(int(table.end[r]) for r in kids)
        services = sorted({table.service_of(r) for r in kids})
        out.append(StructuralRepair(
            "add_placeholder_parent", pid, 0.7,
            f"{len(kids)} span(s) name parent {pid}, which is not in the trace; a placeholder "
            f"covering their interval restores the tree (the span existed: its id was "
            f"propagated)",
            span={"span_id": pid, "name": "placeholder (missing span)", "start": lo, "end": hi,
                  "service": services[0] if len(services) == 1 else ""}))
        for r in kids:
            host = _tightest_container(table, rows, r)
            if host is not None:
                out.append(StructuralRepair(
                    "reparent", table.span_id_hex(r), 0.4,
                    f"re-parent onto {table.name_of(host)} ({table.span_id_hex(host)}), the "
                    "tightest span whose interval contains this one",
                    parent_id=table.span_id_hex(host)))
    # several roots
    roots = [r for r in rows if int(table.parent_id_len[r]) == 0]
    if len(roots) > 1:
        main = max(roots, key=lambda r: int(table.end[r]) - int(table.start[r]))
        for r in roots:
            if r != main and int(table.start[main]) <= int(table.start[r]) and \
                    int(table.end[r]) <= int(table.end[main]):
                out.append(StructuralRepair(
                    "reparent", table.span_id_hex(r), 0.5,
                    f"a second root inside the main root {table.name_of(main)}'s interval: "
                    "probably lost context", parent_id=table.span_id_hex(main)))
    return out


def _same_content(a: SpanRecord, b: SpanRecord) -> bool:
    return (a.name, a.kind, a.start, a.end, a.parent_id, a.attributes) == (
        b.name, b.kind, b.start, b.end, b.parent_id, b.attributes)


def _tightest_container(table: SpanTable, rows: list[int], r: int) -> int | None:
    s, e = int(table.start[r]), int(table.end[r])
    best, width = None, None
    for h in rows:
        if h == r or table.span_id_hex(h) == table.span_id_hex(r):
            continue
        if int(table.start[h]) <= s and e <= int(table.end[h]) and bool(table.has_end[h]):
            w = int(table.end[h]) - int(table.start[h])
            if width is None or w < width:
                best, width = h, w
    return best


# ------------------------------------------------------------------------ driver


def fix_traces(spec: ir.Spec, table: SpanTable, timeout: float = 30.0) -> FixReport:
    """Check ``spec`` on every trace and propose repairs for the violated ones."""
    result = check(spec, table, max_witnesses=1)
    timing = [p for p in spec.properties if is_timing(p.formula)]
    out: list[TraceRepair] = []
    for t in range(table.n_traces):
        violated = [res.name for res in result.results if not bool(res.holds[t])]
        timing_bad = [p.name for p in timing if p.name in violated]
        rep = TraceRepair(t, table.trace_id_hex[t], violated, timing_bad, "ok")
        if timing_bad:
            status, offsets, reason, skipped = repair_timing(spec, table, t, timing, timeout)
            rep.status, rep.offsets, rep.reason, rep.skipped_properties = (
                status, offsets, reason, skipped)
            if status == "fixed":
                _verify_offsets(spec, table, t, offsets, timing, skipped)
        rep.structural = structural_candidates(table, t)
        out.append(rep)
    return FixReport(spec.name, out)


def repaired_records(table: SpanTable, rep: TraceRepair,
                     min_confidence: float = 1.1) -> list[SpanRecord]:
    """The trace with offsets (and structural repairs at or above ``min_confidence``)."""
    records = records_from_table(table, rep.trace)
    services = [table.service_of(r) for r in table.trace_rows(rep.trace)]
    records = [rec.shifted(rep.offsets.get(svc, 0)) for rec, svc in
               zip(records, services, strict=True)]
    chosen = [c for c in rep.structural if c.confidence >= min_confidence]
    seen: dict[str, int] = defaultdict(int)
    drops = {(c.span_id, c.index) for c in chosen if c.op == "drop_duplicate"}
    kept = []
    for rec in records:
        k = seen[rec.span_id]
        seen[rec.span_id] += 1
        if (rec.span_id, k) not in drops:
            kept.append(rec)
    reparent = {c.span_id: c.parent_id for c in chosen if c.op == "reparent"}
    for rec in kept:
        if rec.span_id in reparent:
            rec.parent_id = reparent[rec.span_id]
    for c in chosen:
        if c.op == "add_placeholder_parent" and c.span is not None:
            svc = c.span["service"]
            kept.append(SpanRecord(trace_id=rep.trace_id, span_id=c.span_id,
                                   name=c.span["name"], start=c.span["start"],
                                   end=c.span["end"],
                                   resource=[("service.name", svc)] if svc else []))
    return kept


def _verify_offsets(spec: ir.Spec, table: SpanTable, trace: int, offsets: dict[str, int],
                    timing: Sequence[ir.Property], skipped: Sequence[str]) -> None:
    rep = TraceRepair(trace, table.trace_id_hex[trace], [], [], "fixed", offsets)
    fixed = to_table(repaired_records(table, rep))
    names = {s.split(" ")[0] for s in skipped}
    sub = ir.Spec(spec.name, "", spec.params,
                  tuple(p for p in timing if p.name not in names))
    after = check(sub, fixed, max_witnesses=1)
    bad = [r.name for r in after.results if not bool(r.holds[0])]
    if bad:
        raise Disagreement(f"trace {table.trace_id_hex[trace]}: after the clock offsets the "
                           f"reference still finds {', '.join(bad)} violated (an encoding bug)")


def write_repaired(report: FixReport, table: SpanTable, spec: ir.Spec, directory: str,
                   min_confidence: float = 0.6) -> list[Path]:
    """Write each repaired trace as ``DIR/<trace id>.json`` (OTLP/JSON)."""
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for rep in report.traces:
        if rep.status not in ("fixed",) and not any(
                c.confidence >= min_confidence for c in rep.structural):
            continue
        records = repaired_records(table, rep, min_confidence)
        path = out_dir / f"{rep.trace_id}.json"
        path.write_text(dumps(records), encoding="utf-8")
        written.append(path)
    return written


def patch_text(report: FixReport) -> str:
    """The JSON patch as text."""
    return json.dumps(report.to_json(), indent=2) + "\n"
