"""Policy: loading from plain data, the priority formula, keyword classification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handoff import EscalationReason, HandoffPolicy
from handoff.policy import parse_duration

R = EscalationReason


@pytest.mark.parametrize(
    ("category", "reason", "sentiment", "repeat", "expected"),
    [
        ("other", R.CUSTOMER_REQUEST, None, False, 4),  # base only
        ("orders", R.CUSTOMER_REQUEST, 0.4, False, 3),
        ("orders", R.COMPLAINT, None, False, 2),  # complaint -1
        ("orders", R.BOT_ERROR, None, False, 2),  # our failure -1
        ("orders", R.NEGATIVE_SENTIMENT, -0.3, False, 3),  # mildly negative: no change
        ("orders", R.NEGATIVE_SENTIMENT, -0.5, False, 2),  # at the strong threshold
        ("orders", R.CUSTOMER_REQUEST, None, True, 2),  # repeat contact -1
        ("payment", R.COMPLAINT, -0.9, True, 1),  # 2 -1 -1 -1 = -1, clamped to 1
        ("other", R.REPEATED_FALLBACK, 0.9, False, 4),
    ],
)
def test_priority_formula(category: str, reason: EscalationReason, sentiment: float | None,
                          repeat: bool, expected: int) -> None:
    assert HandoffPolicy().priority(category, reason, sentiment, repeat) == expected


def test_defaults_match_the_brief() -> None:
    policy = HandoffPolicy()
    hours = {name: c.resolution_sla / timedelta(hours=1) for name, c in policy.categories.items()}
    assert hours == {"orders": 24, "delivery": 24, "returns_refunds": 48, "payment": 8,
                     "account_privacy": 24, "other": 48}
    assert policy.first_response_sla == timedelta(minutes=5)
    assert policy.reopen_window == timedelta(days=7)
    assert policy.agent_grace == timedelta(minutes=2)
    assert policy.at_risk_fraction == 0.8
    assert policy.opening_hours.always_open


def test_from_dict_as_the_gateway_would_read_yaml() -> None:
    policy = HandoffPolicy.from_dict({
        "first_response_sla": "10m",
        "agent_grace": 90,
        "reopen_window": "3d",
        "at_risk_fraction": 0.75,
        "categories": {
            "billing": {"resolution_sla": "4h", "priority": 1, "keywords": ["Invoice"]},
            "general": "2d",
        },
        "default_category": "general",
        "reason_adjustment": {"customer_request": -1},
        "opening_hours": {"timezone": "Europe/Berlin", "mon-fri": "08:00-18:00"},
    })
    assert policy.first_response_sla == timedelta(minutes=10)
    assert policy.agent_grace == timedelta(seconds=90)
    assert policy.reopen_window == timedelta(days=3)
    assert set(policy.categories) == {"billing", "general"}
    assert policy.categories["general"].resolution_sla == timedelta(days=2)
    assert policy.classify("Where is my INVOICE?") == "billing"
    assert policy.classify("hello") == "general"
    assert policy.priority("general", R.CUSTOMER_REQUEST, None, False) == 2
    assert not policy.opening_hours.always_open


@pytest.mark.parametrize(
    "raw",
    [
        {"first_response_sla": "soon"},
        {"frist_response_sla": "5m"},  # typo: refused, not ignored
        {"default_category": "nope"},
        {"at_risk_fraction": 1.5},
        {"categories": {"x": {"priority": 2}}},  # no SLA
        {"categories": {"x": {"resolution_sla": "1h", "priority": 9}}},
        {"reason_adjustment": {"boredom": -1}},
    ],
)
def test_bad_policies_are_rejected(raw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        HandoffPolicy.from_dict(raw)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", 90), ("5m", 300), ("1h30m", 5400), ("7d", 604800), (45, 45), ("2.5h", 9000)],
)
def test_durations(text: object, expected: int) -> None:
    assert parse_duration(text) == timedelta(seconds=expected)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("My parcel never arrived and tracking shows nothing", "delivery"),
        ("I want a refund for the broken kettle", "returns_refunds"),
        ("You charged my card twice", "payment"),
        ("Please delete my account and personal data", "account_privacy"),
        ("I want to cancel my order", "orders"),
        ("Hello there", "other"),
    ],
)
def test_keyword_classification(text: str, category: str) -> None:
    assert HandoffPolicy().classify(text) == category
