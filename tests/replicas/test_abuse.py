"""The public chat under abuse on one gateway (limits in memory): a flooder is refused
with a notice while another customer is answered; unreadable text is stored replaced."""

from __future__ import annotations

import asyncio

from pathlib import Path

from bot.pipeline import REPLACEMENT_NOTICE
from bot.ratelimit import FLOOD_NOTICE, NEW_CONVERSATIONS_NOTICE
from tests.gateway_harness import ChatClient, running_gateway


async def test_a_flooder_gets_the_notice_and_a_normal_customer_is_still_answered(
    tmp_path: Path, database_url: str
) -> None:
    limits = {"chat_messages_per_conversation": 4, "chat_window_seconds": 30}
    async with running_gateway(tmp_path, database_url, extra_settings=limits) as gateway:
        flooder, normal = ChatClient(), ChatClient()
        await flooder.connect(gateway.url)
        await normal.connect(gateway.url)
        outcomes = [(await flooder.say(f"spam {n}"))["status"] for n in range(8)]
        assert outcomes == ["stored"] * 4 + ["refused"] * 4
        assert (await flooder.next_of("helpline_notice")) == {"type": "rate_limited", "text": FLOOD_NOTICE}
        await normal.say("where is my parcel?")
        assert (await normal.next_of("bot_uttered"))["text"] == "echo: where is my parcel?"
        # The flooder's stored messages are answered in their own queue, which may finish
        # after the normal customer's answer (next_of above also skipped their echoes).
        stored = {f"spam {n}" for n in range(4)}
        for _ in range(100):
            if stored <= {call["message"] for call in gateway.rasa.calls}:
                break
            await asyncio.sleep(0.1)
        answered = {call["message"] for call in gateway.rasa.calls}
        assert {f"spam {n}" for n in range(4)} <= answered and not answered & {f"spam {n}" for n in range(4, 8)}
        await flooder.close()
        await normal.close()


async def test_new_conversations_per_ip_are_limited(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url,
                               extra_settings={"chat_new_conversations_per_ip": 3}) as gateway:
        clients = [ChatClient() for _ in range(4)]
        first = [await client.connect(gateway.url) for client in clients[:3]]
        last = clients[3]
        await last.sio.connect(gateway.url, transports=["websocket"])
        await last.sio.emit("session_request", {"session_id": None})
        assert (await last.next_of("helpline_notice")) == {"type": "rate_limited", "text": NEW_CONVERSATIONS_NOTICE}
        assert last.session_id is None
        # A returning customer (a signed id) is not a new conversation.
        again = ChatClient()
        assert await again.connect(gateway.url, first[0]) == first[0]
        for client in (*clients, again):
            await client.close()


async def test_a_lone_surrogate_is_stored_replaced_and_the_customer_told(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        customer = ChatClient()
        await customer.connect(gateway.url)
        ack = await customer.say("my order \ud800 is late")
        assert ack["status"] == "stored"
        assert (await customer.next_of("helpline_notice")) == {"type": "replaced", "text": REPLACEMENT_NOTICE}
        assert (await customer.next_of("bot_uttered"))["text"] == "echo: my order \ufffd is late"
        await customer.sio.emit("history_request", {})
        history = await customer.next_of("history")
        assert [m["text"] for m in history["messages"]][0] == "my order \ufffd is late"
        await customer.close()


class RecordingApplication:
    """What UpdateIntake needs of python-telegram-bot's Application: handlers run = processed."""

    def __init__(self) -> None:
        self.processed: list[int] = []

    def add_error_handler(self, _: object) -> None:
        pass

    async def process_update(self, update: object) -> None:
        self.processed.append(update.update_id)  # type: ignore[attr-defined]


async def test_a_flooding_telegram_chat_is_refused_and_told_once_while_another_chat_is_served() -> None:
    from telegram import Update

    from bot.channels.telegram.intake import UpdateIntake
    from bot.ratelimit import ChatFloodGuard, ChatLimits, Limit, MemoryWindows, RateLimiter
    from tests.telegram.fake_bot_api import FakeBotApi

    api, application, notices = FakeBotApi(), RecordingApplication(), []
    guard = ChatFloodGuard(RateLimiter(MemoryWindows()), ChatLimits(Limit(3, 30), Limit(0, 30), Limit(0, 60)))
    intake = UpdateIntake(application, guard, lambda chat, text: notices.append((chat, text)))  # type: ignore[arg-type]
    flood = [Update.de_json(api.text_update(1, f"spam {n}"), None) for n in range(6)]
    calm = [Update.de_json(api.text_update(2, f"hello {n}"), None) for n in range(2)]
    for update in flood[:3] + calm[:1] + flood[3:] + calm[1:]:
        await intake.submit(update)
    assert application.processed == [u.update_id for u in flood[:3] + calm]  # the rest neither stored nor answered
    assert notices == [(1, FLOOD_NOTICE)]  # once, not once per refused message
