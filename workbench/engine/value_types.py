"""``otlspec check --explain-types``: attributes a spec compares with numbers, seen as text
in the loaded data.

A comparison of text with a number is false, not an error (``docs/language.md`` 7.5), so
``s.attributes["http.status_code"] >= 500`` silently passes every span whose exporter wrote
the status code as the string ``"504"``. This report reads the table's attribute columns
(no checking) and names each such attribute with counts, examples and the fix
(``int(...)``/``float(...)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.engine.values import UNDEF, to_float, to_int
from workbench.lang import ir
from workbench.lang.ir import Type
from workbench.lang.lint import LintWarning
from workbench.lang.walk import postorder
from workbench.traces.model import ATTR_FLOAT, ATTR_INT, ATTR_STR, SpanTable

_NUMERIC = frozenset({Type.INT, Type.FLOAT, Type.DURATION, Type.TIME})
_NUMERIC_NODES = (ir.Arith, ir.Neg, ir.Aggregate, ir.Quantile)


@dataclass(frozen=True)
class NumberComparison:
    """An attribute read compared with a number in property ``property``."""

    property: str
    attr: ir.Attr


def _numeric(node: ir.Node) -> bool:
    if isinstance(node, ir.Const):
        return node.type in _NUMERIC
    if isinstance(node, ir.Field):
        found = ir.SPAN_FIELDS.get(node.name) or ir.EVENT_FIELDS.get(node.name)
        return found is not None and found[0] in _NUMERIC
    if isinstance(node, ir.Call):
        return node.func in ("int", "float", "len", "abs")
    return isinstance(node, _NUMERIC_NODES)


def number_comparisons(spec: ir.Spec) -> list[NumberComparison]:
    """Every ``attr op number`` and ``attr in [numbers]`` of ``spec`` (once per property and
    attribute)."""
    out: dict[tuple[str, ir.Attr], None] = {}
    for prop in spec.properties:
        for node in postorder(prop.formula):
            pairs: list[tuple[ir.Node, bool]] = []
            if isinstance(node, ir.Compare):
                pairs = [(node.left, _numeric(node.right)), (node.right, _numeric(node.left))]
            elif isinstance(node, ir.InList):
                numbers = any(i.type in _NUMERIC for i in node.items.items)
                pairs = [(node.operand, numbers)]
            for side, numeric in pairs:
                if numeric and isinstance(side, ir.Attr):
                    out[(prop.name, ir.Attr(ir.Var("s"), side.key, side.scope))] = None
    return [NumberComparison(name, attr) for name, attr in out]


def _label(attr: ir.Attr) -> str:
    word = {"span": "attributes", "resource": "resource", "event": "attributes"}[attr.scope]
    owner = "e" if attr.scope == "event" else "s"
    return f'{owner}.{word}["{attr.key}"]'


def explain_types(spec: ir.Spec, table: SpanTable) -> list[LintWarning]:
    """Warnings for the attributes ``spec`` compares with numbers whose loaded values include
    text: how many, examples, and whether the text reads as numbers (then ``int``/``float``
    is the fix)."""
    warnings: list[LintWarning] = []
    stores = {"span": table.attrs, "resource": table.resource_attrs, "event": table.event_attrs}
    for found in number_comparisons(spec):
        cols = stores[found.attr.scope]
        code = table.strings.lookup(found.attr.key)
        if code < 0:
            continue
        sel = np.nonzero(cols.key == code)[0]
        kinds = cols.type[sel]
        text = sel[kinds == ATTR_STR]
        if text.size == 0:
            continue
        numbers = int(np.count_nonzero((kinds == ATTR_INT) | (kinds == ATTR_FLOAT)))
        values = sorted({table.strings[int(c)] for c in np.unique(cols.sval[text])})
        numeric_text = [v for v in values if to_float(v) is not UNDEF]
        label = _label(found.attr)
        examples = ", ".join(f'"{v}"' for v in values[:3]) + (", ..." if len(values) > 3 else "")
        fix = "int" if all(to_int(v) is not UNDEF for v in numeric_text) else "float"
        message = (
            f"`{label}` is compared with a number, but {text.size} of {text.size + numbers} "
            f"loaded values are text ({examples}); text never compares with a number"
        )
        if numeric_text:
            message += f": write `{fix}({label})`"
        warnings.append(LintWarning(message, found.property, spec.positions.get(found.property)))
    return warnings

