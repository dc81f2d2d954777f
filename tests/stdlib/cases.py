"""The hand-designed test traces of the standard library, one pass and one fail case per property.

Every case starts from one realistic trace (a checkout request through three services; see
:func:`base`) and changes as little as needed: a *pass* case satisfies its property (often
exercising the edge the property allows), a *fail* case violates it, and should violate
nothing else. ``tests/stdlib/make_data.py`` writes the cases as OTLP/JSON files under
``tests/data/stdlib/<property>/``; ``tests/stdlib/test_stdlib.py`` checks the files on disk
against the expectations kept here (:data:`FAIL_EXTRAS`, :data:`PASS_EXTRAS`, the witness
span of each fail case).

The base trace (times in ms after 2024-11-05T10:00:00Z)::

    s1 frontend SERVER   POST /api/checkout      0-180
    s2 frontend INTERNAL checkout.validate_cart  5-25   (event cart.validated)
    s3 frontend CLIENT   POST                    30-150 -> payment-service
    s4 payment  SERVER   POST /api/charge        35-145
    s5 payment  CLIENT   SELECT payments.accounts 50-70  (postgresql)
    s6 frontend PRODUCER orders publish          155-165 (kafka)
    s7 shipping-service CONSUMER orders process          200-260
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

T0_NS = 1_730_800_800_000_000_000  # 2024-11-05T10:00:00Z
SERVER, CLIENT, INTERNAL, PRODUCER, CONSUMER = (
    "SERVER",
    "CLIENT",
    "INTERNAL",
    "PRODUCER",
    "CONSUMER",
)
UNSET, OK, ERROR = "UNSET", "OK", "ERROR"
SAMPLED_LOCAL = 0x101  # has-is-remote bit, parent not remote, sampled
SAMPLED_REMOTE = 0x301  # has-is-remote bit, parent remote, sampled
UNSAMPLED_LOCAL = 0x100
UNSAMPLED_REMOTE = 0x300
PG_TIMEOUT = "ERROR: canceling statement due to statement timeout (SQLSTATE 57014)"


def span_id(key: str) -> str:
    """The (stable, random-looking) span id of span ``key`` in every case file."""
    return hashlib.sha256(f"otlspec-stdlib-span/{key}".encode()).hexdigest()[:16]


def trace_id(prop: str, variant: str) -> str:
    return hashlib.sha256(f"otlspec-stdlib-trace/{prop}/{variant}".encode()).hexdigest()[:32]


@dataclass
class Span:
    key: str
    parent: str | None  # key of the parent span, None for a root
    name: str
    kind: str
    service: str | None  # None: the resource has no service.name
    start: float  # ms after T0
    end: float | None  # ms after T0; None: no end time recorded
    attrs: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (trace id, span id)
    status: str = UNSET
    status_message: str = ""
    flags: int = SAMPLED_LOCAL
    scope: str = ""
    span_id: str | None = None  # raw span id text (default: span_id(key))
    parent_raw: str | None = None  # raw parent id text (default: from parent)


@dataclass
class Trace:
    spans: list[Span]
    trace_id: str | None = None  # raw trace id (default: derived from the case name)

    def __getitem__(self, key: str) -> Span:
        for s in self.spans:
            if s.key == key:
                return s
        raise KeyError(key)

    def drop(self, key: str) -> None:
        self.spans = [s for s in self.spans if s.key != key]

    def add(self, span: Span) -> Span:
        self.spans.append(span)
        return span


RESOURCES: dict[str, dict[str, Any]] = {
    "frontend": {
        "service.version": "2.14.1",
        "service.instance.id": "frontend-7d9c6b5f4-x2lqp",
        "deployment.environment.name": "production",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "java",
        "telemetry.sdk.version": "1.44.1",
    },
    "payment-service": {
        "service.version": "0.9.3",
        "service.instance.id": "payment-5b8f9d7c6-m4kzt",
        "deployment.environment.name": "production",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "go",
        "telemetry.sdk.version": "1.32.0",
    },
    "shipping-service": {
        "service.version": "1.3.0",
        "service.instance.id": "shipping-6c7d8e9f0-p9wxr",
        "deployment.environment.name": "production",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": "1.28.2",
    },
}


def base() -> Trace:
    """The checkout trace every case starts from; it satisfies the whole stdlib."""
    return Trace(
        [
            Span(
                "s1",
                None,
                "POST /api/checkout",
                SERVER,
                "frontend",
                0,
                180,
                scope="io.opentelemetry.tomcat-10.0",
                attrs={
                    "http.request.method": "POST",
                    "url.path": "/api/checkout",
                    "url.scheme": "https",
                    "http.route": "/api/checkout",
                    "http.response.status_code": 200,
                    "server.address": "shop.example.com",
                    "client.address": "203.0.113.24",
                    "user_agent.original": (
                        "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Firefox/132.0"
                    ),
                },
            ),
            Span(
                "s2",
                "s1",
                "checkout.validate_cart",
                INTERNAL,
                "frontend",
                5,
                25,
                scope="com.example.checkout",
                attrs={"cart.items": 3, "cart.currency": "EUR"},
                events=[("cart.validated", 24.1, {"cart.total": 129.9})],
            ),
            Span(
                "s3",
                "s1",
                "POST",
                CLIENT,
                "frontend",
                30,
                150,
                scope="io.opentelemetry.java-http-client",
                attrs={
                    "http.request.method": "POST",
                    "url.full": "http://payment-service:8080/api/charge",
                    "server.address": "payment-service",
                    "server.port": 8080,
                    "http.response.status_code": 200,
                    "network.protocol.version": "1.1",
                },
            ),
            Span(
                "s4",
                "s3",
                "POST /api/charge",
                SERVER,
                "payment-service",
                35,
                145,
                scope="go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
                flags=SAMPLED_REMOTE,
                attrs={
                    "http.request.method": "POST",
                    "url.path": "/api/charge",
                    "url.scheme": "http",
                    "http.route": "/api/charge",
                    "http.response.status_code": 200,
                    "server.address": "payment-service",
                    "server.port": 8080,
                },
            ),
            Span(
                "s5",
                "s4",
                "SELECT payments.accounts",
                CLIENT,
                "payment-service",
                50,
                70,
                scope="github.com/XSAM/otelsql",
                attrs={
                    "db.system.name": "postgresql",
                    "db.namespace": "payments",
                    "db.operation.name": "SELECT",
                    "db.collection.name": "accounts",
                    "db.query.text": "SELECT balance, currency FROM accounts WHERE account_id = $1",
                    "server.address": "pg-payments.internal",
                    "server.port": 5432,
                },
            ),
            Span(
                "s6",
                "s1",
                "orders publish",
                PRODUCER,
                "frontend",
                155,
                165,
                scope="io.opentelemetry.kafka-clients-2.6",
                attrs={
                    "messaging.system": "kafka",
                    "messaging.destination.name": "orders",
                    "messaging.operation.type": "send",
                    "messaging.operation.name": "publish",
                    "messaging.kafka.message.key": "order-58213",
                    "messaging.destination.partition.id": "2",
                },
            ),
            Span(
                "s7",
                "s6",
                "orders process",
                CONSUMER,
                "shipping-service",
                200,
                260,
                scope="opentelemetry.instrumentation.kafka",
                flags=SAMPLED_REMOTE,
                attrs={
                    "messaging.system": "kafka",
                    "messaging.destination.name": "orders",
                    "messaging.operation.type": "process",
                    "messaging.operation.name": "process",
                    "messaging.consumer.group.name": "shipping-workers",
                    "messaging.kafka.offset": 80412,
                },
            ),
        ]
    )


def error_chain(t: Trace) -> Trace:
    """The database call fails; the failure propagates up to the root (500 everywhere)."""
    t["s5"].status, t["s5"].status_message = ERROR, "canceling statement due to statement timeout"
    t["s5"].events = [
        (
            "exception",
            69.8,
            {
                "exception.type": "*pgconn.PgError",
                "exception.message": PG_TIMEOUT,
            },
        )
    ]
    t["s5"].attrs["error.type"] = "57014"
    for key in ("s4", "s3", "s1"):
        t[key].status = ERROR
        t[key].attrs["http.response.status_code"] = 500
        t[key].attrs["error.type"] = "500"
    t.drop("s6")
    t.drop("s7")
    return t


# --------------------------------------------------------------------------- the cases

Mutation = Callable[[Trace], Trace | None]


@dataclass
class Case:
    fail: Mutation
    witness: str | None  # key of a span the fail witness must bind (None: no bindings)
    passing: Mutation | None = None  # None: the base trace


CASES: dict[str, Case] = {}


def case(prop: str, witness: str | None, passing: Mutation | None = None):
    def register(fail: Mutation) -> Mutation:
        CASES[prop] = Case(fail, witness, passing)
        return fail

    return register


def build(prop: str, variant: str) -> Trace:
    """The trace of case ``prop`` / ``variant`` (``"pass"`` or ``"fail"``)."""
    c = CASES[prop]
    t = base()
    mutate = c.fail if variant == "fail" else c.passing
    if mutate is not None:
        t = mutate(t) or t
    if t.trace_id is None:
        t.trace_id = trace_id(prop, variant)
    return t


# ids ------------------------------------------------------------------------------------


@case("trace_id_valid", "s1")
def _(t: Trace) -> None:
    t.trace_id = "0" * 32  # an exporter that never initialised the trace id


@case("span_id_valid", "s2")
def _(t: Trace) -> None:
    t["s2"].span_id = "0" * 16


@case("parent_id_valid", "s2")
def _(t: Trace) -> None:
    t["s2"].parent_raw = "frontend-req-1"  # an application id copied into the parent field


def _unknown_flags(t: Trace) -> None:
    t["s5"].flags = 0  # an older exporter: flags unknown, not checked


@case("sampled_flag_inherited", "s5", passing=_unknown_flags)
def _(t: Trace) -> None:
    t["s5"].flags = UNSAMPLED_LOCAL  # a local sampler overrode the parent's decision


# structure ------------------------------------------------------------------------------


@case("end_after_start", "s5")
def _(t: Trace) -> None:
    t["s5"].end = t["s5"].start - 2.5  # end read from a different clock


@case("span_ended", "s5")
def _(t: Trace) -> None:
    t["s5"].end = None


@case("span_name_nonempty", "s2")
def _(t: Trace) -> None:
    t["s2"].name = ""


@case("span_name_length", "s5")
def _(t: Trace) -> None:
    t["s5"].name = (
        "SELECT a.account_id, a.balance, a.currency, h.amount, h.created_at FROM accounts a "
        "JOIN holds h ON h.account_id = a.account_id WHERE a.account_id = $1 FOR UPDATE"
    )


@case("parent_exists", "s4")
def _(t: Trace) -> None:
    t.drop("s3")  # the frontend's HTTP client span was dropped by a full export queue


@case("has_root", None)
def _(t: Trace) -> None:
    t.drop("s1")  # the root span never left the frontend's process


@case("single_root", "s6")
def _(t: Trace) -> None:
    t["s6"].parent = None  # the producer was started without the request's context


@case("no_parent_cycle", "s2")
def _(t: Trace) -> None:
    t["s2"].parent = "s2"  # the span's own id copied into its parent id


@case("reachable_from_root", "s5")
def _(t: Trace) -> None:
    t.drop("s4")  # the payment server span was lost; its database child is orphaned


@case("unique_span_ids", "s5")
def _(t: Trace) -> None:
    t["s5"].span_id = span_id("s2")


# timing ---------------------------------------------------------------------------------


def _skew_within_limit(t: Trace) -> None:
    for key in ("s4", "s5"):  # the payment host's clock runs 30 ms behind: within skew
        t[key].start -= 30
        t[key].end = (t[key].end or 0) - 30


@case("child_starts_after_parent", "s4", passing=_skew_within_limit)
def _(t: Trace) -> None:
    for key in ("s4", "s5"):  # the payment host's clock runs 120 ms behind
        t[key].start -= 120
        t[key].end = (t[key].end or 0) - 120


@case("child_ends_within_parent", "s8")
def _(t: Trace) -> None:
    t.add(
        Span(
            "s8",
            "s1",
            "recommendations.prefetch",
            INTERNAL,
            "frontend",
            170,
            610,
            scope="com.example.recommendations",
            attrs={"recommendations.count": 12},
        )
    )


@case("event_within_span", "s2")
def _(t: Trace) -> None:
    t["s2"].events = [("cart.validated", 300, {"cart.total": 129.9})]


def _long_websocket(hours: float) -> Mutation:
    def mutate(t: Trace) -> Trace:
        ms = hours * 3_600_000
        return Trace(
            [
                Span(
                    "s1",
                    None,
                    "GET /ws/notifications",
                    SERVER,
                    "frontend",
                    0,
                    ms,
                    scope="io.opentelemetry.tomcat-10.0",
                    attrs={
                        "http.request.method": "GET",
                        "url.path": "/ws/notifications",
                        "url.scheme": "https",
                        "http.route": "/ws/notifications",
                        "http.response.status_code": 101,
                    },
                ),
                Span(
                    "s2",
                    "s1",
                    "notification.push",
                    INTERNAL,
                    "frontend",
                    60_000,
                    60_004,
                    scope="com.example.notifications",
                    attrs={"notification.kind": "order_shipped"},
                ),
            ]
        )

    return mutate


case("span_duration_plausible", "s1", passing=_long_websocket(0.5))(_long_websocket(2.5))


# kinds ----------------------------------------------------------------------------------


@case("server_parent_is_client", "s1b")
def _(t: Trace) -> None:
    # Tomcat and Spring MVC instrumentation both open a SERVER span for the request
    t.add(
        Span(
            "s1b",
            "s1",
            "POST /api/checkout",
            SERVER,
            "frontend",
            1,
            179,
            scope="io.opentelemetry.spring-webmvc-6.0",
            attrs={
                "http.request.method": "POST",
                "url.path": "/api/checkout",
                "http.route": "/api/checkout",
                "http.response.status_code": 200,
            },
        )
    )
    for key in ("s2", "s3", "s6"):
        t[key].parent = "s1b"


@case("client_children", "s4")
def _(t: Trace) -> None:
    t["s4"].kind = INTERNAL  # the payment service opens a manual span instead of a SERVER span
    t["s4"].name = "charge"
    t["s4"].scope = "payment"
    t["s4"].attrs = {"payment.provider": "adyen"}


def _linked_batch(link: bool) -> Mutation:
    def mutate(t: Trace) -> Trace:
        other = trace_id("consumer_parent_is_producer", "producer-trace")
        return Trace(
            [
                Span(
                    "b1",
                    None,
                    "orders receive",
                    CLIENT,
                    "shipping-service",
                    0,
                    20,
                    scope="opentelemetry.instrumentation.kafka",
                    attrs={
                        "messaging.system": "kafka",
                        "messaging.destination.name": "orders",
                        "messaging.operation.type": "receive",
                        "messaging.batch.message_count": 2,
                    },
                ),
                *[
                    Span(
                        f"b{i}",
                        "b1",
                        "orders process",
                        CONSUMER,
                        "shipping-service",
                        2 + 4 * i,
                        5 + 4 * i,
                        scope="opentelemetry.instrumentation.kafka",
                        attrs={
                            "messaging.system": "kafka",
                            "messaging.destination.name": "orders",
                            "messaging.operation.type": "process",
                        },
                        links=[(other, span_id(f"producer{i}"))] if link else [],
                    )
                    for i in (2, 3)
                ],
            ]
        )

    return mutate


case("consumer_parent_is_producer", "b2", passing=_linked_batch(True))(_linked_batch(False))


@case("kind_edge_consistency", "s4")
def _(t: Trace) -> None:
    # the frontend's HTTP client is not instrumented; a manual INTERNAL span wraps the call
    t["s3"].kind = INTERNAL
    t["s3"].name = "payment.charge"
    t["s3"].scope = "com.example.checkout"
    t["s3"].attrs = {"payment.amount": 129.9, "payment.currency": "EUR"}


# semconv --------------------------------------------------------------------------------


def _old_semconv(t: Trace) -> None:
    """Pre-1.21 HTTP attribute names on the payment call: still accepted."""
    t["s3"].attrs = {
        "http.method": "POST",
        "http.url": "http://payment-service:8080/api/charge",
        "http.status_code": 200,
        "net.peer.name": "payment-service",
    }
    t["s4"].attrs = {
        "http.method": "POST",
        "http.target": "/api/charge",
        "http.route": "/api/charge",
        "http.status_code": 200,
        "http.scheme": "http",
    }


@case("http_server_required_attributes", "s4", passing=_old_semconv)
def _(t: Trace) -> None:
    for k in ("url.path", "http.route"):
        del t["s4"].attrs[k]


@case("http_client_required_attributes", "s3", passing=_old_semconv)
def _(t: Trace) -> None:
    del t["s3"].attrs["url.full"]


def _grpc(complete: bool) -> Mutation:
    def mutate(t: Trace) -> None:
        t["s3"].name = t["s4"].name = "payment.v1.PaymentService/Charge"
        t["s3"].scope = "io.opentelemetry.grpc-1.6"
        t[
            "s4"
        ].scope = "go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
        t["s3"].attrs = {
            "rpc.system": "grpc",
            "rpc.method": "Charge",
            "rpc.grpc.status_code": 0,
            "server.address": "payment-service",
            "server.port": 9090,
        }
        if complete:
            t["s3"].attrs["rpc.service"] = "payment.v1.PaymentService"
        t["s4"].attrs = {
            "rpc.system": "grpc",
            "rpc.service": "payment.v1.PaymentService",
            "rpc.method": "Charge",
            "rpc.grpc.status_code": 0,
        }

    return mutate


case("rpc_required_attributes", "s3", passing=_grpc(True))(_grpc(False))


@case("db_required_attributes", "s5")
def _(t: Trace) -> None:
    del t["s5"].attrs["db.system.name"]


@case("messaging_required_attributes", "s6")
def _(t: Trace) -> None:
    del t["s6"].attrs["messaging.destination.name"]


def _other_method(t: Trace) -> None:
    t["s3"].attrs["http.request.method"] = "_OTHER"
    t["s3"].attrs["http.request.method_original"] = "CHARGE"


@case("http_method_known", "s1", passing=_other_method)
def _(t: Trace) -> None:
    t["s1"].attrs["http.request.method"] = "post"


@case("http_status_code_range", "s3")
def _(t: Trace) -> None:
    t["s3"].attrs["http.response.status_code"] = 0  # "no response" recorded as code 0


def _not_found(t: Trace) -> None:
    """Payment answers 404 (SERVER: not an error), the client fails (ERROR), frontend 502."""
    t["s4"].attrs["http.response.status_code"] = 404
    t["s3"].attrs["http.response.status_code"] = 404
    t["s3"].attrs["error.type"] = "404"
    t["s3"].status = ERROR
    t["s1"].attrs["http.response.status_code"] = 502
    t["s1"].attrs["error.type"] = "502"
    t["s1"].status = ERROR


@case("http_status_maps_to_span_status", "s4", passing=_not_found)
def _(t: Trace) -> None:
    for key in ("s4", "s3"):  # 503 on both sides, status left UNSET; frontend falls back
        t[key].attrs["http.response.status_code"] = 503


# attributes / resources -----------------------------------------------------------------


@case("service_name_present", "s5")
def _(t: Trace) -> None:
    t["s5"].service = None


@case("service_name_not_default", "s7")
def _(t: Trace) -> None:
    t["s7"].service = "unknown_service:python3.12"


def _second_consumer(spelling: str) -> Mutation:
    def mutate(t: Trace) -> None:
        t.add(
            Span(
                "s8",
                "s6",
                "orders process",
                CONSUMER,
                spelling,
                210,
                240,
                scope="opentelemetry.instrumentation.kafka",
                flags=SAMPLED_REMOTE,
                attrs=dict(t["s7"].attrs),
            )
        )

    return mutate


case("service_name_consistent", "s8", passing=_second_consumer("shipping-service"))(
    _second_consumer("shipping_service")
)


@case("attribute_key_naming", "s1")
def _(t: Trace) -> None:
    t["s1"].attrs["userId"] = "u-1842"


# privacy --------------------------------------------------------------------------------


def _benign_lookalikes(t: Trace) -> None:
    """Values that resemble personal data but are not: must not be flagged."""
    t["s1"].attrs["url.query"] = "ref=ord-2024-11-05-0042&promo=BLACKFRIDAY"
    t["s3"].attrs["url.full"] = (
        "https://REDACTED:REDACTED@payment.example.com/api/charge?order=1042"
    )
    t["s5"].attrs["db.query.text"] = (
        "SELECT balance FROM accounts WHERE card_last4 = '1111' AND id = $1"
    )
    t["s6"].attrs["messaging.message.id"] = "4111111111111111"  # not a key the stdlib reads


@case("pii_email", "s1", passing=_benign_lookalikes)
def _(t: Trace) -> None:
    t["s1"].attrs["enduser.id"] = "maria.gonzalez@example.com"


@case("pii_card_number", "s5", passing=_benign_lookalikes)
def _(t: Trace) -> None:
    t["s5"].attrs["db.query.text"] = (
        "UPDATE cards SET last_used = now() WHERE pan = '4111 1111 1111 1111'"
    )


@case("pii_ssn", "s3", passing=_benign_lookalikes)
def _(t: Trace) -> None:
    t["s3"].attrs["url.full"] = "http://payment-service:8080/api/verify?ssn=123-45-6789"


@case("url_credentials_redacted", "s3", passing=_benign_lookalikes)
def _(t: Trace) -> None:
    t["s3"].attrs["url.full"] = "https://svc_checkout:s3cr3t@payment.example.com/api/charge"


# errors ---------------------------------------------------------------------------------


def _chain(t: Trace) -> Trace:
    return error_chain(t)


@case("error_trace_sampled", "s5", passing=_chain)
def _(t: Trace) -> Trace:
    t = error_chain(t)
    for s in t.spans:  # exported by a record-only pipeline
        s.flags = UNSAMPLED_REMOTE if s.flags == SAMPLED_REMOTE else UNSAMPLED_LOCAL
    return t


@case("error_surfaces_to_ancestor", "s2", passing=_chain)
def _(t: Trace) -> None:
    t["s2"].status, t["s2"].status_message = ERROR, "inventory lookup failed"  # swallowed


def _handled_exception(complete: bool) -> Mutation:
    def mutate(t: Trace) -> None:
        attrs: dict[str, Any] = {"exception.escaped": False}
        if complete:
            attrs["exception.type"] = "java.util.concurrent.TimeoutException"
            attrs["exception.message"] = "inventory cache lookup timed out after 5 ms"
        attrs["exception.stacktrace"] = (
            "java.util.concurrent.TimeoutException\n"
            "\tat com.example.checkout.Cart.validate(Cart.java:88)"
        )
        t["s2"].events.insert(0, ("exception", 12.3, attrs))

    return mutate


case("exception_event_attributes", "s2", passing=_handled_exception(True))(
    _handled_exception(False)
)


@case("status_message_only_with_error", "s4")
def _(t: Trace) -> None:
    t["s4"].status, t["s4"].status_message = OK, "charged"


# temporal -------------------------------------------------------------------------------


def _retried(t: Trace) -> None:
    """The first charge attempt gets a 503 and fails; the retry 200 ms later succeeds."""
    t["s3"].end, t["s4"].end, t["s5"].end = 60, 58, 52
    for key in ("s3", "s4"):
        t[key].attrs["http.response.status_code"] = 503
        t[key].attrs["error.type"] = "503"
        t[key].status = ERROR
    t["s5"].start, t["s5"].end = 40, 52
    t.add(
        Span(
            "s3r",
            "s1",
            "POST",
            CLIENT,
            "frontend",
            70,
            150,
            scope="io.opentelemetry.java-http-client",
            attrs={
                **{k: v for k, v in t["s3"].attrs.items() if k != "error.type"},
                "http.response.status_code": 200,
                "http.request.resend_count": 1,
            },
        )
    )
    t.add(
        Span(
            "s4r",
            "s3r",
            "POST /api/charge",
            SERVER,
            "payment-service",
            72,
            146,
            scope=t["s4"].scope,
            flags=SAMPLED_REMOTE,
            attrs={
                **{k: v for k, v in t["s4"].attrs.items() if k != "error.type"},
                "http.response.status_code": 200,
            },
        )
    )


@case("client_error_retried", "s3", passing=_retried)
def _(t: Trace) -> None:
    for key in ("s3", "s4"):  # payment is down; the frontend queues the charge and answers 200
        t[key].attrs["http.response.status_code"] = 503
        t[key].attrs["error.type"] = "503"
        t[key].status = ERROR


def _exception_escapes(t: Trace) -> Trace:
    return error_chain(t)  # s5 records the exception at 69.8 ms and ends in ERROR at 70 ms


@case("exception_ends_span_in_error", "s5", passing=_exception_escapes)
def _(t: Trace) -> None:
    t["s5"].events = [
        (
            "exception",
            69.8,
            {
                "exception.type": "*pgconn.PgError",
                "exception.message": PG_TIMEOUT,
            },
        )
    ]  # recorded, but the span status was never set


@case("no_span_after_root_end", "s8")
def _(t: Trace) -> None:
    t.add(
        Span(
            "s8",
            "s1",
            "audit.write",
            INTERNAL,
            "frontend",
            420,
            431,
            scope="com.example.audit",
            attrs={"audit.action": "checkout"},
        )
    )


def _redirected(t: Trace) -> None:
    """The first attempt is redirected (307); the resend follows it."""
    t["s3"].end = 40
    t["s3"].attrs["http.response.status_code"] = 307
    t["s4"].end = 38
    t["s4"].attrs["http.response.status_code"] = 307
    t.drop("s5")
    t.add(
        Span(
            "s3r",
            "s1",
            "POST",
            CLIENT,
            "frontend",
            45,
            150,
            scope="io.opentelemetry.java-http-client",
            attrs={
                **t["s3"].attrs,
                "http.response.status_code": 200,
                "url.full": "http://payment-service:8080/api/v2/charge",
                "http.request.resend_count": 1,
            },
        )
    )
    t.add(
        Span(
            "s4r",
            "s3r",
            "POST /api/v2/charge",
            SERVER,
            "payment-service",
            47,
            146,
            scope=t["s4"].scope,
            flags=SAMPLED_REMOTE,
            attrs={
                **t["s4"].attrs,
                "http.response.status_code": 200,
                "url.path": "/api/v2/charge",
                "http.route": "/api/v2/charge",
            },
        )
    )


@case("retry_preceded_by_failure", "s3", passing=_redirected)
def _(t: Trace) -> None:
    t["s3"].attrs["http.request.resend_count"] = 1  # the first attempt was never traced


# --------------------------------------------------------------------------- expectations

#: Other properties a fail case may violate besides its own (unavoidable overlaps).
FAIL_EXTRAS: dict[str, set[str]] = {
    # a malformed parent id cannot resolve: the span's parent is missing too
    "parent_id_valid": {"parent_exists", "reachable_from_root"},
    # a missing parent orphans the span
    "parent_exists": {"reachable_from_root"},
    "reachable_from_root": {"parent_exists"},
    "has_root": {"parent_exists", "reachable_from_root"},
    # a span on a cycle is not reachable from a root
    "no_parent_cycle": {"reachable_from_root"},
    # a non-SERVER child of a CLIENT in another service is also a bad cross-service edge
    "client_children": {"kind_edge_consistency"},
    # an unretried, unreported client error is also an error that did not surface
    "client_error_retried": {"error_surfaces_to_ancestor"},
    # a span that starts after the root ended also ends after its parent did
    "no_span_after_root_end": {"child_ends_within_parent"},
}

#: Properties a pass case may violate (the documented false positives of other properties).
PASS_EXTRAS: dict[str, set[str]] = {
    # the failed first attempt was handled by the retry: it does not surface, by design
    "client_error_retried": {"error_surfaces_to_ancestor"},
}
