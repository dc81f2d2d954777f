"""Distributed batch checking on Dask, sharded by trace id (``otlspec check --workers N``).

:func:`check_distributed` runs a spec on a Dask cluster (:func:`connect` gives a client on an
existing scheduler or on a LocalCluster) and merges the shards into the result a
single-process :func:`workbench.engine.check` gives. Dask is optional (``pip install
'otlspec[dist]'``); without it these functions raise :class:`DistributedError` with that hint.
"""

from __future__ import annotations

from workbench.distributed.merge import MergedTable
from workbench.distributed.runner import (
    DistributedError,
    RunStats,
    check_distributed,
    connect,
    dashboard_link,
)

__all__ = [
    "DistributedError",
    "MergedTable",
    "RunStats",
    "check_distributed",
    "connect",
    "dashboard_link",
]
