"""A toy backend for tests/engine/test_backends.py: the whole of what a new backend needs is a
module like this one (a ``BACKEND`` object) and one line in ``engine.base.REGISTRY``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench.engine import reference
from workbench.engine.base import Outcome, Timings
from workbench.engine.capabilities import all_node_classes
from workbench.lang import ir
from workbench.lang.walk import postorder
from workbench.traces.model import SpanTable


class ToyBackend:
    """Runs the reference interpreter, but declares happens-before unsupported."""

    name = "toy"
    note = "interpreted by the toy"

    def __init__(self) -> None:
        self.capabilities: dict[Any, str] = {
            key: ("unsupported" if key is ir.HappensBefore else "interpreted")
            for key in all_node_classes()
        }
        self.calls: list[list[str]] = []

    def available(self) -> tuple[bool, str]:
        return True, "always here"

    def unsupported(self, prop: ir.Property, values: Mapping[str, Any]) -> str | None:
        for node in postorder(prop.formula):
            if self.capabilities[type(node)] == "unsupported":
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
