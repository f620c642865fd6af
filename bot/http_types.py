"""Input types shared by every HTTP route: bounded ids, clean text, calendar days.

Bad input must get a 4xx with a reason, never a 500. The cases a probe turned into 500s
(issue 15) are refused here once, by type, instead of route by route:

- ids above the database's integer range (SQLite raises OverflowError on binding a
  20-digit number): ``RowId`` (PostgreSQL ``integer``) and ``BigRowId`` (``bigint``);
- days at the ends of the calendar (``9999-12-31`` plus one day overflows ``datetime``):
  ``calendar_day`` / ``calendar_moment`` accept 1970-01-01 to 9000-12-31 only;
- text with control characters in names and e-mail addresses: ``PlainLine``; NUL and
  lone surrogates in any text are refused for the whole app by ``bot.http_guard``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import annotated_types
from pydantic import AfterValidator

MAX_INT4 = 2**31 - 1
MAX_INT8 = 2**63 - 1

# Ids of rows in ``integer`` columns (tickets, users, notes, surveys) and ``bigint`` ones
# (messages, audit log). 0 and negatives name nothing either.
RowId = Annotated[int, annotated_types.Interval(ge=1, le=MAX_INT4)]
BigRowId = Annotated[int, annotated_types.Interval(ge=1, le=MAX_INT8)]

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9000, 12, 31)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InputError(ValueError):
    """A value a route cannot use; the message is the reason given with the 4xx."""


def text_problem(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` is not acceptable text, or None.

    Lone surrogates cannot be stored (PostgreSQL and UTF-8 refuse them) or sent back as
    JSON; NUL is refused by PostgreSQL; other control characters hide text in a name or
    address (``multiline`` texts keep tab and newlines).
    """
    if _SURROGATE.search(value):
        return "contains a lone UTF-16 surrogate (not valid Unicode text)"
    for match in _CONTROL.finditer(value):
        if multiline and match.group() in "\t\n\r":
            continue
        return f"contains the control character U+{ord(match.group()):04X}"
    return None


def _plain_line(value: str) -> str:
    problem = text_problem(value, multiline=False)
    if problem:
        raise ValueError(problem)
    return value


def _plain_text(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


# One line of text without control characters: names, e-mail addresses, tags, ids.
PlainLine = Annotated[str, AfterValidator(_plain_line)]
# Free text (messages, notes, comments): newlines and tabs allowed, other controls not.
PlainText = Annotated[str, AfterValidator(_plain_text)]


def calendar_day(name: str, raw: str) -> date:
    """A day as YYYY-MM-DD within FIRST_DAY..LAST_DAY, else InputError with the reason."""
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"{name}: a day as YYYY-MM-DD, got {raw[:40]!r}") from None
    return _in_range(name, day)


def calendar_moment(name: str, raw: str, *, end_of_day: bool) -> datetime:
    """An aware UTC datetime from a day (``end_of_day``: the next midnight, so a ``to``
    day is included whole) or an ISO date-time; within FIRST_DAY..LAST_DAY."""
    text = raw.strip()
    if len(text) == 10:
        day = calendar_day(name, text)
        return datetime.combine(day, time(), UTC) + (timedelta(days=1) if end_of_day else timedelta())
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{name}: not an ISO date or date-time: {raw[:40]!r}") from None
    _in_range(name, moment.date())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _in_range(name: str, day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{name}: days from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}, got {day.isoformat()}")
    return day
