"""String tables of the kernel plan: the extended string dictionary, operand domains, and
the per-property tables a kernel reads (see :mod:`workbench.engine.plan`).

A string predicate (a regex, ``luhn``, ``len``, ``lower``...) is evaluated once per distinct
string of its operand's *domain* — the strings the operand can take on this table, computed
from a domain descriptor of :mod:`workbench.engine.codegen_terms` — and the kernel reads the
result by string code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench.engine.codegen_terms import Sites
from workbench.engine.text_bulk import TextBatch, luhn_many
from workbench.engine.values import TEXT_MAPS, UNDEF, regex, to_int
from workbench.traces.model import (
    ATTR_ARRAY,
    ATTR_BOOL,
    ATTR_BYTES,
    ATTR_FLOAT,
    ATTR_INT,
    ATTR_KVLIST,
    ATTR_STR,
    AttrColumns,
    SpanTable,
    StringTable,
)


class ExtStrings:
    """The table's string dictionary plus derived strings (codes continue after the table's).

    Besides single strings, whole blocks of 16-character texts (hex ids: a million of them on
    a million-span table) can be added at once (:meth:`add_block`): they are kept as one
    sorted ``S16`` array and decoded only when a predicate has to read them.
    """

    def __init__(self, base: StringTable) -> None:
        self.base = base
        self.n0 = len(base)
        self.extra: dict[int, str] = {}
        self.index: dict[str, int] = {}
        self.blocks: list[tuple[int, np.ndarray]] = []  # (first code, sorted unique S16 texts)
        self.size = self.n0
        self._b16: tuple[np.ndarray, np.ndarray] | None = None

    def lookup(self, text: str) -> int:
        code = self.base.lookup(text)
        if 0 <= code < self.n0:
            return code
        found = self.index.get(text, -1)
        if found < 0 and len(text) == 16 and self.blocks:
            try:
                key = np.frombuffer(text.encode("ascii"), dtype="S16")
            except UnicodeEncodeError:
                return -1
            for first, texts in self.blocks:
                at = int(np.searchsorted(texts, key[0]))
                if at < texts.shape[0] and texts[at] == key[0]:
                    return first + at
        return found

    def code(self, text: str) -> int:
        code = self.lookup(text)
        if code < 0:
            code = self.index[text] = self.size
            self.extra[code] = text
            self.size += 1
        return code

    def add_block(self, texts: np.ndarray) -> np.ndarray:
        """Codes of ``texts`` (unique ``S16`` values, sorted), adding those not known yet."""
        codes = np.full(texts.shape[0], -1, dtype=np.int64)
        keys, vals = self._base16()
        extra = [(t, c) for t, c in self.index.items() if len(t) == 16 and t.isascii()]
        if extra:
            keys = np.concatenate([keys, np.asarray([t for t, _ in extra], "U16").astype("S16")])
            vals = np.concatenate([vals, np.asarray([c for _, c in extra], dtype=np.int64)])
        if keys.shape[0] and texts.shape[0]:
            # the known strings (few) looked up in the sorted texts (many)
            at = np.minimum(np.searchsorted(texts, keys), texts.shape[0] - 1)
            hit = texts[at] == keys
            codes[at[hit]] = vals[hit]
        for first, block in self.blocks:
            at = np.minimum(np.searchsorted(block, texts), block.shape[0] - 1)
            hit = (codes < 0) & (block[at] == texts)
            codes[hit] = first + at[hit]
        new = np.nonzero(codes < 0)[0]
        if new.size:
            self.blocks.append((self.size, texts[new]))
            codes[new] = self.size + np.arange(new.shape[0])
            self.size += int(new.shape[0])
        return codes

    def _base16(self) -> tuple[np.ndarray, np.ndarray]:
        """The table's own 16-character ASCII strings (``S16``) and their codes, found once
        by a length pass over the table's strings."""
        found = self._b16
        if found is None:
            strings = self.base.strings
            lens = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
            codes = np.flatnonzero(lens == 16)
            texts = [strings[c] for c in codes.tolist()]
            ascii_ = np.fromiter(map(str.isascii, texts), dtype=np.bool_, count=len(texts))
            keep = [t for t, ok in zip(texts, ascii_.tolist(), strict=True) if ok]
            found = (np.asarray(keep, dtype="U16").astype("S16") if keep
                     else np.zeros(0, dtype="S16"), codes[ascii_].astype(np.int64))
            self._b16 = found
        return found

    def __getitem__(self, code: int) -> str:
        if code < self.n0:
            return self.base[code]
        found = self.extra.get(code)
        if found is not None:
            return found
        for first, block in self.blocks:
            if first <= code < first + block.shape[0]:
                return bytes(block[code - first]).decode("ascii")
        raise KeyError(code)

    def __len__(self) -> int:
        return self.size

    def texts(self, codes: np.ndarray) -> list[str]:
        """The texts of many codes (blocks are decoded in bulk)."""
        out: list[str] = [""] * codes.shape[0]
        rest = np.ones(codes.shape[0], dtype=np.bool_)
        for first, block in self.blocks:
            inside = (codes >= first) & (codes < first + block.shape[0])
            where = np.nonzero(inside)[0]
            if where.size:
                decoded = block[codes[where] - first].astype("U16").tolist()
                for k, text in zip(where.tolist(), decoded, strict=True):
                    out[k] = text
                rest &= ~inside
        left = np.nonzero(rest)[0]
        if left.shape[0] == codes.shape[0] and (codes.shape[0] == 0 or codes.max() < self.n0):
            return list(map(self.base.strings.__getitem__, codes.tolist()))  # the usual case
        in_base = codes[left] < self.n0
        table = self.base.strings  # the table's own strings: a list lookup each
        for k, code in zip(left[in_base].tolist(), codes[left[in_base]].tolist(), strict=True):
            out[k] = table[code]
        for k in left[~in_base].tolist():
            out[k] = self[int(codes[k])]
        return out

    def codes(self, texts: list[str]) -> np.ndarray:
        """:meth:`code` of every text (int64)."""
        base = self.base._index
        out = np.fromiter((base.get(t, -1) for t in texts), dtype=np.int64, count=len(texts))
        for k in np.flatnonzero((out < 0) | (out >= self.n0)).tolist():
            out[k] = self.code(texts[k])
        return out


@dataclass
class DomValues:
    """The values a domain can take: string codes, ints, floats, list/dict codes, bools, events."""

    strs: np.ndarray
    ints: np.ndarray
    floats: np.ndarray
    objs: np.ndarray
    bools: bool = False
    events: bool = False


_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float64)
#: the two lowercase hex digits of every byte value, as one uint16 each (memory order)
_HEX2 = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)


def _dom(strs: Any = _EMPTY_I, ints: Any = _EMPTY_I, floats: Any = _EMPTY_F,
         objs: Any = _EMPTY_I, bools: bool = False, events: bool = False) -> DomValues:
    return DomValues(unique_codes(np.asarray(strs, dtype=np.int64)),
                     np.unique(np.asarray(ints, dtype=np.int64)),
                     np.unique(np.asarray(floats, dtype=np.float64)),
                     unique_codes(np.asarray(objs, dtype=np.int64)), bools, events)


def unique_codes(codes: np.ndarray) -> np.ndarray:
    """``np.unique`` of string codes (int64), through a bitmap over the code range when the
    array is large next to that range (a column of a million codes: one pass, no sort)."""
    n = codes.shape[0]
    if n < 4096:
        return np.unique(codes)
    lo, hi = int(codes.min()), int(codes.max())
    if lo < 0 or hi > 8 * n + (1 << 20):
        return np.unique(codes)
    mark = np.zeros(hi + 1, dtype=np.bool_)
    mark[codes] = True
    return np.flatnonzero(mark).astype(np.int64, copy=False)


def _hex16(values: np.ndarray) -> np.ndarray:
    """Lowercase 16-digit hex text of uint64 values, as an ``S16`` array (two digits per
    byte from a 256-entry table: one gather)."""
    raw = np.ascontiguousarray(values.astype(">u8", copy=False)).view(np.uint8)
    return np.take(_HEX2, raw).view("S16")


_MAPS: dict[str, Callable[[str], str]] = TEXT_MAPS


#: characters of recent predicate inputs a table index keeps (:meth:`SiteIndex._batch`)
BATCH_BUDGET = 1 << 24


class SiteIndex:
    """Mixin of :class:`workbench.engine.plan.TableIndex`: domains and string predicates."""

    @property
    def table(self) -> SpanTable:
        """The indexed table (:class:`workbench.engine.plan.TableIndex` holds it weakly)."""
        raise NotImplementedError

    strings: ExtStrings
    arrays: dict[str, np.ndarray]
    doms: dict[Any, DomValues]
    site_cache: dict[Any, tuple[np.ndarray, np.ndarray]]
    preds: dict[tuple[str, Any], np.ndarray]
    batches: dict[bytes, TextBatch]
    lock: threading.RLock

    def need(self, what: str) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ domains
    def dom(self, desc: tuple[Any, ...]) -> DomValues:
        """The values of a domain descriptor (see :mod:`workbench.engine.codegen_terms`)."""
        with self.lock:
            found = self.doms.get(desc)
            if found is None:
                found = self.doms[desc] = self._dom(desc)
            return found

    def _dom(self, desc: tuple[Any, ...]) -> DomValues:
        t, kind = self.table, desc[0]
        if kind == "const_s":
            return _dom(strs=[self.strings.code(desc[1])])
        if kind == "const_i":
            return _dom(ints=[desc[1]])
        if kind == "const_f":
            return _dom(floats=[desc[1]])
        if kind == "bool":
            return _dom(bools=True)
        if kind == "event" or kind == "ev_name":
            return _dom(strs=t.event_name, events=kind == "event")
        if kind == "field":
            name = desc[1]
            if name in ("kind", "status"):
                self.need("base")
                return _dom(strs=self.arrays["kindc" if name == "kind" else "statc"])
            if name in ("span_id", "parent_id", "trace_id"):
                self.need("ids")
                return _dom(strs=self.arrays[{"span_id": "sid", "parent_id": "pid",
                                              "trace_id": "tid"}[name]])
            column = {"status_message": "status_message", "trace_state": "trace_state"}.get(
                name, name)
            return _dom(strs=getattr(t, column))
        if kind == "attr":
            cols = {"span": t.attrs, "resource": t.resource_attrs, "event": t.event_attrs}[desc[1]]
            return self._attr_dom(cols, desc[2])
        if kind == "fn":
            inner = self.dom(desc[2])
            if desc[1] == "str":
                return self._str_dom(inner)
            _, mapped = self.map_site(desc[1], inner)
            return _dom(strs=mapped)
        return _dom()

    def _attr_dom(self, cols: AttrColumns, key: str) -> DomValues:
        code = self.strings.lookup(key)
        if code < 0:
            return _dom()
        sel = np.nonzero(cols.key == code)[0]
        typ = cols.type[sel]
        s = (typ == ATTR_STR) | (typ == ATTR_BYTES)
        o = (typ == ATTR_ARRAY) | (typ == ATTR_KVLIST)
        return _dom(strs=cols.sval[sel[s]], ints=cols.ival[sel[typ == ATTR_INT]],
                    floats=cols.fval[sel[typ == ATTR_FLOAT]], objs=cols.sval[sel[o]],
                    bools=bool((typ == ATTR_BOOL).any()))

    def _str_dom(self, inner: DomValues) -> DomValues:
        texts = [self.strings.code(str(int(v))) for v in inner.ints]
        texts += [self.strings.code(str(float(v))) for v in inner.floats]
        texts += [self.obj_tables()[2][int(c)] for c in inner.objs]
        if inner.bools:
            texts += [self.strings.code("true"), self.strings.code("false")]
        return _dom(strs=np.concatenate([inner.strs, np.asarray(texts, dtype=np.int64)]))

    # ------------------------------------------------------------------ string sites
    def cached(self, key: Any, build: Callable[[], tuple[np.ndarray, np.ndarray]]
               ) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            found = self.site_cache.get(key)
            if found is None:
                found = self.site_cache[key] = build()
            return found

    def pred_site(self, what: str, arg: Any, dom: DomValues) -> tuple[np.ndarray, np.ndarray]:
        """(codes, bools) of a string predicate over the domain's strings.

        Results are kept per predicate as one int8 per string code (-1: not asked yet), so a
        string shared by several domains (a span id is also a parent id) is tested once.
        """
        with self.lock:
            size = len(self.strings)
            state = self.preds.get((what, arg))
            if state is None or state.shape[0] < size:
                grown = np.full(size, -1, dtype=np.int8)
                if state is not None:
                    grown[:state.shape[0]] = state
                state = self.preds[(what, arg)] = grown
            todo = dom.strs[state[dom.strs] < 0]
            if todo.size:
                new = np.empty(todo.shape[0], dtype=np.bool_)
                rest = self._pred_blocks(what, arg, todo, new)
                for k in range(0, rest.shape[0], 65536):  # bounded batches of Python strings
                    at_k = rest[k:k + 65536]
                    part = self._batch(todo[at_k])
                    # a regex runs over the whole batch at once (RE2 in bulk where it can)
                    new[at_k] = (regex(arg).search_many(part, distinct=True) if what == "re"
                                 else luhn_many(part))
                state[todo] = new
            return dom.strs, state[dom.strs] > 0

    def _batch(self, codes: np.ndarray) -> TextBatch:
        """The texts of ``codes`` as a :class:`TextBatch`. Recent batches are kept (least
        recently used first out, up to :data:`BATCH_BUDGET` characters in all), so that the
        predicates over one domain (several regexes, ``luhn``; in several properties)
        decode and encode its strings once."""
        key = codes.tobytes()
        found = self.batches.pop(key, None)
        if found is None:
            found = TextBatch(self.strings.texts(codes))
        self.batches[key] = found  # now the most recent
        total = sum(b.n_chars() for b in self.batches.values())
        while total > BATCH_BUDGET and len(self.batches) > 1:
            total -= self.batches.pop(next(iter(self.batches))).n_chars()
        return found

    def _pred_blocks(self, what: str, arg: Any, todo: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Answer a regex for the codes of ``todo`` that are rows of the string table's id
        blocks (``S16`` hex ids) straight from those bytes, into ``out``; returns the
        positions of ``todo`` left to answer on Python strings."""
        blocks = getattr(self.strings, "blocks", ())
        left = np.ones(todo.shape[0], dtype=np.bool_)
        if what != "re" or not blocks:
            return np.flatnonzero(left)
        pattern = regex(arg)
        for first, block in blocks:
            where = np.flatnonzero(left & (todo >= first) & (todo < first + block.shape[0]))
            if where.size == 0:
                continue
            # todo is sorted and unique: as many codes as the block has are all of them
            part = block if where.size == block.shape[0] else block[todo[where] - first]
            hits = pattern.search_fixed(part)
            if hits is not None:
                out[where] = hits
                left[where] = False
        return np.flatnonzero(left)

    def map_site(self, fn: str, dom: DomValues) -> tuple[np.ndarray, np.ndarray]:
        """(codes, result codes) of ``lower``/``upper``/``canon``/``len`` over the domain."""
        def build() -> tuple[np.ndarray, np.ndarray]:
            s = self.strings
            if fn == "len":
                vals = [len(s[int(c)]) for c in dom.strs]
            else:
                f = _MAPS[fn]
                vals = [s.code(f(s[int(c)])) for c in dom.strs]
            return dom.strs, np.asarray(vals, dtype=np.int64)

        return self.cached((fn, dom.strs.tobytes()), build)

    def conv_site(self, part: str, dom: DomValues) -> tuple[np.ndarray, np.ndarray]:
        """(codes, int32 parts) of ``int(text)`` over the domain's strings: ``part`` is
        ``"ok"`` (1 where the text is an int64 decimal integer), ``"hi"`` or ``"lo"`` (the
        value's upper and lower 32 bits; the kernel joins them)."""
        def build() -> tuple[np.ndarray, np.ndarray]:
            s = self.strings
            out = []
            for c in dom.strs:
                v = to_int(s[int(c)])
                n = 0 if v is UNDEF else int(v)
                if part == "ok":
                    out.append(0 if v is UNDEF else 1)
                elif part == "hi":
                    out.append(n >> 32)  # in int32 range for an int64 n
                else:
                    low = n & 0xFFFFFFFF
                    out.append(low - (1 << 32) if low >= 1 << 31 else low)
            return dom.strs, np.asarray(out, dtype=np.int64)

        return self.cached(("conv", part, dom.strs.tobytes()), build)

    def obj_tables(self) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        """For every list/dict attribute value code: equivalence class, length, ``str`` code."""
        with self.lock:
            found = getattr(self, "_obj", None)
            if found is not None:
                return found
            import json

            codes: set[int] = set()
            for cols in (self.table.attrs, self.table.resource_attrs, self.table.event_attrs):
                o = (cols.type == ATTR_ARRAY) | (cols.type == ATTR_KVLIST)
                codes.update(int(c) for c in np.unique(cols.sval[o]))
            cls: dict[int, int] = {}
            length: dict[int, int] = {}
            text: dict[int, int] = {}
            reps: list[Any] = []
            for c in sorted(codes):
                value = json.loads(self.strings[c])
                for n, rep in enumerate(reps):
                    if type(rep) is type(value) and rep == value:
                        cls[c] = n
                        break
                else:
                    cls[c] = len(reps)
                    reps.append(value)
                length[c] = len(value)
                text[c] = self.strings.code(str(value))
            self._obj = (cls, length, text)
            return self._obj


def materialize(sites: Sites, index: SiteIndex) -> dict[str, np.ndarray]:
    """Resolve ``sites`` against ``index``'s table: KI, KF, BT, IT, KM, NKI, NVI, NKF, NVF."""
    s = index.strings
    if "ids" in sites.needs:
        index.need("ids")
    bool_parts = []
    for desc in sites.bool_sites:
        dom = index.dom(desc[1])
        bool_parts.append(index.pred_site("re", desc[2], dom) if desc[0] == "re"
                          else index.pred_site("luhn", None, dom))
    int_parts: list[tuple[np.ndarray, np.ndarray]] = []
    for desc in sites.int_sites:
        if desc[0] == "len":
            int_parts.append(index.map_site("len", index.dom(desc[1])))
        elif desc[0] == "map":
            int_parts.append(index.map_site(desc[1], index.dom(desc[2])))
        elif desc[0] == "conv":
            int_parts.append(index.conv_site(desc[1], index.dom(desc[2])))
        elif desc[0] == "rank":
            codes = np.unique(np.concatenate(
                [index.dom(d).strs for d in sites.rank_doms] or [_EMPTY_I]))
            order = sorted(range(codes.shape[0]), key=lambda n: s[int(codes[n])])
            ranks = np.empty(codes.shape[0], dtype=np.int64)
            ranks[order] = np.arange(codes.shape[0])
            int_parts.append((codes, ranks))
        else:
            raise ValueError(f"unknown int site {desc!r}")
    nki, nvi, ioffs = _int_tables(index, sites.istr)
    nkf, nvf, foffs = _number_tables(index, sites.fstr, "floats", lambda v: str(float(v)))
    ki = np.zeros(max(1, len(sites.ki)), dtype=np.int64)
    for n, desc in enumerate(sites.ki):
        kind = desc[0]
        if kind == "int":
            ki[n] = desc[1]
        elif kind == "str":
            ki[n] = s.code(desc[1])
        elif kind == "key":
            ki[n] = s.lookup(desc[1])
        else:
            offs = ioffs if kind.startswith("istr") else foffs
            ki[n] = offs[desc[1]][0 if kind.endswith("_lo") else 1]
    ns = len(s)  # every code a kernel may meet exists now
    bt = np.zeros((max(1, len(bool_parts)), (ns + 7) // 8), dtype=np.uint8)
    for row, (codes, vals) in enumerate(bool_parts):
        on = codes[vals]
        np.bitwise_or.at(bt[row], on >> 3, (1 << (on & 7)).astype(np.uint8))
    it = np.zeros((max(1, len(int_parts)), ns), dtype=np.int32)
    for row, (codes, vals) in enumerate(int_parts):
        it[row, codes] = vals
    width = 1
    if "km" in sites.needs:
        index.need("km")
        width = max(1, *(index.arrays[f"{p}_kcodes"].shape[0] for p in ("a", "r", "ea")))
    km = np.zeros((3, width), dtype=np.int16)
    for row, store in enumerate(("span", "resource", "event")):
        prefix = ("a", "r", "ea")[row]
        for slot, key in enumerate(sites.km_keys.get(store, []), start=1):
            code = s.lookup(key)
            kcodes = index.arrays[f"{prefix}_kcodes"]
            at = int(np.searchsorted(kcodes, code))
            if code >= 0 and at < kcodes.shape[0] and kcodes[at] == code:
                km[row, at] = slot
    kf = np.asarray(sites.kf or [0.0], dtype=np.float64)
    return {"KI": ki, "KF": kf, "BT": bt, "IT": it, "KM": km, "NKI": nki, "NVI": nvi,
            "NKF": nkf, "NVF": nvf}


def _int_tables(index: SiteIndex, descs: list[Any]
                ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The sorted int -> int tables of ``descs`` (see ``OpsGen.lookup_table``), concatenated."""
    keys: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    offs: list[tuple[int, int]] = []
    n = 0
    for desc in descs:
        if desc[0] == "istr":
            k = index.dom(desc[1]).ints
            v = np.asarray([index.strings.code(str(int(x))) for x in k], dtype=np.int64)
        else:
            table = index.obj_tables()[("objcls", "objlen", "objstr").index(desc[0])]
            k = np.asarray(sorted(table), dtype=np.int64)
            v = np.asarray([table[int(c)] for c in k], dtype=np.int64)
        keys.append(k)
        vals.append(v.astype(np.int32))
        offs.append((n, n + k.shape[0]))
        n += k.shape[0]
    kk = np.concatenate(keys).astype(np.int64) if keys else np.zeros(1, np.int64)
    vv = np.concatenate(vals) if vals else np.zeros(1, np.int32)
    if not kk.size:
        kk, vv = np.zeros(1, np.int64), np.zeros(1, np.int32)
    return kk, vv, offs


def _number_tables(index: SiteIndex, doms: list[Any], attr: str, text: Callable[[Any], str]
                   ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    keys: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    offs: list[tuple[int, int]] = []
    n = 0
    for desc in doms:
        values = getattr(index.dom(desc), attr)
        if attr == "floats":
            values = values[~np.isnan(values)]
        keys.append(values)
        vals.append(np.asarray([index.strings.code(text(v)) for v in values], dtype=np.int32))
        offs.append((n, n + values.shape[0]))
        n += values.shape[0]
    dtype = np.int64 if attr == "ints" else np.float64
    k = np.concatenate(keys).astype(dtype) if keys else np.zeros(1, dtype)
    v = np.concatenate(vals) if vals else np.zeros(1, np.int32)
    return (k if k.size else np.zeros(1, dtype)), (v if v.size else np.zeros(1, np.int32)), offs
