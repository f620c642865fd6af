"""Claiming is atomic: of agents racing in separate sessions and threads, one wins."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from handoff import AlreadyClaimed, ConcurrentUpdate, Handoff, Owner, Ticket
from handoff.models import AgentPresence, ConversationOwner
from tests.handoff.conftest import new_conversation

RACERS = 8


def _race(
    sessions: sessionmaker[Session], attempt, racers: int = RACERS  # type: ignore[no-untyped-def]
) -> list[object]:
    """Run ``attempt(session, racer)`` in ``racers`` threads released at once; results
    (or exceptions) by racer."""
    start = threading.Barrier(racers)
    results: list[object] = [None] * racers

    def run(racer: int) -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                results[racer] = attempt(session, racer)
        except Exception as error:  # noqa: BLE001 - collected and asserted on
            results[racer] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a claim hung"
    return results


def test_exactly_one_of_eight_agents_claims(
    engine: Engine, sessions: sessionmaker[Session], handoff: Handoff
) -> None:
    conversation = new_conversation()
    with sessions.begin() as session:
        ticket_id = handoff.escalate(session, conversation, "web", "customer_request").id

    results = _race(sessions, lambda s, racer: handoff.claim(s, ticket_id, 100 + racer))

    winners = [r for r in results if isinstance(r, Ticket)]
    losers = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(winners) == 1, results
    assert len(losers) == RACERS - 1, results
    with sessions() as session:
        state = handoff.owner_of(session, conversation)
        stored = handoff.get_ticket(session, ticket_id)
        assert state.owner is Owner.AGENT and state.agent_id == winners[0].assignee_id
        assert stored.assignee_id == winners[0].assignee_id
        claims = [e for e in handoff.events(session, ticket_id) if e.kind == "claimed"]
        assert len(claims) == 1


def test_claim_next_hands_each_ticket_to_one_agent(
    engine: Engine, sessions: sessionmaker[Session], handoff: Handoff
) -> None:
    """Five tickets, eight agents picking the head of the queue at once (SKIP LOCKED on
    PostgreSQL): every ticket goes to exactly one agent, no agent gets two."""
    with sessions.begin() as session:
        for _ in range(5):
            handoff.escalate(session, new_conversation(), "web", "customer_request")

    results = _race(sessions, lambda s, racer: handoff.claim_next(s, 200 + racer))

    assert not [r for r in results if isinstance(r, Exception)], results
    won = [r for r in results if isinstance(r, Ticket)]
    assert Counter(t.id for t in won).most_common(1)[0][1] == 1, "a ticket claimed twice"
    assert len(won) == 5 and results.count(None) == RACERS - 5
    with sessions() as session:
        assert handoff.queue(session) == []
        stored = {t.id: t.assignee_id for t in session.scalars(select(Ticket))}
    assert stored == {t.id: t.assignee_id for t in won}


def test_stale_writer_gets_concurrent_update_not_a_lost_update(
    engine: Engine, sessions: sessionmaker[Session], handoff: Handoff
) -> None:
    """Two requests read the same queued conversation; the first cancels it, the second
    (acting on what it read earlier) is refused instead of overwriting."""
    conversation = new_conversation()
    with sessions.begin() as session:
        ticket_id = handoff.escalate(session, conversation, "web", "customer_request").id
    with sessions() as first, sessions() as second:
        # `second` loads both rows and keeps them (the identity map holds unmodified
        # objects only weakly): it now acts on what it read before `first` commits.
        read_before = (second.get(ConversationOwner, conversation),
                       handoff.get_ticket(second, ticket_id))
        handoff.cancel_by_customer(first, conversation)
        first.commit()
        with pytest.raises(ConcurrentUpdate):
            handoff.cancel_by_customer(second, conversation)
        second.rollback()
        assert read_before[0] is not None
    with sessions() as session:
        events = [e.kind for e in handoff.events(session, ticket_id)]
        assert events.count("abandoned") == 1


def test_first_signs_of_life_at_once_make_one_presence_row(
    sessions: sessionmaker[Session], handoff: Handoff, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing in and the console socket both set an agent online, often in the same
    instant. Every racer reads "no presence row yet" before any of them writes."""
    read_all = threading.Barrier(RACERS)
    seen = threading.local()
    original_get = Session.get

    def get_then_wait(self: Session, entity: object, ident: object, **kwargs: object) -> object:
        found = original_get(self, entity, ident, **kwargs)  # type: ignore[arg-type]
        if entity is AgentPresence and not getattr(seen, "waited", False):
            seen.waited = True
            read_all.wait(timeout=30)
        return found

    monkeypatch.setattr(Session, "get", get_then_wait)
    results = _race(sessions, lambda s, racer: handoff.set_presence(s, 4242, "online" if racer % 2 else "away").agent_id)
    assert results == [4242] * RACERS  # nobody failed on the agent's key
    monkeypatch.undo()
    with sessions() as session:
        rows = list(session.scalars(select(AgentPresence).where(AgentPresence.agent_id == 4242)))
        assert len(rows) == 1 and rows[0].status in ("online", "away")
