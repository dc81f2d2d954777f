"""Code generation for sets: loops over and membership in spans, roots, events, relations
(see :mod:`.codegen`; :data:`~workbench.engine.codegen.LOOP` and
:data:`~workbench.engine.codegen.MEMBER` dispatch to these rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.engine.codegen_terms import Env, Sites, Unsupported
from workbench.lang import ir


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
