"""A generator of realistic microservice traces, reproducible from a seed.

:func:`generate` simulates requests through a :class:`~workbench.datasets.topology.Topology`:
an HTTP frontend fans out to HTTP and gRPC services (sequential and parallel calls, N+1 loops),
services query databases and caches, publish Kafka messages that consumers process
asynchronously (as children of the producer span, or in a new trace that links to it), calls
time out and are retried with backoff, errors propagate to the root unless a caller falls back,
and failing spans carry ``exception`` events. Attributes follow the OpenTelemetry semantic
conventions (both the stable and the pre-1.21 names, per service; see
:mod:`workbench.datasets.semconv`), resources carry SDK, host and Kubernetes attributes, and
every host has a small clock offset (well below the stdlib's 50 ms ``skew``).

Legitimate behaviours that some stdlib properties flag by design (a callee outliving a caller
that timed out, an error handled by a retry or a fallback, a 404 seen by a client) are recorded
as ``behaviour`` annotations, so that an evaluation can explain the resulting false positives.

Everything random comes from one ``random.Random(seed)``: the same configuration and seed give
the same dataset, and :mod:`workbench.datasets.writer` writes it byte for byte identically.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from workbench.datasets import semconv as sc
from workbench.datasets.model import (
    CLIENT,
    CONSUMER,
    ERROR,
    INTERNAL,
    PRODUCER,
    SERVER,
    Annotation,
    Dataset,
    GenSpan,
    GenTrace,
)
from workbench.datasets.topology import LANGUAGES, Call, Operation, Service, Topology

MS = 1_000_000
#: 2025-01-15T10:00:00Z, the default start of generated time.
DEFAULT_EPOCH_NS = 1_736_935_200_000_000_000


@dataclass
class GenConfig:
    """What to generate. Every field has a realistic default.

    Attributes
    ----------
    traces:
        Number of traces (request traces, and the traces that consumers of linked messages
        start).
    seed:
        Seed of the one random generator used for everything.
    services, depth, messaging:
        Topology shape (see :meth:`Topology.random`).
    epoch_ns:
        Start time of the first trace; later traces arrive at ``rate`` per second.
    rate:
        Mean request arrivals per second (Poisson).
    error_scale:
        Multiplies every operation's error rate (0 gives error-free traces).
    slow_probability:
        Probability that an operation stalls (a lock, a GC pause: about a second), which
        makes callers with shorter timeouts give up.
    not_found_probability:
        Probability that a GET by id answers 404 (a CLIENT error the caller handles).
    """

    traces: int = 100
    seed: int = 0
    services: int = 10
    depth: int = 4
    messaging: bool = True
    epoch_ns: int = DEFAULT_EPOCH_NS
    rate: float = 20.0
    error_scale: float = 1.0
    slow_probability: float = 0.002
    not_found_probability: float = 0.01

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def generate(config: GenConfig | None = None, **overrides: Any) -> Dataset:
    """Generate a dataset of clean traces (no faults; see :func:`workbench.datasets.inject`).

    Parameters
    ----------
    config
        The configuration; keyword ``overrides`` replace its fields
        (``generate(traces=1000, seed=7)``).

    Returns
    -------
    Dataset
        Traces, resources, scopes and ``behaviour`` annotations.
    """
    cfg = GenConfig(**{**(asdict(config) if config else {}), **overrides})
    return _Generator(cfg).run()


class _Ctx:
    """Per-trace state: the trace, traces started by linked consumers, annotations."""

    __slots__ = ("extra", "in_consumer", "trace")

    def __init__(self, trace: GenTrace) -> None:
        self.trace = trace
        self.extra: list[GenTrace] = []
        self.in_consumer = False


class _Generator:
    def __init__(self, cfg: GenConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.topo = Topology.random(self.rng, cfg.services, cfg.depth, cfg.messaging)
        self.resources: list[list[tuple[str, Any]]] = []
        self.scopes: list[tuple[str, str]] = []
        self._scope_index: dict[tuple[str, str], int] = {}
        self.instances: dict[str, list[tuple[int, int]]] = {}  # service -> (resource, offset)
        self.annotations: list[Annotation] = []
        for svc in self.topo.services.values():
            self.instances[svc.name] = [self._instance(svc) for _ in range(svc.instances)]
        self.entries = [op for op in self.topo.services[self.topo.entry].operations]

    # ------------------------------------------------------------------ setup
    def _instance(self, svc: Service) -> tuple[int, int]:
        rng = self.rng
        lang = LANGUAGES[svc.language]
        pod = f"{svc.name}-{rng.getrandbits(32):08x}"[: len(svc.name) + 9]
        pod += "-" + "".join(rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        attrs: list[tuple[str, Any]] = [
            ("service.name", svc.name),
            ("service.namespace", "shop"),
            ("service.version", svc.version),
            ("service.instance.id", sc.uuid(rng)),
            ("deployment.environment.name", "production"),
            ("telemetry.sdk.name", "opentelemetry"),
            ("telemetry.sdk.language", "nodejs" if svc.language == "node" else svc.language),
            ("telemetry.sdk.version", str(lang["sdk"])),
            ("process.runtime.name", str(lang["runtime"])),
            ("process.runtime.version", str(lang["runtime_version"])),
            ("process.pid", rng.randint(1, 64)),
            ("host.name", pod),
            ("k8s.namespace.name", "shop"),
            ("k8s.pod.name", pod),
        ]
        self.resources.append(attrs)
        offset = round(rng.uniform(-0.8, 0.8) * MS)  # NTP-synchronised hosts
        return len(self.resources) - 1, offset

    def _scope(self, svc: Service, protocol: str) -> int:
        if protocol == "app":
            key = (f"shop.{svc.name}", svc.version)
        else:
            scopes = LANGUAGES[svc.language]["scopes"]
            assert isinstance(scopes, dict)
            key = scopes[protocol]
        found = self._scope_index.get(key)
        if found is None:
            found = self._scope_index[key] = len(self.scopes)
            self.scopes.append(key)
        return found

    # ------------------------------------------------------------------ driver
    def run(self) -> Dataset:
        traces: list[GenTrace] = []
        t = self.cfg.epoch_ns
        weights = [op.weight for op in self.entries]
        while len(traces) < self.cfg.traces:
            t += round(self.rng.expovariate(self.cfg.rate) * 1e9)
            op = self.rng.choices(self.entries, weights)[0]
            trace = GenTrace(self._trace_id())
            ctx = _Ctx(trace)
            self._serve(op, None, t, ctx, 0)
            traces.append(trace)
            traces.extend(ctx.extra)
        # traces started by linked consumers count too; a cut one leaves a dangling link
        del traces[self.cfg.traces:]
        return Dataset(traces, self.resources, self.scopes, self.annotations,
                       config=self.cfg.to_json(), topology=self.topo.describe())

    def _trace_id(self) -> str:
        return f"{self.rng.getrandbits(128) or 1:032x}"

    def _span_id(self) -> str:
        return f"{self.rng.getrandbits(64) or 1:016x}"

    def _note(self, behaviour: str, trace: GenTrace, primary: list[GenSpan],
              detail: str = "") -> None:
        self.annotations.append(Annotation("behaviour", behaviour, "", trace, primary,
                                           detail=detail))

    def _span(self, ctx: _Ctx, svc: Service, parent: GenSpan | None, kind: int, name: str,
              start: int, scope: int, resource: list[tuple[str, Any]]) -> GenSpan:
        mode = LANGUAGES[svc.language]["flags"]
        remote = parent is not None and kind in (SERVER, CONSUMER)
        flags = 0 if mode == "none" else 1 if mode == "w3c" else 0x101 | (0x200 if remote else 0)
        scope_name, scope_version = self.scopes[scope]
        span = GenSpan(ctx.trace.trace_id, self._span_id(),
                       parent.span_id if parent is not None else "", name, kind, start=start,
                       resource=resource, scope=scope_name, scope_version=scope_version,
                       service=svc.name, flags=flags)
        ctx.trace.spans.append(span)
        return span

    def _latency(self, median_ms: float, sigma: float = 0.5) -> int:
        return max(20_000, round(self.rng.lognormvariate(0.0, sigma) * median_ms * MS))

    # ------------------------------------------------------------------ servers
    def _serve(self, op: Operation, parent: GenSpan | None, start: int, ctx: _Ctx,
               depth: int, links: list[tuple[str, str, dict[str, Any]]] | None = None,
               ) -> tuple[int, bool, GenSpan]:
        """Run ``op`` from ``start``; returns (end, failed, its entry span)."""
        rng, svc = self.rng, self.topo.services[op.service]
        index, offset = rng.choice(self.instances[svc.name])
        resource = self.resources[index]
        start += offset
        if op.consumer:
            name, attrs = sc.messaging(svc.semconv == "new", op.name, "process", sc.uuid(rng),
                                       sc.uuid(rng)[:8], f"{svc.name}-group")
            span = self._span(ctx, svc, parent, CONSUMER, name, start,
                              self._scope(svc, "messaging"), resource)
            span.links = links or []
        elif svc.protocol == "grpc":
            span = self._span(ctx, svc, parent, SERVER, f"{svc.package}/{op.name}", start,
                              self._scope(svc, "grpc"), resource)
            attrs = sc.grpc(svc.semconv == "new", svc.package, op.name, svc.name, svc.port,
                            sc.GRPC_OK, True)
        else:
            path = sc.http_path(op.name, rng)
            span = self._span(ctx, svc, parent, SERVER, f"{op.method} {op.name}", start,
                              self._scope(svc, "http"), resource)
            attrs = sc.http_server(svc.semconv == "new", op.method, op.name, path, svc.name,
                                   svc.port, 200, sc.ip(rng), sc.user_agent(rng))
            if svc.name == "frontend" and rng.random() < 0.3:
                span.events.append(("feature_flag.evaluation", start + 50_000, {
                    "feature_flag.key": rng.choice(("recommendationCache", "adHighCpu",
                                                    "paymentUnreachable")),
                    "feature_flag.provider.name": "flagd",
                    "feature_flag.result.variant": "off"}))
        span.attributes = attrs
        slow = rng.random() < self.cfg.slow_probability
        self_time = self._latency(op.latency_ms)
        if slow:
            self_time += round(rng.lognormvariate(0.0, 0.6) * 900 * MS)
        t = start + self_time // 3
        container = span
        handler: GenSpan | None = None
        if LANGUAGES[svc.language]["handler_span"] and not op.consumer:
            t += 30_000
            handler = self._span(ctx, svc, span, INTERNAL, f"handle {op.name}", t,
                                 self._scope(svc, "app"), resource)
            container = handler
        failed, cause = False, ""
        was_consumer = ctx.in_consumer
        ctx.in_consumer = was_consumer or op.consumer
        for step in op.steps:
            if failed:
                break
            ends = []
            for call in step.calls:
                c_start = t + rng.randint(5_000, 60_000)
                c_end, c_failed = self._call(call, svc, container, c_start, ctx, depth)
                if c_failed and not call.fallback:
                    failed, cause = True, "upstream"
                ends.append(c_end)
                if not step.parallel:
                    t = c_end
            if step.parallel and ends:
                t = max(ends)
        ctx.in_consumer = was_consumer
        if not failed and rng.random() < op.error_rate * self.cfg.error_scale:
            failed, cause = True, "own"
        not_found = (not failed and op.takes_id and op.method == "GET" and not op.consumer
                     and svc.protocol == "http"
                     and rng.random() < self.cfg.not_found_probability)
        end = t + self_time - self_time // 3
        if handler is not None:
            handler.end = end - min(20_000, (end - t) // 2)
        span.end = end + 10_000
        if failed:
            self._fail(span, svc, cause, end)
        elif not_found:
            key = "http.response.status_code" if svc.semconv == "new" else "http.status_code"
            span.attributes[key] = 404
        return span.end, failed, span

    def _fail(self, span: GenSpan, svc: Service, cause: str, at: int) -> None:
        span.status = ERROR
        lang = svc.language
        exc = sc.exception(lang, self.rng)
        if cause == "upstream":
            exc["exception.message"] = "upstream call failed"
        span.events.append(("exception", at - 5_000, exc))
        if "rpc.system" in span.attributes:
            span.attributes["rpc.grpc.status_code"] = sc.GRPC_INTERNAL
            span.status_message = exc["exception.message"]
        elif span.kind == SERVER:
            key = ("http.response.status_code" if "http.response.status_code" in span.attributes
                   else "http.status_code")
            span.attributes[key] = 500 if cause == "own" else 502
            if "http.response.status_code" in span.attributes:
                span.attributes["error.type"] = str(span.attributes[key])
        else:
            span.status_message = exc["exception.message"]

    # ------------------------------------------------------------------ calls
    def _call(self, call: Call, svc: Service, parent: GenSpan, start: int, ctx: _Ctx,
              depth: int) -> tuple[int, bool]:
        """Run one call (its repetitions one after another); returns (end, failed)."""
        rng = self.rng
        if rng.random() > call.probability:
            return start, False
        n = rng.randint(*call.repeat)
        t, failed = start, False
        for _ in range(n):
            if call.type == "rpc":
                if depth >= 12 or call.target is None:
                    break
                end, f = self._rpc(call, svc, parent, t, ctx, depth)
            elif call.type in ("db", "cache"):
                end, f = self._query(call, svc, parent, t, ctx)
            elif call.type == "produce":
                if ctx.in_consumer or call.target is None:
                    break
                end, f = self._produce(call, svc, parent, t, ctx, depth)
            else:
                span = self._span(ctx, svc, parent, INTERNAL, call.name, t,
                                  self._scope(svc, "app"), parent.resource)
                end = span.end = t + self._latency(0.2)
                f = False
            failed = failed or f
            t = end + rng.randint(5_000, 40_000)
            if f and not call.fallback:
                break
        return t, failed

    def _rpc(self, call: Call, svc: Service, parent: GenSpan, start: int, ctx: _Ctx,
             depth: int) -> tuple[int, bool]:
        rng = self.rng
        assert call.target is not None
        callee = self.topo.services[call.target[0]]
        op = self.topo.op(call.target)
        grpc = callee.protocol == "grpc"
        t = start
        attempts: list[GenSpan] = []
        for attempt in range(call.max_attempts):
            if grpc:
                name = f"{callee.package}/{op.name}"
            else:
                name = op.method if svc.semconv == "new" else f"HTTP {op.method}"
            client = self._span(ctx, svc, parent, CLIENT, name, t,
                                self._scope(svc, "grpc" if grpc else "http"), parent.resource)
            attempts.append(client)
            net = rng.randint(150_000, 1_500_000)
            s_end, s_failed, server = self._serve(op, client, t + net, ctx, depth + 1)
            end = s_end + rng.randint(100_000, 1_000_000)
            timeout = round(call.timeout_ms * MS)
            timed_out = end - t > timeout
            status_code: Any = server.attributes.get("http.response.status_code",
                                                server.attributes.get("http.status_code", 200))
            if timed_out:
                client.end = t + timeout
                self._note("timeout", ctx.trace, [client], f"{name} gave up after "
                           f"{call.timeout_ms:g} ms")
                self._note("outlives_caller", ctx.trace, ctx.trace.subtree(server),
                           "the callee kept working after its caller timed out")
            else:
                client.end = end
            failed = timed_out or s_failed or status_code == 404
            if grpc:
                code = (sc.GRPC_DEADLINE_EXCEEDED if timed_out else
                        sc.GRPC_UNAVAILABLE if s_failed else sc.GRPC_OK)
                client.attributes = sc.grpc(svc.semconv == "new", callee.package, op.name,
                                            callee.name, callee.port, code, False)
                if failed:
                    client.status_message = ("context deadline exceeded" if timed_out else
                                             "upstream unavailable")
            else:
                path = server.attributes.get("url.path", server.attributes.get("http.target",
                                                                               op.name))
                client.attributes = sc.http_client(
                    svc.semconv == "new", op.method, callee.name, callee.port, str(path),
                    None if timed_out else int(status_code), attempt)
                if timed_out:
                    client.status_message = "context deadline exceeded"
            if failed:
                client.status = ERROR
            if not failed:
                for a in attempts[:-1]:
                    self._note("retried", ctx.trace, [a], "a later attempt succeeded")
                    self._handled_below(ctx, a)
                return client.end, False
            if status_code == 404 and not timed_out:
                self._note("not_found", ctx.trace, [client], "a 404 the caller handles")
                return client.end, False
            if attempt + 1 < call.max_attempts:
                t = client.end + round(rng.uniform(40.0, 150.0) * (2 ** attempt) * MS)
        if call.fallback:
            self._note("fallback", ctx.trace, [attempts[-1]], "the caller fell back")
            for a in attempts[:-1]:
                self._note("retried", ctx.trace, [a], "retried, then fell back")
            for a in attempts:
                self._handled_below(ctx, a)
        return attempts[-1].end or t, True

    def _handled_below(self, ctx: _Ctx, attempt: GenSpan) -> None:
        """Note the failed calls below ``attempt``, whose failure a caller above handled."""
        failed = [s for s in ctx.trace.subtree(attempt)[1:]
                  if s.kind == CLIENT and s.status == ERROR]
        if failed:
            self._note("handled_above", ctx.trace, failed,
                       "the failure propagated up to a caller that handled it")

    def _query(self, call: Call, svc: Service, parent: GenSpan, start: int,
               ctx: _Ctx) -> tuple[int, bool]:
        rng = self.rng
        new = svc.semconv == "new"
        if call.type == "cache":
            name, attrs = sc.cache(new, svc.name, call.db_operation,
                                   f"{svc.noun}:{sc.uuid(rng)}")
            scope, median = self._scope(svc, "cache"), 0.25
        else:
            assert svc.db is not None
            name, attrs = sc.db(new, svc.db[0], svc.db[1], svc.name, call.db_operation,
                                call.db_table)
            scope, median = self._scope(svc, "db"), 1.2
        span = self._span(ctx, svc, parent, CLIENT, name, start, scope, parent.resource)
        span.attributes = attrs
        slow = rng.random() < self.cfg.slow_probability
        span.end = start + self._latency(median, 0.7) * (rng.randint(10, 40) if slow else 1)
        if rng.random() < 0.004 * self.cfg.error_scale:
            span.status = ERROR
            exc = sc.exception(svc.language, rng)
            span.status_message = exc["exception.message"]
            span.events.append(("exception", span.end - 2_000, exc))
            return span.end, True
        return span.end, False

    def _produce(self, call: Call, svc: Service, parent: GenSpan, start: int, ctx: _Ctx,
                 depth: int) -> tuple[int, bool]:
        rng = self.rng
        assert call.target is not None
        op = self.topo.op(call.target)
        name, attrs = sc.messaging(svc.semconv == "new", op.name, "send", sc.uuid(rng),
                                   sc.uuid(rng)[:8], None)
        producer = self._span(ctx, svc, parent, PRODUCER, name, start,
                              self._scope(svc, "messaging"), parent.resource)
        producer.attributes = attrs
        producer.end = start + self._latency(0.8)
        delay = round(rng.lognormvariate(0.0, 1.0) * 40 * MS)
        was = ctx.in_consumer
        ctx.in_consumer = True
        if call.messaging_mode == "child":
            _, _, consumer = self._serve(op, producer, start + delay, ctx, depth + 1)
            failed = [s for s in ctx.trace.subtree(consumer)
                      if s.kind == CLIENT and s.status == ERROR]
            if failed:
                self._note("async_failure", ctx.trace, failed,
                           "a consumer's failure, which the request's root cannot reflect")
        else:
            trace = GenTrace(self._trace_id())
            sub = _Ctx(trace)
            sub.in_consumer = True
            self._serve(op, None, start + delay, sub, depth + 1,
                        links=[(producer.trace_id, producer.span_id, {})])
            ctx.extra.append(trace)
            ctx.extra.extend(sub.extra)
        ctx.in_consumer = was
        return producer.end, False
