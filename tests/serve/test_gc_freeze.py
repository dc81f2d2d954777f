"""After its warm-up a server moves what is alive to the collector's permanent generation
(:func:`workbench.serve.server.freeze_gc`), so batch checks do not traverse it again."""

from __future__ import annotations

import gc

import pytest

from tests.serve.conftest import make_config
from workbench.serve import create_server
from workbench.serve import server as server_module


@pytest.mark.parametrize("warm", [True, False])
def test_start_freezes_the_heap_after_the_warm_up(
        stdlib_spec, monkeypatch: pytest.MonkeyPatch, warm: bool) -> None:  # type: ignore[no-untyped-def]
    events: list[str] = []
    monkeypatch.setattr(server_module.Server, "warm_up", lambda self: events.append("warm"))
    monkeypatch.setattr(server_module, "freeze_gc", lambda: events.append("freeze") or True)
    srv = create_server(make_config(api_port=None, http_port=None), stdlib_spec)
    srv.start(warm=warm)
    try:
        assert srv.ready()
        assert events == (["warm", "freeze"] if warm else [])
    finally:
        srv.stop()


def test_freeze_gc_freezes_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        monkeypatch.setenv(server_module.FREEZE_ENV, "0")
        gc.unfreeze()
        assert server_module.freeze_gc() is False
        assert gc.get_freeze_count() == 0
        monkeypatch.delenv(server_module.FREEZE_ENV)
        assert server_module.freeze_gc() is True
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
