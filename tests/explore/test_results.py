"""The notebook API: wrappers, frames, plots, the explorer and the computed semantics."""

from __future__ import annotations

import pytest

for _module in ("matplotlib", "pandas", "sympy", "ipywidgets"):
    pytest.importorskip(_module)

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import workbench.explore as wx  # noqa: E402

SPEC = """
param skew = 50ms
/// children start inside their parent
property starts_inside {
  severity warning
  message "{c.name} starts before {p.name}"
  check forall p in spans, c in children(p): c.start >= p.start - skew
}
property all_end {
  check forall s in spans: s.has_end
}
"""


@pytest.fixture(scope="module")
def toy() -> wx.Traces:
    return wx.toy_trace([
        dict(name="root", service="web", kind="SERVER", start=0, end=100),
        dict(name="call", parent="root", service="web", kind="CLIENT", start=10, end=60,
             status="ERROR"),
        dict(name="serve", parent="call", service="api", kind="SERVER", start=-100, end=-50,
             events=[("exception", -60)]),
        dict(name="open", parent="root", service="web", start=70, end=None),
    ])


@pytest.fixture(scope="module")
def results(toy: wx.Traces) -> wx.Results:
    return wx.check(wx.spec(SPEC), toy, backend="reference")


def test_results_render_and_convert(results: wx.Results) -> None:
    assert results.failing == ["starts_inside", "all_end"]
    html = results._repr_html_()
    assert "starts_inside" in html and "<table>" in html
    frame = results.to_frame()
    assert list(frame.property) == ["starts_inside", "all_end"]
    v = results.violations()
    assert set(v.property) == {"starts_inside", "all_end"}
    assert v[v.property == "starts_inside"].message.iloc[0] == "serve starts before call"
    by = results.by_service()
    assert by.loc["api", "starts_inside"] == 1
    view = results["starts_inside"]
    assert "serve starts before call" in view._repr_html_()
    assert view._repr_latex_().startswith(r"$\mathsf{starts\_inside}")


def test_traces_and_spec_wrappers(toy: wx.Traces) -> None:
    assert "traces from toy" in toy._repr_html_()
    assert len(toy.spans()) == 4
    spec = wx.spec(SPEC)
    assert "starts_inside" in spec._repr_html_()
    assert r"\begin{aligned}" in spec.math()._repr_latex_()
    assert spec["all_end"]._repr_latex_().startswith("$")
    assert len(wx.spec("stdlib.timing").properties) == 4
    assert len(wx.spec(["stdlib.timing", "stdlib.ids"]).properties) == 8


def test_plots_draw_and_highlight(toy: wx.Traces, results: wx.Results) -> None:
    fig = wx.waterfall(toy, 0, results)
    ax = fig.axes[0]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 3  # call and serve (starts_inside), open (all_end)
    for plot in (wx.trace_graph(toy, 0, results), wx.violations_by_property(results),
                 wx.violations_by_service(results), wx.latency_distribution(toy)):
        assert plot.axes


def test_explorer_filters(results: wx.Results) -> None:
    ex = wx.explorer(results)
    ex.select(prop="starts_inside", service="api")
    assert ex.traces_for("starts_inside", "api") == [0]
    assert ex.trace.value == 0
    assert ex.draw() is not None


def test_semantics_computed(toy: wx.Traces) -> None:
    line = wx.timeline(toy)
    assert list(line.point[:3]) == ["start(serve)", "event(serve, 'exception')", "end(serve)"]
    table = wx.truth_table({"e": "eventually[0s, 20ms] end(c)"}, toy, spans={"c": "call"})
    assert table.e.tolist().count(True) >= 1
    assert wx.evaluate("always (start(c) -> eventually end(c))", toy, spans={"c": "call"})
    hb = wx.hb_matrix(toy)
    assert hb.loc["serve", "call"] or not hb.loc["serve", "call"]  # defined for every pair
    assert not any(hb.loc[s, s] for s in hb.index)
