"""SARIF 2.1.0 output, so that CI systems (GitHub code scanning, GitLab, Azure DevOps) show results.

Each property is a rule; each (property, trace, witness) is a result located in the trace file it
came from, with the violating span as a logical location (``trace_id/span_id``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from workbench.report.model import SEVERITY_RANK

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    if not path or path == "-":
        return "stdin"
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.resolve().as_uri()


def sarif_rules(properties: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One SARIF rule per property entry of a report."""
    rules: list[dict[str, Any]] = []
    for prop in properties:
        doc = prop["doc"] or prop["name"]
        rules.append(
            {
                "id": prop["name"],
                "name": prop["name"],
                "shortDescription": {"text": doc.splitlines()[0] if doc else prop["name"]},
                "fullDescription": {"text": doc},
                "defaultConfiguration": {"level": LEVELS[prop["severity"]]},
                "properties": {"tags": prop["tags"], "source": prop["source"]},
            }
        )
    return rules


def sarif_results(prop: dict[str, Any], rule_index: int) -> Iterator[dict[str, Any]]:
    """The SARIF results of one property entry: one per witness of each failing trace."""
    for trace in prop["traces"]:
        if trace["verdict"] != "fail":
            continue
        uri = _uri(trace["sources"][0] if trace["sources"] else "")
        witnesses = trace.get("witnesses") or [
            {"bindings": {}, "message": prop["name"], "position": None}
        ]
        for w in witnesses:
            logical = [
                {
                    "name": ref["name"],
                    "fullyQualifiedName": f"{ref['trace_id']}/{ref['span_id']}",
                    "kind": "object",
                }
                for ref in w["bindings"].values()
            ] or [{"fullyQualifiedName": trace["trace_id"], "kind": "object"}]
            fingerprint = hashlib.sha256(
                (prop["name"] + trace["trace_id"] + w["message"]).encode()
            ).hexdigest()
            yield {
                "ruleId": prop["name"],
                "ruleIndex": rule_index,
                "level": LEVELS[prop["severity"]],
                "message": {"text": w["message"]},
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": uri}},
                        "logicalLocations": logical,
                    }
                ],
                "partialFingerprints": {"otlspecViolation/v1": fingerprint},
                "properties": {"trace_id": trace["trace_id"], "position": w["position"]},
            }


def sarif_log(report: dict[str, Any], rules: list[dict[str, Any]],
              results: list[dict[str, Any]]) -> dict[str, Any]:
    """The SARIF log around ``rules`` and ``results``; ``results`` is the last key written."""
    failing = report["summary"]["failing_at_or_above_fail_on"]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "otlspec",
                        "version": report["tool"]["version"],
                        "informationUri": "https://github.com/otlspec/otlspec",
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": report["summary"]["input_errors"] == 0,
                        "exitCode": 2
                        if report["summary"]["input_errors"]
                        else (1 if failing else 0),
                        "toolExecutionNotifications": [
                            _notification(d) for d in report["input"]["diagnostics"]
                        ],
                    }
                ],
                "properties": {"severityRank": SEVERITY_RANK},
                "results": results,
            }
        ],
    }


def _notification(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "level": "error" if d["severity"] == "error" else "warning",
        "message": {"text": f"{d['path']}: {d['message']}" if d["path"] else d["message"]},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(d["file"])},
                    **(
                        {"region": {"startLine": d["line"], "startColumn": d["column"] or 1}}
                        if d["line"]
                        else {}
                    ),
                }
            }
        ],
    }


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """Convert a JSON report (see :func:`workbench.report.model.build_report`) to a SARIF log.

    Only failing traces make results, so the log is as large as the violations, whatever
    the report's ``verdicts`` setting.
    """
    results = [
        r for i, prop in enumerate(report["properties"]) for r in sarif_results(prop, i)
    ]
    return sarif_log(report, sarif_rules(report["properties"]), results)
