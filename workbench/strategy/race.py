"""Racing strategies: the first definitive answer of several wins, the others are killed.

Two faces of one mechanism (:func:`_race`), each racer a forked process:

* :func:`race` runs strategies of the portfolio on one SMT-LIB benchmark (what the labels
  measured), for the benchmark script and for tests;
* :func:`race_command` runs an ``otlspec prove`` handler once per strategy, each with its own
  captured stdout/stderr and its own copies of the output files, and replays the winner's
  output and files (``otlspec prove --strategy portfolio``).

A racer's answer is *definitive* when it is ``sat``/``unsat`` (for a command: exit 0 or 1).
Every strategy decides the same bounded question, so the winner's verdict is the verdict each
single strategy gives when it answers (the labels check that they agree); racing changes only
how long the answer takes. The race is bounded by a wall-clock deadline; past it, or when every
racer gave up, the result says so and nothing is killed that was not started here.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from workbench.strategy.portfolio import (
    DEFAULT_RLIMIT,
    DEFAULT_TIMEOUT,
    Run,
    Strategy,
    applied,
    run_strategy,
)

#: ``otlspec prove`` options naming files a racer writes (each racer gets its own copy).
OUTPUT_OPTIONS = ("output", "emit_smt2")


@dataclass
class Finish:
    """How one racer ended."""

    name: str
    value: Any  # what the racer's job returned; None when killed or crashed
    seconds: float
    state: str  # "answered" | "gave-up" | "killed" | "crashed"


@dataclass
class Outcome:
    """The result of a race: the winner (if any) and how every racer ended."""

    winner: Finish | None
    finishes: list[Finish] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False

    def states(self) -> dict[str, str]:
        """Racer name to how it ended."""
        return {f.name: f.state for f in self.finishes}


def _context() -> Any:
    # fork: a racer inherits the parsed arguments and loaded specs; spawn would re-import the
    # caller's __main__ (stdin, notebooks). Z3 starts no threads of its own before a check.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _child(conn: Any, job: Callable[[], Any]) -> None:  # pragma: no cover - a subprocess
    try:
        conn.send(("ok", job()))
    except BaseException as err:  # reported to the parent, which counts it a crash
        try:
            conn.send(("err", f"{type(err).__name__}: {err}"[:300]))
        except Exception:
            pass


def _race(jobs: Sequence[tuple[str, Callable[[], Any]]], definitive: Callable[[Any], bool],
          deadline: float) -> Outcome:
    """Run each job in its own process; the first whose value is ``definitive`` wins.

    ``deadline`` is in seconds from now. Racers still running when a winner is found or the
    deadline passes are killed (``SIGKILL``) and reaped.
    """
    ctx = _context()
    started = time.perf_counter()
    running: dict[Any, tuple[str, Any]] = {}  # connection -> (name, process)
    for name, job in jobs:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(child, job), daemon=True)
        proc.start()
        child.close()
        running[parent] = (name, proc)
    out = Outcome(None)
    try:
        while running and out.winner is None:
            left = deadline - (time.perf_counter() - started)
            if left <= 0:
                out.timed_out = True
                break
            ready: list[Any] = wait(list(running), timeout=left)
            for conn in ready:
                name, proc = running.pop(conn)
                secs = time.perf_counter() - started
                try:
                    tag, value = conn.recv()
                except (EOFError, OSError):
                    tag, value = "err", None
                conn.close()
                proc.join(5.0)
                if tag != "ok":
                    out.finishes.append(Finish(name, value, secs, "crashed"))
                    continue
                fin = Finish(name, value, secs,
                             "answered" if definitive(value) else "gave-up")
                out.finishes.append(fin)
                if fin.state == "answered" and out.winner is None:
                    out.winner = fin
    finally:
        for conn, (name, proc) in running.items():
            if proc.is_alive():
                proc.kill()
            proc.join()
            conn.close()
            out.finishes.append(Finish(name, None, time.perf_counter() - started, "killed"))
    out.seconds = time.perf_counter() - started
    return out


# ------------------------------------------------------------------ SMT-LIB benchmarks


def race(smt2: str, strategies: Sequence[Strategy], rlimit: int = DEFAULT_RLIMIT,
         timeout: float = DEFAULT_TIMEOUT, deadline: float | None = None) -> Outcome:
    """Race ``strategies`` on the SMT-LIB benchmark ``smt2``.

    Each racer is :func:`~workbench.strategy.portfolio.run_strategy` with the given limits;
    the winner's ``value`` is its :class:`~workbench.strategy.portfolio.Run`. ``deadline``
    (seconds) defaults to twice ``timeout`` plus a second.
    """
    jobs = [(s.name, _strategy_job(smt2, s, rlimit, timeout)) for s in strategies]
    limit = deadline if deadline is not None else 2 * timeout + 1.0
    return _race(jobs, lambda run: isinstance(run, Run) and run.solved, limit)


def _strategy_job(smt2: str, strat: Strategy, rlimit: int, timeout: float
                  ) -> Callable[[], Run]:
    return lambda: run_strategy(smt2, strat, rlimit, timeout)


# ------------------------------------------------------------------ otlspec prove


@dataclass
class Captured:
    """What a racing ``otlspec prove`` handler produced."""

    code: int
    stdout: str
    stderr: str
    files: dict[str, str]  # option -> the racer's copy of the file it wrote


def _command_job(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace,
                 strat: Strategy, workdir: Path) -> Callable[[], Captured]:
    def job() -> Captured:  # pragma: no cover - runs in a racer process
        out_path, err_path = workdir / "stdout", workdir / "stderr"
        files = {}
        own = argparse.Namespace(**vars(args))
        for opt in OUTPUT_OPTIONS:
            if getattr(own, opt, None):
                files[opt] = str(workdir / f"{opt}{Path(getattr(own, opt)).suffix}")
                setattr(own, opt, files[opt])
        with open(out_path, "w", encoding="utf-8") as out, \
                open(err_path, "w", encoding="utf-8") as err:
            # Python-level streams (pytest's capture replaces them) and the file descriptors
            # (Z3's own diagnostics) both go to the racer's files
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout, sys.stderr = out, err
            try:
                with applied(strat):
                    code = handler(own)
            finally:
                out.flush()
                err.flush()
        return Captured(code, out_path.read_text(encoding="utf-8"),
                        err_path.read_text(encoding="utf-8"), files)

    return job


def race_command(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace,
                 strategies: Sequence[Strategy], deadline: float,
                 stdout: io.TextIOBase | Any = None, stderr: io.TextIOBase | Any = None
                 ) -> tuple[int, Outcome]:
    """Race ``handler(args)`` under each of ``strategies``; replay the winner.

    The winner's stdout and stderr are written to ``stdout``/``stderr`` (default: the current
    ``sys.stdout``/``sys.stderr``) and the files it wrote (``--output``, ``--emit-smt2``) are
    moved to the paths asked for. Without a winner, the output of the first racer that gave up
    is replayed (its diagnostics say why), and the exit code is 2.
    """
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    for stream in (stdout, stderr):
        stream.flush()  # a forked racer must not inherit (and repeat) buffered text
    root = Path(tempfile.mkdtemp(prefix="otlspec-race-"))
    try:
        jobs = []
        for k, strat in enumerate(strategies):
            workdir = root / f"{k}"
            workdir.mkdir()
            jobs.append((strat.name, _command_job(handler, args, strat, workdir)))
        outcome = _race(jobs, lambda c: isinstance(c, Captured) and c.code in (0, 1), deadline)
        shown = outcome.winner or next(
            (f for f in outcome.finishes if isinstance(f.value, Captured)), None)
        if shown is None:
            return 2, outcome
        cap: Captured = shown.value
        text_out, text_err = cap.stdout, cap.stderr
        for opt, path in cap.files.items():
            wanted = getattr(args, opt)
            text_out = text_out.replace(path, wanted)
            text_err = text_err.replace(path, wanted)
            if Path(path).exists():
                shutil.move(path, wanted)
        stdout.write(text_out)
        stderr.write(text_err)
        return (cap.code if outcome.winner is not None else max(cap.code, 2)), outcome
    finally:
        shutil.rmtree(root, ignore_errors=True)


def render(outcome: Outcome) -> str:
    """One line for stderr: who won, in how long, how the others ended."""
    others = ", ".join(f"{f.name} {f.state}" for f in outcome.finishes
                       if f is not outcome.winner)
    if outcome.winner is None:
        why = "deadline passed" if outcome.timed_out else "no racer answered"
        return f"strategy portfolio: no winner ({why} after {outcome.seconds:.2f}s; {others})"
    return (f"strategy portfolio: {outcome.winner.name} won in {outcome.winner.seconds:.2f}s"
            + (f" ({others})" if others else ""))


__all__ = ["OUTPUT_OPTIONS", "Captured", "Finish", "Outcome", "race", "race_command", "render"]
