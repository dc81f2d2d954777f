"""``format_source`` (otlspec fmt) and ``lint_spec`` (otlspec lint)."""

from __future__ import annotations

from pathlib import Path

from workbench.lang import format_source, lint_spec, parse_spec
from workbench.lang.passes import param_overrides

SOURCE = """# File comment.
#
# Second paragraph.

spec demo   "A demo"
import "common.otlspec"
let  limit=3   # trailing comment
/// Skew.
param skew = 5000us

# About p.
/// Doc of p.
property p { tags a,b
  check forall s in spans:
     s.depth < limit   # inside
  severity   warning }
property q { check true }
# The end.
"""

CANONICAL = """# File comment.
#
# Second paragraph.

spec demo "A demo"

import "common.otlspec"

# trailing comment
let limit = 3
/// Skew.
param skew = 5ms

# About p.
# inside
/// Doc of p.
property p {
  severity warning
  tags a, b
  check forall s in spans: s.depth < limit
}

property q {
  severity error
  check true
}

# The end.
"""


def test_format_source_keeps_structure_and_comments(tmp_path: Path) -> None:
    (tmp_path / "common.otlspec").write_text("property imported { check true }")
    path = str(tmp_path / "demo.otlspec")
    assert format_source(SOURCE, path) == CANONICAL
    assert format_source(CANONICAL, path) == CANONICAL


def test_format_source_ignores_hashes_in_strings() -> None:
    text = (
        'property p {\n  severity error\n  message "#{s.attributes["#k"]} {{#}}"\n'
        '  check forall s in spans: s.name != "#"\n}\n'
    )
    assert format_source(text) == text


def test_long_checks_are_broken_over_lines() -> None:
    conj = " and ".join(f'has(s.attributes["key{i}"])' for i in range(8))
    text = format_source(f"property p {{ check forall s in spans: {conj} }}")
    assert '  check forall s in spans:\n    has(s.attributes["key0"])\n      and has(' in text
    assert (
        parse_spec(text).properties
        == parse_spec(f"property p {{ check forall s in spans: {conj} }}").properties
    )


def test_param_overrides_returns_typed_values() -> None:
    spec = parse_spec('param skew = 5ms\nparam name = "x"\nproperty p { check true }')
    assert param_overrides(spec, {"skew": "1s", "name": "y"}) == {
        "skew": 1_000_000_000,
        "name": "y",
    }


def test_lint_spec() -> None:
    spec = parse_spec(
        "let unused = 1\n"
        "property p { check forall x in spans: forall x in spans where 1 > 2: true }\n"
        'property q { message "{r.name}" check forall r in roots: count(roots) == 1 }\n'
    )
    messages = [str(w) for w in lint_spec(spec)]
    assert (
        "<string>:2:10: warning: `x` shadows a variable of an enclosing quantifier [p]" in messages
    )
    assert any("the `where` condition of `x` is always false" in m for m in messages)
    assert any("the check is always true [p]" in m for m in messages)
    assert any("let `unused` is never used" in m for m in messages)
    assert not any("[q]" in m for m in messages)  # r is used by the message
