"""Shared fixtures for the language tests."""

from __future__ import annotations

import pytest

from workbench.lang.ir import Const, Type

#: Free variables available to the table-driven formula tests.
VARIABLES = {"s": Type.SPAN, "t": Type.SPAN, "e": Type.EVENT}
#: Lets/params visible to them.
PARAMS = {
    "skew": Const(50_000_000, Type.DURATION),
    "limit": Const(128, Type.INT),
    "p": Const(True, Type.BOOL),
    "q": Const(False, Type.BOOL),
    "r": Const(True, Type.BOOL),
}


@pytest.fixture
def variables() -> dict[str, Type]:
    return dict(VARIABLES)


@pytest.fixture
def params() -> dict[str, Const]:
    return dict(PARAMS)
