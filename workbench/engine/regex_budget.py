"""The time-bounded ``re`` fallback of :mod:`workbench.engine.regex`.

Patterns (or texts) that have no faithful RE2 form run on Python's backtracking ``re`` with a
time budget per search (:data:`BUDGET_ENV`, default :data:`DEFAULT_BUDGET_S` seconds); past it
the search raises :class:`RegexTimeout`. On the main thread the budget is an ``SIGALRM``
interval timer; signals reach only the main thread, so on other threads the search runs in a
helper interpreter of the same Python, one per thread, started on first need and killed when a
search overruns (the next search starts a fresh one). Where neither works (no ``setitimer``,
no ``select`` on pipes) the search is unbounded, as documented.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from typing import Any

from workbench.errors import BackendError

#: Environment variable holding the per-search time budget of the ``re`` fallback (seconds).
BUDGET_ENV = "OTLSPEC_REGEX_BUDGET"
DEFAULT_BUDGET_S = 1.0


class RegexTimeout(BackendError):
    """A regex search ran past its time budget on Python's backtracking engine."""

    def __init__(
        self, pattern: str, text: str, budget: float, prop: str = "", span: str = ""
    ) -> None:
        self.pattern, self.text, self.budget = pattern, text, budget
        self.prop, self.span = prop, span
        shown = text if len(text) <= 40 else f"{text[:37]}... ({len(text)} characters)"
        where = f"property `{prop}`: " if prop else ""
        on = f" on {span}" if span else ""
        super().__init__(
            f"{where}regex {pattern!r} exceeded its {budget:g} s time budget{on} "
            f"(value {shown!r}); the pattern backtracks (see `otlspec lint`): simplify it, "
            f"or raise the budget with {BUDGET_ENV}=SECONDS"
        )

    def within(self, prop: str = "", span: str = "") -> RegexTimeout:
        """The same error naming the property and the span, where not named yet."""
        return RegexTimeout(
            self.pattern, self.text, self.budget, self.prop or prop, self.span or span
        )


def budget() -> float:
    """The fallback's per-search budget in seconds (:data:`BUDGET_ENV`, else the default)."""
    try:
        value = float(os.environ.get(BUDGET_ENV, DEFAULT_BUDGET_S))
    except ValueError:
        return DEFAULT_BUDGET_S
    return value if value > 0 else DEFAULT_BUDGET_S



class _Expired(Exception):
    pass


def bounded_search(compiled: re.Pattern[str], pattern: str, text: str) -> bool:
    """``compiled.search(text) is not None`` within :func:`budget` seconds.

    Raises
    ------
    RegexTimeout
        The search ran past the budget (on the main thread's alarm or the thread's helper).
    """
    limit = budget()
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        if os.name != "posix":  # no select() on pipes: unbounded, as documented
            return compiled.search(text) is not None
        return thread_helper().search(pattern, text, limit)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_REAL)
    if old_delay and old_delay <= limit:  # someone else's alarm comes first: leave it be
        return compiled.search(text) is not None

    def expire(signum: int, frame: Any) -> None:
        raise _Expired

    old_handler = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            return compiled.search(text) is not None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Expired:
        raise RegexTimeout(pattern, text, limit) from None
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:  # restore a pending alarm (pytest-timeout, a caller's own)
            left = max(1e-3, old_delay - (time.monotonic() - started))
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def bounded_search_many(compiled: re.Pattern[str], pattern: str, texts: list[str]) -> list[bool]:
    """:func:`bounded_search` of many texts, the alarm handler installed once for all."""
    limit = budget()
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):  # no alarms here: each text under the thread's helper interpreter
        if os.name != "posix":  # no select() on pipes: unbounded, as documented
            return [compiled.search(t) is not None for t in texts]
        return thread_helper().search_many(pattern, texts, limit)
    old_delay, old_interval = signal.getitimer(signal.ITIMER_REAL)
    if old_delay and old_delay <= limit:  # someone else's alarm comes first: leave it be
        return [compiled.search(t) is not None for t in texts]

    def expire(signum: int, frame: Any) -> None:
        raise _Expired

    out: list[bool] = []
    search, arm, real = compiled.search, signal.setitimer, signal.ITIMER_REAL
    old_handler = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    text = ""
    try:
        try:
            for text in texts:
                arm(real, limit)
                out.append(search(text) is not None)
        finally:
            arm(real, 0)
    except _Expired:
        raise RegexTimeout(pattern, text, limit) from None
    finally:
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay:
            left = max(1e-3, old_delay - (time.monotonic() - started))
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)
    return out


#: The helper interpreter: one JSON line ``[pattern, text]`` in, ``1``/``0``/``E...`` out.
#: bytes of request lines written to the helper at once (well under a pipe's 64 KiB buffer)
_PIPE_CHUNK = 16 * 1024

_HELPER_SOURCE = r"""
import json, re, sys
cache = {}
for line in sys.stdin:
    pattern, text = json.loads(line)
    try:
        if pattern not in cache:
            cache[pattern] = re.compile(pattern)
        out = "1" if cache[pattern].search(text) is not None else "0"
    except Exception as err:
        out = "E" + json.dumps(f"{type(err).__name__}: {err}")
    sys.stdout.write(out + "\n")
    sys.stdout.flush()
"""


class _Helper:
    """A child interpreter running ``re`` searches for one thread, killed on an overrun."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0  # interpreters started, for the tests

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", _HELPER_SOURCE],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            )
            self.started += 1
        return self.proc

    def search(self, pattern: str, text: str, limit: float) -> bool:
        """``re.search(pattern, text)`` in the helper, or :class:`RegexTimeout` past ``limit``."""
        proc = self._ensure()
        assert proc.stdin is not None and proc.stdout is not None
        deadline = time.monotonic() + limit
        try:  # json.dumps escapes lone surrogates, so any str travels
            proc.stdin.write(json.dumps([pattern, text]).encode("ascii") + b"\n")
            proc.stdin.flush()
            while True:
                left = deadline - time.monotonic()
                ready = select.select([proc.stdout], [], [], max(left, 0.0))[0]
                if ready:
                    line = proc.stdout.readline().decode("ascii").strip()
                    break
                if left <= 0:
                    self.close()
                    raise RegexTimeout(pattern, text, limit)
        except (BrokenPipeError, OSError):  # the helper died: answer here, unbounded
            self.close()
            return re.search(pattern, text) is not None
        if line in ("0", "1"):
            return line == "1"
        self.close()
        if line.startswith("E"):
            raise re.error(json.loads(line[1:]))
        return re.search(pattern, text) is not None  # an empty line: the helper crashed

    def search_many(self, pattern: str, texts: list[str], limit: float) -> list[bool]:
        """:meth:`search` of every text, pipelined: the lines go in chunks that fit a pipe's
        buffer (so writing never waits on a stuck search) and each answer is awaited at most
        ``limit`` seconds after the one before it (the helper answers in order), so every
        search keeps its own budget without a round trip per text."""
        out: list[bool] = []
        fallback: re.Pattern[str] | None = None  # compiled only if the helper crashes
        k = 0
        while k < len(texts):
            proc = self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            lines: list[bytes] = []
            size = 0
            while k + len(lines) < len(texts) and (not lines or size < _PIPE_CHUNK):
                line = json.dumps([pattern, texts[k + len(lines)]]).encode("ascii") + b"\n"
                lines.append(line)
                size += len(line)
            try:
                proc.stdin.write(b"".join(lines))
                proc.stdin.flush()
                answers = self._answers(proc, len(lines), limit)
            except (BrokenPipeError, OSError):  # the helper died: answer here, unbounded
                self.close()
                fallback = fallback or re.compile(pattern)
                out.extend(fallback.search(t) is not None for t in texts[k:])
                return out
            for j, answer in enumerate(answers):
                if answer is None:
                    self.close()
                    raise RegexTimeout(pattern, texts[k + j], limit)
                if answer in ("0", "1"):
                    out.append(answer == "1")
                    continue
                self.close()
                if answer.startswith("E"):
                    raise re.error(json.loads(answer[1:]))
                fallback = fallback or re.compile(pattern)  # the helper crashed
                out.extend(fallback.search(t) is not None for t in texts[k + j:])
                return out
            k += len(lines)
        return out

    @staticmethod
    def _answers(proc: subprocess.Popen[bytes], n: int, limit: float) -> list[str | None]:
        """The next ``n`` answer lines; a None ends them where one took over ``limit``."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        got: list[str | None] = []
        buf = b""
        deadline = time.monotonic() + limit
        while len(got) < n:
            cut = buf.find(b"\n")
            if cut >= 0:
                got.append(buf[:cut].decode("ascii").strip())
                buf = buf[cut + 1:]
                deadline = time.monotonic() + limit
                continue
            left = deadline - time.monotonic()
            if not select.select([fd], [], [], max(left, 0.0))[0]:
                if left <= 0:
                    got.append(None)
                    return got
                continue
            chunk = os.read(fd, 65536)
            if not chunk:  # end of file: the helper crashed
                got.append("")
                return got
            buf += chunk
        return got

    def close(self) -> None:
        """Stop the helper (killed: it may be stuck in a search)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    def __del__(self) -> None:
        self.close()


_local = threading.local()
_helpers: weakref.WeakSet[_Helper] = weakref.WeakSet()


def thread_helper() -> _Helper:
    """This thread's helper interpreter (created, not yet started, on first use)."""
    helper = getattr(_local, "helper", None)
    if helper is None:
        helper = _local.helper = _Helper()
        _helpers.add(helper)
    return helper


@atexit.register
def _close_helpers() -> None:
    for helper in list(_helpers):
        helper.close()


__all__ = ["BUDGET_ENV", "DEFAULT_BUDGET_S", "RegexTimeout", "bounded_search",
           "bounded_search_many", "budget", "thread_helper"]
