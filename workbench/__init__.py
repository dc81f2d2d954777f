"""otlspec: a formal-methods workbench for distributed traces.

The public API, importable from the top level (loaded lazily so that ``import workbench`` stays
cheap for the CLI):

* :func:`load_traces` — read OTLP JSON/protobuf, Jaeger and Zipkin files into a span table;
* :func:`load_spec`, :func:`parse_spec` — read ``.otlspec`` specs (``"stdlib"``: the
  standard library);
* :func:`check` — check a spec on a span table and get verdicts with witnesses.
"""

from __future__ import annotations

from typing import Any

from workbench._version import __version__

_EXPORTS = {
    "load_traces": ("workbench.traces", "load_traces"),
    "load_spec": ("workbench.lang", "load_spec"),
    "load_specs": ("workbench.lang", "load_specs"),
    "parse_spec": ("workbench.lang", "parse_spec"),
    "parse_formula": ("workbench.lang", "parse_formula"),
    "check": ("workbench.engine", "check"),
    "SpanTable": ("workbench.traces.model", "SpanTable"),
    "CheckResult": ("workbench.engine.base", "CheckResult"),
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(target[0]), target[1])
