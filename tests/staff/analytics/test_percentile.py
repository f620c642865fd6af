"""The percentile rule published in docs/kpis.md."""

from __future__ import annotations

import pytest

from staff.analytics import percentile
from staff.analytics.results import Rate


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([10.0], 0.9) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.9) == pytest.approx(3.7)
    assert percentile([], 0.5) is None
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


def test_rate_value_and_target() -> None:
    assert Rate(0, 0, (), ()).value is None
    assert Rate(9, 10, (), (), target=0.9).meets_target is True
    assert Rate(8, 10, (), (), target=0.9).meets_target is False
