"""Hypothesis strategies for span tables that stress the compiled backends.

Random forests with skewed fan-out, every span kind (asynchronous ones included), links
inside and across traces, events (inside and outside their span), attributes of mixed types
(strings that the stdlib's regexes look for, ints, floats including NaN and infinities, bools,
lists, dicts, bytes, duplicate keys), spans without an end, equal timestamps, malformed and
duplicate ids, orphans, and, occasionally, parent cycles.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable

NAMES = ["GET /a", "GET /a", "db.query", "publish", "process", "", "X" * 130, "4111 1111 1111 1111"]
SERVICES = ["front", "front", "user-service", "User_Service", "db", "", "unknown_service:py"]
EVENT_NAMES = ["exception", "exception", "retry", "log", "ack"]
KEYS = [
    "http.method", "http.request.method", "http.status_code", "http.response.status_code",
    "url.full", "http.url", "user.id", "exception.message", "exception.type",
    "exception.escaped", "http.request.resend_count", "db.statement", "db.system", "rpc.system",
    "userId", "k", "n", "retry", "a b", 'q"uote',
]
STRINGS = [
    "GET", "POST", "bob@example.com", "https://u:p@h/x", "https://REDACTED:REDACTED@h/",
    "123-45-6789", "4111111111111111", "card=4111111111111111", "", "abc", "ABC", "a.b",
    "true", "1", "500", "nan",
]


def _value() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(STRINGS),
        st.integers(-3, 600),
        st.sampled_from([0, 1, 200, 302, 404, 500, 2**62, -(2**62), 4111111111111111]),
        st.sampled_from([0.0, 1.0, 1.5, -2.25, 500.0, float("nan"), float("inf"), 1e20]),
        st.booleans(),
        st.sampled_from([[1, 2], [1.0, 2.0], ["a"], [], {"a": 1}, {"a": 1.0}]),
        st.sampled_from([b"\x01\x02", b""]),
    )


def _attrs(max_size: int = 4) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(st.tuples(st.sampled_from(KEYS), _value()), max_size=max_size)


def _hex(n: int, width: int) -> str:
    return format(n, f"0{width}x")


@st.composite
def traces(draw: st.DrawFn, max_traces: int = 4, max_spans: int = 9) -> list[dict[str, Any]]:
    """A list of traces, each a list of span dicts for :func:`build`."""
    out = []
    n_traces = draw(st.integers(1, max_traces))
    for t in range(n_traces):
        trace_id = draw(
            st.sampled_from([_hex(t + 1, 32), _hex(t + 1, 32), "0" * 32, "zz" + str(t)]))
        n = draw(st.integers(1, max_spans))
        spans = []
        ids = [_hex(1000 * (t + 1) + k + 1, 16) for k in range(n)]
        for k in range(n):
            parent = ""
            choice = draw(st.integers(0, 9))
            if k > 0 and choice < 7:
                # skewed towards early spans: deep and wide shapes
                parent = ids[draw(st.integers(0, k - 1)) if choice > 2 else 0]
            elif choice == 8:
                parent = "ffffffffffffffff"  # orphan: names a missing parent
            span_id = ids[k]
            odd = draw(st.integers(0, 29))
            if odd == 0:
                span_id = ids[draw(st.integers(0, n - 1))]  # duplicate id
            elif odd == 1:
                span_id = draw(st.sampled_from(["abc", "XYZ", "0" * 16, "ABCDEF0123456789", ""]))
            start = draw(st.sampled_from([0, 5, 10, 10, 20, 40, 1_000_000_000]))
            duration = draw(st.sampled_from([0, 1, 5, 10, 30, 2_000_000_000, -3]))
            end = None if draw(st.integers(0, 7)) == 0 else start + duration
            events = [
                (draw(st.sampled_from(EVENT_NAMES)), start + draw(st.integers(-5, 40)),
                 draw(_attrs(2)))
                for _ in range(draw(st.integers(0, 2)))
            ]
            links = []
            for _ in range(draw(st.integers(0, 1))):
                target = draw(st.integers(-1, n - 1))
                links.append((trace_id, ids[target] if target >= 0 else "1" * 16, []))
            spans.append(
                dict(
                    trace_id=trace_id,
                    span_id=span_id,
                    parent_id=parent,
                    name=draw(st.sampled_from(NAMES)),
                    kind=draw(st.sampled_from([0, 1, 2, 2, 3, 3, 4, 5])),
                    status=draw(st.sampled_from([0, 0, 1, 2])),
                    status_message=draw(st.sampled_from(["", "", "boom", "bob@example.com"])),
                    start=start,
                    end=end,
                    flags=draw(st.sampled_from([0, 1, 1, 3, 2])),
                    service=draw(st.sampled_from(SERVICES)),
                    attributes=draw(_attrs()),
                    events=events,
                    links=links,
                )
            )
        if n >= 2 and draw(st.integers(0, 15)) == 0:  # a parent cycle
            spans[0]["parent_id"] = spans[-1]["span_id"] or ids[-1]
        out.append(spans)
    return out


def build(trace_list: list[list[dict[str, Any]]]) -> SpanTable:
    """The table of :func:`traces`' output."""
    b = TableBuilder()
    resources: dict[str, int] = {}
    for spans in trace_list:
        for sp in spans:
            sp = dict(sp)
            service = sp.pop("service")
            if service not in resources:
                attrs = [("service.name", service)] if service else [("host", "h")]
                resources[service] = b.add_resource(attrs)
            b.add_span(resource=resources[service], **sp)
    return b.build()


def tables(max_traces: int = 4, max_spans: int = 9) -> st.SearchStrategy[SpanTable]:
    """Span tables (see the module docstring)."""
    return traces(max_traces, max_spans).map(build)
