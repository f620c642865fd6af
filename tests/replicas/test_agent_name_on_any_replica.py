"""An agent's name reaches a customer served by a replica their console never connected to.

Before, each gateway learnt an agent's display name only when that agent's console
connected to it; the customer's replica said "An agent". Two replicas share PostgreSQL and a
throwaway Redis (tests/replicas/conftest.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.gateway_harness import ChatClient
from tests.replicas.test_gateways import two_replicas
from tests.staff.test_console import Agent, add_user


async def test_a_reloaded_chat_on_replica_a_names_the_agent_whose_console_is_on_b(
    tmp_path: Path, postgresql_url_clean: str, redis_url: str, redis_prefix: str
) -> None:
    async with two_replicas(tmp_path, postgresql_url_clean, redis_url, redis_prefix) as replicas:
        add_user(postgresql_url_clean, "ana@example.com", "Ana")
        customer = ChatClient()
        session_id = await customer.connect(replicas.a.url)
        await customer.say("human please, my parcel is lost")
        assert (await customer.next_of("bot_uttered"))["text"] == "I'm passing this to a colleague."

        ana = Agent(replicas.b, "ana@example.com")
        await ana.login()
        console = await ana.console_socket(asyncio.Queue())
        ticket_id = (await ana.http.get("/api/queue")).json()["queue"][0]["id"]
        assert (await ana.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        await customer.close()

        # The customer reloads the page; replica A redraws it and says who is there.
        reloaded = ChatClient()
        agent_signals: asyncio.Queue[Any] = asyncio.Queue()
        reloaded.sio.on("helpline_agent", agent_signals.put_nowait)
        await reloaded.connect(replicas.a.url, session_id)
        await reloaded.sio.emit("history_request", {})
        history = await reloaded.next_of("history")
        assert "Ana from our support team has joined the chat." in [m["text"] for m in history["messages"]]
        assert await asyncio.wait_for(agent_signals.get(), 10) == {"state": "joined", "name": "Ana"}
        await reloaded.close()
        await console.disconnect()
        await ana.http.aclose()
