"""The gateway with the Telegram channel, composed as bot/app.py composes the web one.

Real pieces throughout: uvicorn serving FastAPI with the channel's webhook router, the
transcript on the test database, the pipeline, python-telegram-bot over HTTP to the fake
Bot API, and the scriptable Rasa stand-in of tests/gateway_harness.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.channels.telegram import WEBHOOK_PATH, TelegramChannel, TelegramConfig, build_telegram_channel
from bot.db import make_engine, make_session_factory
from bot.local_stack import free_port
from bot.pipeline import MessagePipeline
from bot.rasa_client import RasaClient
from bot.transcript.store import StoredMessage, TranscriptStore
from tests.gateway_harness import ScriptedRasa
from tests.telegram.fake_bot_api import FakeBotApi

WEBHOOK_SECRET = "test-webhook-secret_0123"

# Seven paragraphs of ~1,500 characters: Telegram takes two per message, so four messages.
LONG_ANSWER = "\n\n".join(f"Paragraph {n}: " + "lorem ipsum " * 124 for n in range(7))
LONG_PAYLOAD = '/faq_select{"faq_id": "orders.cancel-an-order-placed-yesterday-before-it-ships"}'


class StoreWithoutConversationLookup(TranscriptStore):
    """A store as it was before ``TranscriptStore.conversation``: the channel must cope."""

    conversation = None  # type: ignore[assignment]


class TelegramScriptedRasa(ScriptedRasa):
    """ScriptedRasa plus answers only Telegram needs: a long text, long button payloads."""

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        text, sender = body["message"], body["sender"]
        scripted: dict[str, Any] | None = None
        if text == "long answer":
            scripted = {"text": LONG_ANSWER, "buttons": [{"title": "Helpful", "payload": "/affirm"}]}
        elif text == "long buttons":
            scripted = {
                "text": "Did you mean:",
                "buttons": [
                    {"title": "Cancel an order", "payload": LONG_PAYLOAD},
                    {"title": "None of these", "payload": "/deny"},
                ],
            }
        if scripted is None:
            return await super().webhook(request)
        self.calls.append(body)
        return JSONResponse(
            {
                "intent": {"name": "faq", "confidence": 0.9},
                "messages": [{"recipient_id": sender, **scripted}],
                "rasa_ms": 1.0,
            }
        )


@dataclass
class TelegramGateway:
    api: FakeBotApi
    rasa: TelegramScriptedRasa
    store: TranscriptStore
    pipeline: MessagePipeline
    channel: TelegramChannel
    url: str

    async def settle(self) -> None:
        """Every stored message answered and every reply sent (or given up)."""
        await self.pipeline.shutdown()  # drains the queues; they start again on demand
        await self.channel.flush()

    async def conversation_of(self, chat_id: int) -> str:
        return await self.store.open_conversation("telegram", str(chat_id))

    async def history(self, chat_id: int) -> list[StoredMessage]:
        return await self.store.history(await self.conversation_of(chat_id))

    async def inbound(self, chat_id: int) -> list[StoredMessage]:
        return [m for m in await self.history(chat_id) if m.direction == "in"]


def fast_config(**overrides: Any) -> dict[str, Any]:
    """Pacing for tests: the real 1 message/s per chat would make every test slow."""
    values: dict[str, Any] = {"per_chat_interval_seconds": 0.02, "messages_per_second": 500.0}
    values.update(overrides)
    return values


@asynccontextmanager
async def serving(apps: dict[int, Any], before_stop: Callable[[], None] | None = None) -> AsyncIterator[None]:
    """Like tests.gateway_harness.serve, for several apps started and stopped together
    (each uvicorn stop takes a few tenths of a second; in sequence they add up)."""
    servers = [
        uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        for port, app in apps.items()
    ]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    while not all(server.started for server in servers):
        for task in tasks:
            if task.done():
                task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        if before_stop is not None:
            before_stop()
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)


@asynccontextmanager
async def running_telegram_gateway(
    tmp_path: Path,
    database_url: str,
    *,
    mode: str = "polling",
    api: FakeBotApi | None = None,
    rasa: TelegramScriptedRasa | None = None,
    store_class: type[TranscriptStore] = TranscriptStore,
    wait_ready: bool = True,
    real_rasa: tuple[str, str] | None = None,
    **config: Any,
) -> AsyncIterator[TelegramGateway]:
    """``real_rasa`` (URL, token) talks to a running Rasa instead of the scripted one."""
    api = api or FakeBotApi()
    rasa = rasa or TelegramScriptedRasa()
    api_port, rasa_port, gateway_port = free_port(), free_port(), free_port()
    api.url = f"http://127.0.0.1:{api_port}"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    settings = TelegramConfig(
        token=api.token,
        mode=mode,  # type: ignore[arg-type]
        webhook_url=gateway_url + WEBHOOK_PATH,
        webhook_secret=WEBHOOK_SECRET,
        api_url=api.url,
        poll_timeout_seconds=1,
        **fast_config(**config),
    )
    engine = make_engine(database_url)
    store = store_class(make_session_factory(engine))
    rasa_url, rasa_token = real_rasa or (f"http://127.0.0.1:{rasa_port}", "test-token")
    rasa_client = RasaClient(rasa_url, rasa_token, timeout_seconds=30.0 if real_rasa else 5.0)
    pipeline = MessagePipeline(store, rasa_client, {})
    channel = build_telegram_channel(settings, store, pipeline)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await channel.start()
        yield
        await pipeline.shutdown()  # its last answers still go out through the channel
        await channel.stop()

    app = FastAPI(lifespan=lifespan)
    app.include_router(channel.router)
    try:
        async with serving({api_port: api.app(), rasa_port: rasa.app()}, before_stop=api.close):
            async with serving({gateway_port: app}):
                if wait_ready:
                    assert await channel.wait_ready(10), "channel did not connect to the fake API"
                if wait_ready and mode == "webhook":
                    await api.wait_for(lambda: api.webhook is not None, what="setWebhook")
                yield TelegramGateway(api, rasa, store, pipeline, channel, gateway_url)
    finally:
        await rasa_client.aclose()
        engine.dispose()
