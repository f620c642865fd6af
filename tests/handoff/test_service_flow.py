"""The main path through the service on real databases: escalate, queue, claim, talk,
hand back / resolve, and the errors the gateway maps to 403 / 404 / 409."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from handoff import (
    AlreadyClaimed,
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


def test_no_row_means_the_bot_owns(session: Session, handoff: Handoff) -> None:
    state = handoff.owner_of(session, new_conversation())
    assert state.owner is Owner.BOT and state.bot_may_speak
    assert not state.agent_may_write(AGENT)


def test_escalate_queues_with_number_priority_and_due_times(
    session: Session, handoff: Handoff, clock: ManualClock
) -> None:
    conversation = new_conversation()
    ticket = handoff.escalate(
        session, conversation, "web", "complaint",
        summary="My parcel never arrived", details={"order_number": "A-1234"},
    )
    session.commit()
    assert ticket.number == f"HL-{1000 + ticket.id}"
    assert ticket.category == "delivery"  # from the summary's keywords
    assert ticket.priority == 2  # delivery 3, complaint -1
    assert ticket.status == TicketStatus.CLASSIFIED
    assert ticket.first_response_due == clock() + timedelta(minutes=5)
    assert ticket.resolution_due == clock() + timedelta(hours=24)
    state = handoff.owner_of(session, conversation)
    assert state.owner is Owner.QUEUED and state.ticket_id == ticket.id
    assert not state.bot_may_speak
    kinds = [(e.kind, e.actor_kind, e.to_status) for e in handoff.events(session, ticket.id)]
    assert kinds[:2] == [("received", "bot", "received"), ("classified", "system", "classified")]


def test_escalating_again_reuses_the_open_ticket(session: Session, handoff: Handoff) -> None:
    conversation = new_conversation()
    first = handoff.escalate(session, conversation, "web", "customer_request", category="other")
    again = handoff.escalate(session, conversation, "web", "complaint",
                             details={"contact": "a@example.com"})
    session.commit()
    assert again.id == first.id
    assert again.priority == 3  # other 4, complaint -1: more urgent now
    assert again.details == {"contact": "a@example.com"}
    assert [e.kind for e in handoff.events(session, first.id)][-1] == "escalated_again"


def test_unknown_reason_and_category_are_value_errors(session: Session, handoff: Handoff) -> None:
    with pytest.raises(ValueError, match="unknown escalation reason"):
        handoff.escalate(session, new_conversation(), "web", "bored")
    with pytest.raises(ValueError, match="unknown category"):
        handoff.escalate(session, new_conversation(), "web", "complaint", category="cats")
    with pytest.raises(ValueError, match="conversation id"):
        handoff.escalate(session, "not-an-id", "web", "complaint")


def test_claim_reply_and_hand_back(session: Session, handoff: Handoff, clock: ManualClock) -> None:
    conversation = new_conversation()
    ticket = handoff.escalate(session, conversation, "web", "customer_request")
    session.commit()
    assert [q.ticket_id for q in handoff.queue(session)] == [ticket.id]
    assert handoff.record_customer_message(session, conversation).recipient is Recipient.QUEUE

    handoff.claim(session, ticket.id, AGENT)
    session.commit()
    assert handoff.queue(session) == []
    assert handoff.owner_of(session, conversation).agent_may_write(AGENT)
    route = handoff.record_customer_message(session, conversation)
    assert (route.recipient, route.agent_id) == (Recipient.AGENT, AGENT)
    with pytest.raises(NotOwner):
        handoff.record_agent_reply(session, conversation, OTHER)

    clock.advance(minutes=2)
    replied = handoff.record_agent_reply(session, conversation, AGENT)
    session.commit()
    assert replied.first_response_at == clock()
    assert replied.status == TicketStatus.IN_PROGRESS

    done = handoff.hand_back(session, ticket.id, AGENT, note="Answered the question")
    session.commit()
    assert done.status == TicketStatus.RESOLVED and done.resolved_at == clock()
    assert handoff.owner_of(session, conversation).owner is Owner.BOT
    assert handoff.record_customer_message(session, conversation).recipient is Recipient.BOT
    with pytest.raises(NotOwner):
        handoff.record_agent_reply(session, conversation, AGENT)


def test_resolve_recategorises_and_records_who(session: Session, handoff: Handoff) -> None:
    conversation = new_conversation()
    ticket = handoff.escalate(session, conversation, "web", "complaint", category="orders")
    handoff.claim(session, ticket.id, AGENT)
    with pytest.raises(NotOwner):
        handoff.resolve(session, ticket.id, OTHER, "not mine")
    handoff.resolve(session, ticket.id, AGENT, "Refund issued", category="returns_refunds")
    session.commit()
    assert ticket.category == "returns_refunds" and ticket.resolution_note == "Refund issued"
    last = handoff.events(session, ticket.id)[-1]
    assert (last.kind, last.actor_kind, last.actor_id) == ("resolved", "agent", str(AGENT))
    assert last.data == {"category": "returns_refunds", "previous_category": "orders"}
    with pytest.raises(IllegalTransition):
        handoff.resolve(session, ticket.id, AGENT, "twice")


def test_claim_errors(session: Session, handoff: Handoff) -> None:
    ticket = handoff.escalate(session, new_conversation(), "web", "customer_request")
    handoff.claim(session, ticket.id, AGENT)
    session.commit()
    with pytest.raises(AlreadyClaimed, match="another agent"):
        handoff.claim(session, ticket.id, OTHER)
    with pytest.raises(TicketNotFound):
        handoff.claim(session, ticket.id + 1000, OTHER)
