"""What a KPI returns: the number and the conversations behind it (for drill-down)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """numerator / denominator, or None when the denominator is 0 (never a division error).

    ``conversation_ids`` are the conversations counted in the numerator,
    ``population_ids`` those counted in the denominator (both sorted, distinct).
    """

    numerator: int
    denominator: int
    conversation_ids: tuple[str, ...]
    population_ids: tuple[str, ...]
    target: float | None = None

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def meets_target(self) -> bool | None:
        """value >= target; None when there is no target or no value."""
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target


@dataclass(frozen=True)
class Durations:
    """Median and 90th percentile of finished durations, in seconds.

    ``pending`` counts the items whose clock had started but not stopped at period end:
    they are not in the percentiles (their duration is not known yet) but are shown so a
    growing backlog is not hidden behind a good median.
    """

    median_seconds: float | None
    p90_seconds: float | None
    count: int
    pending: int
    conversation_ids: tuple[str, ...]
    pending_conversation_ids: tuple[str, ...]
    target_seconds: float | None = None

    @property
    def meets_target(self) -> bool | None:
        """p90 <= target: nine in ten within the target time."""
        if self.target_seconds is None or self.p90_seconds is None:
            return None
        return self.p90_seconds <= self.target_seconds


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, PostgreSQL's
    percentile_cont): position (n - 1) * fraction in the sorted values. None if empty."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError("fraction must be within [0, 1]")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def ids(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))
