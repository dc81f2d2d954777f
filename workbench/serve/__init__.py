"""``otlspec serve``: an OTLP endpoint that checks traces as they arrive.

Receivers (OTLP/gRPC and OTLP/HTTP) decode and enqueue; the assembler joins the pieces of each
trace and decides when it is complete; the checker runs the batch engine on completed traces and
stores verdicts (SQLite or PostgreSQL); a read-only JSON API serves them.

Main entry points
-----------------
:class:`ServeConfig`
    Every port, limit and path of one server.
:func:`create_server`
    ``ServeConfig`` -> :class:`Server` (``start``/``flush``/``stop``, or a context manager).
:func:`open_store`
    A results store from a SQLite path or a ``postgresql://`` URL.
"""

from __future__ import annotations

from workbench.serve.config import ServeConfig
from workbench.serve.server import Server, create_server
from workbench.serve.store import Store, open_store

__all__ = ["ServeConfig", "Server", "Store", "create_server", "open_store"]
