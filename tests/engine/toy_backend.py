"""A toy backend for tests/engine/test_backends.py: the whole of what a new backend needs is a
module like this one (a ``BACKEND`` object) and one line in ``engine.base.REGISTRY``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.engine import reference
from workbench.engine.base import Outcome, Timings
from workbench.engine.capabilities import capability_keys, lookup, temporal_key
from workbench.lang import ir
from workbench.lang.walk import postorder
from workbench.traces.model import SpanTable

UNHANDLED = (ir.HappensBefore, temporal_key("since"))


class ToyBackend:
    """Runs the reference interpreter, but declares happens-before unsupported."""

    name = "toy"
    note = "interpreted by the toy"

    def __init__(self) -> None:
        self.capabilities: dict[Any, str] = {
            key: "unsupported" if key in UNHANDLED else "interpreted" for key in capability_keys()
        }
        self.calls: list[list[str]] = []

    def available(self) -> tuple[bool, str]:
        return True, "always here"

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        for node in postorder(prop.formula):
            if lookup(self.capabilities, node) == "unsupported":
                return f"`{type(node).__name__}` is not handled by the toy"
        return None

    def check(self, props: Sequence[ir.Property], table: SpanTable, values: Mapping[str, Any],
              timings: Timings | None = None) -> list[Outcome]:
        self.calls.append([p.name for p in props])
        out: list[Outcome] = []
        for prop in props:
            why = self.unsupported(prop, values)
            if why is not None:
                out.append(NotImplementedError(why))
                continue
            result = reference.check_property(prop, table, values)
            result.backend = self.name
            out.append(result)
        return out


BACKEND = ToyBackend()
