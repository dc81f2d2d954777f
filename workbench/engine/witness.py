"""Witnesses and messages: why a property fails on a trace, in words.

Shared by the reference interpreter and the compiled backends (which find the falsifying
bindings in their kernels and render the messages here, on the host). :func:`explain` finds
the falsifying assignments of a formula, :func:`render_message` fills a property's message
template, :func:`span_ref` and :func:`describe_point` name spans and timeline points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.engine.base import SpanRef
from workbench.engine.values import UNDEF, format_duration, is_number
from workbench.lang import ir
from workbench.traces.context import EVENT, PHASE_NAMES, Point
from workbench.traces.model import EventView, SpanTable

if TYPE_CHECKING:
    from workbench.engine.reference import Interpreter


@dataclass
class Failure:
    env: dict[str, Any]
    order: list[str]
    position: int | None


def explain(
    interp: Interpreter,
    node: ir.Node,
    env: dict[str, Any],
    order: list[str],
    pos: int,
    moved: bool,
    limit: int,
) -> list[Failure]:
    """The falsifying assignments of a formula that does not hold at ``pos``.

    Descends through leading ``forall`` binders (one failure per falsifying member), through
    ``always`` (to the first failing position), into the first false conjunct, and through
    ``not exists``; anything else is reported as one failure at the current bindings.
    """
    if isinstance(node, ir.Quant) and node.kind == "forall":
        out: list[Failure] = []
        for m in interp.members(node.domain, env, pos):
            inner = {**env, node.var: m}
            if node.guard is not None and not interp.holds(node.guard, inner, pos):
                continue
            if not interp.holds(node.body, inner, pos):
                out.extend(
                    explain(
                        interp, node.body, inner, [*order, node.var], pos, moved, limit - len(out)
                    )
                )
                if len(out) >= limit:
                    break
        return out
    if isinstance(node, ir.Not) and isinstance(node.arg, ir.Quant) and node.arg.kind == "exists":
        q = node.arg
        as_forall = ir.Quant("forall", q.var, q.domain, q.guard, ir.Not(q.body))
        return explain(interp, as_forall, env, order, pos, moved, limit)
    if isinstance(node, ir.Temporal) and node.op in ("always", "historically"):
        for j in interp.window(pos, node.interval, node.op == "always"):
            if not interp.holds(node.args[0], env, j):
                return explain(interp, node.args[0], env, order, j, True, limit)
    if isinstance(node, ir.And):
        for arg in node.args:
            if not interp.holds(arg, env, pos):
                return explain(interp, arg, env, order, pos, moved, limit)
    if isinstance(node, ir.Implies) and ir.is_temporal(node.left):
        # an implication whose trigger is a timeline atom: the failure is at this point
        return [Failure(dict(env), order, pos)]
    return [Failure(dict(env), order, pos if moved else None)]


def span_ref(table: SpanTable, value: Any) -> SpanRef:
    """The :class:`SpanRef` of a bound span row or event."""
    if isinstance(value, EventView):
        row = value.row
        summary = table.row_summary(row)
        return SpanRef(
            row,
            summary["trace_id"],
            summary["span_id"],
            f"{summary['name']}#event[{value.index}] {value.name}",
            summary["service"],
        )
    summary = table.row_summary(int(value))
    return SpanRef(
        int(value), summary["trace_id"], summary["span_id"], summary["name"], summary["service"]
    )


def render_message(interp: Interpreter, prop: ir.Property, env: Mapping[str, Any]) -> str:
    """Fill the property's message template with the witness's values."""
    if prop.message is None:
        return f"property {prop.name} is violated"
    out: list[str] = []
    for part in prop.message.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        try:
            value = interp.value(part, env, 0)
        except KeyError:
            value = UNDEF
        out.append(render_value(part, value, env))
    return "".join(out)


def render_value(expr: ir.Node, value: Any, env: Mapping[str, Any]) -> str:
    """The text of a message hole's value: durations with units, floats to 6 digits."""
    if value is UNDEF:
        return "<undefined>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, EventView):
        return value.name
    typ = static_type(expr, env)
    if typ is ir.Type.DURATION and is_number(value):
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def static_type(expr: ir.Node, env: Mapping[str, Any]) -> ir.Type | None:
    """Enough typing to render values: durations are shown with units."""
    if isinstance(expr, ir.Const | ir.ParamRef):
        return expr.type
    if isinstance(expr, ir.Field):
        subject = env.get(expr.base.name)
        table = ir.EVENT_FIELDS if isinstance(subject, EventView) else ir.SPAN_FIELDS
        return table.get(expr.name, (None,))[0]
    if isinstance(expr, ir.Arith):
        left, right = static_type(expr.left, env), static_type(expr.right, env)
        if left is ir.Type.TIME and right is ir.Type.TIME and expr.op == "-":
            return ir.Type.DURATION
        if ir.Type.DURATION in (left, right) and expr.op != "/":
            return ir.Type.TIME if ir.Type.TIME in (left, right) else ir.Type.DURATION
        return left
    if isinstance(expr, ir.Neg):
        return static_type(expr.operand, env)
    if isinstance(expr, ir.Aggregate) and expr.body is not None and expr.op != "distinct":
        return static_type(expr.body, {**env, str(expr.var): 0})
    if isinstance(expr, ir.Quantile):
        return static_type(expr.body, {**env, expr.var: 0})
    return None


def describe_point(table: SpanTable, p: Point) -> str:
    """``start(name#id)``, ``end(name#id)`` or ``event(name#id, 'retry')``."""
    label = f"{table.name_of(p.row)}#{table.span_id_hex(p.row)}"
    if p.phase == EVENT:
        return f"event({label}, {p.name!r})"
    return f"{PHASE_NAMES[p.phase]}({label})"


__all__ = [
    "Failure",
    "describe_point",
    "explain",
    "render_message",
    "render_value",
    "span_ref",
    "static_type",
]
