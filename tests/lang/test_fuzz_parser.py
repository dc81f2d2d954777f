"""Never crash on a spec: mutated bundled specs parse, or fail with a located diagnostic.

Hypothesis mutates the bundled ``.otlspec`` files (deleted and duplicated slices, swapped
slices, inserted keywords and punctuation, truncation, invalid UTF-8, deep nesting) and loads
each mutant from disk as ``otlspec check`` does. The only acceptable outcomes are a spec, or
one of the project's own errors that says where (``file:line:col``); any other exception is a
bug. A mutant that loads must also format, and its formatted text must load to the same IR.
The default run is bounded and derandomized (a fixed seed); ``-m slow`` runs a longer one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import OtlspecError, SpecError, SpecFileError
from workbench.lang import format_source, load_spec

ROOT = Path(__file__).resolve().parents[2] / "specs"
FILES = sorted([*ROOT.glob("stdlib/*.otlspec"), *ROOT.glob("examples/*.otlspec")])
TEXTS = {p.name: p.read_bytes() for p in FILES}

#: what an edit may insert: the language's words and punctuation, and some hostile bytes
TOKENS = [
    b"and ", b"or ", b"not ", b"->", b"forall ", b"exists ", b" in ", b"spans", b"children(",
    b"until ", b"since ", b"always ", b"eventually[0s, 5ms] ", b"once ", b"(", b")", b"{",
    b"}", b"[", b"]", b":", b",", b"\"", b"'", b"#", b"\n", b"property ", b"check ", b"param ",
    b"let ", b"import ", b"p99(", b"quantile(2, ", b"int(", b"1e400", b"99999999999999999999",
    b"-0", b"1.5.2", b"10zz", b"\\", b"\x00", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\t",
    b"s.attributes[", b"matches \"(a+)+$\"", b"where ", b"message \"{s.name", b"}\"",
]


@st.composite
def mutants(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    data = bytearray(TEXTS[name])
    for _ in range(draw(st.integers(1, 4))):
        n = len(data)
        at = draw(st.integers(0, n))
        end = draw(st.integers(at, min(n, at + 40)))
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "truncate",
                                     "nest"]))
        if edit == "delete":
            del data[at:end]
        elif edit == "insert":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif edit == "duplicate":
            data[at:at] = data[at:end]
        elif edit == "swap":
            other = draw(st.integers(0, n))
            a, b = bytes(data[at:end]), bytes(data[other:other + (end - at)])
            data[at:end], data[other:other + len(b)] = b, a
        elif edit == "truncate":
            del data[at:]
        else:  # a deep nesting at one point: the parser must not recurse
            depth = draw(st.integers(50, 400))
            data[at:at] = b"(" * depth + b"true" + b")" * depth
    return name, bytes(data)


def _located(err: OtlspecError) -> bool:
    if isinstance(err, SpecFileError):
        return bool(err.path)
    if isinstance(err, SpecError):
        return err.pos is not None and err.pos.line >= 1 and err.pos.column >= 1
    return True


def _fuzz(tmp_dir: Path, name: str, data: bytes) -> None:
    path = tmp_dir / name
    path.write_bytes(data)
    try:
        spec = load_spec(path)
    except OtlspecError as err:
        assert _located(err), f"an unlocated error: {err!r}"
        assert str(err).strip()
        return
    text = data.decode("utf-8")  # it loaded, so it is UTF-8
    formatted = format_source(text, str(path))
    path.write_text(formatted, encoding="utf-8")
    again = load_spec(path)
    assert [p.formula for p in again.properties] == [p.formula for p in spec.properties]


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled stdlib, so a mutant's imports resolve next to it."""
    out = tmp_path_factory.mktemp("fuzz") / "stdlib"
    out.mkdir()
    for p in ROOT.glob("stdlib/*.otlspec"):
        (out / p.name).write_bytes(p.read_bytes())
    return out


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutant=mutants())
def test_mutated_specs_never_crash(spec_dir: Path, mutant: tuple[str, bytes]) -> None:
    name, data = mutant
    _fuzz(spec_dir, f"m_{name}", data)


@pytest.mark.slow
@settings(max_examples=2000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(mutant=mutants())
def test_mutated_specs_never_crash_long(spec_dir: Path, mutant: tuple[str, bytes]) -> None:
    name, data = mutant
    _fuzz(spec_dir, f"m_{name}", data)
