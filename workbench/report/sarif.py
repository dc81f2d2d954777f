"""SARIF 2.1.0 output, so that CI systems (GitHub code scanning, GitLab, Azure DevOps) show results.

Each property is a rule; each (property, trace, witness) is a result located in the trace file it
came from, with the violating span as a logical location (``trace_id/span_id``).
"""

from __future__ import annotations

import hashlib
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


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    """Convert a JSON report (see :func:`workbench.report.model.build_report`) to a SARIF log."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for prop in report["properties"]:
        index[prop["name"]] = len(rules)
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
    results = []
    for prop in report["properties"]:
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
                result: dict[str, Any] = {
                    "ruleId": prop["name"],
                    "ruleIndex": index[prop["name"]],
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
                results.append(result)
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
                            {
                                "level": "error" if d["severity"] == "error" else "warning",
                                "message": {
                                    "text": f"{d['path']}: {d['message']}"
                                    if d["path"]
                                    else d["message"]
                                },
                                "locations": [
                                    {
                                        "physicalLocation": {
                                            "artifactLocation": {"uri": _uri(d["file"])},
                                            **(
                                                {
                                                    "region": {
                                                        "startLine": d["line"],
                                                        "startColumn": d["column"] or 1,
                                                    }
                                                }
                                                if d["line"]
                                                else {}
                                            ),
                                        }
                                    }
                                ],
                            }
                            for d in report["input"]["diagnostics"]
                        ],
                    }
                ],
                "results": results,
                "properties": {"severityRank": SEVERITY_RANK},
            }
        ],
    }
