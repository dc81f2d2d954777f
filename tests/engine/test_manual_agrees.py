"""What ``docs/language.md`` says about loaded data holds, on the reference and the compiled
kernels (run as Python) alike: duplicate span ids, row order, raw flags, key-value lists,
``matches`` on non-strings, run-time int-ness of ``value`` arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.engine.differential import compare
from workbench.engine import numba_cpu, reference
from workbench.lang import parse_spec
from workbench.traces import load_traces
from workbench.traces.model import SpanTable

TID = "0af7651916cd43dd8448eb211c80319c"
T = 1_700_000_000_000_000_000


def _span(sid: str, name: str, start: int, parent: str = "", flags: int = 0,
          attrs: list[dict] | None = None) -> dict:
    return {"traceId": TID, "spanId": sid, "parentSpanId": parent, "name": name, "kind": 1,
            "flags": flags, "startTimeUnixNano": str(T + start),
            "endTimeUnixNano": str(T + start + 100), "attributes": attrs or []}


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> SpanTable:
    kv = {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}},
                                     {"key": "b", "value": {"stringValue": "x"}}]}}
    arr = {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}}
    spans = [
        _span("0000000000000002", "child", 50, parent="0000000000000001"),
        _span("0000000000000001", "late-dup", 40),  # first in the input, later in rows
        _span("0000000000000001", "early-dup", 10),
        _span("0000000000000003", "twin-b", 10, flags=0x301, attrs=[
            {"key": "kv", "value": kv}, {"key": "arr", "value": arr},
            {"key": "code", "value": {"intValue": "500"}}]),
    ]
    doc = {"resourceSpans": [{"resource": {"attributes": []},
                              "scopeSpans": [{"spans": spans}]}]}
    path = Path(tmp_path_factory.mktemp("manual")) / "trace.json"
    path.write_text(json.dumps(doc))
    return load_traces([str(path)])


SPEC = parse_spec(r"""
property duplicates_kept {
  check count(x in spans where x.span_id == "0000000000000001") == 2
}
property parent_is_first_duplicate_in_row_order {
  check forall s in spans where s.name == "child": forall p in parent(s): p.name == "early-dup"
}
property flags_are_raw { check exists s in spans: s.flags == 769 and s.sampled }
property kvlist_len_counts_keys { check exists s in spans: len(s.attributes["kv"]) == 2 }
property list_text_is_python_repr {
  check exists s in spans: str(s.attributes["arr"]) == "['a', 1]"
    and str(s.attributes["kv"]) == "{'a': 1, 'b': 'x'}"
}
property matches_on_a_number_is_false {
  check forall s in spans: not (s.attributes["code"] matches "5")
}
property value_arithmetic_stays_int {
  check exists s in spans: str(s.attributes["code"] + 1) == "501"
}
property simultaneous_points_once {
  check forall a in spans, b in spans where a.name == "twin-b" and b.name == "early-dup":
    eventually (start(a) and once[0s, 0s] start(b))
}
property simultaneous_points_eventually {
  check forall a in spans, b in spans where a.name == "twin-b" and b.name == "early-dup":
    eventually (start(a) and eventually[0s, 0s] start(b))
}
""")


def test_loader_row_order(table: SpanTable) -> None:
    # sorted by (trace, start, input position): the two spans at T+10 keep their input order
    assert [table.name_of(r) for r in range(table.n_spans)] == [
        "early-dup", "twin-b", "late-dup", "child"]


def test_manual_statements_hold(table: SpanTable) -> None:
    got = {p.name: bool(reference.check_property(p, table, {}).holds[0])
           for p in SPEC.properties}
    assert got == {
        "duplicates_kept": True,
        "parent_is_first_duplicate_in_row_order": True,
        "flags_are_raw": True,
        "kvlist_len_counts_keys": True,
        "list_text_is_python_repr": True,
        "matches_on_a_number_is_false": True,
        "value_arithmetic_stays_int": True,
        # twin-b's start comes after early-dup's (same time, later row): once sees it,
        "simultaneous_points_once": True,
        # and eventually does not (the asymmetry of section 7.3)
        "simultaneous_points_eventually": False,
    }


def test_a_span_that_never_ended_happens_before_nothing(tmp_path: Path) -> None:
    """c (no end) under p (ended, synchronous); q, p's sibling, starts after p ends."""
    root = _span("00000000000000a0", "root", 0)
    root["endTimeUnixNano"] = str(T + 1000)
    p = _span("00000000000000a1", "p", 10, parent="00000000000000a0")
    c = _span("00000000000000a2", "c", 20, parent="00000000000000a1")
    del c["endTimeUnixNano"]
    q = _span("00000000000000a3", "q", 500, parent="00000000000000a0")
    doc = {"resourceSpans": [{"resource": {"attributes": []},
                              "scopeSpans": [{"spans": [root, p, c, q]}]}]}
    path = tmp_path / "hb.json"
    path.write_text(json.dumps(doc))
    table = load_traces([str(path)])
    spec = parse_spec("""
property p_before_q {
  check forall a in spans, b in spans where a.name == "p" and b.name == "q": a hb b
}
property c_not_before_q {
  check forall a in spans, b in spans where a.name == "c" and b.name == "q": not (a hb b)
}
property c_before_nothing {
  check forall a in spans where not a.has_end: forall b in spans: not (a hb b)
}
""")
    for prop in spec.properties:
        assert reference.check_property(prop, table, {}).holds.tolist() == [True], prop.name


def test_violations_descend_past_the_leading_chain(table: SpanTable) -> None:
    """Manual 7.8: one violation per failing inner binding, each rendering the message of
    the leading chain's variables."""
    spec = parse_spec("""
property inner {
  message "{s.name}"
  check forall s in spans where s.name == "early-dup":
    s.is_root and not exists x in spans: x.start >= s.start
}
""")
    prop = spec.properties[0]
    result = reference.check_property(prop, table, {})
    witnesses = result.witnesses[0]
    # every span starts at or after early-dup (the earliest): four violations, one message
    assert [len(w.bindings) for w in witnesses] == [2, 2, 2, 2]
    assert {w.message for w in witnesses} == {"early-dup"}
    assert compare(numba_cpu.PythonRunner(), prop, table) is None


def test_compiled_kernels_agree(table: SpanTable) -> None:
    for prop in SPEC.properties:
        assert compare(numba_cpu.PythonRunner(), prop, table) is None, prop.name
