"""IR -> kernel source: the compiled backends' lowering of a property.

A property compiles to two functions of one generated module, each a loop over traces whose
body is the formula as straight-line code (quantifiers are loops over CSR ranges, aggregates
are accumulating loops, metric temporal operators are scans of the trace's timeline):

* ``verdict(t0, t1, out, *ARGS)`` writes ``out[t]`` for the traces ``t0 <= t < t1``;
* ``witness(q0, q1, traces, wbuf, wcnt, *ARGS)`` replays the reference's ``explain`` for the
  failing traces ``traces[q0:q1]``: each record is ``(path, position, binding...)`` where the
  path names the binders (see :attr:`Generated.paths`).

The code only uses what both ``numba.njit`` and ``numba.cuda.jit`` compile: no allocation, no
recursion, scalar helpers from :mod:`workbench.engine.kernel_lib`. All literals (constants,
interval bounds, string codes, attribute keys) are read from the constant arrays ``KI``/``KF``,
so the source depends only on the *shape* of the formula: properties of the same shape, or the
same property under other ``--param`` values, share one compiled kernel.

Fast paths (each semantics-preserving):

* a quantifier whose body or guard requires a timeline atom of its variable at the current
  point (``exists r in spans where ...: start(r)``) binds the variable to the point's row;
* ``always (end(s) -> ...)``, ``eventually start(s)`` and their past twins only visit the
  points where the atom of ``s`` holds (its start, its end, its events).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from workbench.engine.codegen_ops import OpsGen
from workbench.engine.codegen_sets import SetsGen
from workbench.engine.codegen_temporal import TemporalGen, check_depth
from workbench.engine.codegen_terms import (
    TERMS,
    Bind,
    Env,
    S,
    Sites,
    TermGen,
    Unsupported,
)
from workbench.lang import ir

#: Version of the generated code; part of every module's hash.
CODEGEN_VERSION = "1"

#: Arguments of every generated function after the leading ones, in order.
ARG_NAMES: tuple[str, ...] = (
    "toff", "tidx", "parent", "depth", "plen", "kind", "status", "name", "service", "scope",
    "smsg", "tstate", "start", "end", "has_end", "flags", "resource",
    "a_off", "a_key", "a_type", "a_ival", "a_fval", "a_sval", "a_kid",
    "r_off", "r_key", "r_type", "r_ival", "r_fval", "r_sval", "r_kid",
    "e_off", "e_name", "e_time",
    "ea_off", "ea_key", "ea_type", "ea_ival", "ea_fval", "ea_sval", "ea_kid",
    "l_off", "ch_off", "ch_rows", "rt_off", "rt_rows", "cyc", "tin", "tout", "euler",
    "lk_off", "lk_rows", "tl_off", "tl_time", "tl_phase", "tl_row", "tl_ev",
    "pos_start", "pos_end", "ev_pos", "sid", "pid", "tid", "kindc", "statc",
    "KI", "KF", "BT", "IT", "KM", "NKI", "NVI", "NKF", "NVF",
)

_PHASE = {ir.StartOf: 0, ir.EventOf: 1, ir.EndOf: 2}
#: Sub-formulas whose code is at least this long become functions of their own.
OUTLINE_LINES = 40
_IDENT = re.compile(r"(?<![.\w])[A-Za-z_][A-Za-z0-9_]*\b")
_TMP = re.compile(r"[a-z]+(\d+)")
#: The scratch argument of the ancestor memo, after :data:`ARG_NAMES` in the kernels that
#: use it (:meth:`~workbench.engine.codegen_sets.SetsGen.ancestor_memo`).
MEMO_ARG = "AM"
_OUTER = frozenset({"t", "lo", "hi", "tlo", "thi", *ARG_NAMES, MEMO_ARG})
_WITNESS_OUTER = _OUTER | {"q", "cnt", "cap", "wbuf"}
_ATOMS = (ir.StartOf, ir.EndOf, ir.EventOf)


_SLOT = re.compile(r"(?<![.\w])(KI|KF)\[(\d+)\]")


def _lift_slots(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Replace literal ``KI[n]``/``KF[n]`` by ``KI[kc0]``...; returns (text, [(name, n)])."""
    names: dict[tuple[str, str], str] = {}

    def sub(m: re.Match[str]) -> str:
        name = names.setdefault((m.group(1), m.group(2)), f"kc{len(names)}")
        return f"{m.group(1)}[{name}]"

    text = _SLOT.sub(sub, text)
    return text, [(name, index) for (_, index), name in names.items()]


@dataclass
class Generated:
    """The generated source of one property and what it needs from the plan."""

    source: str
    sites: Sites
    paths: list[tuple[tuple[str, str], ...]] = field(default_factory=list)
    slots: int = 0
    temporal: bool = False

    @property
    def key(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()[:20]


def conjuncts(node: ir.Node | None) -> list[ir.Node]:
    if node is None:
        return []
    if isinstance(node, ir.And):
        return [c for a in node.args for c in conjuncts(a)]
    return [node]


def atom_of(nodes: list[ir.Node], name: str | None = None) -> ir.Node | None:
    """The first timeline atom among ``nodes`` (of variable ``name`` when given)."""
    for n in nodes:
        if isinstance(n, _ATOMS) and (name is None or n.arg.name == name):
            return n
    return None


class Gen(SetsGen, TemporalGen, OpsGen, TermGen):
    """Generates the verdict and witness code of one formula."""

    def __init__(self) -> None:
        self.sites = Sites()
        self.lines: list[str] = []
        self.depth = 0
        self.counter = 0
        self.paths: list[tuple[tuple[str, str], ...]] = []
        self.slots = 0
        self.functions: list[str] = []
        self.fn_index: dict[str, str] = {}
        #: Outline long sub-formulas into functions (witness code only: a call that is not
        #: inlined passes every array argument with reference counting, ~20 ns each, which
        #: the hot verdict loop cannot afford; the witness code runs on failing traces only).
        self.outlining = False

    def sub(self, node: ir.Node, env: Env, pos: str) -> str:
        """:meth:`cond` of a sub-formula, outlined into its own function when its code is long
        and :attr:`outlining` is on.

        numba's compile time grows with (variables x blocks) of a function; outlined functions
        are compiled separately. Outlined functions are deduplicated by their text up to
        renaming.
        """
        mark, depth, first = len(self.lines), self.depth, self.counter
        expr = self.cond(node, env, pos)
        if not self.outlining or len(self.lines) - mark < OUTLINE_LINES:
            return expr
        call = self.outline(mark, depth, first, f"return {expr}", _OUTER)
        out = self.tmp("c")
        self.emit(f"{out} = {call}")
        return out

    def explain_sub(self, node: ir.Node, env: Env, order: list[tuple[str, str, str]], pos: str,
                    moved: bool) -> None:
        """:meth:`explain`, outlined (a function returning the new ``cnt``) when long."""
        mark, depth, first = len(self.lines), self.depth, self.counter
        self.explain(node, env, order, pos, moved)
        if self.outlining and len(self.lines) - mark >= OUTLINE_LINES:
            call = self.outline(mark, depth, first, "return cnt", _WITNESS_OUTER)
            self.emit(f"cnt = {call}")

    def outline(self, mark: int, depth: int, first: int, ret: str, outer: frozenset[str]) -> str:
        """Move ``self.lines[mark:]`` (plus ``ret``) into a function; returns the call text."""
        body = self.lines[mark:]
        del self.lines[mark:]
        refs: list[str] = []
        for line in [*body, ret]:
            for name in _IDENT.findall(line):
                if name in refs:
                    continue
                m = _TMP.fullmatch(name)
                if (m and int(m.group(1)) <= first) or name in outer:
                    refs.append(name)
        cut = "    " * depth
        lines = ["    " + line[len(cut):] for line in body] + ["    " + ret]
        rename: dict[str, str] = {}

        def canon(m: re.Match[str]) -> str:
            name = m.group(0)
            if _TMP.fullmatch(name):
                return rename.setdefault(name, f"v{len(rename)}")
            return name

        params = [canon(_IDENT.match(r)) for r in refs]  # type: ignore[arg-type]
        text = "\n".join(_IDENT.sub(canon, line) for line in lines)
        # constant slots become arguments, so that sub-formulas equal up to their literals
        # (the conjuncts of a wide `and`, say) share one function: numba compiles it once
        text, slots = _lift_slots(text)
        params += [name for name, _ in slots]
        key = f"({', '.join(params)}):\n{text}"
        fname = self.fn_index.get(key)
        if fname is None:
            fname = self.fn_index[key] = f"fn_{len(self.functions)}"
            self.functions.append(f"{{device}}\ndef {fname}{key}")
        return f"{fname}({', '.join([*refs, *(index for _, index in slots)])})"

    def is_formula(self, node: ir.Node) -> bool:
        return type(node) in FORMULAS

    # ------------------------------------------------------------------ formulas
    def cond(self, node: ir.Node, env: Env, pos: str) -> str:
        """Compile a formula at timeline position ``pos``; returns a boolean expression."""
        rule = COND.get(type(node))
        if rule is None:
            raise Unsupported(f"{type(node).__name__} is not a formula")
        return rule(self, node, env, pos)

    def _c_const(self, node: ir.Const, env: Env, pos: str) -> str:
        return "True" if node.value is True else "False"

    def _c_compare(self, node: ir.Compare, env: Env, pos: str) -> str:
        a = self.val(node.left, env, pos)
        b = self.val(node.right, env, pos)
        return self.compare(node.op, a, b, self.dom(node.left, env), self.dom(node.right, env))

    def _c_match(self, node: ir.Match, env: Env, pos: str) -> str:
        v = self.val(node.operand, env, pos)
        if S not in v.tags:
            return "False"
        site = self.sites.bool_site(("re", self.dom(node.operand, env), node.pattern))
        if v.st == S:
            return f"bit(BT, {site}, {v.i})"
        return self.flag(f"{v.t} == 4", f"bit(BT, {site}, {v.i})")

    def _c_in_list(self, node: ir.InList, env: Env, pos: str) -> str:
        v = self.val(node.operand, env, pos)
        out = self.tmp("c")
        self.emit(f"{out} = False")
        with self.block(f"if {v.t} != 0:"):
            for item in node.items.items:
                c = self.compare("==", v, self.const_val(item.value), None, None)
                with self.block(f"if not {out}:"):
                    self.emit(f"{out} = {c}")
        return out

    def _c_has(self, node: ir.Has, env: Env, pos: str) -> str:
        v = self.val(node.operand, env, pos)
        return f"({v.t} != 0)"

    def _c_member(self, node: ir.Member, env: Env, pos: str) -> str:
        bound = self.var(env, node.elem.name)
        return self.member(bound.local, bound.kind, node.domain, env, pos)

    def _c_not(self, node: ir.Not, env: Env, pos: str) -> str:
        return f"(not {self.cond(node.arg, env, pos)})"

    def _c_and_or(self, node: ir.And | ir.Or, env: Env, pos: str) -> str:
        out = self.tmp("c")
        first = self.sub(node.args[0], env, pos)
        self.emit(f"{out} = {first}")
        for arg in node.args[1:]:
            test = out if type(node) is ir.And else f"not {out}"
            with self.block(f"if {test}:"):
                self.emit(f"{out} = {self.sub(arg, env, pos)}")
        return out

    def _c_implies(self, node: ir.Implies, env: Env, pos: str) -> str:
        out = self.tmp("c")
        self.emit(f"{out} = not {self.sub(node.left, env, pos)}")
        with self.block(f"if not {out}:"):
            self.emit(f"{out} = {self.sub(node.right, env, pos)}")
        return out

    def _c_truth(self, node: ir.Node, env: Env, pos: str) -> str:
        """A term used as a formula: true when its value is the boolean ``true``."""
        v = self.val(node, env, pos)
        return f"({v.t} == 1 and {v.i} == 1)"

    def flag(self, test: str, value: str) -> str:
        out = self.tmp("c")
        self.emit(f"{out} = False")
        with self.block(f"if {test}:"):
            self.emit(f"{out} = {value}")
        return out

    def atom(self, node: ir.Node, env: Env, pos: str) -> str:
        assert isinstance(node, _ATOMS)
        self.sites.needs.add("timeline")
        bound = self.var(env, node.arg.name)
        if bound.kind != "span":
            return "False"
        test = f"tl_phase[{pos}] == {_PHASE[type(node)]} and tl_row[{pos}] == {bound.local}"
        if isinstance(node, ir.EventOf) and node.name is not None:
            code = self.sites.k_int(("str", node.name))
            test += f" and e_name[tl_ev[{pos}]] == {code}"
        return f"({test})"

    # ------------------------------------------------------------------ binding and sets
    def bind(self, env: Env, name: str, kind: str, local: str, scopes: list[ir.Node]) -> Env:
        bound = Bind(kind, local)
        self.hoist_attrs(bound, scopes, name)
        inner = dict(env)
        inner[name] = bound
        self.memoize(bound, inner, scopes, name)
        return inner

    @contextmanager
    def loop(self, domain: ir.Node, env: Env, pos: str, ordered: bool) -> Iterator[tuple[str, str]]:
        """Emit a loop over the members of ``domain``; the body goes inside the ``with``.

        Yields the local holding the member and its kind. Ascending row (event) order when
        ``ordered``; otherwise any order (for order-insensitive uses).
        """
        depth = self.depth
        x = self.tmp("x")
        kind = self.domain_kind(domain, env)
        if type(domain) is ir.Comprehension:  # a loop over its domain, filtered by its guard
            with self.loop(domain.domain, env, pos, ordered) as (y, _):
                inner = self.bind(env, domain.var, kind, y, [domain.guard])
                g = self.cond(domain.guard, inner, pos)
                self.open(f"if {g}:")
                self.emit(f"{x} = {y}")
                yield x, kind
            self.depth = depth
            return
        opener = LOOP.get(type(domain))
        if opener is None:
            raise Unsupported(f"{type(domain).__name__} is not a set")
        opener(self, domain, env, x, ordered)
        yield x, kind
        self.depth = depth

    def open(self, header: str) -> None:
        self.emit(header)
        self.depth += 1

    def span_arg(self, var: ir.Var, env: Env, what: str) -> str:
        bound = self.var(env, var.name)
        if bound.kind != "span":
            raise Unsupported(f"`{what}` of an event")
        return bound.local

    def member(self, x: str, kind: str, domain: ir.Node, env: Env, pos: str) -> str:
        """A boolean expression: the span/event in local ``x`` is a member of ``domain``."""
        want = self.domain_kind(domain, env)
        if kind != want:
            return "False"
        rule = MEMBER.get(type(domain))
        if rule is None:
            raise Unsupported(f"{type(domain).__name__} is not a set")
        return rule(self, x, kind, domain, env, pos)

    # ------------------------------------------------------------------ quantifiers
    def point_atom(self, node: ir.Quant, env: Env) -> ir.Node | None:
        """A timeline atom of the quantified variable that every relevant member must satisfy."""
        if self.domain_kind(node.domain, env) != "span":
            return None
        found = atom_of(conjuncts(node.guard), node.var)
        if found is not None:
            return found
        if node.kind == "exists":
            return atom_of(conjuncts(node.body), node.var)
        if isinstance(node.body, ir.Implies):
            return atom_of(conjuncts(node.body.left), node.var)
        if isinstance(node.body, ir.Not):
            return atom_of(conjuncts(node.body.arg), node.var)
        return None

    @contextmanager
    def members(self, node: ir.Quant, env: Env, pos: str, ordered: bool) -> Iterator[Env]:
        """Loop over the quantifier's members that pass its guard (or bind the point's row)."""
        depth = self.depth
        scopes = [n for n in (node.guard, node.body) if n is not None]
        atom = self.point_atom(node, env)
        with ExitStack() as stack:
            if atom is not None:
                self.sites.needs.add("timeline")
                x = self.tmp("x")
                k = self.tmp("k")
                phase = _PHASE[type(atom)]
                self.open(f"for {k} in range(1 if tl_phase[{pos}] == {phase} else 0):")
                self.emit(f"{x} = tl_row[{pos}]")
                self.open(f"if {self.member(x, 'span', node.domain, env, pos)}:")
                inner = self.bind(env, node.var, "span", x, scopes)
            else:
                x, kind = stack.enter_context(self.loop(node.domain, env, pos, ordered))
                inner = self.bind(env, node.var, kind, x, scopes)
            if node.guard is not None:
                self.open(f"if {self.cond(node.guard, inner, pos)}:")
            yield inner
        self.depth = depth

    def quant(self, node: ir.Quant, env: Env, pos: str) -> str:
        memo = self.ancestor_memo(node, env, pos)
        if memo is not None:
            return memo
        out = self.tmp("q")
        forall = node.kind == "forall"
        self.emit(f"{out} = {forall}")
        with self.members(node, env, pos, ordered=False) as inner:
            b = self.sub(node.body, inner, pos)
            with self.block(f"if {'not ' if forall else ''}{b}:"):
                self.emit(f"{out} = {not forall}")
                self.emit("break")
        return out

#: How :meth:`Gen.cond` compiles each formula class (and each term used as a formula), and
#: how :meth:`Gen.member` tests membership of each set. Together with
#: :data:`workbench.engine.codegen_terms.VALUE` these cover every node the compiled capability
#: table marks ``"compiled"`` (``tests/engine/test_capabilities.py`` checks it).
COND: dict[type[ir.Node], Callable[[Gen, Any, Env, str], str]] = {
    ir.Const: Gen._c_const,
    ir.Compare: Gen._c_compare,
    ir.Match: Gen._c_match,
    ir.InList: Gen._c_in_list,
    ir.Has: Gen._c_has,
    ir.Member: Gen._c_member,
    ir.Not: Gen._c_not,
    ir.And: Gen._c_and_or,
    ir.Or: Gen._c_and_or,
    ir.Implies: Gen._c_implies,
    ir.Quant: Gen.quant,
    ir.StartOf: Gen.atom,
    ir.EndOf: Gen.atom,
    ir.EventOf: Gen.atom,
    ir.Temporal: Gen.temporal,
    **{cls: Gen._c_truth for cls in TERMS},
}
#: Formula classes: a term of one of these is compiled through :meth:`Gen.cond`.
FORMULAS = frozenset(COND) - TERMS - {ir.Const}
#: How :meth:`Gen.loop` opens a loop over each set (a comprehension loops over its domain).
LOOP: dict[type[ir.Node], Callable[[Gen, Any, Env, str, bool], None]] = {
    ir.Spans: Gen._loop_spans,
    ir.Roots: Gen._loop_roots,
    ir.Events: Gen._loop_events,
    ir.Rel: Gen._loop_rel,
}
MEMBER: dict[type[ir.Node], Callable[[Gen, str, str, Any, Env, str], str]] = {
    ir.Spans: Gen._in_spans,
    ir.Roots: Gen._in_roots,
    ir.Events: Gen._in_events,
    ir.Rel: Gen._in_rel,
    ir.Comprehension: Gen._in_comprehension,
}

_HEADER = """# generated by workbench.engine.codegen {version}: do not edit
import numpy as np
{imports}
from workbench.engine.kernel_lib import library as _library

_L = _library({target!r})
{helpers}
"""


def regroup(formula: ir.Node, width: int = 4) -> ir.Node:
    """Nest long conjunctions and disjunctions in groups of ``width`` (same meaning, same
    witnesses: the first false conjunct of a group is the first false conjunct overall), so
    that :meth:`Gen.sub` can outline them piecewise."""
    from workbench.lang.walk import transform

    def group(node: ir.Node) -> ir.Node | None:
        assert isinstance(node, ir.And | ir.Or)
        args = node.args
        if len(args) <= width + 2:
            return None
        cls = type(node)
        while len(args) > width + 2:
            args = tuple(
                args[k] if len(args[k:k + width]) == 1 else cls(args[k:k + width])
                for k in range(0, len(args), width)
            )
        return cls(args)

    return transform(formula, {ir.And: group, ir.Or: group})


def _signature(lead: str, memo: bool) -> str:
    return f"{lead}, " + ", ".join([*ARG_NAMES, *([MEMO_ARG] if memo else [])])


_TABLE: dict[Any, str] = {}  # the compiled capability table (filled on first use)


def generate(formula: ir.Node) -> Generated:
    """Generate the kernel source of a (parameter-free) formula.

    Raises
    ------
    Unsupported
        When the formula uses a construct outside the compiled fragment.
    """
    from workbench.engine.capabilities import compiled_capabilities, gate

    if not _TABLE:
        _TABLE.update(compiled_capabilities())
    gate(_TABLE, formula)  # the table decides what compiles; nothing falls through below
    formula = regroup(formula)
    g = Gen()
    g.depth = 2
    verdict = g.cond(formula, {}, "tlo")
    body_v = g.lines
    g.lines = []
    g.depth = 2
    g.outlining = True
    g.explain(formula, {}, [], "tlo", False)
    body_w = g.lines
    temporal = "timeline" in g.sites.needs
    memo = bool(g.sites.anc_memos)
    prologue = ["lo = toff[t]", "hi = toff[t + 1]"]
    if temporal:
        prologue += ["tlo = tl_off[t]", "thi = tl_off[t + 1]"]
    else:
        prologue += ["tlo = 0", "thi = 0"]
    out: list[str] = []
    for fn in g.functions:
        out += [fn, "", ""]
    out += ["{decorator}", f"def verdict({_signature('t0, t1, out', memo)}):", "{verdict_head}"]
    out += ["        " + line for line in prologue]
    out += body_v
    out.append(f"        out[t] = {verdict}")
    witness_sig = _signature("q0, q1, traces, wbuf, wcnt", memo)
    out += ["", "", "{decorator}", f"def witness({witness_sig}):"]
    out += ["    cap = wbuf.shape[1]", "{witness_head}", "        t = traces[q]", "        cnt = 0"]
    out += ["        " + line for line in prologue]
    out += body_w
    out.append("        wcnt[q] = cnt")
    source = "\n".join(out) + "\n"
    check_depth(
        source.replace("{decorator}", "").replace("{device}", "")
        .replace("{verdict_head}", "    for t in range(t0, t1):")
        .replace("{witness_head}", "    for q in range(q0, q1):")
    )
    return Generated(source, g.sites, g.paths, g.slots, temporal)


def render(gen: Generated, target: str) -> str:
    """The module text of ``gen`` for ``target`` (``"cpu"`` or ``"cuda"``)."""
    from workbench.engine.kernel_lib import HELPERS

    helpers = "\n".join(f"{name} = _L.{name}" for name in HELPERS)
    if target == "py":
        imports = ""
        decorator = device = ""
        verdict_head = "    for t in range(t0, t1):"
        witness_head = "    for q in range(q0, q1):"
    elif target == "cpu":
        imports = "from numba import njit"
        decorator = "@njit(nogil=True, cache=True)"
        device = decorator
        verdict_head = "    for t in range(t0, t1):"
        witness_head = "    for q in range(q0, q1):"
    else:
        imports = "from numba import cuda"
        decorator = "@cuda.jit"
        device = "@cuda.jit(device=True)"
        verdict_head = ("    t = t0 + cuda.grid(1)\n"
                        "    for _once in range(1 if t < t1 else 0):")
        witness_head = ("    q = q0 + cuda.grid(1)\n"
                        "    for _once in range(1 if q < q1 else 0):")
    head = _HEADER.format(version=CODEGEN_VERSION, imports=imports, target=target, helpers=helpers)
    body = (gen.source.replace("{decorator}", decorator).replace("{device}", device)
            .replace("{verdict_head}", verdict_head).replace("{witness_head}", witness_head))
    return head + "\n\n" + body
