"""Bot buttons as inline keyboards; presses answered and fed to the pipeline."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.channels.telegram import notices
from bot.channels.telegram.handlers.button_press import CHOICE_MARK
from tests.telegram.fake_bot_api import ApiCall
from tests.telegram.harness import LONG_PAYLOAD, TelegramGateway, running_telegram_gateway

CHAT = 6161


async def ask_for_buttons(gw: TelegramGateway, text: str, chat: int = CHAT) -> ApiCall:
    """Send ``text`` through the webhook; return the bot's message that has a keyboard."""
    assert (await gw.api.post_to_webhook(gw.api.text_update(chat, text))).status_code == 200
    return await gw.api.wait_for(
        lambda: next((c for c in gw.api.sent(chat) if c.params.get("reply_markup")), None),
        what="a message with buttons",
    )


def keyboard_of(call: ApiCall) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in call.params["reply_markup"]["inline_keyboard"] for b in row]


async def test_a_button_press_is_answered_and_its_payload_answered_by_the_bot(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        offer = await ask_for_buttons(gw, "buttons")
        assert offer.params["text"] == "echo: buttons"
        assert keyboard_of(offer) == [("Yes", "/affirm")]
        message_id = offer.message_id
        press = gw.api.press(CHAT, message_id, "/affirm")
        assert (await gw.api.post_to_webhook(press)).status_code == 200
        await gw.api.wait_for(lambda: len(gw.api.sent(CHAT)) == 2, what="the answer to the press")
        await gw.settle()
        assert gw.api.sent_texts(CHAT)[-1] == "echo: /affirm"
        (answer,) = gw.api.calls_to("answerCallbackQuery")
        assert answer.params["callback_query_id"] == press["callback_query"]["id"]
        # The keyboard is gone and the message shows what was chosen.
        edited = gw.api.message(CHAT, message_id)
        assert "reply_markup" not in edited
        assert edited["text"] == f"echo: buttons{CHOICE_MARK}Yes"
        inbound = await gw.inbound(CHAT)
        assert [m.text for m in inbound] == ["buttons", "/affirm"]
        assert inbound[1].client_message_id == f"tg-press-{message_id}"
        assert gw.rasa.calls[-1]["message"] == "/affirm"


async def test_a_double_tap_is_one_answer(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        offer = await ask_for_buttons(gw, "buttons")
        message_id = offer.message_id
        presses = [gw.api.press(CHAT, message_id, "/affirm") for _ in range(2)]
        responses = await asyncio.gather(*(gw.api.post_to_webhook(p) for p in presses))
        assert [r.status_code for r in responses] == [200, 200]
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: buttons", "echo: /affirm"]
        assert len(gw.api.calls_to("answerCallbackQuery")) == 2  # both spinners stop
        assert [m.text for m in await gw.inbound(CHAT)] == ["buttons", "/affirm"]


async def test_a_payload_over_64_bytes_travels_as_a_digest_and_resolves(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        offer = await ask_for_buttons(gw, "long buttons")
        (title, data), (other_title, other_data) = keyboard_of(offer)
        assert (title, other_title, other_data) == ("Cancel an order", "None of these", "/deny")
        assert data != LONG_PAYLOAD and len(data.encode()) <= 64
        press = gw.api.press(CHAT, offer.message_id, data)
        assert (await gw.api.post_to_webhook(press)).status_code == 200
        await gw.settle()
        assert gw.rasa.calls[-1]["message"] == LONG_PAYLOAD
        assert (await gw.inbound(CHAT))[-1].text == LONG_PAYLOAD


async def test_unknown_or_foreign_callback_data_is_answered_and_goes_no_further(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        offer = await ask_for_buttons(gw, "long buttons")
        digest = keyboard_of(offer)[0][1]
        mine = offer.message_id
        # Another customer, with a bot message of their own, replays this chat's data.
        other = await ask_for_buttons(gw, "buttons", chat=CHAT + 1)
        theirs = other.message_id
        await gw.settle()
        rasa_calls = len(gw.rasa.calls)
        forged = [
            gw.api.press(CHAT, mine, "/request_human"),  # never offered here
            gw.api.press(CHAT, mine, "~AAAAAAAAAAAAAAAAAAAAAA"),
            gw.api.press(CHAT + 1, theirs, digest),  # offered to someone else
        ]
        for press in forged:
            assert (await gw.api.post_to_webhook(press)).status_code == 200
        await gw.settle()
        answers = gw.api.calls_to("answerCallbackQuery")
        assert [a.params.get("text") for a in answers] == [notices.UNKNOWN_BUTTON] * 3
        assert len(gw.rasa.calls) == rasa_calls
        assert len(gw.api.sent(CHAT)) == 1 and len(gw.api.sent(CHAT + 1)) == 1
        assert "reply_markup" in gw.api.message(CHAT, mine)  # the real keyboard stays usable
        assert [m.text for m in await gw.inbound(CHAT)] == ["long buttons"]
