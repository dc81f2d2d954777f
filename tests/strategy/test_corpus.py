"""The obligation corpus: kinds, variants, reproducibility, storage."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from tests.strategy.conftest import TINY
from workbench.lang import ir, parse_formula
from workbench.strategy.corpus import (
    Config,
    Obligation,
    drop_conjunct,
    generate,
    load,
    load_manifest,
    scale_thresholds,
)


def test_the_tiny_corpus_is_reproducible_from_its_seed(tiny: list[Obligation]) -> None:
    again, _ = generate(TINY)
    assert [o.id for o in again] == [o.id for o in tiny]
    assert [o.meta()["sha256"] for o in again] == [o.meta()["sha256"] for o in tiny]


def test_obligations_carry_metadata_and_smtlib(tiny: list[Obligation]) -> None:
    assert len(tiny) == TINY.limit
    kinds = {o.kind for o in tiny}
    assert {"consistency", "redundancy"} <= kinds
    for o in tiny:
        assert o.n == 2 and o.family == "stdlib.timing" and o.variant == "base"
        assert "(check-sat)" in o.smt2 and "(assert" in o.smt2
        assert o.ir["ir.nodes"] > 0 and o.ir["ir.formulas"] >= 1
    assert len({o.id for o in tiny}) == len(tiny)


def test_write_and_load_round_trip(tiny: list[Obligation], tiny_dir: Path) -> None:
    back = list(load(tiny_dir))
    assert [(o.id, o.smt2, o.ir) for o in back] == [(o.id, o.smt2, o.ir) for o in tiny]
    manifest = load_manifest(tiny_dir)
    assert manifest["count"] == len(tiny) and manifest["config"]["seed"] == TINY.seed


def test_a_tampered_file_is_refused(tiny_dir: Path, tmp_path: Path) -> None:
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(tiny_dir, d)
    first = json.loads((d / "manifest.json").read_text())["obligations"][0]["id"]
    (d / "smt2" / f"{first}.smt2.gz").write_bytes(gzip.compress(b"(check-sat)\n"))
    with pytest.raises(ValueError, match="does not match"):
        list(load(d))


def test_scaling_thresholds_scales_intervals_and_literals() -> None:
    f = parse_formula("forall s in spans: s.duration <= 2s and (eventually[1ms, 4ms] start(s))")
    g = scale_thresholds(f, 10.0)
    text = repr(g)
    assert "20000000000" in text and "Interval(lo=10000000, hi=40000000" in text
    assert scale_thresholds(f, 1.0) == f


def test_dropping_a_conjunct_removes_exactly_one() -> None:
    import random

    f = parse_formula("forall s in spans: s.duration >= 0s and s.duration <= 1s and s.is_root")
    g = drop_conjunct(f, random.Random(0))
    assert isinstance(g, ir.Quant) and isinstance(g.body, ir.And) and len(g.body.args) == 2
    assert drop_conjunct(parse_formula("forall s in spans: s.is_root"), random.Random(0)) is None


def test_every_kind_appears_in_a_small_mixed_corpus() -> None:
    cfg = Config(seed=1, bounds=(2,), variant_bounds=(2,), modules=("timing",),
                 implication_pairs=1)
    obs, _skipped = generate(cfg)
    kinds = {o.kind for o in obs}
    assert kinds == {"consistency", "vacuity", "redundancy", "implication", "theorem", "repair"}
    variants = {o.variant for o in obs}
    assert {"base", "scale0", "scale10", "drop-conjunct", "add-conjunct"} <= variants
    assert any(v.startswith("budget") for v in variants)


def test_the_committed_manifest_regenerates_from_its_seed() -> None:
    import subprocess
    import sys

    import z3

    root = Path(__file__).resolve().parents[2]
    manifest = load_manifest(root / "datasets" / "obligations")
    if manifest["z3_version"] != z3.get_version_string():
        pytest.skip(f"manifest made with Z3 {manifest['z3_version']}")
    cfg = manifest["config"]
    # a fresh interpreter, as `otlspec strategy corpus` is: the smt encoder orders some
    # arguments by Z3 term ids, which depend on what the process built before
    code = ("from workbench.strategy.corpus import Config, generate\n"
            f"obs, _ = generate(Config(seed={cfg['seed']}, bounds={tuple(cfg['bounds'])}, "
            f"variant_bounds={tuple(cfg['variant_bounds'])}, limit=12))\n"
            "print(' '.join(o.meta()['sha256'] for o in obs))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=240, check=True).stdout.split()
    assert out == [m["sha256"] for m in manifest["obligations"][:12]]
    assert manifest["count"] >= 1000
    assert {m["kind"] for m in manifest["obligations"]} == {
        "consistency", "vacuity", "redundancy", "implication", "theorem", "repair"}



_REHASH = """
import json, sys
from workbench.strategy.corpus import Config, generate
obs, _ = generate(Config(seed=0, limit=int(sys.argv[1])))
print(json.dumps({o.id: o.meta()["sha256"] for o in obs}))
"""


@pytest.mark.slow
def test_the_committed_manifest_rehashes_equal_from_its_seed() -> None:
    """The first obligations, regenerated from seed 0 in a fresh interpreter (Z3 term ids,
    which order some arguments, depend on everything the process built before, so only a
    prefix of the generation reproduces alone), hash as the committed manifest says."""
    import subprocess
    import sys

    import z3

    manifest = load_manifest(Path(__file__).resolve().parents[2] / "datasets" / "obligations")
    if manifest["z3_version"] != z3.get_version_string():
        pytest.skip(f"the manifest was made with Z3 {manifest['z3_version']}")
    assert manifest["config"]["seed"] == 0 and manifest["count"] >= 1000
    out = subprocess.run([sys.executable, "-c", _REHASH, "120"], check=True,
                         capture_output=True, text=True).stdout
    fresh = json.loads(out)
    committed = {m["id"]: m["sha256"] for m in manifest["obligations"][:120]}
    assert list(fresh) == list(committed)
    assert {i for i, h in fresh.items() if committed[i] != h} == set()
