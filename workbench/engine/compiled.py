"""The driver shared by the compiled backends (numba CPU, CUDA GPU).

A backend provides a :class:`Runner` (load a generated module, launch ``verdict`` and
``witness`` over ranges of traces); this module does everything else the same way for all of
them: bind parameters, generate code (:mod:`.codegen`, cached by the normalized formula),
build the table index and the per-property tables (:mod:`.plan`), run, and turn witness
records into :class:`~workbench.engine.base.Witness` objects with the reference's own
message renderer, so that reports cannot tell the backends apart.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from workbench.engine import reference
from workbench.engine.base import Outcome, PropertyResult, TimelinePoint, Timings, Witness
from workbench.engine.codegen import Generated, generate
from workbench.engine.codegen_terms import Unsupported
from workbench.engine.plan import (
    TableIndex,
    materialize,
    release_memory,
    table_args,
    table_index,
)
from workbench.engine.witness import describe_point, render_message, span_ref
from workbench.lang import ir
from workbench.traces.context import Point, TraceContext
from workbench.traces.model import SpanTable

_GENERATED: dict[ir.Node, Generated | Unsupported] = {}
#: Failing traces per witness-kernel launch.
WITNESS_BLOCK = 2048


def bind(formula: ir.Node, values: Mapping[str, Any]) -> ir.Node:
    """Replace every :class:`~workbench.lang.ir.ParamRef` by a constant of its value."""
    from workbench.lang.walk import transform

    def sub(node: ir.Node) -> ir.Node | None:
        assert isinstance(node, ir.ParamRef)
        if node.name not in values:
            return None
        value = values[node.name]
        return ir.Const(value, node.type)

    return transform(formula, {ir.ParamRef: sub})


def generated(formula: ir.Node) -> Generated:
    """The generated kernel source of a bound formula (memoized); raises :class:`Unsupported`."""
    found = _GENERATED.get(formula)
    if found is None:
        try:
            found = generate(formula)
        except Unsupported as err:
            found = err
        except RecursionError:
            found = Unsupported("the formula nests too deeply to compile")
        if len(_GENERATED) > 4096:
            _GENERATED.clear()
        _GENERATED[formula] = found
    if isinstance(found, Unsupported):
        raise found
    return found


def unsupported_reason(prop: ir.Property, values: Mapping[str, Any]) -> str | None:
    """Why ``prop`` is outside the compiled fragment, or ``None`` when it compiles."""
    try:
        generated(bind(prop.formula, values))
    except Unsupported as err:
        return str(err)
    return None


class Runner(Protocol):
    """What a compiled backend provides to :func:`check_properties`."""

    name: str
    compile_seconds: float  # running total of time spent compiling or loading kernels

    def load(self, gen: Generated) -> Any:
        """Load (and compile) the generated module; returns a handle."""

    def verdicts(self, jobs: list[tuple[Any, tuple[np.ndarray, ...]]], n_traces: int,
                 toff: np.ndarray) -> list[np.ndarray]:
        """Verdict per trace of each ``(handle, args)`` job (all jobs share one table)."""

    def witness(self, handle: Any, args: tuple[np.ndarray, ...], traces: np.ndarray,
                cap: int, slots: int) -> tuple[np.ndarray, np.ndarray]:
        """Witness records ``(wbuf[q, k, :], wcnt[q])`` of the failing ``traces``."""


@dataclass
class Prepared:
    """A property ready to run: its kernel module and its arguments on one table."""

    prop: ir.Property
    gen: Generated
    handle: Any
    args: tuple[np.ndarray, ...]
    index: TableIndex
    started: float
    #: This property's own seconds so far: preparation, its share of the verdict pass, witnesses.
    seconds: float = 0.0


def prepare(runner: Runner, prop: ir.Property, table: SpanTable, values: Mapping[str, Any],
            timings: Timings) -> Prepared:
    """Generate, load and bind ``prop``; raises :class:`Unsupported` outside the fragment."""
    from workbench.engine import check_plan

    started = time.perf_counter()
    fresh: list[float] = []

    def load() -> tuple[Generated | Unsupported, Any]:
        gen, handle, seconds = _load(runner, prop, values)
        fresh.append(seconds)
        return gen, handle

    # generated module and handle depend only on (runner, bound property, values): cached
    gen, handle = check_plan.kernel(runner, prop, values, load)
    if isinstance(gen, Unsupported):
        raise gen.with_traceback(None)
    timings.add("compile", sum(fresh))
    t0 = time.perf_counter()
    index = table_index(table)
    args = _args(gen, index)
    timings.add("index", time.perf_counter() - t0)
    return Prepared(prop, gen, handle, args, index, started, time.perf_counter() - started)


def _load(runner: Runner, prop: ir.Property, values: Mapping[str, Any]
          ) -> tuple[Generated | Unsupported, Any, float]:
    """``(generated module, handle, seconds loading)`` of ``prop``, or ``(Unsupported, None,
    0.0)`` outside the fragment (what :func:`prepare` caches per bound property)."""
    try:
        gen = generated(bind(prop.formula, values))
    except Unsupported as err:
        return err, None, 0.0
    t0 = time.perf_counter()
    handle = runner.load(gen)
    return gen, handle, time.perf_counter() - t0


def finish(runner: Runner, prep: Prepared, holds: np.ndarray, values: Mapping[str, Any],
           timings: Timings, max_witnesses: int = reference.MAX_WITNESSES) -> PropertyResult:
    """Witnesses of the failing traces, and the result."""
    started = time.perf_counter()
    witnesses: dict[int, list[Witness]] = {}
    failing = np.nonzero(~holds)[0].astype(np.int64)
    if failing.size and max_witnesses > 0:
        # blocks of failing traces bound the witness buffers (cap records per trace each)
        for k in range(0, failing.shape[0], WITNESS_BLOCK):
            block = failing[k:k + WITNESS_BLOCK]
            t0 = time.perf_counter()
            before = runner.compile_seconds
            wbuf, wcnt = runner.witness(prep.handle, prep.args, block, max_witnesses,
                                        prep.gen.slots)
            compiling = runner.compile_seconds - before
            timings.add("compile", compiling)
            timings.add("witness", time.perf_counter() - t0 - compiling)
            t0 = time.perf_counter()
            witnesses.update(render(prep.prop, prep.gen, prep.index, values, block, wbuf, wcnt))
            timings.add("render", time.perf_counter() - t0)
    elif failing.size:
        witnesses = {int(t): [] for t in failing}
    prep.seconds += time.perf_counter() - started
    return PropertyResult(prop=prep.prop, holds=holds, witnesses=witnesses, backend=runner.name,
                          seconds=prep.seconds)


def check_property(
    runner: Runner,
    prop: ir.Property,
    table: SpanTable,
    values: Mapping[str, Any],
    timings: Timings,
    max_witnesses: int = reference.MAX_WITNESSES,
) -> PropertyResult:
    """Check one property with ``runner``; raises :class:`Unsupported` outside the fragment."""
    prep = prepare(runner, prop, table, values, timings)
    return finish(runner, prep, _verdicts(runner, [prep], table, timings)[0], values, timings,
                  max_witnesses)


def check_properties(
    runner: Runner,
    props: list[ir.Property],
    table: SpanTable,
    values: Mapping[str, Any],
    timings: Timings,
    max_witnesses: int = reference.MAX_WITNESSES,
) -> list[Outcome]:
    """Check several properties in one pass over the table (see :meth:`Runner.verdicts`).

    Returns, per property, its result or the exception that kept it from running here
    (:class:`Unsupported`, or a compilation failure).
    """
    preps: list[Prepared | Exception] = []
    for prop in props:
        try:
            preps.append(prepare(runner, prop, table, values, timings))
        except Exception as err:  # Unsupported, or a numba error
            preps.append(err)
    ready = [p for p in preps if isinstance(p, Prepared)]
    holds = iter(_verdicts(runner, ready, table, timings)) if ready else iter(())
    out: list[Outcome] = []
    for p in preps:
        out.append(p if isinstance(p, Exception) else
                   finish(runner, p, next(holds), values, timings, max_witnesses))
    release_memory()
    return out


def _verdicts(runner: Runner, preps: list[Prepared], table: SpanTable, timings: Timings
              ) -> list[np.ndarray]:
    t0 = time.perf_counter()
    before = runner.compile_seconds
    holds = runner.verdicts([(p.handle, p.args) for p in preps], table.n_traces,
                            table.trace_offsets)
    wall = time.perf_counter() - t0
    compiling = runner.compile_seconds - before
    timings.add("compile", compiling)
    timings.add("check", wall - compiling)
    # each property's share of the batched pass: the runner's per-job times (kernel time,
    # summed over threads, and compilation) scaled to the wall time of the pass
    own = getattr(runner, "job_seconds", None)
    if own is None or len(own) != len(preps) or sum(own) <= 0:
        own = [1.0] * len(preps)
    scale = wall / sum(own)
    for prep, sec in zip(preps, own, strict=True):
        prep.seconds += sec * scale
    return holds


def _args(gen: Generated, index: TableIndex) -> tuple[np.ndarray, ...]:
    """The kernel arguments of ``gen`` on ``index``'s table.

    Table and index arrays are shared; the per-property tables are rebuilt from the index's
    cached site results on each call (cheap), so that only one property's dense tables are
    alive at a time.
    """
    from workbench.engine.codegen import ARG_NAMES

    t0 = time.perf_counter()
    needs = frozenset(gen.sites.needs)
    shared = index.table_args.get(needs)
    if shared is None:
        shared = index.table_args[needs] = table_args(index, gen.sites.needs)
    arrays = {**shared, **materialize(gen.sites, index)}
    index.seconds += time.perf_counter() - t0
    args = tuple(arrays[name] for name in ARG_NAMES)
    if gen.sites.anc_memos:  # the ancestor memo's scratch rows, fresh (unknown) per run
        args += (np.zeros((len(gen.sites.anc_memos), max(1, index.table.n_spans)), np.int8),)
    return args


def render(
    prop: ir.Property,
    gen: Generated,
    index: TableIndex,
    values: Mapping[str, Any],
    failing: np.ndarray,
    wbuf: np.ndarray,
    wcnt: np.ndarray,
) -> dict[int, list[Witness]]:
    """Witness objects from kernel records, exactly as the reference builds them."""
    table = index.table
    temporal = ir.is_temporal(prop.formula)
    out: dict[int, list[Witness]] = {}
    arrays = index.arrays
    for q, trace in enumerate(failing.tolist()):
        ctx = TraceContext(table, trace)
        interp = reference.Interpreter(ctx, values)
        found: list[Witness] = []
        for k in range(min(int(wcnt[q]), wbuf.shape[1])):
            rec = wbuf[q, k]
            path = gen.paths[int(rec[0])]
            env: dict[str, Any] = {}
            for n, (name, kind) in enumerate(path):
                v = int(rec[2 + n])
                env[name] = _event(table, v) if kind == "event" else v
            position = int(rec[1])
            point = None
            if position >= 0 or temporal:
                local = position - int(arrays["tl_off"][trace]) if position >= 0 else 0
                point = _point(table, arrays, int(arrays["tl_off"][trace]) + local, local)
            bindings = tuple((name, span_ref(table, env[name])) for name, _ in path)
            message = render_message(interp, prop, env)
            found.append(Witness(bindings, message, point))
        out[trace] = found
    return out


def _event(table: SpanTable, j: int) -> Any:
    row = int(np.searchsorted(table.event_offsets, j, side="right")) - 1
    return table.events_of(row)[j - int(table.event_offsets[row])]


def _point(table: SpanTable, arrays: dict[str, np.ndarray], g: int, local: int) -> TimelinePoint:
    phase = int(arrays["tl_phase"][g])
    row = int(arrays["tl_row"][g])
    ev = int(arrays["tl_ev"][g])
    k = ev - int(table.event_offsets[row]) if ev >= 0 else 0
    name = table.strings[int(table.event_name[ev])] if ev >= 0 else ""
    p = Point(int(arrays["tl_time"][g]), phase, row, k, name)
    return TimelinePoint(local, p.time, describe_point(table, p))


def balanced_chunks(toff: np.ndarray, n_traces: int, parts: int) -> list[tuple[int, int]]:
    """Split ``[0, n_traces)`` into about ``parts`` ranges of similar span counts."""
    if n_traces == 0:
        return []
    total = int(toff[n_traces])
    marks = np.linspace(0, total, parts + 1)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(toff[: n_traces + 1], marks[1:-1]),
                                     [n_traces]]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(cuts) if b > a]


class CompiledBackend:
    """A backend running the compiled plan through a :class:`Runner` (numba CPU, CUDA GPU).

    Parameters
    ----------
    name:
        The backend's name.
    runner:
        Returns the process-wide runner (called on first use, so that importing a backend
        module loads no compiler).
    probe:
        Whether the backend can run here, and why (see :meth:`available`).
    """

    note = "compiled"

    def __init__(self, name: str, runner: Callable[[], Runner],
                 probe: Callable[[], tuple[bool, str]]) -> None:
        from workbench.engine.capabilities import compiled_capabilities

        self.name = name
        self._runner = runner
        self._probe = probe
        self.capabilities = compiled_capabilities(name)

    def available(self) -> tuple[bool, str]:
        return self._probe()

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        return unsupported_reason(prop, values)

    def check(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
              timings: Timings | None = None) -> list[Outcome]:
        # all properties run together: one pass over the table (see NumbaRunner.verdicts)
        return check_properties(self._runner(), list(props), table, values,
                                timings if timings is not None else Timings())

    def __repr__(self) -> str:
        return f"<{self.name} backend>"
