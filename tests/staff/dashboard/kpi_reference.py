"""What the KPI functions say, in the dashboard's shape: the reference every dashboard
number is compared with."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from staff.analytics import (
    Compliance,
    Durations,
    Filters,
    Period,
    Rate,
    abandonment_rate,
    complaint_rate_by_category,
    containment,
    csat,
    escalation_rate,
    escalation_rate_by_reason,
    fallback_rate,
    faq_answer_rate,
    faq_helpfulness,
    first_contact_resolution,
    first_human_response_time,
    first_response_sla_compliance,
    queue_wait,
    resolution_sla_compliance,
)
from staff.analytics.scope import tickets_in_scope
from handoff.models import Ticket


def _rate(value: Rate) -> tuple[int, int]:
    return (value.numerator, value.denominator)


def _compliance(value: Compliance) -> tuple[int, int, int]:
    return (value.numerator, value.denominator, value.pending)


def _durations(value: Durations) -> tuple[Any, ...]:
    return (value.median_seconds, value.p90_seconds, value.count, value.pending)


def reference_ticket_kpis(session: Session, period: Period, filters: Filters) -> dict[str, Any]:
    return {
        "tickets": session.scalar(select(func.count()).select_from(Ticket).where(*tickets_in_scope(period, filters))),
        "first_human_response_time": _durations(first_human_response_time(session, period, filters)),
        "resolution_sla_compliance": _compliance(resolution_sla_compliance(session, period, filters)),
        "first_response_sla_compliance": _compliance(first_response_sla_compliance(session, period, filters)),
        "queue_wait": _durations(queue_wait(session, period, filters)),
        "abandonment_rate": _rate(abandonment_rate(session, period, filters)),
    }


def reference_csat(session: Session, period: Period, filters: Filters) -> tuple[Any, ...]:
    summary = csat(session, period, filters)
    return (summary.average, summary.rated, _rate(summary.response_rate), _rate(summary.would_recommend))


def reference_full(session: Session, period: Period, filters: Filters) -> dict[str, Any]:
    scope = containment(session, period, filters)
    return {
        "conversations": scope.denominator,
        "containment": _rate(scope),
        "escalation_rate": _rate(escalation_rate(session, period, filters)),
        "escalation_rate_by_reason": {
            k: _rate(v) for k, v in escalation_rate_by_reason(session, period, filters).items()
        },
        "complaint_rate_by_category": {
            k: _rate(v) for k, v in complaint_rate_by_category(session, period, filters).items()
        },
        "first_contact_resolution": _rate(first_contact_resolution(session, period, filters)),
        "faq_answer_rate": _rate(faq_answer_rate(session, period, filters)),
        "fallback_rate": _rate(fallback_rate(session, period, filters)),
        "faq_helpfulness": _rate(faq_helpfulness(session, period, filters)),
        "csat": reference_csat(session, period, filters),
        **reference_ticket_kpis(session, period, filters),
    }


def reference_slice(session: Session, period: Period, filters: Filters) -> dict[str, Any]:
    """What a category / agent breakdown row shows."""
    return {
        "conversations": containment(session, period, filters).denominator,
        "first_contact_resolution": _rate(first_contact_resolution(session, period, filters)),
        "csat": reference_csat(session, period, filters),
        **reference_ticket_kpis(session, period, filters),
    }


def _as_rate(value: dict[str, Any]) -> tuple[int, int]:
    return (value["numerator"], value["denominator"])


def _as_durations(value: dict[str, Any]) -> tuple[Any, ...]:
    return (value["median_seconds"], value["p90_seconds"], value["count"], value["pending"])


def _as_csat(value: dict[str, Any]) -> tuple[Any, ...]:
    return (value["average"], value["rated"], _as_rate(value["response_rate"]), _as_rate(value["would_recommend"]))


def shown(values: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's numbers for the keys of a reference dict, in the same shape."""
    out: dict[str, Any] = {}
    for key in keys:
        value = values[key]
        if key in ("conversations", "tickets"):
            out[key] = value
        elif key in ("escalation_rate_by_reason", "complaint_rate_by_category"):
            out[key] = {k: _as_rate(v) for k, v in value.items()}
        elif key in ("first_human_response_time", "queue_wait"):
            out[key] = _as_durations(value)
        elif key.endswith("sla_compliance"):
            out[key] = (*_as_rate(value), value["pending"])
        elif key == "csat":
            out[key] = _as_csat(value)
        else:
            out[key] = _as_rate(value)
    return out


def _rounded(value: Any) -> Any:
    """Floats to 9 places (the same formula may sum in another order), recursively."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_rounded(v) for v in value)
    return value


def assert_dashboard_matches_kpis(session: Session, dashboard: dict[str, Any], period: Period, filters: Filters) -> int:
    """Totals, every breakdown and every trend point against the KPI functions; returns
    how many comparisons were made."""
    checks = 0

    def same(actual: dict[str, Any], expected: dict[str, Any], where: str) -> None:
        nonlocal checks
        assert _rounded(shown(actual, expected)) == _rounded(expected), where
        checks += 1

    same(dashboard["totals"], reference_full(session, period, filters), "totals")
    for channel, values in dashboard["by_channel"].items():
        same(values, reference_full(session, period, replace(filters, channel=channel)), f"channel {channel}")
    for category, values in dashboard["by_category"].items():
        same(values, reference_slice(session, period, replace(filters, category=category)), f"category {category}")
    for agent, values in dashboard["by_agent"].items():
        same(values, reference_slice(session, period, replace(filters, agent_id=int(agent))), f"agent {agent}")
    for point in dashboard["trend"]:
        # Judged with the period's own clock (a running period's buckets are judged as of now).
        bucket = period.part(datetime.fromisoformat(point["start"]), datetime.fromisoformat(point["end"]))
        same(point, reference_full(session, bucket, filters), f"bucket {point['start']}")
    return checks
