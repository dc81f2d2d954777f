"""The incremental stream backend: online monitors fed spans as they arrive.

:mod:`.state` keeps each trace's spans and structure, :mod:`.ops` holds the online operators
(windowed past/future temporal operators, aggregates) with ``update``/``reset``,
:mod:`.evaluate` compiles formulas into closures over that state, :mod:`.monitor` decides what
a new span re-verifies, :mod:`.backend` registers the monitor as ``--backend stream``, and
:mod:`.feed` turns OTLP pieces into records for ``otlspec serve``.
"""

from __future__ import annotations

from workbench.stream.evaluate import Unsupported
from workbench.stream.monitor import Footprint, StreamMonitor, TraceMonitor
from workbench.stream.state import SpanRec, TraceState, records_from_table

__all__ = ["Footprint", "SpanRec", "StreamMonitor", "TraceMonitor", "TraceState", "Unsupported",
           "records_from_table"]
