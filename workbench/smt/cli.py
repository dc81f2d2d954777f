"""``otlspec prove`` and ``otlspec fix``: the command-line face of :mod:`workbench.smt`.

:func:`register` adds both commands to an ``argparse`` sub-parser set and returns their
handlers. Exit codes: 0 proved / satisfiable as asked, 1 refuted / counterexample / conflict
found, 2 errors and unknown results.

Spec arguments are files (``a.otlspec``), directories of them, the standard library
(``stdlib``, ``stdlib.timing``), optionally followed by ``#name,name`` to select properties:
``stdlib.timing#child_ends_within_parent``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import OtlspecError
from workbench.lang import ir

EXIT_OK, EXIT_REFUTED, EXIT_ERROR = 0, 1, 2


def load_spec_arg(arg: str) -> ir.Spec:
    """Load ``PATH[#names]`` / ``stdlib[.module][#names]`` into a spec."""
    from workbench.lang import load_spec, parse_spec

    source, _, selector = arg.partition("#")
    if source == "stdlib" or source.startswith("stdlib."):
        spec = parse_spec(f"import {source}\n", "<command line>")
        spec = ir.Spec(source, spec.description, spec.params, spec.properties, spec.imports,
                       "", spec.positions)
    else:
        spec = load_spec(source)
    if selector:
        wanted = [n.strip() for n in selector.split(",") if n.strip()]
        known = {p.name for p in spec.properties}
        missing = [n for n in wanted if n not in known]
        if missing:
            raise OtlspecError(f"{source}: no property {', '.join(missing)}; known: "
                               + ", ".join(sorted(known)))
        spec = ir.Spec(spec.name, spec.description, spec.params,
                       tuple(p for p in spec.properties if p.name in wanted), spec.imports,
                       spec.source, spec.positions)
    return spec


def merge_specs(specs: Sequence[ir.Spec]) -> ir.Spec:
    """One spec holding the properties and params of several (first definition wins)."""
    params: dict[str, ir.Param] = {}
    props: dict[str, ir.Property] = {}
    for s in specs:
        for p in s.params:
            params.setdefault(p.name, p)
        for q in s.properties:
            props.setdefault(q.name, q)
    name = "+".join(s.name for s in specs)
    return ir.Spec(name, "", tuple(params.values()), tuple(props.values()))


def _options(args: argparse.Namespace) -> Any:
    from workbench.smt.obligations import Options

    return Options(spans=args.spans, events=args.events, links=args.links,
                   timeout=args.timeout, emit_smt2=args.emit_smt2)


def _add_solver_options(p: argparse.ArgumentParser, spans: int = 4) -> None:
    p.add_argument("--spans", "-n", type=int, default=spans, metavar="N",
                   help=f"largest trace size considered (default {spans})")
    p.add_argument("--events", type=int, default=None, help="event slots per span")
    p.add_argument("--links", type=int, default=None, help="link slots per span")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="limit per solver call (default 30)")
    p.add_argument("--emit-smt2", metavar="FILE", help="write the SMT-LIB of the obligation")
    p.add_argument("--format", choices=("text", "json"), default="text")


def register(subparsers: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``prove`` and ``fix`` to ``subparsers``; returns ``{command: handler}``."""
    prove = subparsers.add_parser("prove", help="reason about specs with Z3",
                                  description="Prove facts about specs over bounded traces.")
    acts = prove.add_subparsers(dest="prove_action", metavar="ACTION")
    acts.required = True

    c = acts.add_parser("consistent", help="find a trace satisfying every property")
    c.add_argument("specs", nargs="+", metavar="SPEC")
    c.add_argument("--assume", action="append", default=[], metavar="SPEC",
                   help="properties assumed to hold (not part of the conflict report)")
    c.add_argument("--output", "-o", metavar="FILE", help="write the witness as OTLP/JSON")
    _add_solver_options(c)

    i = acts.add_parser("implies", help="do the premises entail the conclusion?")
    i.add_argument("premises", metavar="PREMISES")
    i.add_argument("conclusion", metavar="CONCLUSION")
    i.add_argument("--output", "-o", metavar="FILE",
                   help="write a counterexample as OTLP/JSON")
    _add_solver_options(i)

    v = acts.add_parser("vacuous", help="properties whose guards can never fire")
    v.add_argument("specs", nargs="+", metavar="SPEC")
    v.add_argument("--assume", action="append", default=[], metavar="SPEC")
    _add_solver_options(v)

    r = acts.add_parser("redundant", help="properties implied by the others")
    r.add_argument("specs", nargs="+", metavar="SPEC")
    _add_solver_options(r, spans=3)

    t = acts.add_parser("theorem", help="check theorem files (proofs/*.py)")
    t.add_argument("files", nargs="+", metavar="FILE")
    t.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS")
    t.add_argument("--format", choices=("text", "json"), default="text")

    f = subparsers.add_parser("fix", help="propose repairs for traces that violate a spec",
                              description="Clock-skew offsets per service (minimal, by Z3 "
                              "Optimize) and structural repair candidates.")
    f.add_argument("inputs", nargs="+", metavar="SPEC... TRACES...")
    f.add_argument("--output", "-o", metavar="FILE", help="write the JSON patch here")
    f.add_argument("--write-repaired", metavar="DIR",
                   help="write each repaired trace as OTLP/JSON into DIR")
    f.add_argument("--min-confidence", type=float, default=0.6,
                   help="structural repairs applied to --write-repaired traces (default 0.6)")
    f.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    return {"prove": cmd_prove, "fix": cmd_fix}


# ------------------------------------------------------------------------ handlers


def _guard(fn: Callable[[], int]) -> int:
    from workbench.smt.values import EncodingError
    from workbench.smt.witness import Disagreement

    try:
        return fn()
    except EncodingError as err:
        print(f"otlspec: cannot encode: {err}", file=sys.stderr)
    except Disagreement as err:
        print(f"otlspec: {err}", file=sys.stderr)
    except OtlspecError as err:
        print(str(err), file=sys.stderr)
    except OSError as err:
        print(f"otlspec: {err}", file=sys.stderr)
    return EXIT_ERROR


def cmd_prove(args: argparse.Namespace) -> int:
    """Handler of ``otlspec prove ACTION``."""
    action = {
        "consistent": _consistent,
        "implies": _implies,
        "vacuous": _vacuous,
        "redundant": _redundant,
        "theorem": _theorem,
    }[args.prove_action]
    return _guard(lambda: action(args))


def _print(outcomes: list[Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([o.to_json() for o in outcomes], indent=2))
        return
    for o in outcomes:
        print(f"{o.subject}: {o.verdict}  [N={o.spans}, {o.seconds:.2f}s]")


def _write_trace(outcome: Any, path: str | None) -> None:
    from workbench.traces.otlp_write import dumps

    if outcome.witness is None:
        return
    text = dumps(outcome.witness)
    if path:
        Path(path).write_text(text, encoding="utf-8")
        print(f"wrote the trace to {path} (re-checked by the reference checker)",
              file=sys.stderr)


def _consistent(args: argparse.Namespace) -> int:
    from workbench.smt.obligations import consistent

    spec = merge_specs([load_spec_arg(a) for a in args.specs])
    assume = [p for a in args.assume for p in load_spec_arg(a).properties]
    out = consistent(spec, assume, _options(args))
    _print([out], args.format)
    if out.status == "unsat" and args.format == "text":
        print("minimal conflicting set: " + (", ".join(out.core) or "(assumptions)"))
    _write_trace(out, args.output)
    return {"sat": EXIT_OK, "unsat": EXIT_REFUTED}.get(out.status, EXIT_ERROR)


def _implies(args: argparse.Namespace) -> int:
    from workbench.smt.obligations import implies

    pre = load_spec_arg(args.premises)
    post = load_spec_arg(args.conclusion)
    params = {p.name: p.default.value for p in (*post.params, *pre.params)}
    code = EXIT_OK
    outcomes = []
    for goal in post.properties:
        out = implies(list(pre.properties), goal, params, _options(args))
        outcomes.append(out)
        if out.status == "sat":
            code = max(code, EXIT_REFUTED)
            _write_trace(out, args.output)
        elif out.status != "unsat":
            code = EXIT_ERROR
    _print(outcomes, args.format)
    return code


def _vacuous(args: argparse.Namespace) -> int:
    from workbench.smt.obligations import vacuous

    spec = merge_specs([load_spec_arg(a) for a in args.specs])
    assume = [p for a in args.assume for p in load_spec_arg(a).properties]
    outs = vacuous(spec, assume, _options(args))
    _print(outs, args.format)
    if any(o.status not in ("sat", "unsat") for o in outs):
        return EXIT_ERROR
    return EXIT_REFUTED if any(o.status == "unsat" for o in outs) else EXIT_OK


def _redundant(args: argparse.Namespace) -> int:
    from workbench.smt.obligations import redundant

    spec = merge_specs([load_spec_arg(a) for a in args.specs])
    outs = redundant(spec, _options(args))
    _print(outs, args.format)
    if any(o.status not in ("sat", "unsat") for o in outs):
        return EXIT_ERROR
    return EXIT_REFUTED if any(o.status == "unsat" for o in outs) else EXIT_OK


def _theorem(args: argparse.Namespace) -> int:
    from workbench.smt.theorem import load_theorems, run_theorem

    code = EXIT_OK
    results = []
    # a context per theorem (``--strategy auto`` installs each theorem's own strategy)
    around = getattr(args, "per_theorem", None) or (lambda _thm: contextlib.nullcontext())
    for path in args.files:
        for thm in load_theorems(path):
            with around(thm):
                res = run_theorem(thm, timeout=args.timeout)
            results.append(res)
            if args.format == "text":
                print(res.render())
            if res.status == "unknown":
                code = EXIT_ERROR
            elif not res.as_expected and code != EXIT_ERROR:
                code = EXIT_REFUTED
    if args.format == "json":
        print(json.dumps([r.to_json() for r in results], indent=2))
    return code


def _is_spec_arg(arg: str) -> bool:
    from workbench.lang import is_spec_arg

    return is_spec_arg(arg)


def cmd_fix(args: argparse.Namespace) -> int:
    """Handler of ``otlspec fix SPEC... TRACES...``."""
    def run() -> int:
        from workbench.smt.repair import fix_traces, write_repaired
        from workbench.traces import load_traces

        spec_args = [a for a in args.inputs if _is_spec_arg(a)]
        trace_args = [a for a in args.inputs if not _is_spec_arg(a)]
        if not spec_args or not trace_args:
            raise OtlspecError("otlspec fix: give at least one SPEC and one trace input")
        spec = merge_specs([load_spec_arg(a) for a in spec_args])
        table = load_traces(trace_args)
        report = fix_traces(spec, table, timeout=args.timeout)
        text = json.dumps(report.to_json(), indent=2) + "\n"
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
            print(f"wrote the repair patch to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        print(report.summary(), file=sys.stderr)
        if args.write_repaired:
            for path in write_repaired(report, table, spec, args.write_repaired,
                                       args.min_confidence):
                print(f"wrote {path}", file=sys.stderr)
        return EXIT_OK if report.all_timing_fixed else EXIT_REFUTED

    return _guard(run)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``prove``/``fix`` standalone (``python -m workbench.smt.cli prove ...``)."""
    parser = argparse.ArgumentParser(prog="otlspec")
    handlers = register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
