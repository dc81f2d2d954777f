"""Trace ingestion: OTLP JSON/protobuf, Jaeger and Zipkin files into one columnar span table.

Main entry points
-----------------
:func:`load_traces`
    Files, directories, globs or ``"-"`` (stdin) -> :class:`SpanTable`.
:func:`load_bytes`
    One in-memory source appended into a :class:`TableBuilder`.
:func:`trace_graph`
    One trace as a ``networkx.DiGraph`` (for exploration; imports networkx on first use).
"""

from __future__ import annotations

from typing import Any

from workbench.traces.builder import TableBuilder
from workbench.traces.detect import FORMATS, TRACE_SUFFIXES, detect_format, load_bytes, load_traces
from workbench.traces.model import (
    KIND_NAMES,
    MISSING_PARENT,
    ROOT,
    STATUS_NAMES,
    AttrColumns,
    EventView,
    LinkView,
    SpanTable,
    StringTable,
)

__all__ = [
    "FORMATS",
    "KIND_NAMES",
    "MISSING_PARENT",
    "ROOT",
    "STATUS_NAMES",
    "TRACE_SUFFIXES",
    "AttrColumns",
    "EventView",
    "LinkView",
    "SpanTable",
    "StringTable",
    "TableBuilder",
    "detect_format",
    "load_bytes",
    "load_traces",
    "trace_graph",
]


def __getattr__(name: str) -> Any:
    if name == "trace_graph":
        from workbench.traces.graph import trace_graph

        return trace_graph
    raise AttributeError(f"module 'workbench.traces' has no attribute {name!r}")
