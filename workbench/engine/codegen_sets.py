"""Code generation for sets: loops over and membership in spans, roots, events, relations
(see :mod:`.codegen`; :data:`~workbench.engine.codegen.LOOP` and
:data:`~workbench.engine.codegen.MEMBER` dispatch to these rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.engine.codegen_terms import Env, Sites, Unsupported
from workbench.lang import ir
from workbench.lang.walk import free_vars, postorder

#: Nodes whose value depends on the timeline position (a memoized formula has none).
_POSITIONAL = (ir.Temporal, ir.StartOf, ir.EndOf, ir.EventOf)


class SetsGen:
    """Mixin of :class:`workbench.engine.codegen.Gen`: loops and membership tests per set."""

    sites: Sites
    depth: int

    if TYPE_CHECKING:  # provided by TermGen and Gen
        def emit(self, line: str) -> None: ...
        def tmp(self, prefix: str = "v") -> str: ...
        def block(self, header: str) -> Any: ...
        def open(self, header: str) -> None: ...
        def span_arg(self, var: ir.Var, env: Env, what: str) -> str: ...
        def cond(self, node: ir.Node, env: Env, pos: str) -> str: ...
        def member(self, x: str, kind: str, domain: ir.Node, env: Env, pos: str) -> str: ...
        def bind(self, env: Env, name: str, kind: str, local: str,
                 scopes: list[ir.Node]) -> Env: ...

    # ------------------------------------------------------------------ loops
    def _loop_spans(self, domain: ir.Spans, env: Env, x: str, ordered: bool) -> None:
        self.open(f"for {x} in range(lo, hi):")

    def _loop_roots(self, domain: ir.Roots, env: Env, x: str, ordered: bool) -> None:
        self.sites.needs.add("roots")
        k = self.tmp("k")
        self.open(f"for {k} in range(rt_off[t], rt_off[t + 1]):")
        self.emit(f"{x} = rt_rows[{k}]")

    def _loop_events(self, domain: ir.Events, env: Env, x: str, ordered: bool) -> None:
        s = self.span_arg(domain.arg, env, "events")
        self.open(f"for {x} in range(e_off[{s}], e_off[{s} + 1]):")

    def _loop_rel(self, domain: ir.Rel, env: Env, x: str, ordered: bool) -> None:
        self.rel_loop(domain.rel, self.span_arg(domain.arg, env, domain.rel), x, ordered)

    def rel_loop(self, rel: str, s: str, x: str, ordered: bool) -> None:
        k = self.tmp("k")
        if rel == "parent":
            self.open(f"for {k} in range(1 if parent[{s}] >= 0 else 0):")
            self.emit(f"{x} = parent[{s}]")
        elif rel == "children":
            self.sites.needs.add("children")
            self.open(f"for {k} in range(ch_off[{s}], ch_off[{s} + 1]):")
            self.emit(f"{x} = ch_rows[{k}]")
        elif rel == "siblings":
            self.sites.needs.add("children")
            p = self.tmp("p")
            self.emit(f"{p} = parent[{s}]")
            self.open(f"for {k} in range(ch_off[{p}] if {p} >= 0 else 0, "
                      f"ch_off[{p} + 1] if {p} >= 0 else 0):")
            self.emit(f"{x} = ch_rows[{k}]")
            self.open(f"if {x} != {s}:")
        elif rel == "ancestors":
            if ordered:
                last = self.tmp("a")
                self.emit(f"{last} = -1")
                self.open(f"for {k} in range(depth[{s}]):")
                self.emit(f"{x} = next_anc(parent, depth, {s}, {last})")
                self.emit(f"{last} = {x}")
            else:
                a = self.tmp("a")
                self.emit(f"{a} = {s}")
                self.open(f"for {k} in range(depth[{s}]):")
                self.emit(f"{a} = parent[{a}]")
                self.emit(f"{x} = {a}")
        elif rel == "descendants":
            self.sites.needs.add("euler")
            if ordered:
                self.open(f"for {x} in range(lo, hi):")
                self.open(f"if (cyc[{s}] and is_anc(parent, depth, {s}, {x})) or "
                          f"((not cyc[{s}]) and tin[{x}] > tin[{s}] and tin[{x}] < tout[{s}]):")
            else:
                cy, a, b = self.tmp("cy"), self.tmp("a"), self.tmp("b")
                self.emit(f"{cy} = cyc[{s}]")
                self.emit(f"{a} = np.int64(lo)")
                self.emit(f"{b} = np.int64(hi)")
                with self.block(f"if not {cy}:"):
                    self.emit(f"{a} = np.int64(tin[{s}] + 1)")
                    self.emit(f"{b} = np.int64(tout[{s}])")
                self.open(f"for {k} in range({a}, {b}):")
                self.emit(f"{x} = np.int64({k})")
                with self.block(f"if not {cy}:"):
                    self.emit(f"{x} = np.int64(euler[{k}])")
                self.open(f"if (not {cy}) or is_anc(parent, depth, {s}, {x}):")
        elif rel == "linked":
            self.sites.needs.add("linked")
            self.open(f"for {k} in range(lk_off[{s}], lk_off[{s} + 1]):")
            self.emit(f"{x} = lk_rows[{k}]")
        else:
            raise Unsupported(f"relation `{rel}`")

    # ------------------------------------------------------------------ ancestor memo
    def ancestor_memo(self, node: ir.Quant, env: Env, pos: str) -> str | None:
        """``exists a in ancestors(s) [where G]: B`` (or ``forall``) in time linear in the
        trace's size instead of ``O(size x depth)``; ``None`` when the shape does not apply.

        When guard and body mention no variable but ``a`` and no timeline position, the
        quantifier is a function of the chain above ``s`` alone. With ``Q(a) = G and B``
        (``G and not B`` for ``forall``) and ``M(x) = Q(x) or M(parent(x))`` (``Q`` holds on
        ``x`` or one of its ancestors), the quantifier is ``M(parent(s))``. ``M`` is kept in
        row ``m`` of the scratch argument ``AM`` (0 unknown, 1 false, 2 true): a walk up from
        ``s`` stops at the first known ``M`` or at the root, evaluates ``Q`` once on each
        node it passes, and then stores ``M`` for all of them (true below the topmost node
        where ``Q`` held, the stopping value above it), so each node is walked over once per
        trace. Rows whose chain never reaches a root (a parent cycle, or below one) are not
        stored: their walk is the plain loop over ``depth[s]`` ancestors.
        """
        domain = node.domain
        if not (isinstance(domain, ir.Rel) and domain.rel == "ancestors"):
            return None
        scope = [n for n in (node.guard, node.body) if n is not None]
        if any(free_vars(n) - {node.var} for n in scope):
            return None
        if any(isinstance(m, _POSITIONAL) for n in scope for m in postorder(n)):
            return None
        s = self.span_arg(domain.arg, env, "ancestors")
        m = self.sites.anc_memo((node.kind, node.var, node.guard, node.body))
        body: ir.Node = node.body if node.kind == "exists" else ir.Not(node.body)
        found = self.tmp("q")
        self.emit(f"{found} = False")
        with self.block(f"if parent[{s}] >= 0:"):
            st = self.tmp("m")
            self.emit(f"{st} = AM[{m}, parent[{s}]]")
            with self.block(f"if {st} != 0:"):
                self.emit(f"{found} = {st} == 2")
            with self.block("else:"):
                a, top, seen, known = self.tmp("a"), self.tmp("n"), self.tmp("n"), self.tmp("m")
                self.emit(f"{a} = {s}")
                self.emit(f"{top} = 0")
                self.emit(f"{seen} = 0")
                self.emit(f"{known} = 0")
                k = self.tmp("k")
                with self.block(f"for {k} in range(depth[{s}]):"):
                    self.emit(f"{a} = parent[{a}]")
                    self.emit(f"{known} = AM[{m}, {a}]")
                    with self.block(f"if {known} != 0:"):
                        self.emit("break")
                    self.emit(f"{seen} = {k} + 1")
                    inner = self.bind(env, node.var, "span", a, scope)
                    if node.guard is None:
                        q = self.cond(body, inner, pos)
                    else:
                        g = self.cond(node.guard, inner, pos)
                        q = self.tmp("c")
                        self.emit(f"{q} = False")
                        with self.block(f"if {g}:"):
                            self.emit(f"{q} = {self.cond(body, inner, pos)}")
                    with self.block(f"if {q}:"):
                        self.emit(f"{top} = {seen}")
                with self.block(f"if {known} == 0 and parent[{a}] < 0:"):
                    self.emit(f"{known} = 1")  # the walk reached the root
                self.emit(f"{found} = {top} > 0 or {known} == 2")
                with self.block(f"if {known} != 0:"):  # not on or below a cycle: store M
                    b, j = self.tmp("a"), self.tmp("k")
                    self.emit(f"{b} = {s}")
                    with self.block(f"for {j} in range({seen}):"):
                        self.emit(f"{b} = parent[{b}]")
                        self.emit(f"AM[{m}, {b}] = 2 if {j} < {top} else {known}")
        if node.kind == "exists":
            return found
        return f"(not {found})"

    # ------------------------------------------------------------------ membership
    def _in_spans(self, x: str, kind: str, domain: ir.Spans, env: Env, pos: str) -> str:
        return "True"

    def _in_roots(self, x: str, kind: str, domain: ir.Roots, env: Env, pos: str) -> str:
        return f"(plen[{x}] == 0)"

    def _in_events(self, x: str, kind: str, domain: ir.Events, env: Env, pos: str) -> str:
        s = self.span_arg(domain.arg, env, "events")
        return f"({x} >= e_off[{s}] and {x} < e_off[{s} + 1])"

    def _in_rel(self, x: str, kind: str, domain: ir.Rel, env: Env, pos: str) -> str:
        s = self.span_arg(domain.arg, env, domain.rel)
        rel = domain.rel
        if rel == "parent":
            return f"(parent[{s}] == {x})"
        if rel == "children":
            return f"(parent[{x}] == {s})"
        if rel == "ancestors":
            return f"is_anc(parent, depth, {x}, {s})"
        if rel == "descendants":
            return f"is_anc(parent, depth, {s}, {x})"
        if rel == "siblings":
            return f"(parent[{s}] >= 0 and parent[{x}] == parent[{s}] and {x} != {s})"
        if rel == "linked":
            self.sites.needs.add("linked")
            return f"linked_has(lk_off, lk_rows, {s}, {x})"
        raise Unsupported(f"relation `{rel}`")

    def _in_comprehension(self, x: str, kind: str, domain: ir.Comprehension, env: Env,
                          pos: str) -> str:
        out = self.tmp("c")
        self.emit(f"{out} = {self.member(x, kind, domain.domain, env, pos)}")
        with self.block(f"if {out}:"):
            inner = self.bind(env, domain.var, kind, x, [domain.guard])
            self.emit(f"{out} = {self.cond(domain.guard, inner, pos)}")
        return out
