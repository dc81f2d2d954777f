"""Plots for notebooks (matplotlib): trace waterfalls with violations highlighted, the trace
graph, violations per property and per service, latency distributions, evaluation scores.

Every function draws on ``ax`` when given (else on a new figure) and returns the figure, so
notebooks can both show and save them. Traces, specs and results may be given as the
wrappers of :mod:`workbench.explore.results` or as the plain objects they wrap.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from workbench.engine.base import CheckResult, Witness
from workbench.traces.model import SpanTable

_SEVERITY_COLOR = {"error": "#c0392b", "warning": "#e67e22", "info": "#3498db"}


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError("plots need matplotlib: pip install 'otlspec[notebooks]'") from err
    return plt


def _table(traces: Any) -> SpanTable:
    return traces.table if hasattr(traces, "table") else traces


def _result(results: Any) -> CheckResult | None:
    if results is None:
        return None
    return results.result if hasattr(results, "result") else results


def _service_colors(services: list[str]) -> dict[str, Any]:
    """Pastel colours per service, so that the strong severity colours of violations stand
    out."""
    cmap = _plt().get_cmap("Set3")
    return {s: cmap(i % 12) for i, s in enumerate(services)}


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    _, ax = _plt().subplots(figsize=size)
    return ax


def span_order(table: SpanTable, trace: int) -> list[int]:
    """Rows of a trace in depth-first order (children by start).

    Parameters
    ----------
    table
        The span table.
    trace
        The trace index.

    Returns
    -------
    list[int]
        Rows of the trace; orphans and parent-cycle members follow their own subtrees.
    """
    rows = list(table.trace_rows(trace))
    kids: dict[int, list[int]] = defaultdict(list)
    for r in rows:
        p = int(table.parent[r])
        if p >= 0:
            kids[p].append(r)
    out: list[int] = []
    seen: set[int] = set()

    def visit(r: int) -> None:
        stack = [r]
        while stack:
            x = stack.pop()
            if x in seen:
                continue
            seen.add(x)
            out.append(x)
            stack.extend(sorted(kids.get(x, []), key=lambda k: (int(table.start[k]), k),
                                reverse=True))

    for r in rows:
        if int(table.parent[r]) < 0:
            visit(r)
    for r in rows:  # parent cycles: no member has an unresolved parent
        visit(r)
    return out


def violations_in_trace(result: CheckResult | None, trace: int,
                        prop: str | None = None) -> list[tuple[str, str, list[int], Any]]:
    """The violations of one trace.

    Parameters
    ----------
    result
        A check result (``None`` gives no violations).
    trace
        The trace index.
    prop
        Only this property.

    Returns
    -------
    list[tuple[str, str, list[int], Witness | None]]
        ``(property, severity, bound rows, witness)`` per witness (``None`` for a trace-level
        failure without witnesses).
    """
    if result is None:
        return []
    out: list[tuple[str, str, list[int], Any]] = []
    for res in result.results:
        if prop is not None and res.name != prop:
            continue
        if bool(res.holds[trace]):
            continue
        found: list[Witness | None] = list(res.witnesses.get(trace, [])) or [None]
        for w in found:
            rows = [] if w is None else [ref.row for _, ref in w.bindings]
            out.append((res.name, res.prop.severity, rows, w))
    return out


def waterfall(traces: Any, trace: int = 0, results: Any = None, prop: str | None = None,
              ax: Any = None, max_spans: int = 60, max_notes: int = 6) -> Any:
    """A trace's spans as a waterfall: one bar per span, coloured by service.

    Parameters
    ----------
    traces
        Traces or a span table.
    trace
        The trace index.
    results
        A check result; its violations on this trace are drawn (red, hatched bars) and
        explained in a box under the chart (property, message, timeline position).
    prop
        Only this property's violations.
    ax
        Axes to draw on.
    max_spans
        Draw at most this many spans (the first ones in depth-first order).
    max_notes
        Witnesses listed in the explanation box.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = _table(traces)
    rows = span_order(table, trace)[:max_spans]
    ax = _axes(ax, (11, 0.28 * len(rows) + 2.2))
    result = _result(results)
    found = violations_in_trace(result, trace, prop)
    bad: dict[int, str] = {}
    for _, severity, brows, _ in found:
        for r in brows:
            bad.setdefault(r, severity)
    t0 = min(int(table.start[r]) for r in rows) if rows else 0
    t_end = max(int(table.end[r]) if bool(table.has_end[r]) else int(table.start[r])
                for r in rows) if rows else 0
    services = sorted({table.service_of(r) for r in rows})
    color = _service_colors(services)
    for y, r in enumerate(rows):
        start = (int(table.start[r]) - t0) / 1e6
        ended = bool(table.has_end[r])
        width = ((int(table.end[r]) - int(table.start[r])) / 1e6) if ended else \
            (t_end - int(table.start[r])) / 1e6
        kw: dict[str, Any] = {"color": color[table.service_of(r)], "height": 0.7}
        if r in bad:
            kw.update(edgecolor=_SEVERITY_COLOR[bad[r]], linewidth=2.0, hatch="//")
        if not ended:
            kw.update(alpha=0.35, linestyle="--")
        ax.barh(y, width, left=start, **kw)  # a negative width draws backwards
        label = f"{'  ' * min(int(table.depth[r]), 8)}{table.name_of(r)[:40]}"
        ax.text(start, y, " " + label, va="center", fontsize=7,
                color=_SEVERITY_COLOR[bad[r]] if r in bad else "black")
        for j in range(int(table.event_offsets[r]), int(table.event_offsets[r + 1])):
            name = table.strings[int(table.event_name[j])]
            ax.plot((int(table.event_time[j]) - t0) / 1e6, y, marker="|", markersize=9,
                    color="#c0392b" if name == "exception" else "#2c3e50")
    for _, severity, _, w in found:
        if w is not None and w.position is not None:
            x = (w.position.time - t0) / 1e6
            ax.axvline(x, color=_SEVERITY_COLOR[severity], linestyle=":", linewidth=1)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks([])
    ax.set_xlabel("ms since the trace started")
    title = f"trace {table.trace_id_hex[trace][:16]}… ({len(list(table.trace_rows(trace)))} spans)"
    ax.set_title(title, fontsize=10, loc="left")
    handles = [_plt().Rectangle((0, 0), 1, 1, color=color[s]) for s in services]
    ax.legend(handles, [s or "(no service)" for s in services], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), ncol=2 if len(services) > 20 else 1, frameon=False)
    if found:
        notes = []
        for name, severity, _, w in found[:max_notes]:
            msg = "" if w is None else w.message
            at = "" if w is None or w.position is None else f"  [at {w.position.what}]"
            notes.append(f"{severity}: {name}: {msg[:110]}{at}")
        if len(found) > max_notes:
            notes.append(f"... {len(found) - max_notes} more witnesses")
        ax.text(0.0, -0.08, "\n".join(notes), transform=ax.transAxes, va="top", fontsize=8,
                family="monospace", bbox={"boxstyle": "round", "facecolor": "#fdf2e9",
                                          "edgecolor": "#e67e22"})
    return ax.figure


def trace_graph(traces: Any, trace: int = 0, results: Any = None, prop: str | None = None,
                ax: Any = None) -> Any:
    """The trace as a graph (networkx), layered by depth.

    Parameters
    ----------
    traces, trace
        The traces and the trace index.
    results
        A check result; violating spans are outlined in their severity's colour.
    prop
        Only this property's violations.
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.figure.Figure
        Parent edges solid, links dashed, nodes coloured by service.
    """
    import networkx as nx

    from workbench.traces.graph import trace_graph as build

    table = _table(traces)
    g = build(table, trace)
    ax = _axes(ax, (10, 6))
    bad: dict[int, str] = {}
    for _, severity, brows, _ in violations_in_trace(_result(results), trace, prop):
        for r in brows:
            bad.setdefault(r, severity)
    order = span_order(table, trace)
    level: dict[int, list[int]] = defaultdict(list)
    for r in order:
        level[int(table.depth[r])].append(r)
    pos = {}
    for d, members in level.items():
        for i, r in enumerate(members):
            pos[r] = ((i + 0.5) / len(members), -d)
    for n in g.nodes:
        pos.setdefault(n, (1.1, 0))
    services = sorted({g.nodes[n]["service"] for n in g.nodes})
    color = _service_colors(services)
    parent_edges = [(a, b) for a, b, k in g.edges(data="kind") if k == "parent"]
    link_edges = [(a, b) for a, b, k in g.edges(data="kind") if k == "link"]
    nx.draw_networkx_edges(g, pos, edgelist=parent_edges, ax=ax, arrows=True, arrowsize=8)
    nx.draw_networkx_edges(g, pos, edgelist=link_edges, ax=ax, style="dashed",
                           edge_color="#8e44ad", arrows=True)
    nodes = list(g.nodes)
    nx.draw_networkx_nodes(
        g, pos, nodelist=nodes, ax=ax, node_size=120,
        node_color=[color[g.nodes[n]["service"]] for n in nodes],
        edgecolors=[_SEVERITY_COLOR[bad[n]] if n in bad else "#7f8c8d" for n in nodes],
        linewidths=[3.0 if n in bad else 0.5 for n in nodes])
    if len(nodes) <= 40:
        nx.draw_networkx_labels(g, pos, {n: g.nodes[n]["name"][:18] for n in nodes},
                                font_size=6, ax=ax)
    handles = [_plt().Line2D([], [], marker="o", linestyle="", color=color[s]) for s in services]
    ax.legend(handles, [s or "(no service)" for s in services], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(f"trace {table.trace_id_hex[trace][:16]}…: parent edges (solid), links "
                 "(dashed)", fontsize=10, loc="left")
    ax.axis("off")
    return ax.figure


def violations_by_property(results: Any, ax: Any = None, top: int = 25) -> Any:
    """Failing traces per property, as bars coloured by severity.

    Parameters
    ----------
    results
        A check result.
    ax
        Axes to draw on.
    top
        The properties with the most failing traces shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    result = _result(results)
    assert result is not None
    rows = sorted(((r.n_failed, r.name, r.prop.severity) for r in result.results
                   if r.n_failed), reverse=True)[:top]
    ax = _axes(ax, (8, 0.3 * max(len(rows), 1) + 1.2))
    ax.barh([r[1] for r in rows], [r[0] for r in rows],
            color=[_SEVERITY_COLOR[r[2]] for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel(f"failing traces (of {result.table.n_traces})")
    ax.set_title("violations per property", fontsize=10, loc="left")
    ax.tick_params(axis="y", labelsize=8)
    return ax.figure


def violations_by_service(results: Any, ax: Any = None, top: int = 12) -> Any:
    """Violating spans per service, stacked by property.

    Parameters
    ----------
    results
        A check result (spans bound by witnesses are counted).
    ax
        Axes to draw on.
    top
        The services with the most violating spans shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    result = _result(results)
    assert result is not None
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for res in result.results:
        for ws in res.witnesses.values():
            for w in ws:
                for svc in {ref.service for _, ref in w.bindings}:
                    counts[svc or "(no service)"][res.name] += 1
    services = sorted(counts, key=lambda s: -sum(counts[s].values()))[:top]
    props = sorted({p for s in services for p in counts[s]})
    ax = _axes(ax, (9, 0.35 * max(len(services), 1) + 1.5))
    left = np.zeros(len(services))
    cmap = _plt().get_cmap("tab20")
    for i, p in enumerate(props):
        vals = np.array([counts[s][p] for s in services], dtype=float)
        ax.barh(services, vals, left=left, label=p, color=cmap(i % 20))
        left += vals
    ax.invert_yaxis()
    ax.set_xlabel("violating spans (witness bindings)")
    ax.set_title("violations per service", fontsize=10, loc="left")
    if props:
        ax.legend(fontsize=7, loc="lower right")
    return ax.figure


def latency_distribution(traces: Any, by: str = "service", ax: Any = None,
                         top: int = 8) -> Any:
    """Span durations (ms, log scale) as box plots.

    Parameters
    ----------
    traces
        Traces or a span table.
    by
        ``"service"`` or ``"kind"``.
    ax
        Axes to draw on.
    top
        The groups with the most spans shown.

    Returns
    -------
    matplotlib.figure.Figure
    """
    table = _table(traces)
    groups: dict[str, list[float]] = defaultdict(list)
    for r in range(table.n_spans):
        if not bool(table.has_end[r]):
            continue
        d = (int(table.end[r]) - int(table.start[r])) / 1e6
        if d <= 0:
            continue
        key = table.service_of(r) if by == "service" else table.kind_of(r)
        groups[key or "(none)"].append(d)
    names = sorted(groups, key=lambda k: -len(groups[k]))[:top]
    ax = _axes(ax, (9, 4))
    try:
        ax.boxplot([groups[n] for n in names], orientation="horizontal", showfliers=True)
    except TypeError:  # matplotlib < 3.10
        ax.boxplot([groups[n] for n in names], vert=False, showfliers=True)
    ax.set_yticks(range(1, len(names) + 1), names, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("span duration (ms)")
    ax.set_title(f"latency per {by}", fontsize=10, loc="left")
    return ax.figure


def precision_recall(evaluation: Any, level: str = "class", ax: Any = None) -> Any:
    """Precision and recall bars of an evaluation.

    Parameters
    ----------
    evaluation
        A :class:`~workbench.datasets.evaluation.Evaluation`.
    level
        ``"class"`` (per fault class) or ``"property"``.
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.figure.Figure
        Undefined values (no injection, no alarm) are left blank.
    """
    rows = [r for r in evaluation.table(level)
            if r["injections"] or r["alarms_true"] or r["alarms_false"]]
    ax = _axes(ax, (9, 0.35 * max(len(rows), 1) + 1.5))
    y = np.arange(len(rows))
    rec = [r["recall"] if r["recall"] is not None else np.nan for r in rows]
    pre = [r["precision"] if r["precision"] is not None else np.nan for r in rows]
    ax.barh(y - 0.2, rec, height=0.4, label="recall", color="#27ae60")
    ax.barh(y + 0.2, pre, height=0.4, label="precision", color="#2980b9")
    ax.set_yticks(y, [r["name"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"precision and recall per {'fault class' if level == 'class' else level}",
                 fontsize=10, loc="left")
    return ax.figure
