"""The report history of batch runs: ``otlspec check --store`` records a run in the results
store, where the explorer's Reports page lists it beside the stream windows.

The run is recorded from the same JSON report (schema v2) that ``--format json`` writes: its
head (tool, spec, params, input, summary) and each property's failing traces with their
witnesses and messages (passing traces are counted, as in the report).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.errors import Diagnostic, OtlspecError


class HistoryError(OtlspecError):
    """The results store given to ``otlspec check --store`` cannot be opened."""


def open_history(where: str) -> Any:
    """The results store at ``where`` (a SQLite path or a ``postgresql://`` URL), migrated.

    Raises
    ------
    HistoryError
        It cannot be opened (the message says why).
    """
    from workbench.serve.store import StoreError, open_store

    try:
        return open_store(where)
    except StoreError as err:
        raise HistoryError(f"otlspec check --store: {err}") from None


def _input_paths(trace_args: Sequence[str]) -> list[str]:
    """The trace inputs, files made absolute so that a later export can reread them."""
    return [str(Path(a).resolve()) if a != "-" and Path(a).exists() else a for a in trace_args]


def record_run(
    store: Any,
    result: Any,
    *,
    spec_args: Sequence[str],
    trace_args: Sequence[str],
    diagnostics: Sequence[Diagnostic] = (),
    fail_on: str = "error",
    backend: str = "auto",
    started_at: float,
    finished_at: float,
) -> str:
    """Record a batch check run in ``store``; returns its run id.

    Parameters
    ----------
    store
        An open :class:`~workbench.serve.store.Store`.
    result
        The :class:`~workbench.engine.base.CheckResult` of the run.
    spec_args, trace_args
        The specs and trace inputs as given on the command line.
    diagnostics
        Problems met while reading the traces.
    fail_on
        The run's ``--fail-on``.
    backend
        The backend asked for (each property's own is in the report).
    started_at, finished_at
        Unix seconds.
    """
    from workbench.report import build_report

    report = build_report(result, spec_files=list(spec_args),
                          trace_inputs=_input_paths(trace_args), diagnostics=diagnostics,
                          fail_on=fail_on, verdicts="failed")
    run_id = str(store.save_run(report, started_at=started_at, finished_at=finished_at,
                                backend=backend))
    print(f"recorded batch run {run_id} in the results store", file=sys.stderr)
    return run_id


class RunRecorder:
    """``otlspec check --store``: the store, opened before the check, and the start time.

    Parameters
    ----------
    where
        A SQLite path or a ``postgresql://`` URL.
    spec_args, trace_args, fail_on, backend
        The run's command-line arguments (see :func:`record_run`).

    Raises
    ------
    HistoryError
        The store cannot be opened.
    """

    def __init__(self, where: str, spec_args: Sequence[str], trace_args: Sequence[str],
                 fail_on: str = "error", backend: str = "auto") -> None:
        self.store = open_history(where)
        self.spec_args, self.trace_args = list(spec_args), list(trace_args)
        self.fail_on, self.backend = fail_on, backend
        self.started = time.time()

    def record(self, result: Any, diagnostics: Sequence[Diagnostic] = ()) -> str:
        """Record the finished run and close the store; returns the run id."""
        try:
            return record_run(self.store, result, spec_args=self.spec_args,
                              trace_args=self.trace_args, diagnostics=diagnostics,
                              fail_on=self.fail_on, backend=self.backend,
                              started_at=self.started, finished_at=time.time())
        finally:
            self.store.close()
