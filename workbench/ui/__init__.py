"""The browser face of otlspec: the static HTML report and the live explorer.

- :func:`render_report` turns a JSON report (and optionally the checked traces) into one
  self-contained HTML page; :func:`html_to_pdf` prints it with headless Chromium.
- :func:`start_ui` serves the explorer (dashboard, trace explorer, specs, reports) over a
  results store or a batch run, with live updates by server-sent events.
"""

from __future__ import annotations

from workbench.ui.render import ReportError, html_to_pdf, load_report, render_report
from workbench.ui.server import BatchSource, StoreSource, UiConfig, UiServer, start_ui

__all__ = [
    "BatchSource",
    "ReportError",
    "StoreSource",
    "UiConfig",
    "UiServer",
    "html_to_pdf",
    "load_report",
    "render_report",
    "start_ui",
]
