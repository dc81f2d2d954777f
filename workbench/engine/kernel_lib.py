"""Scalar helpers shared by the generated kernels (CPU and GPU).

The functions here are plain Python written in the subset that both ``numba.njit`` and
``numba.cuda.jit(device=True)`` compile: scalars in, scalars (or small tuples) out, arrays only
read. :func:`library` returns them compiled for one target; the generated kernels of
:mod:`workbench.engine.codegen` call them by name.

Dynamic values
--------------
An expression of the language evaluates to a *triple* ``(tag, i, f)``:

========  ==========================================================================
tag       meaning of ``i`` / ``f``
========  ==========================================================================
``U`` 0   undefined (an absent attribute, ``min`` of nothing, ``x / 0``)
``B`` 1   bool: ``i`` is 0 or 1
``I`` 2   int: ``i`` (times and durations are ints of nanoseconds; a span is its row)
``F`` 3   float: ``f``
``S`` 4   string: ``i`` is its code in the plan's string dictionary (equal codes = equal text)
``L`` 5   list attribute value: ``i`` is the code of its JSON text
``D`` 6   kvlist (dict) attribute value: ``i`` is the code of its JSON text
``E`` 7   a span event: ``i`` is its global event index
========  ==========================================================================

These mirror the reference interpreter's Python values exactly (see ``_equal``/``_order``
there): numbers compare numerically (an int and a float exactly, as Python does), bools only
with bools, strings by text (codes) or by rank (ordering), lists and dicts by their decoded
value (an equivalence class id per code, computed on the host).
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np

U, B, I, F, S, L, D, E = range(8)  # noqa: E741 (the tag letters of the docs)

_TWO63 = 9223372036854775808.0


def cmp_if(i: int, f: float) -> int:
    """Compare an int with a float exactly: -1, 0, 1, or 2 when ``f`` is NaN."""
    if f != f:
        return 2
    if f >= _TWO63:
        return -1
    if f < -_TWO63:
        return 1
    fl = math.floor(f)
    fi = int(fl)
    if i < fi:
        return -1
    if i > fi:
        return 1
    if fl == f:
        return 0
    return -1


def cmp_num(ta: int, ia: int, fa: float, tb: int, ib: int, fb: float) -> int:
    """Compare two numbers (tags I or F): -1, 0, 1, or 2 when unordered (NaN)."""
    if ta == 2 and tb == 2:
        if ia < ib:
            return -1
        if ia > ib:
            return 1
        return 0
    if ta == 3 and tb == 3:
        if fa != fa or fb != fb:
            return 2
        if fa < fb:
            return -1
        if fa > fb:
            return 1
        return 0
    if ta == 2:
        return cmp_if(ia, fb)
    c = cmp_if(ib, fa)
    if c == 2:
        return 2
    return -c


def eqv(ta: int, ia: int, fa: float, tb: int, ib: int, fb: float, nki: Any, nvi: Any,
        lo: int, hi: int) -> bool:
    """The reference's ``_equal`` on two defined values (lists and dicts compare by their
    class ids, looked up in the sorted table ``nki[lo:hi] -> nvi``)."""
    na = ta == 2 or ta == 3
    nb = tb == 2 or tb == 3
    if na and nb:
        return cmp_num(ta, ia, fa, tb, ib, fb) == 0
    if ta == 1 or tb == 1:
        return ta == 1 and tb == 1 and ia == ib
    if ta != tb:
        return False
    if ta == 5 or ta == 6:
        return lookup_int(nki, nvi, lo, hi, ia) == lookup_int(nki, nvi, lo, hi, ib)
    return ia == ib


def ordv(op: int, ta: int, ia: int, fa: float, tb: int, ib: int, fb: float, it: Any,
         rank: int) -> bool:
    """The reference's ``_order``: ``op`` is 0 ``<``, 1 ``<=``, 2 ``>``, 3 ``>=`` (strings by
    the ranks in row ``rank`` of ``it``)."""
    if (ta == 2 or ta == 3) and (tb == 2 or tb == 3):
        c = cmp_num(ta, ia, fa, tb, ib, fb)
        if c == 2:
            return False
    elif ta == 4 and tb == 4:
        ra = it[rank, ia]
        rb = it[rank, ib]
        c = -1 if ra < rb else (1 if ra > rb else 0)
    else:
        return False
    if op == 0:
        return c < 0
    if op == 1:
        return c <= 0
    if op == 2:
        return c > 0
    return c >= 0


def arith(op: int, ta: int, ia: int, fa: float, tb: int, ib: int, fb: float) -> tuple:
    """``a op b`` for ``op`` 0 ``+``, 1 ``-``, 2 ``*``, 3 ``/``, 4 ``%``; undefined unless both
    are numbers, and for ``/`` and ``%`` by zero."""
    if not ((ta == 2 or ta == 3) and (tb == 2 or tb == 3)):
        return 0, 0, 0.0
    if ta == 2 and tb == 2:
        if op == 0:
            return 2, ia + ib, 0.0
        if op == 1:
            return 2, ia - ib, 0.0
        if op == 2:
            return 2, ia * ib, 0.0
        if ib == 0:
            return 0, 0, 0.0
        if op == 3:
            return 3, 0, ia / ib
        return 2, ia % ib, 0.0
    x = fa if ta == 3 else float(ia)
    y = fb if tb == 3 else float(ib)
    if op == 0:
        return 3, 0, x + y
    if op == 1:
        return 3, 0, x - y
    if op == 2:
        return 3, 0, x * y
    if y == 0.0:
        return 0, 0, 0.0
    if op == 3:
        return 3, 0, x / y
    return 3, 0, x % y


def attr_last(off: Any, keys: Any, owner: int, code: int) -> int:
    """Index of the last attribute of ``owner`` with key ``code`` (what a dict keeps), or -1."""
    if code < 0 or owner < 0:
        return -1
    j = off[owner + 1] - 1
    lo = off[owner]
    while j >= lo:
        if keys[j] == code:
            return j
        j -= 1
    return -1


def attr_tag(atype: Any, j: int) -> int:
    """Value tag of attribute entry ``j`` (``-1`` entry: undefined)."""
    if j < 0:
        return 0
    k = atype[j]
    if k == 0 or k == 4:  # str, bytes (hex text)
        return 4
    if k == 1:
        return 1
    if k == 2:
        return 2
    if k == 3:
        return 3
    if k == 5:
        return 5
    return 6


def attr_int(atype: Any, aival: Any, asval: Any, j: int) -> int:
    """The ``i`` slot of attribute entry ``j``: the int/bool value or the string code."""
    if j < 0:
        return 0
    k = atype[j]
    if k == 1 or k == 2:
        return aival[j]
    if k == 3:
        return 0
    return asval[j]


def attr_float(atype: Any, afval: Any, j: int) -> float:
    """The ``f`` slot of attribute entry ``j``."""
    if j < 0:
        return 0.0
    if atype[j] == 3:
        return afval[j]
    return 0.0


def attr_get(atype: Any, aival: Any, asval: Any, afval: Any, j: int) -> tuple:
    """The value triple of attribute entry ``j`` (``-1``: undefined)."""
    if j < 0:
        return 0, 0, 0.0
    k = atype[j]
    if k == 0 or k == 4:  # str, bytes (hex text)
        return 4, np.int64(asval[j]), 0.0
    if k == 1 or k == 2:
        return np.int64(k), aival[j], 0.0
    if k == 3:
        return 3, 0, afval[j]
    return np.int64(k), np.int64(asval[j]), 0.0


def bit(table: Any, site: int, code: int) -> bool:
    """Bit ``code`` of row ``site`` of a packed boolean table."""
    return (table[site, code >> 3] >> (code & 7)) & 1 == 1


def luhn_int(i: int) -> bool:
    """The reference's ``luhn`` of an int (the digits of its decimal text)."""
    x = i
    if x < 0:
        x = -x
    n = 0
    total = 0
    while True:
        d = x % 10
        x = x // 10
        if n % 2 == 1:
            d = d * 2
            if d > 9:
                d -= 9
        total += d
        n += 1
        if x == 0:
            break
    return 13 <= n and n <= 19 and total % 10 == 0


def lookup_int(keys: Any, vals: Any, lo: int, hi: int, x: float) -> int:
    """``vals[k]`` for the ``k`` in ``[lo, hi)`` with ``keys[k] == x`` (sorted keys), else -1."""
    a = lo
    b = hi
    while a < b:
        m = (a + b) // 2
        if keys[m] < x:
            a = m + 1
        else:
            b = m
    if a < hi and keys[a] == x:
        return vals[a]
    return -1


def lookup_float(keys: Any, vals: Any, lo: int, hi: int, x: float, nan_code: int) -> int:
    """:func:`lookup_int` for float keys; NaN maps to ``nan_code``."""
    if x != x:
        return nan_code
    return lookup_int(keys, vals, lo, hi, x)


def is_anc(parent: Any, depth: Any, a: int, x: int) -> bool:
    """Whether ``a`` is in ``ancestors(x)`` (``depth[x]`` counts them, cycles included)."""
    p = parent[x]
    for _ in range(depth[x]):
        if p == a:
            return True
        p = parent[p]
    return False


def next_anc(parent: Any, depth: Any, x: int, last: int) -> int:
    """The smallest row in ``ancestors(x)`` greater than ``last`` (ascending iteration), or -1."""
    best = -1
    p = parent[x]
    for _ in range(depth[x]):
        if p > last and (best < 0 or p < best):
            best = p
        p = parent[p]
    return best


def linked_has(lk_off: Any, lk_rows: Any, s: int, x: int) -> bool:
    """Whether ``x`` is in ``linked(s)``."""
    for k in range(lk_off[s], lk_off[s + 1]):
        if lk_rows[k] == x:
            return True
    return False


def in_window(tl_time: Any, p: int, c: int, lo: int, hi: int, bounded: bool, future: bool) -> bool:
    """Whether timeline position ``c`` lies in the window of ``p`` (the reference's ``window``)."""
    if c < 0:
        return False
    if future:
        if c < p:
            return False
        d = tl_time[c] - tl_time[p]
    else:
        if c > p:
            return False
        d = tl_time[p] - tl_time[c]
    if d < lo:
        return False
    if bounded and d > hi:
        return False
    return True


HELPERS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        cmp_if,
        cmp_num,
        eqv,
        ordv,
        arith,
        attr_last,
        attr_tag,
        attr_int,
        attr_float,
        attr_get,
        bit,
        luhn_int,
        lookup_int,
        lookup_float,
        is_anc,
        next_anc,
        linked_has,
        in_window,
    )
}

#: Call graph of the helpers (a helper must be compiled after those it calls).
_ORDER = (
    "lookup_int",
    "cmp_if",
    "cmp_num",
    "eqv",
    "ordv",
    "arith",
    "attr_last",
    "attr_tag",
    "attr_int",
    "attr_float",
    "attr_get",
    "bit",
    "luhn_int",
    "lookup_float",
    "is_anc",
    "next_anc",
    "linked_has",
    "in_window",
)

_LIBS: dict[str, SimpleNamespace] = {}


def library(target: str) -> SimpleNamespace:
    """The helpers compiled for ``target``: ``"cpu"`` (``numba.njit``), ``"cuda"`` (device
    functions) or ``"py"`` (plain Python, for testing and debugging the generated code).

    Helpers call each other through their globals, so each target gets clones of the plain
    functions whose globals resolve to that target's compiled siblings.
    """
    found = _LIBS.get(target)
    if found is not None:
        return found
    if target == "cpu":
        from numba import njit

        def decorate(fn: Callable[..., Any]) -> Any:
            return njit(cache=True, nogil=True)(fn)
    elif target == "py":

        def decorate(fn: Callable[..., Any]) -> Any:
            return fn
    elif target == "cuda":
        from numba import cuda

        def decorate(fn: Callable[..., Any]) -> Any:
            return cuda.jit(device=True)(fn)
    else:
        raise ValueError(f"unknown target {target!r}")
    glb: dict[str, Any] = {"math": math, "np": np, "_TWO63": _TWO63, "__name__": __name__}
    compiled: dict[str, Any] = {}
    for name in _ORDER:
        fn = HELPERS[name]
        clone = types.FunctionType(fn.__code__, glb, name, fn.__defaults__, fn.__closure__)
        clone.__module__ = __name__
        clone.__qualname__ = f"{target}_{name}"
        compiled[name] = decorate(clone)
        glb[name] = compiled[name]
    ns = SimpleNamespace(**compiled)
    _LIBS[target] = ns
    return ns
