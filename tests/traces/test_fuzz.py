"""Never crash: real files with random values swapped in anywhere still load (or diagnose)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.util import REAL
from workbench.traces import load_bytes

FILES = [
    "opentelemetry-proto/trace.json",
    "jaeger/storage-integration/otlp_span_links.json",
    "jaeger/uimodel-fixtures/ui_01.json",
    "jaeger-ui/trace-contract/multi-reference.legacy.json",
    "openzipkin-zipkin/ascend.json",
    "opentelemetry-collector/zipkin_v1_single_batch.json",
    "opentelemetry-collector/zipkin_v2_single.json",
    "opentelemetry-collector/zipkin_v1_error_batch.json",
    "jaeger/memory-fixtures/otel_traces_01.json",
]
DOCS = {name: json.loads((REAL / name).read_text()) for name in FILES}

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.sampled_from(
            [
                "",
                "CHILD_OF",
                "SERVER",
                "cs",
                "sr",
                "AAAAAAAAAAA=",
                "0" * 16,
                "2017-13-01T00:00:00Z",
                "1.5s",
                "SPAN_KIND_CLIENT",
                "STATUS_CODE_ERROR",
                "NaN",
                "-1",
                "1e400",
            ]
        ),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


PATHS = {name: _paths(doc)[1:] for name, doc in DOCS.items()}


def _replace(obj: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(obj)]
    return obj  # an earlier mutation replaced this branch


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(FILES))
    obj = DOCS[name]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(PATHS[name]))
        obj = _replace(obj, path, draw(json_values))
    return json.dumps(obj).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_inputs_never_crash(data: bytes) -> None:
    builder = load_bytes(data, "fuzz.json")
    table = builder.build()
    assert table.n_spans == len(builder)


ALL_FILES = sorted(p for p in REAL.rglob("*") if p.is_file() and p.name != "SOURCES.md")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(ALL_FILES), st.floats(0, 1), st.binary(max_size=8))
def test_truncated_or_corrupted_files_never_crash(path, cut: float, junk: bytes) -> None:
    data = path.read_bytes()
    data = data[: int(len(data) * cut)] + junk
    builder = load_bytes(data, path.name)
    assert builder.build().n_spans == len(builder)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data: bytes) -> None:
    load_bytes(data, "random.bin").build()
