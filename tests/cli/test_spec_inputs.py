"""Spec arguments: directories of specs everywhere a spec is taken; missing and undecodable
spec files are reported as ``file: error`` / ``file:line:col`` diagnostics with status 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli.conftest import CLEAN, SKEWED, STDLIB, Run
from workbench.errors import SpecFileError, SpecSyntaxError
from workbench.lang import is_spec_arg, load_spec, load_specs, spec_files

TIMING = STDLIB / "timing.otlspec"


@pytest.fixture()
def spec_dir(tmp_path: Path) -> Path:
    """A directory holding two stdlib modules (and a non-spec file, and a sub-directory)."""
    d = tmp_path / "specs"
    (d / "nested").mkdir(parents=True)
    shutil.copy(TIMING, d / "timing.otlspec")
    shutil.copy(STDLIB / "ids.otlspec", d / "ids.otlspec")
    (d / "README.md").write_text("not a spec\n")
    (d / "nested" / "broken.otlspec").write_text("property {\n")  # not read: non-recursive
    return d


def test_a_directory_is_a_spec(spec_dir: Path) -> None:
    assert is_spec_arg(str(spec_dir))
    assert not is_spec_arg(str(SKEWED.parent))
    assert is_spec_arg("stdlib.timing#child_ends_within_parent")
    assert is_spec_arg("missing.otlspec")
    assert [p.name for p in spec_files(spec_dir)] == ["ids.otlspec", "timing.otlspec"]
    spec = load_spec(spec_dir)
    want = {
        p.name
        for p in load_specs([spec_dir / "ids.otlspec", spec_dir / "timing.otlspec"]).properties
    }
    assert {p.name for p in spec.properties} == want
    assert len(spec.properties) == len(want)
    assert {p.name for p in load_spec(STDLIB).properties} == {
        p.name for p in load_spec("stdlib").properties
    }


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match=r"no \*\.otlspec file"):
        load_spec(tmp_path)


def test_check_takes_a_spec_directory(run: Run, spec_dir: Path) -> None:
    code, out, err = run("check", spec_dir, SKEWED, "--format", "json", "--fail-on", "warning")
    report = json.loads(out)
    names = {p["name"] for p in report["properties"]}
    assert "child_starts_after_parent" in names and "span_id_valid" in names
    assert code == 1, err
    code, _, err = run("check", spec_dir, CLEAN, "--no-progress")
    assert code == 0, err


def test_lint_fmt_explain_take_a_spec_directory(run: Run, spec_dir: Path) -> None:
    code, out, err = run("lint", spec_dir)
    assert code == 0, err
    assert f"{spec_dir / 'ids.otlspec'}: ok" in out
    assert f"{spec_dir / 'timing.otlspec'}: ok" in out
    assert "broken" not in out + err
    code, _, err = run("fmt", "--check", spec_dir)
    assert code == 0, err
    code, out, _ = run("explain", "child_starts_after_parent", spec_dir)
    assert code == 0
    assert "canonical form:" in out


def test_prove_fix_eval_take_a_spec_directory(run: Run, spec_dir: Path, tmp_path: Path) -> None:
    code, out, err = run("prove", "consistent", spec_dir, "--spans", "2", "--format", "json")
    assert code == 0, err
    assert json.loads(out)
    code, out, err = run("fix", spec_dir, SKEWED, "--timeout", "20")
    assert code == 0, err
    patch = json.loads(out)
    assert patch["spec"] == str(spec_dir)
    assert patch["traces"][0]["timing_violated"] == ["child_starts_after_parent"]
    gen = tmp_path / "gen"
    code, _, err = run("gen", "--traces", "5", "--seed", "1", "--out", gen)
    assert code == 0, err
    code, out, err = run("eval", spec_dir, gen, "--backend", "reference")
    assert code == 0, err
    assert "child_starts_after_parent" in out


@pytest.mark.parametrize("command", [["lint"], ["fmt"], ["check", "-"], ["explain", "x"]])
def test_missing_spec_file_is_a_clear_error(run: Run, command: list[str]) -> None:
    # README: `otlspec lint specs/my.otlspec`
    argv = [
        *command[:1],
        *(["x"] if command[0] == "explain" else []),
        "specs/my.otlspec",
        *command[1 : 2 if command[0] == "check" else 1],
    ]
    code, out, err = run(*argv)
    assert code == 2
    assert "specs/my.otlspec: error: no such spec file" in err
    assert "Traceback" not in err + out


def test_invalid_utf8_spec_is_located(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.otlspec"
    bad.write_bytes(b'spec bad\n\nproperty p {\n  doc "caf\xe9 \xff"\n  check true\n}\n')
    with pytest.raises(SpecSyntaxError) as info:
        load_spec(bad)
    assert info.value.pos is not None
    assert (info.value.pos.line, info.value.pos.column) == (4, 11)
    for command in (["lint", bad], ["fmt", bad], ["check", bad, CLEAN]):
        code, out, err = run(*command)
        assert code == 2
        assert f"{bad}:4:11: syntax error: invalid UTF-8 (byte 0xe9)" in err
        assert "Traceback" not in err + out


def test_spec_file_that_is_unreadable_is_reported(run: Run, tmp_path: Path) -> None:
    d = tmp_path / "dir.otlspec"
    d.mkdir()
    code, _, err = run("lint", d)
    assert code == 2
    assert "directory holds no *.otlspec file" in err
