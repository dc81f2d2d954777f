"""The app factory: :func:`create_server` turns a :class:`ServeConfig` into a running server.

No globals: tests start as many servers as they like on ephemeral ports (port 0).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from workbench.lang import ir
from workbench.serve.alerts import Alerter
from workbench.serve.config import ServeConfig
from workbench.serve.metrics import Metrics
from workbench.serve.pipeline import Pipeline
from workbench.serve.store import Store, open_store

log = logging.getLogger("otlspec.serve")

#: generated traces checked at start to load the kernels (see :meth:`Server.warm_up`)
WARM_TRACES = 24


#: Set to ``0`` to keep the collector's generations as they are after warm-up (measurements).
FREEZE_ENV = "OTLSPEC_GC_FREEZE"


def freeze_gc() -> bool:
    """Move every object alive after the warm-up (modules, kernels, the spec and its cached
    plan, the receivers) to the collector's permanent generation, so that the cyclic
    collections triggered while batches are checked no longer traverse them.

    Garbage is collected first, so nothing dead is frozen. Returns whether it froze (not
    when :data:`FREEZE_ENV` is ``0``).
    """
    import gc

    if os.environ.get(FREEZE_ENV, "1") == "0":
        return False
    gc.collect()
    gc.freeze()
    return True


class Server:
    """Receivers, pipeline, store and API of one ``otlspec serve``.

    Use as a context manager or call :meth:`start` and :meth:`stop`. After :meth:`start`,
    ``grpc_port``, ``http_port`` and ``api_port`` hold the bound ports (None when off).
    """

    def __init__(self, config: ServeConfig, spec: ir.Spec, store: Store | None = None) -> None:
        self.config = config
        self.spec = spec
        self.store = store if store is not None else open_store(config.store)
        self._own_store = store is None
        self.metrics = Metrics()
        self.alerter = Alerter(config, self.metrics) if config.alerts else None
        self.pipeline = Pipeline(config, spec, self.store, self.metrics,
                                 on_verdicts=self.alerter.notify if self.alerter else None)
        self.grpc_port: int | None = None
        self.http_port: int | None = None
        self.api_port: int | None = None
        self._grpc: Any = None
        self._http: Any = None
        self._api: Any = None
        self.started_at = time.time()
        self._stopped = threading.Event()

    def ready(self) -> bool:
        return self.pipeline.ready.is_set() and not self.pipeline.stopped

    def live(self) -> dict[str, Any]:
        m = self.metrics
        return {
            "uptime_s": round(time.time() - self.started_at, 3),
            "open_traces": self.pipeline.assembler.n_open,
            "spans_received": m.spans_received,
            "spans_rejected": m.spans_rejected,
            "traces_checked": m.traces_checked,
            "dropped": dict(m.dropped),
            "refused": dict(m.refused),
            "deep_path_p50_s": m.deep.quantile(0.5),
            "deep_path_p99_s": m.deep.quantile(0.99),
            "fast_path_p50_s": m.fast.quantile(0.5),
            "fast_path_p99_s": m.fast.quantile(0.99),
        }

    def health(self) -> dict[str, Any]:
        """:meth:`live` and the gauges (queue depths), for the UI's receiver panel."""
        gauges = dict(self.metrics.gauges)
        return self.live() | {name.removeprefix("otlspec_"): read()
                              for name, read in sorted(gauges.items())}

    def warm_up(self) -> None:
        """Load every kernel the checker will run, so that no trace waits for one.

        A few generated traces with injected faults are checked the way the checker checks
        a batch (the wire walker, then the engine with :attr:`Pipeline.backend`): every
        verdict kernel is loaded for the table's column types, and the witness kernels of the
        properties the faults break. Without it the first batches pay a kernel load per
        property (tens of ms each) on their deep path.
        """
        from workbench.datasets.faults import inject, parse_faults
        from workbench.datasets.generator import generate
        from workbench.datasets.writer import otlp_proto as write_otlp
        from workbench.engine import check
        from workbench.traces import otlp_proto
        from workbench.traces.builder import TableBuilder

        ds = generate(traces=WARM_TRACES, seed=1, services=4)
        inject(ds, parse_faults("all", WARM_TRACES, rate=0.5), seed=1)
        from workbench.serve.wire import split_wire

        data = write_otlp(ds, ds.traces)
        split_wire(data)  # the receivers' splitter (compiled, or loaded from numba's cache)
        b = TableBuilder()
        otlp_proto.load(data, "warm-up", b, fast=True)
        check(self.spec, b.build(), self.config.params or None, backend=self.pipeline.backend)

    def start(self, *, warm: bool = True) -> Server:
        from workbench.serve.receivers import start_grpc, start_http

        c = self.config
        from workbench.ui.server import TOKEN_ENV, check_bind

        token = c.token or os.environ.get(TOKEN_ENV) or None
        check_bind(c.host, token, "otlspec serve")  # before anything listens
        if warm:
            self.warm_up()
        self.pipeline.start()
        if c.grpc_port is not None:
            self._grpc, self.grpc_port = start_grpc(self.pipeline, c.host, c.grpc_port,
                                                    c.max_body_bytes, c.grpc_workers, token)
        if c.http_port is not None:
            self._http, self.http_port = start_http(self.pipeline, c.host, c.http_port,
                                                    c.max_body_bytes, token)
        if c.api_port is not None:  # the explorer, with the JSON API on the same port
            from workbench.ui.server import UiConfig, start_ui
            from workbench.ui.sources import StoreSource

            self._api = start_ui(
                UiConfig(host=c.host, port=c.api_port, token=token),
                StoreSource(self.store, self.spec, self.health),
                api={"store": self.store, "metrics": self.metrics, "ready": self.ready,
                     "live": self.live})
            self.api_port = self._api.port
        if warm:
            freeze_gc()
        self.pipeline.ready.set()
        return self

    def flush(self, timeout: float = 60.0) -> bool:
        """Complete every open trace and wait until its verdicts are stored."""
        return self.pipeline.flush(timeout)

    def stop(self, grace: float = 5.0) -> None:
        """Stop receiving, drain the pipeline (see :meth:`Pipeline.stop`), close the store."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.pipeline.ready.clear()
        if self._grpc is not None:
            self._grpc.stop(grace).wait(grace + 1)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        self.pipeline.stop()
        if self.alerter is not None:
            self.alerter.close()
        if self._api is not None:
            self._api.stop()
        if self._own_store:
            self.store.close()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_server(config: ServeConfig, spec: ir.Spec | None = None,
                  store: Store | None = None) -> Server:
    """A server for ``config`` (not started). ``spec`` defaults to loading ``config.specs``."""
    if spec is None:
        from workbench.lang import load_specs

        spec = load_specs(list(config.specs))
    return Server(config, spec, store)
