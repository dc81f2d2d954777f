"""Where the explorer's data comes from: a results store (live) or one batch run (static).

Both sources answer the same questions, as JSON-able data: :meth:`stats` (the dashboard),
:meth:`traces` (the search), :meth:`trace` (one trace with its spans and verdicts),
:meth:`specs`, :meth:`reports` (the run history), :meth:`report` (one run as a JSON report,
for the HTML/PDF export) and :meth:`version` (a value that changes whenever new results are
in, which the server-sent events watch).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from workbench.lang import ir
from workbench.traces.model import SpanTable
from workbench.ui.spans import (
    spans_from_payload,
    table_from_payloads,
    trace_index,
    trace_spans,
    violating_span_ids,
)

SEVERITIES = ("error", "warning", "info")


class Source(Protocol):
    """What the explorer reads."""

    live: bool

    def stats(self) -> dict[str, Any]: ...
    def traces(self, query: dict[str, str]) -> list[dict[str, Any]]: ...
    def trace(self, trace_id: str) -> dict[str, Any] | None: ...
    def specs(self) -> dict[str, Any]: ...
    def reports(self) -> list[dict[str, Any]]: ...
    def report(self, query: dict[str, str]) -> tuple[dict[str, Any], SpanTable | None]: ...
    def version(self) -> Any: ...


def spec_entries(spec: ir.Spec | None) -> dict[str, Any]:
    """The loaded spec, read-only: its params, and each property's doc, severity, tags and
    canonical text."""
    if spec is None:
        return {"name": "", "params": [], "properties": []}
    from workbench.lang import print_formula

    params = [{"name": p.name, "type": str(p.default.type.value), "overridable": p.overridable,
               "default": print_formula(p.default)} for p in spec.params]
    props = [{"name": prop.name, "severity": prop.severity, "tags": list(prop.tags),
              "doc": prop.doc or "", "source": str(spec.positions.get(prop.name, "")),
              "formula": print_formula(prop.formula)} for prop in spec.properties]
    return {"name": spec.name, "params": params, "properties": props}


def _match(row: dict[str, Any], q: dict[str, str]) -> bool:
    """Whether a trace summary passes the search filters of ``q``."""
    tid = q.get("trace_id", "").strip().lower()
    if tid and not str(row["trace_id"]).startswith(tid):
        return False
    service = q.get("service", "").strip()
    if service and service not in row.get("services", []):
        return False
    prop = q.get("property", "").strip()
    if prop and prop not in row.get("failed_properties", []):
        return False
    severity = q.get("severity", "").strip()
    if severity and severity not in row.get("severities", []):
        return False
    if q.get("failed", "") in ("1", "true") and not row.get("n_failed"):
        return False
    checked = row.get("checked_at")
    for name, test in (("since", lambda v: checked is not None and checked >= v),
                       ("until", lambda v: checked is not None and checked <= v)):
        if q.get(name):
            if not test(float(q[name])):
                return False
    return True


def _limit(q: dict[str, str], default: int = 200) -> int:
    return max(1, min(int(q.get("limit", default)), 5_000))


class StoreSource:
    """The explorer over a results store (``otlspec serve``, or its database file).

    Parameters
    ----------
    store
        The :class:`~workbench.serve.store.Store`.
    spec
        The loaded spec (for the Specs page), when known.
    live
        A callable giving the receiver's live counters (``Server.live``), when in-process.
    """

    live = True

    def __init__(self, store: Any, spec: ir.Spec | None = None,
                 live: Callable[[], dict[str, Any]] | None = None) -> None:
        self.store = store
        self.spec = spec
        self._live = live
        self._last: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()  # handler threads share the previous look

    def _receiver(self) -> dict[str, Any] | None:
        """The live counters with rates since the previous look (per second)."""
        if self._live is None:
            return None
        live = dict(self._live())
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now > self._last[0]:
                dt = now - self._last[0]
                for name in ("spans_received", "traces_checked", "spans_rejected"):
                    if isinstance(live.get(name), int | float):
                        rate = (live[name] - self._last[1].get(name, 0)) / dt
                        live[f"{name}_per_s"] = round(max(rate, 0.0), 2)
            self._last = (now, live)
        return live

    def stats(self) -> dict[str, Any]:
        s = self.store.stats()
        by_severity = {sev: 0 for sev in SEVERITIES}
        for p in s["properties"]:
            by_severity[p["severity"]] = by_severity.get(p["severity"], 0) + p["violations"]
        windows: dict[int, dict[str, int]] = {}
        for c in self.store.counters(time.time() - 24 * 3600):
            w = windows.setdefault(int(c["window_start"]), {"checked": 0, "violations": 0})
            w["checked"] += int(c["checked"])
            w["violations"] += int(c["violations"])
        traces = s["traces"]
        return {
            "mode": "live",
            "traces_checked": int(traces.get("checked", 0)),
            "traces_open": int(traces.get("open", 0)),
            "failing_traces": s["failing_traces"],
            "violations": sum(p["violations"] for p in s["properties"]),
            "by_property": s["properties"],
            "by_severity": by_severity,
            "by_service": self.store.service_counts(),
            "over_time": [{"window_start": k, **v} for k, v in sorted(windows.items())],
            "receiver": self._receiver(),
        }

    def traces(self, query: dict[str, str]) -> list[dict[str, Any]]:
        """The search, run by the store over every trace (:meth:`Store.search_traces`)."""
        bounds = {name: float(query[name]) for name in ("since", "until") if query.get(name)}
        return self.store.search_traces(
            trace_id=query.get("trace_id", ""), service=query.get("service", ""),
            property=query.get("property", ""), severity=query.get("severity", ""),
            failed=query.get("failed", "") in ("1", "true"), limit=_limit(query), **bounds)

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        found = self.store.trace(trace_id)
        if found is None:
            return None
        stored = self.store.payload(trace_id)
        spans = spans_from_payload(stored[0], trace_id) if stored else None
        bad = [w | {"property": v["property"], "severity": v["severity"]}
               for v in found["verdicts"] if not v["holds"] for w in v["witnesses"]]
        return {**found, "spans": spans, "violating": violating_span_ids(bad),
                "witnesses": bad}

    def specs(self) -> dict[str, Any]:
        return spec_entries(self.spec)

    def reports(self) -> list[dict[str, Any]]:
        """Batch runs recorded by ``otlspec check --store`` and stream windows (per hour),
        together, newest first; ``export`` is the query string of the export links."""
        hours: dict[int, dict[str, int]] = {}
        for c in self.store.counters(0):
            h = int(c["window_start"]) // 3600 * 3600
            e = hours.setdefault(h, {"checked": 0, "violations": 0})
            e["checked"] += int(c["checked"])
            e["violations"] += int(c["violations"])
        rows = [{"id": f"window-{h}", "kind": "stream window", "since": h, "until": h + 3600,
                 "export": "?" + urlencode({"since": h, "until": h + 3600}), **v}
                for h, v in hours.items()]
        for r in self.store.runs(limit=500):
            rows.append({
                "id": f"run-{r['run_id']}", "kind": "batch run", "run_id": r["run_id"],
                "name": f"{', '.join(r['specs'])} on {', '.join(r['inputs'])}",
                "since": r["started_at"], "until": r["finished_at"], "backend": r["backend"],
                "checked": r["traces"], "violations": r["violations"],
                "export": "?" + urlencode({"run": r["run_id"]})})
        return sorted(rows, key=lambda r: (-float(r["until"]), r["id"]))

    def report(self, query: dict[str, str]) -> tuple[dict[str, Any], SpanTable | None]:
        """A JSON report (schema v2 shape): of the batch run ``run``, or of the verdicts
        checked in ``[since, until]``.

        Raises
        ------
        ValueError
            ``run`` names no recorded run.
        """
        if query.get("run"):
            return self._run_report(query["run"])
        since = float(query.get("since", 0) or 0)
        until = float(query.get("until", 0) or 0) or time.time() + 1
        verdicts = [v for v in self.store.verdicts(since=since, limit=1_000_000)
                    if v["checked_at"] <= until]
        props: dict[str, dict[str, Any]] = {}
        specs = {p["name"]: p for p in self.specs()["properties"]}
        trace_ids = set()
        for v in verdicts:
            trace_ids.add(v["trace_id"])
            meta = specs.get(v["property"], {})
            p = props.setdefault(v["property"], {
                "name": v["property"], "severity": v["severity"], "tags": meta.get("tags", []),
                "doc": meta.get("doc", ""), "source": meta.get("source", ""),
                "backend": "stream", "passed": 0, "failed": 0, "traces": []})
            if v["holds"]:
                p["passed"] += 1
            else:
                p["failed"] += 1
                p["traces"].append({"trace_id": v["trace_id"], "sources": ["otlp"],
                                    "verdict": "fail", "witnesses": v["witnesses"]})
        failing = {t["trace_id"] for p in props.values() for t in p["traces"]}
        payloads = [s[0] for t in sorted(failing)[:200] if (s := self.store.payload(t))]
        table = table_from_payloads(payloads) if payloads else None
        n_fail = sum(p["failed"] for p in props.values())
        report = {
            "tool": {"name": "otlspec serve", "version": ""},
            "spec": {"name": getattr(self.spec, "name", ""), "files": []},
            "params": {},
            "input": {"sources": [f"stream window {since:.0f}..{until:.0f}"],
                      "traces": len(trace_ids), "spans": table.n_spans if table else 0,
                      "diagnostics": []},
            "summary": {"properties": len(props),
                        "failed_properties": sorted(n for n, p in props.items() if p["failed"]),
                        "violations": n_fail, "passing": len(verdicts) - n_fail},
            "properties": sorted(props.values(), key=lambda p: p["name"]),
        }
        return report, table

    def _run_report(self, run_id: str) -> tuple[dict[str, Any], SpanTable | None]:
        """A recorded batch run, with its traces when its input files are still readable."""
        report = self.store.run_report(run_id)
        if report is None:
            raise ValueError(f"no recorded batch run {run_id!r}")
        table = None
        sources = [str(p) for p in report.get("input", {}).get("sources", [])]
        failing = any(t.get("verdict") == "fail" for p in report.get("properties", [])
                      for t in p.get("traces", []))
        if failing and sources and all(Path(p).exists() for p in sources):
            from workbench.errors import OtlspecError
            from workbench.traces import load_traces

            try:  # the waterfalls are a bonus: a moved or changed file only loses them
                table = load_traces(sources)
            except (OtlspecError, OSError):
                table = None
        return report, table

    def version(self) -> Any:
        s = self.store.stats()
        latest = self.store.traces(limit=1)
        run = self.store.runs(limit=1)  # a batch run recorded meanwhile is news too
        return (s["traces"], s["failing_traces"],
                latest[0]["checked_at"] if latest else None, run[0]["run_id"] if run else None)


class BatchSource:
    """The explorer over one batch run: a JSON report and, optionally, its trace files."""

    live = False

    def __init__(self, report: dict[str, Any], table: SpanTable | None = None,
                 spec: ir.Spec | None = None, name: str = "batch run") -> None:
        self.report_data = report
        self.table = table
        self.spec = spec
        self.name = name
        self.index = trace_index(table) if table is not None else {}
        from workbench.ui.render import failing_witnesses

        self.failing = failing_witnesses(report)
        self._rows = self._build_rows()

    def _build_rows(self) -> list[dict[str, Any]]:
        ids = sorted(set(self.index) | set(self.failing))
        severity = {p["name"]: p.get("severity", "") for p in self.report_data["properties"]}
        rows = []
        for tid in ids:
            ws = self.failing.get(tid, [])
            row: dict[str, Any] = {
                "trace_id": tid, "state": "checked", "n_failed": len({w["property"] for w in ws}),
                "failed_properties": sorted({str(w["property"]) for w in ws}),
                "severities": sorted({severity.get(str(w["property"]), "") for w in ws}),
                "services": [], "root_name": "", "n_spans": None, "checked_at": None}
            t = self.index.get(tid)
            if t is not None and self.table is not None:
                rs = self.table.trace_rows(t)
                row["n_spans"] = len(rs)
                row["services"] = sorted({self.table.service_of(r) for r in rs} - {""})
                roots = [r for r in rs if int(self.table.parent_id_len[r]) == 0]
                row["root_name"] = self.table.name_of(roots[0]) if roots else ""
            rows.append(row)
        rows.sort(key=lambda r: (-r["n_failed"], r["trace_id"]))
        return rows

    def stats(self) -> dict[str, Any]:
        props = self.report_data.get("properties", [])
        by_severity = {sev: 0 for sev in SEVERITIES}
        for p in props:
            by_severity[p.get("severity", "")] = by_severity.get(p.get("severity", ""), 0) + int(
                p.get("failed", 0))
        by_service: dict[str, dict[str, int]] = {}
        for r in self._rows:
            for svc in r["services"] or ["(no service)"]:
                e = by_service.setdefault(svc, {"traces": 0, "failing": 0})
                e["traces"] += 1
                e["failing"] += bool(r["n_failed"])
        inp = self.report_data.get("input", {})
        return {
            "mode": "batch",
            "traces_checked": int(inp.get("traces", len(self._rows))),
            "traces_open": 0,
            "failing_traces": sum(bool(r["n_failed"]) for r in self._rows),
            "violations": int(self.report_data.get("summary", {}).get("violations", 0)),
            "by_property": [{"property": p["name"], "severity": p.get("severity", ""),
                             "checked": int(p.get("passed", 0)) + int(p.get("failed", 0)),
                             "violations": int(p.get("failed", 0))} for p in props],
            "by_severity": by_severity,
            "by_service": [{"service": k, **v} for k, v in sorted(by_service.items())],
            "over_time": [],
            "receiver": None,
        }

    def traces(self, query: dict[str, str]) -> list[dict[str, Any]]:
        return [r for r in self._rows if _match(r, query)][:_limit(query)]

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        row = next((r for r in self._rows if r["trace_id"] == trace_id), None)
        if row is None:
            return None
        t = self.index.get(trace_id)
        spans = trace_spans(self.table, t) if t is not None and self.table is not None else None
        ws = self.failing.get(trace_id, [])
        verdicts = []
        for p in self.report_data.get("properties", []):
            mine = [w for w in ws if w["property"] == p["name"]]
            if mine:
                verdicts.append({"property": p["name"], "severity": p.get("severity", ""),
                                 "holds": False, "message": mine[0].get("message", ""),
                                 "witnesses": mine})
        return {**row, "verdicts": verdicts, "spans": spans,
                "violating": violating_span_ids(ws), "witnesses": ws}

    def specs(self) -> dict[str, Any]:
        if self.spec is not None:
            return spec_entries(self.spec)
        return {  # what the report recorded: the params as bound for the run
            "name": self.report_data.get("spec", {}).get("name", ""),
            "params": [{"name": k, "type": "", "overridable": None, "default": str(v)}
                       for k, v in self.report_data.get("params", {}).items()],
            "properties": [{"name": p["name"], "severity": p.get("severity", ""),
                            "tags": p.get("tags", []), "doc": p.get("doc", ""),
                            "source": p.get("source", ""), "formula": ""}
                           for p in self.report_data.get("properties", [])]}

    def reports(self) -> list[dict[str, Any]]:
        s = self.report_data.get("summary", {})
        return [{"id": "batch", "kind": "batch run", "name": self.name,
                 "checked": int(self.report_data.get("input", {}).get("traces", 0)),
                 "violations": int(s.get("violations", 0)), "export": ""}]

    def report(self, query: dict[str, str]) -> tuple[dict[str, Any], SpanTable | None]:
        return self.report_data, self.table

    def version(self) -> Any:
        return 0
