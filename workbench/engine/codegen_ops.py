"""Code generation for operations: calls, comparisons and aggregates (see :mod:`.codegen`).

Comparisons follow the reference's ``_equal``/``_order`` exactly. When one side's tag is known
at compile time they compile to inline code; otherwise to the ``eqv``/``ordv`` helpers.
Aggregates accumulate in member order where the order can change the result (float sums, the
type of ``min``/``max`` among equal ints and floats).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workbench.engine.codegen_terms import (
    _COMPARE_OPS,
    CALL_TAGS,
    NUMS,
    B,
    D,
    E,
    Env,
    F,
    I,
    L,
    S,
    Sites,
    U,
    Unsupported,
    Val,
    finite_numbers,
)
from workbench.engine.values import quantile_ratio
from workbench.lang import ir


class OpsGen:
    """Mixin of :class:`workbench.engine.codegen.Gen`: calls, comparisons, aggregates."""

    sites: Sites
    depth: int

    if TYPE_CHECKING:  # provided by TermGen and Gen

        def emit(self, line: str) -> None: ...
        def tmp(self, prefix: str = "v") -> str: ...
        def block(self, header: str) -> Any: ...
        def triple(self, t: str, i: str, f: str, tags: frozenset[int] = ...) -> Val: ...
        def val(self, node: ir.Node, env: Env, pos: str) -> Val: ...
        def dom(self, node: ir.Node, env: Env) -> tuple[Any, ...]: ...
        def loop(self, domain: ir.Node, env: Env, pos: str, ordered: bool) -> Any: ...
        def bind(self, env: Env, name: str, kind: str, local: str,
                 scopes: list[ir.Node]) -> Env: ...

    # ------------------------------------------------------------------ calls
    def call_val(self, node: ir.Call, env: Env, pos: str) -> Val:
        func = node.func
        if len(node.args) != 1 or func not in CALL_TAGS:
            raise Unsupported(f"function `{func}` with {len(node.args)} arguments")
        arg = node.args[0]
        v = self.val(arg, env, pos)
        dom = self.dom(arg, env)
        tags = v.tags
        if func == "luhn":
            flag = self.tmp("c")
            self.emit(f"{flag} = False")
            if S in tags:
                site = self.sites.bool_site(("luhn", dom))
                with self.block(f"if {v.t} == 4:"):
                    self.emit(f"{flag} = bit(BT, {site}, {v.i})")
            if I in tags:
                with self.block(f"if {v.t} == 2:"):
                    self.emit(f"{flag} = luhn_int({v.i})")
            return Val("1", f"(1 if {flag} else 0)", "0.0", frozenset({B}))
        if func == "str":
            if not finite_numbers(dom) and tags & {I, F}:
                raise Unsupported(
                    "str() of a computed number (its text is not in the string table)")
            if tags <= {U, S}:
                return Val(v.t, v.i, v.f, tags)
            true, false = self.sites.k_int(("str", "true")), self.sites.k_int(("str", "false"))
            ilo, ihi = self.number_table("istr", dom) if I in tags else ("0", "0")
            flo, fhi = self.number_table("fstr", dom) if F in tags else ("0", "0")
            nan = self.sites.k_int(("str", "nan"))
            olo, ohi = self.lookup_table(("objstr",)) if tags & {L, D} else ("0", "0")
            out = Val(self.tmp("t"), self.tmp("i"), "0.0", CALL_TAGS[func])
            self.emit(f"{out.t} = {v.t}")
            self.emit(f"{out.i} = {v.i}")
            branches: list[tuple[int, str]] = [
                (B, f"{true} if {v.i} == 1 else {false}"),
                (I, f"lookup_int(NKI, NVI, {ilo}, {ihi}, {v.i})"),
                (F, f"lookup_float(NKF, NVF, {flo}, {fhi}, {v.f}, {nan})"),
                (L, f"lookup_int(NKI, NVI, {olo}, {ohi}, {v.i})"),
                (D, f"lookup_int(NKI, NVI, {olo}, {ohi}, {v.i})"),
                (E, f"e_name[{v.i}]"),
            ]
            for tag, expr in branches:
                if tag in tags:
                    with self.block(f"if {v.t} == {tag}:"):
                        self.emit(f"{out.t} = 4")
                        self.emit(f"{out.i} = {expr}")
            return out
        out = self.triple("0", "0", "0.0", CALL_TAGS[func])
        cases: list[tuple[str, list[str]]] = []
        if func == "float" and S in tags:
            # float(text) needs a float64 per distinct string; the plan's string tables hold
            # int32 values (int(text) joins two of them): the property runs on the reference
            raise Unsupported("float() of a text (or an attribute that may hold one)")
        if func == "int":  # values.to_int: a finite float in int64 truncates, else undefined
            cases = [("2", [f"{out.t} = 2", f"{out.i} = {v.i}"]),
                     ("3", [f"if {v.f} >= -9.223372036854775808e18 and "
                            f"{v.f} < 9.223372036854775808e18:",
                            f"    {out.t} = 2", f"    {out.i} = int({v.f})"])]
            if S in tags:  # the text's value, parsed once per distinct string (plan_sites)
                ok, hi, lo = (self.sites.int_site(("conv", part, dom))
                              for part in ("ok", "hi", "lo"))
                cases.append(("4", [f"if IT[{ok}, {v.i}] == 1:", f"    {out.t} = 2",
                                    f"    {out.i} = (np.int64(IT[{hi}, {v.i}]) << 32) | "
                                    f"(np.int64(IT[{lo}, {v.i}]) & 0xFFFFFFFF)"]))
        elif func == "float":
            cases = [("2", [f"{out.t} = 3", f"{out.f} = float({v.i})"]),
                     ("3", [f"{out.t} = 3", f"{out.f} = {v.f}"])]
        elif func == "abs":
            cases = [("2", [f"{out.t} = 2", f"{out.i} = abs({v.i})"]),
                     ("3", [f"{out.t} = 3", f"{out.f} = abs({v.f})"])]
        elif func == "len":
            if S in tags:
                site = self.sites.int_site(("len", dom))
                cases.append(("4", [f"{out.t} = 2", f"{out.i} = IT[{site}, {v.i}]"]))
            if L in tags or D in tags:
                olo, ohi = self.lookup_table(("objlen",))
                cases += [(str(tag), [f"{out.t} = 2",
                                      f"{out.i} = lookup_int(NKI, NVI, {olo}, {ohi}, {v.i})"])
                          for tag in (L, D)]
        elif func in ("lower", "upper", "canon"):
            if S in tags:
                site = self.sites.int_site(("map", func, dom))
                cases.append(("4", [f"{out.t} = 4", f"{out.i} = IT[{site}, {v.i}]"]))
        first = True
        for code, lines in cases:
            if int(code) not in tags:
                continue
            with self.block(f"{'if' if first else 'elif'} {v.t} == {code}:"):
                for line in lines:
                    self.emit(line)
            first = False
        return out

    def number_table(self, kind: str, dom: tuple[Any, ...]) -> tuple[str, str]:
        """KI slots bounding the sorted number -> string code table of ``dom``."""
        if kind == "istr":
            return self.lookup_table(("istr", dom))
        if dom not in self.sites.fstr:
            self.sites.fstr.append(dom)
        n = self.sites.fstr.index(dom)
        return self.sites.k_int(("fstr_lo", n)), self.sites.k_int(("fstr_hi", n))

    def lookup_table(self, desc: tuple[Any, ...]) -> tuple[str, str]:
        """KI slots bounding a sorted int -> int table in ``NKI``/``NVI``: ``("istr", dom)``
        (an int's text), ``("objstr",)``, ``("objlen",)``, ``("objcls",)`` (a list or dict
        value's text, length and equality class). Sparse tables: list and dict values are
        rare, and a dense table over every string code would cost 4 bytes per string."""
        if desc not in self.sites.istr:
            self.sites.istr.append(desc)
        n = self.sites.istr.index(desc)
        return self.sites.k_int(("istr_lo", n)), self.sites.k_int(("istr_hi", n))

    # ------------------------------------------------------------------ comparisons
    def compare(self, op: str, a: Val, b: Val, dom_a: Any, dom_b: Any) -> str:
        """A boolean expression (after emitting its code) for ``a op b`` per the reference."""
        if a.st is not None and b.st is not None:
            if a.st == I and b.st == I:
                return f"({a.i} {op} {b.i})"
            if a.st == b.st and a.st in (S, B, E) and op in ("==", "!="):
                return f"({a.i} {op} {b.i})"
        if a.st is not None and b.st is None:  # keep the static side on the right
            flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
            return self.compare(flip, b, a, dom_b, dom_a)
        if a.st is None and b.st is not None and b.st in (I, F, S, B, E):
            return self.compare_static(op, a, b, dom_a, dom_b)
        out = self.tmp("c")
        self.emit(f"{out} = False")
        guard = " and ".join(f"{v.t} != 0" for v in (a, b) if U in v.tags) or "True"
        with self.block(f"if {guard}:"):
            if op in ("==", "!="):
                olo, ohi = "0", "0"
                if a.tags & {L, D} and b.tags & {L, D}:
                    olo, ohi = self.lookup_table(("objcls",))
                neg = "not " if op == "!=" else ""
                self.emit(f"{out} = {neg}eqv({a.t}, {a.i}, {a.f}, {b.t}, {b.i}, {b.f}, NKI, "
                          f"NVI, {olo}, {ohi})")
            else:
                rank = "0"
                if S in a.tags and S in b.tags:
                    rank = str(self.sites.int_site(("rank",)))
                    for d in (dom_a, dom_b):
                        if d not in self.sites.rank_doms:
                            self.sites.rank_doms.append(d)
                code = _COMPARE_OPS[op]
                self.emit(f"{out} = ordv({code}, {a.t}, {a.i}, {a.f}, {b.t}, {b.i}, {b.f}, IT, "
                          f"{rank})")
        return out


    def compare_static(self, op: str, a: Val, b: Val, dom_a: Any, dom_b: Any) -> str:
        """``a op b`` for a dynamic ``a`` and a ``b`` of known tag, without helper calls that
        take arrays (those are not inlined, and passing arrays costs reference counting)."""
        out = self.tmp("c")
        self.emit(f"{out} = False")
        st = b.st
        ordering = op not in ("==", "!=")
        first = True
        if st in (I, F) and a.tags & {I, F}:
            first = False
            with self.block(f"if {a.t} == 2 or {a.t} == 3:"):
                if st == I and I in a.tags:
                    with self.block(f"if {a.t} == 2:"):
                        self.emit(f"{out} = {a.i} {op} {b.i}")
                    opened = "else:"
                else:
                    opened = "if True:"
                with self.block(opened):
                    cc = self.tmp("n")
                    self.emit(f"{cc} = cmp_num({a.t}, {a.i}, {a.f}, {b.t}, {b.i}, {b.f})")
                    if op == "!=":
                        self.emit(f"{out} = {cc} != 0")
                    else:
                        self.emit(f"{out} = {cc} != 2 and {cc} {op} 0")
        elif st == S and S in a.tags:
            first = False
            with self.block(f"if {a.t} == 4:"):
                if ordering:
                    rank = self.sites.int_site(("rank",))
                    for d in (dom_a, dom_b):
                        if d not in self.sites.rank_doms:
                            self.sites.rank_doms.append(d)
                    self.emit(f"{out} = IT[{rank}, {a.i}] {op} IT[{rank}, {b.i}]")
                else:
                    self.emit(f"{out} = {a.i} {op} {b.i}")
        elif st in (B, E) and st in a.tags and not ordering:
            first = False
            with self.block(f"if {a.t} == {st}:"):
                self.emit(f"{out} = {a.i} {op} {b.i}")
        if op == "!=":
            with self.block(f"{'if' if first else 'elif'} {a.t} != 0:"):
                self.emit(f"{out} = True")
        return out

    # ------------------------------------------------------------------ aggregates
    def aggregate_val(self, node: ir.Aggregate, env: Env, pos: str) -> Val:
        op = node.op
        if op == "count":
            n = self.tmp("n")
            self.emit(f"{n} = 0")
            with self.loop(node.domain, env, pos, ordered=False):
                self.emit(f"{n} += 1")
            return Val("2", n, "0.0", frozenset({I}))
        assert node.var is not None and node.body is not None
        if op == "distinct":
            return self.distinct(node, env, pos)
        acc = self.triple("0", "0", "0.0", {"sum": frozenset({I, F}), "avg": frozenset({U, F})}.get(
            op, NUMS))
        n = self.tmp("n")
        self.emit(f"{n} = 0")
        with self.loop(node.domain, env, pos, ordered=True) as (x, kind):
            inner = self.bind(env, node.var, kind, x, [node.body])
            v = self.val(node.body, inner, pos)
            with self.block(f"if {v.t} == 2 or {v.t} == 3:"):
                if op in ("sum", "avg"):
                    with self.block(f"if {n} == 0:"):
                        self.emit(f"{acc.t} = 2")
                    with self.block(f"if {acc.t} == 2 and {v.t} == 2:"):
                        self.emit(f"{acc.i} = {acc.i} + {v.i}")
                    with self.block("else:"):
                        left = f"({acc.f} if {acc.t} == 3 else float({acc.i}))"
                        right = f"({v.f} if {v.t} == 3 else float({v.i}))"
                        self.emit(f"{acc.f} = {left} + {right}")
                        self.emit(f"{acc.t} = 3")
                else:
                    sign = "< 0" if op == "min" else "== 1"
                    better = (f"{n} == 0 or cmp_num({v.t}, {v.i}, {v.f}, "
                              f"{acc.t}, {acc.i}, {acc.f}) {sign}")
                    with self.block(f"if {better}:"):
                        self.emit(f"{acc.t} = {v.t}")
                        self.emit(f"{acc.i} = {v.i}")
                        self.emit(f"{acc.f} = {v.f}")
                self.emit(f"{n} += 1")
        if op == "sum":
            with self.block(f"if {n} == 0:"):
                self.emit(f"{acc.t} = 2")
        if op == "avg":
            with self.block(f"if {n} > 0:"):
                self.emit(f"{acc.f} = ({acc.f} if {acc.t} == 3 else float({acc.i})) / {n}")
                self.emit(f"{acc.t} = 3")
        return acc

    def quantile_val(self, node: ir.Quantile, env: Env, pos: str) -> Val:
        """The reference's :func:`~workbench.engine.values.quantile` without sorting (kernels
        have no growable arrays): count the numbers, then pick the member whose position in
        the stable sort (values below it, plus equal values earlier in member order) is the
        rank. Quadratic in the set's size, like ``distinct``."""
        num, den = quantile_ratio(node.q)
        if den > 2**31:  # num * n must stay inside int64
            raise Unsupported(f"a quantile written with more than 9 decimals ({node.q!r})")

        def number(v: Val) -> str:
            return f"({v.t} == 2 or ({v.t} == 3 and {v.f} == {v.f}))"  # NaN is skipped

        def body(x: str, kind: str) -> Val:
            return self.val(node.body, self.bind(env, node.var, kind, x, [node.body]), pos)

        n, rank = self.tmp("n"), self.tmp("n")
        self.emit(f"{n} = 0")
        with self.loop(node.domain, env, pos, ordered=True) as (x, kind):
            with self.block(f"if {number(body(x, kind))}:"):
                self.emit(f"{n} += 1")
        self.emit(f"{rank} = max(1, ({num} * {n} + {den - 1}) // {den})")
        out = self.triple("0", "0", "0.0", NUMS)
        i = self.tmp("n")
        self.emit(f"{i} = 0")
        with self.loop(node.domain, env, pos, ordered=True) as (x, kind):
            v = body(x, kind)
            with self.block(f"if {out.t} == 0 and {number(v)}:"):
                below, j = self.tmp("n"), self.tmp("n")
                self.emit(f"{below} = 0")
                self.emit(f"{j} = 0")
                with self.loop(node.domain, env, pos, ordered=True) as (y, _):
                    w = body(y, kind)
                    with self.block(f"if {number(w)}:"):
                        c = self.tmp("n")
                        self.emit(f"{c} = cmp_num({w.t}, {w.i}, {w.f}, {v.t}, {v.i}, {v.f})")
                        with self.block(f"if {c} < 0 or ({c} == 0 and {j} < {i}):"):
                            self.emit(f"{below} += 1")
                    self.emit(f"{j} += 1")
                with self.block(f"if {below} + 1 == {rank}:"):
                    self.emit(f"{out.t} = {v.t}")
                    self.emit(f"{out.i} = {v.i}")
                    self.emit(f"{out.f} = {v.f}")
            self.emit(f"{i} += 1")
        return out

    def distinct(self, node: ir.Aggregate, env: Env, pos: str) -> Val:
        assert node.var is not None and node.body is not None
        count, k1 = self.tmp("n"), self.tmp("n")
        self.emit(f"{count} = 0")
        self.emit(f"{k1} = 0")
        with self.loop(node.domain, env, pos, ordered=False) as (x, kind):
            v = self.val(node.body, self.bind(env, node.var, kind, x, [node.body]), pos)
            with self.block(f"if {v.t} != 0:"):
                dup, k2 = self.tmp("c"), self.tmp("n")
                self.emit(f"{dup} = False")
                self.emit(f"{k2} = 0")
                with self.loop(node.domain, env, pos, ordered=False) as (y, _):
                    with self.block(f"if {k2} >= {k1}:"):
                        self.emit("break")
                    w = self.val(node.body, self.bind(env, node.var, kind, y, [node.body]), pos)
                    same = self.compare("==", v, w, None, None)
                    with self.block(f"if {w.t} != 0 and {same}:"):
                        self.emit(f"{dup} = True")
                        self.emit("break")
                    self.emit(f"{k2} += 1")
                with self.block(f"if not {dup}:"):
                    self.emit(f"{count} += 1")
            self.emit(f"{k1} += 1")
        return Val("2", count, "0.0", frozenset({I}))
