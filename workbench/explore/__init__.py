"""The notebook API: load traces, write specs inline, check, and look at the results.

>>> import workbench.explore as wx
>>> traces = wx.load("datasets/real")                  # doctest: +SKIP
>>> spec = wx.spec('''property short { check forall s in spans: s.duration <= 1s }''')
>>> res = wx.check(spec, traces)                       # doctest: +SKIP
>>> res                                                # a table in Jupyter  # doctest: +SKIP
>>> res.violations()                                   # a pandas DataFrame  # doctest: +SKIP
>>> wx.waterfall(traces, 0, res)                       # violations highlighted  # doctest: +SKIP

Properties render as mathematics (``spec["name"]``, ``res["name"].math()``), built with
sympy's LaTeX printer (:mod:`workbench.explore.latex`). Plots need matplotlib, tables
pandas, the explorer ipywidgets: ``pip install 'otlspec[notebooks]'``.
"""

from __future__ import annotations

from typing import Any

from workbench.explore.latex import Math, to_latex, to_sympy
from workbench.explore.results import (
    MathList,
    PropertyView,
    Results,
    Spec,
    Traces,
    check,
    load,
    spec,
)
from workbench.explore.semantics import evaluate, hb_matrix, timeline, toy_trace, truth_table

_PLOTS = ("waterfall", "trace_graph", "violations_by_property", "violations_by_service",
          "latency_distribution", "precision_recall", "span_order")

__all__ = ["Math", "MathList", "PropertyView", "Results", "Spec", "Traces", "check",
           "evaluate", "explorer", "hb_matrix", "load", "spec", "timeline", "to_latex",
           "to_sympy", "toy_trace", "truth_table", *_PLOTS]


def __getattr__(name: str) -> Any:
    if name in _PLOTS:
        from workbench.explore import plots

        return getattr(plots, name)
    if name == "explorer":
        from workbench.explore.widgets import explorer

        return explorer
    raise AttributeError(f"module 'workbench.explore' has no attribute {name!r}")
