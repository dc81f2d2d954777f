"""End to end: from trace files on disk to a report, otlspec against what a user would write.

Usage::

    python benchmarks/e2e.py                       # 10k and 100k spans, OTLP JSON and protobuf
    python benchmarks/e2e.py --sizes 10k,100k,1m   # pick sizes (1m takes minutes on 2 cores)
    python benchmarks/e2e.py --sizes 10m --huge    # 10M spans (needs --huge: ~6 GB of files)
    python benchmarks/e2e.py --formats otlp-json --report json
    python benchmarks/e2e.py --compare-tree /tmp/main --baseline-python python=/usr/bin/python3

Data comes from the project's generator (``otlspec gen``, ~33 spans per trace, cached under
``--data``). For each (size, format):

``otlspec``  ``otlspec check stdlib DIR`` (46 properties) in a fresh process, the CLI's own
             steps timed phase by phase (``benchmarks/phases.py --one``): load, index, kernel
             loading, verdict kernels, witnesses, report. A first run warms the kernel cache;
             the second is reported.
``otlspec, previous readers``  the same with ``OTLSPEC_FAST_READERS=0``: the msgspec and
             protobuf-classes readers that came before the compiled walkers.
``duckdb``   ``read_json`` over the same OTLP JSON files + SQL for four structural checks:
             parent exists, child contained in its parent with 50 ms skew, unique span ids,
             exactly one root.
``python``   the same four checks in plain Python (orjson + dicts); ``--baseline-python
             python=PATH`` runs it with another interpreter where this one lacks orjson.
``otlspec @DIR``  with ``--compare-tree DIR``: otlspec from another source tree (a ``git
             archive`` of main, say), in the same run, for a before/after beside the baselines.

Every engine runs in its own process; wall time includes interpreter start and imports,
peak RSS is the process's own, and ``cpu s`` is its user + system time over all threads
(``RUSAGE_CHILDREN``), which a busy machine disturbs less than wall time. The baselines read
OTLP JSON only (DuckDB has no protobuf reader), so for ``otlp-proto`` they are shown against
the JSON files of the same traces. The table gives seconds, spans/s, ratios to otlspec
and peak RSS, and is written to ``benchmarks/results/e2e.json``. The baselines'
failing-trace counts are printed beside otlspec's counts for the corresponding stdlib
properties.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPANS_PER_TRACE = 33.4  # of the generator's default topology (measured)
SKEW_NS = 50_000_000
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
#: the stdlib properties closest to the four baseline checks
COUNTERPARTS = {"parent_exists": "parent_exists", "contained": "child_ends_within_parent",
                "unique_ids": "unique_span_ids", "one_root": "single_root"}

DUCKDB_SQL = """
CREATE TABLE spans AS
SELECT s.traceId AS t, s.spanId AS id, coalesce(s.parentSpanId, '') AS p,
       CAST(s.startTimeUnixNano AS BIGINT) AS st, CAST(s.endTimeUnixNano AS BIGINT) AS en
FROM (SELECT unnest(ss.spans) AS s
      FROM (SELECT unnest(rs.scopeSpans) AS ss
            FROM (SELECT unnest(resourceSpans) AS rs FROM read_json(?, maximum_object_size=1e9))));
"""
DUCKDB_CHECKS = {
    "parent_exists": """SELECT count(DISTINCT c.t) FROM spans c WHERE c.p <> '' AND NOT EXISTS
                        (SELECT 1 FROM spans p WHERE p.t = c.t AND p.id = c.p)""",
    "contained": f"""SELECT count(DISTINCT c.t) FROM spans c JOIN spans p ON p.t = c.t
                     AND p.id = c.p WHERE c.st < p.st - {SKEW_NS} OR c.en > p.en + {SKEW_NS}""",
    "unique_ids": """SELECT count(DISTINCT t) FROM (SELECT t, id FROM spans GROUP BY t, id
                     HAVING count(*) > 1)""",
    "one_root": """SELECT count(*) FROM (SELECT t FROM spans GROUP BY t
                   HAVING sum(CASE WHEN p = '' THEN 1 ELSE 0 END) <> 1)""",
}


def generate(n_spans: int, fmt: str, data: Path) -> Path:
    """The generated dataset of about ``n_spans`` spans in ``fmt`` (made once, cached)."""
    out = data / f"{fmt}-{n_spans}"
    if not (out / "manifest.json").exists():
        traces = max(1, round(n_spans / SPANS_PER_TRACE))
        subprocess.run([sys.executable, "-m", "workbench.cli", "gen", "--traces", str(traces),
                        "--seed", "1", "--format", fmt, "--out", str(out)], check=True,
                       stdout=subprocess.DEVNULL)
    return out / "traces"


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: CPU seconds (user + system) of the last :func:`run_child`, all its threads together
LAST_CPU = [0.0]


def run_child(cmd: list[str], timeout: float, env: dict[str, str] | None = None,
              cwd: Path = ROOT) -> tuple[float, str]:
    """Run ``cmd``; returns (wall seconds, stdout). Children report their own peak RSS; the
    child's CPU seconds are left in :data:`LAST_CPU` (children run one at a time)."""
    t0 = time.perf_counter()
    cpu0 = _children_cpu()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env=None if env is None else {**os.environ, **env})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    wall = time.perf_counter() - t0
    LAST_CPU[0] = _children_cpu() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, out


def _own_rss() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def otlspec_run(traces: Path, report: str, timeout: float, repeat: int = 1,
                previous: bool = False, tree: Path = ROOT) -> dict[str, Any]:
    """The median of ``repeat`` warm runs (a first run warms the kernel and page caches).

    ``previous``: with the readers before the compiled walkers (``OTLSPEC_FAST_READERS=0``).
    ``tree``: the source tree whose ``otlspec`` runs (another checkout, for a before/after).
    """
    cmd = [sys.executable, str(tree / "benchmarks" / "phases.py"), str(traces), "--one", report]
    env = {"OTLSPEC_FAST_READERS": "0"} if previous else {}
    if tree != ROOT:
        env["PYTHONPATH"] = str(tree)
    run_child(cmd, timeout, env, cwd=tree)  # warms the kernel cache (and the page cache)
    runs = []
    for _ in range(max(1, repeat)):
        wall, out = run_child(cmd, timeout, env, cwd=tree)
        run = json.loads(out.strip().splitlines()[-1])
        run["wall"] = wall
        run["cpu"] = LAST_CPU[0]
        runs.append(run)
    runs.sort(key=lambda r: r["wall"])
    best = runs[len(runs) // 2]
    best["walls"] = [r["wall"] for r in runs]
    return best


def duckdb_main(files: list[str]) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect()
    t0 = time.perf_counter()
    con.execute(DUCKDB_SQL, [files])
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = {k: con.execute(q).fetchone()[0] for k, q in DUCKDB_CHECKS.items()}
    return {"load": load, "check": time.perf_counter() - t0, "failing": counts,
            "spans": con.execute("SELECT count(*) FROM spans").fetchone()[0]}


def python_main(files: list[str]) -> dict[str, Any]:
    import orjson

    t0 = time.perf_counter()
    traces: dict[str, list[tuple[str, str, int, int]]] = {}
    for f in files:
        doc = orjson.loads(Path(f).read_bytes())
        for rs in doc.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    traces.setdefault(s["traceId"], []).append(
                        (s["spanId"], s.get("parentSpanId", ""), int(s["startTimeUnixNano"]),
                         int(s["endTimeUnixNano"])))
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    failing = dict.fromkeys(DUCKDB_CHECKS, 0)
    n = 0
    for spans in traces.values():
        n += len(spans)
        by_id: dict[str, tuple[str, str, int, int]] = {}
        dup = False
        for sp in spans:
            dup |= sp[0] in by_id
            by_id[sp[0]] = sp
        orphan = contained = False
        roots = 0
        for _sid, pid, st, en in spans:
            if not pid:
                roots += 1
                continue
            p = by_id.get(pid)
            if p is None:
                orphan = True
            elif st < p[2] - SKEW_NS or en > p[3] + SKEW_NS:
                contained = True
        failing["parent_exists"] += orphan
        failing["contained"] += contained
        failing["unique_ids"] += dup
        failing["one_root"] += roots != 1
    return {"load": load, "check": time.perf_counter() - t0, "failing": failing, "spans": n}


def baseline(engine: str, traces: Path, timeout: float,
             python: str = sys.executable) -> dict[str, Any]:
    """One run of a baseline (``python``: the interpreter that runs it, e.g. one with orjson)."""
    cmd = [python, __file__, "--baseline", engine, str(traces)]
    wall, out = run_child(cmd, timeout)
    res = json.loads(out.strip().splitlines()[-1])
    res.update(wall=wall, cpu=LAST_CPU[0])
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k,100k,1m,10m")
    ap.add_argument("--formats", default="otlp-json,otlp-proto")
    ap.add_argument("--report", default="json", choices=("text", "json", "sarif", "junit"))
    ap.add_argument("--huge", action="store_true", help="allow 10m (about 6 GB of files)")
    ap.add_argument("--data", default="/tmp/otlspec-e2e", help="where generated data is kept")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--repeat", type=int, default=3, help="warm otlspec runs (median shown)")
    ap.add_argument("--no-previous", action="store_true",
                    help="skip the runs with the previous readers (OTLSPEC_FAST_READERS=0)")
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "e2e.json"))
    ap.add_argument("--compare-tree", action="append", default=[], metavar="DIR",
                    help="also run otlspec from this source tree (e.g. a `git archive` of "
                         "main) in the same run: rows 'otlspec @DIR'")
    ap.add_argument("--baseline-python", action="append", default=[], metavar="ENGINE=PYTHON",
                    help="the interpreter of a baseline, e.g. python=/usr/bin/python3 when "
                         "this environment lacks orjson (default: this interpreter)")
    ap.add_argument("--baseline", default=None, help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.baseline:
        files = sorted(str(p) for p in Path(args.paths[0]).glob("*.json"))
        res = (duckdb_main if args.baseline == "duckdb" else python_main)(files)
        res["rss"] = _own_rss()
        print(json.dumps(res))
        return 0
    sizes = [SIZES[s.strip().lower()] for s in args.sizes.split(",")]
    if SIZES["10m"] in sizes and not args.huge:
        ap.error("10m spans needs --huge")
    data = Path(args.data)
    pythons = dict(item.split("=", 1) for item in args.baseline_python)
    engines: list[tuple[str, bool, Path]] = [("otlspec", False, ROOT)]
    if not args.no_previous:
        engines.append(("otlspec, previous readers", True, ROOT))
    engines += [(f"otlspec @{Path(t).name}", False, Path(t).resolve())
                for t in args.compare_tree]
    rows: list[dict[str, Any]] = []
    for n in sizes:
        json_traces = generate(n, "otlp-json", data)
        base = {e: baseline(e, json_traces, args.timeout, pythons.get(e, sys.executable))
                for e in ("duckdb", "python")}
        for fmt in args.formats.split(","):
            traces = generate(n, fmt, data)
            for engine, previous, tree in engines:
                run = otlspec_run(traces, args.report, args.timeout, args.repeat, previous,
                                  tree)
                ph = run["phases"]
                rows.append({"size": n, "format": fmt, "engine": engine, "spans": run["spans"],
                             "wall": run["wall"], "walls": run["walls"], "cpu": run["cpu"],
                             "rss": run["peak_rss_mb"], "phases": ph,
                             "report_bytes": run["report_bytes"]})
            for e, b in base.items():
                rows.append({"size": n, "format": fmt, "engine": e, "spans": b["spans"],
                             "wall": b["wall"], "cpu": b["cpu"], "rss": b["rss"], "phases":
                             {"load": b["load"], "check": b["check"]},
                             "failing": b["failing"]})
    print(f"\n--format {args.report}; wall = whole process (otlspec: median of {args.repeat} warm "
          "runs); cpu = its user + system seconds, all threads; ratio = engine wall / otlspec "
          "wall; kernels = kernel loading on the main thread (+ the prefetch thread's seconds, "
          "overlapped with load)")
    head = ("| spans | format | engine | wall s | cpu s | spans/s | ratio | load | index "
            "| kernels | check | report | peak RSS MiB | B/span |")
    print(head)
    print("|" + "---|" * 14)
    ref: dict[tuple[int, str], float] = {}
    for r in rows:
        if r["engine"] == "otlspec":
            ref[(r["size"], r["format"])] = r["wall"]
    for r in rows:
        ph = r["phases"]
        kern = ph.get("compile", 0.0)
        chk = ph.get("check", 0.0) + ph.get("witness", 0) + ph.get("render", 0) + ph.get(
            "reference", 0) + ph.get("grouped", 0)
        idx = ph.get("index")
        pre = ph.get("prefetch", 0.0)
        kernels = f"{kern:.2f}" + (f" (+{pre:.2f})" if pre else "")
        print(f"| {r['spans']:,} | {r['format']} | {r['engine']} | {r['wall']:.2f} | "
              f"{r['cpu']:.2f} | {r['spans'] / r['wall']:,.0f} | "
              f"{r['wall'] / ref[(r['size'], r['format'])]:.2f} "
              f"| {ph['load']:.2f} | {'-' if idx is None else f'{idx:.2f}'} | "
              f"{'-' if not r['engine'].startswith('otlspec') else kernels} | {chk:.2f} | "
              f"{ph.get('report', 0):.2f} | {r['rss']:,.0f} | "
              f"{r['rss'] * 2**20 / max(1, r['spans']):,.0f} |")
    for r in rows:
        if not r["engine"].startswith("otlspec") and r["format"] == "otlp-json":
            print(f"{r['spans']:,} spans, {r['engine']} failing traces: {r['failing']}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"report": args.report, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
