"""trace_graph: one trace as a networkx DiGraph."""

from __future__ import annotations

import pytest

from tests.traces.util import doc, dumps, span
from workbench.traces import load_bytes, trace_graph

OTHER = "ab" * 16


def test_graph_nodes_parent_and_link_edges() -> None:
    spans = [
        span("1000000000000001", name="root", attributes=[{"key": "k", "value": {"intValue": 1}}]),
        span("1000000000000002", "1000000000000001", start=1100),
        span(
            "1000000000000003",
            "1000000000000001",
            start=1200,
            links=[
                {"traceId": span("0")["traceId"], "spanId": "1000000000000002"},
                {"traceId": OTHER, "spanId": "2000000000000001"},
            ],
        ),
        span("2000000000000001", trace=OTHER),
    ]
    table = load_bytes(dumps(doc(*spans)), "g.json").build()
    graph = trace_graph(table, 0)
    assert sorted(graph.nodes) == [0, 1, 2, 3]  # the link target in the other trace is added
    assert graph.nodes[0]["name"] == "root" and graph.nodes[0]["attributes"] == {"k": 1}
    assert graph.nodes[0]["service"] == "svc" and graph.nodes[1]["depth"] == 1
    kinds = {(u, v): d["kind"] for u, v, d in graph.edges(data=True)}
    assert kinds == {(0, 1): "parent", (0, 2): "parent", (2, 1): "link", (2, 3): "link"}
    assert graph.graph["trace_id"] == table.trace_id_hex[0]


def test_graph_with_a_cycle_and_bad_index() -> None:
    spans = [
        span("1000000000000001", "1000000000000002"),
        span("1000000000000002", "1000000000000001"),
    ]
    table = load_bytes(dumps(doc(*spans)), "g.json").build()
    graph = trace_graph(table, 0)
    assert set(graph.edges) == {(0, 1), (1, 0)}
    with pytest.raises(IndexError):
        trace_graph(table, 5)
