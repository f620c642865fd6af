"""Long-polling mode end to end: fake Bot API -> python-telegram-bot -> pipeline -> chat."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import OperationalError

from bot.channels.telegram import notices
from bot.channels.telegram.handlers.start_command import GREETING_PAYLOAD
from bot.transcript.store import TranscriptStore
from tests.telegram.harness import running_telegram_gateway

CHAT = 4242


async def test_a_question_is_stored_answered_and_the_offset_confirms_it(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        update = gw.api.queue_update(gw.api.text_update(CHAT, "Where is my order?"))
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the answer")
        conversation_id = await gw.conversation_of(CHAT)
        # A new getUpdates carries the next offset: Telegram may now forget the update.
        await gw.api.wait_for(
            lambda: update["update_id"] + 1 in gw.api.polled_offsets(), what="the confirming offset"
        )
        assert gw.api.calls_to("deleteWebhook") and gw.api.webhook is None
        (reply,) = gw.api.sent(CHAT)
        assert reply.params["text"] == "echo: Where is my order?"
        assert "parse_mode" not in reply.params  # plain text: nothing to escape
        history = await gw.history(CHAT)
    assert [(m.direction, m.text) for m in history] == [
        ("in", "Where is my order?"),
        ("out", "echo: Where is my order?"),
    ]
    inbound = history[0]
    assert inbound.channel == "telegram" and inbound.status == "answered"
    assert inbound.client_message_id == f"tg-msg-{update['message']['message_id']}"
    assert gw.rasa.calls[0]["sender"] == conversation_id  # the chat id never reaches Rasa


async def test_a_chat_is_one_conversation_and_answers_keep_its_order(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        for text in ("slow:0.4 first", "second", "third"):
            gw.api.queue_update(gw.api.text_update(CHAT, text))
        gw.api.queue_update(gw.api.text_update(CHAT + 1, "another customer"))
        await gw.api.wait_for(lambda: len(gw.api.sent_texts(CHAT)) == 3, what="three answers")
        assert gw.api.sent_texts(CHAT) == ["echo: slow:0.4 first", "echo: second", "echo: third"]
        await gw.api.wait_for(lambda: gw.api.sent(CHAT + 1), what="the other chat's answer")
        first, other = await gw.conversation_of(CHAT), await gw.conversation_of(CHAT + 1)
        assert first != other
        assert [m.text for m in await gw.inbound(CHAT)] == ["slow:0.4 first", "second", "third"]


async def test_start_greets_through_the_pipeline(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        gw.api.queue_update(gw.api.text_update(CHAT, "/start"))
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the greeting")
        assert [m.text for m in await gw.inbound(CHAT)] == [GREETING_PAYLOAD]
        assert gw.rasa.calls[0]["message"] == GREETING_PAYLOAD


class StoreDownOnce(TranscriptStore):
    """The database fails the first insert of a customer message, then recovers."""

    failures_left = 1

    async def record_inbound(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.failures_left:
            self.failures_left -= 1
            raise OperationalError("INSERT INTO messages ...", {}, ConnectionError("database is down"))
        return await super().record_inbound(*args, **kwargs)


async def test_an_update_not_stored_is_fetched_again_and_answered_once(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, store_class=StoreDownOnce) as gw:
        update = gw.api.queue_update(gw.api.text_update(CHAT, "Is my parcel lost?"))
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), timeout=10, what="the answer after the outage")
        await gw.settle()
        uid = update["update_id"]
        await gw.api.wait_for(lambda: uid + 1 in gw.api.polled_offsets(), what="the confirming offset")
        # The offset stayed at the failed update (so Telegram kept it) until it was stored.
        assert [o for o in gw.api.polled_offsets() if o is not None][:2] == [uid, uid + 1]
        assert gw.api.sent_texts(CHAT) == ["echo: Is my parcel lost?"]
        assert len(await gw.inbound(CHAT)) == 1


async def test_a_redelivered_update_after_a_restart_is_answered_once(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        update = gw.api.text_update(CHAT, "How do returns work?")
        gw.api.queue_update(update)
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the first answer")
    # The new process gets the same update again (e.g. it was never confirmed).
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        gw.api.queue_update(update)
        gw.api.queue_update(gw.api.text_update(CHAT, "thanks"))
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the answer to the new message")
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: thanks"]
        assert [m.text for m in await gw.inbound(CHAT)] == ["How do returns work?", "thanks"]


async def test_messages_without_text_get_a_polite_notice_and_nothing_breaks(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url) as gw:
        api = gw.api
        api.queue_update(api.sticker_update(CHAT))
        api.queue_update(api.photo_update(CHAT, caption="see the damage"))
        api.queue_update(api.edited_update(CHAT, "Where is my order??"))
        api.queue_update(api.channel_post_update(-100123, "news"))
        api.queue_update(api.group_text_update(-555, CHAT, "hello bot"))
        api.queue_update(api.text_update(CHAT, "x" * 4001))
        api.queue_update(api.text_update(CHAT, "still there?"))
        await api.wait_for(lambda: len(api.sent(CHAT)) == 5, what="four notices and an answer")
        await gw.settle()
        too_long = notices.too_long(4001, 4000)
        assert api.sent_texts(CHAT) == [
            notices.TEXT_ONLY, notices.TEXT_ONLY, notices.EDITS_NOT_READ, too_long, "echo: still there?"
        ]
        assert not api.sent(-555) and not api.sent(-100123)  # groups and channels: ignored
        assert [m.text for m in await gw.inbound(CHAT)] == ["still there?"]
        assert [c["message"] for c in gw.rasa.calls] == ["still there?"]
