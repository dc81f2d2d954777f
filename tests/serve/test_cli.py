"""``otlspec serve`` as a user runs it: start, export with the SDK, SIGTERM drains,
``otlspec results`` shows the violations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from tests.serve.conftest import LOOPBACK, _free_port, span_request
from workbench.serve.replay import send_http


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("otlspec serve did not become ready")


def test_serve_sigterm_drains_then_results(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "results.db"
    grpc_port, http_port, ui_port = _free_port(), _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--spec", "stdlib",
         "--grpc-port", str(grpc_port), "--http-port", str(http_port),
         "--ui-port", str(ui_port), "--store", str(db), "--idle", "30"],
        stderr=subprocess.PIPE)
    try:
        _wait_ready(ui_port, proc)
        trace, root = os.urandom(16), os.urandom(8)
        spans = [dict(trace_id=trace, span_id=root, name="GET /", kind=2,
                      start_time_unix_nano=10, end_time_unix_nano=100),
                 dict(trace_id=trace, span_id=os.urandom(8), parent_span_id=root, name="",
                      start_time_unix_nano=20, end_time_unix_nano=30)]
        assert send_http(http_port, span_request(spans))[0] == 200
        proc.send_signal(signal.SIGTERM)  # idle is 30 s: only the drain can check it now
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert b"draining" in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "results", "--store", str(db),
                          "--format", "json", "--property", "span_name_nonempty"],
                         capture_output=True, timeout=120)
    assert out.returncode == 1  # a violation is listed
    doc = json.loads(out.stdout)
    assert [(v["trace_id"], v["holds"]) for v in doc["verdicts"]] == [(trace.hex(), False)]
    text = subprocess.run([sys.executable, "-m", "workbench.cli", "results", "--store", str(db)],
                          capture_output=True, timeout=120)
    assert b"FAIL" in text.stdout and b"span_name_nonempty" in text.stdout
