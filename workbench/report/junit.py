"""JUnit XML output for CI test reporters: one test suite per property.

Each failing trace is a test case with a ``<failure>``; the passing traces are one test case
that counts them (``N passing traces``), unless the report lists every verdict
(``--all-verdicts``), when each trace is its own test case as in schema v1. A suite's
``tests`` attribute is always the number of traces.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def to_junit(report: dict[str, Any]) -> str:
    """Render a JSON report (see :func:`workbench.report.model.build_report`) as JUnit XML."""
    timings = report["timings"]
    root = ET.Element("testsuites", name="otlspec")
    total_tests = total_failures = 0
    for prop in report["properties"]:
        listed = len(prop["traces"])
        tests = prop["passed"] + prop["failed"]
        failures = prop["failed"]
        total_tests += tests
        total_failures += failures
        suite = ET.SubElement(
            root,
            "testsuite",
            name=prop["name"],
            tests=str(tests),
            failures=str(failures),
            errors="0",
            skipped="0",
            time=f"{timings.get('property.' + prop['name'], 0.0):.6f}",
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="severity", value=prop["severity"])
        ET.SubElement(props, "property", name="backend", value=prop["backend"])
        for trace in prop["traces"]:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"otlspec.{prop['name']}",
                name=f"trace {trace['trace_id']}",
                file=trace["sources"][0] if trace["sources"] else "",
            )
            if trace["verdict"] == "fail":
                witnesses = trace.get("witnesses", [])
                first = witnesses[0]["message"] if witnesses else prop["name"]
                failure = ET.SubElement(case, "failure", message=first, type=prop["severity"])
                lines = []
                for w in witnesses:
                    spans = ", ".join(
                        f"{var}={ref['name']}#{ref['span_id']}"
                        for var, ref in w["bindings"].items()
                    )
                    where = f" at {w['position']['what']}" if w.get("position") else ""
                    lines.append(f"{w['message']}{where}" + (f" [{spans}]" if spans else ""))
                failure.text = "\n".join(lines)
        passing_unlisted = tests - listed
        if passing_unlisted > 0:
            ET.SubElement(
                suite,
                "testcase",
                classname=f"otlspec.{prop['name']}",
                name=f"{passing_unlisted} passing traces",
            )
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
