"""Ticket lifecycle beyond the main path: waiting on the customer, reopening, leaving
the queue, disconnect grace, transfer, closing, status questions, queue and waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from handoff import (
    AgentUnavailable,
    Handoff,
    IllegalTransition,
    ManualClock,
    NotOwner,
    Owner,
    Recipient,
    TicketNotFound,
    TicketStatus,
)
from tests.handoff.conftest import new_conversation

AGENT, OTHER = 7, 8


def _claimed(session: Session, handoff: Handoff, conversation: str, agent: int = AGENT,
             **escalation: object) -> int:
    ticket = handoff.escalate(session, conversation, "web",
                              str(escalation.pop("reason", "complaint")), **escalation)  # type: ignore[arg-type]
    handoff.claim(session, ticket.id, agent)
    session.commit()
    return ticket.id


def test_waiting_on_customer_until_they_reply(session: Session, handoff: Handoff) -> None:
    conversation = new_conversation()
    ticket_id = _claimed(session, handoff, conversation)
    handoff.record_agent_reply(session, conversation, AGENT)
    ticket = handoff.await_customer(session, ticket_id, AGENT)
    assert ticket.status == TicketStatus.WAITING_ON_CUSTOMER
    route = handoff.record_customer_message(session, conversation)
    session.commit()
    assert route.recipient is Recipient.AGENT and ticket.status == TicketStatus.IN_PROGRESS
    last = handoff.events(session, ticket_id)[-1]
    assert (last.kind, last.actor_kind, last.actor_id) == ("customer_replied", "customer",
                                                           conversation)


class TestReopen:
    def test_escalating_again_within_the_window_reopens(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        conversation = new_conversation()
        ticket_id = _claimed(session, handoff, conversation, category="orders")
        handoff.record_agent_reply(session, conversation, AGENT)
        handoff.resolve(session, ticket_id, AGENT, "Replacement sent")
        session.commit()
        # Talking to the bot afterwards does not reopen anything.
        clock.advance(days=2)
        assert handoff.record_customer_message(session, conversation).recipient is Recipient.BOT
        assert handoff.get_ticket(session, ticket_id).status == TicketStatus.RESOLVED

        reopened = handoff.escalate(session, conversation, "web", "negative_feedback")
        session.commit()
        assert reopened.id == ticket_id
        assert reopened.status == TicketStatus.REOPENED and reopened.reopen_count == 1
        assert reopened.assignee_id is None and reopened.previous_assignee_id == AGENT
        assert reopened.repeat_contact and reopened.priority == 2  # orders 3, repeat -1
        assert reopened.first_response_at is None
        assert reopened.first_response_due == clock() + timedelta(minutes=5)
        assert handoff.owner_of(session, conversation).owner is Owner.QUEUED
        assert [e.ticket_id for e in handoff.queue(session)] == [ticket_id]
        assert handoff.queue(session)[0].previous_assignee_id == AGENT

    def test_after_the_window_a_new_ticket(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        conversation = new_conversation()
        first = _claimed(session, handoff, conversation)
        handoff.hand_back(session, first, AGENT, "done")
        session.commit()
        clock.advance(days=7, seconds=1)
        assert handoff.close_resolved(session) == 1
        second = handoff.escalate(session, conversation, "web", "complaint")
        session.commit()
        assert second.id != first
        assert handoff.get_ticket(session, first).status == TicketStatus.CLOSED
        assert not second.repeat_contact  # the first was 7 days ago: outside the window too

    @pytest.mark.parametrize(("elapsed", "reopens"), [
        (timedelta(days=7), True), (timedelta(days=7, seconds=1), False)])
    def test_window_boundary_even_before_closing(
        self, session: Session, handoff: Handoff, clock: ManualClock, elapsed: timedelta,
        reopens: bool,
    ) -> None:
        conversation = new_conversation()
        first = _claimed(session, handoff, conversation)
        handoff.resolve(session, first, AGENT, "done")
        session.commit()
        clock.advance(elapsed)  # close_resolved has not run (yet)
        again = handoff.escalate(session, conversation, "web", "complaint")
        session.commit()
        assert (again.id == first) is reopens
        assert handoff.get_ticket(session, first).status == (
            TicketStatus.REOPENED if reopens else TicketStatus.RESOLVED)

    def test_close_resolved_keeps_recent_ones(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        ticket_id = _claimed(session, handoff, new_conversation())
        handoff.resolve(session, ticket_id, AGENT, "done")
        clock.advance(days=6)
        assert handoff.close_resolved(session) == 0
        assert handoff.close_resolved(session, older_than=timedelta(days=1)) == 1
        session.commit()
        ticket = handoff.get_ticket(session, ticket_id)
        assert (ticket.status, ticket.close_reason) == (TicketStatus.CLOSED, "resolved")


def test_repeat_contact_raises_priority(session: Session, handoff: Handoff,
                                        clock: ManualClock) -> None:
    first = handoff.escalate(session, new_conversation(), "web", "customer_request",
                             category="delivery", customer_key="ann@example.com")
    handoff.cancel_by_customer(session, first.conversation_id)
    clock.advance(days=1)
    second = handoff.escalate(session, new_conversation(), "telegram", "customer_request",
                              category="delivery", customer_key="ann@example.com")
    session.commit()
    assert (first.repeat_contact, first.priority) == (False, 3)
    assert (second.repeat_contact, second.priority) == (True, 2)


class TestLeavingTheQueue:
    def test_cancel_closes_as_abandoned_and_returns_to_the_bot(
        self, session: Session, handoff: Handoff
    ) -> None:
        conversation = new_conversation()
        ticket = handoff.escalate(session, conversation, "web", "customer_request")
        cancelled = handoff.cancel_by_customer(session, conversation)
        session.commit()
        assert cancelled is not None and cancelled.id == ticket.id
        assert (ticket.status, ticket.close_reason) == (TicketStatus.CLOSED, "abandoned")
        assert handoff.owner_of(session, conversation).owner is Owner.BOT
        assert handoff.queue(session) == []
        assert handoff.report(session, ticket.created_at).abandoned == 1
        assert handoff.cancel_by_customer(session, conversation) is None  # nothing left

    def test_cannot_cancel_once_an_agent_has_it(self, session: Session, handoff: Handoff) -> None:
        conversation = new_conversation()
        _claimed(session, handoff, conversation)
        with pytest.raises(IllegalTransition):
            handoff.cancel_by_customer(session, conversation)

    def test_an_abandoned_ticket_cannot_be_claimed(self, session: Session,
                                                   handoff: Handoff) -> None:
        conversation = new_conversation()
        ticket = handoff.escalate(session, conversation, "web", "customer_request")
        handoff.cancel_by_customer(session, conversation)
        session.commit()
        with pytest.raises(Exception, match="no longer waiting"):
            handoff.claim(session, ticket.id, AGENT)


class TestDisconnectGrace:
    def test_released_after_the_grace_period_only(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        conversation = new_conversation()
        ticket_id = _claimed(session, handoff, conversation)
        handoff.set_presence(session, AGENT, "offline")
        clock.advance(minutes=1, seconds=59)
        assert handoff.release_stale(session) == []
        assert handoff.release_disconnected(session, AGENT) == []
        clock.advance(seconds=1)
        released = handoff.release_stale(session)
        session.commit()
        assert [t.id for t in released] == [ticket_id]
        ticket = released[0]
        assert ticket.status == TicketStatus.CLASSIFIED and ticket.assignee_id is None
        assert ticket.previous_assignee_id == AGENT
        assert handoff.owner_of(session, conversation).owner is Owner.QUEUED
        assert [e.ticket_id for e in handoff.queue(session)] == [ticket_id]
        with pytest.raises(NotOwner):
            handoff.record_agent_reply(session, conversation, AGENT)
        assert handoff.events(session, ticket_id)[-1].kind == "released"

    def test_reconnecting_within_the_grace_keeps_the_conversation(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        conversation = new_conversation()
        _claimed(session, handoff, conversation)
        handoff.set_presence(session, AGENT, "offline")
        clock.advance(minutes=1)
        handoff.set_presence(session, AGENT, "online")
        clock.advance(minutes=10)
        assert handoff.release_stale(session) == []
        assert handoff.agent_may_write(session, conversation, AGENT)

    def test_away_agents_keep_their_conversations(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        _claimed(session, handoff, new_conversation())
        handoff.set_presence(session, AGENT, "away")
        clock.advance(hours=1)
        assert handoff.release_stale(session) == []
        assert handoff.agents_online(session) == []

    def test_gateway_restart_starts_everyones_grace(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        ticket_id = _claimed(session, handoff, new_conversation())
        handoff.set_presence(session, AGENT, "online")
        assert handoff.mark_all_offline(session) == 1
        clock.advance(minutes=3)
        assert [t.id for t in handoff.release_stale(session)] == [ticket_id]

    def test_forced_release(self, session: Session, handoff: Handoff) -> None:
        ticket_id = _claimed(session, handoff, new_conversation())
        handoff.set_presence(session, AGENT, "online")
        assert handoff.release_disconnected(session, AGENT) == []
        assert [t.id for t in handoff.release_disconnected(session, AGENT, force=True)] == [
            ticket_id
        ]


class TestTransfer:
    def test_to_an_online_agent(self, session: Session, handoff: Handoff) -> None:
        conversation = new_conversation()
        ticket_id = _claimed(session, handoff, conversation)
        handoff.set_presence(session, OTHER, "online")
        ticket = handoff.transfer(session, ticket_id, AGENT, OTHER, note="billing expert")
        session.commit()
        assert ticket.assignee_id == OTHER and ticket.previous_assignee_id == AGENT
        assert handoff.agent_may_write(session, conversation, OTHER)
        assert not handoff.agent_may_write(session, conversation, AGENT)
        event = handoff.events(session, ticket_id)[-1]
        assert (event.kind, event.data) == ("transferred", {"from_agent": AGENT,
                                                            "to_agent": OTHER})

    def test_refusals(self, session: Session, handoff: Handoff) -> None:
        ticket_id = _claimed(session, handoff, new_conversation())
        with pytest.raises(AgentUnavailable):
            handoff.transfer(session, ticket_id, AGENT, OTHER)
        handoff.set_presence(session, OTHER, "online")
        with pytest.raises(NotOwner):
            handoff.transfer(session, ticket_id, OTHER, AGENT)
        handoff.set_presence(session, AGENT, "online")
        with pytest.raises(IllegalTransition):
            handoff.transfer(session, ticket_id, AGENT, AGENT)


class TestCustomerQuestions:
    def test_status_of_own_ticket_by_number(self, session: Session, handoff: Handoff) -> None:
        conversation = new_conversation()
        ticket = handoff.escalate(session, conversation, "web", "complaint")
        session.commit()
        for asked in (ticket.number, ticket.number.lower().replace("-", " "),
                      f"#{ticket.id + 1000}", ticket.id):
            view = handoff.ticket_status(session, asked, conversation)
            assert (view.number, view.status, view.position) == (ticket.number,
                                                                 "classified", 1)

    def test_someone_elses_ticket_is_not_found(self, session: Session,
                                               handoff: Handoff) -> None:
        ticket = handoff.escalate(session, new_conversation(), "web", "complaint")
        session.commit()
        with pytest.raises(TicketNotFound):
            handoff.ticket_status(session, ticket.number, new_conversation())
        with pytest.raises(TicketNotFound):
            handoff.ticket_status(session, "HL-99999", ticket.conversation_id)
        with pytest.raises(TicketNotFound):
            handoff.ticket_status(session, "banana", ticket.conversation_id)

    def test_resolution_note_is_reported(self, session: Session, handoff: Handoff) -> None:
        conversation = new_conversation()
        ticket_id = _claimed(session, handoff, conversation)
        handoff.resolve(session, ticket_id, AGENT, "Refund of 20 EUR issued")
        session.commit()
        view = handoff.ticket_status(session, ticket_id, conversation)
        assert (view.status, view.resolution_note, view.position) == (
            "resolved", "Refund of 20 EUR issued", None)


class TestQueue:
    def test_order_is_priority_then_due_time(self, session: Session, handoff: Handoff,
                                             clock: ManualClock) -> None:
        calm = handoff.escalate(session, new_conversation(), "web", "customer_request",
                                category="other")  # 4
        clock.advance(minutes=1)
        early = handoff.escalate(session, new_conversation(), "web", "customer_request",
                                 category="orders")  # 3
        clock.advance(minutes=1)
        urgent = handoff.escalate(session, new_conversation(), "web", "complaint",
                                  category="payment", sentiment=-0.8)  # 2 - 1 - 1 -> 1
        clock.advance(minutes=1)
        later = handoff.escalate(session, new_conversation(), "web", "customer_request",
                                 category="delivery")  # 3
        session.commit()
        assert [e.ticket_id for e in handoff.queue(session)] == [urgent.id, early.id, later.id,
                                                                 calm.id]
        assert urgent.priority == 1
        assert handoff.queue_position(session, later.id)[0] == 3

    def test_expected_wait_from_agents_and_recent_claims(
        self, session: Session, handoff: Handoff, clock: ManualClock
    ) -> None:
        tickets = [handoff.escalate(session, new_conversation(), "web", "customer_request")
                   for _ in range(5)]
        session.commit()
        assert handoff.queue_position(session, tickets[2].id) == (3, None)  # nobody online
        handoff.set_presence(session, 1, "online")
        handoff.set_presence(session, 2, "online")
        # No claims yet: each agent takes one every 5 minutes (the default).
        assert handoff.queue_position(session, tickets[2].id) == (3, timedelta(minutes=7.5))
        # Two agents claim 4 tickets in 20 minutes: one ticket per agent per 10 minutes.
        start = clock()
        for minute, ticket, agent in zip((0, 5, 15, 20), tickets, (1, 2, 1, 2)):
            clock.set(start + timedelta(minutes=minute))
            handoff.claim(session, ticket.id, agent)
        session.commit()
        assert handoff.queue_position(session, tickets[4].id) == (1, timedelta(minutes=5))

    def test_position_of_a_claimed_ticket_is_refused(self, session: Session,
                                                     handoff: Handoff) -> None:
        ticket_id = _claimed(session, handoff, new_conversation())
        with pytest.raises(IllegalTransition):
            handoff.queue_position(session, ticket_id)
        assert handoff.waiting_info(session, ticket_id).position is None

    def test_no_agent_online_is_recorded(self, session: Session, handoff: Handoff) -> None:
        ticket = handoff.escalate(session, new_conversation(), "web", "complaint")
        session.commit()
        assert handoff.events(session, ticket.id)[-1].kind == "no_agent_online"
        handoff.set_presence(session, AGENT, "online")
        other = handoff.escalate(session, new_conversation(), "web", "complaint")
        assert handoff.events(session, other.id)[-1].kind == "classified"


def test_notes_are_internal_and_attributed(session: Session, handoff: Handoff) -> None:
    ticket_id = _claimed(session, handoff, new_conversation())
    note = handoff.add_note(session, ticket_id, OTHER, "  Customer is a reseller  ")
    session.commit()
    assert [(n.agent_id, n.text) for n in handoff.notes(session, ticket_id)] == [
        (OTHER, "Customer is a reseller")]
    assert handoff.events(session, ticket_id)[-1].data == {"note_id": note.id}
    with pytest.raises(ValueError):
        handoff.add_note(session, ticket_id, AGENT, "   ")


def test_every_transition_is_timestamped_and_attributed(
    session: Session, handoff: Handoff, clock: ManualClock
) -> None:
    conversation = new_conversation()
    ticket = handoff.escalate(session, conversation, "web", "customer_request")
    clock.advance(minutes=1)
    handoff.claim(session, ticket.id, AGENT)
    clock.advance(minutes=1)
    handoff.record_agent_reply(session, conversation, AGENT)
    clock.advance(minutes=1)
    handoff.hand_back(session, ticket.id, AGENT, "all good")
    session.commit()
    trail = [(e.kind, e.actor_kind, e.actor_id, e.from_status, e.to_status,
              int((e.at - ticket.created_at).total_seconds() // 60))
             for e in handoff.events(session, ticket.id)]
    assert trail == [
        ("received", "customer", conversation, None, "received", 0),
        ("classified", "system", None, "received", "classified", 0),
        ("no_agent_online", "system", None, None, None, 0),
        ("claimed", "agent", "7", "classified", "assigned", 1),
        ("first_response", "agent", "7", "assigned", "in_progress", 2),
        ("handed_back", "agent", "7", "in_progress", "resolved", 3),
    ]


def test_report_counts_escalations_by_reason(session: Session, handoff: Handoff) -> None:
    start = handoff.now()
    for reason in ("complaint", "complaint", "bot_error"):
        handoff.escalate(session, new_conversation(), "web", reason)
    session.commit()
    report = handoff.report(session, start)
    assert report.escalations["complaint"] == 2 and report.escalations["bot_error"] == 1
    assert report.tickets_created == 3 and report.abandoned == 0
