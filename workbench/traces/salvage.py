"""Reading what can be read from damaged JSON: invalid UTF-8 and truncated or broken documents.

* :func:`sanitize_utf8` reports each invalid UTF-8 sequence at its line and column and replaces
  it by U+FFFD, so one bad byte costs a warning instead of the whole file (every JSON reader
  calls it first; pure-ASCII input is recognised without decoding).
* :func:`salvage_json` turns a document that is damaged at some byte (a truncated export, a
  file cut by a full disk, garbage in the middle) into the valid document made of everything
  before the damage: the record being written when the damage happened (a span, a Zipkin
  record) is dropped whole, every enclosing list and object is closed. The result is then read
  by the ordinary readers, so every complete record before the damage is kept.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from workbench.errors import Diagnostic

#: JSON strings (possessive: linear even on an unterminated string) and structural characters
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[{}\[\],:]')
_BYTE_OFFSET = re.compile(r"\(byte (\d+)\)")
_CHUNK = 1 << 24
#: invalid UTF-8 sequences reported one by one per input file; the rest are counted
MAX_REPORTED = 100


def line_col(data: bytes, offset: int, line_base: int = 0) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1 + line_base
    return line, len(data[start:offset].decode("utf-8", "replace")) + 1


def _invalid_offsets(data: bytes) -> list[tuple[int, int]]:
    """``(offset, length)`` of every invalid UTF-8 sequence, decoding in bounded chunks."""
    found: list[tuple[int, int]] = []
    pos = 0
    n = len(data)
    while pos < n:
        end = min(n, pos + _CHUNK)
        back = 0
        while end < n and back < 3 and 0x80 <= data[end] < 0xC0:  # never split a sequence
            end -= 1
            back += 1
        try:
            data[pos:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            at = pos + exc.start
            length = max(1, exc.end - exc.start)
            found.append((at, length))
            pos = at + length
            continue
        pos = end
    return found


class Utf8Report:
    """The invalid UTF-8 sequences of one input file, reported one by one up to ``cap``.

    One report is shared by every chunk of a file read in chunks, so each sequence is
    reported (up to the cap) whichever chunk it lies in; :meth:`finish` then states how many
    more were replaced without being reported.

    Parameters
    ----------
    file
        The file the diagnostics name.
    cap
        How many sequences are reported one by one (None: :data:`MAX_REPORTED`).
    """

    def __init__(self, file: str, cap: int | None = None) -> None:
        self.file = file
        self.cap = MAX_REPORTED if cap is None else cap
        self.reported = 0
        self.unreported = 0

    def add(self, data: bytes, bad: list[tuple[int, int]], line_base: int,
            diagnostics: list[Diagnostic]) -> None:
        """Report the sequences ``bad`` (offset, length) of ``data`` while under the cap."""
        room = max(0, self.cap - self.reported)
        for offset, length in bad[:room]:
            line, column = line_col(data, offset, line_base)
            shown = data[offset : offset + length].hex(" ")
            diagnostics.append(
                Diagnostic(
                    self.file,
                    "",
                    f"invalid UTF-8 (bytes {shown}); replaced by U+FFFD",
                    "warning",
                    line,
                    column,
                )
            )
        self.reported += min(room, len(bad))
        self.unreported += max(0, len(bad) - room)

    def finish(self, diagnostics: list[Diagnostic]) -> None:
        """Append the count of the sequences beyond the cap (nothing when there are none)."""
        if self.unreported:
            diagnostics.append(
                Diagnostic(
                    self.file,
                    "",
                    f"{self.unreported} more invalid UTF-8 sequences replaced by U+FFFD (only "
                    f"the first {self.cap} of the file are reported one by one)",
                    "warning",
                )
            )
            self.unreported = 0


def sanitize_utf8(
    data: bytes,
    file: str,
    diagnostics: list[Diagnostic],
    line_base: int = 0,
    report: Utf8Report | None = None,
) -> bytes:
    """``data`` with each invalid UTF-8 sequence replaced by U+FFFD and reported (warning) at
    its line and column; ``data`` itself when it is valid (ASCII is checked without decoding).

    Without ``report`` the sequences are reported up to :data:`MAX_REPORTED` and the rest
    counted at once; with one (a file read in chunks), the count waits for
    :meth:`Utf8Report.finish`.
    """
    if data.isascii():
        return data
    bad = _invalid_offsets(data)
    if not bad:
        return data
    own = report is None
    report = report or Utf8Report(file)
    report.add(data, bad, line_base, diagnostics)
    if own:
        report.finish(diagnostics)
    return data.decode("utf-8", "replace").encode("utf-8")


def decode_json(data: bytes) -> Any:
    """Decode any JSON value. msgspec refuses numbers beyond float range (``1e999``) and huge
    integers although they are valid JSON; those documents are decoded by the standard
    library instead (``inf`` and big ints, which the readers then judge).

    Raises ``msgspec.DecodeError`` (or RecursionError) when ``data`` is not JSON.
    """
    try:
        return msgspec.json.decode(data)
    except msgspec.ValidationError as exc:
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise exc from None


def damage_offset(exc: Exception, data: bytes) -> int:
    """The byte offset a msgspec decode error names (the end of the data when none)."""
    m = _BYTE_OFFSET.search(str(exc))
    return min(int(m.group(1)), len(data)) if m else len(data)


class _Frame:
    __slots__ = ("close", "good", "key", "start")

    def __init__(self, close: bytes, key: bytes | None, start: int) -> None:
        self.close = close  # b"}" or b"]"
        self.key = key  # the key this container is the value of (None in a list)
        self.start = start
        self.good = start + 1  # end of the last complete member or element


def _is_record(stack: list[_Frame], i: int) -> bool:
    """A record is an object in a ``spans`` list, or an object all of whose ancestors are lists
    (a Zipkin span, a Jaeger trace in a top-level list)."""
    frame = stack[i]
    if frame.close != b"}" or i == 0:
        return False
    parent = stack[i - 1]
    if parent.close != b"]":
        return False
    return parent.key == b'"spans"' or all(f.close == b"]" for f in stack[:i])


def _close(prefix: bytes, frames: list[_Frame]) -> bytes:
    return prefix.rstrip().rstrip(b",").rstrip() + b"".join(f.close for f in reversed(frames))


def salvage_json(data: bytes, offset: int) -> bytes | None:
    """The valid JSON document made of what precedes the damage at ``offset``, or None when
    nothing before it can be kept.

    The partial record at the damage is dropped; when the damage lies outside any record, the
    last incomplete member of the innermost container is. Trailing bytes after a complete
    document are simply cut off.
    """
    stack: list[_Frame] = []
    expect_key = False
    last_key: bytes | None = None
    done = -1  # end of a completed top-level value
    for m in _TOKEN.finditer(data, 0, offset):
        tok = m.group()
        c = tok[:1]
        if c == b'"':
            if expect_key:
                last_key = tok
            continue
        if c == b"{" or c == b"[":
            key = last_key if stack and stack[-1].close == b"}" else None
            stack.append(_Frame(b"}" if c == b"{" else b"]", key, m.start()))
            expect_key = c == b"{"
            last_key = None
        elif c == b"}" or c == b"]":
            if not stack:
                break
            stack.pop()
            if not stack:
                done = m.end()
                break
            stack[-1].good = m.end()
            expect_key = False
        elif c == b",":
            if stack:
                stack[-1].good = m.start()
                expect_key = stack[-1].close == b"}"
        elif c == b":":
            expect_key = False
    if done >= 0:
        return _valid(data[:done])
    if not stack:
        return None
    candidates: list[bytes] = []
    record = next((i for i in range(len(stack) - 1, 0, -1) if _is_record(stack, i)), None)
    if record is not None:
        candidates.append(_close(data[: stack[record].start], stack[:record]))
    # fallbacks, shallower and shallower (a damaged string can fake structure near the end)
    for depth in range(len(stack), 0, -1):
        frames = stack[:depth]
        candidates.append(_close(data[: frames[-1].good], frames))
    for text in candidates:
        if _valid(text) is not None:
            return text
    return None


def _valid(text: bytes) -> bytes | None:
    try:
        decode_json(text)
    except (msgspec.DecodeError, RecursionError):
        return None
    return text
