"""One conversation with the real Rasa and action server behind the Telegram channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.feedback import THANKS_FOR_FEEDBACK
from bot.secrets import rasa_token
from tests.stack_harness import Stack
from tests.telegram.harness import running_telegram_gateway

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CHAT = 8181


async def test_an_faq_answer_with_feedback_buttons_on_telegram(stack: Stack, tmp_path: Path) -> None:
    real_rasa = (stack.settings.effective_rasa_url, rasa_token(stack.settings))
    async with running_telegram_gateway(
        tmp_path, stack.settings.sqlalchemy_url, mode="webhook", real_rasa=real_rasa
    ) as gw:
        update = gw.api.text_update(CHAT, "How can I cancel an order I placed yesterday?")
        assert (await gw.api.post_to_webhook(update)).status_code == 200
        answer = await gw.api.wait_for(lambda: next(iter(gw.api.sent(CHAT)), None), timeout=60, what="the answer")
        assert "cancel" in answer.params["text"].lower()
        inbound, stored_answer = (await gw.history(CHAT))[:2]
        assert inbound.status == "answered" and inbound.intent is not None
        assert stored_answer.faq_trail is not None and stored_answer.faq_trail["rule"] == "answer"
        # "Did this help?": the real payloads fit Telegram's callback data, digested or not.
        keyboard = answer.params["reply_markup"]["inline_keyboard"]
        titles = [row[0]["text"] for row in keyboard]
        assert any("Helpful" in t for t in titles), titles
        helpful = next(row[0] for row in keyboard if "Helpful" in row[0]["text"] and "Not" not in row[0]["text"])
        press = gw.api.press(CHAT, answer.message_id, helpful["callback_data"])
        assert (await gw.api.post_to_webhook(press)).status_code == 200
        await gw.api.wait_for(lambda: len(gw.api.sent(CHAT)) >= 2, timeout=60, what="the reply to the press")
        await gw.settle()
        assert gw.api.calls_to("answerCallbackQuery")
        pressed = (await gw.inbound(CHAT))[-1]
        assert pressed.text.startswith("/feedback") and pressed.status == "answered"
        assert gw.api.sent_texts(CHAT)[1] == THANKS_FOR_FEEDBACK
