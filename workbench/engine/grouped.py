"""Linear-time evaluation of three quadratic property shapes, by hashing instead of nesting.

The cost of ``unique_span_ids``, ``service_name_consistent`` and ``no_parent_cycle`` comes
from their *shape*, evaluated literally by every backend: a quantifier (or count) over
``spans`` nested inside another one is a nested loop, O(n^2) in the trace's size, and
``s in ancestors(s)`` walks each span's whole parent chain, O(n x depth). The language has no
way to say "group by", so the spec cannot be rewritten into a linear form; instead this module
recognizes the shapes on the bound IR and evaluates them by hashing:

``forall s in spans [where G]: count(x in spans where K(x) == K(s)) OP c``
    one pass counts each key of ``K`` per trace; the body reads its span's group size.
``forall a in spans, b in spans where X(a) < X(b): Y(a) != Y(b)``
    a pair fails only inside a group of equal ``Y``; a group fails when it holds two distinct
    ``X`` values. Witnesses are enumerated in the nested loop's own order, stopping at the
    witness limit.
``forall s in spans: not s in ancestors(s)``
    one walk over the parent pointers marks the spans that lie on a parent cycle.

Values are computed with the reference interpreter's own functions (one evaluation of ``K``,
``X``, ``Y`` per span), and witnesses are rendered with its message renderer, so verdicts and
witnesses are those of the reference (``tests/engine/test_grouped.py`` checks them against
the nested loops). Every backend dispatches these shapes here (see :func:`match`): the
reference always, the compiled backends when some trace has :data:`MIN_SPANS_COMPILED` spans
or more (below that their nested loops are faster than hashing in Python).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from workbench.engine import reference, term_columns
from workbench.engine.base import PropertyResult, Witness
from workbench.engine.values import UNDEF, equal, order
from workbench.engine.witness import explain, render_message, span_ref
from workbench.lang import ir
from workbench.traces.model import SpanTable

#: Largest trace (spans) from which a compiled backend uses these evaluators: below it, the
#: kernels' nested loops (a few ns per pair) beat hashing in Python (~15 us per span)
MIN_SPANS_COMPILED = 2048

#: The evaluator of a recognized shape: (property, table, params, witness limit) -> result.
Evaluator = Callable[[ir.Property, SpanTable, Mapping[str, Any], int], PropertyResult]


def _vars(node: ir.Node) -> set[str]:
    from workbench.lang.walk import postorder

    return {n.name for n in postorder(node) if isinstance(n, ir.Var)}


def _pure(node: ir.Node) -> bool:
    """A term without quantifiers, aggregates, relations or timeline atoms."""
    from workbench.lang.walk import postorder

    bad = (ir.Quant, ir.Aggregate, ir.Quantile, ir.Comprehension, ir.Rel, ir.Events, ir.Temporal,
           ir.StartOf, ir.EndOf, ir.EventOf, ir.HappensBefore)
    return not any(isinstance(n, bad) for n in postorder(node))


def _rename(node: ir.Node, old: str, new: str) -> ir.Node:
    from workbench.lang.walk import transform

    def rename(v: ir.Node) -> ir.Node | None:
        return ir.Var(new) if isinstance(v, ir.Var) and v.name == old else None

    return transform(node, {ir.Var: rename})


def _same_term(left: ir.Node, right: ir.Node, x: str, s: str) -> bool:
    """``left`` mentions only ``x``, ``right`` only ``s``, and they are one term renamed."""
    return (_vars(left) == {x} and _vars(right) == {s} and _pure(left)
            and _rename(left, x, s) == right)


def _count_eq(f: ir.Node) -> tuple[Any, ...] | None:
    if not (isinstance(f, ir.Quant) and f.kind == "forall" and isinstance(f.domain, ir.Spans)):
        return None
    s, body = f.var, f.body
    if not (isinstance(body, ir.Compare) and isinstance(body.left, ir.Aggregate)
            and body.left.op == "count" and isinstance(body.right, ir.Const)):
        return None
    comp = body.left.domain
    if not (isinstance(comp, ir.Comprehension) and isinstance(comp.domain, ir.Spans)):
        return None
    g = comp.guard
    if not (isinstance(g, ir.Compare) and g.op == "=="):
        return None
    x = comp.var
    if x == s:
        return None
    if _same_term(g.left, g.right, x, s):
        key = g.right
    elif _same_term(g.right, g.left, x, s):
        key = g.left
    else:
        return None
    if f.guard is not None and (not _pure(f.guard) or _vars(f.guard) - {s}):
        return None
    return (s, f.guard, key, body.op, body.right.value)


def _pairs(f: ir.Node) -> tuple[Any, ...] | None:
    if not (isinstance(f, ir.Quant) and f.kind == "forall" and isinstance(f.domain, ir.Spans)
            and f.guard is None and isinstance(f.body, ir.Quant)):
        return None
    a, q = f.var, f.body
    if not (q.kind == "forall" and isinstance(q.domain, ir.Spans) and q.var != a):
        return None
    b, g, body = q.var, q.guard, q.body
    if not (isinstance(g, ir.Compare) and g.op == "<" and isinstance(body, ir.Compare)
            and body.op == "!="):
        return None
    if not (_same_term(g.right, g.left, b, a) and _same_term(body.right, body.left, b, a)):
        return None
    return (a, b, g.left, body.left)


def _cycle(f: ir.Node) -> tuple[Any, ...] | None:
    if not (isinstance(f, ir.Quant) and f.kind == "forall" and isinstance(f.domain, ir.Spans)
            and f.guard is None and isinstance(f.body, ir.Not)):
        return None
    m = f.body.arg
    if (isinstance(m, ir.Member) and m.elem == ir.Var(f.var) and isinstance(m.domain, ir.Rel)
            and m.domain.rel == "ancestors" and m.domain.arg == ir.Var(f.var)):
        return (f.var,)
    return None


def match(formula: ir.Node) -> tuple[str, Evaluator] | None:
    """The linear evaluator of a bound formula of one of the shapes above, or ``None``."""
    found = _count_eq(formula)
    if found is not None:
        return "hash-grouped count(x in spans where K(x) == K(s))", _check_count_eq
    if _pairs(formula) is not None:
        return "hash-grouped pairs (forall a, b where X(a) < X(b): Y(a) != Y(b))", _check_pairs
    if _cycle(formula) is not None:
        return "one parent-pointer walk for s in ancestors(s)", _check_cycle
    return None


# ----------------------------------------------------------------------------- evaluation


class _KnownCounts(reference.Interpreter):
    """The reference, told the value of one count aggregate of span ``var`` on every row.

    A message such as ``used by {count(x in spans where x.span_id == s.span_id)} spans``
    repeats the property's own count; the reference would rerun that nested loop for every
    witness (O(n) each, minutes on a 1M-span trace), while the grouped pass already knows it.
    """

    def __init__(self, ctx: reference.TraceContext, params: Mapping[str, Any],
                 known: tuple[ir.Node, str, np.ndarray]) -> None:
        super().__init__(ctx, params)
        self._known = known

    def value(self, node: ir.Node, env: Mapping[str, Any], pos: int) -> Any:
        agg, var, counts = self._known
        if type(node) is ir.Aggregate and var in env and node == agg:
            return int(counts[env[var]])
        return super().value(node, env, pos)


def _result(prop: ir.Property, table: SpanTable, values: Mapping[str, Any], started: float,
            failures: dict[int, list[dict[str, Any]]], names: list[str],
            known: tuple[ir.Node, str, np.ndarray] | None = None) -> PropertyResult:
    """Verdicts and reference-rendered witnesses from the falsifying environments."""
    holds = np.ones(table.n_traces, dtype=np.bool_)
    witnesses: dict[int, list[Witness]] = {}
    for trace, envs in failures.items():
        holds[trace] = False
        ctx = reference.TraceContext(table, trace)
        interp = (reference.Interpreter(ctx, values) if known is None
                  else _KnownCounts(ctx, values, known))
        found = []
        for env in envs:
            bindings = tuple((name, span_ref(table, env[name])) for name in names)
            found.append(Witness(bindings, render_message(interp, prop, env), None))
        witnesses[trace] = found
    return PropertyResult(prop=prop, holds=holds, witnesses=witnesses, backend="reference",
                          seconds=time.perf_counter() - started)


def _hashable(value: Any) -> Any:
    """The dict key of a value, so that keys are equal exactly when ``==`` holds."""
    value = reference._key(value)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | dict):
        return _frozen(value)
    return value


def _frozen(value: Any) -> Any:
    """A hashable stand-in of a list or map value, equal exactly when Python's ``==`` is
    (inside containers :func:`~workbench.engine.values.equal` is Python's ``==``)."""
    if isinstance(value, list):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _frozen(v)) for k, v in value.items()))
    return value


def _check_count_eq(prop: ir.Property, table: SpanTable, values: Mapping[str, Any],
                    limit: int) -> PropertyResult:
    started = time.perf_counter()
    found = _count_eq(prop.formula)
    assert found is not None
    s, guard, key, op, const = found
    cap = max(limit, 1)  # the reference keeps one witness even at limit 0
    n = table.n_spans
    keys = term_columns.classes(key, s, table, values)
    trace = np.asarray(table.trace_index, dtype=np.int64)
    # group sizes of (trace, key): one sort of the pair packed into one int64
    defined = np.nonzero(~keys.undefined)[0]
    counts = np.zeros(n, dtype=np.int64)
    if defined.size:
        codes = keys.codes[defined]
        packed = trace[defined] * (int(codes.max()) + 1) + codes
        _, inverse, sizes = np.unique(packed, return_inverse=True, return_counts=True)
        counts[defined] = sizes[inverse.reshape(-1)]
    # the comparison `count OP const`, once per distinct count (a table indexed by count)
    distinct = np.nonzero(np.bincount(counts))[0]
    table_ok = np.zeros(int(distinct[-1]) + 1 if distinct.size else 1, dtype=np.bool_)
    table_ok[distinct] = np.fromiter((_compare(op, int(c), const) for c in distinct.tolist()),
                                     dtype=np.bool_, count=distinct.size)
    ok = table_ok[counts]
    bad = ~ok
    if guard is not None:
        bad &= term_columns.holds(guard, s, table, values)
    failures = _first_rows(np.nonzero(bad)[0], trace, cap, s)
    assert isinstance(prop.formula, ir.Quant) and isinstance(prop.formula.body, ir.Compare)
    known = (prop.formula.body.left, s, counts)
    return _result(prop, table, values, started, failures, [s], known)


def _first_rows(rows: np.ndarray, trace: np.ndarray, cap: int, var: str
                ) -> dict[int, list[dict[str, Any]]]:
    """The first ``cap`` of the (ascending) ``rows`` of each trace, as environments."""
    failures: dict[int, list[dict[str, Any]]] = {}
    if rows.size == 0:
        return failures
    t = trace[rows]
    first = np.ones(rows.size, dtype=np.bool_)
    first[1:] = t[1:] != t[:-1]
    run_start = np.maximum.accumulate(np.where(first, np.arange(rows.size), 0))
    keep = (np.arange(rows.size) - run_start) < cap
    for r, tr in zip(rows[keep].tolist(), t[keep].tolist(), strict=True):
        failures.setdefault(tr, []).append({var: r})
    return failures


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    return order(op, a, b)


def _reference_trace(prop: ir.Property, interp: reference.Interpreter, cap: int
                     ) -> list[dict[str, Any]] | None:
    """The reference's own falsifying environments on one trace (``None`` when it holds)."""
    if interp.holds(prop.formula, {}, 0):
        return None
    return [f.env for f in explain(interp, prop.formula, {}, [], 0, False, cap)]


def _check_pairs(prop: ir.Property, table: SpanTable, values: Mapping[str, Any],
                 limit: int) -> PropertyResult:
    started = time.perf_counter()
    found = _pairs(prop.formula)
    assert found is not None
    a, b, xterm, yterm = found
    cap = max(limit, 1)
    xs = term_columns.classes(xterm, a, table, values)
    ys = term_columns.classes(yterm, a, table, values)
    trace = np.asarray(table.trace_index, dtype=np.int64)
    xdef = ~xs.undefined
    # an undefined Y makes `!=` false against every larger X: rare, so the nested loop of
    # the reference decides those traces (still exact)
    odd = np.unique(trace[xdef & ys.undefined])
    # a candidate trace has a Y group holding two distinct X classes: one sort of the
    # (trace, Y, X) triples of the rows with a defined X
    rows = np.nonzero(xdef & ~ys.undefined)[0]
    candidates = np.zeros(0, dtype=np.int64)
    if rows.size:
        t, y, x = trace[rows], ys.codes[rows], xs.codes[rows]
        ny, nx = int(y.max()) + 1, int(x.max()) + 1
        if (int(t.max()) + 1) * ny * nx < 2**62:
            # the distinct triples by one sort of the packed triple (already in order)
            packed = np.unique((t * ny + y) * nx + x)
            t, y, x = packed // (ny * nx), (packed // nx) % ny, packed % nx
        else:
            order = np.lexsort((x, y, t))
            t, y, x = t[order], y[order], x[order]
        same_group = (t[1:] == t[:-1]) & (y[1:] == y[:-1])
        candidates = np.unique(t[1:][same_group & (x[1:] != x[:-1])])
    failures: dict[int, list[dict[str, Any]]] = {}
    for tr in odd.tolist():
        interp = reference.Interpreter(reference.TraceContext(table, tr), values)
        envs = _reference_trace(prop, interp, cap)
        if envs is not None:
            failures[tr] = envs
    odd_set = set(odd.tolist())
    for tr in candidates.tolist():
        if tr in odd_set:
            continue
        bad = _pair_witnesses(table, tr, xs, ys, xterm, a, b, values, cap)
        if bad:
            failures[tr] = bad
    return _result(prop, table, values, started, failures, [a, b])


def _pair_witnesses(table: SpanTable, tr: int, xs: term_columns.Classes,
                    ys: term_columns.Classes, xterm: ir.Node, a: str, b: str,
                    values: Mapping[str, Any], cap: int) -> list[dict[str, Any]]:
    """The falsifying pairs of one trace in the nested loop's order, up to ``cap``."""
    lo, hi = int(table.trace_offsets[tr]), int(table.trace_offsets[tr + 1])
    rows = list(range(lo, hi))
    undef = UNDEF
    if xs.values is not None:
        reps = xs.values
        x_of = [undef if u else reps[c] for c, u in
                zip(xs.codes[lo:hi].tolist(), xs.undefined[lo:hi].tolist(), strict=True)]
    else:
        interp = reference.Interpreter(reference.TraceContext(table, tr), values)
        x_of = [interp.value(xterm, {a: r}, 0) for r in rows]
    y_of = ys.codes[lo:hi].tolist()
    groups: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, r in enumerate(rows):
        if x_of[i] is not undef:
            groups[y_of[i]][int(xs.codes[r])].append(i)
    bad: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        if len(bad) >= cap:
            break
        x = x_of[i]
        if x is undef:
            continue
        group = groups[y_of[i]]
        if len(group) < 2:
            continue
        # the b's of this a, in row order: members of the group with a larger X
        js = sorted(j for members in group.values()
                    if order("<", x, x_of[members[0]]) for j in members)
        for j in js:
            if len(bad) >= cap:
                break
            bad.append({a: r, b: rows[j]})
    return bad


def _check_cycle(prop: ir.Property, table: SpanTable, values: Mapping[str, Any],
                 limit: int) -> PropertyResult:
    started = time.perf_counter()
    found = _cycle(prop.formula)
    assert found is not None
    (s,) = found
    cap = max(limit, 1)
    on_cycle = table_cycle_rows(table)
    failures: dict[int, list[dict[str, Any]]] = {}
    for r in np.nonzero(on_cycle)[0].tolist():
        t = int(table.trace_index[r])
        envs = failures.setdefault(t, [])
        if len(envs) < cap:
            envs.append({s: r})
    return _result(prop, table, values, started, failures, [s])


def table_cycle_rows(table: SpanTable) -> np.ndarray:
    """Which rows of ``table`` lie on a parent cycle: the loader's ``in_cycle`` column (found
    by pointer jumping when the parents were resolved, O(n log depth) vectorized), else
    :func:`cycle_rows` of the parent column."""
    found = getattr(table, "in_cycle", None)
    if found is not None and len(found) == table.n_spans:
        return np.asarray(found, dtype=np.bool_)
    return cycle_rows(np.asarray(table.parent))


def cycle_rows(parent: np.ndarray) -> np.ndarray:
    """Which rows lie on a parent cycle (are their own ancestor), in O(n).

    ``parent[r]`` is the parent row, or negative for none. Each row is visited once: a walk
    from an unvisited row stops at a row already seen; when that row is on the current walk,
    the walk closed a cycle.
    """
    n = parent.shape[0]
    par = parent.tolist()
    state = [0] * n  # 0 unseen, 1 on the current walk, 2 finished
    out = np.zeros(n, dtype=np.bool_)
    for start in range(n):
        if state[start]:
            continue
        path = []
        r = start
        while r >= 0 and state[r] == 0:
            state[r] = 1
            path.append(r)
            r = par[r]
        if r >= 0 and state[r] == 1:  # closed a cycle at r
            k = path.index(r)
            out[path[k:]] = True
        for p in path:
            state[p] = 2
    return out
