"""Webhook mode end to end: the fake Telegram POSTs updates to the gateway's route."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.channels.telegram import WEBHOOK_PATH, notices
from bot.channels.telegram.handlers import ALLOWED_UPDATES
from bot.transcript.store import TranscriptStore
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import WEBHOOK_SECRET, running_telegram_gateway
from tests.telegram.test_polling import StoreDownOnce

CHAT = 5151


async def test_start_sets_the_webhook_and_a_question_is_answered(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        assert gw.api.webhook is not None
        assert gw.api.webhook["url"] == gw.url + WEBHOOK_PATH
        assert gw.api.webhook["secret_token"] == WEBHOOK_SECRET
        assert gw.api.webhook["allowed_updates"] == ALLOWED_UPDATES
        response = await gw.api.post_to_webhook(gw.api.text_update(CHAT, "Do you ship abroad?"))
        assert response.status_code == 200
        # Acknowledged only once stored: the message is in the transcript already.
        assert [m.text for m in await gw.inbound(CHAT)] == ["Do you ship abroad?"]
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the answer")
        assert gw.api.sent_texts(CHAT) == ["echo: Do you ship abroad?"]
        assert not gw.api.calls_to("getUpdates", status=None)  # webhook mode never polls


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        update = gw.api.text_update(CHAT, "let me in")
        for secret in ("wrong-secret", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET + "x", ""):
            response = await gw.api.post_to_webhook(update, secret=secret)
            assert response.status_code == 403, secret
            assert response.json()["error"] == "wrong secret token"
        async with httpx.AsyncClient() as client:  # no header at all
            response = await client.post(gw.url + WEBHOOK_PATH, json=update)
        assert response.status_code == 403
        await gw.settle()
        assert await gw.inbound(CHAT) == [] and not gw.rasa.calls and not gw.api.sent(CHAT)
        # The right secret, same update: accepted.
        assert (await gw.api.post_to_webhook(update)).status_code == 200
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the answer")


async def test_malformed_bodies_get_400_with_a_reason(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        message = gw.api.text_update(CHAT, "hi")["message"]
        cases = {
            b"not json at all": "body is not JSON",
            b'["a list"]': "an update is a JSON object",
            json.dumps({"message": message}).encode(): "update_id must be an integer",
            json.dumps({"update_id": "7", "message": message}).encode(): "update_id must be an integer",
            json.dumps({"update_id": True}).encode(): "update_id must be an integer",
            json.dumps({"update_id": 7, "message": "hi"}).encode(): "not a Telegram update",
            json.dumps({"update_id": 8, "message": {"text": "no chat"}}).encode(): "not a Telegram update",
        }
        for body, reason in cases.items():
            response = await gw.api.post_to_webhook(None, raw=body)
            assert response.status_code == 400, body
            assert reason in response.json()["error"], (body, response.json())
        huge = json.dumps({"update_id": 10, "padding": "x" * 1_100_000}).encode()
        assert (await gw.api.post_to_webhook(None, raw=huge)).status_code == 413
        # An update of a kind we do not handle is fine: 200 and ignored.
        assert (await gw.api.post_to_webhook({"update_id": 9})).status_code == 200
        assert (await gw.api.post_to_webhook(gw.api.channel_post_update(-100, "news"))).status_code == 200
        assert (await gw.api.post_to_webhook(gw.api.text_update(CHAT, "ok?"))).status_code == 200
        await gw.api.wait_for(lambda: gw.api.sent(CHAT), what="the answer after the bad bodies")
        assert gw.api.sent_texts(CHAT) == ["echo: ok?"]


async def test_a_duplicate_update_is_answered_once(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        update = gw.api.text_update(CHAT, "Where is my refund?")
        # Telegram re-delivers when it misses our 200; copies may even overlap.
        statuses = await asyncio.gather(*(gw.api.post_to_webhook(update) for _ in range(3)))
        assert [r.status_code for r in statuses] == [200, 200, 200]
        assert (await gw.api.post_to_webhook(update)).status_code == 200
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: Where is my refund?"]
        assert len(await gw.inbound(CHAT)) == 1 and len(gw.rasa.calls) == 1


async def test_a_storage_failure_answers_500_and_the_retry_is_answered_once(
    tmp_path: Path, database_url: str
) -> None:
    async with running_telegram_gateway(
        tmp_path, database_url, mode="webhook", store_class=StoreDownOnce
    ) as gw:
        update = gw.api.text_update(CHAT, "Can I change my address?")
        assert (await gw.api.post_to_webhook(update)).status_code == 500  # Telegram retries
        assert await gw.inbound(CHAT) == []
        assert (await gw.api.post_to_webhook(update)).status_code == 200
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == ["echo: Can I change my address?"]


async def test_non_text_updates_through_the_webhook(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook") as gw:
        for update in (gw.api.sticker_update(CHAT), gw.api.edited_update(CHAT, "edited")):
            assert (await gw.api.post_to_webhook(update)).status_code == 200
        await gw.settle()
        assert gw.api.sent_texts(CHAT) == [notices.TEXT_ONLY, notices.EDITS_NOT_READ]
        assert await gw.inbound(CHAT) == []


async def test_the_route_is_off_in_polling_mode(tmp_path: Path, database_url: str) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="polling") as gw:
        async with httpx.AsyncClient() as client:
            response = await client.post(
                gw.url + WEBHOOK_PATH,
                json=gw.api.text_update(CHAT, "hi"),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
        assert response.status_code == 404
        assert await gw.inbound(CHAT) == []


async def test_telegram_unreachable_at_start_does_not_block_the_gateway(
    tmp_path: Path, database_url: str
) -> None:
    api = FakeBotApi()
    api.flood_next("getMe", retry_after=1)  # the first connection attempt is refused
    async with running_telegram_gateway(
        tmp_path, database_url, mode="webhook", api=api, wait_ready=False
    ) as gw:
        assert not gw.channel.ready
        await api.wait_for(lambda: api.calls_to("getMe", status=429), what="the refused getMe")
        async with httpx.AsyncClient() as client:
            early = await client.post(
                gw.url + WEBHOOK_PATH, json=api.text_update(CHAT, "hi"),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
        assert early.status_code == 503  # Telegram will deliver it again
        assert await gw.channel.wait_ready(5)
        await api.wait_for(lambda: api.webhook is not None, what="setWebhook after the retry")


class BuggyStore(TranscriptStore):
    """Fails on customer messages the way a bug would (not a database outage)."""

    async def record_inbound(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyError("a bug")


async def test_a_handler_bug_is_logged_and_acknowledged_so_telegram_does_not_retry_it(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_telegram_gateway(tmp_path, database_url, mode="webhook", store_class=BuggyStore) as gw:
        response = await gw.api.post_to_webhook(gw.api.text_update(CHAT, "secret order 123"))
        assert response.status_code == 200
    failures = [r for r in caplog.records if r.levelname == "ERROR" and "not processed" in r.getMessage()]
    assert failures and "KeyError" in failures[0].getMessage()
    assert "secret order 123" not in caplog.text
