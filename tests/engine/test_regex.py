"""User regexes: RE2 where it keeps Python's meaning, ``re`` under a time budget otherwise;
catastrophic patterns neither hang the checker nor go unreported."""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.engine import check
from workbench.engine.regex import (
    BUDGET_ENV,
    RegexTimeout,
    backtracking_risk,
    compile_regex,
    lint_patterns,
    search,
)
from workbench.lang import parse_spec
from workbench.traces import load_traces

PATTERNS = [
    r"^(a+)+$",
    r"^[a-f0-9]{16}$",
    r"\d+ms",
    r"(?i)^get ",
    r"a|b$",
    r"^\s*$",
    r"[^\W\d]",
    r"[\S]+",
    r"\bab\b",
    r"\Bb",
    r"^https?://[^/]+/",
    r"x{3}",
    r"a.b",
    r"(?s)a.b",
    r"(?m)^b$",
    r"a$",
    r"\Aa",
    r"a\Z",
    r"[a-c]+?b",
    r"(?a)\w+\s",
    r"\w+",
    r"\D\S\W",
    r"é$",
    r"(?i)é",
    r"[^a]",
    r"a{2,}",
    r"(ab|a)*b$",
    r"",
    r"\n$",
    r"[\d\s]",
    r"(?:a|\n)$",
    # fallbacks: backrefs, lookaround, `$` followed by more pattern, local flags
    r"(a)\1",
    r"a(?=b)",
    r"(?<!a)b",
    r"a$\n",
    r"(?i:A)b",
]
ALPHABET = "ab_ \t\n\x0b\x1c\x1f9٣éKé\u212a/:x"


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pattern=st.sampled_from(PATTERNS), text=st.text(ALPHABET, max_size=12))
def test_same_answer_as_re(pattern: str, text: str) -> None:
    assert search(pattern, text) == (re.search(pattern, text) is not None), (pattern, text)


@pytest.mark.parametrize("pattern", [r"\s", r"\S", r"\w", r"\W", r"\d", r"\D", r"\b.", r"(?i)k"])
def test_categories_agree_on_every_ascii_character(pattern: str) -> None:
    for code in range(128):
        text = chr(code)
        assert search(pattern, text) == (re.search(pattern, text) is not None), (pattern, code)


def test_engines_chosen() -> None:
    assert compile_regex(r"^(a+)+$").engine == "re2"
    assert compile_regex(r"\w+").engine == "re2-ascii"
    assert compile_regex(r"(a)\1").engine == "re"


def test_catastrophic_pattern_is_linear_on_re2() -> None:
    started = time.perf_counter()
    assert not search(r"^(a+)+$", "a" * 5000 + "b")
    assert search(r"^(a+)+$", "a" * 5000 + "\n")
    assert time.perf_counter() - started < 1.0  # re takes longer than the universe's age


def test_fallback_runs_under_a_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUDGET_ENV, "0.2")
    with pytest.raises(RegexTimeout) as info:
        search(r"^(\w+)+$", "é" * 40 + "!")  # non-ASCII text: \w must be Python's
    err = info.value
    assert err.pattern == r"^(\w+)+$" and err.budget == 0.2
    assert BUDGET_ENV in str(err)


def test_a_pending_alarm_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BUDGET_ENV, "0.1")
    fired: list[int] = []
    old = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 50.0)
        assert search(r"(a)\1", "xaa")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 45.0 < left <= 50.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired


def _in_thread(fn: Callable[[], Any]) -> Any:
    """``fn()`` run on a worker thread (as ``otlspec serve`` runs checks); its value or error."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except Exception as err:  # handed back to the test
            out.append(err)

    t = threading.Thread(target=run)
    t.start()
    t.join(30)
    assert not t.is_alive()
    return out[0]


def test_the_budget_holds_on_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.engine.regex_budget import thread_helper

    monkeypatch.setenv(BUDGET_ENV, "0.2")
    assert _in_thread(lambda: search(r"(a)\1", "xaa")) is True
    assert _in_thread(lambda: search(r"(a)\1", "xab")) is False
    assert _in_thread(lambda: search("\ud800(?=x)", "\ud800x")) is True  # lone surrogate
    started = time.perf_counter()
    err = _in_thread(lambda: search(r"^(\w+)+$", "é" * 40 + "!"))
    assert isinstance(err, RegexTimeout) and err.budget == 0.2
    assert time.perf_counter() - started < 5

    def after_an_overrun() -> tuple[Any, ...]:  # the stuck helper is killed, a fresh one answers
        try:
            search(r"^(\w+)+$", "é" * 40 + "!")
        except RegexTimeout:
            pass
        return search(r"(a)\1", "xaa"), thread_helper().started

    assert _in_thread(after_an_overrun) == (True, 2)


def test_bulk_searches_on_worker_threads_are_pipelined(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many texts go to the thread's helper in a few writes, with answers equal to ``re``'s and
    each search still under its own budget."""
    monkeypatch.setenv(BUDGET_ENV, "0.2")
    pattern = r"(?<![a-z])(a)\1"  # lookbehind and a backreference: the ``re`` fallback only
    texts = [("xaa" if k % 3 else "xab") * (1 + k % 50) for k in range(3000)]
    texts.append("\ud800aa")  # a lone surrogate travels as JSON escapes
    want = [re.search(pattern, t) is not None for t in texts]
    assert _in_thread(lambda: compile_regex(pattern).search_many(texts)) == want
    slow = compile_regex(r"^(\w+)+$")
    started = time.perf_counter()
    err = _in_thread(lambda: slow.search_many(["ab", "é" * 40 + "!", "cd"]))
    assert isinstance(err, RegexTimeout) and err.text == "é" * 40 + "!"
    assert time.perf_counter() - started < 5


def test_backtracking_risk() -> None:
    for bad in (r"^(a+)+$", r"(a*)*", r"(\w+\s?)+$", r"(a|b+){2,}", r"^((a+)b?)+$"):
        assert backtracking_risk(bad), bad
    for ok in (r"^a+$", r"^[a-f0-9]{32}$", r"(ab)+", r"(a{2})+", r"\d+\.\d+", r"(a|b)*",
               r"((ab)*c)+", r"([.][A-Za-z0-9-]+)*", r"([ -]?[0-9]){12,18}"):
        assert backtracking_risk(ok) is None, ok


AMBIGUOUS = (r"(a|a)+", r"^(a|aa)+$", r"(ab|a|b)*$", r"(\d|\d\d)+$", r"(a.|.b)+$",
             r"^(x|x){2,}$")


def test_ambiguous_alternations_under_a_repeat_are_flagged() -> None:
    for bad in AMBIGUOUS:
        why = backtracking_risk(bad)
        assert why and "ambiguous alternation" in why, bad
    # exclusive alternatives, classes (re merges `(x|[a-z])` into one), a delimiter apart,
    # or no repeat at all
    for ok in (r"(x|[a-z])+$", r"(foo|foobar)+$", r"(ab|ac)+$", r"(ab|b)+$", r"(\w|_)+$",
               r"(a|aa)$", r"(a|aa){1}$", r"(,a|,aa)+$", r"(.|\n)+$", r"(?:[a-c]|b)+$"):
        assert backtracking_risk(ok) is None, ok


def test_the_flagged_alternations_really_backtrack() -> None:
    # one flagged and one unflagged pattern of the same size, on the same failing text; the
    # fastest of a few runs of each, so a descheduled moment on a busy machine does not count
    text = "a" * 18 + "!"

    def fastest(pattern: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            assert re.search(pattern, text) is None
            times.append(time.perf_counter() - started)
        return min(times)

    assert fastest(r"^(a|a)+$") > 50 * fastest(r"^(a|b)+$")


def _trace(tmp_path: Path, value: str) -> Path:
    spans = [
        {
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "name": "GET /x",
            "startTimeUnixNano": "1000",
            "endTimeUnixNano": "2000",
            "attributes": [{"key": "payload", "value": {"stringValue": value}}],
        }
    ]
    doc = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]
                },
                "scopeSpans": [{"spans": spans}],
            }
        ]
    }
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(doc))
    return path


SPEC = (
    'property no_as {{\n  check forall s in spans: not (s.attributes["payload"] matches "{p}")\n'
    "}}\n"
)


@pytest.mark.parametrize("backend", ["reference", "auto"])
def test_check_does_not_hang_on_a_catastrophic_pattern(tmp_path: Path, backend: str) -> None:
    table = load_traces([str(_trace(tmp_path, "a" * 5000 + "b"))])
    spec = parse_spec(SPEC.format(p=r"^(a+)+$"))
    result = check(spec, table, backend=backend)
    assert result.results[0].n_failed == 0
    table = load_traces([str(_trace(tmp_path, "a" * 5000))])
    assert check(spec, table, backend=backend).results[0].n_failed == 1


def test_budget_overrun_names_property_span_and_pattern(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(BUDGET_ENV, "0.2")
    spec = tmp_path / "bad.otlspec"
    spec.write_text(SPEC.format(p=r"^(\\w+)+$"))
    trace = _trace(tmp_path, "é" * 40 + "!")
    code = main(["check", str(spec), str(trace), "--backend", "reference", "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "property `no_as`" in err
    assert "span eee19b7ec3c1b174 ('GET /x'" in err
    assert "regex '^(\\\\w+)+$' exceeded its 0.2 s time budget" in err
    assert "Traceback" not in err


def test_lint_warns_about_ambiguous_alternations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "alt.otlspec"
    spec.write_text(SPEC.format(p=r"^(a|aa)+$"))
    assert main(["lint", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert "1 warning(s)" in out and "repeats an ambiguous alternation" in err
    assert "[no_as]" in err


def test_lint_warns_about_nested_quantifiers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "bad.otlspec"
    spec.write_text(SPEC.format(p=r"^(a+)+$"))
    assert len(lint_patterns(parse_spec(spec.read_text()))) == 1
    assert main(["lint", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert "1 warning(s)" in out
    assert "nests quantifiers" in err and "[no_as]" in err
    assert str(spec) + ":1:10" in err
