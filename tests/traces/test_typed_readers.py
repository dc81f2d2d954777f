"""The typed Jaeger and Zipkin fast readers against the reference readers.

:mod:`workbench.traces.jaeger_fast` and :mod:`workbench.traces.zipkin_fast` read the common
well-formed documents; everything else goes to the reference readers. For generated documents,
every bundled real Jaeger/Zipkin file and Hypothesis-mutated ones, the table and the
diagnostics with the fast readers on must equal those with ``OTLSPEC_FAST_READERS=0``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.test_fuzz_readers import DOCS, _mutate_bytes, _mutate_tree
from tests.traces.util import REAL, ROOT, assert_tables_equal
from workbench.traces import detect, jaeger_fast, load_bytes, load_traces, zipkin_fast
from workbench.traces.builder import TableBuilder
from workbench.traces.model import SpanTable


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_ingest", ROOT / "benchmarks/ingest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_INGEST = _bench()
_TRACES = _INGEST.generate(600, seed=3)
GENERATED = {"jaeger": _INGEST.to_jaeger(_TRACES), "zipkin": _INGEST.to_zipkin(_TRACES)}
def _classify_file(path: Path) -> str:
    try:
        return detect.classify(json.loads(path.read_bytes()))
    except ValueError:
        return "unknown"


REAL_FILES = [
    p for p in sorted([*REAL.rglob("*.json"), *(ROOT / "tests/data").rglob("*.json")])
    if _classify_file(p) in ("jaeger", "zipkin")
]  # fmt: skip


def _read(raw: bytes, fast: bool, format: str = "auto") -> SpanTable:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(detect.FAST_READERS_ENV, "1" if fast else "0")
        return load_bytes(raw, "trace.json", format).build()


def _diagnostics(table: SpanTable) -> list[tuple[Any, ...]]:
    return [(d.file, d.path, d.message, d.severity, d.line) for d in table.diagnostics]


def check_same(raw: bytes, format: str = "auto") -> SpanTable:
    """Fast and reference readers give equal tables and diagnostics for ``raw``."""
    fast, slow = _read(raw, True, format), _read(raw, False, format)
    assert_tables_equal(fast, slow)
    assert _diagnostics(fast) == _diagnostics(slow)
    return fast


@pytest.mark.parametrize("fmt", sorted(GENERATED))
def test_generated_documents_take_the_fast_path(fmt: str) -> None:
    raw = GENERATED[fmt]
    module = jaeger_fast if fmt == "jaeger" else zipkin_fast
    assert module.load(raw, "x", TableBuilder())
    for format in ("auto", fmt):
        table = check_same(raw, format)
        assert table.n_spans == 600
    other = "zipkin" if fmt == "jaeger" else "jaeger"
    check_same(raw, other)  # the wrong format asked for: the same refusal


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_real_files(path: Path) -> None:
    check_same(path.read_bytes())


def test_some_real_files_take_the_fast_path() -> None:
    taken = [p for p in REAL_FILES
             if jaeger_fast.load(p.read_bytes(), "x", TableBuilder())
             or zipkin_fast.load(p.read_bytes(), "x", TableBuilder())]  # fmt: skip
    assert len(taken) >= 15, taken


def test_several_files_into_one_table(tmp_path: Path) -> None:
    """Resources of a second document are numbered after those of the first."""
    files = []
    for i, (fmt, raw) in enumerate([*GENERATED.items(), *GENERATED.items()]):
        files.append(tmp_path / f"{i}-{fmt}.json")
        files[-1].write_bytes(raw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(detect.FAST_READERS_ENV, "1")
        fast = load_traces(files)
        mp.setenv(detect.FAST_READERS_ENV, "0")
        slow = load_traces(files)
    assert_tables_equal(fast, slow)
    assert _diagnostics(fast) == _diagnostics(slow)


def _small(fmt: str) -> Any:
    doc = json.loads(GENERATED[fmt])
    if fmt == "jaeger":
        doc["data"] = doc["data"][:2]
        for trace in doc["data"]:
            trace["spans"] = trace["spans"][:4]
        return doc
    return doc[:6]


_SOURCES = [("jaeger", d) for d in DOCS["jaeger"]] + [("zipkin", d) for d in DOCS["zipkin-v2"]]
_SOURCES += [("jaeger", _small("jaeger")), ("zipkin", _small("zipkin"))]
_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def _case(data: st.DataObject) -> None:
    fmt, source = data.draw(st.sampled_from(_SOURCES), label="file")
    raw = json.dumps(_mutate_tree(data, source)).encode()
    if data.draw(st.booleans(), label="bytes too"):
        raw = _mutate_bytes(data, raw)
    format = data.draw(st.sampled_from(["auto", fmt]), label="format")
    check_same(raw, format)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=_CHECKS)
@given(data=st.data())
def test_mutated_documents(data: st.DataObject) -> None:
    _case(data)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=_CHECKS)
@given(data=st.data())
def test_mutated_documents_long(data: st.DataObject) -> None:
    _case(data)


_J_SPAN = ('{"traceID":"abc","spanID":"1f","operationName":"op","startTime":10,"duration":5,'
           '"processID":"p1","references":[],"tags":[%s],"logs":[]}')
_J_DOC = '{"data":[{"traceID":"abc","spans":[%s],"processes":{"p1":{"serviceName":"s"}}}]}'
_Z_SPAN = '{"traceId":"ABC","id":"1F","timestamp":10,"duration":5,"tags":{%s}}'
EDGE_CASES = [
    _J_DOC % (_J_SPAN % '{"key":"k","type":"STRING","value":"v"}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"int64","value":5.0}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"int64","value":"12"}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"float64","value":3}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"bool","value":"TRUE"}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"binary","value":"aGk="}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"string","value":null}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"weird","value":7}'),
    _J_DOC % (_J_SPAN % '{"key":"k","type":"int64","value":18446744073709551615}'),
    _J_DOC % (_J_SPAN % '{"key":"span.kind","value":"SERVER"},{"key":"error","value":"true"}'),
    _J_DOC % (_J_SPAN % '{"key":"otel.status_code","value":"error"}').replace('"p1"', '"p2"', 1),
    _J_DOC % (_J_SPAN % "").replace('"startTime":10', '"startTime":10,"startTime":20'),
    _J_DOC % (_J_SPAN % "").replace('"references":[]',
                                    '"references":[],"parentSpanID":"00ab"'),
    _J_DOC % (_J_SPAN % "").replace('"references":[]',
                                    '"references":[{"refType":"follows_from","spanID":"2"}]'),
    _J_DOC % ",".join([_J_SPAN % ""] * 2),
    "[" + _Z_SPAN % '"error":"boom","a":null' + "]",
    "[" + _Z_SPAN % '"a":"1","a":"2"' + "]",
    "[" + (_Z_SPAN % "").replace('"timestamp":10', '"timestamp":10,"kind":"client"') + "]",
    "[" + (_Z_SPAN % "").replace('"timestamp":10', '"timestamp":-10') + "]",
    "[" + ",".join([_Z_SPAN % ""] * 2) + "]",
    "[" + (_Z_SPAN % "").replace('"id":"1F"', '"id":"1F","remoteEndpoint":{"serviceName":"r"}')
    + "]",
]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_edge_cases(raw: str) -> None:
    for format in ("auto", "jaeger", "zipkin"):
        check_same(raw.encode(), format)


def test_switched_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def spy(name: str) -> Any:
        def load(data: bytes, file: str, builder: TableBuilder) -> bool:
            calls.append(name)
            return False

        return load

    monkeypatch.setattr(jaeger_fast, "load", spy("jaeger"))
    monkeypatch.setattr(zipkin_fast, "load", spy("zipkin"))
    for raw in GENERATED.values():
        _read(raw, False)
    assert calls == []
    for raw in GENERATED.values():
        _read(raw, True)
    # a list the Zipkin reader refuses may still be a list of Jaeger traces
    assert calls == ["jaeger", "zipkin", "jaeger"]
