"""Mutation fuzzing of the compiled fast readers against the reference readers.

The fast readers (:mod:`workbench.traces.otlp_json_fast` for OTLP/JSON, documents and lines,
and :mod:`workbench.traces.otlp_wire` for protobuf) normally serve inputs of 1 MiB and more;
here the size thresholds are set to zero so every mutated file goes through them, and the same
bytes are read again with ``OTLSPEC_FAST_READERS=0``. Whatever the damage, both must finish
without an exception, every diagnostic must say where (a record path or a line), and the two
tables must be equal. The mutations are those of :mod:`tests.traces.test_fuzz_readers`. The
default run is small and derandomized; ``pytest -m slow`` runs many more examples.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.traces.test_fuzz_readers import DOCS, PROTO, _mutate_bytes, _mutate_tree
from tests.traces.util import assert_tables_equal
from workbench.traces import detect, load_bytes, otlp_json_load, otlp_proto
from workbench.traces.model import SpanTable

#: summaries that speak for the whole file (no single place to name)
_UNPLACED = ("more invalid UTF-8 sequences", "not an OTLP protobuf trace message",
             "invalid OTLP protobuf trace message", "empty input", "not a trace file",
             "not otlp-json input", "invalid JSON: text is not valid UTF-8", "more over-long")


def _read(raw: bytes, name: str, fast: bool) -> SpanTable:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(detect.FAST_READERS_ENV, "1" if fast else "0")
        for module, names in ((otlp_json_load, ("FAST_JSON_MIN_BYTES", "COLD_JSON_MIN_BYTES")),
                              (otlp_proto, ("FAST_MIN_BYTES", "COLD_MIN_BYTES"))):
            for attr in names:
                mp.setattr(module, attr, 0)
        table = load_bytes(raw, name).build()
        for row in range(min(table.n_spans, 3)):  # the views a report uses must work too
            table.row_summary(row)
        return table


def check_fast_against_reference(raw: bytes, name: str) -> None:
    """The fast and the reference reader agree on ``raw`` (see the module docstring)."""
    fast = _read(raw, name, True)
    slow = _read(raw, name, False)
    for d in fast.diagnostics:
        assert d.severity in ("error", "warning"), d
        assert d.path or d.line is not None or any(u in d.message for u in _UNPLACED), (
            f"unlocated: {d}")
    assert_tables_equal(fast, slow)


def _json_case(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(DOCS["otlp-json"]), label="file")
    doc = _mutate_tree(data, source)
    shape = data.draw(st.sampled_from(["compact", "tight", "pretty", "lines"]), label="shape")
    # "tight" (no blanks, as msgspec and the Collector write) takes the walker's one-step
    # reading of compact KeyValues; the other shapes its general walk
    seps = (",", ":") if shape in ("tight", "lines") else None
    if shape == "lines":  # one ResourceSpans per line, as the Collector's file exporter writes
        found = doc.get("resourceSpans") if isinstance(doc, dict) else None
        items: list[Any] = found if isinstance(found, list) and found else [None]
        raw = b"\n".join(json.dumps({"resourceSpans": [rs]}, separators=seps).encode()
                         for rs in items * 2)
    else:
        raw = json.dumps(doc, indent=2 if shape == "pretty" else None, separators=seps).encode()
    if data.draw(st.booleans(), label="bytes too"):
        raw = _mutate_bytes(data, raw)
    check_fast_against_reference(raw, "trace.json")


def _proto_case(data: st.DataObject) -> None:
    raw = data.draw(st.sampled_from(PROTO), label="file")
    for _ in range(data.draw(st.integers(0, 3), label="mutations")):
        raw = _mutate_bytes(data, raw)
    check_fast_against_reference(raw, "trace.pb")


#: Reproducer of finding "wire-utf8" (the fuzzer's first find): invalid UTF-8 in a field the
#: wire walker skipped (here the scope's version) passed silently, while the reference reader
#: replaces the bytes by U+FFFD with a warning. The walker now checks those fields and leaves
#: such a group to the reference reader.
WIRE_UTF8 = PROTO[0][:54] + bytes([PROTO[0][54] ^ 0x80]) + PROTO[0][55:]


def test_wire_reader_checks_utf8_like_the_reference() -> None:
    assert b"\x12\x05\xb1.0.0" in WIRE_UTF8  # the scope version "1.0.0", first byte flipped
    fast, slow = _read(WIRE_UTF8, "t.pb", True), _read(WIRE_UTF8, "t.pb", False)
    assert_tables_equal(fast, slow)
    assert [d.message for d in fast.diagnostics] == [d.message for d in slow.diagnostics]
    assert [d.path for d in fast.diagnostics] == [d.path for d in slow.diagnostics]


def _request_with(skipped: str) -> bytes:
    """A one-span request whose ``skipped`` field (one the walker does not store) holds
    invalid UTF-8."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    ss = rs.scope_spans.add()
    ss.scope.name = "lib"
    span = ss.spans.add(trace_id=bytes(range(1, 17)), span_id=bytes(range(1, 9)), name="s",
                        start_time_unix_nano=1, end_time_unix_nano=2)
    assert span.name == "s"
    marker = "MARKER"
    if skipped == "scope attribute":
        ss.scope.attributes.add(key="k").value.string_value = marker
    elif skipped == "scope schema_url":
        ss.schema_url = marker
    else:
        rs.schema_url = marker
    raw = req.SerializeToString()
    assert raw.count(marker.encode()) == 1
    return raw.replace(marker.encode(), b"MA\xffKER")


@pytest.mark.parametrize("skipped", ["scope attribute", "scope schema_url", "resource schema_url"])
def test_wire_reader_checks_utf8_of_skipped_strings(skipped: str) -> None:
    raw = _request_with(skipped)
    fast, slow = _read(raw, "t.pb", True), _read(raw, "t.pb", False)
    assert fast.n_spans == 1
    if skipped == "scope attribute":  # (a bad schema_url the reference drops unreported)
        assert any("invalid UTF-8" in d.message for d in slow.diagnostics)
    assert_tables_equal(fast, slow)
    assert [(d.path, d.message) for d in fast.diagnostics] == [
        (d.path, d.message) for d in slow.diagnostics]


CASES: dict[str, Callable[[st.DataObject], None]] = {"otlp-json": _json_case,
                                                     "otlp-proto": _proto_case}
_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


@pytest.mark.skipif(os.environ.get(detect.FAST_READERS_ENV, "1").strip() == "0",
                    reason="fast readers switched off")
@pytest.mark.parametrize("fmt", sorted(CASES))
@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=_CHECKS)
@given(data=st.data())
def test_fuzz_fast_readers_bounded(fmt: str, data: st.DataObject) -> None:
    CASES[fmt](data)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(CASES))
@settings(max_examples=2000, deadline=None, suppress_health_check=_CHECKS)
@given(data=st.data())
def test_fuzz_fast_readers_long(fmt: str, data: st.DataObject) -> None:
    CASES[fmt](data)
