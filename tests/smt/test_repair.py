"""otlspec fix on injected clock skew and structural damage."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.engine.reference import check
from workbench.smt.cli import load_spec_arg, main
from workbench.smt.repair import fix_traces, repaired_records
from workbench.traces.otlp_write import dumps
from workbench.traces.records import SpanRecord, to_table

T = 1_700_000_000_000_000_000
MS = 1_000_000
TID = "0af7651916cd43dd8448eb211c80319c"


def skewed(skew_backend: int, skew_db: int) -> list[SpanRecord]:
    fe, be, db = ([("service.name", s)] for s in ("frontend", "backend", "db"))
    return [
        SpanRecord(TID, "0000000000000001", "", "GET /", 2, 0, "", T, T + 100 * MS, resource=fe),
        SpanRecord(TID, "0000000000000002", "0000000000000001", "call", 3, 0, "", T + 10 * MS,
                   T + 90 * MS, resource=fe),
        SpanRecord(TID, "0000000000000003", "0000000000000002", "handle", 2, 0, "",
                   T + 12 * MS + skew_backend, T + 88 * MS + skew_backend, resource=be,
                   events=[("cache miss", T + 20 * MS + skew_backend, [])]),
        SpanRecord(TID, "0000000000000004", "0000000000000003", "query", 3, 0, "",
                   T + 30 * MS + skew_backend, T + 60 * MS + skew_backend, resource=be),
        SpanRecord(TID, "0000000000000005", "0000000000000004", "SELECT", 2, 0, "",
                   T + 31 * MS + skew_db, T + 59 * MS + skew_db, resource=db),
        SpanRecord(TID, "0000000000000006", "00000000000000aa", "orphan", 1, 0, "",
                   T + 40 * MS, T + 50 * MS, resource=fe),
    ]


def test_clock_skew_corrected_minimally() -> None:
    spec = load_spec_arg("stdlib.timing")
    table = to_table(skewed(-300 * MS, 500 * MS))
    assert not check(spec, table).ok
    report = fix_traces(spec, table)
    rep = report.traces[0]
    assert rep.status == "fixed"
    # backend must move forward by at least 248ms (12 - 300 + o >= 10 - 50); db back by 501ms
    assert rep.offsets == {"backend": 248 * MS, "db": -501 * MS, "frontend": 0}
    fixed = to_table(repaired_records(table, rep))
    assert check(spec, fixed).ok
    ops = {c.op for c in rep.structural}
    assert {"add_placeholder_parent", "reparent"} <= ops


def test_cli_fix_writes_patch_and_repaired(tmp_path: Path) -> None:
    src = tmp_path / "skew.json"
    src.write_text(dumps(skewed(-300 * MS, 0)))
    patch, out_dir = tmp_path / "patch.json", tmp_path / "fixed"
    code = main(["fix", "stdlib.timing", str(src), "-o", str(patch), "--write-repaired",
                 str(out_dir)])
    assert code == 0
    doc = json.loads(patch.read_text())
    assert doc["traces"][0]["operations"][0]["service"] == "backend"
    from workbench.traces import load_traces

    repaired = load_traces([str(out_dir)])
    assert check(load_spec_arg("stdlib.timing"), repaired).ok


def test_drop_exact_duplicate() -> None:
    recs = skewed(0, 0)[:3]
    recs.append(recs[-1])
    table = to_table(recs)
    rep = fix_traces(load_spec_arg("stdlib.structure"), table).traces[0]
    drops = [c for c in rep.structural if c.op == "drop_duplicate"]
    assert drops and drops[0].confidence > 0.9
    assert len(repaired_records(table, rep, 0.9)) == 3


def test_real_zipkin_skew_fixed() -> None:
    import pytest

    from workbench.traces import load_traces

    path = Path(__file__).resolve().parents[2] / "datasets/real/openzipkin-zipkin/skew.json"
    if not path.exists():
        pytest.skip("dataset not present")
    spec = load_spec_arg("stdlib.timing")
    table = load_traces([str(path)])
    report = fix_traces(spec, table)
    rep = report.traces[0]
    # shifting either service by 15.441 ms is minimal; Z3 may return either optimum
    assert rep.status == "fixed" and sum(abs(o) for o in rep.offsets.values()) == 15_441_000
    assert check(spec, to_table(repaired_records(table, rep))).ok
