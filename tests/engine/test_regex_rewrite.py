"""Lookarounds in RE2 form: the edge rewrites are exact, the relaxed prefilter a superset.

Every answer is compared with Python's own ``re.search`` (the language's semantics), on
single texts (``search``, the per-text RE2 binding) and in bulk (``search_many``, RE2 inside
Arrow), with newlines, non-ASCII letters and digits, and lone surrogates among the texts.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine import regex as rx

EMAIL = ("(?<![A-Za-z0-9._%+/:-])[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*"
         "[.][A-Za-z]{2,}")
SSN = "(?<![0-9-])(?!000|666|9[0-9][0-9])[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9-])"

#: patterns whose lookarounds all sit at an edge: exact RE2 forms
EXACT = [
    EMAIL,
    r"(?<!a)b",
    r"(?<=a)b",
    r"(?<![ab-])c+",
    r"(?<=[^a])b",
    r"(?<!\d)[0-9]{2}",
    r"(?<![^x])y",
    r"a(?=b)",
    r"a+(?!b)",
    r"(?<!a)b(?![a\n])",
    r"(?m)(?<!a)^b",
    r"(?<!a)\bb",
    r"(?i)(?<!a)b",
    r"(?<!\n)$",
    r"(?<!a)",
    r"(?s)(?<![.])a.(?=\n)",
]
#: patterns with lookarounds inside: RE2 only as a prefilter, ``re`` decides
RELAXED = [
    SSN,
    r"(?!ab)a.",
    r"a(?=bc)",
    r"(?<=ab)c",
    r"(?:(?!x).)+y",
    r"^(a|b(?=a))+$",
    r"(?<!a)x(?=y)z",
]

texts = st.one_of(
    st.text(alphabet="ab-cxyz0123456789\n .@%4_:/éA٣", max_size=16),
    st.sampled_from(["a@b.co", "x a@b.com", "/a@b.com", "123-45-6789", "000-12-3456",
                     "x123-45-6789-", "4123-45-6789", "ab", "ba", "b", "\nb", "a\n"]),
    st.text(max_size=6),  # any code point, lone surrogates included
)


def _want(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def test_edge_lookarounds_get_an_exact_re2_form() -> None:
    for pattern in EXACT:
        compiled = rx.compile_regex(pattern)
        assert compiled.re2_pattern is not None, pattern
        assert compiled.prefilter is None
    for pattern in RELAXED:
        compiled = rx.compile_regex(pattern)
        assert compiled.re2_pattern is None and compiled.prefilter_pattern is not None, pattern


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(EXACT + RELAXED), texts)
def test_search_answers_as_re(pattern: str, text: str) -> None:
    assert rx.compile_regex(pattern).search(text) == _want(pattern, text)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(EXACT + RELAXED),
       st.lists(texts, min_size=rx._BULK_MIN, max_size=rx._BULK_MIN + 40))
def test_search_many_answers_as_re(pattern: str, items: list[str]) -> None:
    assert rx.compile_regex(pattern).search_many(items) == [_want(pattern, t) for t in items]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(RELAXED), texts)
def test_the_prefilter_is_a_superset(pattern: str, text: str) -> None:
    compiled = rx.compile_regex(pattern)
    if _want(pattern, text):
        assert not compiled._rejects(text)


def test_the_prefilter_spares_re_the_texts_it_rejects(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = rx.compile_regex(SSN)
    seen: list[str] = []

    def counting(_compiled: re.Pattern[str], _pattern: str, items: list[str]) -> list[bool]:
        seen.extend(items)
        return [_want(SSN, t) for t in items]

    monkeypatch.setattr(rx, "bounded_search_many", counting)
    items = [f"span {k}" for k in range(200)] + ["id 123-45-6789", "id 000-45-6789"]
    assert compiled.search_many(items) == [False] * 200 + [True, False]
    assert seen == ["id 123-45-6789", "id 000-45-6789"]
