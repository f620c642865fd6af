"""The service against a real SQLite file, driven by random event sequences.

Whatever happens (escalations, claims, replies, transfers, cancellations, disconnects,
time passing), after every step: the bot and an agent never both may speak, every
customer message has exactly one recipient, and the stored tickets agree with the
stored ownership (an open ticket is queued or held by exactly its agent).
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from bot.db import make_session_factory
from handoff import Handoff, HandoffError, HandoffPolicy, ManualClock, Owner, Recipient
from handoff.lifecycle import ASSIGNED_STATUSES, OPEN_STATUSES, QUEUED_STATUSES
from handoff.models import ConversationOwner, Ticket
from tests.handoff.conftest import MONDAY_10, sqlite_engine

CONVERSATIONS = [f"{i:032x}" for i in range(1, 3)]
AGENTS = [1, 2]
REASONS = ["customer_request", "complaint", "repeated_fallback", "negative_feedback",
           "negative_sentiment", "bot_error"]

conversation = st.sampled_from(CONVERSATIONS)
agent = st.sampled_from(AGENTS)


class ServiceMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._directory = tempfile.TemporaryDirectory()
        self.engine = sqlite_engine(Path(self._directory.name) / "machine.db")
        self.sessions = make_session_factory(self.engine)
        self.clock = ManualClock(MONDAY_10)
        self.handoff = Handoff(HandoffPolicy(), self.clock)
        self.bot_replies_while_not_owner = 0

    def teardown(self) -> None:
        self.engine.dispose()
        self._directory.cleanup()

    def _do(self, action) -> object:  # type: ignore[no-untyped-def]
        """Run one action in its own transaction; domain refusals are fine."""
        with self.sessions() as session:
            try:
                result = action(session)
            except (HandoffError, ValueError):
                session.rollback()
                return None
            session.commit()
            return result

    def _ticket_of(self, conversation_id: str) -> int | None:
        with self.sessions() as session:
            return self.handoff.owner_of(session, conversation_id).ticket_id

    def _actor(self, conversation_id: str, agent_id: int, as_owner: bool) -> int:
        """Half the time the owning agent (to get deep), otherwise whoever was drawn."""
        if not as_owner:
            return agent_id
        with self.sessions() as session:
            owner = self.handoff.owner_of(session, conversation_id).agent_id
        return owner if owner is not None else agent_id

    # Events -------------------------------------------------------------------------

    @rule(c=conversation, reason=st.sampled_from(REASONS))
    def escalate(self, c: str, reason: str) -> None:
        self._do(lambda s: self.handoff.escalate(s, c, "web", reason))

    @rule(c=conversation, a=agent)
    def claim(self, c: str, a: int) -> None:
        ticket = self._ticket_of(c)
        if ticket is not None:
            self._do(lambda s: self.handoff.claim(s, ticket, a))

    @rule(a=agent)
    def claim_next(self, a: int) -> None:
        self._do(lambda s: self.handoff.claim_next(s, a))

    @rule(c=conversation, a=agent, as_owner=st.booleans())
    def agent_reply(self, c: str, a: int, as_owner: bool) -> None:
        a = self._actor(c, a, as_owner)
        self._do(lambda s: self.handoff.record_agent_reply(s, c, a))

    @rule(c=conversation, a=agent, as_owner=st.booleans())
    def await_customer(self, c: str, a: int, as_owner: bool) -> None:
        a = self._actor(c, a, as_owner)
        ticket = self._ticket_of(c)
        if ticket is not None:
            self._do(lambda s: self.handoff.await_customer(s, ticket, a))

    @rule(c=conversation)
    def customer_message(self, c: str) -> None:
        with self.sessions() as session:
            before = self.handoff.owner_of(session, c)
            route = self.handoff.record_customer_message(session, c)
            session.commit()
        # Exactly one recipient, and the one the owner dictates.
        expected = {Owner.BOT: Recipient.BOT, Owner.QUEUED: Recipient.QUEUE,
                    Owner.AGENT: Recipient.AGENT}[before.owner]
        assert route.recipient is expected
        assert (route.agent_id is not None) == (route.recipient is Recipient.AGENT)

    @rule(c=conversation)
    def customer_cancels(self, c: str) -> None:
        self._do(lambda s: self.handoff.cancel_by_customer(s, c))

    @rule(c=conversation, a=agent, resolve=st.booleans(), as_owner=st.booleans())
    def finish(self, c: str, a: int, resolve: bool, as_owner: bool) -> None:
        a = self._actor(c, a, as_owner)
        ticket = self._ticket_of(c)
        if ticket is None:
            return
        if resolve:
            self._do(lambda s: self.handoff.resolve(s, ticket, a, "done"))
        else:
            self._do(lambda s: self.handoff.hand_back(s, ticket, a, "over to the bot"))

    @rule(c=conversation, source=agent, to=agent, as_owner=st.booleans())
    def transfer(self, c: str, source: int, to: int, as_owner: bool) -> None:
        source = self._actor(c, source, as_owner)
        ticket = self._ticket_of(c)
        if ticket is not None:
            self._do(lambda s: self.handoff.transfer(s, ticket, source, to))

    @rule(a=agent, status=st.sampled_from(["online", "away", "offline"]))
    def presence(self, a: int, status: str) -> None:
        self._do(lambda s: self.handoff.set_presence(s, a, status))

    @rule(minutes=st.sampled_from([1, 3, 60, 60 * 24 * 8]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    @rule()
    def release_stale(self) -> None:
        self._do(lambda s: self.handoff.release_stale(s))

    @rule()
    def close_resolved(self) -> None:
        self._do(lambda s: self.handoff.close_resolved(s))

    # Invariants ---------------------------------------------------------------------

    @invariant()
    def one_speaker_per_conversation(self) -> None:
        with self.sessions() as session:
            for c in CONVERSATIONS:
                state = self.handoff.owner_of(session, c)
                writers = [a for a in AGENTS if self.handoff.agent_may_write(session, c, a)]
                bot = self.handoff.bot_may_speak(session, c)
                assert not (bot and writers)
                assert len(writers) <= 1
                assert (bot or writers) or state.owner is Owner.QUEUED

    @invariant()
    def tickets_agree_with_ownership(self) -> None:
        with self.sessions() as session:
            owners = {row.conversation_id: row for row in session.scalars(select(ConversationOwner))}
            tickets = list(session.scalars(select(Ticket)))
            open_by_conversation: dict[str, list[Ticket]] = {}
            for ticket in tickets:
                if ticket.status in OPEN_STATUSES:
                    open_by_conversation.setdefault(ticket.conversation_id, []).append(ticket)
            for c in CONVERSATIONS:
                row = owners.get(c)
                opened = open_by_conversation.get(c, [])
                assert len(opened) <= 1, "two open tickets in one conversation"
                if row is None or row.owner == Owner.BOT:
                    assert not opened, "an open ticket nobody watches"
                    continue
                assert opened and opened[0].id == row.ticket_id
                ticket = opened[0]
                if row.owner == Owner.QUEUED:
                    assert ticket.status in QUEUED_STATUSES and ticket.assignee_id is None
                else:
                    assert ticket.status in ASSIGNED_STATUSES
                    assert ticket.assignee_id == row.agent_id is not None

    @invariant()
    def queue_is_exactly_the_queued_conversations(self) -> None:
        with self.sessions() as session:
            queued = {self.handoff.owner_of(session, c).ticket_id for c in CONVERSATIONS
                      if self.handoff.owner_of(session, c).owner is Owner.QUEUED}
            assert {entry.ticket_id for entry in self.handoff.queue(session)} == queued


ServiceMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestServiceMachine = ServiceMachine.TestCase
