"""The obligation corpus: SMT-LIB benchmarks of the shapes otlspec asks Z3 about.

:func:`generate` builds, from a seed, obligations of six kinds over bounded symbolic traces,
with the encodings of :mod:`workbench.smt` (nothing is re-encoded here):

``consistency``   all properties of a spec hold (``otlspec prove consistent``)
``vacuity``       a property's guard fires (``otlspec prove vacuous``)
``redundancy``    the other properties hold and this one fails (``otlspec prove redundant``)
``implication``   one property holds and another fails (``otlspec prove implies``)
``theorem``       premises and the negated conclusion of a theorem of ``proofs/``
``repair``        per-service clock offsets of total size at most B make a real trace's timing
                  properties hold (the decision version of ``otlspec fix``)

The sources are the stdlib modules, ``specs/examples/``, ``proofs/`` and the real traces of
``datasets/real/``, at several bounds ``N``, plus generated variants of the specs: thresholds
scaled (params, interval bounds and numeric literals), a conjunct removed from each property,
a property of another module conjoined. Each obligation carries its metadata (kind, spec
family, N, variant) and the IR counts of the formulas it encodes (:mod:`.features`).

:func:`write` stores a corpus as ``manifest.json`` plus one gzipped SMT-LIB file per
obligation; :func:`load` reads it back.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import z3

from workbench.lang import ir
from workbench.strategy.features import IR_FEATURES, ir_features

#: Version of the generator: bump when the same seed would give different obligations.
GENERATOR_VERSION = 1
KINDS = ("consistency", "vacuity", "redundancy", "implication", "theorem", "repair")
STDLIB_MODULES = ("ids", "structure", "timing", "kinds", "semconv", "attributes", "privacy",
                  "errors", "temporal")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Obligation:
    """One SMT-LIB benchmark with the metadata of where it came from."""

    id: str
    kind: str
    family: str
    n: int
    variant: str
    subject: str
    smt2: str = field(repr=False)
    ir: dict[str, float] = field(default_factory=dict, repr=False)

    def meta(self) -> dict[str, Any]:
        """The manifest entry (everything but the SMT-LIB text)."""
        return {"id": self.id, "kind": self.kind, "family": self.family, "n": self.n,
                "variant": self.variant, "subject": self.subject,
                "ir": {k: v for k, v in self.ir.items() if v},
                "sha256": hashlib.sha256(self.smt2.encode()).hexdigest(),
                "bytes": len(self.smt2)}


@dataclass
class Config:
    """What :func:`generate` builds.

    Parameters
    ----------
    seed:
        Seeds every random choice (variant picks, implication pairs).
    bounds:
        Trace bounds ``N`` of the base obligations.
    variant_bounds:
        Trace bounds of the generated variants.
    modules:
        Stdlib modules used (all by default).
    implication_pairs:
        Implication obligations sampled per spec and bound.
    theorems, examples, repairs:
        Whether to include ``proofs/``, ``specs/examples/`` and repair obligations.
    limit:
        Stop after this many obligations (``None``: all).
    """

    seed: int = 0
    bounds: tuple[int, ...] = (2, 3, 4, 5, 6)
    variant_bounds: tuple[int, ...] = (2, 4)
    modules: tuple[str, ...] = STDLIB_MODULES
    implication_pairs: int = 4
    theorems: bool = True
    examples: bool = True
    repairs: bool = True
    limit: int | None = None


# ------------------------------------------------------------------------ IR mutations


def transform(node: ir.Node, fn: Callable[[ir.Node], ir.Node]) -> ir.Node:
    """Rebuild ``node`` bottom-up, applying ``fn`` to every rebuilt node."""
    memo: dict[int, ir.Node] = {}

    def go(n: ir.Node) -> ir.Node:
        key = id(n)
        if key in memo:
            return memo[key]
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(n):
            value = getattr(n, f.name)
            if isinstance(value, ir.Node):
                new = go(value)
                if new is not value:
                    changes[f.name] = new
            elif isinstance(value, tuple) and any(isinstance(v, ir.Node) for v in value):
                items = tuple(go(v) if isinstance(v, ir.Node) else v for v in value)
                if any(a is not b for a, b in zip(items, value, strict=True)):
                    changes[f.name] = items
        out = fn(dataclasses.replace(n, **changes) if changes else n)
        memo[key] = out
        return out

    return go(node)


def scale_thresholds(node: ir.Node, factor: float) -> ir.Node:
    """Scale interval bounds and numeric/duration literals of comparisons by ``factor``."""

    def scale(v: int | float) -> int | float:
        return round(v * factor) if isinstance(v, int) else v * factor

    def fn(n: ir.Node) -> ir.Node:
        if isinstance(n, ir.Interval) and not n.unbounded:
            return ir.Interval(int(scale(n.lo)), None if n.hi is None else int(scale(n.hi)))
        if isinstance(n, ir.Compare):
            parts: dict[str, Any] = {}
            for side in ("left", "right"):
                c = getattr(n, side)
                if (isinstance(c, ir.Const) and not isinstance(c.value, bool)
                        and isinstance(c.value, int | float) and c.value != 0):
                    parts[side] = ir.Const(scale(c.value), c.type)
            return dataclasses.replace(n, **parts) if parts else n
        return n

    return transform(node, fn)


def drop_conjunct(node: ir.Node, rng: random.Random) -> ir.Node | None:
    """``node`` with one conjunct of one of its conjunctions removed (``None``: none)."""
    ands: list[ir.And] = []

    def collect(n: ir.Node) -> ir.Node:
        if isinstance(n, ir.And) and len(n.args) >= 2:
            ands.append(n)
        return n

    transform(node, collect)
    if not ands:
        return None
    target = rng.choice(ands)
    drop = rng.randrange(len(target.args))
    rest = tuple(a for i, a in enumerate(target.args) if i != drop)
    repl = rest[0] if len(rest) == 1 else ir.And(rest)
    return transform(node, lambda n: repl if n is target else n)


def _scaled_params(params: dict[str, Any], factor: float) -> dict[str, Any]:
    out = {}
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            out[k] = v
        else:
            out[k] = round(v * factor) if isinstance(v, int) else v * factor
    return out


# ------------------------------------------------------------------------ encoding


_LET = re.compile(r"[$?][a-z]+\d+")


def _smt2(assertions: Sequence[Any]) -> str:
    s = z3.Solver()
    for a in assertions:
        s.add(a)
    names: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        # Z3 names let-bound terms after AST ids, which depend on what the process built
        # before: number them in order of appearance so a seed gives identical files
        return names.setdefault(m.group(0), f"$t{len(names)}")

    return _LET.sub(rename, s.to_smt2())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


class _Builder:
    """Collects obligations, skipping the ones the encoder cannot handle."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.out: list[Obligation] = []
        self.skipped: list[str] = []
        self.ids: set[str] = set()

    def full(self) -> bool:
        return self.cfg.limit is not None and len(self.out) >= self.cfg.limit

    def add(self, kind: str, family: str, n: int, variant: str, subject: str,
            assertions: Sequence[Any], nodes: Sequence[ir.Node], params: dict[str, Any]) -> None:
        if self.full():
            return
        base = _slug(f"{kind}-{family}-{variant}-n{n}-{subject}")
        oid, k = base, 1
        while oid in self.ids:
            k += 1
            oid = f"{base}-{k}"
        self.ids.add(oid)
        feats = ir_features(nodes, params)
        self.out.append(Obligation(oid, kind, family, n, variant, subject, _smt2(assertions),
                                   feats))

    def spec(self, family: str, props: Sequence[ir.Property], params: dict[str, Any],
             n: int, variant: str, kinds: Sequence[str] = ("consistency", "vacuity",
                                                           "redundancy", "implication")) -> None:
        """Consistency, vacuity, redundancy and implication obligations of one spec."""
        from workbench.smt.obligations import Options, Problem, trigger
        from workbench.smt.terms import lift

        if self.full() or not props:
            return
        opts = Options(spans=n)
        terms: dict[str, Any] = {}
        axioms: list[Any] = []
        # vacuity alone (``otlspec prove vacuous --strategy auto``) needs no encoding of the
        # whole spec: each trigger gets its own problem. The corpus always asks for more.
        if any(k in kinds for k in ("consistency", "redundancy", "implication")):
            try:
                pb = Problem([p.formula for p in props], params, opts)
                terms = {p.name: lift(pb.encode(p.formula)) for p in props}
                axioms = list(pb.solver().assertions())
            except Exception as err:  # an encoding limit of workbench.smt: skip, say so
                self.skipped.append(
                    f"{family}/{variant}/N={n}: {type(err).__name__}: {err}"[:200])
                return
        formulas = [p.formula for p in props]
        if "consistency" in kinds:
            self.add("consistency", family, n, variant, "all", [*axioms, *terms.values()],
                     formulas, params)
        if "redundancy" in kinds and len(props) > 1:
            for p in props:
                others = [terms[q.name] for q in props if q is not p]
                self.add("redundancy", family, n, variant, p.name,
                         [*axioms, *others, z3.Not(terms[p.name])], formulas, params)
        if "implication" in kinds and len(props) > 1:
            pairs = [(a, b) for a in props for b in props if a is not b]
            for a, b in self.rng.sample(pairs, min(self.cfg.implication_pairs, len(pairs))):
                self.add("implication", family, n, variant, f"{a.name}->{b.name}",
                         [*axioms, terms[a.name], z3.Not(terms[b.name])],
                         [a.formula, b.formula], params)
        if "vacuity" in kinds:
            for p in props:
                if self.full():  # under a limit (the CLI's one obligation): stop encoding
                    break
                cond = trigger(p.formula)
                if cond is None:
                    continue
                try:
                    vp = Problem([cond], params, opts)
                    fires = lift(vp.encode(cond))
                    vax = list(vp.solver().assertions())
                except Exception as err:
                    self.skipped.append(f"{family}/{p.name}: {type(err).__name__}"[:200])
                    continue
                self.add("vacuity", family, n, variant, p.name, [*vax, fires], [cond], params)

    def theorem(self, family: str, thm: Any, n: int, variant: str,
                premises: Sequence[ir.Node]) -> None:
        from workbench.smt.obligations import Options, Problem
        from workbench.smt.terms import lift

        if self.full():
            return
        opts = Options(spans=n, events=thm.events, links=thm.links)
        try:
            pb = Problem([*premises, thm.conclusion], dict(thm.params), opts)
            pre = [lift(pb.encode(p)) for p in premises]
            goal = lift(pb.encode(thm.conclusion))
            axioms = list(pb.solver().assertions())
        except Exception as err:
            self.skipped.append(f"{family}/{thm.name}: {type(err).__name__}"[:200])
            return
        self.add("theorem", family, n, variant, thm.name, [*axioms, *pre, z3.Not(goal)],
                 [*premises, thm.conclusion], dict(thm.params))


def _stdlib(module: str) -> tuple[list[ir.Property], dict[str, Any]]:
    from workbench.smt.cli import load_spec_arg

    spec = load_spec_arg(f"stdlib.{module}")
    return list(spec.properties), {p.name: p.default.value for p in spec.params}


def _repairs(b: _Builder, root: Path) -> None:
    """Decision versions of ``otlspec fix``: offsets of total size <= B fix a real trace."""
    from workbench.smt.domain import Usage, ValueDomain, scan
    from workbench.smt.encode import Encoder
    from workbench.smt.model import concrete_trace
    from workbench.smt.repair import is_timing
    from workbench.smt.terms import lift
    from workbench.traces import load_traces

    props, params = _stdlib("timing")
    props = [p for p in props if is_timing(p.formula)]
    real = root / "datasets" / "real"
    files = sorted(str(p) for p in real.rglob("*.json"))
    if not files or not props:
        return
    table = load_traces(files)
    usage = Usage()
    for p in props:
        scan(p.formula, usage)
    domain = ValueDomain(usage.strings, usage.numbers, (), ())
    traces = [t for t in range(table.n_traces) if 2 <= len(table.trace_rows(t)) <= 40]
    b.rng.shuffle(traces)
    for t in traces[:40]:
        services = sorted({table.service_of(r) for r in table.trace_rows(t)})
        offset = {s: z3.Int(f"offset[{s}]") for s in services}

        def shift(row: int, o: dict[str, z3.ArithRef] = offset) -> z3.ArithRef:
            return o[table.service_of(row)]

        try:
            terms = concrete_trace(table, t, usage, domain, shift=shift)
            enc = Encoder(terms, params)
            goals = [lift(enc.formula(p.formula)) for p in props]
        except Exception as err:
            b.skipped.append(f"repair/trace {t}: {type(err).__name__}"[:200])
            continue
        size = z3.Sum(*[z3.If(o >= 0, o, -o) for o in offset.values()])
        axioms = [lift(a) for a in terms.axioms]
        for budget in (0, 1_000_000, 50_000_000):
            b.add("repair", "real-traces", len(table.trace_rows(t)), f"budget{budget}",
                  f"trace{t}", [*axioms, *goals, size <= budget],
                  [p.formula for p in props], {**params, "budget": budget})


def generate(cfg: Config | None = None, root: Path = ROOT) -> tuple[list[Obligation], list[str]]:
    """Build the corpus described by ``cfg``; returns the obligations and what was skipped."""
    from workbench.lang import load_spec
    from workbench.smt.theorem import load_theorems

    cfg = cfg or Config()
    b = _Builder(cfg)
    modules = {m: _stdlib(m) for m in cfg.modules}
    pool = [p for props, _ in modules.values() for p in props]
    all_params = {k: v for _, params in modules.values() for k, v in params.items()}
    for m, (props, params) in modules.items():
        for n in cfg.bounds:
            b.spec(f"stdlib.{m}", props, params, n, "base")
    if cfg.examples:
        for path in sorted((root / "specs" / "examples").glob("*.otlspec")):
            spec = load_spec(str(path))
            params = {p.name: p.default.value for p in spec.params}
            for n in cfg.bounds:
                b.spec(f"examples.{path.stem}", list(spec.properties), params, n, "base")
    if cfg.theorems:
        for path in sorted((root / "proofs").glob("*.py")):
            for thm in load_theorems(path):
                for n in sorted({thm.spans - 1, thm.spans} - {0, 1}):
                    b.theorem(f"proofs.{path.stem}", thm, n, "base", list(thm.premises))
                if len(thm.premises) > 1:
                    drop = b.rng.randrange(len(thm.premises))
                    rest = [p for i, p in enumerate(thm.premises) if i != drop]
                    b.theorem(f"proofs.{path.stem}", thm, thm.spans, f"drop-premise{drop}",
                              rest)
    for m, (props, params) in modules.items():
        for n in cfg.variant_bounds:
            for factor in (0.0, 0.1, 10.0):
                scaled = [dataclasses.replace(p, formula=scale_thresholds(p.formula, factor))
                          for p in props]
                b.spec(f"stdlib.{m}", scaled, _scaled_params(params, factor), n,
                       f"scale{factor:g}", ("consistency", "redundancy", "vacuity"))
            dropped = []
            for p in props:
                f = drop_conjunct(p.formula, b.rng)
                dropped.append(p if f is None else dataclasses.replace(p, formula=f))
            b.spec(f"stdlib.{m}", dropped, params, n, "drop-conjunct",
                   ("consistency", "redundancy", "implication"))
            others = [q for q in pool if q not in props] or pool
            added = [dataclasses.replace(p, formula=ir.And((p.formula,
                                                            b.rng.choice(others).formula)))
                     for p in props]
            b.spec(f"stdlib.{m}", added, {**all_params, **params}, n, "add-conjunct",
                   ("consistency", "redundancy"))
    if cfg.repairs:
        _repairs(b, root)
    return b.out, b.skipped


# ------------------------------------------------------------------------ storage


def write(obligations: Sequence[Obligation], directory: str | Path, cfg: Config,
          skipped: Sequence[str] = ()) -> Path:
    """Write ``manifest.json`` and ``smt2/<id>.smt2.gz`` under ``directory``."""
    d = Path(directory)
    (d / "smt2").mkdir(parents=True, exist_ok=True)
    for ob in obligations:
        # mtime=0: the same corpus gives byte-identical files
        data = gzip.compress(ob.smt2.encode(), compresslevel=9, mtime=0)
        (d / "smt2" / f"{ob.id}.smt2.gz").write_bytes(data)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "z3_version": z3.get_version_string(),
        "config": dataclasses.asdict(cfg),
        "count": len(obligations),
        "skipped": list(skipped),
        "obligations": [ob.meta() for ob in obligations],
    }
    path = d / "manifest.json"
    # one obligation per line: small, and diffs of a regenerated corpus stay readable
    head = json.dumps({k: v for k, v in manifest.items() if k != "obligations"}, indent=1)
    rows = ",\n".join(json.dumps(m, separators=(",", ":")) for m in manifest["obligations"])
    path.write_text(head[:-2] + ',\n "obligations": [\n' + rows + "\n]}\n", encoding="utf-8")
    return path


def load(directory: str | Path) -> Iterator[Obligation]:
    """The obligations stored under ``directory`` (SMT-LIB checked against the manifest).

    Raises
    ------
    FileNotFoundError
        When an obligation of the manifest has no SMT-LIB file (regenerate the corpus with
        ``otlspec strategy corpus``).
    ValueError
        When a file's content does not match the manifest's hash.
    """
    d = Path(directory)
    manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    for m in manifest["obligations"]:
        path = d / "smt2" / f"{m['id']}.smt2.gz"
        text = gzip.decompress(path.read_bytes()).decode()
        if hashlib.sha256(text.encode()).hexdigest() != m["sha256"]:
            raise ValueError(f"{path}: content does not match manifest.json (regenerate it)")
        feats = {k: float(m["ir"].get(k, 0.0)) for k in IR_FEATURES}
        yield Obligation(m["id"], m["kind"], m["family"], m["n"], m["variant"], m["subject"],
                         text, feats)


def load_manifest(directory: str | Path) -> dict[str, Any]:
    """The parsed ``manifest.json`` of a corpus."""
    return json.loads((Path(directory) / "manifest.json").read_text(encoding="utf-8"))


__all__ = ["KINDS", "Config", "Obligation", "drop_conjunct", "generate", "load",
           "load_manifest", "scale_thresholds", "transform", "write"]
