"""Code generation for metric temporal operators and for witnesses (see :mod:`.codegen`).

Temporal operators are scans of the trace's timeline (global positions ``tlo <= p < thi``,
sorted as the reference sorts them), reading the reference's definitions directly:

* ``eventually[a, b] f`` / ``once``: some position in the window of ``p`` satisfies ``f``;
* ``always`` / ``historically``: every position in the window does;
* ``f until[a, b] g``: one forward scan — ``g`` at a position in the window ends it with
  true, a position where ``f`` fails (or leaving the window) with false; ``since`` mirrors it;
* ``next`` / ``wnext`` / ``previously``: the neighbouring position.

When the operand is triggered by a timeline atom of a bound span (``always (end(s) -> ...)``,
``eventually start(s)``), only the atom's positions are visited (its start, its end, or its
events), which turns a scan of the whole timeline into one or a few window tests.

Witnesses replay ``workbench.engine.reference.explain`` statement by statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from workbench.engine.codegen_terms import Env, Unsupported
from workbench.lang import ir

_ATOMS = (ir.StartOf, ir.EndOf, ir.EventOf)

#: How each temporal operator is compiled: ``(shape, future, flag)``. ``"step"`` (one
#: position on; ``flag`` is the value off the end of the timeline), ``"window"`` (a scan of
#: the interval; ``flag``: universal) or ``"until"`` (``until``/``since``). The compiled
#: backends' capability tables list exactly these operators, so an operator missing here
#: fails ``tests/engine/test_capabilities.py`` instead of taking another operator's code.
TEMPORAL_SHAPES: dict[str, tuple[str, bool, bool]] = {
    "always": ("window", True, True),
    "eventually": ("window", True, False),
    "next": ("step", True, False),
    "wnext": ("step", True, True),
    "until": ("until", True, False),
    "historically": ("window", False, True),
    "once": ("window", False, False),
    "previously": ("step", False, False),
    "since": ("until", False, False),
}


def _conjuncts(node: ir.Node) -> list[ir.Node]:
    if isinstance(node, ir.And):
        return [c for a in node.args for c in _conjuncts(a)]
    return [node]


class TemporalGen:
    """Mixin of :class:`workbench.engine.codegen.Gen`: temporal operators and witnesses."""

    # provided by the other mixins
    sites: Any
    depth: int
    paths: list[tuple[tuple[str, str], ...]]
    slots: int

    if TYPE_CHECKING:  # provided by TermGen and Gen

        def emit(self, line: str) -> None: ...
        def tmp(self, prefix: str = "v") -> str: ...
        def cond(self, node: ir.Node, env: Env, pos: str) -> str: ...
        def block(self, header: str) -> Any: ...
        def open(self, header: str) -> None: ...
        def members(self, node: ir.Quant, env: Env, pos: str, ordered: bool) -> Any: ...
        def sub(self, node: ir.Node, env: Env, pos: str) -> str: ...
        def explain_sub(self, node: ir.Node, env: Env, order: list[tuple[str, str, str]],
                        pos: str, moved: bool) -> None: ...

    # ------------------------------------------------------------------ operators
    def temporal(self, node: ir.Temporal, env: Env, pos: str) -> str:
        self.sites.needs.add("timeline")
        shape, future, flag = TEMPORAL_SHAPES[node.op]
        out = self.tmp("c")
        if shape == "step":  # next / wnext / previously: ``flag`` is the value off the end
            nxt = self.tmp("p")
            self.emit(f"{out} = {flag}")
            if future:
                test, step = f"{pos} + 1 < thi", f"{pos} + 1"
            else:
                test, step = f"{pos} > tlo", f"{pos} - 1"
            with self.block(f"if {test}:"):
                self.emit(f"{nxt} = {step}")
                self.emit(f"{out} = {self.cond(node.args[0], env, nxt)}")
            return out
        if shape == "until":
            return self.until(node, env, pos, future, out)
        universal = flag  # shape "window": always / historically, or eventually / once
        self.emit(f"{out} = {universal}")
        trig = self.trigger(node.args[0], env, universal)
        with self.window(pos, node.interval, future, trig, env) as j:
            c = self.cond(node.args[0], env, j)
            with self.block(f"if {'not ' if universal else ''}{c}:"):
                self.emit(f"{out} = {not universal}")
                self.emit("break")
        return out

    def until(self, node: ir.Temporal, env: Env, pos: str, future: bool, out: str) -> str:
        phi, psi = node.args
        iv = node.interval
        self.emit(f"{out} = False")
        t0, j, d = self.tmp("t"), self.tmp("p"), self.tmp("d")
        self.emit(f"{t0} = tl_time[{pos}]")
        rng = f"range({pos}, thi)" if future else f"range({pos}, tlo - 1, -1)"
        with self.block(f"for {j} in {rng}:"):
            self.emit(f"{d} = " + (f"tl_time[{j}] - {t0}" if future else f"{t0} - tl_time[{j}]"))
            if iv.hi is not None:
                hi = self.sites.k_int(("int", iv.hi))
                with self.block(f"if {d} > {hi}:"):
                    self.emit("break")
            lo = self.sites.k_int(("int", iv.lo))
            with self.block(f"if {d} >= {lo}:"):
                c = self.cond(psi, env, j)
                with self.block(f"if {c}:"):
                    self.emit(f"{out} = True")
                    self.emit("break")
            c = self.cond(phi, env, j)
            with self.block(f"if not {c}:"):
                self.emit("break")
        return out

    def trigger(self, arg: ir.Node, env: Env, universal: bool) -> tuple[ir.Node, str] | None:
        """The atom (of a bound span) that gates ``arg``, with that span's local, if any."""
        if universal:
            if isinstance(arg, ir.Implies):
                candidates = _conjuncts(arg.left)
            elif isinstance(arg, ir.Not):
                candidates = _conjuncts(arg.arg)
            else:
                return None
        else:
            candidates = _conjuncts(arg)
        for atom in candidates:
            if isinstance(atom, _ATOMS):
                bound = env.get(atom.arg.name)
                if bound is not None and bound.kind == "span":
                    return atom, bound.local
        return None

    @contextmanager
    def window(
        self,
        pos: str,
        iv: ir.Interval,
        future: bool,
        trig: tuple[ir.Node, str] | None,
        env: Env,
    ) -> Iterator[str]:
        """Loop over the positions of ``pos``'s window (in the reference's order when not
        triggered; only the trigger's positions otherwise). Yields the position local."""
        depth = self.depth
        lo = self.sites.k_int(("int", iv.lo))
        hi = self.sites.k_int(("int", iv.hi)) if iv.hi is not None else "0"
        j = self.tmp("p")
        if trig is None:
            t0, d = self.tmp("t"), self.tmp("d")
            self.emit(f"{t0} = tl_time[{pos}]")
            rng = f"range({pos}, thi)" if future else f"range({pos}, tlo - 1, -1)"
            self.open(f"for {j} in {rng}:")
            self.emit(f"{d} = " + (f"tl_time[{j}] - {t0}" if future else f"{t0} - tl_time[{j}]"))
            if iv.hi is not None:
                with self.block(f"if {d} > {hi}:"):
                    self.emit("break")
            self.open(f"if {d} >= {lo}:")
        else:
            atom, x = trig
            k = self.tmp("k")
            if isinstance(atom, ir.EventOf):
                self.open(f"for {k} in range(e_off[{x}], e_off[{x} + 1]):")
                self.emit(f"{j} = ev_pos[{k}]")
            else:
                column = "pos_start" if isinstance(atom, ir.StartOf) else "pos_end"
                self.open(f"for {k} in range(1):")
                self.emit(f"{j} = {column}[{x}]")
            bounded = iv.hi is not None
            self.open(f"if in_window(tl_time, {pos}, {j}, {lo}, {hi}, {bounded}, {future}):")
        yield j
        self.depth = depth

    # ------------------------------------------------------------------ witnesses
    def explain(
        self, node: ir.Node, env: Env, order: list[tuple[str, str, str]], pos: str, moved: bool
    ) -> None:
        """Emit the witness records of ``node``, known false at ``pos`` (the reference's
        ``explain``, whose ``limit`` is the global count ``cnt`` against ``cap``)."""
        if isinstance(node, ir.Quant) and node.kind == "forall":
            with self.members(node, env, pos, ordered=True) as inner:
                bound = inner[node.var]
                self.explain_false(node.body, inner, [*order, (node.var, bound.kind, bound.local)],
                                   pos, moved)
                with self.block("if cnt >= cap:"):
                    self.emit("break")
            return
        negated = node.arg if isinstance(node, ir.Not) else None
        if isinstance(negated, ir.Quant) and negated.kind == "exists":
            q = negated
            as_forall = ir.Quant("forall", q.var, q.domain, q.guard, ir.Not(q.body))
            self.explain(as_forall, env, order, pos, moved)
            return
        if isinstance(node, ir.Temporal) and TEMPORAL_SHAPES[node.op][0::2] == ("window", True):
            future = TEMPORAL_SHAPES[node.op][1]  # always / historically: the first failure
            found = self.tmp("w")
            self.emit(f"{found} = -1")
            trig = self.trigger(node.args[0], env, True)
            with self.window(pos, node.interval, future, trig, env) as j:
                c = self.sub(node.args[0], env, j)
                if trig is None:
                    with self.block(f"if not {c}:"):
                        self.emit(f"{found} = {j}")
                        self.emit("break")
                else:
                    better = "<" if future else ">"
                    with self.block(f"if (not {c}) and ({found} < 0 or {j} {better} {found}):"):
                        self.emit(f"{found} = {j}")
            with self.block(f"if {found} >= 0:"):
                self.explain_sub(node.args[0], env, order, found, True)
            with self.block("else:"):
                self.leaf(order, pos if moved else None)
            return
        if isinstance(node, ir.And):
            done = self.tmp("w")
            self.emit(f"{done} = False")
            for arg in node.args:
                with self.block(f"if not {done}:"):
                    c = self.sub(arg, env, pos)
                    with self.block(f"if not {c}:"):
                        self.emit(f"{done} = True")
                        self.explain_sub(arg, env, order, pos, moved)
            with self.block(f"if not {done}:"):
                self.leaf(order, pos if moved else None)
            return
        if isinstance(node, ir.Implies) and ir.is_temporal(node.left):
            self.leaf(order, pos)
            return
        self.leaf(order, pos if moved else None)

    def explain_false(
        self, node: ir.Node, env: Env, order: list[tuple[str, str, str]], pos: str, moved: bool
    ) -> None:
        """``if not holds(node): explain(node)``, without evaluating a conjunction twice."""
        if isinstance(node, ir.And):
            done = self.tmp("w")
            self.emit(f"{done} = False")
            for arg in node.args:
                with self.block(f"if not {done}:"):
                    c = self.sub(arg, env, pos)
                    with self.block(f"if not {c}:"):
                        self.emit(f"{done} = True")
                        self.explain_sub(arg, env, order, pos, moved)
            return
        c = self.sub(node, env, pos)
        with self.block(f"if not {c}:"):
            self.explain_sub(node, env, order, pos, moved)

    def leaf(self, order: list[tuple[str, str, str]], pos: str | None) -> None:
        """Append one witness record: path id, global position (-1: none), the bindings."""
        path = tuple((name, kind) for name, kind, _ in order)
        if path not in self.paths:
            self.paths.append(path)
        self.slots = max(self.slots, len(order))
        with self.block("if cnt < cap:"):
            self.emit(f"wbuf[q, cnt, 0] = {self.paths.index(path)}")
            self.emit(f"wbuf[q, cnt, 1] = {pos if pos is not None else -1}")
            for n, (_, _, local) in enumerate(order):
                self.emit(f"wbuf[q, cnt, {2 + n}] = {local}")
        self.emit("cnt += 1")


def check_depth(source: str) -> None:
    """Reject sources Python cannot compile (too deeply nested loops)."""
    if _well_inside_limits(source):
        return
    try:
        compile(source, "<otlspec-kernel>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as err:
        raise Unsupported(f"the generated kernel does not compile ({err})") from None


def _well_inside_limits(source: str) -> bool:
    """Whether ``source`` surely compiles, without compiling it (a few ms per kernel, every
    run): at most 15 levels of indentation (Python allows 20 nested blocks) and, but for the
    ``def`` lines, lines of at most 300 characters that close their brackets (so brackets nest
    less than 150 deep; Python allows 200). Anything else is left to :func:`compile`."""
    for line in source.splitlines():
        body = line.lstrip(" ")
        if len(line) - len(body) > 60:
            return False
        if body.startswith("def "):
            continue
        if len(line) > 300 or line.count("(") != line.count(")") \
                or line.count("[") != line.count("]"):
            return False
    return True
