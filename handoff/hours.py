"""Opening hours in a named time zone, and SLA time that runs only while open.

Weekly ranges such as Mon-Fri 09:00-17:00 in Europe/Berlin. No ranges at all means
open around the clock, so business time equals calendar time. Ranges are interpreted
in local time (zoneinfo), so a DST change moves them in UTC as it should.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handoff.clock import require_aware

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# Far enough to cross any holiday-free week; guards loops against empty schedules.
_SEARCH_DAYS = 8


@dataclass(frozen=True)
class DayRange:
    start: time
    # None means midnight at the end of the day ("24:00").
    end: time | None

    def bounds(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        start = datetime.combine(day, self.start, zone)
        if self.end is None:
            end = datetime.combine(day + timedelta(days=1), time(0), zone)
        else:
            end = datetime.combine(day, self.end, zone)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


@dataclass(frozen=True)
class OpeningHours:
    timezone_name: str = "UTC"
    # weekday (0 = Monday) -> ranges; empty mapping = always open.
    weekly: Mapping[int, tuple[DayRange, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _zone(self.timezone_name)  # fail at load time, not at the first escalation

    @property
    def always_open(self) -> bool:
        return not any(self.weekly.values())

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone_name)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> "OpeningHours":
        """``{"timezone": "Europe/Berlin", "mon-fri": "09:00-17:00", "sat": ["10:00-14:00"]}``."""
        if not raw:
            return cls()
        weekly: dict[int, list[DayRange]] = {}
        zone_name = "UTC"
        for key, value in raw.items():
            if key == "timezone":
                zone_name = str(value)
                continue
            ranges = [value] if isinstance(value, str) else list(value or [])
            for day in _days(key):
                weekly.setdefault(day, []).extend(_parse_range(r) for r in ranges)
        ordered = {day: tuple(sorted(r, key=lambda x: x.start)) for day, r in weekly.items()}
        for day, ranges in ordered.items():
            for earlier, later in zip(ranges, ranges[1:]):
                if earlier.end is None or earlier.end > later.start:
                    raise ValueError(f"opening hours: overlapping ranges on {DAYS[day]}")
        return cls(timezone_name=zone_name, weekly=ordered)

    def intervals(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) that end after ``since``, in order; endless."""
        since = require_aware(since)
        if self.always_open:
            yield since, datetime.max.replace(tzinfo=timezone.utc)
            return
        zone = self.zone
        day = since.astimezone(zone).date() - timedelta(days=1)
        while True:
            for day_range in self.weekly.get(day.weekday(), ()):
                start, end = day_range.bounds(day, zone)
                if end > since and end > start:
                    yield max(start, since), end
            day += timedelta(days=1)

    def is_open(self, now: datetime) -> bool:
        now = require_aware(now)
        return self.next_opening(now) == now

    def next_opening(self, now: datetime) -> datetime:
        """``now`` if open, else the start of the next open interval."""
        start, _ = next(self.intervals(require_aware(now)))
        return start

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of open time has passed since ``start``."""
        remaining = duration
        for begin, end in self.intervals(start):
            if end - begin >= remaining:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable: intervals() is endless")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time in [start, end)."""
        start, end = require_aware(start), require_aware(end)
        total = timedelta(0)
        if end <= start:
            return total
        for begin, finish in self.intervals(start):
            if begin >= end:
                break
            total += min(finish, end) - begin
        return total


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _days(key: str) -> list[int]:
    parts = [p.strip().lower()[:3] for p in key.split("-")]
    if any(p not in DAYS for p in parts) or len(parts) > 2:
        raise ValueError(f"opening hours: {key!r} is not a day or day range like mon-fri")
    first, last = DAYS.index(parts[0]), DAYS.index(parts[-1])
    if last < first:
        raise ValueError(f"opening hours: day range {key!r} runs backwards")
    return list(range(first, last + 1))


def _parse_range(text: str) -> DayRange:
    match = _RANGE.match(str(text))
    if not match:
        raise ValueError(f"opening hours: {text!r} is not a range like 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ValueError(f"opening hours: {text!r} has an impossible time")
    start = time(h1, m1)
    end = None if h2 == 24 else time(h2, m2)
    if end is not None and end <= start:
        raise ValueError(f"opening hours: {text!r} must end after it starts (same day)")
    return DayRange(start, end)
