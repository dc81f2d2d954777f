"""Service topologies for the trace generator: services, their endpoints and who calls whom.

A :class:`Topology` is a layered call graph of microservices, shaped like the OpenTelemetry
demo and the HotROD traces in ``datasets/real``: an HTTP frontend at layer 0, HTTP and gRPC
services below it, databases and caches that are not instrumented themselves (only their client
spans exist), and a message broker whose consumers run asynchronously. Every random choice comes
from the ``random.Random`` passed in, so a seed fixes the topology.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

CallType = Literal["rpc", "db", "cache", "produce", "internal"]

#: Per-language SDK facts: SDK version, how the exporter fills OTLP ``flags``
#: (``"remote"``: W3C flags plus the HAS_IS_REMOTE/IS_REMOTE bits, as the Go, Java and .NET
#: SDKs do; ``"w3c"``: the trace flags only; ``"none"``: 0, as older exporters write),
#: whether a framework handler opens an INTERNAL span under the SERVER span, and the
#: instrumentation scopes per protocol.
LANGUAGES: dict[str, dict[str, object]] = {
    "go": {
        "sdk": "1.32.0", "runtime": "go", "runtime_version": "go1.23.4", "flags": "remote",
        "handler_span": False,
        "scopes": {
            "http": ("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.57.0"),
            "grpc": ("go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc",
                     "0.57.0"),
            "db": ("github.com/XSAM/otelsql", "0.35.0"),
            "cache": ("github.com/redis/go-redis/extra/redisotel", "9.7.0"),
            "messaging": ("github.com/IBM/sarama/otelsarama", "0.31.0"),
        },
    },
    "java": {
        "sdk": "1.44.1", "runtime": "java", "runtime_version": "21.0.5+11-LTS", "flags": "remote",
        "handler_span": True,
        "scopes": {
            "http": ("io.opentelemetry.spring-webmvc-6.0", "2.10.0-alpha"),
            "grpc": ("io.opentelemetry.grpc-1.6", "2.10.0-alpha"),
            "db": ("io.opentelemetry.jdbc", "2.10.0-alpha"),
            "cache": ("io.opentelemetry.lettuce-5.1", "2.10.0-alpha"),
            "messaging": ("io.opentelemetry.kafka-clients-2.6", "2.10.0-alpha"),
        },
    },
    "python": {
        "sdk": "1.28.2", "runtime": "cpython", "runtime_version": "3.12.8", "flags": "none",
        "handler_span": False,
        "scopes": {
            "http": ("opentelemetry.instrumentation.flask", "0.49b2"),
            "grpc": ("opentelemetry.instrumentation.grpc", "0.49b2"),
            "db": ("opentelemetry.instrumentation.psycopg2", "0.49b2"),
            "cache": ("opentelemetry.instrumentation.redis", "0.49b2"),
            "messaging": ("opentelemetry.instrumentation.kafka", "0.49b2"),
        },
    },
    "node": {
        "sdk": "1.29.0", "runtime": "nodejs", "runtime_version": "22.12.0", "flags": "w3c",
        "handler_span": True,
        "scopes": {
            "http": ("@opentelemetry/instrumentation-http", "0.56.0"),
            "grpc": ("@opentelemetry/instrumentation-grpc", "0.56.0"),
            "db": ("@opentelemetry/instrumentation-pg", "0.49.0"),
            "cache": ("@opentelemetry/instrumentation-ioredis", "0.46.0"),
            "messaging": ("@opentelemetry/instrumentation-kafkajs", "0.6.0"),
        },
    },
    "dotnet": {
        "sdk": "1.10.0", "runtime": "dotnet", "runtime_version": "8.0.11", "flags": "remote",
        "handler_span": False,
        "scopes": {
            "http": ("Microsoft.AspNetCore", "8.0.11"),
            "grpc": ("Grpc.AspNetCore.Server", "2.67.0"),
            "db": ("OpenTelemetry.Instrumentation.SqlClient", "1.10.0-beta.1"),
            "cache": ("OpenTelemetry.Instrumentation.StackExchangeRedis", "1.10.0-beta.1"),
            "messaging": ("Confluent.Kafka.Extensions.OpenTelemetry", "0.4.0"),
        },
    },
}

#: Service names by layer preference, with the resource nouns their endpoints serve.
_SERVICE_POOL: tuple[tuple[str, str], ...] = (
    ("checkout", "orders"),
    ("cart", "carts"),
    ("product-catalog", "products"),
    ("recommendation", "recommendations"),
    ("ad", "ads"),
    ("user", "users"),
    ("payment", "payments"),
    ("shipping", "shipments"),
    ("currency", "rates"),
    ("inventory", "stock"),
    ("pricing", "prices"),
    ("search", "results"),
    ("review", "reviews"),
    ("auth", "sessions"),
    ("quote", "quotes"),
    ("fraud-detection", "checks"),
)
_CONSUMERS: tuple[str, ...] = ("accounting", "email", "notification", "analytics")
_DBS: tuple[tuple[str, int], ...] = (("postgresql", 5432), ("mysql", 3306), ("mongodb", 27017))
_VERBS: tuple[tuple[str, str, bool], ...] = (
    # (HTTP method, gRPC verb, takes an id)
    ("GET", "Get", True),
    ("GET", "List", False),
    ("POST", "Create", False),
    ("PUT", "Update", True),
    ("DELETE", "Delete", True),
    ("POST", "Search", False),
)
_INTERNAL_WORK: tuple[str, ...] = (
    "validate request", "render response", "compute totals", "serialize", "authorize",
    "load config", "apply discounts", "build query",
)


@dataclass
class Call:
    """One downstream action of an operation (a call, a query, a message, local work)."""

    type: CallType
    target: tuple[str, int] | None = None  # (service, operation index) for rpc / produce
    probability: float = 1.0
    repeat: tuple[int, int] = (1, 1)  # loop count range (fan-out, N+1 queries)
    timeout_ms: float = 2_000.0
    max_attempts: int = 1
    fallback: bool = False  # a failure is handled by the caller (not propagated)
    db_operation: str = ""
    db_table: str = ""
    name: str = ""  # internal work name
    messaging_mode: Literal["child", "link"] = "child"


@dataclass
class Step:
    """Calls made one after another, or all at once when ``parallel``."""

    calls: list[Call]
    parallel: bool = False


@dataclass
class Operation:
    """An endpoint of a service: an HTTP route, a gRPC method or a message handler."""

    service: str
    name: str  # route template (HTTP), method (gRPC) or topic (consumer)
    method: str  # HTTP method ("POST" for gRPC)
    takes_id: bool
    latency_ms: float  # median self time
    error_rate: float
    steps: list[Step] = field(default_factory=list)
    consumer: bool = False
    weight: float = 1.0  # popularity as an entry point


@dataclass
class Service:
    """A deployed service: its language, protocol, conventions and endpoints."""

    name: str
    language: str
    protocol: Literal["http", "grpc", "consumer"]
    semconv: Literal["new", "old"]
    layer: int
    noun: str
    port: int
    operations: list[Operation] = field(default_factory=list)
    db: tuple[str, int] | None = None
    cache: bool = False
    instances: int = 2
    version: str = "1.0.0"

    @property
    def package(self) -> str:
        """The gRPC service name, e.g. ``shop.ProductCatalogService``."""
        camel = "".join(part.capitalize() for part in self.name.split("-"))
        return f"shop.{camel}Service"


@dataclass
class Topology:
    """Services by name, the entry service, and message topics (topic -> consumer ops)."""

    services: dict[str, Service]
    entry: str
    topics: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def op(self, ref: tuple[str, int]) -> Operation:
        return self.services[ref[0]].operations[ref[1]]

    def describe(self) -> list[dict[str, object]]:
        """A JSON-friendly summary (for manifests and notebooks)."""
        out: list[dict[str, object]] = []
        for svc in self.services.values():
            out.append({
                "service": svc.name, "language": svc.language, "protocol": svc.protocol,
                "semconv": svc.semconv, "layer": svc.layer, "db": svc.db[0] if svc.db else None,
                "cache": svc.cache, "operations": [op.name for op in svc.operations],
            })
        return out

    @staticmethod
    def random(rng: random.Random, services: int = 10, depth: int = 4,
               messaging: bool = True) -> Topology:
        """A random layered topology (see the module docstring).

        Parameters
        ----------
        rng
            The source of every random choice.
        services
            Number of instrumented services (3 to 20), the frontend and consumers included.
        depth
            Number of service layers below the frontend (1 to 6).
        messaging
            Whether some operations publish messages that a consumer service processes.

        Returns
        -------
        Topology
        """
        services = max(3, min(services, 20))
        depth = max(1, min(depth, 6))
        n_consumers = 1 if messaging and services >= 5 else 0
        n_mid = services - 1 - n_consumers
        pool = list(_SERVICE_POOL)
        rng.shuffle(pool)
        langs = sorted(LANGUAGES)
        out: dict[str, Service] = {}
        front = Service("frontend", "node", "http", "new", 0, "pages", 8080)
        out[front.name] = front
        layers: list[list[str]] = [[front.name]]
        for i in range(n_mid):
            name, noun = pool[i % len(pool)]
            if i >= len(pool):
                name = f"{name}-{i // len(pool) + 1}"
            layer = 1 + (i if i < depth else rng.randrange(depth))
            proto: Literal["http", "grpc"] = "grpc" if rng.random() < 0.55 else "http"
            svc = Service(name, rng.choice(langs), proto,
                          "new" if rng.random() < 0.7 else "old", layer, noun,
                          50051 if proto == "grpc" else 8080 + i + 1,
                          version=f"{rng.randint(1, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
                          instances=rng.randint(1, 3))
            if rng.random() < 0.6:
                svc.db = rng.choice(_DBS)
            svc.cache = rng.random() < 0.3
            out[name] = svc
            while len(layers) <= layer:
                layers.append([])
            layers[layer].append(name)
        for j in range(n_consumers):
            name = _CONSUMERS[j % len(_CONSUMERS)]
            svc = Service(name, rng.choice(langs), "consumer", "new" if rng.random() < 0.7
                          else "old", len(layers), "messages", 0, db=rng.choice(_DBS))
            out[name] = svc
        topo = Topology(out, front.name)
        for svc in out.values():
            _operations(rng, svc)
        _wire(rng, topo, layers)
        return topo


def _operations(rng: random.Random, svc: Service) -> None:
    if svc.protocol == "consumer":
        svc.operations.append(Operation(svc.name, "orders", "POST", False,
                                        rng.uniform(1.0, 8.0), rng.uniform(0.0, 0.02),
                                        consumer=True))
        return
    if svc.name == "frontend":
        routes = [("GET", "/api/products/{productId}", True), ("GET", "/api/products", False),
                  ("POST", "/api/cart", False), ("GET", "/api/cart", False),
                  ("POST", "/api/checkout", False), ("GET", "/api/recommendations", False)]
        for method, route, takes_id in routes:
            svc.operations.append(Operation(svc.name, route, method, takes_id,
                                            rng.uniform(0.3, 2.0), rng.uniform(0.0, 0.004),
                                            weight=rng.uniform(0.5, 3.0)))
        return
    n = rng.randint(1, 4)
    verbs = rng.sample(_VERBS, n)
    for method, verb, takes_id in verbs:
        if svc.protocol == "grpc":
            noun = svc.noun.capitalize()
            name = f"{verb}{noun if not takes_id else noun.rstrip('s')}"
        else:
            name = f"/api/{svc.noun}/{{id}}" if takes_id else f"/api/{svc.noun}"
            if verb == "Search":
                name = f"/api/{svc.noun}/search"
        svc.operations.append(Operation(svc.name, name, "POST" if svc.protocol == "grpc"
                                        else method, takes_id, rng.lognormvariate(0.0, 0.8),
                                        rng.uniform(0.0, 0.012)))


def _wire(rng: random.Random, topo: Topology, layers: list[list[str]]) -> None:
    """Give every operation its steps: calls to deeper layers, queries, messages, work."""
    consumers = [s for s in topo.services.values() if s.protocol == "consumer"]
    producer_done = False
    for svc in topo.services.values():
        for op in svc.operations:
            calls: list[Call] = []
            # consumers only call the leaf layer (whose operations never publish)
            below = [n for layer in layers[svc.layer + 1:] for n in layer] if not op.consumer \
                else list(layers[-1]) if len(layers) > 2 else []
            next_layer = layers[svc.layer + 1] if svc.layer + 1 < len(layers) else []
            k = rng.choice((0, 1, 1, 1, 2, 2)) if below else 0
            if svc.name == "frontend":
                k = rng.choice((1, 2, 2, 3))
            for _ in range(k):
                pool = next_layer if next_layer and rng.random() < 0.6 else below
                target = rng.choice(pool)
                callee = topo.services[target]
                ops = list(range(len(callee.operations)))
                if op.method == "GET":  # reads call reads
                    ops = [i for i in ops if callee.operations[i].method == "GET"
                           or callee.operations[i].name.startswith(("Get", "List", "Search"))
                           ] or ops
                call = Call("rpc", (target, rng.choice(ops)),
                            probability=1.0 if rng.random() < 0.7 else rng.uniform(0.3, 0.9),
                            timeout_ms=rng.choice((500.0, 1_000.0, 2_000.0, 5_000.0)),
                            max_attempts=rng.choice((1, 1, 2, 3)),
                            fallback=rng.random() < 0.2)
                if rng.random() < 0.1:
                    call.repeat = (2, rng.randint(3, 6))  # fan-out / N+1 over items
                calls.append(call)
            if svc.db is not None and (not calls or rng.random() < 0.7):
                for _ in range(rng.choice((1, 1, 2, 3))):
                    operation = rng.choice(("SELECT", "SELECT", "SELECT", "INSERT", "UPDATE"))
                    call = Call("db", db_operation=operation, db_table=rng.choice(
                        (svc.noun, f"{svc.noun}_items", "audit_log", "accounts")))
                    if rng.random() < 0.08:
                        call.repeat = (2, rng.randint(3, 8))
                    calls.append(call)
            if svc.cache and rng.random() < 0.7:
                calls.insert(0, Call("cache", db_operation=rng.choice(("GET", "HGET", "MGET"))))
            if rng.random() < 0.35:
                calls.insert(rng.randint(0, len(calls)), Call(
                    "internal", name=rng.choice(_INTERNAL_WORK)))
            if consumers and not op.consumer and svc.layer >= 1 and op.method == "POST" and (
                    not producer_done or rng.random() < 0.25):
                consumer = rng.choice(consumers)
                topic = consumer.operations[0].name
                topo.topics.setdefault(topic, [(consumer.name, 0)])
                calls.append(Call("produce", (consumer.name, 0),
                                  messaging_mode="child" if rng.random() < 0.7 else "link"))
                producer_done = True
            op.steps = _group(rng, calls)
    if consumers and not producer_done:
        # make sure messages flow: the first POST below the frontend publishes
        for svc in topo.services.values():
            if svc.layer >= 1 and svc.protocol != "consumer":
                svc.operations[0].steps.append(Step([Call("produce", (consumers[0].name, 0))]))
                topo.topics.setdefault(consumers[0].operations[0].name, [(consumers[0].name, 0)])
                break


def _group(rng: random.Random, calls: list[Call]) -> list[Step]:
    """Split calls into steps; consecutive RPCs are sometimes issued in parallel."""
    steps: list[Step] = []
    i = 0
    while i < len(calls):
        call = calls[i]
        if call.type == "rpc" and i + 1 < len(calls) and calls[i + 1].type == "rpc" \
                and rng.random() < 0.4:
            steps.append(Step([call, calls[i + 1]], parallel=True))
            i += 2
            continue
        steps.append(Step([call]))
        i += 1
    return steps
