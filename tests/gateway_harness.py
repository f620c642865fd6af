"""Run the real gateway (uvicorn + socket.io) in-process against a scriptable Rasa.

The stand-in Rasa is a real HTTP server speaking the Helpline channel's wire format
(bot/rasa_channel.py), so the gateway's client, timeouts and error paths are exercised
for real; the full stack with the real Rasa is covered in tests/integration.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

import socketio
import yaml
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import create_app
from bot.local_stack import free_port
from bot.settings import Settings




@dataclass
class ScriptedRasa:
    """Answers "echo: <text>"; a text "slow:<seconds> ..." delays the answer.

    Additions for the CSAT tests: ``intents`` maps exact texts to the intent reported
    (e.g. "bye" -> goodbye; everything else stays "faq"), and a text "question: ..." is
    answered like an FAQ answer (its message carries an ``answer`` faq_trail).
    """

    calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    intents: dict[str, str] = field(default_factory=dict)
    # What the next calls do, one entry per call, before answering normally again:
    # "stall" sleeps ``stall_seconds`` (past the gateway's timeout), "error" answers 500.
    trouble: list[str] = field(default_factory=list)
    stall_seconds: float = 1.5

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append(body)
        text: str = body["message"]
        if text.startswith("slow:"):
            await asyncio.sleep(float(text.split()[0][5:]))
        step = self.trouble.pop(0) if self.trouble else None
        if step == "stall":
            await asyncio.sleep(self.stall_seconds)
        if self.status != 200 or step == "error":
            return JSONResponse({"error": "scripted failure"}, status_code=self.status if self.status != 200 else 500)
        message = {"recipient_id": body["sender"], "text": f"echo: {text}"}
        if text == "buttons":
            message["buttons"] = [{"title": "Yes", "payload": "/affirm"}]
        if text.startswith("human"):
            # What action_escalate sends: a handover line plus the escalation request.
            message = {"recipient_id": body["sender"], "text": "I'm passing this to a colleague.",
                       "helpline": {"escalate": {"reason": "customer_request", "summary": text}}}
        if text.startswith("question:"):
            message["helpline"] = {"faq_trail": {"rule": "answer", "faq_id": "demo.answer", "score": 0.9}}
        intent = self.intents.get(text, "faq")
        return JSONResponse(
            {"intent": {"name": intent, "confidence": 0.9}, "messages": [message], "rasa_ms": 1.0}
        )

    def app(self) -> Starlette:
        async def health(_: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        return Starlette(
            routes=[
                Route("/", health),
                Route("/webhooks/helpline/webhook", self.webhook, methods=["POST"]),
            ]
        )


@asynccontextmanager
async def serve(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@dataclass
class Gateway:
    url: str
    rasa: ScriptedRasa
    settings: Settings


@asynccontextmanager
async def running_gateway(
    tmp_path: Path, database_url: str, *, rasa_timeout: float = 3.0, rasa_up: bool = True,
    handoff_policy: dict[str, Any] | None = None,
    extra_settings: dict[str, Any] | None = None,
    csat: bool = False,
    rasa: ScriptedRasa | None = None,
) -> AsyncIterator[Gateway]:
    """``extra_settings`` are further Settings fields (e.g. the Telegram channel's).

    ``csat``: ask for ratings (HELPLINE_CSAT_ENABLED). Off by default here, so the tests
    written before surveys existed see the conversations they expect; tests/csat turn it on.
    """
    rasa = rasa or ScriptedRasa()
    policy_file = None
    if handoff_policy is not None:
        policy_file = tmp_path / "handoff.yml"
        policy_file.write_text(yaml.safe_dump(handoff_policy))
    rasa_port, gateway_port = free_port(), free_port()
    settings = Settings(
        password_min_length=8,
        home=tmp_path,
        database_url=database_url,
        secret_key="test-secret",
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        rasa_timeout_seconds=rasa_timeout,
        port=gateway_port,
        max_message_chars=4000,
        handoff_policy=policy_file,
        csat_enabled=csat,
        **(extra_settings or {}),
    )
    async with serve(create_app(settings), gateway_port):
        if rasa_up:
            async with serve(rasa.app(), rasa_port):
                yield Gateway(f"http://127.0.0.1:{gateway_port}", rasa, settings)
        else:
            yield Gateway(f"http://127.0.0.1:{gateway_port}", rasa, settings)


class ChatClient:
    """A socket.io customer that records every event it receives."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.session_id: str | None = None
        for name in ("session_confirm", "bot_uttered", "helpline_notice", "helpline_error", "history"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        async def record(data: Any = None) -> None:
            if name == "session_confirm":
                self.session_id = data
            await self.events.put((name, data))

        return record

    async def connect(self, url: str, session_id: str | None = None) -> str:
        await self.sio.connect(url, transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": session_id})
        name, data = await self.next_event()
        assert name == "session_confirm"
        return str(data)

    async def say(self, text: str, message_id: str | None = None) -> Any:
        return await self.send_raw({"message": text, "message_id": message_id})

    async def send_raw(self, payload: Any) -> Any:
        return await self.sio.call("user_uttered", payload, timeout=15)

    async def next_event(self, timeout: float = 10.0) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def next_of(self, name: str, timeout: float = 10.0) -> Any:
        while True:
            event, data = await self.next_event(timeout)
            if event == name:
                return data

    async def close(self) -> None:
        await self.sio.disconnect()
