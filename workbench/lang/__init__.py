"""The otlspec language front end: parse, resolve, type, print and rewrite specs.

Public API
----------
``parse_spec(text, file)``, ``load_spec(path)``, ``load_specs(paths)``
    Spec text / files / directories -> a typed :class:`~workbench.lang.ir.Spec` (imports
    resolved).
``is_spec_arg(arg)``, ``spec_files(arg)``
    Command-line spec arguments: does it name specs, and which files.
``parse_formula(text, variables, params)``
    One typed formula or expression.
``print_formula(node)``, ``print_spec(spec)``
    Canonical text; ``parse(print(x)) == x``.
``format_source(text, file)``, ``lint_spec(spec)``
    ``otlspec fmt`` (keeps imports and comments) and ``otlspec lint``.
``bind_params(spec, overrides)``, ``param_overrides(spec, overrides)``
    ``--param`` handling: substitute values into the IR / parse them to typed values.
``normalize(node)``, ``RULES``, ``run_passes(spec, passes, dump)``
    Passes (:mod:`workbench.lang.passes`).
``transform``, ``postorder``, ``free_vars``, ``type_of``
    Helpers for backends.

The language is specified in ``docs/language.md``. This module also holds the file loader
(imports, the standard library, name clashes between files) and the source formatter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from workbench._version import PACKAGE_DIR
from workbench.errors import (
    ArgumentError,
    SourcePos,
    SpecFileError,
    SpecImportError,
    SpecTypeError,
)
from workbench.lang.ir import Const, Node, Param, Property, Spec, Type
from workbench.lang.lint import LintWarning, lint_spec
from workbench.lang.parser import (
    PosTable,
    RawFile,
    RawImport,
    Source,
    keywords,
    parse_file,
    parse_raw,
    read_source,
)
from workbench.lang.passes import (
    RULES,
    Pass,
    Rule,
    bind_params,
    normalize,
    normalize_spec,
    param_overrides,
    run_passes,
)
from workbench.lang.printer import print_decl, print_formula, print_property, print_spec, quote
from workbench.lang.typecheck import check_formula, check_property, suggest, type_of
from workbench.lang.walk import free_vars, postorder, transform

__all__ = [
    "RULES",
    "LintWarning",
    "Loader",
    "Pass",
    "Rule",
    "bind_params",
    "check_formula",
    "format_source",
    "free_vars",
    "is_spec_arg",
    "keywords",
    "lint_spec",
    "load_spec",
    "load_specs",
    "normalize",
    "normalize_spec",
    "param_overrides",
    "parse_formula",
    "parse_spec",
    "postorder",
    "print_formula",
    "print_property",
    "print_spec",
    "run_passes",
    "spec_files",
    "stdlib_dir",
    "transform",
    "type_of",
]

# --------------------------------------------------------------------------- files and imports


def _virtual(file: str) -> bool:
    """``<string>``, ``<command line>``...: text that is not a file."""
    return file.startswith("<")


def stdlib_dir() -> Path:
    """The standard library: the packaged ``workbench/_specs/stdlib`` if present, else the
    repository's ``specs/stdlib``."""
    package = PACKAGE_DIR
    packaged = package / "_specs" / "stdlib"
    return packaged if packaged.is_dir() else package.parent / "specs" / "stdlib"


@dataclass
class _Unit:
    """One loaded file: its own (typed) declarations and its direct imports."""

    raw: RawFile
    deps: list[_Unit]
    params: list[tuple[Param, SourcePos]] = field(default_factory=list)
    properties: list[tuple[Property, SourcePos]] = field(default_factory=list)


def _closure(unit: _Unit) -> list[_Unit]:
    """``unit`` and everything it imports, each once, imports first (depth-first)."""
    seen: set[int] = set()
    order: list[_Unit] = []

    def visit(u: _Unit) -> None:
        if id(u) in seen:
            return
        seen.add(id(u))
        for dep in u.deps:
            visit(dep)
        order.append(u)

    visit(unit)
    return order


def _merge(units: list[_Unit], what: str) -> tuple[list[Any], dict[str, SourcePos]]:
    """Concatenate the own params or properties of ``units``; a name defined twice is an error."""
    items: list[Any] = []
    where: dict[str, SourcePos] = {}
    for unit in units:
        for item, pos in getattr(unit, what):
            if item.name in where:
                kind = "param" if what == "params" else "property"
                raise unit.raw.source.error(
                    SpecTypeError,
                    f"{kind} `{item.name}` is defined twice",
                    pos,
                    f"first defined at {where[item.name]}",
                )
            where[item.name] = pos
            items.append(item)
    return items, where


class Loader:
    """Loads spec files and their imports; each file is loaded once per loader."""

    def __init__(self) -> None:
        self.cache: dict[Path, _Unit] = {}
        self.stack: list[Path] = []

    def load_text(self, text: str, file: str) -> _Unit:
        """Parse, resolve imports of and type-check one file's text."""
        raw = parse_file(text, file)
        here = None if _virtual(file) else Path(file).resolve()
        if here is not None:
            self.stack.append(here)
        try:
            deps = [u for imp in raw.imports for u in self._import(imp, raw, here)]
        finally:
            if here is not None:
                self.stack.pop()
        unit = _Unit(raw, deps)
        unit.params = [(d.param, d.pos) for d in raw.decls]
        visible, _ = _merge([*_closure(unit)], "params")
        values = {p.name: p.default for p in visible}
        seen: dict[str, SourcePos] = {}
        for prop in raw.properties:
            if prop.name in seen:
                raise raw.source.error(
                    SpecTypeError,
                    f"property `{prop.name}` is defined twice",
                    prop.pos,
                    f"first defined at {seen[prop.name]}",
                )
            seen[prop.name] = prop.pos
            unit.properties.append((check_property(prop, values, raw), prop.pos))
        return unit

    def load_path(self, path: Path) -> _Unit:
        """Load a file by path (cached)."""
        key = path.resolve()
        if key not in self.cache:
            self.cache[key] = self.load_text(read_source(key, str(path)), str(path))
        return self.cache[key]

    def _import(self, imp: RawImport, raw: RawFile, here: Path | None) -> list[_Unit]:
        def fail(message: str, hint: str | None = None) -> SpecImportError:
            err = raw.source.error(SpecImportError, message, imp.pos, hint)
            assert isinstance(err, SpecImportError)
            return err

        if imp.kind == "path":
            base = here.parent if here is not None else Path.cwd()
            paths = [base / imp.target]
        else:
            head, *rest = imp.target.split(".")
            if head != "stdlib":
                raise fail(f"unknown import `{imp.target}`", 'import a file with `import "path"`')
            lib = stdlib_dir()
            if not lib.is_dir():
                raise fail(f"the standard library is not installed (looked in {lib})")
            if rest:
                paths = [lib.joinpath(*rest).with_suffix(".otlspec")]
            else:
                paths = sorted(lib.glob("*.otlspec"))
            if rest and not paths[0].is_file():
                names = sorted(p.stem for p in lib.glob("*.otlspec"))
                close = suggest(rest[-1], names)
                listed = "modules: " + ", ".join(f"stdlib.{n}" for n in names)
                raise fail(
                    f"no stdlib module `{imp.target}`", f"{close} {listed}" if close else listed
                )
        units = []
        for path in paths:
            key = path.resolve()
            if key in self.stack:
                chain = [*self.stack[self.stack.index(key) :], key]
                raise fail("import cycle: " + " -> ".join(p.name for p in chain))
            if not key.is_file():
                raise fail(f"cannot find `{imp.target}` (looked for {key})")
            units.append(self.load_path(path))
        return units

    def spec(self, unit: _Unit, name: str | None = None) -> Spec:
        """Assemble the :class:`Spec` of a loaded file: imported items first, then its own."""
        units = _closure(unit)
        params, _ = _merge(units, "params")
        properties, positions = _merge(units, "properties")
        raw = unit.raw
        file = raw.source.file
        if name is None:
            name = raw.name or ("" if _virtual(file) else Path(file).stem)
        return Spec(
            name,
            raw.description,
            tuple(params),
            tuple(properties),
            tuple(i.target for i in raw.imports),
            "" if _virtual(file) else file,
            positions,
        )


# --------------------------------------------------------------------------- public API


def parse_spec(text: str, file: str = "<string>") -> Spec:
    """Parse, resolve and type-check a spec given as text.

    Parameters
    ----------
    text:
        The spec source.
    file:
        Its file name, for error messages and for resolving relative imports
        (``"<string>"``: relative to the working directory).

    Returns
    -------
    Spec
        Imported properties first, then the file's own.

    Raises
    ------
    SpecSyntaxError, SpecTypeError, SpecImportError
        With ``file:line:col``, the source line, a caret and a hint.
    """
    loader = Loader()
    return loader.spec(loader.load_text(text, file))


def _is_stdlib(arg: str) -> bool:
    return (arg == "stdlib" or arg.startswith("stdlib.")) and not arg.endswith(".otlspec")


def is_spec_arg(arg: str | PathLike[str]) -> bool:
    """Whether a command-line argument names specs rather than traces.

    ``stdlib``, ``stdlib.MODULE``, a path ending in ``.otlspec`` (existing or not, so that a
    missing spec file is reported as one) or a directory holding ``*.otlspec`` files. A
    ``#name,...`` property selector after it is ignored.
    """
    text = str(arg).partition("#")[0]
    if _is_stdlib(text) or text.endswith(".otlspec"):
        return True
    path = Path(text)
    return path.is_dir() and any(path.glob("*.otlspec"))


def spec_files(arg: str | PathLike[str]) -> list[Path]:
    """The spec files a path argument names: itself, or a directory's ``*.otlspec`` files.

    A directory is read non-recursively, in name order (``specs/`` does not pull in
    ``specs/examples/``).

    Raises
    ------
    SpecFileError
        The path does not exist, or the directory holds no ``*.otlspec`` file.
    """
    path = Path(arg)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.otlspec") if p.is_file())
        if not files:
            raise SpecFileError(
                str(arg),
                "directory holds no *.otlspec file",
                "spec directories are read non-recursively",
            )
        return files
    if not path.exists():
        read_source(path, str(arg))  # raises the "no such spec file" error
    return [path]


def _units(loader: Loader, arg: str | PathLike[str]) -> list[_Unit]:
    """The files that a path, a directory or a ``stdlib[.module]`` argument names."""
    if isinstance(arg, str) and _is_stdlib(arg):
        return loader.load_text(f"import {arg}\n", f"<{arg}>").deps
    return [loader.load_path(p) for p in spec_files(arg)]


def _merged(loader: Loader, units: list[_Unit], name: str, imports: tuple[str, ...]) -> Spec:
    root = _Unit(RawFile("", "", [], [], [], Source("<merged>", ""), PosTable()), units)
    spec = loader.spec(root, name=name)
    return Spec(name, "", spec.params, spec.properties, imports, "", spec.positions)


def load_spec(path: str | PathLike[str]) -> Spec:
    """Load a spec file and its imports.

    Parameters
    ----------
    path:
        A ``.otlspec`` file, a directory of them (read non-recursively, in name order);
        ``"stdlib"`` for the whole standard library or ``"stdlib.NAME"`` for one of its files.

    Returns
    -------
    Spec
        As :func:`parse_spec`; the name defaults to the file stem (to the path for several
        files).

    Raises
    ------
    SpecFileError
        A missing or unreadable file, or a directory without ``*.otlspec`` files.
    SpecSyntaxError, SpecTypeError, SpecImportError
        As :func:`parse_spec` (invalid UTF-8 is a syntax error at its ``file:line:col``).
    """
    if not isinstance(path, str | PathLike):
        raise ArgumentError(
            f"load_spec(path=...): expected a str or os.PathLike (a .otlspec file, a "
            f"directory, 'stdlib'), got {type(path).__name__} {path!r}"[:300]
        )
    loader = Loader()
    units = _units(loader, path)
    if len(units) == 1:
        return loader.spec(units[0])
    return _merged(loader, units, str(path), (str(path),))


def load_specs(paths: Iterable[str | PathLike[str]]) -> Spec:
    """Load several spec files into one :class:`Spec`.

    Parameters
    ----------
    paths:
        Files, directories of ``*.otlspec`` files, or ``"stdlib"`` / ``"stdlib.NAME"``.

    Returns
    -------
    Spec
        Every param and property of the files and their imports (a single path gives
        :func:`load_spec`'s result). Files shared between them are loaded once.

    Raises
    ------
    SpecTypeError
        A property or param name defined in two different files (naming both places).
    """
    if isinstance(paths, str | PathLike) or not isinstance(paths, Iterable):
        raise ArgumentError(
            f"load_specs(paths=...): expected a list of paths, got {type(paths).__name__} "
            f"{paths!r}; for one spec write load_specs([{str(paths)!r}]) or load_spec(...)"
        )
    args = list(paths)
    for arg in args:
        if not isinstance(arg, str | PathLike):
            raise ArgumentError(
                f"load_specs(paths=...): each path is a str or os.PathLike, got "
                f"{type(arg).__name__} {arg!r}"
            )
    if len(args) == 1:
        return load_spec(args[0])
    loader = Loader()
    units = [u for arg in args for u in _units(loader, arg)]
    return _merged(loader, units, "", tuple(str(a) for a in args))


def parse_formula(
    text: str,
    variables: Mapping[str, Type] | None = None,
    params: Mapping[str, Const] | None = None,
) -> Node:
    """Parse and type one formula or expression.

    Parameters
    ----------
    text:
        E.g. ``"forall s in spans: s.duration < 2s"``.
    variables:
        Free variables and their types (``Type.SPAN`` / ``Type.EVENT``).
    params:
        Visible lets/params by name, with their values.

    Returns
    -------
    Node
        The typed IR (any type: use :func:`type_of` to ask).
    """
    source = Source("<string>", text)
    positions = PosTable()
    raw = parse_raw(text, "expr", source, positions)
    return check_formula(raw, variables, params, source, positions)[0]


# --------------------------------------------------------------------------- formatting


def _comments(text: str) -> list[tuple[int, str]]:
    """``#`` comments as (line, text), skipping strings and the holes of message strings."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.split("\n"), 1):
        i, depth, quoted = 0, 0, False
        while i < len(line):
            ch = line[i]
            if not quoted:
                if ch == '"':
                    quoted = True
                elif line.startswith("///", i):
                    break
                elif ch == "#":
                    found.append((number, line[i:].rstrip()))
                    break
            elif ch == "\\":
                i += 1
            elif depth == 0 and line[i : i + 2] in ("{{", "}}"):
                i += 1
            elif ch in "{}":
                depth += 1 if ch == "{" else -1
            elif ch == '"' and depth == 0:
                quoted = False
            elif ch == '"':  # a string inside a message hole
                i += 1
                while i < len(line) and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
            i += 1
    return found


def format_source(text: str, file: str = "<string>") -> str:
    """The canonical text of one spec file, for ``otlspec fmt``.

    Parameters
    ----------
    text, file:
        The file's text and name (for errors and relative imports).

    Returns
    -------
    str
        The formatted text; formatting it again gives the same text.

    Notes
    -----
    Unlike :func:`print_spec` this keeps the file's own structure: its header, its ``import``
    lines and only its own lets/params and properties, in source order. ``#`` comments are
    kept: each comment block is placed before the item it preceded or stood in (a comment
    inside a property moves above it; a comment after code on the same line moves to its own
    line). The file is fully checked first (imports included), so only valid specs format.
    """
    unit = Loader().load_text(text, file)
    raw = unit.raw
    entries: list[tuple[tuple[int, int], str, str]] = []
    if raw.header_lines is not None:
        desc = f" {quote(raw.description)}" if raw.description else ""
        entries.append((raw.header_lines, "header", f"spec {raw.name}{desc}"))
    for imp in raw.imports:
        target = quote(imp.target) if imp.kind == "path" else imp.target
        entries.append((imp.lines, "import", f"import {target}"))
    for decl in raw.decls:
        entries.append((decl.lines, "decl", print_decl(decl.param)))
    for prop, (typed, _) in zip(raw.properties, unit.properties, strict=True):
        entries.append((prop.lines, "property", print_property(typed)))
    entries.sort(key=lambda e: e[0])

    lines = text.split("\n")
    pending = _comments(text)
    out: list[str] = []
    previous = ""
    for (first, last), group, rendered in entries:
        before = [c for c in pending if c[0] <= last]
        pending = pending[len(before) :]
        if out and (group != previous or group in ("header", "property") or before):
            out.append("")
        for k, (number, comment) in enumerate(before):
            out.append(comment)
            gap = number + 1 < len(lines) and not lines[number].strip()
            following = before[k + 1][0] if k + 1 < len(before) else first
            if gap and number < first and following > number + 1:
                out.append("")
        out.append(rendered)
        previous = group
    if pending:
        out.append("")
        out += [comment for _, comment in pending]
    return "\n".join(out).strip("\n") + "\n"
