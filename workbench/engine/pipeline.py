"""The named pass pipeline of a check: bind, (normalize,) lower, each a :class:`Pass`.

:func:`workbench.engine.check` runs :func:`check_passes` (parameters are bound once, typed,
by the ``bind_params`` pass; nothing binds them again downstream). ``otlspec explain PROPERTY
--dump-ir PASS`` shows the IR after any pass of :data:`PASSES`, in pipeline order:

``bind_params``
    ``--param`` overrides applied; every ``ParamRef`` and named interval bound replaced.
``normalize``
    :data:`workbench.lang.passes.RULES` to a fixpoint (what the Z3 obligations see).
``regroup``
    The compiled backends' lowering: long ``and``/``or`` nested in groups of four so the code
    generator can outline them (:func:`workbench.engine.codegen.regroup`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from workbench.lang import ir
from workbench.lang.passes import Pass, bind_pass, normalize_spec, run_passes


def _regroup(spec: ir.Spec) -> ir.Spec:
    from workbench.engine.codegen import regroup

    props = tuple(replace(p, formula=regroup(p.formula)) for p in spec.properties)
    return replace(spec, properties=props)


#: Every pass, by name, in pipeline order; each factory takes the ``--param`` overrides.
PASSES: dict[str, Callable[[Mapping[str, Any] | None], Pass]] = {
    "bind_params": bind_pass,
    "normalize": lambda _: Pass("normalize", normalize_spec),
    "regroup": lambda _: Pass("regroup", _regroup),
}


def check_passes(params: Mapping[str, Any] | None = None) -> list[Pass]:
    """The passes :func:`workbench.engine.check` runs before handing the spec to backends
    (each backend then lowers a property its own way, e.g. ``regroup`` for the kernels)."""
    return [PASSES["bind_params"](params)]


def dump_ir(spec: ir.Spec, name: str, upto: str,
            params: Mapping[str, Any] | None = None) -> ir.Node:
    """The formula of property ``name`` after the pipeline has run up to pass ``upto``.

    Raises
    ------
    ValueError
        For an unknown pass name.
    """
    if upto not in PASSES:
        raise ValueError(f"--dump-ir {upto}: no such pass (passes: {', '.join(PASSES)})")
    order = list(PASSES)
    passes = [PASSES[p](params) for p in order[:order.index(upto) + 1]]
    only = replace(spec, properties=(spec.property(name),))
    out, _ = run_passes(only, passes)
    return out.properties[0].formula
