"""Syntax and type errors: exact positions, caret lines and hints."""

from __future__ import annotations

import pytest

from workbench.errors import SpecError, SpecSyntaxError, SpecTypeError
from workbench.lang import parse_formula, parse_spec
from workbench.lang.ir import Type

VARS = {"s": Type.SPAN, "e": Type.EVENT}


def formula_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_formula(text, VARS)
    return info.value


def spec_error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "rules.otlspec")
    return info.value


# (formula, error class, line:col, words in the message, words in the hint)
FORMULA_ERRORS = [
    (
        'forall x in spans: x.nme == "a"',
        SpecTypeError,
        "1:22",
        "unknown span field `nme`",
        "`name`",
    ),
    (
        "e.span_id",
        SpecTypeError,
        "1:3",
        "unknown event field `span_id`",
        "event fields: name, time",
    ),
    ("forall x in spans: x.duration > 5", SpecTypeError, "1:33", "unit mismatch", "`5ms`"),
    ("s.duration + 5", SpecTypeError, "1:12", "unit mismatch", "write a unit"),
    ("forall x in spans: y.is_root", SpecTypeError, "1:20", "unknown name `y`", None),
    ("CLEINT == s.kind", SpecTypeError, "1:1", "unknown name `CLEINT`", "`CLIENT`"),
    ("len(s.name, s.name) > 1", SpecTypeError, "1:1", "len() takes 1 argument, got 2", None),
    ('event(s, "a", "b")', SpecTypeError, "1:1", "event() takes 1 or 2 arguments", None),
    ('s.name matches "(("', SpecTypeError, "1:16", "bad regular expression", None),
    ('s.kind == "CLIENT"', SpecTypeError, "1:8", "cannot compare kind with str", "CLIENT"),
    ("s.kind < CLIENT", SpecTypeError, "1:8", "does not order kind", None),
    ("s.start > 5ms", SpecTypeError, "1:9", "cannot compare time with duration", "subtract"),
    ("s.name + 1", SpecTypeError, "1:8", "cannot apply `+` to str and int", None),
    ("coutn(spans)", SpecTypeError, "1:1", "unknown function `coutn`", "`count`"),
    ("sum(spans)", SpecTypeError, "1:1", "sum() needs a variable and a value", "sum(x in S"),
    ("children(parent(s))", SpecTypeError, "1:10", "takes a span variable", None),
    ("events(e)", SpecTypeError, "1:8", "takes a span variable; `e` is an event", None),
    ('e.resource["k"]', SpecTypeError, "1:3", "events have no resource attributes", None),
    ("forall x in s.name: true", SpecTypeError, "1:13", "ranges over a set", None),
    (
        "{x in spans where x.name}",
        SpecTypeError,
        "1:19",
        "must be a boolean formula, not str",
        None,
    ),
    ("always[2s, 1s] true", SpecTypeError, "1:7", "empty interval", None),
    ("next[0s, 1s] true", SpecTypeError, "1:5", "`next` takes no interval", None),
    ("eventually[0, 5] true", SpecTypeError, "1:15", "interval bounds are durations", "`5ms`"),
    ("eventually[0s, nope] true", SpecTypeError, "1:16", "interval bound `nope`", None),
    ("forall spans in spans: true", SpecSyntaxError, "1:8", "`spans` is a reserved word", None),
    # syntax
    ("forall x in spans x.is_root", SpecSyntaxError, "1:19", "unexpected `x`", "':', 'where'"),
    ("forall x in spans:", SpecSyntaxError, "1:19", "unexpected end of input", "an expression"),
    ("s.duration > 5ms $", SpecSyntaxError, "1:18", "unexpected character '$'", "'and'"),
    ("1 < 2 < 3", SpecSyntaxError, "1:7", "unexpected `<`", "do not chain"),
    ('s.name == "abc', SpecSyntaxError, "1:11", "unterminated string", None),
    ("(s.is_root", SpecSyntaxError, "1:11", "unexpected end of input", "')'"),
    ("s.is_root)", SpecSyntaxError, "1:10", "unexpected `)`", "end of input"),
]


@pytest.mark.parametrize(("text", "cls", "where", "message", "hint"), FORMULA_ERRORS)
def test_formula_errors(text: str, cls: type, where: str, message: str, hint: str | None) -> None:
    err = formula_error(text)
    assert type(err) is cls, str(err)
    assert err.pos is not None and f"{err.pos.line}:{err.pos.column}" == where, str(err)
    assert message in err.message, str(err)
    if hint is not None:
        assert err.hint is not None and hint in err.hint, str(err)


def test_error_rendering_has_source_line_and_caret() -> None:
    err = formula_error('forall x in spans: x.nme == "a"')
    assert str(err).splitlines() == [
        "<string>:1:22: type error: unknown span field `nme`",
        '    forall x in spans: x.nme == "a"',
        "                         ^^^",
        "  hint: did you mean `name`?",
    ]


def test_multiline_positions() -> None:
    err = spec_error("property p {\n  check forall s in spans:\n    s.duration > 5\n}\n")
    assert str(err.pos) == "rules.otlspec:3:18"
    assert err.source_line == "    s.duration > 5"


def test_non_bool_check() -> None:
    err = spec_error("property p {\n  check count(spans)\n}")
    assert isinstance(err, SpecTypeError)
    assert str(err.pos) == "rules.otlspec:2:9"
    assert "`check` must be a boolean formula, not int" in err.message


def test_unbound_variable_in_check() -> None:
    err = spec_error("property p { check s.is_root }")
    assert str(err.pos) == "rules.otlspec:1:20" and "unknown name `s`" in err.message


def test_hole_with_variable_not_bound_by_leading_forall() -> None:
    text = 'property p {\n  message "span {x.name}"\n  check exists x in spans: x.is_root\n}'
    err = spec_error(text)
    assert isinstance(err, SpecTypeError)
    assert str(err.pos) == "rules.otlspec:2:18"  # inside the string
    assert "leading `forall`" in err.message


def test_hole_syntax_error_points_into_the_string() -> None:
    err = spec_error('property p {\n  message "a {s.} b"\n  check forall s in spans: true\n}')
    assert isinstance(err, SpecSyntaxError)
    assert str(err.pos) == "rules.otlspec:2:17"


def test_hole_must_be_a_value() -> None:
    err = spec_error('property p { message "{children(s)}" check forall s in spans: true }')
    assert "a message hole must be a value" in err.message


def test_duplicate_property() -> None:
    err = spec_error("property p { check true }\nproperty p { check false }")
    assert isinstance(err, SpecTypeError)
    assert str(err.pos) == "rules.otlspec:2:10"
    assert "defined twice" in err.message and "rules.otlspec:1:10" in (err.hint or "")


def test_duplicate_param() -> None:
    err = spec_error("let a = 1\nparam a = 2")
    assert str(err.pos) == "rules.otlspec:2:7" and "param `a` is defined twice" in err.message


def test_duplicate_item_and_missing_check() -> None:
    err = spec_error("property p { severity info severity error check true }")
    assert isinstance(err, SpecSyntaxError) and "`severity` given twice" in err.message
    err = spec_error("property p { severity info }")
    assert "has no `check`" in err.message and str(err.pos) == "rules.otlspec:1:10"


def test_bad_severity() -> None:
    err = spec_error("property p { severity fatal check true }")
    assert "unknown severity `fatal`" in err.message and "warning" in (err.hint or "")


def test_doc_comment_in_the_wrong_place() -> None:
    err = spec_error('/// doc\nimport "x.otlspec"')
    assert isinstance(err, SpecSyntaxError) and "doc comment" in (err.hint or "")


def test_let_values_are_literals() -> None:
    err = spec_error("let a = b")
    assert "`b` is not a literal" in err.message


def test_value_used_as_formula_hint() -> None:
    err = formula_error('forall x in spans where x.attributes["error"]: true')
    assert "`== true`" in (err.hint or "")


@pytest.mark.parametrize(
    ("text", "col", "suggested"),
    [
        ("s.kind == Clinet", 11, "`CLIENT`"),
        ("s.kind in [Clinet, SERVER]", 12, "`CLIENT`"),
        ("s.status == EROR", 13, "`ERROR`"),
        ("s.kind == client", 11, "`CLIENT`"),
        ("s.kind == Consumr", 11, "`CONSUMER`"),
    ],
)
def test_misspelt_enum_names_get_a_suggestion(text: str, col: int, suggested: str) -> None:
    err = formula_error(text)
    assert err.pos is not None and err.pos.column == col
    assert err.hint is not None and suggested in err.hint and "kinds: UNSPECIFIED" in err.hint


def test_misspelt_enum_in_a_param_default() -> None:
    err = spec_error("param k = Clinet\nproperty a { check true }")
    assert err.pos is not None and (err.pos.line, err.pos.column) == (1, 11)
    assert err.hint is not None and "`CLIENT`" in err.hint


@pytest.mark.parametrize(
    ("text", "hint_words"),
    [
        ("p98(x in spans where x.is_root: x.duration) > 0s", ["did you mean `p99`", "quantile"]),
        ("median(x in spans: x.duration) > 0s", ["aggregates are count, sum, min, max"]),
        ("lenght(s.name) > 3", ["did you mean `len`", "functions are abs"]),
    ],
)
def test_unknown_aggregate_like_function(text: str, hint_words: list[str]) -> None:
    err = formula_error(text)
    assert "unknown function" in err.message
    assert err.hint is not None and all(w in err.hint for w in hint_words), err.hint
