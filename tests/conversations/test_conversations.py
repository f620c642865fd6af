"""Every scripted conversation in tests/conversations/*.yml, through the real stack.

Real Rasa (the trained model), the real action server with the FAQ index, and the real
gateway over socket.io, started once (the session's ``stack`` fixture); each conversation
is a new customer. What is asserted is what the customer sees: the messages, their
buttons, and the ticket the conversation opened. See tests/conversations/README.md.
"""

from __future__ import annotations

import pytest

from tests.conversations.runner import Player, load_conversations
from tests.stack_harness import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

CONVERSATIONS = load_conversations()


def test_the_suite_is_large_enough_and_covers_every_faq_family() -> None:
    from tests.conversations.runner import PROJECT

    assert len(CONVERSATIONS) >= 60
    families = {p.stem for p in (PROJECT / "data" / "faq").glob("*.yml")}
    covered = {
        str(turn["expect"].get(key)).split(".")[0]
        for c in CONVERSATIONS for turn in c.turns
        for key in ("answer", "answer_or_suggest") if key in (turn.get("expect") or {})
    }
    assert families <= covered, f"FAQ families without a conversation: {sorted(families - covered)}"


_players: dict[str, Player] = {}


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c.name for c in CONVERSATIONS])
async def test_conversation(stack: Stack, conversation) -> None:  # type: ignore[no-untyped-def]
    # One player for the module: it paces new conversations under the gateway's per-IP limit.
    player = _players.setdefault(stack.url, Player(stack.url, stack.settings.sqlalchemy_url))
    outcome = await player.play(conversation)
    assert outcome.passed, "\n".join(outcome.failures)
