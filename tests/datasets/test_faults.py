"""Fault injection: every variant applies somewhere and is flagged by what claims it."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from workbench.datasets import labels as lb
from workbench.datasets.faults import INJECTORS, inject, parse_faults
from workbench.datasets.faults.base import Editor
from workbench.datasets.generator import generate
from workbench.datasets.model import Annotation, Dataset
from workbench.datasets.writer import to_table

ALL = [(cls, v) for cls, variants in lb.VARIANTS.items() for v in variants]


def _apply(cls: str, variant: str) -> tuple[Dataset, Annotation]:
    """The first generated trace (over a few seeds) that admits the variant, injected."""
    for seed in range(12):
        ds = generate(traces=40, seed=seed)
        rng = random.Random(seed)
        for trace in ds.traces:
            x = Editor(rng, ds, trace)
            found = INJECTORS[(cls, variant)](x)
            if found is None:
                continue
            primary, affected, detail = found
            ann = Annotation("fault", cls, variant, trace, primary, affected, detail, 0,
                             x.expect if x.expect is not None else lb.expected(cls, variant))
            return Dataset([trace], ds.resources, ds.scopes, [ann]), ann
    raise AssertionError(f"{cls}/{variant} applies to no generated trace")


def test_every_variant_has_an_injector() -> None:
    assert set(INJECTORS) == set(ALL)


@pytest.mark.parametrize(("cls", "variant"), ALL, ids=[f"{c}-{v}" for c, v in ALL])
def test_variant_is_flagged_by_the_properties_that_claim_it(cls: str, variant: str,
                                                           spec_with_retries: object) -> None:
    from workbench.datasets.evaluation import evaluate
    from workbench.engine import check

    ds, ann = _apply(cls, variant)
    assert ann.primary, "an injection names the spans that carry it"
    assert set(ann.expect) <= set(lb.expected(cls, variant))
    labels = [lb.Label.from_json(r) for r in ds.label_records()]
    result = check(spec_with_retries, to_table(ds), backend="reference",
                   properties=list(ann.expect))
    ev = evaluate(result, labels)
    missed = {m.name: m.missed for m in ev.properties if m.missed}
    assert not missed, f"{ann.detail}: missed by {missed}"


def test_every_class_is_claimed() -> None:
    claims = lb.detectors()
    assert all(claims[c] for c in lb.FAULT_CLASSES)
    assert lb.DETECTORS["retry_storm"] == ()  # no stdlib property claims retry storms
    stdlib_props = set()
    from workbench.lang import load_spec

    stdlib_props = {p.name for p in load_spec("stdlib").properties}
    claimed = {p for props in lb.DETECTORS.values() for p in props}
    assert claimed <= stdlib_props
    # every stdlib property claims some fault class
    assert stdlib_props <= claimed, sorted(stdlib_props - claimed)


def test_inject_counts_one_fault_per_trace_and_labels() -> None:
    ds = generate(traces=120, seed=6)
    want = parse_faults("all", 120, 0.5)
    made = inject(ds, want, seed=6)
    got = Counter(a.name for a in made)
    assert got == Counter({k: v for k, v in want.items()})
    traces = [id(a.trace) for a in made]
    assert len(traces) == len(set(traces))
    records = ds.label_records()
    assert {r["injection"] for r in records if r["type"] == "fault"} == set(range(len(made)))
    assert all(r["expect"] or r["class"] == "retry_storm" for r in records
               if r["type"] == "fault")


def test_parse_faults() -> None:
    assert parse_faults("none", 100) == {}
    assert parse_faults("orphan=3, cycle", 100, 0.2) == {"orphan": 3, "cycle": 10}
    assert set(parse_faults("all", 10)) == set(lb.FAULT_CLASSES)
    with pytest.raises(ValueError, match="unknown fault class"):
        parse_faults("orphans", 10)
