"""``Regex.search_many`` (RE2 in bulk through Arrow, the rest per text) answers as ``search``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.engine import regex as rx

PATTERNS = [
    "^[0-9a-f]{16}$",
    "^([0-9a-f]{16}){1,2}$",
    r"\d{3}-\d{2}",  # ASCII-only RE2 form: non-ASCII texts go per text
    r"(?i)straße|ABC",
    r"^\w+$",
    "(?<![A-Za-z0-9._%+/:-])[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}",
    r"a$",
    "^unknown_service",
]
texts = st.lists(
    st.one_of(
        st.text(alphabet="0123456789abcdefé@.-_ \nßS٣", max_size=20),
        st.sampled_from(["a@b.co", "x a@b.com", "0123456789abcdef", "straSSe", "a\n", "١٢٣-٤٥"]),
        st.text(max_size=8),  # lone surrogates included: Arrow refuses them, per-text answers
    ),
    min_size=rx._BULK_MIN,
    max_size=rx._BULK_MIN + 40,
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(PATTERNS), texts)
def test_search_many_matches_search(pattern: str, items: list[str]) -> None:
    compiled = rx.compile_regex(pattern)
    assert compiled.search_many(items) == [compiled.search(t) for t in items]


def test_bulk_path_is_taken_when_pyarrow_is_there() -> None:
    pytest.importorskip("pyarrow")
    compiled = rx.compile_regex("^[0-9a-f]{16}$")
    assert compiled.re2_pattern is not None
    items = ["0123456789abcdef", "nope"] * rx._BULK_MIN
    done = rx._arrow_search(compiled.re2_pattern, items, compiled.ascii_only)
    assert done is not None and done[0].tolist() == [True, False] * rx._BULK_MIN


def test_bulk_fallback_keeps_the_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rx.BUDGET_ENV, "0.05")
    compiled = rx.compile_regex(r"^(a+)+(?=b)$")  # lookahead: the backtracking engine only
    assert compiled.re2_pattern is None
    with pytest.raises(rx.RegexTimeout) as info:
        # a text the relaxed RE2 prefilter (``^(a+)+$``) lets through: ``re`` must decide it
        compiled.search_many(["ok"] * 3 + ["a" * 40 + "\n"])
    assert info.value.text == "a" * 40 + "\n"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="0123456789 -x٣", max_size=24),
                          st.text(alphabet="0123456789", min_size=12, max_size=20),
                          st.sampled_from(["4111 1111 1111 1111", "4111111111111112",
                                           "4111111111111111", ""]),
                          st.text(max_size=5)), max_size=30))
def test_bulk_luhn_matches_luhn(items: list[str]) -> None:
    from workbench.engine.text_bulk import luhn_many
    from workbench.engine.values import luhn

    assert luhn_many(items).tolist() == [luhn(t) for t in items]
    assert luhn_many(["4111111111111111", ""]).tolist() == [True, False]  # an empty last text


fixed_ids = st.lists(
    st.text(alphabet="0123456789abcdefABXZ-_ \n", min_size=16, max_size=16),
    min_size=rx._BULK_MIN,
    max_size=rx._BULK_MIN + 40,
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(PATTERNS), fixed_ids)
def test_search_fixed_matches_search(pattern: str, items: list[str]) -> None:
    """The id-block path (RE2 over an ``S16`` buffer) answers as ``search`` per text."""
    pytest.importorskip("pyarrow")
    np = pytest.importorskip("numpy")
    compiled = rx.compile_regex(pattern)
    got = compiled.search_fixed(np.asarray([t.encode() for t in items], dtype="S16"))
    if compiled.re2_pattern is None:
        assert got is None
    else:
        assert got is not None
        assert got.tolist() == [compiled.search(t) for t in items]


def test_search_fixed_declines_short_items() -> None:
    pytest.importorskip("pyarrow")
    np = pytest.importorskip("numpy")
    items = np.asarray([b"0123456789abcdef"] * rx._BULK_MIN + [b"abc"], dtype="S16")
    assert rx.compile_regex("^[0-9a-f]{16}$").search_fixed(items) is None
