"""Alerts for violations at or above a severity: structured log lines and webhook POSTs.

Each (property, trace) alerts once (a revision that still fails does not alert again), and at
most ``alert_rate_per_s`` alerts go out per second (a token bucket); alerts over the rate are
counted as ``rate_limited`` and logged in one summary line, never silently lost. Webhooks are
posted from a background thread so checking never waits on a slow receiver.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.request
from collections import OrderedDict
from typing import Any

from workbench.serve.config import ServeConfig
from workbench.serve.metrics import Metrics
from workbench.serve.store import TraceRecord

log = logging.getLogger("otlspec.alerts")

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
#: (property, trace) pairs remembered for de-duplication
DEDUP_KEEP = 100_000


class Alerter:
    """Turns stored verdicts into alerts on the configured sinks (``log``, ``http(s)://...``)."""

    def __init__(self, config: ServeConfig, metrics: Metrics) -> None:
        self.metrics = metrics
        self.threshold = SEVERITY_RANK.get(config.alert_severity, 2)
        self.log_sink = "log" in config.alerts
        self.webhooks = [a for a in config.alerts if a.startswith(("http://", "https://"))]
        self.rate = config.alert_rate_per_s
        self.tokens = self.rate
        self.last = time.monotonic()
        self.seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.outbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._poster: threading.Thread | None = None
        if self.webhooks:
            self._poster = threading.Thread(target=self._post_loop, name="otlspec-alerts",
                                            daemon=True)
            self._poster.start()

    def _allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def notify(self, records: list[TraceRecord]) -> None:
        """Called by the checker with every batch of stored traces."""
        limited = 0
        for rec in records:
            for v in rec.verdicts:
                if v.holds or SEVERITY_RANK.get(v.severity, 2) < self.threshold:
                    continue
                key = (v.property, rec.trace_id)
                if key in self.seen:
                    self.metrics.inc(self.metrics.alerts, "deduplicated")
                    continue
                self.seen[key] = None
                if len(self.seen) > DEDUP_KEEP:
                    self.seen.popitem(last=False)
                if not self._allow():
                    limited += 1
                    continue
                alert = {
                    "event": "otlspec.violation", "property": v.property,
                    "severity": v.severity, "trace_id": rec.trace_id,
                    "revision": rec.revision, "message": v.message,
                    "root": rec.root_name, "services": rec.services,
                    "witnesses": v.witnesses[:3],
                }
                if self.log_sink:
                    log.warning(json.dumps(alert, default=str))
                    self.metrics.inc(self.metrics.alerts, "logged")
                if self.webhooks:
                    self.outbox.put(alert)
        if limited:
            self.metrics.inc(self.metrics.alerts, "rate_limited", limited)
            log.warning("%d alert(s) over the rate of %s/s not sent", limited, self.rate)

    def _post_loop(self) -> None:
        while True:
            alert = self.outbox.get()
            if alert is None:
                return
            body = json.dumps(alert, default=str).encode()
            for url in self.webhooks:
                req = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=5) as resp:
                        resp.read()
                    self.metrics.inc(self.metrics.alerts, "posted")
                except OSError as exc:
                    self.metrics.inc(self.metrics.alerts, "post_failed")
                    log.warning("alert webhook %s failed: %s", url, exc)

    def close(self, timeout: float = 5.0) -> None:
        if self._poster is not None:
            self.outbox.put(None)
            self._poster.join(timeout)
