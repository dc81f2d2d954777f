"""Imports: relative paths, the standard library, diamonds, cycles and name clashes."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench.lang as lang
from workbench.errors import SpecImportError, SpecTypeError
from workbench.lang import load_spec, load_specs, parse_spec
from workbench.lang.ir import Const, Type


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_relative_import_and_imported_params(tmp_path: Path) -> None:
    write(tmp_path, "lib/common.otlspec", "param skew = 5ms\nproperty a { check true }\n")
    main = write(
        tmp_path,
        "main.otlspec",
        'import "lib/common.otlspec"\nproperty b { check forall s in spans: s.duration < skew }\n',
    )
    spec = load_spec(main)
    assert [p.name for p in spec.properties] == ["a", "b"]
    assert [p.name for p in spec.params] == ["skew"]
    assert spec.imports == ("lib/common.otlspec",)
    assert spec.name == "main" and spec.source == str(main)
    assert spec.positions["a"].file.endswith("common.otlspec")
    assert str(spec.positions["b"]) == f"{main}:2:10"


def test_nested_relative_import(tmp_path: Path) -> None:
    write(tmp_path, "y.otlspec", "property y { check true }")
    write(tmp_path, "sub/x.otlspec", 'import "../y.otlspec"\nproperty x { check true }')
    main = write(tmp_path, "main.otlspec", 'import "sub/x.otlspec"')
    assert [p.name for p in load_spec(main).properties] == ["y", "x"]


def test_diamond_is_loaded_once(tmp_path: Path) -> None:
    write(tmp_path, "d.otlspec", "param n = 1\nproperty d { check true }")
    write(tmp_path, "b.otlspec", 'import "d.otlspec"\nproperty b { check n == 1 }')
    write(tmp_path, "c.otlspec", 'import "d.otlspec"\nproperty c { check true }')
    main = write(tmp_path, "a.otlspec", 'import "b.otlspec"\nimport "c.otlspec"')
    spec = load_spec(main)
    assert [p.name for p in spec.properties] == ["d", "b", "c"]
    assert [p.name for p in spec.params] == ["n"]


def test_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "a.otlspec", 'import "b.otlspec"\nproperty a { check true }')
    write(tmp_path, "b.otlspec", '\nimport "a.otlspec"\nproperty b { check true }')
    with pytest.raises(SpecImportError) as info:
        load_spec(a)
    err = info.value
    assert "import cycle: a.otlspec -> b.otlspec -> a.otlspec" in err.message
    assert err.pos is not None and err.pos.file.endswith("b.otlspec") and err.pos.line == 2


def test_self_import(tmp_path: Path) -> None:
    a = write(tmp_path, "a.otlspec", 'import "a.otlspec"')
    with pytest.raises(SpecImportError, match="import cycle"):
        load_spec(a)


def test_property_clash_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "x.otlspec", "property same { check true }")
    write(tmp_path, "y.otlspec", "\n\nproperty same { check false }")
    main = write(tmp_path, "main.otlspec", 'import "x.otlspec"\nimport "y.otlspec"')
    with pytest.raises(SpecTypeError) as info:
        load_spec(main)
    err = info.value
    assert "property `same` is defined twice" in err.message
    assert err.pos is not None and err.pos.file.endswith("y.otlspec") and err.pos.line == 3
    assert "x.otlspec:1:10" in (err.hint or "")


def test_param_clash(tmp_path: Path) -> None:
    write(tmp_path, "x.otlspec", "param skew = 1ms")
    main = write(tmp_path, "main.otlspec", 'import "x.otlspec"\nlet skew = 2ms')
    with pytest.raises(SpecTypeError, match="param `skew` is defined twice"):
        load_spec(main)


def test_missing_file(tmp_path: Path) -> None:
    main = write(tmp_path, "main.otlspec", '\n  import "nope.otlspec"')
    with pytest.raises(SpecImportError) as info:
        load_spec(main)
    assert "cannot find `nope.otlspec`" in info.value.message
    assert info.value.pos is not None and (info.value.pos.line, info.value.pos.column) == (2, 3)


def test_errors_in_imported_files_point_there(tmp_path: Path) -> None:
    write(tmp_path, "bad.otlspec", "property p { check s.is_root }")
    main = write(tmp_path, "main.otlspec", 'import "bad.otlspec"')
    with pytest.raises(SpecTypeError) as info:
        load_spec(main)
    assert info.value.pos is not None and info.value.pos.file.endswith("bad.otlspec")


@pytest.fixture
def stdlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    lib = tmp_path / "stdlib"
    write(lib, "structure.otlspec", "property parent_exists { check true }")
    write(lib, "timing.otlspec", "param skew = 1ms\nproperty end_after_start { check true }")
    monkeypatch.setattr(lang, "stdlib_dir", lambda: lib)
    return lib


def test_import_whole_stdlib(stdlib: Path) -> None:
    spec = parse_spec("import stdlib\nproperty mine { check true }")
    assert [p.name for p in spec.properties] == ["parent_exists", "end_after_start", "mine"]
    assert spec.imports == ("stdlib",)


def test_import_one_stdlib_module(stdlib: Path) -> None:
    spec = parse_spec("import stdlib.timing\nproperty mine { check eventually[0s, skew] true }")
    assert [p.name for p in spec.properties] == ["end_after_start", "mine"]
    assert spec.params[0].default == Const(1_000_000, Type.DURATION)


def test_stdlib_imported_twice_is_loaded_once(stdlib: Path) -> None:
    spec = parse_spec("import stdlib\nimport stdlib.timing")
    assert [p.name for p in spec.properties] == ["parent_exists", "end_after_start"]


def test_unknown_stdlib_module(stdlib: Path) -> None:
    with pytest.raises(SpecImportError) as info:
        parse_spec("import stdlib.timng")
    assert "no stdlib module `stdlib.timng`" in info.value.message
    assert "`timing`" in (info.value.hint or "")


def test_unknown_module() -> None:
    with pytest.raises(SpecImportError, match=r"unknown import `foo\.bar`"):
        parse_spec("import foo.bar")


def test_default_stdlib_location() -> None:
    path = lang.stdlib_dir()
    assert path.name == "stdlib" and path.parent.name in ("specs", "_specs")


def test_load_specs_merges_files(tmp_path: Path) -> None:
    write(tmp_path, "common.otlspec", "param n = 1\nproperty c { check true }")
    a = write(tmp_path, "a.otlspec", 'import "common.otlspec"\nproperty a { check n > 0 }')
    b = write(tmp_path, "b.otlspec", 'import "common.otlspec"\nproperty b { check true }')
    spec = load_specs([a, b])
    assert [p.name for p in spec.properties] == ["c", "a", "b"]
    assert spec.imports == (str(a), str(b))
    clash = write(tmp_path, "clash.otlspec", "property a { check false }")
    with pytest.raises(SpecTypeError, match="property `a` is defined twice"):
        load_specs([a, clash])


def test_load_spec_stdlib_arguments(stdlib: Path) -> None:
    whole = load_spec("stdlib")
    assert whole.name == "stdlib" and len(whole.properties) == 2
    one = load_spec("stdlib.timing")
    assert one.name == "timing" and [p.name for p in one.properties] == ["end_after_start"]
    both = load_specs(["stdlib", "stdlib.timing"])
    assert [p.name for p in both.properties] == ["parent_exists", "end_after_start"]


def test_virtual_file_names_are_not_paths(stdlib: Path) -> None:
    spec = parse_spec("import stdlib.timing\n", "<command line>")
    assert spec.name == "" and spec.source == ""
