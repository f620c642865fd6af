"""Who owns a conversation: the pure state machine (no I/O, no clock).

```
        escalate(reason)            agent_claims (atomic)
  BOT ───────────────────► QUEUED ─────────────────────► AGENT(a)
   ▲   customer_cancels      │ ▲ no_agent / after_hours     │  │ transfer(a -> b)
   ◄─────────────────────────┘ └── agent_grace_expired ─────┘  │
   ▲                                                           │ hand_back / resolve
   └───────────────────────────────────────────────────────────┘
```

Exactly one owner at a time. The bot may speak only while the owner is BOT; an agent
may write only while the owner is AGENT and the agent is that agent. A customer message
always has exactly one recipient (bot, queue or agent), see ``Ownership.route``.

The service (``handoff/service.py``) is the only writer of ownership rows and every
change it makes goes through ``transition`` here, so these rules hold in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from handoff.errors import IllegalTransition


class Owner(StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"


class Recipient(StrEnum):
    """Where a customer message goes."""

    BOT = "bot"  # forward to Rasa
    QUEUE = "queue"  # stored and shown to whoever claims the ticket; the bot stays silent
    AGENT = "agent"  # deliver to the owning agent's console


@dataclass(frozen=True)
class Route:
    recipient: Recipient
    agent_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True)
class Ownership:
    owner: Owner = Owner.BOT
    agent_id: int | None = None
    ticket_id: int | None = None
    # Optimistic-concurrency version of the stored row; 0 when there is no row yet.
    version: int = 0

    def __post_init__(self) -> None:
        # Exactly one owner: an agent id only with AGENT, and AGENT always has one.
        if (self.owner is Owner.AGENT) != (self.agent_id is not None):
            raise ValueError(f"inconsistent ownership {self.owner} / agent {self.agent_id}")
        if self.owner is Owner.BOT and self.ticket_id is not None:
            raise ValueError("a bot-owned conversation has no open ticket")
        if self.owner is not Owner.BOT and self.ticket_id is None:
            raise ValueError(f"{self.owner} ownership needs its ticket")

    @property
    def bot_may_speak(self) -> bool:
        return self.owner is Owner.BOT

    def agent_may_write(self, agent_id: int) -> bool:
        return self.owner is Owner.AGENT and self.agent_id == agent_id

    def route(self) -> Route:
        """The one recipient of a customer message in this state."""
        if self.owner is Owner.BOT:
            return Route(Recipient.BOT)
        if self.owner is Owner.QUEUED:
            return Route(Recipient.QUEUE, ticket_id=self.ticket_id)
        return Route(Recipient.AGENT, agent_id=self.agent_id, ticket_id=self.ticket_id)


# Events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalate:
    reason: str
    ticket_id: int


@dataclass(frozen=True)
class Reopen:
    """A resolved ticket comes back (the customer escalated again inside the window)."""

    ticket_id: int


@dataclass(frozen=True)
class AgentClaims:
    agent_id: int


@dataclass(frozen=True)
class CustomerCancels:
    pass


@dataclass(frozen=True)
class NoAgent:
    """Nobody online, or outside opening hours: the ticket stays queued and open."""

    after_hours: bool = False


@dataclass(frozen=True)
class HandBack:
    agent_id: int


@dataclass(frozen=True)
class Resolve:
    agent_id: int


@dataclass(frozen=True)
class Transfer:
    from_agent: int
    to_agent: int


@dataclass(frozen=True)
class AgentGraceExpired:
    agent_id: int


Event = (
    Escalate
    | Reopen
    | AgentClaims
    | CustomerCancels
    | NoAgent
    | HandBack
    | Resolve
    | Transfer
    | AgentGraceExpired
)


def transition(state: Ownership, event: Event) -> Ownership:
    """The state after ``event``; ``IllegalTransition`` if the event is not allowed.

    The returned state keeps ``state.version``; storing it bumps the version.
    """
    owner = state.owner
    match event:
        case Escalate(ticket_id=ticket_id) | Reopen(ticket_id=ticket_id) if owner is Owner.BOT:
            return replace(state, owner=Owner.QUEUED, agent_id=None, ticket_id=ticket_id)
        case AgentClaims(agent_id=agent) if owner is Owner.QUEUED:
            return replace(state, owner=Owner.AGENT, agent_id=agent)
        case CustomerCancels() if owner is Owner.QUEUED:
            return replace(state, owner=Owner.BOT, agent_id=None, ticket_id=None)
        case NoAgent() if owner is Owner.QUEUED:
            return state
        case HandBack(agent_id=agent) | Resolve(agent_id=agent) if state.agent_may_write(agent):
            return replace(state, owner=Owner.BOT, agent_id=None, ticket_id=None)
        case Transfer(from_agent=source, to_agent=target) if state.agent_may_write(source):
            if target == source:
                raise IllegalTransition("cannot transfer a conversation to its own agent")
            return replace(state, agent_id=target)
        case AgentGraceExpired(agent_id=agent) if state.agent_may_write(agent):
            return replace(state, owner=Owner.QUEUED, agent_id=None)
    raise IllegalTransition(_why_illegal(state, event))


def _why_illegal(state: Ownership, event: Event) -> str:
    name = type(event).__name__
    agent = getattr(event, "agent_id", getattr(event, "from_agent", None))
    if state.owner is Owner.AGENT and agent is not None and agent != state.agent_id:
        return f"{name}: agent {agent} does not own this conversation"
    return f"{name} is not allowed while the conversation is owned by {state.owner}"
