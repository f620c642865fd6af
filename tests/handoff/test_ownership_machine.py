"""The pure ownership state machine: property-based, plus the transition table."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from handoff.errors import IllegalTransition
from handoff.ownership import (
    AgentClaims,
    AgentGraceExpired,
    CustomerCancels,
    Escalate,
    Event,
    HandBack,
    NoAgent,
    Owner,
    Ownership,
    Recipient,
    Reopen,
    Resolve,
    Transfer,
    transition,
)

AGENTS = st.integers(min_value=1, max_value=4)

EVENTS = st.one_of(
    st.builds(Escalate, st.sampled_from(["complaint", "customer_request"]), st.integers(1, 3)),
    st.builds(Reopen, st.integers(1, 3)),
    st.builds(AgentClaims, AGENTS),
    st.just(CustomerCancels()),
    st.builds(NoAgent, st.booleans()),
    st.builds(HandBack, AGENTS),
    st.builds(Resolve, AGENTS),
    st.builds(Transfer, AGENTS, AGENTS),
    st.builds(AgentGraceExpired, AGENTS),
)


def speakers(state: Ownership) -> set[str]:
    """Everyone who may write into the conversation in this state."""
    who = {"bot"} if state.bot_may_speak else set()
    return who | {f"agent {a}" for a in range(1, 5) if state.agent_may_write(a)}


class OwnershipMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = Ownership()

    @rule(event=EVENTS)
    def apply(self, event: Event) -> None:
        before = self.state
        try:
            self.state = transition(before, event)
        except IllegalTransition as error:
            assert error.reason  # always says why
            assert self.state == before
            return
        # The only moves: the documented edges of the diagram.
        edge = (before.owner, self.state.owner)
        assert edge in {
            (Owner.BOT, Owner.QUEUED), (Owner.QUEUED, Owner.AGENT), (Owner.QUEUED, Owner.BOT),
            (Owner.QUEUED, Owner.QUEUED), (Owner.AGENT, Owner.BOT), (Owner.AGENT, Owner.AGENT),
            (Owner.AGENT, Owner.QUEUED),
        }, edge
        if edge == (Owner.AGENT, Owner.AGENT):  # transfer: someone else now
            assert self.state.agent_id != before.agent_id

    @invariant()
    def never_two_speakers(self) -> None:
        assert len(speakers(self.state)) <= 1
        # ...and exactly one while not queued.
        assert len(speakers(self.state)) == (0 if self.state.owner is Owner.QUEUED else 1)

    @invariant()
    def every_message_has_exactly_one_recipient(self) -> None:
        route = self.state.route()
        expected = {
            Owner.BOT: Recipient.BOT, Owner.QUEUED: Recipient.QUEUE, Owner.AGENT: Recipient.AGENT
        }[self.state.owner]
        assert route.recipient is expected
        if route.recipient is Recipient.AGENT:
            assert self.state.agent_may_write(route.agent_id)  # type: ignore[arg-type]


OwnershipMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=30,
                                              deadline=None)
TestOwnershipMachine = OwnershipMachine.TestCase


QUEUED = Ownership(Owner.QUEUED, ticket_id=1)
WITH_7 = Ownership(Owner.AGENT, agent_id=7, ticket_id=1)


@pytest.mark.parametrize(
    ("state", "event", "expected"),
    [
        (Ownership(), Escalate("complaint", 1), QUEUED),
        (QUEUED, AgentClaims(7), WITH_7),
        (QUEUED, CustomerCancels(), Ownership()),
        (QUEUED, NoAgent(after_hours=True), QUEUED),
        (WITH_7, HandBack(7), Ownership()),
        (WITH_7, Resolve(7), Ownership()),
        (WITH_7, Transfer(7, 8), Ownership(Owner.AGENT, agent_id=8, ticket_id=1)),
        (WITH_7, AgentGraceExpired(7), QUEUED),
        (Ownership(), Reopen(1), QUEUED),
    ],
)
def test_legal_transitions(state: Ownership, event: Event, expected: Ownership) -> None:
    assert transition(state, event) == expected


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (Ownership(), AgentClaims(7)),  # nothing to claim
        (Ownership(), CustomerCancels()),
        (QUEUED, Escalate("complaint", 2)),  # already queued
        (QUEUED, HandBack(7)),
        (WITH_7, AgentClaims(8)),  # already claimed
        (WITH_7, HandBack(8)),  # not their conversation
        (WITH_7, Transfer(8, 9)),
        (WITH_7, Transfer(7, 7)),
        (WITH_7, CustomerCancels()),  # an agent has it: talk to them
        (WITH_7, AgentGraceExpired(8)),
    ],
)
def test_illegal_transitions_raise(state: Ownership, event: Event) -> None:
    with pytest.raises(IllegalTransition):
        transition(state, event)


def test_inconsistent_states_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        Ownership(Owner.AGENT, agent_id=None, ticket_id=1)
    with pytest.raises(ValueError):
        Ownership(Owner.BOT, agent_id=3)
    with pytest.raises(ValueError):
        Ownership(Owner.QUEUED)
