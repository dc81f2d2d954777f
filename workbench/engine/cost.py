"""The cost model of ``--backend auto``: reference interpreter or compiled kernels, per property.

A compiled kernel costs a fixed price before it checks anything — numba compiles it (seconds)
or, once it is in the disk cache, loads it (tens of ms) — plus its per-table index share; then
it checks tens of millions of spans per second. The reference interpreter starts at once but
costs about a hundred microseconds per span and property. So ``auto`` runs a property on the
reference when its estimated time there is below the kernel's, and says why:

    reference ~ REFERENCE_S_PER_SPAN x spans
    numba     ~ (LOAD_S if the kernel is cached else COMPILE_S) + INDEX_S + NUMBA_S_PER_SPAN x spans

The constants were measured on a 2-core machine (``benchmarks/phases.py`` and the stdlib on the
bundled real traces and generated data: 46 properties, 1.5k-34k spans); only their ratios
matter, and the decision is only close near the break-even size (about 400 spans with cached
kernels, about 40k spans without).
"""

from __future__ import annotations

from typing import Any

#: seconds per span and property on the reference interpreter (stdlib average)
REFERENCE_S_PER_SPAN = 120e-6
#: seconds to compile one property's kernels (verdict and witness), and to load them cached
COMPILE_S = 5.0
LOAD_S = 0.025
#: per-property share of the table index and string tables, seconds
INDEX_S = 0.02
#: seconds per span and property in a compiled kernel
NUMBA_S_PER_SPAN = 70e-9


def prefer_reference(gen: Any, n_spans: int) -> tuple[bool, str]:
    """Whether ``auto`` should run the property of generated kernel ``gen`` on the reference,
    and the reason (the two estimates)."""
    from workbench.engine import numba_cpu

    cached = numba_cpu.is_cached(gen)
    ref = REFERENCE_S_PER_SPAN * n_spans
    kernel = (LOAD_S if cached else COMPILE_S) + INDEX_S + NUMBA_S_PER_SPAN * n_spans
    state = "cached kernel" if cached else "kernel not compiled yet"
    if ref < kernel:
        return True, (f"auto: reference, est. {ref:.3g}s on {n_spans} spans < numba est. "
                      f"{kernel:.3g}s ({state})")
    return False, f"auto: numba, est. {kernel:.3g}s ({state}) <= reference est. {ref:.3g}s"
