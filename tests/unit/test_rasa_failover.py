"""RasaClient with several Rasa servers: a conversation keeps its home server, moves to
the next when the home server is unreachable, and only 'nothing reachable' is reported
as unreachable (the gateway then keeps the message until Rasa is back)."""

from __future__ import annotations

import httpx
import pytest

from bot.rasa_client import RasaClient, RasaUnavailable

URLS = ["http://rasa-a:5005", "http://rasa-b:5005", "http://rasa-c:5005"]


def client(down: set[str], calls: list[str], timeout_on: set[str] = frozenset()) -> RasaClient:  # type: ignore[assignment]
    def handle(request: httpx.Request) -> httpx.Response:
        host = f"http://{request.url.host}:5005"
        calls.append(host)
        if host in down:
            raise httpx.ConnectError("refused", request=request)
        if host in timeout_on:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"intent": {"name": "greet", "confidence": 1.0},
                                         "messages": [{"text": f"from {request.url.host}"}]})

    return RasaClient(URLS, "token", 5.0, transport=httpx.MockTransport(handle))


async def test_a_conversation_keeps_its_home_server_and_conversations_spread() -> None:
    calls: list[str] = []
    rasa = client(set(), calls)
    homes = {}
    for n in range(30):
        turn = await rasa.send(f"conversation-{n}", "hi", message_id="1", channel="web")
        again = await rasa.send(f"conversation-{n}", "hi", message_id="2", channel="web")
        assert turn.messages == again.messages
        homes[n] = turn.messages[0]["text"]
    assert len(set(homes.values())) == 3  # all three servers get conversations
    await rasa.aclose()


async def test_home_server_down_moves_the_turn_to_the_next() -> None:
    calls: list[str] = []
    rasa = client(set(), calls)
    home = rasa.servers_for("conversation-7")[0]
    await rasa.aclose()
    calls.clear()
    rasa = client({home}, calls)
    turn = await rasa.send("conversation-7", "hi", message_id="1", channel="web")
    assert calls[0] == home and calls[1] != home
    assert turn.messages[0]["text"] == f"from {calls[1].split('//')[1].split(':')[0]}"
    # The failed server is tried last for a while: the next turn goes straight elsewhere.
    calls.clear()
    await rasa.send("conversation-7", "again", message_id="2", channel="web")
    assert calls == [calls[0]] and calls[0] != home
    await rasa.aclose()


async def test_all_down_is_unreachable_and_a_timeout_is_not_retried() -> None:
    calls: list[str] = []
    rasa = client(set(URLS), calls)
    with pytest.raises(RasaUnavailable) as caught:
        await rasa.send("c", "hi", message_id="1", channel="web")
    assert caught.value.unreachable and sorted(calls) == sorted(URLS)
    await rasa.aclose()
    calls.clear()
    rasa = client(set(), calls, timeout_on=set(URLS))
    with pytest.raises(RasaUnavailable) as caught:
        await rasa.send("c", "hi", message_id="1", channel="web")
    assert not caught.value.unreachable and len(calls) == 1  # may still be running there
    await rasa.aclose()
