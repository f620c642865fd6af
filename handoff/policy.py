"""Handoff policy: categories and their SLAs, priorities, windows and opening hours.

Everything a deployment may want to tune lives here as plain data, loadable from a dict
(the gateway reads it from YAML or the environment). Durations accept seconds (int or
float) or strings such as "90s", "5m", "24h", "7d", "1h30m".

Priority (1 = most urgent, 5 = least)::

    priority = clamp(category.priority
                     + reason_adjustment[reason]          # complaint -1, bot_error -1, else 0
                     - 1 if sentiment <= strong_negative   # default -0.5
                     - 1 if repeat contact,                # a ticket in the last 7 days
                     1, 5)

So a payment complaint from an angry customer who contacted us yesterday is 1, a
question about "other" handed over on request is 4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Mapping

from handoff.hours import OpeningHours
from handoff.lifecycle import EscalationReason

MOST_URGENT = 1
LEAST_URGENT = 5
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Category:
    name: str
    resolution_sla: timedelta
    priority: int = 3
    # Lower-case word stems that suggest this category in the bot's summary.
    keywords: tuple[str, ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if not MOST_URGENT <= self.priority <= LEAST_URGENT:
            raise ValueError(f"category {self.name}: priority must be 1..5")
        if self.resolution_sla <= timedelta(0):
            raise ValueError(f"category {self.name}: resolution SLA must be positive")


def _default_categories() -> dict[str, Category]:
    h = timedelta(hours=1)
    return {
        c.name: c
        for c in (
            Category("orders", 24 * h, 3, ("order", "purchase", "cancel", "item"), "Orders"),
            Category("delivery", 24 * h, 3,
                     ("deliver", "shipping", "shipment", "parcel", "package", "track", "courier",
                      "arrive", "late"), "Delivery"),
            Category("returns_refunds", 48 * h, 3,
                     ("return", "refund", "exchange", "money back", "broken", "damaged",
                      "defect"), "Returns and refunds"),
            Category("payment", 8 * h, 2,
                     ("payment", "pay", "charge", "card", "invoice", "billing", "paypal"),
                     "Payment"),
            Category("account_privacy", 24 * h, 2,
                     ("account", "password", "login", "log in", "privacy", "personal data",
                      "gdpr", "delete my", "email address"), "Account and privacy"),
            Category("other", 48 * h, 4, (), "Other"),
        )
    }


def _default_reason_adjustment() -> dict[EscalationReason, int]:
    # A complaint or a bot failure is our fault; a plain request for a person is not urgent
    # in itself. Negative sentiment counts through the sentiment term, not twice here.
    return {reason: 0 for reason in EscalationReason} | {
        EscalationReason.COMPLAINT: -1,
        EscalationReason.BOT_ERROR: -1,
    }


@dataclass(frozen=True)
class HandoffPolicy:
    categories: Mapping[str, Category] = field(default_factory=_default_categories)
    default_category: str = "other"
    reason_adjustment: Mapping[EscalationReason, int] = field(
        default_factory=_default_reason_adjustment
    )
    first_response_sla: timedelta = timedelta(minutes=5)
    # Share of an SLA used up after which a ticket counts as at risk.
    at_risk_fraction: float = 0.8
    # A resolved ticket escalated again within this window is reopened, not duplicated;
    # after it, close_resolved() closes it.
    reopen_window: timedelta = timedelta(days=7)
    # A previous ticket of the same customer within this window makes a repeat contact.
    repeat_contact_window: timedelta = timedelta(days=7)
    # How long a disconnected agent keeps their conversations.
    agent_grace: timedelta = timedelta(minutes=2)
    # Sentiment at or below this raises priority by one.
    strong_negative_sentiment: float = -0.5
    # Sentiment at or below this is a reason to escalate (negative_sentiment).
    negative_sentiment_threshold: float = -0.5
    opening_hours: OpeningHours = field(default_factory=OpeningHours)
    # Wait estimate: claims in this window measure the team's pace...
    wait_estimate_window: timedelta = timedelta(hours=1)
    # ...and without enough of them, each agent is assumed to take one ticket this often.
    default_claim_interval: timedelta = timedelta(minutes=5)
    # If set, an "online" agent not seen for this long no longer counts as online.
    presence_timeout: timedelta | None = None

    def __post_init__(self) -> None:
        if self.default_category not in self.categories:
            raise ValueError(f"default category {self.default_category!r} is not configured")
        if not 0 < self.at_risk_fraction < 1:
            raise ValueError("at_risk_fraction must be between 0 and 1")
        for name in ("first_response_sla", "agent_grace", "reopen_window"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")

    # Loading ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> "HandoffPolicy":
        """Build from plain data; unknown keys are errors (a typo must not go unnoticed)."""
        raw = dict(raw or {})
        kwargs: dict[str, Any] = {}
        durations = ("first_response_sla", "reopen_window", "repeat_contact_window",
                     "agent_grace", "wait_estimate_window", "default_claim_interval",
                     "presence_timeout")
        for name in durations:
            if name in raw:
                value = raw.pop(name)
                kwargs[name] = None if value is None else parse_duration(value)
        for name in ("at_risk_fraction", "strong_negative_sentiment",
                     "negative_sentiment_threshold"):
            if name in raw:
                kwargs[name] = float(raw.pop(name))
        if "default_category" in raw:
            kwargs["default_category"] = str(raw.pop("default_category"))
        if "categories" in raw:
            kwargs["categories"] = {
                name: _category(name, spec) for name, spec in dict(raw.pop("categories")).items()
            }
        if "reason_adjustment" in raw:
            adjustments = _default_reason_adjustment()
            for reason, value in dict(raw.pop("reason_adjustment")).items():
                adjustments[EscalationReason(reason)] = int(value)
            kwargs["reason_adjustment"] = adjustments
        if "opening_hours" in raw:
            kwargs["opening_hours"] = OpeningHours.from_dict(raw.pop("opening_hours"))
        if raw:
            raise ValueError(f"unknown handoff policy keys: {', '.join(sorted(raw))}")
        return cls(**kwargs)

    # Decisions ----------------------------------------------------------------------

    def category(self, name: str | None) -> Category:
        if name is None:
            return self.categories[self.default_category]
        try:
            return self.categories[name]
        except KeyError:
            known = ", ".join(self.categories)
            raise ValueError(f"unknown category {name!r}; known: {known}") from None

    def classify(self, text: str) -> str:
        """The category whose keywords occur most often in ``text``; the default if none.

        Deliberately simple: agents re-categorise on resolve, and the bot usually knows
        the category from the conversation and passes it explicitly.
        """
        lowered = text.lower()
        best, best_hits = self.default_category, 0
        for category in self.categories.values():
            hits = sum(lowered.count(keyword) for keyword in category.keywords)
            if hits > best_hits:
                best, best_hits = category.name, hits
        return best

    def priority(
        self,
        category: str,
        reason: EscalationReason,
        sentiment: float | None,
        repeat_contact: bool,
    ) -> int:
        """See the module docstring for the formula."""
        value = self.category(category).priority + self.reason_adjustment.get(reason, 0)
        if sentiment is not None and sentiment <= self.strong_negative_sentiment:
            value -= 1
        if repeat_contact:
            value -= 1
        return max(MOST_URGENT, min(LEAST_URGENT, value))

    def is_negative(self, sentiment: float) -> bool:
        return sentiment <= self.negative_sentiment_threshold


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().lower().replace(" ", "")
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration like 90s, 5m, 24h, 7d or 1h30m")
    return timedelta(seconds=sum(float(n) * _UNIT[u] for n, u in parts))


def _category(name: str, spec: Any) -> Category:
    if not isinstance(spec, Mapping):
        # Shorthand: "payment: 8h".
        return Category(name, parse_duration(spec))
    unknown = set(spec) - {"resolution_sla", "priority", "keywords", "label"}
    if unknown:
        raise ValueError(f"category {name}: unknown keys {', '.join(sorted(unknown))}")
    if "resolution_sla" not in spec:
        raise ValueError(f"category {name}: resolution_sla is required")
    return Category(
        name=name,
        resolution_sla=parse_duration(spec["resolution_sla"]),
        priority=int(spec.get("priority", 3)),
        keywords=tuple(str(k).lower() for k in spec.get("keywords", ())),
        label=str(spec.get("label", "")),
    )
