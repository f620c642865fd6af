"""The time a customer is promised ("we'll answer here, at the latest by ...") reads in
their own time zone on the web chat (their page reports it), and in the business's time
zone, named, where the customer's zone is unknown (Telegram, other widgets)."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.channels.zones import CustomerZones, zone_named
from bot.db import make_engine, make_session_factory
from handoff.models import Ticket, parse_ticket_number
from tests.gateway_harness import ChatClient, running_gateway

BERLIN = {"opening_hours": {"timezone": "Europe/Berlin", "mon-sun": "00:00-24:00"}}


def _due(database_url: str, number: str) -> Ticket:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        ticket = session.get(Ticket, parse_ticket_number(number))
        assert ticket is not None
        session.expunge_all()
    engine.dispose()
    return ticket


async def _escalate(url: str, request: dict[str, object]) -> str:
    customer = ChatClient()
    await customer.sio.connect(url, transports=["websocket"])
    await customer.sio.emit("session_request", request)
    assert (await customer.next_event())[0] == "session_confirm"
    await customer.say("human please, my order is wrong")
    await customer.next_of("bot_uttered")  # the bot's handover line
    notice = (await customer.next_of("bot_uttered"))["text"]
    await customer.close()
    return notice


async def test_web_customer_reads_their_own_zone_others_the_business_zone(tmp_path: Path, database_url: str) -> None:
    async with running_gateway(tmp_path, database_url, handoff_policy=BERLIN) as gateway:
        mine = await _escalate(gateway.url, {"session_id": None, "timezone": "America/New_York"})
        unknown = await _escalate(gateway.url, {"session_id": None})
        bogus = await _escalate(gateway.url, {"session_id": None, "timezone": "../../etc/passwd"})
    for notice, zone in ((mine, "America/New_York"), (unknown, "Europe/Berlin"), (bogus, "Europe/Berlin")):
        number = re.search(r"HL-\d+", notice)
        assert number, notice
        due = _due(database_url, number.group(0)).first_response_due.astimezone(ZoneInfo(zone))
        assert f"at the latest by {due:%A %H:%M} ({zone})." in notice, notice
        assert "(UTC)" not in notice


def test_zone_names_from_pages_are_checked_and_memory_is_bounded() -> None:
    assert zone_named("Europe/Berlin") == ZoneInfo("Europe/Berlin")
    for bad in (None, 42, "", "Mars/Olympus", "/etc/localtime", "a" * 65, "../x"):
        assert zone_named(bad) is None
    zones = CustomerZones(limit=2)
    zones.remember("a", {"timezone": "Asia/Tokyo"})
    zones.remember("b", {"customData": {"timezone": "Europe/Paris"}})
    zones.remember("c", {"timezone": "Nowhere/Land"})  # ignored
    zones.remember("d", "not a dict")
    assert zones.zone("a") == ZoneInfo("Asia/Tokyo") and zones.zone("b") == ZoneInfo("Europe/Paris")
    zones.remember("e", {"timezone": "UTC"})
    assert zones.zone("a") is None and zones.zone("e") == ZoneInfo("UTC")  # the oldest forgotten
