"""The stream backend's quantiles and conversions against the reference interpreter."""

from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_quantile_and_conversions import CONVERT_SPEC, QUANTILE_SPEC, _table
from workbench.engine import reference
from workbench.lang import ir
from workbench.stream.backend import BACKEND


@pytest.mark.parametrize("spec", [QUANTILE_SPEC, CONVERT_SPEC], ids=["quantile", "convert"])
def test_stream_equals_reference(spec: ir.Spec) -> None:
    table = _table()
    props = list(spec.properties)
    for prop, got in zip(props, BACKEND.check(props, table, {}), strict=True):
        want = reference.check_property(prop, table, {})
        assert not isinstance(got, Exception), (prop.name, got)
        assert np.array_equal(got.holds, want.holds), prop.name
        assert got.witnesses == want.witnesses, prop.name
