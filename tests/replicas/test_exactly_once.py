"""A turn that ran twice (its replica outlived its lease) stores one answer."""

from __future__ import annotations

import pytest

from bot.transcript.store import AlreadyAnswered, InboundOutcome, OutboundDraft, TranscriptStore


async def test_a_second_answer_to_the_same_message_is_refused_whole(store: TranscriptStore) -> None:
    await store.ensure_conversation("c1", "web")
    message = (await store.record_inbound("c1", "web", "where is my order?", "m1")).message
    assert [m.id for m in await store.unanswered_in("c1")] == [message.id]
    first = await store.record_outbound("c1", "web", [OutboundDraft(text="It ships today.")],
                                        reply_to_id=message.id, outcome=InboundOutcome("answered"))
    with pytest.raises(AlreadyAnswered):
        await store.record_outbound("c1", "web", [OutboundDraft(text="It ships today.")],
                                    reply_to_id=message.id, outcome=InboundOutcome("answered"))
    assert [m.id for m in await store.replies_to(message.id)] == [first[0].id]  # nothing of the second
    assert await store.unanswered_in("c1") == []
