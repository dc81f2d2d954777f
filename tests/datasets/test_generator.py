"""The trace generator: reproducibility, fidelity of what is written, realism."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.datasets.compare import assert_tables_equal
from workbench.datasets import labels as lb
from workbench.datasets.faults import inject, parse_faults
from workbench.datasets.generator import generate
from workbench.datasets.model import CLIENT, CONSUMER, INTERNAL, PRODUCER, SERVER
from workbench.datasets.scale import generate_table, replicate
from workbench.datasets.writer import to_table, write_dataset
from workbench.traces import load_traces

ROOT = Path(__file__).resolve().parents[2]


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _make(out: Path, seed: int, fmt: str) -> dict[str, str]:
    ds = generate(traces=40, seed=seed)
    inject(ds, parse_faults("all", 40, 0.5), seed=seed)
    write_dataset(ds, out, format=fmt, traces_per_file=16)
    return _hashes(out)


@pytest.mark.parametrize("fmt", ["otlp-json", "otlp-proto"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, fmt: str) -> None:
    a = _make(tmp_path / "a", 11, fmt)
    b = _make(tmp_path / "b", 11, fmt)
    assert a == b
    assert len(a) == 5  # 3 trace files, labels, manifest
    c = _make(tmp_path / "c", 12, fmt)
    assert a["traces/traces-00000" + (".json" if fmt == "otlp-json" else ".pb")] != \
        c["traces/traces-00000" + (".json" if fmt == "otlp-json" else ".pb")]


def test_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "workbench.datasets.cli", "gen", "--traces", "30",
                        "--seed", "4", "--faults", "all", "--out", str(out)], check=True,
                       env=env, cwd=ROOT, capture_output=True)
        outs.append(_hashes(out))
    assert outs[0] == outs[1]


@pytest.mark.parametrize("fmt", ["otlp-json", "otlp-proto"])
def test_written_files_load_to_the_generated_table(tmp_path: Path, fmt: str) -> None:
    ds = generate(traces=30, seed=9)
    inject(ds, parse_faults("all", 30, 0.5), seed=9)
    write_dataset(ds, tmp_path, format=fmt, traces_per_file=1000)
    loaded = load_traces([str(tmp_path / "traces")])
    direct = to_table(ds)
    # same spans, same values; only the source column (file name vs "generated") differs
    loaded.source[:] = 0
    direct.source[:] = 0
    assert_tables_equal(loaded, direct)
    assert not [d for d in loaded.diagnostics if d.severity == "error"]


def test_traces_look_like_microservice_traces() -> None:
    ds = generate(traces=300, seed=1)
    spans = [s for t in ds.traces for s in t.spans]
    kinds = Counter(s.kind for s in spans)
    assert all(kinds[k] for k in (SERVER, CLIENT, INTERNAL, PRODUCER, CONSUMER))
    keys = Counter(k for s in spans for k in s.attributes)
    for key in ("http.request.method", "http.method", "url.full", "http.route", "rpc.system",
                "rpc.service", "db.query.text", "db.statement", "messaging.system",
                "messaging.destination.name", "http.response.status_code"):
        assert keys[key], key
    assert any(n == "exception" for s in spans for n, _, _ in s.events)
    assert any(s.links for s in spans)  # batch consumers link to producers
    assert any(s.status == 2 for s in spans)
    assert {s.flags for s in spans} >= {1, 0x101, 0x301}  # W3C-only and IS_REMOTE-aware SDKs
    # spans hold one of the dataset's resources itself (not an index into ds.resources)
    assert all(("service.name", s) in x.resource and any(x.resource is r for r in ds.resources)
               for x in spans for s in [x.service])
    sizes = [len(t.spans) for t in ds.traces]
    assert 10 < np.median(sizes) < 80
    behaviours = Counter(a.name for a in ds.annotations)
    assert behaviours["retried"] and behaviours["timeout"] and behaviours["fallback"]


def test_clean_traces_are_causally_ordered() -> None:
    ds = generate(traces=200, seed=2)
    for t in ds.traces:
        by_id = t.by_id()
        for s in t.spans:
            p = by_id.get(s.parent_id)
            if p is None:
                continue
            assert s.start >= p.start - 2_000_000  # host clocks agree within 2 ms
            sync = p.kind not in (PRODUCER, CONSUMER) and s.kind not in (PRODUCER, CONSUMER)
            timed_out = any(a.name == "outlives_caller" and s in a.primary
                            for a in ds.annotations)
            if sync and not timed_out and p.end is not None and s.end is not None:
                assert s.end <= p.end + 2_000_000


def test_clean_data_only_trips_properties_for_known_reasons(spec_with_retries: object
                                                            ) -> None:
    from workbench.datasets.evaluation import evaluate
    from workbench.engine import check

    ds = generate(traces=60, seed=8)
    table = to_table(ds)
    labels = [lb.Label.from_json(r) for r in ds.label_records()]
    ev = evaluate(check(spec_with_retries, table, backend="reference"), labels)
    unexplained = [h for h in ev.false_positives if not h.explanation.startswith("explained")]
    assert not unexplained, [(h.prop, h.message) for h in unexplained]


def test_replicated_tables_check_like_their_template() -> None:
    from workbench.engine import check
    from workbench.lang import load_spec

    ds = generate(traces=25, seed=5)
    inject(ds, parse_faults("all", 25, 0.6), seed=5)
    base = to_table(ds)
    rep = replicate(base, 3, seed=2)
    assert rep.n_spans == 3 * base.n_spans and len(set(rep.trace_id_hex)) == 3 * base.n_traces
    spec = load_spec("stdlib")
    a = check(spec, base, backend="reference")
    b = check(spec, rep, backend="reference")
    for r in a.results:
        assert np.array_equal(np.tile(r.holds, 3), b[r.name].holds), r.name


def test_generate_table_reaches_the_size() -> None:
    t = generate_table(20_000, seed=1, templates=50)
    assert 10_000 <= t.n_spans <= 20_000
    assert t.n_traces % 50 == 0
