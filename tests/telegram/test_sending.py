"""Sending to chats: long texts, Telegram's limits, flood control, blocked customers,
and messages pushed outside a turn (agents, queue updates) through ``deliver``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.transcript.store import OutboundDraft
from tests.telegram.harness import (
    LONG_ANSWER,
    StoreWithoutConversationLookup,
    TelegramGateway,
    running_telegram_gateway,
)

CHAT = 7171


async def ask(gw: TelegramGateway, text: str, chat: int = CHAT) -> None:
    assert (await gw.api.post_to_webhook(gw.api.text_update(chat, text))).status_code == 200


async def push(gw: TelegramGateway, chat: int, text: str, author: str = "agent") -> None:
    """What the escalation work will do: store a message, then deliver it."""
    conversation_id = await gw.conversation_of(chat)
    stored = await gw.store.record_outbound(conversation_id, "telegram", [OutboundDraft(text, author=author)])
    await gw.channel.deliver(conversation_id, stored)


async def test_a_long_answer_is_split_paced_and_keeps_its_buttons_last(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(
        tmp_path, database_url, mode="webhook", per_chat_interval_seconds=0.25
    ) as gw:
        await ask(gw, "long answer")
        await gw.settle()
        sent = gw.api.sent(CHAT)
        assert len(sent) == 4 and all(c.status == 200 for c in gw.api.calls_to("sendMessage", None))
        assert all(len(c.params["text"]) <= 4096 for c in sent)
        assert "\n\n".join(c.params["text"] for c in sent) == LONG_ANSWER  # cut between paragraphs
        assert [bool(c.params.get("reply_markup")) for c in sent] == [False, False, False, True]
        # One chat gets at most one message per interval.
        gaps = [b.at - a.at for a, b in zip(sent, sent[1:])]
        # Arrival times at the fake API jitter under load (one late request shortens the
        # next gap), so check pacing clearly happened rather than to the millisecond.
        assert min(gaps) >= 0.15 and sent[-1].at - sent[0].at >= 0.7, gaps
        # The transcript keeps the answer whole.
        assert (await gw.history(CHAT))[-1].text == LONG_ANSWER


async def test_flood_control_waits_retry_after_and_delivers_once_in_order(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        gw.api.flood_next("sendMessage", retry_after=1)
        await ask(gw, "first")
        await ask(gw, "second")
        await gw.settle()
        attempts = gw.api.calls_to("sendMessage", status=None)
        assert [c.status for c in attempts] == [429, 200, 200]
        assert attempts[1].at - attempts[0].at >= 0.95  # retry_after honoured
        assert attempts[0].params["text"] == attempts[1].params["text"] == "echo: first"
        assert gw.api.sent_texts(CHAT) == ["echo: first", "echo: second"]


async def test_a_customer_who_blocked_the_bot_is_not_sent_to_until_they_write_again(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.telegram")
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        await ask(gw, "hello")
        await gw.settle()
        gw.api.block(CHAT)
        await push(gw, CHAT, "An agent will be with you shortly.")
        await push(gw, CHAT, "You are number 2 in the queue.")
        await ask(gw, "other customer", chat=CHAT + 1)
        await gw.settle()
        refused = [c for c in gw.api.calls_to("sendMessage", status=403) if c.params["chat_id"] == CHAT]
        assert len(refused) == 1  # no retry, and the second push was not even tried
        assert gw.api.sent_texts(CHAT + 1) == ["echo: other customer"]  # others unaffected
        # Unblocking shows up as the customer writing again.
        gw.api.blocked_chats.discard(CHAT)
        await ask(gw, "I'm back")
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: hello", "echo: I'm back"]
        # The transcript does not claim the customer got what never reached them.
        statuses = {m.text: m.status for m in await gw.history(CHAT) if m.direction == "out"}
        assert statuses == {
            "echo: hello": "sent", "An agent will be with you shortly.": "undelivered",
            "You are number 2 in the queue.": "undelivered", "echo: I'm back": "sent",
        }
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "blocked the bot" in logged
    for private in ("hello", "An agent will", "I'm back", "Customer"):
        assert private not in logged  # ids and kinds only, never texts or names


async def test_a_block_announced_by_telegram_stops_sending_and_an_unblock_resumes(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        await ask(gw, "hello")
        await gw.settle()
        assert (await gw.api.post_to_webhook(gw.api.membership_update(CHAT, "kicked"))).status_code == 200
        await push(gw, CHAT, "Are you still there?")
        await gw.settle()
        assert len(gw.api.calls_to("sendMessage", status=None)) == 1  # not even tried
        assert (await gw.api.post_to_webhook(gw.api.membership_update(CHAT, "member"))).status_code == 200
        await push(gw, CHAT, "Welcome back.")
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: hello", "Welcome back."]
        statuses = [(m.text, m.status) for m in await gw.history(CHAT) if m.author == "agent"]
        assert statuses == [("Are you still there?", "undelivered"), ("Welcome back.", "sent")]


async def test_a_refused_message_is_marked_undelivered_and_the_rest_of_the_batch_waits(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        await ask(gw, "hello")
        await gw.settle()
        gw.api.refused_texts.add("Second.")
        conversation_id = await gw.conversation_of(CHAT)
        drafts = [OutboundDraft(text, author="agent") for text in ("First.", "Second.", "Third.")]
        stored = await gw.store.record_outbound(conversation_id, "telegram", drafts)
        await gw.channel.deliver(conversation_id, stored)
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: hello", "First."]  # order kept: nothing after a gap
        rows = await gw.store.messages([m.id for m in stored])
        assert [(m.text, m.status) for m in rows] == [
            ("First.", "sent"), ("Second.", "undelivered"), ("Third.", "undelivered"),
        ]


async def test_messages_reach_a_chat_that_has_not_written_since_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        await ask(gw, "buttons")
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the offer")
        offer_message_id = gw.api.sent(CHAT)[0].message_id
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        await push(gw, CHAT, "Hi, I'm Kim from support.")
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["Hi, I'm Kim from support."]
        # A keyboard sent before the restart still works: presses resolve from the transcript.
        gw.api._messages[(CHAT, offer_message_id)] = {
            "message_id": offer_message_id, "date": 0, "chat": gw.api.private_chat(CHAT), "text": "echo: buttons",
        }
        press = gw.api.press(CHAT, offer_message_id, "/affirm")
        assert (await gw.api.post_to_webhook(press)).status_code == 200
        await gw.settle()
        assert gw.api.sent_texts(CHAT)[-1] == "echo: /affirm"


async def test_without_the_store_lookup_unknown_chats_are_skipped_not_crashed(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        await ask(gw, "hello")
        await gw.settle()
    async with running_telegram_gateway(
        tmp_path, database_url, mode="webhook", store_class=StoreWithoutConversationLookup
    ) as gw:
        await push(gw, CHAT, "Hi, I'm Kim from support.")
        await gw.settle()
        assert not gw.api.sent(CHAT)
        assert "no Telegram chat known" in caplog.text
        assert (await gw.history(CHAT))[-1].status == "undelivered"
        await ask(gw, "again")  # writing makes the chat known again
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: again"], (gw.api.summary(), caplog.text)


async def test_a_conversation_of_another_channel_is_never_sent_to_telegram(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        web_conversation = "ab" * 16
        await gw.store.ensure_conversation(web_conversation, "web")
        stored = await gw.store.record_outbound(web_conversation, "web", [OutboundDraft("for the web")])
        await gw.channel.deliver(web_conversation, stored)
        await gw.channel.deliver("no-such-conversation", stored)
        await gw.settle()
        assert not gw.api.calls_to("sendMessage", status=None)
