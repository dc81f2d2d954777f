"""Large OTLP/JSON documents read in bounded memory.

A document such as ``{"resourceSpans": [rs0, rs1, ...]}`` (also Tempo's ``{"batches": [...]}``
and the ``{"trace": ...}`` / ``{"result": ...}`` wrappers) is one JSON value, so the ordinary
readers need it whole. :func:`split_groups` scans the file in chunks instead and cuts the
top-level list into groups of whole elements: each element is skipped with msgspec's validating
scan (no Python objects), and an element that scan refuses (damage) is followed token by token,
tracking strings, escapes and depth at the byte level, to its end;
:func:`load_document_file` reads each group as a small document of its own with the ordinary
reader, then renames what it reports: record paths get the element's index in the file, and
line:column positions (damage, invalid UTF-8) the file's own.

Only the table and one group (a few MiB, or one element when an element is larger) are
resident. A damaged element costs what it holds after the damage: the elements after it are
still read (the whole-file reader stops at the damage). Every other result, table and
diagnostics, equals the whole-file reader's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import IO

import msgspec

from workbench.errors import Diagnostic
from workbench.traces.builder import TableBuilder
from workbench.traces.salvage import Utf8Report, sanitize_utf8

#: the opening of a streamable document: an optional wrapper, then the ResourceSpans list
_HEAD = re.compile(
    rb'\A(?:\xef\xbb\xbf)?\s*\{\s*(?:"(result|trace)"\s*:\s*\{\s*)?"(resourceSpans|batches)"\s*:\s*\['
)
#: strings (group 1 set when closed: possessive, so linear on a cut string) and brackets
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+(")?|[\[\]{}]')
_PATH = re.compile(r"\A((?:result\.|trace\.)?(?:resourceSpans|batches))\[(\d+)\]")
_LEFT = {ord("{"), ord("[")}
_SEPARATORS = re.compile(rb"[ \t\r\n,]*")
_TRAILING = re.compile(r"trailing characters \(byte (\d+)\)")
_BLANK = b" \t\r\n"


def _skip_value(buf: bytes, at: int) -> int | None:
    """End of the JSON value starting at ``buf[at]`` when a separator follows it, None when the
    buffer may end inside it, -1 when it is damaged."""
    try:
        msgspec.json.decode(memoryview(buf)[at:], type=msgspec.Raw)
    except msgspec.DecodeError as exc:
        text = str(exc)
        m = _TRAILING.search(text)
        if m is None:
            return None if "truncated" in text else -1
        stop = at + int(m.group(1)) - 1  # the first byte after the value and its blanks
        while buf[stop - 1] in _BLANK:
            stop -= 1
        return stop
    return None  # the value ends the buffer: more of it may follow
#: bytes of whole elements gathered into one group before it is read
GROUP_BYTES = 4 << 20


@dataclasses.dataclass
class Group:
    """Whole elements of the top-level list (a contiguous slice of the file, with the commas
    between them), or, with ``complete`` False, what is left of a list cut by the file's end."""

    data: bytes
    first: int  # index of its first element in the list
    line: int  # 1-based line of its first byte in the file
    column: int  # 1-based column (characters) of its first byte
    complete: bool = True


def streamable_head(head: bytes) -> tuple[str | None, str] | None:
    """``(wrapper, key)`` when ``head`` opens a document :func:`split_groups` can cut."""
    m = _HEAD.match(head)
    if m is None:
        return None
    wrapper = m.group(1).decode() if m.group(1) else None
    return wrapper, m.group(2).decode()


def _chars(data: bytes) -> int:
    """Characters in UTF-8 ``data`` (an invalid byte counts as one)."""
    if data.isascii():  # the usual case, without decoding a whole group
        return len(data)
    return len(data.decode("utf-8", "replace"))


class _Cursor:
    """Line and column of a position that only moves forward through the buffers."""

    def __init__(self) -> None:
        self.line, self.column = 1, 1

    def advance(self, data: bytes) -> None:
        cut = data.rfind(b"\n")
        if cut >= 0:
            self.line += data.count(b"\n")
            self.column = 1 + _chars(data[cut + 1 :])
        else:
            self.column += _chars(data)


def split_groups(
    fh: IO[bytes], chunk: int, group_bytes: int | None = None
) -> Iterator[Group]:
    """Cut the top-level list of the document in ``fh`` (read ``chunk`` bytes at a time) into
    groups of whole elements of about ``group_bytes`` (None: :data:`GROUP_BYTES`).

    The head must have matched :func:`streamable_head`. A list cut by the end of the file
    ends with an incomplete group (the partial element); bytes after the list are not read.
    """
    group_bytes = GROUP_BYTES if group_bytes is None else group_bytes
    buf = fh.read(max(chunk, 1 << 12))
    m = _HEAD.match(buf)
    if m is None:
        raise ValueError("not a streamable OTLP/JSON document")
    top = 3 if m.group(1) else 2  # depth inside the list
    depth = top
    cursor = _Cursor()  # position of buf[start]
    cursor.advance(buf[: m.end()])
    buf = buf[m.end() :]
    start = 0  # start of the current group in buf
    pos = 0  # where scanning resumes
    index = 0  # elements before the current group
    count = 0  # whole elements in the current group
    end = 0  # end of the last whole element
    eof = False

    def group(stop: int, complete: bool = True) -> Group:
        """The group ``buf[start:stop]`` without the separators before its first element;
        moves the cursor past it."""
        skip = _SEPARATORS.match(buf, start, stop).end()  # type: ignore[union-attr]
        cursor.advance(buf[start:skip])
        body = buf[skip:stop]  # one copy of the group (a 4 MiB slice and its strip cost two)
        out = Group(body, index, cursor.line, cursor.column, complete)
        cursor.advance(body)
        return out

    while True:
        need_more = False
        # between elements: skip each whole element with msgspec's validating scan (C speed);
        # an element it cannot skip (damage) is scanned token by token below
        while depth == top:
            at = _SEPARATORS.match(buf, pos).end()  # type: ignore[union-attr]
            pos = at
            if at >= len(buf) or buf[at] == 0x5D:  # need more, or the list closes
                break
            skipped = _skip_value(buf, at)
            if skipped is None:  # cut by the buffer's end: read more, then try again
                need_more = not eof
                break
            if skipped < 0:  # damaged: the token scanner finds its end
                break
            count += 1
            end = pos = skipped
            if end - start >= group_bytes:
                yield group(end)
                start, index, count = end, index + count, 0
        if not need_more:
            for tok in _TOKEN.finditer(buf, pos):
                c = buf[tok.start()]
                if c == 0x22:  # a string
                    if tok.group(1) is None:
                        need_more = True  # cut by the buffer's end
                        pos = tok.start()
                        break
                    continue
                if c in _LEFT:
                    depth += 1
                    continue
                depth -= 1
                if depth == top:  # one element done: back to skipping
                    count += 1
                    end = pos = tok.end()
                    if end - start >= group_bytes:
                        yield group(end)
                        start, index, count = end, index + count, 0
                    break
                if depth < top:  # the list is closed
                    if count:
                        yield group(end)
                    return
            else:
                pos = len(buf)
            if depth == top and pos < len(buf) and not need_more:
                continue  # an element ended inside this buffer
        if eof:
            break
        # keep the current group (and a cut token); drop what precedes it
        if start:
            buf, pos, end = buf[start:], pos - start, max(end - start, 0)
            start = 0
        block = fh.read(chunk)
        if not block:
            eof = True
            if depth == top and pos < len(buf):
                continue  # the last element: scan it as far as it goes
            break
        buf += block
    if count:
        yield group(end)
        start, index = end, index + count
    yield group(len(buf), complete=False)


def _renamed(d: Diagnostic, group: Group, head: int) -> Diagnostic:
    """``d`` (about a group read as its own document) with the file's path and position."""
    path = d.path
    m = _PATH.match(path)
    if m:
        path = f"{m.group(1)}[{int(m.group(2)) + group.first}]{path[m.end():]}"
    line, column = d.line, d.column
    if line is not None:
        if line == 1 and column is not None:
            column = group.column + max(column - 1 - head, 0)
        line = group.line + line - 1
    return dataclasses.replace(d, path=path, line=line, column=column)


def document_groups(
    path: str, chunk: int, report: Utf8Report
) -> Iterator[tuple[Group, bytes, list[Diagnostic], int]]:
    """The groups of the document at ``path`` as small documents of their own, ready to read.

    Yields ``(group, document, diagnostics, head)``: the sanitized document text, the invalid
    UTF-8 found in it (already with the file's positions; ``report`` is shared by all groups
    and finished by the caller) and the length of the opening prepended to the group.
    """
    with open(path, "rb") as fh:
        found = streamable_head(fh.read(1 << 12))
        if found is None:
            raise ValueError(f"{path}: not a streamable OTLP/JSON document")
        wrapper, key = found
        fh.seek(0)
        opening = f'{{"{wrapper}":{{"{key}":['.encode() if wrapper else f'{{"{key}":['.encode()
        closing = b"]}}" if wrapper else b"]}"
        for group in split_groups(fh, chunk):
            doc = opening + group.data + (closing if group.complete else b"")
            found_utf8: list[Diagnostic] = []
            doc = sanitize_utf8(doc, path, found_utf8, 0, report)
            yield group, doc, [_renamed(d, group, len(opening)) for d in found_utf8], len(opening)


def load_group(doc: bytes, group: Group, head: int, path: str, builder: TableBuilder) -> str:
    """Read one document of :func:`document_groups` into ``builder``; its status. What it
    reports is renamed to the file's record paths and positions."""
    from workbench.traces.otlp_json_load import load_otlp_document

    diagnostics = builder.diagnostics
    at = len(diagnostics)
    status = load_otlp_document(doc, path, builder)
    diagnostics[at:] = [_renamed(d, group, head) for d in diagnostics[at:]]
    return status


def groups_status(statuses: set[str]) -> str:
    """The status of a document from those of its groups (none: a closed empty list)."""
    if not statuses or "ok" in statuses:
        return "ok"
    return "invalid" if "invalid" in statuses else "not-otlp"


def load_document_file(path: str, builder: TableBuilder, chunk: int) -> str:
    """Read the OTLP/JSON document at ``path`` group by group (see the module docstring).

    Returns
    -------
    str
        ``"ok"`` when any group was read (or the list is empty), else ``"invalid"`` or
        ``"not-otlp"``.
    """
    report = Utf8Report(path)
    statuses: set[str] = set()
    for group, doc, found_utf8, head in document_groups(path, chunk, report):
        builder.diagnostics.extend(found_utf8)
        statuses.add(load_group(doc, group, head, path, builder))
    report.finish(builder.diagnostics)
    return groups_status(statuses)


__all__ = [
    "GROUP_BYTES",
    "Group",
    "document_groups",
    "groups_status",
    "load_document_file",
    "load_group",
    "split_groups",
    "streamable_head",
]
