"""Time as an injected dependency, so tests (and replays) control it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """Anything callable that returns the current time as an aware UTC datetime."""

    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by keyword parts (``minutes=5``)."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("time does not run backwards")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = moment.astimezone(timezone.utc)


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Normalise to UTC; naive datetimes are a bug (whose local time would they be?)."""
    if moment.tzinfo is None:
        raise ValueError(f"naive {what}; pass an aware UTC datetime")
    return moment.astimezone(timezone.utc)
