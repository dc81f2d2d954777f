"""Code generation for terms: values, string sites, attribute lookups (see :mod:`.codegen`).

Every term compiles to a :class:`Val`: three expressions ``(tag, i, f)`` naming locals or
literals (see :mod:`workbench.engine.kernel_lib` for the encoding) and, when it is known at
compile time, the static tag, which lets comparisons of plainly typed operands (``s.kind ==
CLIENT``, ``c.start >= p.start - skew``) compile to one integer comparison.

String functions never run in a kernel: a term that needs one (``lower(x)``, ``x matches r``,
``len(x)``, ``str(x)``, string ordering) registers a *site* — a table over the string codes the
operand can take, computed once per table by :mod:`workbench.engine.plan` — and the kernel
reads the table. The operand's possible values are described by a *domain* (``('attr',
'span', 'url.full')``, ``('fn', 'lower', ('field', 'name'))``...), also resolved by the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.lang import ir

U, B, I, F, S, L, D, E = range(8)  # noqa: E741 (the tag letters of the docs)

#: Span fields holding string codes of the table's dictionary, and the kernel column of each.
_STR_COLUMNS = {
    "name": "name",
    "service": "service",
    "scope": "scope",
    "status_message": "smsg",
    "trace_state": "tstate",
}
_COMPARE_OPS = {"<": 0, "<=": 1, ">": 2, ">=": 3}
_ARITH_OPS = {"+": 0, "-": 1, "*": 2, "/": 3, "%": 4}


class Unsupported(Exception):
    """A construct outside the compiled fragment; the message says which and why."""


ALL = frozenset(range(8))
NUMS = frozenset({U, I, F})


@dataclass(frozen=True, slots=True)
class Val:
    """A compiled value: tag, int slot and float slot expressions, and the tags it may have."""

    t: str
    i: str
    f: str
    tags: frozenset[int] = ALL

    @property
    def st(self) -> int | None:
        """The tag when it is known at compile time."""
        return next(iter(self.tags)) if len(self.tags) == 1 else None


@dataclass
class Bind:
    """A bound variable: its kind, the local holding its row / event index, hoisted attributes."""

    kind: str  # "span" | "event"
    local: str
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)
    memo: dict[ir.Node, Val] = field(default_factory=dict)  # terms computed at most once


Env = dict[str, Bind]


@dataclass
class Sites:
    """Table-independent description of everything a kernel reads besides the table columns.

    Each list's position is the index the generated code uses; :mod:`.plan` resolves the
    descriptors against a table.
    """

    ki: list[tuple[Any, ...]] = field(default_factory=list)  # int64 constants
    kf: list[float] = field(default_factory=list)  # float64 constants
    bool_sites: list[tuple[Any, ...]] = field(default_factory=list)  # rows of BT
    int_sites: list[tuple[Any, ...]] = field(default_factory=list)  # rows of IT
    istr: list[tuple[Any, ...]] = field(default_factory=list)  # int -> str code tables
    fstr: list[tuple[Any, ...]] = field(default_factory=list)  # float -> str code tables
    rank_doms: list[tuple[Any, ...]] = field(default_factory=list)
    obj_doms: list[tuple[Any, ...]] = field(default_factory=list)
    km_keys: dict[str, list[str]] = field(default_factory=dict)  # store -> keys (slot = i + 1)
    needs: set[str] = field(default_factory=set)
    #: Memoized ``exists a in ancestors(s): Q(a)`` (rows of the ``AM`` scratch argument, see
    #: :meth:`workbench.engine.codegen_sets.SetsGen.ancestor_memo`); each a ``(kind, var,
    #: guard, body)`` key.
    anc_memos: list[tuple[Any, ...]] = field(default_factory=list)

    def _index(self, items: list[Any], item: Any) -> int:
        try:
            return items.index(item)
        except ValueError:
            items.append(item)
            return len(items) - 1

    def k_int(self, desc: tuple[Any, ...]) -> str:
        return f"KI[{self._index(self.ki, desc)}]"

    def k_float(self, value: float) -> str:
        for n, v in enumerate(self.kf):
            if v == value and str(v) == str(value):
                return f"KF[{n}]"
        self.kf.append(value)
        return f"KF[{len(self.kf) - 1}]"

    def bool_site(self, desc: tuple[Any, ...]) -> int:
        return self._index(self.bool_sites, desc)

    def int_site(self, desc: tuple[Any, ...]) -> int:
        return self._index(self.int_sites, desc)

    def anc_memo(self, desc: tuple[Any, ...]) -> int:
        return self._index(self.anc_memos, desc)

    def km_slot(self, store: str, key: str) -> int:
        keys = self.km_keys.setdefault(store, [])
        return self._index(keys, key) + 1


def const_dom(value: Any) -> tuple[Any, ...]:
    if isinstance(value, bool):
        return ("bool",)
    if isinstance(value, int):
        return ("const_i", value)
    if isinstance(value, float):
        return ("const_f", value)
    return ("const_s", str(value))


def finite_numbers(dom: tuple[Any, ...]) -> bool:
    """Whether every number a domain can hold is enumerable from the table (needed by ``str``)."""
    kind = dom[0]
    if kind == "unknown":
        return False
    if kind == "fn":
        return dom[1] != "str" or finite_numbers(dom[2])
    return True


class TermGen:
    """Mixin of :class:`workbench.engine.codegen.Gen`: values, attributes, string sites."""

    sites: Sites
    lines: list[str]
    depth: int
    counter: int

    if TYPE_CHECKING:  # provided by OpsGen and Gen

        def call_val(self, node: ir.Call, env: Env, pos: str) -> Val: ...
        def aggregate_val(self, node: ir.Aggregate, env: Env, pos: str) -> Val: ...
        def quantile_val(self, node: ir.Quantile, env: Env, pos: str) -> Val: ...
        def cond(self, node: ir.Node, env: Env, pos: str) -> str: ...

    # ------------------------------------------------------------------ emission
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def tmp(self, prefix: str = "v") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.emit(header)
        self.depth += 1
        mark = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == mark:
                self.emit("pass")
            self.depth -= 1

    def triple(self, t: str, i: str, f: str, tags: frozenset[int] = ALL) -> Val:
        """Copy a value into fresh locals (so later code may branch on it freely)."""
        a, b, c = self.tmp("t"), self.tmp("i"), self.tmp("f")
        self.emit(f"{a} = {t}")
        self.emit(f"{b} = {i}")
        self.emit(f"{c} = {f}")
        return Val(a, b, c, tags)

    def var(self, env: Env, name: str) -> Bind:
        bound = env.get(name)
        if bound is None:
            raise Unsupported(f"variable `{name}` is not bound")
        return bound

    # ------------------------------------------------------------------ domains
    def dom(self, node: ir.Node, env: Env) -> tuple[Any, ...]:
        """The domain descriptor of a term's possible values (see the module docstring)."""
        if isinstance(node, ir.Const):
            return const_dom(node.value)
        if isinstance(node, ir.Field):
            bound = self.var(env, node.base.name)
            if bound.kind == "event":
                return ("ev_name",) if node.name == "name" else ("unknown",)
            if node.name in _STR_COLUMNS or node.name in (
                "kind", "status", "span_id", "parent_id", "trace_id"
            ):
                return ("field", node.name)
            if node.name in ("is_root", "has_end", "sampled"):
                return ("bool",)
            return ("unknown",)
        if isinstance(node, ir.Attr):
            bound = self.var(env, node.base.name)
            store = "event" if bound.kind == "event" else (
                "resource" if node.scope == "resource" else "span"
            )
            return ("attr", store, node.key)
        if isinstance(node, ir.Call) and node.func in ("lower", "upper", "canon", "str"):
            return ("fn", node.func, self.dom(node.args[0], env))
        if isinstance(node, ir.Call) and node.func == "luhn":
            return ("bool",)
        if isinstance(node, ir.Var):
            return ("event",) if self.var(env, node.name).kind == "event" else ("unknown",)
        if isinstance(node, ir.Aggregate) and node.op in ("min", "max") and node.var:
            inner = dict(env)
            inner[node.var] = Bind(self.domain_kind(node.domain, env), "_")
            assert node.body is not None
            return self.dom(node.body, inner)
        if self.is_formula(node):
            return ("bool",)
        return ("unknown",)

    def domain_kind(self, node: ir.Node, env: Env) -> str:
        """Whether a set term holds spans or events."""
        if isinstance(node, ir.Events):
            return "event"
        if isinstance(node, ir.Comprehension):
            return self.domain_kind(node.domain, env)
        return "span"

    def is_formula(self, node: ir.Node) -> bool:
        raise NotImplementedError

    # ------------------------------------------------------------------ values
    def val(self, node: ir.Node, env: Env, pos: str) -> Val:
        """Compile a term; returns the locals/literals holding its value."""
        if isinstance(node, ir.Call | ir.Attr):
            names = _term_vars(node)
            if names is not None and len(names) == 1:
                bound = env.get(next(iter(names)))
                if bound is not None and node in bound.memo:
                    return bound.memo[node]
        return self.val_now(node, env, pos)

    def tags_of(self, node: ir.Node, env: Env) -> frozenset[int]:
        """The tags a memoized term may have (see :meth:`val_now`)."""
        if isinstance(node, ir.Attr):
            return ATTR_TAGS
        assert isinstance(node, ir.Call)
        return CALL_TAGS[node.func]

    def val_now(self, node: ir.Node, env: Env, pos: str) -> Val:
        rule = VALUE.get(type(node))
        if rule is not None:
            return rule(self, node, env, pos)
        if self.is_formula(node):
            c = self.cond(node, env, pos)
            return Val("1", f"(1 if {c} else 0)", "0.0", frozenset({B}))
        raise Unsupported(f"{type(node).__name__} is not a value")

    def _v_const(self, node: ir.Const, env: Env, pos: str) -> Val:
        return self.const_val(node.value)

    def _v_param(self, node: ir.ParamRef, env: Env, pos: str) -> Val:
        raise Unsupported(f"unbound parameter `{node.name}`")

    def _v_var(self, node: ir.Var, env: Env, pos: str) -> Val:
        bound = self.var(env, node.name)
        tag = E if bound.kind == "event" else I
        return Val(str(tag), bound.local, "0.0", frozenset({tag}))

    def _v_field(self, node: ir.Field, env: Env, pos: str) -> Val:
        return self.field_val(node, env)

    def _v_attr(self, node: ir.Attr, env: Env, pos: str) -> Val:
        return self.attr_val(node, env)

    def _v_neg(self, node: ir.Neg, env: Env, pos: str) -> Val:
        v = self.val(node.operand, env, pos)
        out = self.triple("0", "0", "0.0", NUMS)
        if I in v.tags:
            with self.block(f"if {v.t} == 2:"):
                self.emit(f"{out.t} = 2")
                self.emit(f"{out.i} = -{v.i}")
        if F in v.tags:
            with self.block(f"if {v.t} == 3:"):
                self.emit(f"{out.t} = 3")
                self.emit(f"{out.f} = -{v.f}")
        return out

    def _v_arith(self, node: ir.Arith, env: Env, pos: str) -> Val:
        a = self.val(node.left, env, pos)
        b = self.val(node.right, env, pos)
        out = Val(self.tmp("t"), self.tmp("i"), self.tmp("f"), NUMS)
        self.emit(f"{out.t}, {out.i}, {out.f} = arith({_ARITH_OPS[node.op]}, "
                  f"{a.t}, {a.i}, {a.f}, {b.t}, {b.i}, {b.f})")
        return out

    def _v_call(self, node: ir.Call, env: Env, pos: str) -> Val:
        return self.call_val(node, env, pos)

    def _v_aggregate(self, node: ir.Aggregate, env: Env, pos: str) -> Val:
        return self.aggregate_val(node, env, pos)

    def _v_quantile(self, node: ir.Quantile, env: Env, pos: str) -> Val:
        return self.quantile_val(node, env, pos)

    def memoize(self, bound: Bind, env: Env, scopes: list[ir.Node], name: str) -> None:
        """Compute, right after binding ``name``, the calls on it that its scope makes more
        than once (``str(s.attributes["url.full"])`` in three conjuncts: one evaluation)."""
        counts: dict[ir.Node, int] = {}
        for scope in scopes:
            for term in term_uses(scope, name):
                counts[term] = counts.get(term, 0) + 1
        for term, n in counts.items():
            if n >= 2:
                bound.memo[term] = self.val_now(term, env, "tlo")

    def const_val(self, value: Any) -> Val:
        if isinstance(value, bool):
            return Val("1", "1" if value else "0", "0.0", frozenset({B}))
        if isinstance(value, int):
            if -(2**63) <= value < 2**63:
                return Val("2", self.sites.k_int(("int", value)), "0.0", frozenset({I}))
            raise Unsupported("an integer literal outside the int64 range")
        if isinstance(value, float):
            return Val("3", "0", self.sites.k_float(value), frozenset({F}))
        return Val("4", self.sites.k_int(("str", str(value))), "0.0", frozenset({S}))

    def field_val(self, node: ir.Field, env: Env) -> Val:
        bound = self.var(env, node.base.name)
        x = bound.local
        if bound.kind == "event":
            if node.name == "name":
                return Val("4", f"e_name[{x}]", "0.0", frozenset({S}))
            return Val("2", f"e_time[{x}]", "0.0", frozenset({I}))
        name = node.name
        if name in _STR_COLUMNS:
            return Val("4", f"{_STR_COLUMNS[name]}[{x}]", "0.0", frozenset({S}))
        simple = {
            "kind": ("4", f"kindc[kind[{x}]]", S),
            "status": ("4", f"statc[status[{x}]]", S),
            "span_id": ("4", f"sid[{x}]", S),
            "parent_id": ("4", f"pid[{x}]", S),
            "trace_id": ("4", f"tid[tidx[{x}]]", S),
            "start": ("2", f"start[{x}]", I),
            "depth": ("2", f"depth[{x}]", I),
            "is_root": ("1", f"(1 if plen[{x}] == 0 else 0)", B),
            "has_end": ("1", f"(1 if has_end[{x}] else 0)", B),
            "flags": ("2", f"np.int64(flags[{x}])", I),
            "sampled": ("1", f"np.int64(flags[{x}] & 1)", B),
            "event_count": ("2", f"(e_off[{x} + 1] - e_off[{x}])", I),
            "link_count": ("2", f"(l_off[{x} + 1] - l_off[{x}])", I),
            "attribute_count": ("2", f"(a_off[{x} + 1] - a_off[{x}])", I),
        }
        if name in ("span_id", "parent_id", "trace_id"):
            self.sites.needs.add("ids")
        if name in simple:
            t, i, st = simple[name]
            return Val(t, i, "0.0", frozenset({st}))
        if name == "end":
            return self.triple(f"(2 if has_end[{x}] else 0)", f"end[{x}]", "0.0",
                               frozenset({U, I}))
        if name == "duration":
            return self.triple(f"(2 if has_end[{x}] else 0)", f"(end[{x}] - start[{x}])", "0.0",
                               frozenset({U, I}))
        raise Unsupported(f"unknown span field `{name}`")

    # ------------------------------------------------------------------ attributes
    def store_of(self, node: ir.Attr, bound: Bind) -> str:
        if bound.kind == "event":
            return "event"
        return "resource" if node.scope == "resource" else "span"

    def attr_entry(self, node: ir.Attr, env: Env) -> tuple[str, str]:
        """The local holding the attribute's entry index (-1: absent) and the column prefix."""
        bound = self.var(env, node.base.name)
        store = self.store_of(node, bound)
        prefix = {"span": "a", "resource": "r", "event": "ea"}[store]
        found = bound.attrs.get((store, node.key))
        if found is not None:
            return found, prefix
        owner = f"resource[{bound.local}]" if store == "resource" else bound.local
        j = self.tmp("j")
        key = self.sites.k_int(("key", node.key))
        self.emit(f"{j} = attr_last({prefix}_off, {prefix}_key, {owner}, {key})")
        return j, prefix

    def hoist_attrs(self, bound: Bind, scopes: list[ir.Node], name: str) -> None:
        """Look up, right after binding ``name``, every attribute of it its scope reads.

        Three or more keys of one store are found in one pass over the owner's attributes,
        through the plan's key map (a key code -> slot table).
        """
        wanted: dict[str, list[str]] = {}
        for scope in scopes:
            for store, key in attr_uses(scope, name, bound.kind):
                keys = wanted.setdefault(store, [])
                if key not in keys:
                    keys.append(key)
        for store, keys in wanted.items():
            prefix = {"span": "a", "resource": "r", "event": "ea"}[store]
            owner = f"resource[{bound.local}]" if store == "resource" else bound.local
            if len(keys) < 3:
                for key in keys:
                    j = self.tmp("j")
                    code = self.sites.k_int(("key", key))
                    self.emit(f"{j} = attr_last({prefix}_off, {prefix}_key, {owner}, {code})")
                    bound.attrs[(store, key)] = j
                continue
            self.sites.needs.add("km")
            row = {"span": 0, "resource": 1, "event": 2}[store]
            locals_ = []
            for key in keys:
                j = self.tmp("j")
                self.emit(f"{j} = -1")
                locals_.append((self.sites.km_slot(store, key), j))
                bound.attrs[(store, key)] = j
            own, kk, sl = self.tmp("o"), self.tmp("k"), self.tmp("s")
            self.emit(f"{own} = {owner}")
            with self.block(f"for {kk} in range({prefix}_off[{own}], {prefix}_off[{own} + 1]):"):
                self.emit(f"{sl} = KM[{row}, {prefix}_kid[{kk}]]")
                with self.block(f"if {sl} != 0:"):
                    for n, (slot, j) in enumerate(locals_):
                        kw = "if" if n == 0 else "elif"
                        with self.block(f"{kw} {sl} == {slot}:"):
                            self.emit(f"{j} = {kk}")

    def attr_val(self, node: ir.Attr, env: Env) -> Val:
        j, p = self.attr_entry(node, env)
        out = Val(self.tmp("t"), self.tmp("i"), self.tmp("f"), ATTR_TAGS)
        self.emit(f"{out.t}, {out.i}, {out.f} = attr_get({p}_type, {p}_ival, {p}_sval, "
                  f"{p}_fval, {j})")
        return out

ATTR_TAGS = frozenset({U, B, I, F, S, L, D})
CALL_TAGS: dict[str, frozenset[int]] = {
    "len": frozenset({U, I}),
    "lower": frozenset({U, S}),
    "upper": frozenset({U, S}),
    "canon": frozenset({U, S}),
    "abs": NUMS,
    "luhn": frozenset({B}),
    "str": frozenset({U, S}),
    "int": frozenset({U, I}),
    "float": frozenset({U, F}),
}


def _term_vars(node: ir.Node) -> set[str] | None:
    """Variables of a term without binders (``None`` when it has one or is not a term)."""
    out: set[str] = set()

    def walk(n: ir.Node) -> bool:
        if isinstance(n, ir.Var):
            out.add(n.name)
            return True
        if isinstance(n, ir.Aggregate | ir.Quantile | ir.Quant | ir.Comprehension
                      | ir.Temporal | ir.StartOf | ir.EndOf | ir.EventOf):
            return False
        return all(walk(c) for c in n.children())

    return out if walk(node) else None


def _visit_unshadowed(node: ir.Node, name: str, visit: Callable[[ir.Node], bool]) -> None:
    """Call ``visit`` on every node of ``node`` where variable ``name`` is not shadowed by a
    binder; ``visit`` returns True to stop descending below the node it was given."""

    def walk(n: ir.Node) -> None:
        if visit(n):
            return
        if isinstance(n, ir.Quant):
            walk(n.domain)
            if n.var != name:
                if n.guard is not None:
                    walk(n.guard)
                walk(n.body)
            return
        if isinstance(n, ir.Comprehension):
            walk(n.domain)
            if n.var != name:
                walk(n.guard)
            return
        if isinstance(n, ir.Aggregate | ir.Quantile):
            walk(n.domain)
            if n.var != name and n.body is not None:
                walk(n.body)
            return
        if isinstance(n, ir.Template):
            return
        for child in n.children():
            walk(child)

    walk(node)


def term_uses(node: ir.Node, name: str) -> list[ir.Node]:
    """Occurrences of binder-free calls and attribute reads on variable ``name`` in ``node``
    (not where shadowed)."""
    out: list[ir.Node] = []

    def visit(n: ir.Node) -> bool:
        if isinstance(n, ir.Call | ir.Attr) and _term_vars(n) == {name}:
            out.append(n)
        return False

    _visit_unshadowed(node, name, visit)
    return out


def attr_uses(node: ir.Node, name: str, kind: str) -> list[tuple[str, str]]:
    """(store, key) of the attributes of variable ``name`` read in ``node`` (not where shadowed)."""
    out: list[tuple[str, str]] = []

    def visit(n: ir.Node) -> bool:
        if not isinstance(n, ir.Attr):
            return False
        if n.base.name == name:
            store = "event" if kind == "event" else (
                "resource" if n.scope == "resource" else "span"
            )
            if (store, n.key) not in out:
                out.append((store, n.key))
        return True

    _visit_unshadowed(node, name, visit)
    return out


#: Term classes: what :meth:`TermGen.val` compiles by a rule of :data:`VALUE` (a formula
#: used as a term is compiled through ``cond`` and gives its truth value).
TERMS: frozenset[type[ir.Node]] = frozenset({
    ir.ParamRef, ir.Var, ir.Field, ir.Attr, ir.Neg, ir.Arith, ir.Call, ir.Aggregate,
    ir.Quantile,
})
VALUE: dict[type[ir.Node], Callable[[TermGen, Any, Env, str], Val]] = {
    ir.Const: TermGen._v_const,
    ir.ParamRef: TermGen._v_param,
    ir.Var: TermGen._v_var,
    ir.Field: TermGen._v_field,
    ir.Attr: TermGen._v_attr,
    ir.Neg: TermGen._v_neg,
    ir.Arith: TermGen._v_arith,
    ir.Call: TermGen._v_call,
    ir.Aggregate: TermGen._v_aggregate,
    ir.Quantile: TermGen._v_quantile,
}
