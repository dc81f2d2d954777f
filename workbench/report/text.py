"""The human-readable report: a summary table and the top violations with their witnesses."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_text(report: dict[str, Any], console: Console, *, top: int = 20) -> None:
    """Print the report on ``console``."""
    inp = report["input"]
    console.print(
        f"[bold]otlspec check[/bold]: {report['summary']['properties']} properties x "
        f"{inp['traces']} traces ({inp['spans']} spans)"
    )
    diags = inp["diagnostics"]
    if diags:
        errors = sum(1 for d in diags if d["severity"] == "error")
        console.print(
            f"[red]{errors} input error(s)[/red], {len(diags) - errors} warning(s) "
            "while reading traces:"
        )
        for d in diags[:top]:
            where = d["file"] or "<stdin>"
            if d["line"]:
                where += f":{d['line']}" + (f":{d['column']}" if d["column"] else "")
            path = f": {d['path']}" if d["path"] else ""
            console.print(
                f"  {where}{path}: {d['severity']}: {d['message']}", markup=False, highlight=False
            )
        if len(diags) > top:
            console.print(f"  ... and {len(diags) - top} more")
    table = Table(title="Properties", show_lines=False)
    table.add_column("property")
    table.add_column("severity")
    table.add_column("backend")
    table.add_column("passed", justify="right")
    table.add_column("failed", justify="right")
    for prop in report["properties"]:
        style = SEVERITY_STYLE[prop["severity"]] if prop["failed"] else "green"
        table.add_row(
            prop["name"],
            prop["severity"],
            prop["backend"],
            str(prop["passed"]),
            f"[{style}]{prop['failed']}[/{style}]",
        )
    console.print(table)
    shown = 0
    rows = []
    for rank in ("error", "warning", "info"):
        for prop in report["properties"]:
            if prop["severity"] != rank:
                continue
            for trace in prop["traces"]:
                if trace["verdict"] == "fail":
                    rows.append((prop, trace))
    if rows:
        console.print("[bold]Top violations[/bold]")
    for prop, trace in rows:
        if shown >= top:
            break
        witnesses = trace.get("witnesses") or []
        src = ", ".join(trace["sources"])
        for w in witnesses[:3] or [{"message": prop["name"], "bindings": {}, "position": None}]:
            if shown >= top:
                break
            shown += 1
            sev = prop["severity"]
            console.print(
                f"[{SEVERITY_STYLE[sev]}]{sev}[/] [bold]{prop['name']}[/bold] "
                f"trace {trace['trace_id']} ({src})",
                highlight=False,
            )
            console.print(f"    {w['message']}", markup=False, highlight=False)
            for var, ref in w["bindings"].items():
                console.print(
                    f"      {var} = {ref['name']} span {ref['span_id']} "
                    f"service {ref['service'] or '-'}",
                    markup=False,
                    highlight=False,
                )
            if w.get("position"):
                pos = w["position"]
                console.print(
                    f"      at timeline[{pos['index']}] t={pos['time_unix_nano']} {pos['what']}",
                    markup=False,
                    highlight=False,
                )
    total = sum(len(t.get("witnesses") or [1]) for _, t in rows)
    if total > shown:
        console.print(f"... {total - shown} more violation(s); use --format json for all of them")
    summary = report["summary"]
    failing = summary["failing_at_or_above_fail_on"]
    verdict = (
        f"[red]FAIL[/red]: {len(failing)} propert{'y' if len(failing) == 1 else 'ies'} "
        f"violated at or above '{summary['fail_on']}'"
        if failing
        else f"[green]OK[/green]: nothing violated at or above '{summary['fail_on']}'"
    )
    console.print(verdict)
