"""Fault injection with ground-truth labels.

:func:`inject` edits a generated :class:`~workbench.datasets.model.Dataset` in place: it picks
traces (at most one fault per trace, so that every violation has one cause), applies a fault
variant to each and records an :class:`~workbench.datasets.model.Annotation` naming the spans
that carry the fault. The classes and their variants, with the properties that claim to detect
them, are listed in :data:`workbench.datasets.labels.VARIANTS`; each variant is a function in
:mod:`~workbench.datasets.faults.structural` or :mod:`~workbench.datasets.faults.content` whose
docstring says what it does to a trace.

A variant applies only where it is *observable and unambiguous*: a clock skew is injected on a
service that has cross-service edges in the trace, and only the spans whose causal order it
reverses by more than twice :data:`~workbench.datasets.faults.base.SKEW_TOLERANCE` are
``primary``; a duplicate id is given to two leaves, so no parent pointer becomes ambiguous.
Where a variant does not apply to a trace, the next trace is tried.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from workbench.datasets import labels as lb
from workbench.datasets.faults import content, structural
from workbench.datasets.faults.base import SKEW_TOLERANCE, Editor, Result
from workbench.datasets.model import Annotation, Dataset

#: (class, variant) -> injector.
INJECTORS: dict[tuple[str, str], Callable[[Editor], Result]] = {
    **structural.VARIANTS, **content.VARIANTS}


def parse_faults(text: str, traces: int, rate: float = 0.2) -> dict[str, int]:
    """``"all"`` or ``"orphan=5,cycle,pii_leak=2"`` -> {class: count}.

    Parameters
    ----------
    text
        The request: ``all``, ``none``, or a comma-separated list of ``class[=count]``.
    traces
        Number of traces of the dataset.
    rate
        A class without a count gets ``max(1, round(rate * traces / n))`` injections, ``n``
        being the number of classes requested (so about ``rate`` of the traces are faulty).

    Returns
    -------
    dict[str, int]
    """
    text = text.strip()
    if text == "none":
        return {}
    items = list(lb.FAULT_CLASSES) if text in ("all", "") else [
        t.strip() for t in text.split(",") if t.strip()]
    names = [i.partition("=")[0].strip() for i in items]
    for name in names:
        if name not in lb.VARIANTS:
            raise ValueError(f"unknown fault class {name!r}; known: {', '.join(lb.VARIANTS)}")
    default = max(1, round(rate * traces / max(1, len(names))))
    out: dict[str, int] = {}
    for item, name in zip(items, names, strict=True):
        _, sep, count = item.partition("=")
        out[name] = int(count) if sep else default
    return out


def inject(ds: Dataset, faults: Mapping[str, int], seed: int = 0) -> list[Annotation]:
    """Inject faults into ``ds`` (in place) and record their labels.

    Parameters
    ----------
    ds
        A generated dataset.
    faults
        Fault class -> number of injections (see :func:`parse_faults`). Each injection uses
        the least used variant of its class that applies to the trace at hand.
    seed
        Seed of the injection choices (independent of the generator's seed).

    Returns
    -------
    list[Annotation]
        The injections made (also appended to ``ds.annotations``), numbered from 0. A class
        gets fewer injections than asked when too few traces admit any of its variants.
    """
    rng = random.Random(f"faults:{seed}")
    order = list(range(len(ds.traces)))
    rng.shuffle(order)
    used: set[int] = set()
    made: list[Annotation] = []
    for cls in lb.FAULT_CLASSES:
        want = faults.get(cls, 0)
        variants = list(lb.VARIANTS[cls])
        uses = dict.fromkeys(variants, 0)
        done = 0
        for t in order:
            if done >= want:
                break
            if t in used:
                continue
            trace = ds.traces[t]
            # the least used variant that applies: every variant the topology allows occurs
            for variant in sorted(variants, key=lambda v: (uses[v], variants.index(v))):
                x = Editor(rng, ds, trace)
                result = INJECTORS[(cls, variant)](x)
                if result is None:
                    continue
                primary, affected, detail = result
                expect = x.expect if x.expect is not None else lb.expected(cls, variant)
                made.append(Annotation("fault", cls, variant, trace, primary, affected,
                                       detail, injection=len(made), expect=expect))
                used.add(t)
                uses[variant] += 1
                done += 1
                break
    ds.annotations.extend(made)
    ds.config = {**ds.config, "faults": dict(faults), "fault_seed": seed}
    return made


__all__ = ["INJECTORS", "SKEW_TOLERANCE", "inject", "parse_faults"]
