"""``otlspec lint``: suspicious but legal constructs in a typed spec.

Besides the checks on the typed IR (:func:`lint_spec`), lint reads the spec's source files
again for what the IR cannot show: the places whose meaning changed when ``not`` came to bind
tighter than ``until``/``since`` (``not p until q`` used to read ``not (p until q)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import SourcePos, SpecError
from workbench.lang import ir
from workbench.lang.ir import Const, Node, Spec
from workbench.lang.parser import parse_file
from workbench.lang.passes import FALSE, normalize
from workbench.lang.walk import binder_of, child_fields, free_vars, postorder


@dataclass(frozen=True)
class LintWarning:
    """A suspicious but legal construct found by :func:`lint_spec`."""

    message: str
    property: str | None = None
    pos: SourcePos | None = None

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        what = f" [{self.property}]" if self.property else ""
        return f"{where}warning: {self.message}{what}"


def _lint_formula(formula: Node, message_vars: frozenset[str]) -> list[str]:
    found: list[str] = []

    def visit(node: Node, scope: frozenset[str]) -> None:
        var, scoped = binder_of(node)
        for name in child_fields(type(node)):
            value = getattr(node, name)
            for sub in value if isinstance(value, tuple) else (value,):
                if isinstance(sub, Node):
                    visit(sub, scope | {var} if var and name in scoped else scope)
        if not isinstance(node, ir.Quant):
            return
        if node.var in scope:
            found.append(f"`{node.var}` shadows a variable of an enclosing quantifier")
        used = free_vars(node.body) | (free_vars(node.guard) if node.guard else message_vars)
        used |= message_vars
        if node.var not in used:
            found.append(f"`{node.kind} {node.var}` binds a variable that is never used")
        if node.guard is not None and normalize(node.guard) == FALSE:
            found.append(f"the `where` condition of `{node.var}` is always false")

    visit(formula, frozenset())
    folded = normalize(formula)
    if isinstance(folded, Const):
        found.append(f"the check is always {'true' if folded.value else 'false'}")
    return found


def lint_spec(spec: Spec, texts: Mapping[str, str] | None = None) -> list[LintWarning]:
    """Find suspicious but legal constructs in a typed spec.

    Parameters
    ----------
    spec:
        A loaded spec.
    texts:
        Source texts by file name, for the precedence-change check; a property's file that
        is not given is read from disk when it exists (text specs, ``<string>``, are skipped
        unless given).

    Returns
    -------
    list[LintWarning]
        Checks that are constant after normalization, ``where`` guards that are always
        false, quantified variables never used (in the formula or the message), variables
        shadowing an outer one, lets/params that no property uses, and ``not P until Q`` /
        ``not P since Q`` written without parentheses (its meaning changed: see
        :class:`~workbench.lang.source.PrecedenceChange`).
    """
    warnings: list[LintWarning] = []
    used: set[str] = set()
    for prop in spec.properties:
        for node in postorder(prop):
            if isinstance(node, ir.ParamRef):
                used.add(node.name)
            elif isinstance(node, ir.Interval):
                used.update(n for n in (node.lo_name, node.hi_name) if n)
        pos = spec.positions.get(prop.name)
        holes = free_vars(prop.message) if prop.message else frozenset()
        warnings += [LintWarning(m, prop.name, pos) for m in _lint_formula(prop.formula, holes)]
    for param in spec.params:
        if param.name not in used:
            kind = "param" if param.overridable else "let"
            warnings.append(LintWarning(f"{kind} `{param.name}` is never used"))
    return warnings + precedence_warnings(spec, texts)


def precedence_warnings(spec: Spec, texts: Mapping[str, str] | None = None) -> list[LintWarning]:
    """The ``not P until Q`` places of ``spec``'s own source files (see :func:`lint_spec`)."""
    files: dict[str, list[str]] = {}
    for prop in spec.properties:
        pos = spec.positions.get(prop.name)
        if pos is not None:
            files.setdefault(pos.file, []).append(prop.name)
    out: list[LintWarning] = []
    for file, names in files.items():
        text = (texts or {}).get(file)
        if text is None:
            path = Path(file)
            if file.startswith("<") or not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue  # it loaded a moment ago; lint only what it can still read
        try:
            raw = parse_file(text, file)
        except SpecError:
            continue  # changed on disk since loading: the load error is the one to show
        wanted = set(names)
        for change in raw.precedence_changes:
            owner = next(
                (p.name for p in raw.properties
                 if p.lines[0] <= change.pos.line <= p.lines[1] and p.name in wanted),
                None,
            )
            if owner is not None:
                out.append(LintWarning(change.message, owner, change.pos))
    return out
