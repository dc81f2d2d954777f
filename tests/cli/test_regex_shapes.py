"""``otlspec lint`` flags the catastrophic-backtracking shapes with repeats inside the
repeated body, and stays silent on the harmless look-alikes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import STDLIB, Run
from workbench.engine.regex_lint import _ambiguous, backtracking_risk

FLAGGED = (r"(a|a+b?)+", r"^(a|a+b?)+$", r"(a+a)+", r"^(a+a)+$", r"(x*y|x)+$",
           r"([0-9]+[0-9])*z", r"(a+a)*", r"(a+a|c)+$")
HARMLESS = (r"(\w|_)+", r"(ab|cd)+", r"[a-z]+", r"(a+b)+", r"([.][a-z]+)*", r"(\w+\.)+$",
            r"(ab|a)+", r"([a-z]+-)*[a-z]+$", r"(\d+,)*\d+$", r"(a++a)+", r"(?:[^/]+/)*x",
            r"(a+b|c)+$", r"(a+b|c+d)+$")


@pytest.mark.parametrize("pattern", FLAGGED)
def test_repeats_inside_an_ambiguous_body_are_flagged(pattern: str) -> None:
    assert backtracking_risk(pattern), pattern


@pytest.mark.parametrize("pattern", HARMLESS)
def test_harmless_look_alikes_are_not_flagged(pattern: str) -> None:
    assert backtracking_risk(pattern) is None, pattern


def test_the_alternation_is_itself_found_ambiguous() -> None:
    """``(a|a+b?)`` matches ``aa`` as one iteration and as two: ambiguous, not only nested."""
    body = re.compile(r"(a|a+b?)").pattern
    from re import _parser as sre

    assert _ambiguous(sre.parse(body))
    assert not _ambiguous(sre.parse(r"(ab|cd)"))
    why = backtracking_risk(r"(a+a)+")
    assert why and "ambiguous" in why


def test_lint_warns_on_the_new_shapes_and_not_on_the_stdlib(run: Run, tmp_path: Path) -> None:
    spec = tmp_path / "r.otlspec"
    spec.write_text(
        "property p {\n  check forall s in spans: not s.name matches \"^(a+a)+$\"\n}\n"
    )
    code, out, err = run("lint", spec)
    assert "exponential" in out + err and "(a+a)+" in out + err, (code, out, err)
    code, out, err = run("lint", STDLIB)
    assert "exponential" not in out + err, out + err
