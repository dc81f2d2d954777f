// otlspec explorer. Every text that comes from the server is set with textContent or as an
// attribute value, never parsed as HTML; the page's CSP forbids inline script besides.
"use strict";
(function () {
  const ROW_H = 22;
  const $ = (id) => document.getElementById(id);
  const state = { stats: null, trace: null, selected: null };

  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) node.setAttribute(k, String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined) continue;
      node.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }
  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function fmtDur(ns) {
    if (ns === null || ns === undefined) return "not ended";
    if (ns < 1e3) return ns + " ns";
    if (ns < 1e6) return (ns / 1e3).toFixed(1) + " µs";
    if (ns < 1e9) return (ns / 1e6).toFixed(2) + " ms";
    return (ns / 1e9).toFixed(3) + " s";
  }
  function fmtValue(v) { return typeof v === "string" ? v : JSON.stringify(v); }
  function showError(msg) { $("error").textContent = msg || ""; }
  async function api(path) {
    const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }
  function kvTable(obj, keepOrder) {
    const keys = keepOrder ? Object.keys(obj || {}) : Object.keys(obj || {}).sort();
    if (!keys.length) return el("p", { class: "muted" }, "none");
    return el("table", { class: "kv" }, el("tbody", {},
      keys.map((k) => el("tr", {}, el("th", {}, k), el("td", {}, fmtValue(obj[k]))))));
  }
  function traceLink(id) { return "#/trace/" + encodeURIComponent(id); }

  // ------------------------------------------------------------------ dashboard
  function renderDashboard(s) {
    state.stats = s;
    const cards = [["traces checked", s.traces_checked], ["failing traces", s.failing_traces],
      ["violations", s.violations], ["open traces", s.traces_open]];
    clear($("cards")).append(...cards.map(([k, v]) =>
      el("div", { class: "card", "data-stat": k.replace(/ /g, "-") },
        el("div", { class: "num" }, v), el("div", {}, k))));
    const props = [...s.by_property].sort((a, b) => b.violations - a.violations);
    clear($("by-property").tBodies[0]).append(...props.map((p) =>
      el("tr", { class: p.violations ? "fail" : "pass" }, el("td", {}, p.property),
        el("td", {}, el("span", { class: "sev " + p.severity }, p.severity)),
        el("td", { class: "num" }, p.checked), el("td", { class: "num" }, p.violations))));
    clear($("by-severity").tBodies[0]).append(...Object.entries(s.by_severity).map(([k, v]) =>
      el("tr", {}, el("td", {}, el("span", { class: "sev " + k }, k)), el("td", { class: "num" }, v))));
    clear($("by-service").tBodies[0]).append(...s.by_service.map((r) =>
      el("tr", {}, el("td", {}, r.service), el("td", { class: "num" }, r.traces),
        el("td", { class: "num" }, r.failing))));
    const rec = s.receiver || {};
    clear($("receiver").tBodies[0]).append(...(s.receiver ? Object.keys(rec).map((k) =>
      el("tr", {}, el("th", {}, k), el("td", {}, fmtValue(rec[k])))) :
      [el("tr", {}, el("td", {}, s.mode === "batch" ? "batch run: no receiver" : "not in this process"))]));
    const trend = clear($("trend"));
    const pts = (s.over_time || []).slice(-60);  // the last hour
    const max = Math.max(1, ...pts.map((p) => p.checked));
    const w = 600 / Math.max(pts.length, 60);  // an hour of windows fills the width
    pts.forEach((p, i) => {
      const hc = 78 * p.checked / max, hv = 78 * p.violations / max;
      trend.append(svg("rect", { class: "checked", x: i * w, y: 80 - hc, width: Math.max(w - 1, 1), height: hc }));
      trend.append(svg("rect", { x: i * w, y: 80 - hv, width: Math.max(w - 1, 1), height: hv }));
    });
    $("trend-note").textContent = pts.length ? "the last " + pts.length + " minute(s) with checks: checks (grey), violations (red)"
      : "no time series for a batch run";
  }

  // ------------------------------------------------------------------ traces
  async function searchTraces() {
    const form = $("filters");
    const params = new URLSearchParams();
    for (const input of form.elements) {
      if (!input.name) continue;
      if (input.type === "checkbox") { if (input.checked) params.set(input.name, input.value); }
      else if (input.type === "datetime-local") {  // local time -> Unix seconds
        if (input.value) params.set(input.name, String(new Date(input.value).getTime() / 1000));
      } else if (input.value) params.set(input.name, input.value);
    }
    const rows = await api("/api/ui/traces?" + params.toString());
    clear($("trace-list").tBodies[0]).append(...rows.map((r) => {
      const tr = el("tr", { "data-trace-id": r.trace_id, class: r.n_failed ? "fail" : "pass" },
        el("td", {}, el("a", { href: traceLink(r.trace_id) }, r.trace_id)),
        el("td", {}, r.root_name || ""), el("td", {}, (r.services || []).join(", ")),
        el("td", { class: "num" }, r.n_spans === null ? "" : r.n_spans),
        el("td", {}, (r.failed_properties || []).join(", ")));
      tr.addEventListener("click", () => { location.hash = traceLink(r.trace_id); });
      return tr;
    }));
    if (!rows.length) $("trace-list").tBodies[0].append(el("tr", {}, el("td", { colspan: 5 }, "no trace matches")));
  }

  // ------------------------------------------------------------------ one trace
  async function openTrace(id) {
    const t = await api("/api/ui/traces/" + encodeURIComponent(id));
    state.trace = t;
    $("trace-title").textContent = "trace " + t.trace_id;
    const failed = (t.verdicts || []).filter((v) => !v.holds);
    clear($("trace-verdicts")).append(failed.length ? el("ul", {}, failed.map((v) =>
      el("li", { class: "verdict" }, el("strong", {}, v.property), " ",
        el("span", { class: "sev " + v.severity }, v.severity), " ",
        el("span", { class: "msg" }, v.message || "")))) : el("p", { class: "ok" }, "no property fails"));
    const spans = t.spans ? t.spans.spans : [];
    renderWaterfall(t, spans);
    renderGraph(spans, t.violating || {});
    const firstBad = spans.findIndex((s) => (t.violating || {})[s.span_id]);
    selectSpan(firstBad >= 0 ? firstBad : (spans.length ? 0 : null));
    if (firstBad > 0) $("waterfall").scrollTop = Math.max(0, firstBad * ROW_H - 3 * ROW_H);
  }

  function renderWaterfall(t, spans) {
    const box = clear($("waterfall"));
    if (!t.spans) { box.append(el("p", { class: "muted" }, "spans not available (start the UI with the trace files)")); return; }
    const total = Math.max(t.spans.duration, 1);
    const body = el("div", { class: "wf-body" });
    body.style.height = (spans.length * ROW_H) + "px";
    box.append(body);
    if (t.spans.truncated) box.append(el("p", { class: "muted" }, t.spans.truncated + " more spans not listed"));
    const drawn = new Map();
    function row(i) {
      const s = spans[i];
      const bad = (t.violating || {})[s.span_id];
      const cls = bad ? "bad" : (s.status === "error" ? "err" : "ok");
      const bar = el("div", { class: "wf-bar " + cls });
      bar.style.left = (100 * s.offset / total) + "%";
      bar.style.width = (100 * (s.duration || 0) / total) + "%";
      const name = el("div", { class: "wf-name" }, el("span", { class: "sname" }, s.name), " ",
        el("span", { class: "svc" }, s.service));
      // indentation stops at depth 16 so that deep chains keep their names in view
      name.style.paddingLeft = (4 + 10 * Math.min(s.depth, 16)) + "px";
      if (s.depth > 16) name.title = "depth " + s.depth;
      const r = el("div", { class: "wf-row " + cls + (state.selected === i ? " selected" : ""),
        "data-span-id": s.span_id, "data-index": i }, name,
        el("div", { class: "wf-dur" }, fmtDur(s.duration)), el("div", { class: "wf-track" }, bar));
      r.style.top = (i * ROW_H) + "px";
      r.addEventListener("click", () => selectSpan(i));
      return r;
    }
    // only the rows in view are in the DOM: a 10k-span trace stays responsive
    function paint() {
      const first = Math.max(0, Math.floor(box.scrollTop / ROW_H) - 20);
      const last = Math.min(spans.length, Math.ceil((box.scrollTop + box.clientHeight) / ROW_H) + 20);
      for (const [i, node] of drawn) if (i < first || i >= last) { node.remove(); drawn.delete(i); }
      for (let i = first; i < last; i++) if (!drawn.has(i)) { const n = row(i); drawn.set(i, n); body.append(n); }
    }
    // selection only moves a class: the rows (and what a reader points at) stay in place
    state.repaint = () => {
      for (const [i, n] of drawn) n.classList.toggle("selected", state.selected === i);
    };
    box.onscroll = paint;
    paint();
  }

  function selectSpan(i) {
    state.selected = i;
    if (state.repaint) state.repaint();
    const panel = clear($("span-detail"));
    const t = state.trace;
    if (i === null || !t || !t.spans) { panel.append(el("p", { class: "muted" }, "Select a span.")); return; }
    const s = t.spans.spans[i];
    const msgs = (t.violating || {})[s.span_id] || [];
    const bound = (t.witnesses || []).filter((w) => Object.values(w.bindings || {}).some((b) => b && b.span_id === s.span_id));
    panel.append(el("h3", { class: "span-name" }, s.name),
      ...msgs.map((m) => el("p", { class: "msg violation-message" }, m)),
      kvTable({ span_id: s.span_id, parent_id: s.parent_id, service: s.service, kind: s.kind,
        status: s.status + (s.status_message ? ": " + s.status_message : ""),
        start: "+" + fmtDur(s.offset), duration: fmtDur(s.duration) }, true));
    if (bound.length) {
      panel.append(el("h4", {}, "witnesses"), el("ul", {}, bound.map((w) => el("li", {},
        el("strong", {}, w.property || ""), " ", el("span", { class: "msg" }, w.message || ""),
        el("ul", { class: "bindings" }, Object.entries(w.bindings || {}).map(([k, b]) =>
          el("li", {}, el("code", {}, k), " = ", b && typeof b === "object" ?
            Object.entries(b).filter(([kk]) => kk !== "row").map(([kk, vv]) => kk + "=" + fmtValue(vv)).join(", ") : fmtValue(b)))),
        w.position !== null && w.position !== undefined ? el("div", { class: "muted" }, "timeline position: " + fmtValue(w.position)) : null))));
    }
    panel.append(el("h4", {}, "attributes"), kvTable(s.attributes), el("h4", {}, "resource"), kvTable(s.resource),
      el("h4", {}, "events"), (s.events || []).length ? el("ul", {}, s.events.map((e) =>
        el("li", {}, e.name + " at +" + fmtDur(e.offset), kvTable(e.attributes)))) : el("p", { class: "muted" }, "none"),
      el("h4", {}, "links"), (s.links || []).length ? el("ul", {}, s.links.map((l) =>
        el("li", {}, l.trace_id + " / " + l.span_id, kvTable(l.attributes)))) : el("p", { class: "muted" }, "none"));
  }

  function renderGraph(spans, violating) {
    const g = clear($("graph"));
    const byId = new Map(spans.map((s) => [s.span_id, s]));
    const services = [...new Set(spans.map((s) => s.service || "(no service)"))];
    const bad = new Set(spans.filter((s) => violating[s.span_id]).map((s) => s.service || "(no service)"));
    const edges = new Map();
    for (const s of spans) {
      const p = byId.get(s.parent_id);
      if (!p) continue;
      const a = p.service || "(no service)", b = s.service || "(no service)";
      if (a !== b) edges.set(a + "\u0000" + b, [a, b]);
    }
    const n = services.length, W = 600, H = Math.max(160, 60 * Math.min(n, 6));
    g.setAttribute("viewBox", "0 0 " + W + " " + H);
    const pos = new Map(services.map((name, i) => [name, n === 1 ? [W / 2, H / 2] :
      [W / 2 + (W / 2 - 80) * Math.cos(2 * Math.PI * i / n), H / 2 + (H / 2 - 25) * Math.sin(2 * Math.PI * i / n)]]));
    for (const [a, b] of edges.values()) {
      const [x1, y1] = pos.get(a), [x2, y2] = pos.get(b);
      g.append(svg("line", { x1, y1, x2, y2 }));
    }
    for (const name of services) {
      const [x, y] = pos.get(name);
      g.append(svg("circle", { cx: x, cy: y, r: 8, class: bad.has(name) ? "bad" : "" }));
      const label = svg("text", { x: x + 11, y: y + 4 });
      label.textContent = name;
      g.append(label);
    }
  }

  // ------------------------------------------------------------------ reports and specs
  async function renderReports() {
    const rows = await api("/api/ui/reports");
    clear($("report-list").tBodies[0]).append(...rows.map((r) => {
      const q = r.export || "";  // the query string of this run's export, made by the server
      const when = r.since !== undefined ? new Date(r.since * 1000).toISOString() : "";
      return el("tr", { "data-run": r.id }, el("td", {}, r.name ? (when ? when + " " + r.name : r.name) : (when || r.id)),
        el("td", {}, r.kind), el("td", { class: "num" }, r.checked), el("td", { class: "num" }, r.violations),
        el("td", {}, el("a", { href: "/export/report.html" + q }, "HTML"), " ",
          el("a", { href: "/export/report.pdf" + q }, "PDF")));
    }));
    if (!rows.length) $("report-list").tBodies[0].append(el("tr", {}, el("td", { colspan: 5 }, "no runs yet")));
  }
  async function renderSpecs() {
    const spec = await api("/api/ui/specs");
    const params = spec.params.length ? el("table", { class: "list params" },
      el("thead", {}, el("tr", {}, el("th", {}, "param"), el("th", {}, "type"), el("th", {}, "default"),
        el("th", {}, "override"))),
      el("tbody", {}, spec.params.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name)),
        el("td", {}, p.type), el("td", {}, el("code", {}, p.default)),
        el("td", {}, p.overridable === null ? "(as bound for the run)" :
          p.overridable ? "--param " + p.name + "=..." : "let (fixed)"))))) : null;
    clear($("spec-list")).append(el("h2", {}, "spec " + (spec.name || "")), params || el("p", { class: "muted" }, "no params"),
      el("h2", {}, spec.properties.length + " properties"), ...spec.properties.map((p) => el("section", { class: "property" },
      el("h3", {}, p.name, " ", el("span", { class: "sev " + p.severity }, p.severity)),
      el("p", { class: "muted" }, (p.tags || []).join(", "), " ", p.source),
      el("pre", { class: "doc" }, p.doc || "(no doc)"),
      p.formula ? el("pre", { class: "doc" }, p.formula) : null)));
  }

  // ------------------------------------------------------------------ routing and live updates
  async function route() {
    const hash = location.hash || "#/dashboard";
    const [, view, arg] = hash.match(/^#\/([a-z]+)(?:\/(.*))?$/) || [null, "dashboard", null];
    for (const sec of document.querySelectorAll(".view")) sec.hidden = sec.id !== "view-" + view;
    for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view || (view === "trace" && a.dataset.view === "traces"));
    showError("");
    try {
      if (view === "dashboard") renderDashboard(await api("/api/ui/stats"));
      else if (view === "traces") await searchTraces();
      else if (view === "trace") await openTrace(decodeURIComponent(arg || ""));
      else if (view === "reports") await renderReports();
      else if (view === "specs") await renderSpecs();
    } catch (err) { showError(String(err.message || err)); }
  }
  function connect() {
    const live = $("live");
    const es = new EventSource("/api/ui/events");
    es.addEventListener("update", (ev) => {
      const s = JSON.parse(ev.data);
      live.textContent = s.mode === "batch" ? "batch run" : "live";
      live.classList.toggle("on", s.mode !== "batch");
      if (!$("view-dashboard").hidden) renderDashboard(s);
      else if (!$("view-reports").hidden) renderReports().catch((e) => showError(String(e)));
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    });
    es.onerror = () => { live.textContent = "reconnecting"; live.classList.remove("on"); };
  }
  document.addEventListener("DOMContentLoaded", () => {
    $("filters").addEventListener("submit", (ev) => { ev.preventDefault(); searchTraces().catch((e) => showError(String(e))); });
    window.addEventListener("hashchange", route);
    route();
    connect();
  });
})();
