"""docs/language.md stays in sync with the grammar, the IR tables and the passes."""

from __future__ import annotations

import re
from pathlib import Path

from workbench.lang import RULES, ir
from workbench.lang.parser import GRAMMAR_FILE, keywords

MANUAL = (Path(__file__).resolve().parents[2] / "docs" / "language.md").read_text()


def test_manual_contains_the_grammar() -> None:
    grammar = GRAMMAR_FILE.read_text()
    rules = grammar[grammar.index("start:") :].rstrip("\n")
    assert f"```lark\n{rules}\n```" in MANUAL


def test_manual_field_tables() -> None:
    for fields in (ir.SPAN_FIELDS, ir.EVENT_FIELDS):
        for name, (typ, meaning) in fields.items():
            assert f"| `{name}` | `{typ}` | {meaning} |" in MANUAL, name


def test_manual_lists_reserved_words_and_rules() -> None:
    block = MANUAL[MANUAL.index("These words are reserved") :]
    block = block[block.index("```") + 3 : block.index("```", block.index("```") + 3)]
    assert set(block.split()) == keywords()
    for rule in RULES:
        assert f"| `{rule.name}` |" in MANUAL


def test_manual_examples_parse() -> None:
    from workbench.lang import parse_spec

    first = re.search(r"```otlspec\n(.*?)```", MANUAL, re.S)
    assert first is not None
    text = first.group(1).replace('import "common.otlspec"', "").replace("import stdlib.timing", "")
    spec = parse_spec(text)
    assert [p.name for p in spec.properties] == ["parent_exists", "server_answers_quickly"]
