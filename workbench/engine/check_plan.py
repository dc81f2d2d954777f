"""What :func:`workbench.engine.check` computes once per (spec, params), not once per table.

A server checks batch after batch of a few traces with one spec and one set of params; every
call used to redo the ``bind_params`` pass (a rewrite of all 46 stdlib formulas), the
compiled backends' second bind and code generation lookup, and the kernel module lookup
(rendering each module's text and hashing it) before touching the table. None of that
depends on the table, so it is kept here:

:func:`bound`
    The spec after :func:`~workbench.engine.pipeline.check_passes`, its pass timings and its
    parameter values, per (spec object, params). The cache holds the spec itself and compares
    it by identity, so a different spec (even an equal one) never reuses a plan, and the key
    includes each param value's type (``1`` and ``True`` are different params).
:func:`kernel`
    Per (runner, bound property, parameter values): the generated module and its loaded handle
    (or the :class:`~workbench.engine.codegen_terms.Unsupported` reason), used by
    :func:`workbench.engine.compiled.prepare`.
:func:`memo`
    A per-formula memo for the stages' table-independent matching (e.g.
    :func:`workbench.engine.grouped.match`).

Everything per table (indexes, site tables, arguments, verdicts, witnesses) is still computed
on every call. :func:`clear` empties the caches (tests; a changed kernel library).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from workbench.lang import ir

#: Plans kept (specs x param sets); the least recently used one goes first.
MAX_PLANS = 16
#: Kernel entries and memo entries kept (cleared whole when exceeded).
MAX_ENTRIES = 4096

T = TypeVar("T")


@dataclass(frozen=True)
class BoundSpec:
    """A spec ready for the backends: ``spec`` after the check passes, their timings, and
    the parameter values (:func:`workbench.engine.reference.param_values`)."""

    source: ir.Spec
    spec: ir.Spec
    passes: tuple[tuple[str, float], ...]
    values: Mapping[str, Any]


_LOCK = threading.Lock()
_PLANS: OrderedDict[tuple[int, Hashable], BoundSpec] = OrderedDict()
#: ``key -> (pinned objects, value)``; the pinned objects keep the ids in ``key`` from reuse
_KERNELS: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
_MEMO: dict[tuple[str, int], tuple[Any, Any]] = {}


def params_key(params: Mapping[str, Any] | None) -> Hashable | None:
    """A hashable key of ``params`` (each value with its type), or ``None`` when a value is
    not hashable (such a call is not cached)."""
    if not params:
        return ()
    try:
        key = tuple(sorted((str(k), type(v).__qualname__, v) for k, v in params.items()))
        hash(key)
    except TypeError:
        return None
    return key


def bound(spec: ir.Spec, params: Mapping[str, Any] | None) -> BoundSpec:
    """``spec`` bound with ``params`` through the check passes (cached; see the module doc).

    Raises whatever the passes raise (e.g. :class:`~workbench.errors.ParamError`); failures
    are not cached.
    """
    from workbench.engine import reference
    from workbench.engine.pipeline import check_passes
    from workbench.lang.passes import run_passes

    pkey = params_key(params)
    key = (id(spec), pkey)
    if pkey is not None:
        with _LOCK:
            found = _PLANS.get(key)
            if found is not None and found.source is spec:
                _PLANS.move_to_end(key)
                return found
    out, passes = run_passes(spec, check_passes(params))
    plan = BoundSpec(spec, out, tuple(passes), reference.param_values(out))
    if pkey is not None:
        with _LOCK:
            _PLANS[key] = plan
            while len(_PLANS) > MAX_PLANS:
                _PLANS.popitem(last=False)
    return plan


def kernel(runner: Any, prop: ir.Property, values: Mapping[str, Any],
           make: Callable[[], T]) -> T:
    """``make()`` for (``runner``, ``prop``, ``values``), computed once while all three are
    the same objects (``values`` compared by identity too: a bound plan's values are one
    dict, and a fresh dict is a miss, never a wrong hit)."""
    key = (id(runner), id(prop), id(values))
    with _LOCK:
        found = _KERNELS.get(key)
    if found is not None:
        pinned, value = found
        if pinned[0] is runner and pinned[1] is prop and pinned[2] is values:
            return value
    value = make()
    with _LOCK:
        if len(_KERNELS) >= MAX_ENTRIES:
            _KERNELS.clear()
        _KERNELS[key] = ((runner, prop, values), value)
    return value


def memo(name: str, node: ir.Node, make: Callable[[], T]) -> T:
    """``make()`` remembered for the formula object ``node`` under ``name``."""
    key = (name, id(node))
    with _LOCK:
        found = _MEMO.get(key)
    if found is not None and found[0] is node:
        return found[1]
    value = make()
    with _LOCK:
        if len(_MEMO) >= MAX_ENTRIES:
            _MEMO.clear()
        _MEMO[key] = (node, value)
    return value


def clear() -> None:
    """Forget every plan, kernel entry and memo."""
    with _LOCK:
        _PLANS.clear()
        _KERNELS.clear()
        _MEMO.clear()


def sizes() -> dict[str, int]:
    """Entries per cache (for tests and diagnostics)."""
    with _LOCK:
        return {"plans": len(_PLANS), "kernels": len(_KERNELS), "memo": len(_MEMO)}


__all__ = ["BoundSpec", "bound", "clear", "kernel", "memo", "params_key", "sizes"]
