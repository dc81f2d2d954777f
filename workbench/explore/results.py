"""Notebook-friendly wrappers: traces, specs and check results that render as tables.

Everything here wraps the plain API (:func:`workbench.traces.load_traces`,
:func:`workbench.lang.parse_spec`, :func:`workbench.engine.check`) and adds ``_repr_html_``
(tables in Jupyter), ``_repr_latex_`` (properties as mathematics, see
:mod:`workbench.explore.latex`) and conversions to pandas DataFrames. The wrapped objects
stay reachable (``.table``, ``.spec``, ``.result``) for everything else.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.engine.base import CheckResult, PropertyResult, Witness
from workbench.explore.latex import Math
from workbench.lang import ir
from workbench.traces.model import SpanTable

_SEVERITY_COLOR = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}


def _pd() -> Any:
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError("DataFrames need pandas: pip install 'otlspec[notebooks]'") from err
    return pandas


def _table_html(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
                caption: str = "") -> str:
    """An HTML table; a column named ``_x`` holds raw HTML and is headed ``x``."""
    head = "".join(f"<th style='text-align:left'>{html.escape(c.lstrip('_'))}</th>"
                   for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c, "")
            text = str(v) if c.startswith("_") else html.escape(str(v))
            cells.append(f"<td style='text-align:left'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ------------------------------------------------------------------------------ traces


class Traces:
    """A loaded span table with a notebook face. ``.table`` is the :class:`SpanTable`."""

    def __init__(self, table: SpanTable, sources: Sequence[str] = ()) -> None:
        self.table = table
        self.sources = list(sources)

    def __len__(self) -> int:
        return self.table.n_traces

    def spans(self) -> Any:
        """One row per span: ids, name, service, kind, status, times, duration, depth."""
        t = self.table
        rows = []
        for r in range(t.n_spans):
            rows.append({
                "trace": int(t.trace_index[r]),
                "trace_id": t.trace_id_hex[int(t.trace_index[r])],
                "span_id": t.span_id_hex(r), "parent_id": t.parent_id_hex(r),
                "name": t.name_of(r), "service": t.service_of(r), "kind": t.kind_of(r),
                "status": t.status_of(r), "start": int(t.start[r]),
                "duration_ms": (int(t.end[r]) - int(t.start[r])) / 1e6
                if bool(t.has_end[r]) else float("nan"),
                "depth": int(t.depth[r]), "events": int(t.event_offsets[r + 1]
                                                        - t.event_offsets[r]),
            })
        return _pd().DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        t = self.table
        services = Counter(t.service_of(r) for r in range(t.n_spans))
        return {"traces": t.n_traces, "spans": t.n_spans, "services": len(services),
                "top services": ", ".join(f"{s or '(none)'} ({n})"
                                          for s, n in services.most_common(5)),
                "diagnostics": len(t.diagnostics)}

    def _repr_html_(self) -> str:
        s = self.summary()
        return _table_html([{"": k, "value": v} for k, v in s.items()], ["", "value"],
                           "traces from " + (", ".join(self.sources) or "memory"))

    def __repr__(self) -> str:
        s = self.summary()
        return f"Traces({s['traces']} traces, {s['spans']} spans, {s['services']} services)"


def load(*paths: str | Path) -> Traces:
    """Load trace files, directories or globs (any supported format) as :class:`Traces`."""
    from workbench.traces import load_traces

    sources = [str(p) for p in paths]
    return Traces(load_traces(sources), sources)


# ------------------------------------------------------------------------------ specs


class Spec:
    """A spec with a notebook face: a table of its properties; ``.math()`` shows them as
    formulas. ``.spec`` is the :class:`~workbench.lang.ir.Spec`."""

    def __init__(self, spec: ir.Spec) -> None:
        self.spec = spec

    @property
    def properties(self) -> tuple[ir.Property, ...]:
        return self.spec.properties

    def __getitem__(self, name: str) -> Math:
        return Math(self.spec.property(name))

    def math(self, names: Iterable[str] | None = None) -> MathList:
        """The properties (all, or ``names``) as LaTeX, one per line."""
        wanted = None if names is None else set(names)
        return MathList([p for p in self.spec.properties
                         if wanted is None or p.name in wanted])

    def _repr_html_(self) -> str:
        from workbench.lang import print_formula

        rows = [{"property": p.name, "severity": p.severity, "tags": ", ".join(p.tags),
                 "_check": f"<code>{html.escape(print_formula(p.formula))}</code>"}
                for p in self.spec.properties]
        return _table_html(rows, ["property", "severity", "tags", "_check"],
                           f"spec {self.spec.name}: {len(rows)} properties")

    def __repr__(self) -> str:
        return f"Spec({self.spec.name!r}, {len(self.spec.properties)} properties)"


class MathList:
    """Several properties rendered as one LaTeX ``aligned`` block."""

    def __init__(self, props: Sequence[ir.Property]) -> None:
        self.props = list(props)

    def _repr_latex_(self) -> str:
        lines = [Math(p)._repr_latex_().strip("$").replace(r":\quad", r": &\quad", 1)
                 for p in self.props]
        return r"$\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$"


def spec(text_or_path: str | Path | Sequence[str | Path], name: str = "notebook") -> Spec:
    """A spec for a notebook.

    Parameters
    ----------
    text_or_path
        Inline spec text (anything containing ``property`` or a newline), a path,
        ``"stdlib"``/``"stdlib.NAME"``, or a list of those (loaded together).
    name
        The source name of inline text (in error messages).

    Returns
    -------
    Spec
    """
    from workbench.lang import load_spec, load_specs, parse_spec

    if isinstance(text_or_path, list | tuple):
        return Spec(load_specs([str(p) for p in text_or_path]))
    text = str(text_or_path)
    if "property" in text or "\n" in text:
        return Spec(parse_spec(text, f"<{name}>"))
    return Spec(load_spec(text))


# ------------------------------------------------------------------------------ results


class PropertyView:
    """One property's verdicts, witnesses and formula. ``.result`` is the
    :class:`~workbench.engine.base.PropertyResult`."""

    def __init__(self, result: PropertyResult, table: SpanTable) -> None:
        self.result = result
        self.table = table

    @property
    def name(self) -> str:
        return self.result.name

    @property
    def failed_traces(self) -> list[int]:
        return self.result.failed_traces

    def math(self) -> Math:
        return Math(self.result.prop)

    def witnesses(self) -> list[dict[str, Any]]:
        """One dict per witness: trace, bound spans, message, timeline position."""
        out = []
        for t in self.result.failed_traces:
            ws: list[Witness | None] = list(self.result.witnesses.get(t, [])) or [None]
            for w in ws:
                out.append({
                    "property": self.name, "severity": self.result.prop.severity,
                    "trace": t, "trace_id": self.table.trace_id_hex[t],
                    "spans": [] if w is None else [ref.span_id for _, ref in w.bindings],
                    "services": [] if w is None else sorted({ref.service
                                                             for _, ref in w.bindings}),
                    "rows": [] if w is None else [ref.row for _, ref in w.bindings],
                    "message": "" if w is None else w.message,
                    "at": None if w is None or w.position is None else w.position.what,
                })
        return out

    def _repr_latex_(self) -> str:
        return self.math()._repr_latex_()

    def _repr_html_(self) -> str:
        p = self.result.prop
        head = (f"<p><b>{html.escape(p.name)}</b> ({p.severity}): fails on "
                f"{self.result.n_failed} of {len(self.result.holds)} traces; "
                f"{html.escape(self.result.reason)}</p>")
        rows = [{"trace_id": w["trace_id"][:16] + "…", "spans": ", ".join(w["spans"]),
                 "message": w["message"], "at": w["at"] or ""} for w in self.witnesses()[:20]]
        return head + _table_html(rows, ["trace_id", "spans", "message", "at"])

    def __repr__(self) -> str:
        return f"PropertyView({self.name!r}, {self.result.n_failed} failing traces)"


class Results:
    """The outcome of a check with a notebook face. ``.result`` is the
    :class:`~workbench.engine.base.CheckResult`; ``res["name"]`` a :class:`PropertyView`."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        self.table = result.table

    def __getitem__(self, name: str) -> PropertyView:
        return PropertyView(self.result[name], self.table)

    def __iter__(self) -> Any:
        return (PropertyView(r, self.table) for r in self.result.results)

    @property
    def failing(self) -> list[str]:
        return [r.name for r in self.result.results if r.n_failed]

    def summary_rows(self) -> list[dict[str, Any]]:
        rows = []
        for r in self.result.results:
            first = next(iter(r.witnesses.values()), [])
            rows.append({"property": r.name, "severity": r.prop.severity,
                         "failed": r.n_failed, "traces": int(r.holds.shape[0]),
                         "backend": r.backend, "seconds": round(r.seconds, 4),
                         "example": first[0].message if first else ""})
        return rows

    def to_frame(self) -> Any:
        """One row per property: severity, failing traces, backend, time, an example."""
        return _pd().DataFrame(self.summary_rows())

    def violations(self, properties: Iterable[str] | None = None) -> Any:
        """One row per witness (see :meth:`PropertyView.witnesses`)."""
        wanted = None if properties is None else set(properties)
        rows = [w for view in self if (wanted is None or view.name in wanted)
                for w in view.witnesses()]
        columns = ["property", "severity", "trace", "trace_id", "spans", "services", "rows",
                   "message", "at"]
        return _pd().DataFrame(rows, columns=columns)

    def by_service(self) -> Any:
        """Violating spans counted per (service, property): a services x properties table."""
        counts: Counter[tuple[str, str]] = Counter()
        for view in self:
            for w in view.witnesses():
                for svc in w["services"] or ["(trace)"]:
                    counts[(svc or "(no service)", view.name)] += 1
        pd = _pd()
        if not counts:
            return pd.DataFrame()
        s = pd.Series(counts)
        s.index.names = ["service", "property"]
        return s.unstack(fill_value=0).sort_index()

    def _repr_html_(self) -> str:
        rows = []
        for r in self.summary_rows():
            color = _SEVERITY_COLOR[r["severity"]] if r["failed"] else "#27ae60"
            verdict = f"{r['failed']} / {r['traces']}" if r["failed"] else "ok"
            rows.append({**r, "_failed": f"<span style='color:{color}'>{verdict}</span>"})
        rows.sort(key=lambda r: (-r["failed"], r["property"]))
        failing = len(self.failing)
        caption = (f"{len(rows)} properties on {self.table.n_traces} traces "
                   f"({self.table.n_spans} spans): {failing} fail")
        return _table_html(rows, ["property", "severity", "_failed", "backend", "example"],
                           caption)

    def __repr__(self) -> str:
        return (f"Results({len(self.result.results)} properties, "
                f"{len(self.failing)} failing on {self.table.n_traces} traces)")


def check(spec_: Spec | ir.Spec | str, traces: Traces | SpanTable,
          params: Mapping[str, str] | None = None, *, backend: str = "auto",
          properties: Iterable[str] | None = None) -> Results:
    """Check a spec on traces and wrap the outcome.

    Parameters
    ----------
    spec_
        A :class:`Spec`, an IR spec, inline spec text, a path or ``"stdlib"``.
    traces
        :class:`Traces` or a span table.
    params
        ``--param``-style overrides as text (``{"skew": "10ms"}``).
    backend, properties
        As for :func:`workbench.engine.check`.

    Returns
    -------
    Results
    """
    from workbench.engine import check as run
    from workbench.lang import bind_params, param_overrides

    s = spec_ if isinstance(spec_, Spec) else Spec(spec_) if isinstance(spec_, ir.Spec) \
        else spec(spec_)
    table = traces.table if isinstance(traces, Traces) else traces
    ir_spec, values = s.spec, None
    if params:
        values = param_overrides(ir_spec, dict(params))
        ir_spec = bind_params(ir_spec, dict(params))
    return Results(run(ir_spec, table, values, backend=backend, properties=properties))
