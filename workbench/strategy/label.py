"""Labelling: every strategy of the portfolio on every obligation, bounded, reproducible.

Runs happen in a worker process (lowered priority with ``os.nice``) that is killed and
restarted if a run overstays its wall-clock limit, so a tactic that ignores Z3's limits cannot
stall the labelling. Each label records the strategy's answer, Z3's deterministic resource
count (``rlimit``) and the wall time; the features (:mod:`.features`) are computed in the same
worker, timed, before any strategy runs.

The answering strategies must agree: two that answer ``sat`` and ``unsat`` on one obligation
are a bug in Z3 or in a tactic's assumptions, reported in :attr:`Label.disagreement` and by
``otlspec strategy label`` (exit 1).

Labels are stored as gzipped JSON lines (``labels.jsonl.gz``), appended as they are made, so
an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.strategy.corpus import Obligation
from workbench.strategy.portfolio import (
    DEFAULT_RLIMIT,
    DEFAULT_TIMEOUT,
    Run,
    run_strategy,
    strategy,
)


@dataclass
class Label:
    """All runs on one obligation, with its features."""

    id: str
    kind: str
    family: str
    n: int
    variant: str
    features: dict[str, float]
    feature_seconds: float
    runs: dict[str, Run] = field(default_factory=dict)

    @property
    def answers(self) -> set[str]:
        """The distinct answers of the strategies that answered."""
        return {r.status for r in self.runs.values() if r.solved}

    @property
    def disagreement(self) -> bool:
        """Some strategies said ``sat`` and others ``unsat``."""
        return len(self.answers) > 1

    def to_json(self) -> dict[str, Any]:
        """One JSON line."""
        return {"id": self.id, "kind": self.kind, "family": self.family, "n": self.n,
                "variant": self.variant, "features": self.features,
                "feature_seconds": round(self.feature_seconds, 5),
                "runs": [r.to_json() for r in self.runs.values()],
                "disagreement": self.disagreement}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Label:
        """Inverse of :meth:`to_json`."""
        runs = {r["strategy"]: Run(r["strategy"], r["status"], int(r["rlimit"]),
                                   float(r["seconds"]), r.get("reason", ""))
                for r in d["runs"]}
        return cls(d["id"], d["kind"], d["family"], int(d["n"]), d["variant"],
                   dict(d["features"]), float(d["feature_seconds"]), runs)


def features_of(smt2: str, ob_ir: dict[str, float], kind: str, n: int
                ) -> tuple[dict[str, float], float]:
    """All features of an obligation given as SMT-LIB, and the seconds they took.

    The seconds are those of the probes on the parsed goal (the IR counts come with the
    obligation): ``otlspec prove --strategy auto`` computes the same probes on the goal it has
    already built, so parsing the text, a cost of the corpus only, is not charged.
    """
    import z3

    from workbench.strategy.features import meta_features, probe_features

    ctx = z3.Context()
    assertions = list(z3.parse_smt2_string(smt2, ctx=ctx))
    started = time.perf_counter()
    feats = {**ob_ir, **probe_features(assertions), **meta_features(kind, n)}
    return feats, time.perf_counter() - started


def _worker(conn: Any, niceness: int) -> None:  # pragma: no cover - runs in a subprocess
    if niceness:
        os.nice(niceness)
    text = ""
    while True:
        msg = conn.recv()
        if msg is None:
            return
        op = msg[0]
        try:
            if op == "load":
                text = msg[1]
                conn.send(True)
            elif op == "features":
                _, ob_ir, kind, n = msg
                conn.send(features_of(text, ob_ir, kind, n))
            else:
                _, name, rlimit, timeout = msg
                conn.send(run_strategy(text, strategy(name), rlimit, timeout))
        except Exception as err:  # reported to the parent, which records it
            conn.send(err)


class Labeller:
    """A worker process that labels obligations one run at a time (killed when stuck)."""

    def __init__(self, rlimit: int = DEFAULT_RLIMIT, timeout: float = DEFAULT_TIMEOUT,
                 niceness: int = 10) -> None:
        self.rlimit = rlimit
        self.timeout = timeout
        self.niceness = niceness
        self._proc: Any = None
        self._conn: Any = None
        self._text: str | None = None

    def _start(self) -> None:
        # fork: a spawned worker would re-import the caller's __main__ (stdin, notebooks)
        ctx: Any = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_worker, args=(child, self.niceness), daemon=True)
        self._proc.start()
        self._conn = parent

    def _ask(self, msg: tuple[Any, ...], limit: float) -> Any:
        if self._proc is None or not self._proc.is_alive():
            self._start()
            if msg[0] != "load" and self._text is not None:
                self._conn.send(("load", self._text))  # a fresh worker: give it the text
                self._conn.recv()
        if msg[0] == "load":
            self._text = msg[1]
        try:
            self._conn.send(msg)
            if self._conn.poll(limit):
                return self._conn.recv()
        except (EOFError, OSError):  # the worker died (out of memory, a crash in Z3)
            pass
        self.close()  # stuck past every limit: kill it; the next request restarts it
        return None

    def close(self) -> None:
        """Stop the worker."""
        if self._proc is not None:
            if self._proc.is_alive():
                try:
                    self._conn.send(None)
                except OSError:
                    pass
                self._proc.join(1.0)
                if self._proc.is_alive():
                    self._proc.kill()
                    self._proc.join()
            self._proc = None

    def __enter__(self) -> Labeller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def label(self, ob: Obligation, strategies: Sequence[str],
              known: Label | None = None) -> Label:
        """Features and every strategy's run on ``ob``.

        Runs already in ``known`` (a label of the same SMT-LIB, so the same deterministic
        counts) are kept, not repeated; the features are always recomputed.
        """
        grace = 30.0 + 4 * self.timeout
        if self._ask(("load", ob.smt2), grace) is not True:
            raise RuntimeError(f"{ob.id}: the labelling worker could not load it")
        got = self._ask(("features", ob.ir, ob.kind, ob.n), grace)
        if not isinstance(got, tuple):
            raise RuntimeError(f"{ob.id}: computing its features failed: {got!r}")
        feats, secs = got
        lab = Label(ob.id, ob.kind, ob.family, ob.n, ob.variant, feats, secs)
        kept = {} if known is None else {k: v for k, v in known.runs.items()
                                         if k in strategies and determined(v, self.rlimit)}
        for name in strategies:
            if name in kept:
                lab.runs[name] = kept[name]
                continue
            started = time.perf_counter()
            run = self._ask(("run", name, self.rlimit, self.timeout), 2 * self.timeout + 10)
            if run is None:
                run = Run(name, "unknown", self.rlimit, time.perf_counter() - started,
                          "killed: past the wall-clock limit")
            elif not isinstance(run, Run):
                run = Run(name, "error", 0, time.perf_counter() - started, repr(run)[:200])
            lab.runs[name] = run
        return lab


def determined(run: Run, rlimit: int) -> bool:
    """Whether ``run`` is what any machine would record under resource limit ``rlimit``.

    Answers within the limit are (a deterministic count), and so is a run that exhausted
    the limit or answered past it (it did not answer within ``rlimit``), and so is a tactic
    that gave up. A run stopped by the wall clock before the limit depends on the machine's
    load: it is not, and is run again.
    """
    if run.solved or run.status == "error" or run.rlimit >= rlimit:
        return True
    return not any(w in run.reason for w in ("timeout", "canceled", "killed"))


def read_labels(path: str | Path) -> list[Label]:
    """Labels stored by :func:`label_corpus` (the last record of an id wins)."""
    p = Path(path)
    if not p.exists():
        return []
    out: dict[str, Label] = {}
    with gzip.open(p, "rt", encoding="utf-8") as f:
        try:
            for line in f:
                line = line.strip()
                if line:
                    lab = Label.from_json(json.loads(line))
                    out[lab.id] = lab
        except (EOFError, gzip.BadGzipFile, json.JSONDecodeError):
            pass  # a run killed mid-write: keep the complete records before it
    return list(out.values())


def label_corpus(obligations: Iterable[Obligation], strategies: Sequence[str], path: str | Path,
                 rlimit: int = DEFAULT_RLIMIT, timeout: float = DEFAULT_TIMEOUT,
                 niceness: int = 10, budget: float | None = None,
                 progress: Callable[[Label], None] | None = None,
                 reuse: dict[str, Label] | None = None) -> list[Label]:
    """Label every obligation not yet in ``path`` (appending to it); returns all labels.

    ``budget`` (seconds) stops the run early; a later call resumes it. ``reuse`` maps ids to
    labels of byte-identical SMT-LIB (same hash, same Z3): their runs are kept and only the
    strategies they lack are run.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    reuse = reuse or {}
    done = {lab.id for lab in read_labels(p)
            if all(s in lab.runs and determined(lab.runs[s], rlimit) for s in strategies)}
    reuse = {**reuse, **{lab.id: lab for lab in read_labels(p)}}
    started = time.perf_counter()
    with Labeller(rlimit, timeout, niceness) as lb, gzip.open(p, "at", encoding="utf-8") as f:
        for ob in obligations:
            if ob.id in done:
                continue
            if budget is not None and time.perf_counter() - started > budget:
                break
            lab = lb.label(ob, strategies, reuse.get(ob.id))
            f.write(json.dumps(lab.to_json()) + "\n")
            f.flush()
            if progress is not None:
                progress(lab)
    return read_labels(p)


__all__ = ["Label", "Labeller", "determined", "features_of", "label_corpus", "read_labels"]
