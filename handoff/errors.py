"""Errors of the handoff domain, grouped by how a caller should answer them.

The gateway maps the groups, not the leaves: ``NotFound`` -> 404, ``Forbidden`` -> 403,
``Conflict`` -> 409; ``ValueError`` (bad input such as an unknown reason) -> 400.
Every error carries a human-readable ``reason`` that is safe to show to an agent.
"""

from __future__ import annotations


class HandoffError(Exception):
    """Base class; ``reason`` is the human-readable explanation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(HandoffError):
    """The thing asked for does not exist (or is not the caller's to see)."""


class Forbidden(HandoffError):
    """The caller may not do this to this conversation or ticket."""


class Conflict(HandoffError):
    """The request collides with the current state; refresh and try again."""


class TicketNotFound(NotFound):
    pass


class NotOwner(Forbidden):
    """An agent tried to act on a conversation or ticket they do not own."""


class AlreadyClaimed(Conflict):
    """Another agent claimed the ticket first (or it left the queue)."""


class IllegalTransition(Conflict):
    """The event is not allowed in the current state."""


class ConcurrentUpdate(Conflict):
    """Someone else changed the row between our read and our write.

    The caller's transaction must be rolled back; retrying on a fresh one is safe.
    """


class AgentUnavailable(Conflict):
    """The target agent is not online (for example on transfer)."""
