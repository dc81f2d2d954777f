"""Interactive exploration with ipywidgets: pick a property, a service and a failing trace,
and see its waterfall with the violation explained.

:func:`explorer` builds the widget; :class:`Explorer` keeps its state so tests (and scripts)
can drive it without a browser: ``ex.select(prop=..., service=..., trace=...)``.
"""

from __future__ import annotations

from typing import Any

from workbench.explore import plots


def _widgets() -> Any:
    try:
        import ipywidgets
    except ImportError as err:  # pragma: no cover - optional dependency
        raise ImportError("the explorer needs ipywidgets: pip install 'otlspec[notebooks]'"
                          ) from err
    return ipywidgets


class Explorer:
    """Filters over a check result: property -> service -> failing trace -> waterfall.

    Parameters
    ----------
    results
        A :class:`~workbench.explore.results.Results` or a
        :class:`~workbench.engine.base.CheckResult`.
    """

    def __init__(self, results: Any) -> None:
        w = _widgets()
        self.result = results.result if hasattr(results, "result") else results
        self.table = self.result.table
        failing = [r.name for r in self.result.results if r.n_failed]
        self.prop = w.Dropdown(options=failing, description="property")
        self.service = w.Dropdown(options=["(any)"], description="service")
        self.trace = w.Dropdown(options=[], description="trace")
        self.out = w.Output()
        self.prop.observe(lambda _: self._on_prop(), names="value")
        self.service.observe(lambda _: self._on_service(), names="value")
        self.trace.observe(lambda _: self.draw(), names="value")
        self.widget = w.VBox([w.HBox([self.prop, self.service]), self.trace, self.out])
        self._on_prop()

    def traces_for(self, prop: str, service: str = "(any)") -> list[int]:
        """Failing traces of a property whose witnesses name a span of a service.

        Parameters
        ----------
        prop
            The property.
        service
            A service name, or ``"(any)"``.

        Returns
        -------
        list[int]
        """
        res = self.result[prop]
        out = []
        for t in res.failed_traces:
            services = {ref.service for w in res.witnesses.get(t, []) for _, ref in w.bindings}
            if service == "(any)" or service in services:
                out.append(t)
        return out

    def _on_prop(self) -> None:
        if not self.prop.value:
            return
        res = self.result[self.prop.value]
        services = sorted({ref.service for ws in res.witnesses.values() for w in ws
                           for _, ref in w.bindings})
        self.service.options = ["(any)", *services]
        self.service.value = "(any)"
        self._on_service()

    def _on_service(self) -> None:
        if not self.prop.value:
            return
        ts = self.traces_for(self.prop.value, self.service.value or "(any)")
        self.trace.options = [(f"{self.table.trace_id_hex[t][:16]}… (#{t})", t) for t in ts]
        if ts:
            self.trace.value = ts[0]
        self.draw()

    def select(self, prop: str | None = None, service: str | None = None,
               trace: int | None = None) -> None:
        """Set the filters programmatically, as a user clicking would.

        Parameters
        ----------
        prop, service, trace
            The property, the service and the trace index to select (``None``: unchanged).
        """
        if prop is not None:
            self.prop.value = prop
        if service is not None:
            self.service.value = service
        if trace is not None:
            self.trace.value = trace

    def draw(self) -> Any:
        """Redraw the waterfall of the selected trace; returns the figure (or None)."""
        t = self.trace.value
        if t is None or not self.prop.value:
            return None
        import matplotlib.pyplot as plt

        fig = plots.waterfall(self.table, t, self.result, self.prop.value)
        self.out.clear_output(wait=True)
        with self.out:
            plt.show()
        plt.close(fig)
        return fig

    def _ipython_display_(self) -> None:  # pragma: no cover - needs a frontend
        from IPython.display import display

        display(self.widget)


def explorer(results: Any) -> Explorer:
    """An interactive property/service/trace picker over ``results`` (display it)."""
    return Explorer(results)
