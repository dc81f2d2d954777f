"""Joining per-file tables (the file-path shuffle) equals loading the files together."""

from __future__ import annotations

from pathlib import Path

from tests.datasets.compare import assert_tables_equal
from tests.distributed.conftest import REAL
from workbench.distributed.shards import expand_sources
from workbench.distributed.tables import concat_tables
from workbench.traces import load_traces
from workbench.traces.model import MISSING_PARENT, SpanTable


def _trace_files(source: Path) -> list[str]:
    """The files under ``source`` that hold traces (not manifests or labels)."""
    from workbench.distributed.shards import load_file

    found, problems = expand_sources([str(source)])
    assert not problems
    return [f for f in found if isinstance(load_file(f, None), SpanTable)]


def _joined_equals_loaded(files: list[str]) -> SpanTable:
    together = load_traces(files)
    joined = concat_tables([load_traces([f]) for f in files])
    assert [d for f in files for d in load_traces([f]).diagnostics] == joined.diagnostics
    joined.diagnostics = together.diagnostics = []  # per file here, per run there
    assert_tables_equal(together, joined)
    return joined


def test_join_of_real_files_equals_one_load() -> None:
    files = _trace_files(REAL)
    assert len(files) > 5
    table = _joined_equals_loaded(files)
    assert table.id_text  # malformed ids went through the text path


def test_join_of_straddling_files_equals_one_load(generated: Path) -> None:
    files = _trace_files(generated)
    split = [f for f in files if Path(f).name.startswith("split-")]
    assert len(split) == 2
    _joined_equals_loaded(files)
    # the halves really straddle: alone, a half has spans whose parent is in the other one
    assert (load_traces([split[0]]).parent == MISSING_PARENT).any()


def test_join_in_reverse_order_equals_reverse_load(generated: Path) -> None:
    files = _trace_files(generated)
    _joined_equals_loaded(files[::-1][:4])


def test_single_table_is_returned_as_is(generated: Path) -> None:
    t = load_traces(_trace_files(generated)[:1])
    assert concat_tables([t]) is t
