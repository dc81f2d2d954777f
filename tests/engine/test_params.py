"""``check(..., params=...)`` binds text or typed overrides, interval bounds included."""

from __future__ import annotations

import pytest

from workbench.engine import check
from workbench.errors import ParamError
from workbench.lang import parse_spec
from workbench.traces.builder import TableBuilder

SPEC = """
param skew = 50ms
param window = 10ms
property child_start {
  check forall p in spans, c in children(p): c.start >= p.start - skew
}
property retried {
  check forall s in spans where s.status == ERROR:
    always (end(s) -> eventually[0ms, window] exists r in spans where r.name == s.name
            and r.span_id != s.span_id: start(r))
}
"""


def table():  # type: ignore[no-untyped-def]
    b = TableBuilder()
    res = b.add_resource([("service.name", "svc")])
    ms = 1_000_000
    b.add_span(trace_id="ab" * 16, span_id="01" * 8, name="root", start=100 * ms, end=300 * ms,
               resource=res)
    b.add_span(trace_id="ab" * 16, span_id="02" * 8, parent_id="01" * 8, name="call", status=2,
               start=20 * ms, end=60 * ms, resource=res)  # starts 80ms before its parent
    b.add_span(trace_id="ab" * 16, span_id="03" * 8, parent_id="01" * 8, name="call",
               start=85 * ms, end=90 * ms, resource=res)  # the retry, 25ms after the failure
    return b.build()


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_text_and_typed_overrides(backend: str) -> None:
    spec = parse_spec(SPEC)
    t = table()
    default = check(spec, t, backend=backend)
    assert not default.holds("child_start") and not default.holds("retried")
    text = check(spec, t, {"skew": "100ms", "window": "30ms"}, backend=backend)
    typed = check(spec, t, {"skew": 100_000_000, "window": 30_000_000}, backend=backend)
    for result in (text, typed):
        assert result.holds("child_start")
        assert result.holds("retried")  # the interval bound follows the param
        assert result.params["window"] == 30_000_000


def test_unknown_or_mistyped_override() -> None:
    spec = parse_spec(SPEC)
    with pytest.raises(ParamError, match="no such param"):
        check(spec, table(), {"nope": "1ms"})
    with pytest.raises(ParamError, match="skew"):
        check(spec, table(), {"skew": "fast"})
