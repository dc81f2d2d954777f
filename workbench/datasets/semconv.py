"""Semantic-convention attributes and span names for generated spans.

Two generations of the OpenTelemetry conventions are produced, as real fleets mix them: the
stable names (``http.request.method``, ``url.full``, ``db.system.name``...) and the pre-1.21
names (``http.method``, ``http.url``, ``db.system``...), chosen per service. Values are shaped
like those of ``datasets/real`` (OpenTelemetry demo, HotROD): ids are UUIDs or 10-character
product codes, never long digit runs that a card-number check would mistake for a card.

Every builder takes ``new`` (use the stable names rather than the pre-1.21 ones) and the
values it writes; parameters are named after the attributes they fill (``host`` is
``server.address``/``net.peer.name``, ``status`` the HTTP status code, ``code`` the gRPC
status code, ``resend`` ``http.request.resend_count``...).
"""

from __future__ import annotations

import random
from typing import Any

#: gRPC status codes used by the generator.
GRPC_OK, GRPC_DEADLINE_EXCEEDED, GRPC_INTERNAL, GRPC_UNAVAILABLE = 0, 4, 13, 14

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_AGENTS = ("Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 Safari/605.1.15",
           "python-requests/2.32.3", "Go-http-client/1.1")


def uuid(rng: random.Random) -> str:
    """A random version-4 UUID text."""
    v = rng.getrandbits(128)
    h = f"{v:032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[v & 3]}{h[17:20]}-{h[20:32]}"


def product_code(rng: random.Random) -> str:
    """A product id like the demo's ``OLJCESPC7Z``."""
    return "".join(rng.choice(_ALNUM) for _ in range(10))


def ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 3)}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"


def user_agent(rng: random.Random) -> str:
    return rng.choice(_AGENTS)


def http_path(route: str, rng: random.Random) -> str:
    """The concrete path of a route template (``{id}`` and ``{productId}`` filled in)."""
    if "{productId}" in route:
        return route.replace("{productId}", product_code(rng))
    if "{id}" in route:
        return route.replace("{id}", uuid(rng))
    return route


def http_server(new: bool, method: str, route: str, path: str, host: str, port: int,
                status: int, client: str, agent: str) -> dict[str, Any]:
    """Attributes of an HTTP SERVER span."""
    if new:
        return {"http.request.method": method, "url.scheme": "http", "url.path": path,
                "http.route": route, "server.address": host, "server.port": port,
                "client.address": client, "network.protocol.version": "1.1",
                "user_agent.original": agent, "http.response.status_code": status}
    return {"http.method": method, "http.scheme": "http", "http.target": path,
            "http.route": route, "net.host.name": host, "net.host.port": port,
            "http.client_ip": client, "http.flavor": "1.1", "http.user_agent": agent,
            "http.status_code": status}


def http_client(new: bool, method: str, host: str, port: int, path: str,
                status: int | None, resend: int) -> dict[str, Any]:
    """Attributes of an HTTP CLIENT span (``status`` None: no response, e.g. a timeout)."""
    url = f"http://{host}:{port}{path}"
    if new:
        out: dict[str, Any] = {"http.request.method": method, "url.full": url,
                               "server.address": host, "server.port": port,
                               "network.protocol.version": "1.1"}
        if status is not None:
            out["http.response.status_code"] = status
        else:
            out["error.type"] = "timeout"
        if resend:
            out["http.request.resend_count"] = resend
        return out
    out = {"http.method": method, "http.url": url, "net.peer.name": host, "net.peer.port": port,
           "http.flavor": "1.1"}
    if status is not None:
        out["http.status_code"] = status
    if resend:
        out["http.request.resend_count"] = resend
    return out


def grpc(new: bool, package: str, method: str, host: str, port: int, code: int,
         server: bool) -> dict[str, Any]:
    """Attributes of a gRPC CLIENT or SERVER span."""
    out: dict[str, Any] = {"rpc.system": "grpc", "rpc.service": package, "rpc.method": method,
                           "rpc.grpc.status_code": code}
    if new:
        out["server.address"] = host
        out["server.port"] = port
        if server:
            out["network.peer.address"] = "10.0.0.1"
    else:
        out["net.peer.name" if not server else "net.host.name"] = host
        out["net.peer.port" if not server else "net.host.port"] = port
    return out


_QUERIES = {
    "SELECT": "SELECT id, name, price_units, updated_at FROM {table} WHERE id = $1",
    "INSERT": "INSERT INTO {table} (id, owner_id, created_at) VALUES ($1, $2, now())",
    "UPDATE": "UPDATE {table} SET quantity = quantity - $1 WHERE id = $2",
}


def db(new: bool, system: str, port: int, service: str, operation: str,
       table: str) -> tuple[str, dict[str, Any]]:
    """Span name and attributes of a database CLIENT span."""
    host = f"{service}-db"
    if system == "mongodb":
        statement = f'{{"find": "{table}", "filter": {{"_id": "?"}}}}'
        op = {"SELECT": "find", "INSERT": "insert", "UPDATE": "update"}[operation]
    else:
        statement = _QUERIES[operation].format(table=table)
        op = operation
    name = f"{op} {table}"
    if new:
        return name, {"db.system.name": system, "db.namespace": "shop",
                      "db.operation.name": op, "db.collection.name": table,
                      "db.query.text": statement, "server.address": host, "server.port": port}
    return name, {"db.system": system, "db.name": "shop", "db.operation": op,
                  "db.sql.table": table, "db.statement": statement, "net.peer.name": host,
                  "net.peer.port": port}


def cache(new: bool, service: str, command: str, key: str) -> tuple[str, dict[str, Any]]:
    """Span name and attributes of a Redis CLIENT span."""
    host = f"{service}-cache"
    if new:
        return command, {"db.system.name": "redis", "db.operation.name": command,
                         "db.query.text": f"{command} {key}", "server.address": host,
                         "server.port": 6379, "db.namespace": "0"}
    return command, {"db.system": "redis", "db.operation": command,
                     "db.statement": f"{command} {key}", "net.peer.name": host,
                     "net.peer.port": 6379, "db.redis.database_index": 0}


def messaging(new: bool, topic: str, operation: str, message_id: str, key: str,
              group: str | None) -> tuple[str, dict[str, Any]]:
    """Span name and attributes of a Kafka PRODUCER (``send``) or CONSUMER (``process``)."""
    name = f"{'publish' if operation == 'send' else 'process'} {topic}"
    if new:
        out: dict[str, Any] = {"messaging.system": "kafka",
                               "messaging.operation.type": operation,
                               "messaging.operation.name": "publish" if operation == "send"
                               else "process",
                               "messaging.destination.name": topic,
                               "messaging.message.id": message_id,
                               "messaging.kafka.message.key": key}
        if group:
            out["messaging.consumer.group.name"] = group
        return name, out
    out = {"messaging.system": "kafka", "messaging.operation":
           "publish" if operation == "send" else "process",
           "messaging.destination": topic, "messaging.message.id": message_id,
           "messaging.kafka.message.key": key}
    if group:
        out["messaging.kafka.consumer.group"] = group
    return name, out


_EXCEPTIONS = {
    "go": ("*errors.errorString", "rpc error: code = Unavailable desc = connection refused"),
    "java": ("java.lang.IllegalStateException", "inventory reservation failed"),
    "python": ("psycopg2.OperationalError", "could not serialize access due to concurrent update"),
    "node": ("Error", "upstream request failed"),
    "dotnet": ("System.InvalidOperationException", "the order could not be processed"),
}


def exception(language: str, rng: random.Random) -> dict[str, Any]:
    """Attributes of an ``exception`` span event of a service written in ``language``."""
    kind, message = _EXCEPTIONS.get(language, _EXCEPTIONS["go"])
    frame = rng.randint(20, 400)
    return {"exception.type": kind, "exception.message": message,
            "exception.stacktrace": f"{kind}: {message}\n\tat handler (main:{frame})"}
