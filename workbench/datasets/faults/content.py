"""Fault variants on the content of spans: personal data, semantic-convention errors, invalid
ids, swallowed errors and retry storms.

Every function takes an :class:`~workbench.datasets.faults.base.Editor` and returns
``(primary, affected, detail)`` or ``None`` when the trace offers no place for the variant.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

from workbench.datasets import semconv as sc
from workbench.datasets.faults.base import (
    Editor,
    Result,
    contains,
    http_key,
    index_of,
    remove,
    same_name_client_after,
)
from workbench.datasets.model import (
    CLIENT,
    CONSUMER,
    ERROR,
    OK,
    PRODUCER,
    SERVER,
    UNSET,
    GenSpan,
)
from workbench.engine.values import luhn_check_digit

MS = 1_000_000


# ------------------------------------------------------------------------------ privacy


def _luhn_number(rng: random.Random) -> str:
    digits = "".join(map(str, [4] + [rng.randint(0, 9) for _ in range(14)]))
    return digits + luhn_check_digit(digits)


def _ssn(rng: random.Random) -> str:
    return f"{rng.randint(101, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999)}"


def _email(rng: random.Random) -> str:
    first = rng.choice(("jane", "john", "alex", "maria", "wei", "fatima"))
    last = rng.choice(("doe", "smith", "garcia", "chen", "okafor", "novak"))
    return f"{first}.{last}@{rng.choice(('example.com', 'mail.example.org'))}"


def _url_span(x: Editor) -> GenSpan | None:
    return x.pick([s for s in x.spans if s.kind == CLIENT and
                   ("url.full" in s.attributes or "http.url" in s.attributes)])


def pii_leak_email_attribute(x: Editor) -> Result:
    """Record the user's e-mail address in ``user.email`` (or ``enduser.id``)."""
    s = x.pick([s for s in x.spans if s.kind == SERVER])
    if s is None:
        return None
    s.attributes[x.rng.choice(("user.email", "enduser.id"))] = _email(x.rng)
    return [s], [], f"e-mail address on {s.name}"


def pii_leak_email_in_url(x: Editor) -> Result:
    """Append ``?email=<percent-encoded address>`` to an HTTP client URL."""
    s = _url_span(x)
    if s is None:
        return None
    key = "url.full" if "url.full" in s.attributes else "http.url"
    s.attributes[key] = f"{s.attributes[key]}?email={_email(x.rng).replace('@', '%40')}"
    return [s], [], f"e-mail address in the URL of {s.name}"


def pii_leak_card_in_query(x: Editor) -> Result:
    """Append ``?card=<Luhn-valid number>`` to an HTTP client URL."""
    s = _url_span(x)
    if s is None:
        return None
    key = "url.full" if "url.full" in s.attributes else "http.url"
    s.attributes[key] = f"{s.attributes[key]}?card={_luhn_number(x.rng)}"
    return [s], [], f"card number in the URL of {s.name}"


def pii_leak_card_attribute(x: Editor) -> Result:
    """Record a card number (grouped in fours) in ``card.number``."""
    s = x.pick([s for s in x.spans if s.kind == SERVER])
    if s is None:
        return None
    n = _luhn_number(x.rng)
    s.attributes["card.number"] = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    return [s], [], f"card number on {s.name}"


def pii_leak_ssn_in_statement(x: Editor) -> Result:
    """Inline a social security number into a SQL statement instead of a bind parameter."""
    s = x.pick([s for s in x.spans if "db.query.text" in s.attributes
                or "db.statement" in s.attributes])
    if s is None:
        return None
    key = "db.query.text" if "db.query.text" in s.attributes else "db.statement"
    table = s.attributes.get("db.collection.name", s.attributes.get("db.sql.table", "accounts"))
    s.attributes[key] = f"SELECT id FROM {table} WHERE ssn = '{_ssn(x.rng)}'"
    return [s], [], f"SSN in the statement of {s.name}"


def pii_leak_credentials_in_url(x: Editor) -> Result:
    """Put unredacted user:password credentials into an HTTP client URL."""
    s = _url_span(x)
    if s is None:
        return None
    key = "url.full" if "url.full" in s.attributes else "http.url"
    s.attributes[key] = str(s.attributes[key]).replace("http://", "http://svc-admin:hunter2@", 1)
    return [s], [], f"credentials in the URL of {s.name}"




# ------------------------------------------------------------------------------ conventions

_ROUTE_KEYS = ("url.path", "http.route", "http.target", "http.url", "http.path")


def semconv_error_http_server_missing_route(x: Editor) -> Result:
    """An HTTP SERVER span without its path and route."""
    s = x.pick([s for s in x.spans if s.kind == SERVER and http_key(
        s, "http.request.method", "http.method")])
    if s is None:
        return None
    for k in _ROUTE_KEYS:
        s.attributes.pop(k, None)
    return [s], [], f"{s.name} lost url.path/http.route"


def semconv_error_http_client_missing_url(x: Editor) -> Result:
    """An HTTP CLIENT span without its URL."""
    s = x.pick([s for s in x.spans if s.kind == CLIENT and http_key(s, "url.full", "http.url")])
    if s is None:
        return None
    s.attributes.pop("url.full", None)
    s.attributes.pop("http.url", None)
    return [s], [], f"{s.name} lost url.full"


def semconv_error_rpc_missing_service(x: Editor) -> Result:
    """A gRPC span without ``rpc.service`` (its ``rpc.method`` is not fully qualified)."""
    s = x.pick([s for s in x.spans if "rpc.service" in s.attributes
                and "/" not in str(s.attributes.get("rpc.method", ""))])
    if s is None:
        return None
    del s.attributes["rpc.service"]
    return [s], [], f"{s.name} lost rpc.service"


def semconv_error_db_missing_system(x: Editor) -> Result:
    """A database span without ``db.system.name`` / ``db.system``."""
    s = x.pick([s for s in x.spans if http_key(s, "db.system.name", "db.system")])
    if s is None:
        return None
    s.attributes.pop("db.system.name", None)
    s.attributes.pop("db.system", None)
    return [s], [], f"{s.name} lost db.system"


def semconv_error_messaging_missing_destination(x: Editor) -> Result:
    """A messaging span without its destination."""
    s = x.pick([s for s in x.spans if "messaging.system" in s.attributes])
    if s is None:
        return None
    s.attributes.pop("messaging.destination.name", None)
    s.attributes.pop("messaging.destination", None)
    return [s], [], f"{s.name} lost its destination"


def semconv_error_http_method_unknown(x: Editor) -> Result:
    """A lower-case or invented HTTP method."""
    s = x.pick([s for s in x.spans if http_key(s, "http.request.method", "http.method")])
    if s is None:
        return None
    key = http_key(s, "http.request.method", "http.method")
    assert key is not None
    s.attributes[key] = x.rng.choice((str(s.attributes[key]).lower(), "FETCH"))
    return [s], [], f"{s.name} has method {s.attributes[key]!r}"


def semconv_error_http_status_invalid(x: Editor) -> Result:
    """An HTTP status code of 0 (a client library's "no response" placeholder)."""
    s = x.pick([s for s in x.spans if http_key(s, "http.response.status_code",
                                               "http.status_code")])
    if s is None:
        return None
    key = http_key(s, "http.response.status_code", "http.status_code")
    assert key is not None
    s.attributes[key] = 0
    return [s], [], f"{s.name} has status code 0"


def semconv_error_http_status_mismatch(x: Editor) -> Result:
    """A 503 answer recorded with span status UNSET."""
    s = x.pick([s for s in x.spans if s.status != ERROR and s.kind in (CLIENT, SERVER)
                and http_key(s, "http.response.status_code", "http.status_code")])
    if s is None:
        return None
    key = http_key(s, "http.response.status_code", "http.status_code")
    assert key is not None
    s.attributes[key] = 503
    s.status = UNSET
    return [s], [], f"{s.name} answered 503 but is not ERROR"


def semconv_error_camel_case_key(x: Editor) -> Result:
    """A camelCase attribute key (``userId``, ``requestId``, ``httpMethod``)."""
    s = x.pick(list(x.spans))
    assert s is not None
    key = x.rng.choice(("userId", "requestId", "orderId", "tenantId"))
    s.attributes[key] = sc.uuid(x.rng)
    return [s], [], f"{s.name} has key {key}"


def semconv_error_exception_without_type(x: Editor) -> Result:
    """A handled ``exception`` event with only a stack trace (no type, no message)."""
    s = x.pick([s for s in x.spans if s.end is not None and s.duration > 20_000])
    if s is None:
        return None
    assert s.end is not None
    s.events.append(("exception", s.end - 10_000, {
        "exception.stacktrace": "at handler (main:42)", "exception.escaped": False}))
    return [s], [], f"exception event of {s.name} has no type or message"


def semconv_error_status_message_without_error(x: Editor) -> Result:
    """A status message on a span whose status is OK."""
    s = x.pick([s for s in x.spans if s.status != ERROR and not s.status_message])
    if s is None:
        return None
    s.status, s.status_message = OK, "request completed"
    return [s], [], f"{s.name} has a status message with status OK"


def semconv_error_empty_name(x: Editor) -> Result:
    """A span without a name."""
    s = x.pick([s for s in x.spans if s.parent_id and x.plain(s)])
    if s is None:
        return None
    s.name = ""
    return [s], [], "a span lost its name"


def semconv_error_long_name(x: Editor) -> Result:
    """A database span named with its whole SQL statement (high cardinality)."""
    s = x.pick([s for s in x.spans if http_key(s, "db.query.text", "db.statement")
                and x.plain(s)])
    if s is None:
        return None
    cols = ", ".join(f"col_{c}" for c in "abcdefghijklmnopqrst")
    s.name = f"SELECT {cols} FROM {s.name.split()[-1]} WHERE id = $1 ORDER BY updated_at"
    return [s], [], f"span named with a {len(s.name)}-character statement"


def semconv_error_resend_without_failure(x: Editor) -> Result:
    """``http.request.resend_count`` on a first attempt (an instrumentation that counts
    attempts from 1): no failed attempt precedes the "retry"."""
    def failed_before(s: GenSpan) -> bool:
        return any(o is not s and o.kind == CLIENT and o.name == s.name and o.end is not None
                   and s.start - 5_000 * MS <= o.end <= s.start
                   and (o.status == ERROR or int(o.attributes.get(
                       "http.response.status_code", o.attributes.get("http.status_code", 0))
                       or 0) >= 300) for o in x.spans)
    s = x.pick([s for s in x.spans if s.kind == CLIENT and "url.full" in s.attributes
                and "http.request.resend_count" not in s.attributes and not failed_before(s)])
    if s is None:
        return None
    s.attributes["http.request.resend_count"] = 1
    return [s], [], f"{s.name} claims to be a resend"


def _service_spans(x: Editor) -> dict[str, list[GenSpan]]:
    out: dict[str, list[GenSpan]] = {}
    for s in x.spans:
        out.setdefault(s.service, []).append(s)
    return out


def _rename(x: Editor, spans: list[GenSpan], name: str | None) -> None:
    cache: dict[int, list[tuple[str, Any]]] = {}  # by id of the old resource
    for s in spans:
        if id(s.resource) not in cache:
            def change(attrs: list[tuple[str, object]]) -> list[tuple[str, object]]:
                kept = [(k, v) for k, v in attrs if k != "service.name"]
                return kept if name is None else [("service.name", name), *kept]
            cache[id(s.resource)] = x.resource_copy(s, change)
        s.resource = cache[id(s.resource)]


def semconv_error_service_name_missing(x: Editor) -> Result:
    """One service's spans in the trace lose ``service.name`` (a resource misconfigured)."""
    groups = _service_spans(x)
    svc = x.rng.choice(sorted(groups))
    _rename(x, groups[svc], None)
    return groups[svc], [], f"{svc} exported without service.name"


def semconv_error_service_name_default(x: Editor) -> Result:
    """One service's spans carry the SDK default ``unknown_service:<runtime>``."""
    groups = _service_spans(x)
    svc = x.rng.choice(sorted(groups))
    runtime = next((v for k, v in groups[svc][0].resource
                    if k == "process.runtime.name"), "java")
    _rename(x, groups[svc], f"unknown_service:{runtime}")
    return groups[svc], [], f"{svc} exported as unknown_service"


def semconv_error_service_name_variant(x: Editor) -> Result:
    """One of two calls to a service comes from an instance that spells the service name
    differently (``Product_Catalog`` for ``product-catalog``)."""
    by_service: dict[str, list[GenSpan]] = {}
    for e in x.entries():
        by_service.setdefault(e.service, []).append(e)
    cands = sorted(svc for svc, es in by_service.items() if len(es) >= 2)
    if not cands:
        return None
    svc = x.rng.choice(cands)
    entry = x.rng.choice(by_service[svc])
    mine = [s for s in x.trace.subtree(entry) if s.service == svc]
    variant = "_".join(p.capitalize() for p in svc.split("-"))
    if variant == svc:
        variant = svc.upper()
    _rename(x, mine, variant)
    others = [s for s in x.spans if s.service == svc and not contains(mine, s)]
    return mine, others, f"{svc} spelled {variant} by one instance"


# ------------------------------------------------------------------------------ ids


def invalid_id_short_span_id(x: Editor) -> Result:
    """A leaf whose span id has 6 bytes instead of 8."""
    s = x.pick(x.leaves())
    if s is None:
        return None
    s.span_id = f"{x.rng.getrandbits(48) or 1:012x}"
    return [s], [], f"{s.name} has a 12-digit span id"


def invalid_id_zero_span_id(x: Editor) -> Result:
    """A leaf whose span id is all zero (the W3C invalid id)."""
    s = x.pick(x.leaves())
    if s is None or any(o.span_id == "0" * 16 for o in x.spans):
        return None
    s.span_id = "0" * 16
    return [s], [], f"{s.name} has the all-zero span id"


def invalid_id_long_trace_id(x: Editor) -> Result:
    """Every span of the trace has a 20-byte trace id."""
    new = f"{x.rng.getrandbits(160) or 1:040x}"
    for s in x.spans:
        s.trace_id = new
    x.trace.trace_id = new
    roots = [s for s in x.spans if not s.parent_id] or x.spans[:1]
    return roots, [s for s in x.spans if not contains(roots, s)], "a 40-digit trace id"


def invalid_id_short_parent_id(x: Editor) -> Result:
    """A leaf whose parent id lost its first two bytes (12 hex digits): it names no span."""
    s = x.pick(x.leaves())
    if s is None:
        return None
    s.parent_id = s.parent_id[4:]
    return [s], [], f"{s.name} names the truncated parent {s.parent_id}"


# ------------------------------------------------------------------------------ errors


def _exception_event(x: Editor, s: GenSpan) -> None:
    assert s.end is not None
    s.events.append(("exception", max(s.start, s.end - 20_000),
                     sc.exception("java", x.rng)))


def swallowed_error_error_not_propagated(x: Editor) -> Result:
    """A callee's SERVER span fails, but its caller and the root report success."""
    if not x.clean():
        return None
    s = x.pick([s for s in x.entries() if s.end is not None])
    if s is None:
        return None
    s.status = ERROR
    _exception_event(x, s)
    return [s], [x.parent(s) or s], f"{s.name} failed; nobody above noticed"


def swallowed_error_exception_without_error(x: Editor) -> Result:
    """An escaped ``exception`` event on a span that ends without status ERROR."""
    s = x.pick([s for s in x.spans if s.status != ERROR and s.end is not None
                and s.duration > 40_000 and not any(n == "exception" for n, _, _ in s.events)])
    if s is None:
        return None
    _exception_event(x, s)
    return [s], [], f"{s.name} records an exception but ends {('UNSET', 'OK')[s.status]}"


def swallowed_error_failed_call_dropped(x: Editor) -> Result:
    """A database or cache call fails and is neither retried nor reported above."""
    if not x.clean():
        return None
    s = x.pick([s for s in x.leaves() if s.kind == CLIENT and x.sync(s) and x.reachable(s)
                and not same_name_client_after(x, s, 2_000 * MS)])
    if s is None:
        return None
    s.status, s.status_message = ERROR, "connection reset by peer"
    return [s], [], f"{s.name} failed and the failure was dropped"


# ------------------------------------------------------------------------------ retries


def retry_storm_burst(x: Editor) -> Result:
    """A call is retried 6-10 times back to back (no backoff) against a failing callee;
    the failure then propagates to the root. Primary: the retries; affected: the first
    attempt, the callee's spans and the ancestors whose status changed."""
    if not x.clean():
        return None
    cands = []
    for c in x.spans:
        kids = x.kids.get(c.span_id, [])
        if (c.kind == CLIENT and x.sync(c) and x.plain(c) and len(kids) == 1
                and kids[0].kind == SERVER and kids[0].service != c.service):
            cands.append((c, kids[0]))
    if not cands:
        return None
    c, s = x.rng.choice(cands)
    for d in x.trace.subtree(s):
        remove(x.spans, d)
    k = x.rng.randint(6, 10)
    assert c.end is not None
    slot = max(20_000, (c.end - c.start) // k)
    attempts: list[GenSpan] = []
    servers: list[GenSpan] = []
    at = index_of(x.spans, c) + 1
    for i in range(k):
        ci = c if i == 0 else dataclasses.replace(
            c, span_id=f"{x.rng.getrandbits(64) or 1:016x}", attributes=dict(c.attributes),
            events=[], links=[])
        ci.start = c.start + i * slot if i else c.start
        ci.end = ci.start + slot * 4 // 5
        si = dataclasses.replace(s, span_id=f"{x.rng.getrandbits(64) or 1:016x}",
                                 parent_id=ci.span_id, attributes=dict(s.attributes),
                                 events=[], links=[], start=ci.start + slot // 10,
                                 end=ci.start + slot * 7 // 10)
        for span in (ci, si):
            _fail(span, "upstream unavailable" if span is ci else "overloaded")
        if i and "http.response.status_code" in ci.attributes:
            ci.attributes["http.request.resend_count"] = i
        if i:
            x.spans.insert(at, ci)
            at += 1
        x.spans.insert(at, si)
        at += 1
        attempts.append(ci)
        servers.append(si)
    changed = []
    for a in x.ancestors(c):
        if a.kind in (PRODUCER, CONSUMER):
            break
        _fail(a, "")
        changed.append(a)
    return attempts[1:], [attempts[0], *servers, *changed], \
        f"{k} attempts of {c.name} without backoff"


def _fail(s: GenSpan, message: str) -> None:
    """Mark ``s`` failed the way its protocol records it (503, gRPC UNAVAILABLE)."""
    s.status = ERROR
    if message:
        s.status_message = message
    if "rpc.grpc.status_code" in s.attributes:
        s.attributes["rpc.grpc.status_code"] = sc.GRPC_UNAVAILABLE
    key = http_key(s, "http.response.status_code", "http.status_code")
    if key is not None:
        s.attributes[key] = 503


#: (class, variant) -> injector.
VARIANTS = {
    ("pii_leak", "email_attribute"): pii_leak_email_attribute,
    ("pii_leak", "email_in_url"): pii_leak_email_in_url,
    ("pii_leak", "card_in_query"): pii_leak_card_in_query,
    ("pii_leak", "card_attribute"): pii_leak_card_attribute,
    ("pii_leak", "ssn_in_statement"): pii_leak_ssn_in_statement,
    ("pii_leak", "credentials_in_url"): pii_leak_credentials_in_url,
    ("semconv_error", "http_server_missing_route"): semconv_error_http_server_missing_route,
    ("semconv_error", "http_client_missing_url"): semconv_error_http_client_missing_url,
    ("semconv_error", "rpc_missing_service"): semconv_error_rpc_missing_service,
    ("semconv_error", "db_missing_system"): semconv_error_db_missing_system,
    ("semconv_error", "messaging_missing_destination"): semconv_error_messaging_missing_destination,
    ("semconv_error", "http_method_unknown"): semconv_error_http_method_unknown,
    ("semconv_error", "http_status_invalid"): semconv_error_http_status_invalid,
    ("semconv_error", "http_status_mismatch"): semconv_error_http_status_mismatch,
    ("semconv_error", "camel_case_key"): semconv_error_camel_case_key,
    ("semconv_error", "exception_without_type"): semconv_error_exception_without_type,
    ("semconv_error", "status_message_without_error"): semconv_error_status_message_without_error,
    ("semconv_error", "empty_name"): semconv_error_empty_name,
    ("semconv_error", "long_name"): semconv_error_long_name,
    ("semconv_error", "service_name_missing"): semconv_error_service_name_missing,
    ("semconv_error", "service_name_default"): semconv_error_service_name_default,
    ("semconv_error", "service_name_variant"): semconv_error_service_name_variant,
    ("semconv_error", "resend_without_failure"): semconv_error_resend_without_failure,
    ("invalid_id", "short_span_id"): invalid_id_short_span_id,
    ("invalid_id", "zero_span_id"): invalid_id_zero_span_id,
    ("invalid_id", "long_trace_id"): invalid_id_long_trace_id,
    ("invalid_id", "short_parent_id"): invalid_id_short_parent_id,
    ("swallowed_error", "error_not_propagated"): swallowed_error_error_not_propagated,
    ("swallowed_error", "exception_without_error"): swallowed_error_exception_without_error,
    ("swallowed_error", "failed_call_dropped"): swallowed_error_failed_call_dropped,
    ("retry_storm", "burst"): retry_storm_burst,
}
