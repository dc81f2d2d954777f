"""Generated datasets: a trace generator, fault injection with labels, evaluation, Parquet.

Main entry points
-----------------
:func:`generate`
    Realistic microservice traces from a seed (:mod:`~workbench.datasets.generator`).
:func:`inject`, :func:`parse_faults`
    Fault injection with ground-truth labels (:mod:`~workbench.datasets.faults`).
:func:`write_dataset`, :func:`to_table`
    OTLP JSON/protobuf files with ``labels.jsonl`` and ``manifest.json``, or a span table.
:func:`generate_table`, :func:`replicate`
    Millions of spans in about a second, for benchmarks (:mod:`~workbench.datasets.scale`).
:func:`evaluate`, :func:`evaluate_dataset`
    Precision and recall of properties against labels (:mod:`~workbench.datasets.evaluation`).
:func:`write_parquet`, :func:`load_parquet`
    Partitioned Parquet storage of span tables (:mod:`~workbench.datasets.parquet`).
:data:`VARIANTS`, :data:`DETECTORS`
    Fault class -> variant -> the properties that claim to detect it
    (:mod:`~workbench.datasets.labels`).

Submodules are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "generate": "generator", "GenConfig": "generator",
    "Dataset": "model", "GenSpan": "model", "GenTrace": "model", "Annotation": "model",
    "inject": "faults", "parse_faults": "faults",
    "write_dataset": "writer", "to_table": "writer",
    "generate_table": "scale", "replicate": "scale",
    "evaluate": "evaluation", "evaluate_dataset": "evaluation", "Evaluation": "evaluation",
    "write_parquet": "parquet", "load_parquet": "parquet",
    "Label": "labels", "read_labels": "labels", "VARIANTS": "labels", "DETECTORS": "labels",
    "COLLATERAL": "labels", "FAULT_CLASSES": "labels",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench.datasets' has no attribute {name!r}")
    return getattr(importlib.import_module(f"workbench.datasets.{module}"), name)
