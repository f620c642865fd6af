import asyncio

from bot.transcript.store import OutboundDraft, TranscriptStore


async def test_inbound_then_outbound_are_stored_in_order(store: TranscriptStore) -> None:
    await store.ensure_conversation("c" * 32, "web")
    first = await store.record_inbound("c" * 32, "web", "hello <b>there</b>", "m1")
    assert not first.duplicate and first.message.status == "received"
    trail = {"rule": "answer", "faq_id": "orders.cancel", "score": 0.83}
    replies = await store.record_outbound(
        "c" * 32, "web", [OutboundDraft(text="Hi!", faq_trail=trail)], reply_to_id=first.message.id
    )
    await store.complete_inbound(
        first.message.id, status="answered", intent="greet", intent_confidence=0.97, latency_ms=12.5
    )
    history = await store.history("c" * 32)
    assert [m.text for m in history] == ["hello <b>there</b>", "Hi!"]
    assert history[0].intent == "greet" and history[0].status == "answered"
    assert history[1].faq_trail == trail and history[1].reply_to_id == first.message.id
    assert await store.replies_to(first.message.id) == replies


async def test_same_client_id_is_stored_once(store: TranscriptStore) -> None:
    await store.ensure_conversation("d" * 32, "web")
    first = await store.record_inbound("d" * 32, "web", "where is my parcel", "same")
    again = await store.record_inbound("d" * 32, "web", "where is my parcel", "same")
    assert again.duplicate and again.message.id == first.message.id
    assert len(await store.history("d" * 32)) == 1


async def test_concurrent_duplicates_race_to_one_row(store: TranscriptStore) -> None:
    await store.ensure_conversation("e" * 32, "web")
    results = await asyncio.gather(
        *(store.record_inbound("e" * 32, "web", "refund?", "race") for _ in range(8))
    )
    assert sum(not r.duplicate for r in results) == 1
    assert len({r.message.id for r in results}) == 1
    assert len(await store.history("e" * 32)) == 1


async def test_client_ids_are_per_conversation(store: TranscriptStore) -> None:
    for cid in ("f" * 32, "a" * 32):
        await store.ensure_conversation(cid, "web")
        result = await store.record_inbound(cid, "web", "hi", "m1")
        assert not result.duplicate


async def test_external_ids_map_to_one_conversation(store: TranscriptStore) -> None:
    first = await store.open_conversation("telegram", "12345")
    again = await store.open_conversation("telegram", "12345")
    other = await store.open_conversation("telegram", "999")
    assert first == again != other
