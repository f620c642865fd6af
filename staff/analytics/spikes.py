"""Complaint-spike detector: a category whose complaint rate in the latest window jumps
against its trailing baseline (rule in docs/kpis.md, "Complaint spikes")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from staff.analytics.kpis import complaint_rate_by_category
from staff.analytics.results import Rate
from staff.analytics.scope import NO_FILTERS, Filters, Period


@dataclass(frozen=True)
class SpikeRule:
    window: timedelta = timedelta(days=1)
    baseline_windows: int = 7  # the baseline is this many windows right before the latest
    factor: float = 2.0  # latest rate must be at least factor x baseline rate
    # A handful of complaints on a quiet day is not a trend: below this, never flag.
    min_complaints: int = 3

    def __post_init__(self) -> None:
        if self.window <= timedelta(0) or self.baseline_windows < 1:
            raise ValueError("window must be positive and baseline_windows >= 1")
        if self.factor < 1.0 or self.min_complaints < 1:
            raise ValueError("factor must be >= 1 and min_complaints >= 1")


DEFAULT_SPIKE_RULE = SpikeRule()


@dataclass(frozen=True)
class ComplaintSpike:
    category: str
    latest: Rate  # complaint rate of the category in the latest window (ids for drill-down)
    baseline_rate: float  # pooled rate over the baseline windows; 0.0 when it had no traffic
    latest_period: Period
    baseline_period: Period


def detect_complaint_spikes(
    session: Session,
    end: datetime,
    rule: SpikeRule = DEFAULT_SPIKE_RULE,
    filters: Filters = NO_FILTERS,
) -> list[ComplaintSpike]:
    """Categories flagged at ``end``, highest latest rate first.

    latest window = [end - window, end); baseline = [end - (1 + baseline_windows) x window,
    end - window). Rates are complaint_rate_by_category over each span (the baseline
    pooled: its complaint conversations / its conversations). Flag a category when
    complaints in the latest window >= min_complaints and latest rate > baseline rate and
    latest rate >= factor x baseline rate.
    """
    latest_period = Period(end - rule.window, end)
    baseline_period = Period(end - rule.window * (1 + rule.baseline_windows), latest_period.start)
    latest = complaint_rate_by_category(session, latest_period, filters)
    baseline = complaint_rate_by_category(session, baseline_period, filters)
    spikes: list[ComplaintSpike] = []
    for category, rate in latest.items():
        baseline_rate = baseline[category].value if category in baseline else 0.0
        baseline_rate = baseline_rate or 0.0
        current = rate.value or 0.0
        if rate.numerator >= rule.min_complaints and current > baseline_rate and current >= rule.factor * baseline_rate:
            spikes.append(ComplaintSpike(category, rate, baseline_rate, latest_period, baseline_period))
    return sorted(spikes, key=lambda spike: (-(spike.latest.value or 0.0), spike.category))
