"""The value library: one definition of equality, ordering, text and the built-ins, and the
other tables of built-in names (parser, type checker, kernels, Z3) agree with it."""

from __future__ import annotations

import random

import pytest

from workbench.engine import values as V
from workbench.engine.codegen_terms import CALL_TAGS
from workbench.engine.kernel_lib import luhn_int
from workbench.lang import functions, parser


def test_builtin_table_matches_parser_and_type_checker() -> None:
    assert {n: b.arity for n, b in V.BUILTINS.items()} == parser.SCALAR_FUNCTIONS
    assert {n: (b.accepts, b.returns) for n, b in V.BUILTINS.items()} == functions.CALL_SIGNATURES


def test_compiled_tags_cover_every_builtin() -> None:
    assert set(CALL_TAGS) == set(V.BUILTINS)
    assert set(V.TEXT_MAPS) <= set(V.BUILTINS)


def test_equality_and_ordering() -> None:
    assert V.equal(1, 1.0) and not V.equal(True, 1) and not V.equal("1", 1)
    assert V.equal(True, True) and not V.equal([1], (1,))
    assert V.order("<", 1, 2.5) and V.order(">=", "b", "a")
    assert not V.order("<", "a", 1) and not V.order("<", True, 2)
    with pytest.raises(ValueError):
        V.order("==", 1, 1)


def test_undefined_arguments() -> None:
    assert V.call("len", V.UNDEF) is V.UNDEF
    assert V.call("luhn", V.UNDEF) is False
    assert V.call("len", 3) is V.UNDEF and V.call("abs", -2) == 2
    assert V.call("canon", "Set-Cookie") == "setcookie" == V.canon("SET_cookie")
    assert V.call("str", True) == "true" and V.to_text(1.5) == "1.5"
    with pytest.raises(TypeError):
        V.call("len", "a", "b")


def test_luhn_one_definition() -> None:
    assert V.luhn("4111 1111 1111 1111") and not V.luhn("4111 1111 1111 1112")
    assert not V.luhn(True) and not V.luhn("4111") and not V.luhn(None)
    rng = random.Random(7)
    for _ in range(300):
        body = "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(12, 18)))
        number = body + V.luhn_check_digit(body)
        assert V.luhn(number) and V.luhn(int(number)) == luhn_int(int(number))
        wrong = body + str((int(number[-1]) + 1) % 10)
        assert not V.luhn(wrong)
        assert V.luhn(int(wrong)) == luhn_int(int(wrong))
