"""``otlspec lint``, ``fmt`` and ``explain``: the commands that read specs, not traces."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.cli import (
    _SPEC_HELP,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VIOLATIONS,
    UsageError,
    _load_specs,
    _spec_paths,
)
from workbench.errors import OtlspecError


def register(sub: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add ``lint``, ``fmt`` and ``explain`` to the ``otlspec`` subparsers; their handlers."""
    lint = sub.add_parser("lint", help="parse and type-check specs")
    lint.add_argument("specs", nargs="+", metavar="SPEC", help=_SPEC_HELP)

    fmt = sub.add_parser("fmt", help="print specs in canonical form")
    fmt.add_argument("specs", nargs="+", metavar="SPEC", help="*.otlspec files or directories")
    fmt.add_argument("--write", action="store_true", help="rewrite the files in place")
    fmt.add_argument("--check", action="store_true", help="exit 1 if a file is not canonical")

    e = sub.add_parser("explain", help="show a property's doc, canonical text and IR")
    e.add_argument("property", metavar="PROPERTY", help="the property's name")
    e.add_argument("specs", nargs="*", metavar="SPEC", help="where to look (default: stdlib)")
    e.add_argument("--backend", default="auto", help="backend whose choice is explained")
    e.add_argument("--dump-ir", metavar="PASS", default=None,
                   help="show the IR after pass PASS (bind_params, normalize, regroup)")
    return {"lint": cmd_lint, "fmt": cmd_fmt, "explain": cmd_explain}


def cmd_lint(args: argparse.Namespace) -> int:
    from workbench.engine.regex import lint_patterns
    from workbench.lang import lint_spec

    status = EXIT_OK
    for path in _lint_paths(args.specs):
        try:
            spec = _load_specs([path])
        except OtlspecError as err:
            print(str(err), file=sys.stderr)
            status = EXIT_ERROR
            continue
        warnings = [*lint_spec(spec), *lint_patterns(spec)]
        for w in warnings:
            print(f"{w}", file=sys.stderr)
        print(f"{path}: ok, {len(spec.properties)} properties, {len(warnings)} warning(s)")
    return status


def _lint_paths(args: Sequence[str]) -> list[str]:
    """Lint arguments: ``stdlib[.module]`` as given, directories expanded into their files
    (an argument that names nothing is kept, so the loop reports it with the others)."""
    out: list[str] = []
    for arg in args:
        try:
            out += [arg] if arg == "stdlib" or arg.startswith("stdlib.") else _spec_paths([arg])
        except OtlspecError:
            out.append(arg)
    return out


def cmd_fmt(args: argparse.Namespace) -> int:
    from workbench.lang import format_source
    from workbench.lang.parser import read_source

    status = EXIT_OK
    for path in _spec_paths(args.specs):
        text = read_source(Path(path), path)
        canonical = format_source(text, path)
        if args.check:
            if canonical != text:
                print(f"{path}: not in canonical form", file=sys.stderr)
                status = EXIT_VIOLATIONS
        elif args.write:
            if canonical != text:
                Path(path).write_text(canonical, encoding="utf-8")
                print(f"reformatted {path}", file=sys.stderr)
        else:
            sys.stdout.write(canonical)
    return status


def cmd_explain(args: argparse.Namespace) -> int:
    from workbench.lang import print_formula

    spec = _load_specs(args.specs or ["stdlib"])
    try:
        prop = spec.property(args.property)
    except KeyError:
        names = ", ".join(sorted(p.name for p in spec.properties))
        raise UsageError(f"no property {args.property!r}; known: {names}") from None
    from workbench.engine import explain_backend

    backend, reason = explain_backend(prop, args.backend)
    where = spec.positions.get(prop.name)
    info = {
        "name": prop.name,
        "defined_at": str(where) if where else "",
        "severity": prop.severity,
        "tags": list(prop.tags),
        "doc": prop.doc,
        "canonical": print_formula(prop.formula),
        "backend": backend,
        "backend_reason": reason,
    }
    print(f"{prop.name}  ({prop.severity}; tags: {', '.join(prop.tags) or '-'})")
    if info["defined_at"]:
        print(f"defined at {info['defined_at']}")
    print()
    print(prop.doc or "(no doc)")
    print()
    print("canonical form:")
    print("  " + info["canonical"].replace("\n", "\n  "))
    print()
    print(f"backend: {info['backend']} ({info['backend_reason']})")
    print()
    print("IR:")
    print(_pretty_ir(prop.formula))
    if args.dump_ir:
        from workbench.engine.pipeline import dump_ir

        try:
            lowered = dump_ir(spec, prop.name, args.dump_ir)
        except ValueError as err:
            raise UsageError(str(err)) from None
        print()
        print(f"IR after {args.dump_ir}:")
        print(_pretty_ir(lowered))
    if prop.message is not None:
        print()
        print(
            "message: "
            + json.dumps(
                "".join(
                    p if isinstance(p, str) else "{" + print_formula(p) + "}"
                    for p in prop.message.parts
                )
            )
        )
    return EXIT_OK


def _pretty_ir(node: Any, indent: int = 2) -> str:
    from dataclasses import fields

    from workbench.lang import ir

    pad = " " * indent
    if not isinstance(node, ir.Node):
        return pad + repr(node)
    scalars = []
    kids = []
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ir.Node):
            kids.append((f.name, value))
        elif isinstance(value, tuple) and any(isinstance(v, ir.Node) for v in value):
            for i, v in enumerate(value):
                kids.append((f"{f.name}[{i}]", v))
        elif value is not None:
            scalars.append(
                f"{f.name}={value!r}" if not isinstance(value, ir.Type) else f"{f.name}={value}"
            )
    line = f"{pad}{type(node).__name__}({', '.join(scalars)})"
    parts = [line]
    for name, kid in kids:
        parts.append(f"{pad}  {name}:")
        parts.append(_pretty_ir(kid, indent + 4))
    return "\n".join(parts)
