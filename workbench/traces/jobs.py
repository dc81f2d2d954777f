"""How many threads load traces: ``--jobs N``, ``$OTLSPEC_JOBS`` or the available cores.

Kept apart from :mod:`workbench.traces.parallel` so that the command line can offer the
option without importing the readers.
"""

from __future__ import annotations

import argparse
import os

#: environment variable with the default number of loading threads (``otlspec --jobs``)
JOBS_ENV = "OTLSPEC_JOBS"


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None = None) -> int:
    """The number of loading threads for ``jobs``.

    Parameters
    ----------
    jobs
        A positive count; 0 or None: ``$OTLSPEC_JOBS`` when set (0 there: the cores), else
        :func:`available_cores`.

    Raises
    ------
    ValueError
        For a negative count or an ``$OTLSPEC_JOBS`` that is not a whole number.
    """
    if jobs is None:
        text = os.environ.get(JOBS_ENV, "").strip()
        if text:
            try:
                jobs = int(text)
            except ValueError:
                raise ValueError(
                    f"${JOBS_ENV}={text!r} is not a number of threads; set it to a whole "
                    "number (0: all available cores)"
                ) from None
    if jobs is None or jobs == 0:
        return available_cores()
    if jobs < 0:
        raise ValueError(f"jobs must be a positive number of threads (0: all cores), not {jobs}")
    return jobs


def add_jobs_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--jobs N`` (``-j``) to a command that loads traces (its value: ``args.jobs``)."""

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if value < 0:
            raise argparse.ArgumentTypeError(f"expected a number of threads (0: all cores), "
                                             f"got {text!r}")
        return value

    parser.add_argument(
        "--jobs", "-j", type=count, default=None, metavar="N",
        help=f"threads that read the trace files (several files, or chunks of a large one) at "
        f"once; the table is the same for any N. Default: ${JOBS_ENV}, else every available "
        "core; 1: one piece after another")


__all__ = ["JOBS_ENV", "add_jobs_option", "available_cores", "resolve_jobs"]
