"""What surrounds the trace bytes: compression, record framing and the size limit.

Compression is recognised by magic bytes, never by file name: gzip (``1f 8b``, several members
allowed) and Zstandard (``28 b5 2f fd``, several frames allowed). The OpenTelemetry Collector's
file exporter writes, with ``format: proto`` or with ``compression: zstd``, a sequence of
records each preceded by its length (4 bytes, big endian); such a file is split into its records
(each decompressed on its own) and every record is read as one document.

Every input is held to a size limit (:func:`size_limit`), also after decompression, so that a
huge file or a compression bomb is refused with a message instead of exhausting memory.
"""

from __future__ import annotations

import io
import os
import zlib
from typing import Any

from workbench.errors import Diagnostic

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: file name endings of compressed files (a directory is searched for ``x.json.gz`` etc.)
COMPRESSED_SUFFIXES = (".gz", ".gzip", ".zst", ".zstd")
#: the default per-source limit in bytes (after decompression): 4 GiB
DEFAULT_MAX_BYTES = 4 * 2**30
#: environment variable that overrides :data:`DEFAULT_MAX_BYTES`
MAX_BYTES_ENV = "OTLSPEC_MAX_BYTES"
_CHUNK = 1 << 20


class InputTooLarge(Exception):
    """Raised while decompressing when the output passes the size limit."""


def size_limit(max_bytes: int | None = None) -> int:
    """The size limit in force: ``max_bytes`` when given, else ``$OTLSPEC_MAX_BYTES``, else
    :data:`DEFAULT_MAX_BYTES`. A value of 0 or less means no limit (returned as 0)."""
    if max_bytes is not None:
        return max(0, int(max_bytes))
    env = os.environ.get(MAX_BYTES_ENV, "").strip()
    if env:
        try:
            return max(0, int(float(env)))
        except ValueError:
            pass
    return DEFAULT_MAX_BYTES


def too_big(name: str, size: int | None, limit: int) -> Diagnostic:
    """The diagnostic of a source over the size limit (``size`` None: found decompressing)."""
    what = f"{size} bytes" if size is not None else f"more than {limit} bytes once decompressed"
    return Diagnostic(
        name,
        "",
        f"input is {what}, over max_bytes={limit}, the size limit; skipped (raise it with "
        f"--max-bytes or ${MAX_BYTES_ENV}, 0 for no limit)",
        "error",
    )


def is_compressed(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC or data[:4] == ZSTD_MAGIC


def unpack(data: bytes, name: str, limit: int, diagnostics: list[Diagnostic]) -> list[bytes] | None:
    """The documents a source holds: decompressed, and split when length-prefixed.

    Parameters
    ----------
    data
        The raw bytes of the source.
    name
        The source name for diagnostics.
    limit
        Size limit in bytes for the decompressed total (0: none).
    diagnostics
        Receives the problems met.

    Returns
    -------
    list of bytes or None
        One document per record (a single one for an unframed source); None when nothing
        could be unpacked (a diagnostic says why).
    """
    try:
        records = split_length_prefixed(data)
        if records is None:
            return [decompress(data, limit)]
        out = []
        total = 0
        for record in records:
            payload = decompress(record, limit - total if limit else 0)
            total += len(payload)
            out.append(payload)
        return out
    except InputTooLarge:
        diagnostics.append(too_big(name, None, limit))
    except (zlib.error, EOFError) as exc:
        diagnostics.append(Diagnostic(name, "", f"invalid gzip data: {exc}", "error"))
    except ZstdError as exc:
        diagnostics.append(Diagnostic(name, "", f"invalid zstd data: {exc}", "error"))
    except ImportError as exc:
        diagnostics.append(Diagnostic(name, "", str(exc), "error"))
    return None


def split_length_prefixed(data: bytes) -> list[bytes] | None:
    """Records of a length-prefixed file (4-byte big-endian length before each), or None when
    ``data`` is not one: the lengths must chain exactly to the end. A JSON document or a bare
    protobuf trace message never starts with a zero byte, so only those are tried."""
    n = len(data)
    if n < 5 or data[0] != 0:
        return None
    out = []
    pos = 0
    while pos < n:
        if pos + 4 > n:
            return None
        size = int.from_bytes(data[pos : pos + 4], "big")
        pos += 4
        if pos + size > n:
            return None
        out.append(data[pos : pos + size])
        pos += size
    return out


def decompress(data: bytes, limit: int) -> bytes:
    """``data`` unpacked when it starts with gzip or zstd magic bytes (else unchanged).

    Raises :class:`InputTooLarge` past ``limit`` output bytes (0: no limit), ``zlib.error`` or
    :class:`ZstdError` for corrupt data, ImportError when zstandard is not installed.
    """
    if data[:2] == GZIP_MAGIC:
        return _gunzip(data, limit)
    if data[:4] == ZSTD_MAGIC:
        return _unzstd(data, limit)
    return data


def _gunzip(data: bytes, limit: int) -> bytes:
    out = bytearray()
    rest = data
    while rest[:2] == GZIP_MAGIC:  # concatenated members (``cat a.gz b.gz``)
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = rest
        while chunk:
            room = limit - len(out) + 1 if limit else 0
            out += inflater.decompress(chunk, room)
            if limit and len(out) > limit:
                raise InputTooLarge
            chunk = inflater.unconsumed_tail
        if not inflater.eof:
            raise zlib.error("truncated gzip stream")
        rest = inflater.unused_data
    return bytes(out)


class ZstdError(Exception):
    """Corrupt Zstandard data."""


def _zstandard() -> Any:
    try:
        import zstandard
    except ImportError:  # pragma: no cover - a declared dependency
        raise ImportError(
            "zstd-compressed input needs the zstandard package: pip install zstandard"
        ) from None
    return zstandard


def _unzstd(data: bytes, limit: int) -> bytes:
    zstandard = _zstandard()
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    out = bytearray()
    try:
        while True:
            chunk = reader.read(_CHUNK)
            if not chunk:
                break
            out += chunk
            if limit and len(out) > limit:
                raise InputTooLarge
    except zstandard.ZstdError as exc:
        raise ZstdError(str(exc)) from None
    return bytes(out)
