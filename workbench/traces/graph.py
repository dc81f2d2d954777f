"""One trace as a networkx graph, for exploration in notebooks (the checkers never use it)."""

from __future__ import annotations

from typing import Any

import networkx as nx

from workbench.traces.model import SpanTable


def _node_data(table: SpanTable, row: int) -> dict[str, Any]:
    return {
        "trace": int(table.trace_index[row]),
        "span_id": table.span_id_hex(row),
        "parent_id": table.parent_id_hex(row),
        "name": table.name_of(row),
        "service": table.service_of(row),
        "kind": table.kind_of(row),
        "status": table.status_of(row),
        "start": int(table.start[row]),
        "end": int(table.end[row]),
        "has_end": bool(table.has_end[row]),
        "depth": int(table.depth[row]),
        "in_cycle": bool(table.in_cycle[row]),
        "attributes": table.attributes_of(row),
    }


def trace_graph(table: SpanTable, trace: int) -> nx.DiGraph:
    """The spans of one trace as a directed graph.

    Parameters
    ----------
    table
        A loaded span table.
    trace
        Trace index (``0 <= trace < table.n_traces``).

    Returns
    -------
    networkx.DiGraph
        Nodes are table rows carrying the span's fields (``name``, ``service``, ``kind``,
        ``start``, ``attributes``...). Edges go parent -> child with ``kind="parent"`` and
        span -> linked span with ``kind="link"``; a link target in another loaded trace is
        added as a node too. Parent cycles appear as graph cycles.
    """
    if not 0 <= trace < table.n_traces:
        raise IndexError(f"trace {trace} out of range (table has {table.n_traces} traces)")
    graph = nx.DiGraph(trace_id=table.trace_id_hex[trace])
    rows = table.trace_rows(trace)
    for row in rows:
        graph.add_node(row, **_node_data(table, row))
    for row in rows:
        parent = int(table.parent[row])
        if parent >= 0:
            graph.add_edge(parent, row, kind="parent")
    for row in rows:
        for j in range(int(table.link_offsets[row]), int(table.link_offsets[row + 1])):
            target = int(table.link_row[j])
            if target < 0:
                continue
            if target not in graph:
                graph.add_node(target, **_node_data(table, target))
            if not graph.has_edge(row, target):
                graph.add_edge(row, target, kind="link")
    return graph
