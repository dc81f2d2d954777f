"""Fixtures of the serve tests: servers on ephemeral loopback ports, OTLP request builders."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from workbench.lang import load_specs
from workbench.serve import ServeConfig, create_server
from workbench.serve.server import Server

LOOPBACK = "127.0.0.1"


@pytest.fixture(scope="session")
def stdlib_spec():  # type: ignore[no-untyped-def]
    return load_specs(["stdlib"])


def make_config(**overrides: object) -> ServeConfig:
    base: dict[str, object] = dict(grpc_port=0, http_port=0, api_port=0, store=":memory:",
                                   idle=0.05, max_age=30.0)
    base.update(overrides)
    return ServeConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(stdlib_spec) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    """One server for a whole test module (starting one loads the compiled kernels)."""
    srv = create_server(make_config(), stdlib_spec).start()
    yield srv
    srv.stop()


def span_request(spans: list[dict[str, object]], service: str = "svc") -> ExportTraceServiceRequest:
    """A request with ``spans`` (dicts of Span fields; ids as bytes) under one resource."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key = "service.name"
    kv.value.string_value = service
    ss = rs.scope_spans.add()
    ss.scope.name = "tests"
    for fields in spans:
        ss.spans.add(**fields)  # type: ignore[arg-type]
    return req


def post(port: int, body: bytes, content_type: str = "application/x-protobuf",
         encoding: str = "", path: str = "/v1/traces") -> tuple[int, dict[str, str], bytes]:
    """POST to the OTLP/HTTP receiver; returns status, headers and body (errors included)."""
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    req = urllib.request.Request(f"http://{LOOPBACK}:{port}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def get_json(port: int, path: str) -> object:
    import json

    with urllib.request.urlopen(f"http://{LOOPBACK}:{port}{path}", timeout=10) as resp:
        return json.loads(resp.read())


# ------------------------------------------------------------------ a private PostgreSQL server


def _pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (PATH, then Debian's /usr/lib/postgresql/*/bin)."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server of our own (initdb + pg_ctl in a temporary directory) on loopback.

    Skipped when the server binaries are absent (``.ci/postgres`` installs them). As root,
    the server runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
    """
    folder = _pg_bin()
    if folder is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: run .ci/postgres "
                    "or apt-get install postgresql")
    # not under pytest's tmp_path: as root that is mode 700, closed to the postgres user
    base = Path(tempfile.mkdtemp(prefix="otlspec-pg-"))
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server")
        os.chmod(base, 0o755)
        for p in (base, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")

    run(str(folder / "initdb"), "-D", str(data), "-U", "otlspec", "--auth=trust", "-E", "UTF8")
    run(str(folder / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
        "-o", f"-p {port} -k {sock} -c listen_addresses={LOOPBACK} -c fsync=off", "start")
    try:
        run(str(folder / "createdb"), "-h", LOOPBACK, "-p", str(port), "-U", "otlspec",
            "otlspec")
        yield f"postgresql://otlspec@{LOOPBACK}:{port}/otlspec"
    finally:
        run(str(folder / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
