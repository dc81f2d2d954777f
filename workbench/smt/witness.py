"""From a Z3 model to a trace, and the reference checker's second opinion on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from workbench.engine.reference import check
from workbench.lang import ir
from workbench.smt.model import ORPHAN, ROOT, TRACE_ID, TraceTerms, orphan_id, slot_id
from workbench.smt.terms import py_value
from workbench.smt.values import SVal
from workbench.traces.model import KIND_NAMES, STATUS_NAMES
from workbench.traces.records import SpanRecord, to_table

#: Trace id used for links that leave the trace.
EXTERNAL_TRACE = "5eed00000000000000000000000000ff"


class Disagreement(Exception):
    """The reference checker and the Z3 model disagree about a generated trace (a bug)."""


def _decode(model: z3.ModelRef, v: SVal, terms: TraceTerms) -> Any:
    dom = terms.domain
    if v.kind == "py":
        return v.py
    if v.kind == "str":
        return dom.strings[py_value(model, v.term)]
    if v.kind == "any":
        return dom.decode(py_value(model, v.term))
    return py_value(model, v.term)


def extract(model: z3.ModelRef, terms: TraceTerms) -> list[SpanRecord]:
    """The spans of a symbolic trace in ``model``, in row (slot) order."""
    out: list[SpanRecord] = []
    for i, sp in enumerate(terms.spans):
        if not py_value(model, sp.act):
            continue
        f = sp.fields
        par = py_value(model, sp.par)
        parent = "" if par == ROOT else orphan_id(i) if par == ORPHAN else slot_id(par)
        resource: list[tuple[str, Any]] = []
        service = _decode(model, f["service"], terms)
        if "service.name" not in sp.resource and service != "":
            resource.append(("service.name", service))
        for key, v in sorted(sp.resource.items()):
            value = _decode(model, v, terms)
            if value is not None:
                resource.append((key, value))
        attrs: dict[str, Any] = {}
        for key, v in sorted(sp.attrs.items()):
            value = _decode(model, v, terms)
            if value is not None:
                attrs[key] = value
        extra_term = f["attribute_count"]
        total = _decode(model, extra_term, terms)
        for m in range(int(total) - len(attrs)):
            attrs[f"otlspec.extra.{m}"] = "x"
        events = []
        for ev in sp.events:
            if py_value(model, ev.act):
                ev_attrs = [(k, _decode(model, v, terms)) for k, v in sorted(ev.attrs.items())]
                events.append((_decode(model, ev.name, terms), int(py_value(model, ev.time)),
                               {k: v for k, v in ev_attrs if v is not None}))
        links: list[tuple[str, str, dict[str, Any]]] = []
        for l_act, target in sp.links:
            if py_value(model, l_act):
                j = py_value(model, target)
                links.append((TRACE_ID, slot_id(j), {}) if j >= 0 else
                             (EXTERNAL_TRACE, "00000000000000ff", {}))
        has_end = bool(py_value(model, sp.has_end))
        out.append(SpanRecord(
            trace_id=TRACE_ID,
            span_id=slot_id(i),
            parent_id=parent,
            name=_decode(model, f["name"], terms),
            kind=KIND_NAMES.index(_decode(model, f["kind"], terms)),
            status=STATUS_NAMES.index(_decode(model, f["status"], terms)),
            status_message=_decode(model, f["status_message"], terms),
            start=int(py_value(model, sp.start)),
            end=int(py_value(model, sp.end)) if has_end else None,
            flags=int(py_value(model, f["flags"].term if f["flags"].kind != "py"
                                else f["flags"].py)),
            trace_state=_decode(model, f["trace_state"], terms),
            scope=_decode(model, f["scope"], terms),
            resource=resource,
            attributes=attrs,
            events=events,
            links=links,
        ))
    return out


@dataclass
class Recheck:
    """The reference verdicts on a generated trace, and whether they are what was expected."""

    verdicts: dict[str, bool]
    expected: dict[str, bool]

    @property
    def agrees(self) -> bool:
        """Every expected verdict matches the reference."""
        return all(self.verdicts.get(k) == v for k, v in self.expected.items())

    def mismatches(self) -> list[str]:
        """Properties whose reference verdict differs from the expected one."""
        return [k for k, v in self.expected.items() if self.verdicts.get(k) != v]


def recheck(records: Sequence[SpanRecord], props: Sequence[ir.Property],
            params: Mapping[str, Any], expected: Mapping[str, bool]) -> Recheck:
    """Check ``props`` on the trace with the reference interpreter."""
    table = to_table(list(records))
    spec = ir.Spec(name="recheck", description="", params=(), properties=tuple(props))
    result = check(spec, table, dict(params), max_witnesses=1)
    verdicts = {p.name: result.holds(p.name, 0) for p in props}
    return Recheck(verdicts, dict(expected))
