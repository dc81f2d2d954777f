"""The immutable intermediate representation of otlspec properties.

Every backend (reference interpreter, numba, cupy, Z3, stream monitor) consumes these nodes
and nothing else: parse trees never leave :mod:`workbench.lang`.

Design
------
* Nodes are frozen, slotted dataclasses; equality and hashing are structural, so equal
  sub-formulas are equal keys in memo tables (compile once, reuse).
* Source positions are *not* stored in nodes (that would break structural equality);
  :class:`workbench.lang.parser` keeps them in a side table keyed by node identity.
* Multi-binder quantifiers (``forall a in S, b in T``) are desugared into nested
  single-binder :class:`Quant` nodes; ``where`` guards sit on the innermost binder.
* Durations and timestamps are integers in nanoseconds.

The meaning of each node is specified in ``docs/language.md``; the reference interpreter in
:mod:`workbench.engine.reference` is a direct reading of that document.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, TypeAlias, get_args

from workbench.errors import SourcePos


class Type(enum.Enum):
    """Static types of expressions."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STR = "str"
    DURATION = "duration"  # signed nanoseconds
    TIME = "time"  # nanoseconds since the Unix epoch
    KIND = "kind"  # span kind enum
    STATUS = "status"  # status code enum
    ID = "id"  # trace / span id, compared as lowercase hex text
    VALUE = "value"  # dynamically typed attribute value (str, int, float, bool, list)
    SPAN = "span"
    EVENT = "event"
    SPANS = "set<span>"
    EVENTS = "set<event>"
    LIST = "list"

    def __str__(self) -> str:
        return self.value


#: Span kind names, in OTLP enum order (``SPAN_KIND_UNSPECIFIED`` = 0 ...).
KINDS: tuple[str, ...] = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
#: Status code names, in OTLP enum order (``STATUS_CODE_UNSET`` = 0 ...).
STATUSES: tuple[str, ...] = ("UNSET", "OK", "ERROR")
#: Duration units and their size in nanoseconds.
UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}

#: Span fields, their static type, and a one-line meaning (the language manual's table).
SPAN_FIELDS: dict[str, tuple[Type, str]] = {
    "trace_id": (Type.ID, "trace id as lowercase hex (32 digits when well-formed)"),
    "span_id": (Type.ID, "span id as lowercase hex (16 digits when well-formed)"),
    "parent_id": (Type.ID, "parent span id as lowercase hex, empty text for a root"),
    "name": (Type.STR, "span name"),
    "kind": (Type.KIND, "span kind"),
    "status": (Type.STATUS, "status code"),
    "status_message": (Type.STR, "status message"),
    "start": (Type.TIME, "start timestamp"),
    "end": (Type.TIME, "end timestamp"),
    "duration": (Type.DURATION, "end - start"),
    "service": (Type.STR, "resource attribute service.name ('' when absent)"),
    "scope": (Type.STR, "instrumentation scope name"),
    "depth": (Type.INT, "number of spans in ancestors(s) (0 for a root or an orphan)"),
    "is_root": (Type.BOOL, "the span names no parent"),
    "has_end": (Type.BOOL, "the source recorded an end time / duration"),
    "flags": (Type.INT, "OTLP span flags as loaded: bits 0-7 W3C trace flags, "
              "8-9 parent is-remote (0x301 is 769)"),
    "sampled": (Type.BOOL, "trace flags bit 0"),
    "trace_state": (Type.STR, "W3C trace state"),
    "event_count": (Type.INT, "number of span events"),
    "link_count": (Type.INT, "number of span links (in this trace or not)"),
    "attribute_count": (Type.INT, "number of span attributes"),
}

#: Event fields.
EVENT_FIELDS: dict[str, tuple[Type, str]] = {
    "name": (Type.STR, "event name"),
    "time": (Type.TIME, "event timestamp"),
}

#: Span-set relations ``rel(s)``.
RELATIONS: tuple[str, ...] = (
    "parent",
    "children",
    "ancestors",
    "descendants",
    "siblings",
    "linked",
)

AttrScope = Literal["span", "resource", "event"]
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
ArithOp = Literal["+", "-", "*", "/", "%"]
AggOp = Literal["count", "sum", "min", "max", "avg", "distinct"]
QuantKind = Literal["forall", "exists"]
TemporalOp = Literal[
    "always",
    "eventually",
    "next",
    "wnext",
    "until",
    "historically",
    "once",
    "previously",
    "since",
]
Severity = Literal["error", "warning", "info"]

#: Every temporal operator kind, in the manual's order (the values :class:`Temporal` accepts).
TEMPORAL_OPS: tuple[str, ...] = get_args(TemporalOp)
FUTURE_OPS: frozenset[str] = frozenset({"always", "eventually", "next", "wnext", "until"})
PAST_OPS: frozenset[str] = frozenset({"historically", "once", "previously", "since"})
BINARY_TEMPORAL: frozenset[str] = frozenset({"until", "since"})
INTERVAL_OPS = frozenset({"always", "eventually", "until", "historically", "once", "since"})
#: Folding (passes.temporal_constants), each op in one: `op .. false` false, `op .. true` true.
FALSE_WHEN_FALSE = frozenset({"eventually", "once", "next", "previously", "until", "since"})
TRUE_WHEN_TRUE = frozenset({"always", "historically", "wnext"})


@dataclass(frozen=True)
class Node:
    """Base class of every IR node.

    The hash of a node is computed once and kept in the ``_hash`` slot (not a dataclass
    field: it takes no part in equality, ``fields()``, ``replace`` or pickling), so memo
    tables keyed by nodes do not re-hash whole subtrees. Nodes are weakly referenceable
    (:func:`workbench.lang.construct.intern` hash-conses them).
    """

    __slots__ = ("__weakref__", "_hash")

    def children(self) -> tuple[Node, ...]:
        """Direct sub-nodes, in field order (tuples of nodes are flattened)."""
        out: list[Node] = []
        for name in CHILD_FIELDS[type(self)]:
            value = getattr(self, name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, tuple):
                out.extend(v for v in value if isinstance(v, Node))
        return tuple(out)


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True, slots=True)
class Const(Node):
    """A literal: bool, int, float, str, a duration (int ns), or an enum member name."""

    value: bool | int | float | str
    type: Type


@dataclass(frozen=True, slots=True)
class ParamRef(Node):
    """A reference to a ``let`` constant or ``param``; :func:`workbench.lang.passes.bind_params`
    replaces it with the bound :class:`Const` before a backend compiles the formula."""

    name: str
    type: Type


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    """A literal list, used on the right of ``in``."""

    items: tuple[Const, ...]


@dataclass(frozen=True, slots=True)
class Var(Node):
    """A bound variable (a span or an event)."""

    name: str


@dataclass(frozen=True, slots=True)
class Field(Node):
    """A field of a span or event variable: ``s.start``, ``e.name``."""

    base: Var
    name: str


@dataclass(frozen=True, slots=True)
class Attr(Node):
    """An attribute lookup: ``s.attributes["k"]``, ``s.resource["k"]``, ``e.attributes["k"]``."""

    base: Var
    key: str
    scope: AttrScope = "span"


@dataclass(frozen=True, slots=True)
class Neg(Node):
    """Arithmetic negation ``-x``."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Arith(Node):
    """Binary arithmetic ``left op right``."""

    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A built-in scalar function: ``len(x)``, ``lower(x)``, ``abs(x)``, ``luhn(x)``..."""

    func: str
    args: tuple[Node, ...]


# --------------------------------------------------------------------------- span sets


@dataclass(frozen=True, slots=True)
class Spans(Node):
    """All spans of the trace under check."""


@dataclass(frozen=True, slots=True)
class Roots(Node):
    """Spans that name no parent."""


@dataclass(frozen=True, slots=True)
class Rel(Node):
    """A structural relation of a span: ``children(s)``, ``ancestors(s)``... (:data:`RELATIONS`)."""

    rel: str
    arg: Var


@dataclass(frozen=True, slots=True)
class Events(Node):
    """The span events of a span: ``events(s)``."""

    arg: Var


@dataclass(frozen=True, slots=True)
class Comprehension(Node):
    """``{x in S where G}``: the members of ``S`` satisfying ``G``."""

    var: str
    domain: Node
    guard: Node


# --------------------------------------------------------------------------- aggregates


@dataclass(frozen=True, slots=True)
class Aggregate(Node):
    """``count(S)``, ``sum(x in S: e)``, ``min``, ``max``, ``avg``, ``distinct(x in S: e)``.

    ``var``/``body`` are ``None`` for ``count``; ``distinct`` counts distinct ``body`` values.
    The aggregate of an empty set is 0 for count/sum/distinct and *undefined* for min/max/avg
    (an atom that reads an undefined value is false).
    """

    op: AggOp
    domain: Node
    var: str | None = None
    body: Node | None = None


@dataclass(frozen=True, slots=True)
class Quantile(Node):
    """``quantile(q, x in S: e)`` (sugar: ``p50``, ``p90``, ``p95``, ``p99``): the nearest-rank
    ``q``-quantile (``0 <= q <= 1``) of the defined numeric values of ``e``; undefined for none.

    With the ``n`` values in ascending order (a stable sort in member order), it is the
    ``max(1, ceil(q * n))``-th, ``q`` read as the exact decimal it is written as
    (:func:`workbench.engine.values.quantile_rank`).
    """

    q: float
    domain: Node
    var: str
    body: Node


# --------------------------------------------------------------------------- formulas


@dataclass(frozen=True, slots=True)
class Compare(Node):
    """``left op right``; false when either side is undefined (absent attribute, empty min)."""

    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Match(Node):
    """``x matches "regex"`` (Python ``re.search``); false when ``x`` is undefined or not a
    string."""

    operand: Node
    pattern: str


@dataclass(frozen=True, slots=True)
class InList(Node):
    """``x in [a, b, c]``; false when ``x`` is undefined."""

    operand: Node
    items: ListLit


@dataclass(frozen=True, slots=True)
class Member(Node):
    """``x in S`` for a span set ``S``."""

    elem: Var
    domain: Node


@dataclass(frozen=True, slots=True)
class Has(Node):
    """``has(x)``: the attribute or field ``x`` is present (defined)."""

    operand: Node


@dataclass(frozen=True, slots=True)
class HappensBefore(Node):
    """``a hb b``: span ``a`` happens before span ``b`` (see the manual's causality section)."""

    left: Var
    right: Var


@dataclass(frozen=True, slots=True)
class Not(Node):
    """Negation."""

    arg: Node


@dataclass(frozen=True, slots=True)
class And(Node):
    """Conjunction (flattened, at least two arguments)."""

    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or(Node):
    """Disjunction (flattened, at least two arguments)."""

    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Implies(Node):
    """Implication ``left -> right``."""

    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Quant(Node):
    """``forall var in domain where guard: body`` / ``exists ...``; ``guard`` may be ``None``."""

    kind: QuantKind
    var: str
    domain: Node
    guard: Node | None
    body: Node


# --------------------------------------------------------------------------- temporal


@dataclass(frozen=True, slots=True)
class Interval(Node):
    """A closed interval ``[lo, hi]`` of nanoseconds; ``hi`` is ``None`` for infinity.

    ``lo_name``/``hi_name`` name the ``let``/``param`` a bound was written with (``lo``/``hi``
    then hold its value): the printer keeps the name and
    :func:`workbench.lang.passes.bind_params` recomputes the bound from an override and clears
    the name. Backends read ``lo``/``hi`` only.
    """

    lo: int = 0
    hi: int | None = None
    lo_name: str | None = None
    hi_name: str | None = None

    @property
    def unbounded(self) -> bool:
        """Whether this is ``[0, inf]`` (the default)."""
        return self.lo == 0 and self.hi is None


@dataclass(frozen=True, slots=True)
class StartOf(Node):
    """Timeline atom: the current position is the start of span ``s``."""

    arg: Var


@dataclass(frozen=True, slots=True)
class EndOf(Node):
    """Timeline atom: the current position is the end of span ``s``."""

    arg: Var


@dataclass(frozen=True, slots=True)
class EventOf(Node):
    """Timeline atom: the current position is a span event of ``s`` (named ``name`` when given)."""

    arg: Var
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Temporal(Node):
    """A metric temporal operator over the trace timeline; ``args`` has 1 or 2 formulas."""

    op: TemporalOp
    args: tuple[Node, ...]
    interval: Interval = field(default_factory=Interval)

    def __post_init__(self) -> None:
        # an unknown op must fail here, not take another operator's branch in a backend
        if self.op not in TEMPORAL_OPS:
            raise ValueError(f"unknown temporal operator {self.op!r}; one of "
                             + ", ".join(TEMPORAL_OPS))
        arity = 2 if self.op in BINARY_TEMPORAL else 1
        if len(self.args) != arity:
            raise ValueError(f"`{self.op}` takes {arity} formula(s), not {len(self.args)}")


# --------------------------------------------------------------------------- declarations


Formula: TypeAlias = Node
Expr: TypeAlias = Node


@dataclass(frozen=True, slots=True)
class Template(Node):
    """A message template: literal text and ``{expr}`` holes over the property's bound variables."""

    parts: tuple[str | Node, ...]


@dataclass(frozen=True, slots=True)
class Property(Node):
    """A named, checkable property."""

    name: str
    formula: Node
    severity: Severity = "error"
    message: Template | None = None
    tags: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Param(Node):
    """``param NAME = default`` (overridable: ``--param NAME=VALUE``) or ``let NAME = value``."""

    name: str
    default: Const
    overridable: bool = True
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Spec(Node):
    """A parsed, resolved spec file: its own properties plus those it imports."""

    name: str
    description: str
    params: tuple[Param, ...]
    properties: tuple[Property, ...]
    imports: tuple[str, ...] = ()
    source: str = ""  # path of the file it came from ('' for text)
    #: Where each property (by name) is defined; not part of equality.
    positions: Mapping[str, SourcePos] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def property(self, name: str) -> Property:
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise KeyError(name)


#: The fields of each node class that hold sub-nodes (or tuples of them), in field order.
#: Written out, not derived: a new node class without an entry fails ``tests/lang`` (and
#: every walker, which reads this table).
CHILD_FIELDS: dict[type[Node], tuple[str, ...]] = {
    Const: (),
    ParamRef: (),
    ListLit: ("items",),
    Var: (),
    Field: ("base",),
    Attr: ("base",),
    Neg: ("operand",),
    Arith: ("left", "right"),
    Call: ("args",),
    Spans: (),
    Roots: (),
    Rel: ("arg",),
    Events: ("arg",),
    Comprehension: ("domain", "guard"),
    Aggregate: ("domain", "body"),
    Quantile: ("domain", "body"),
    Compare: ("left", "right"),
    Match: ("operand",),
    InList: ("operand", "items"),
    Member: ("elem", "domain"),
    Has: ("operand",),
    HappensBefore: ("left", "right"),
    Not: ("arg",),
    And: ("args",),
    Or: ("args",),
    Implies: ("left", "right"),
    Quant: ("domain", "guard", "body"),
    Interval: (),
    StartOf: ("arg",),
    EndOf: ("arg",),
    EventOf: ("arg",),
    Temporal: ("args", "interval"),
    Template: ("parts",),
    Property: ("formula", "message"),
    Param: ("default",),
    Spec: ("params", "properties"),
}


def _install_cached_hash(cls: type[Node]) -> None:
    """Replace the dataclass-generated ``__hash__`` of ``cls`` by a cached one (same value
    semantics: the class and the fields that take part in equality)."""
    names = tuple(f.name for f in fields(cls) if (f.compare if f.hash is None else f.hash))

    def __hash__(self: Node) -> int:
        try:
            return self._hash  # type: ignore[attr-defined]
        except AttributeError:
            h = hash((cls, *(getattr(self, n) for n in names)))
            object.__setattr__(self, "_hash", h)
            return h

    cls.__hash__ = __hash__  # type: ignore[method-assign,assignment]


for _cls in CHILD_FIELDS:
    _install_cached_hash(_cls)


def register_node(cls: type[Node], children: tuple[str, ...]) -> type[Node]:
    """Declare a node class defined outside this module (e.g. the theorem prover's schematic
    ``Pred``): its child fields, and the cached hash every node has."""
    names = {f.name for f in fields(cls)}
    if not set(children) <= names:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(set(children) - names)}")
    CHILD_FIELDS[cls] = children
    _install_cached_hash(cls)
    return cls


def is_temporal(node: Node) -> bool:
    """Whether a formula contains a temporal operator or timeline atom."""
    if isinstance(node, Temporal | StartOf | EndOf | EventOf):
        return True
    return any(is_temporal(child) for child in node.children())
