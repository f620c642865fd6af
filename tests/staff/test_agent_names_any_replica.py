"""The customer reads the agent's real name even when this gateway never saw their console.

With replicas, an agent's console is connected to one gateway while their customer may be
served by another; that gateway never heard the agent connect. Here the agents work over
the HTTP API only (no console socket), which leaves the gateway exactly as ignorant. Before,
the customer read "An agent from our support team has joined the chat."
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.gateway_harness import ChatClient, running_gateway
from tests.staff.test_console import Agent, add_user


async def test_join_transfer_and_widget_signal_name_the_agent(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url) as gateway:
        add_user(database_url, "dana@example.com", "Dana")
        ben_id = add_user(database_url, "ben@example.com", "Ben")
        customer = ChatClient()
        signals: asyncio.Queue[Any] = asyncio.Queue()
        customer.sio.on("helpline_agent", signals.put_nowait)
        await customer.connect(gateway.url)
        await customer.say("human please, my parcel is lost")
        assert (await customer.next_of("bot_uttered"))["text"] == "I'm passing this to a colleague."
        assert "ticket number is HL-" in (await customer.next_of("bot_uttered"))["text"]

        dana, ben = Agent(gateway, "dana@example.com"), Agent(gateway, "ben@example.com")
        await dana.login()
        await ben.login()
        ticket_id = (await dana.http.get("/api/queue")).json()["queue"][0]["id"]
        assert (await dana.post(f"/api/tickets/{ticket_id}/claim")).status_code == 200
        assert (await customer.next_of("bot_uttered"))["text"] == "Dana from our support team has joined the chat."
        assert await asyncio.wait_for(signals.get(), 10) == {"state": "joined", "name": "Dana"}

        moved = await dana.post(f"/api/tickets/{ticket_id}/transfer", {"agent_id": ben_id})
        assert moved.status_code == 200, moved.text
        assert (await customer.next_of("bot_uttered"))["text"] == "You're now chatting with Ben."
        assert await asyncio.wait_for(signals.get(), 10) == {"state": "joined", "name": "Ben"}
        await customer.close()
        for agent in (dana, ben):
            await agent.http.aclose()

