"""``otlspec ui`` as a process: it serves the explorer, and refuses an exposed bind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

from workbench.cli import main


def test_ui_serves_a_batch_run_until_sigterm(checked_run) -> None:  # type: ignore[no-untyped-def]
    cmd = [sys.executable, "-m", "workbench.cli", "ui", str(checked_run["results"]),
           str(checked_run["trace_file"]), "--port", "0"]
    env = {k: v for k, v in os.environ.items() if k != "OTLSPEC_TOKEN"}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"serving (http://127\.0\.0\.1:\d+/)", line)
        assert found, line
        with urllib.request.urlopen(found.group(1) + "api/ui/stats", timeout=10) as r:
            assert json.load(r)["failing_traces"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def test_ui_refuses_an_exposed_bind_without_token(checked_run, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OTLSPEC_TOKEN", raising=False)
    assert main(["ui", str(checked_run["results"]), "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "needs a token (--token TOKEN or $OTLSPEC_TOKEN)" in capsys.readouterr().err


def test_ui_needs_a_run_or_a_store(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["ui"]) == 2
    assert "give RESULTS.json [TRACES...] or --store PATH" in capsys.readouterr().err
