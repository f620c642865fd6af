"""Exports: the filtered list with every message, CSV and JSON, redacted, capped, audited."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import select

import staff.review.routes as routes

from staff.auth.models import AuditEntry
from bot.db import make_engine, make_session_factory
from staff.review.routes import CSV_COLUMNS
from tests.gateway_harness import running_gateway
from tests.staff.review.conftest import Client, World
from tests.staff.review.seed import PII, seed
from tests.staff.test_console import add_user


async def test_csv_has_one_row_per_message_redacted(world: World) -> None:
    s, c = world.seeded, world.supervisor
    response = await c.get("/api/review/export", format="csv", **{"from": "2026-11-02"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-export-truncated"] == "false" and response.headers["x-export-count"] == "4"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    assert [r["conversation_id"] for r in rows] == [s.mixed, s.abandoned, s.complaint, s.complaint, s.bot, s.bot]
    answer = rows[-1]
    assert answer["author"] == "bot" and answer["faq_id"] == "returns" and answer["faq_rule"] == "answer"
    assert answer["feedback"] == "up" and answer["csat"] == "5" and answer["tags"] == "good-answer"
    assert answer["outcome"] == "resolved_by_bot" and answer["review_status"] == "reviewed"
    assert rows[-2]["text"] == "How do I return shoes? Mail me at [email]" and rows[-2]["intent"] == "faq"
    complaint = rows[2]
    assert complaint["tickets"].startswith("HL-") and complaint["ticket_reasons"] == "complaint"
    assert complaint["assignees"] == "Dana Agent" and complaint["text"].startswith("My card [card]")
    assert not any(p in response.text for p in PII)


async def test_json_has_conversations_with_messages(world: World) -> None:
    s, c = world.seeded, world.supervisor
    response = await c.get("/api/review/export", format="json", outcome="resolved_by_bot")
    assert response.status_code == 200
    body = response.json()
    assert body["truncated"] is False and body["count"] == 2 and body["filters"] == {"outcome": "resolved_by_bot"}
    assert [conv["id"] for conv in body["conversations"]] == [s.bot, s.old]
    bot = body["conversations"][0]
    assert [m["text"] for m in bot["messages"]] == ["How do I return shoes? Mail me at [email]",
                                                    "Returns are free within 30 days."]
    assert bot["messages"][1]["faq_trail"]["faq_id"] == "returns" and bot["csat"]["rating"] == 5
    assert body["conversations"][1]["messages"][1]["feedback"] == "down"
    assert not any(p in response.text for p in PII)
    empty = (await c.get("/api/review/export", format="json", tag="nobody-uses-this")).json()
    assert empty["conversations"] == [] and empty["count"] == 0


async def test_export_is_audited_and_checks_its_parameters(world: World) -> None:
    c = world.supervisor
    refused = await c.get("/api/review/export", format="csv", channel="telegram", q="jane.doe@example.com")
    assert refused.status_code == 422 and "masked" in refused.json()["detail"]  # docs/review.md
    assert (await c.get("/api/review/export", format="csv", channel="telegram", q="jane.doe")).status_code == 200
    assert (await c.get("/api/review/export", format="xml")).status_code == 422
    assert (await c.get("/api/review/export", format="csv", outcome="nope")).status_code == 422
    engine = make_engine(world.url)
    with make_session_factory(engine)() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "review.export"))
    engine.dispose()
    assert entry.actor_label == "super@helpline.test"
    assert entry.details == {"format": "csv", "filters": {"channel": "telegram", "q": "jane.doe"},
                             "conversations": 0, "truncated": False}


async def test_export_stops_at_the_cap_and_says_so(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cap is read when the gateway builds the router; 2 makes "more than the cap" cheap.
    monkeypatch.setattr(routes, "EXPORT_CAP", 2)
    user_id = add_user(database_url, "super@helpline.test", "Sam Supervisor", "supervisor")
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        seeded = seed(session, user_id)
    engine.dispose()
    async with running_gateway(tmp_path, database_url) as gateway:
        client = await Client(gateway).login("super@helpline.test")
        try:
            csv_response = await client.get("/api/review/export", format="csv")
            json_response = await client.get("/api/review/export", format="json")
            exact = await client.get("/api/review/export", format="json", outcome="resolved_by_bot")
        finally:
            await client.http.aclose()
    assert csv_response.headers["x-export-truncated"] == "true" and csv_response.headers["x-export-cap"] == "2"
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert {r["conversation_id"] for r in rows} == {seeded.mixed, seeded.abandoned}  # the newest two
    body = json_response.json()
    assert body["truncated"] is True and body["count"] == 2 and body["cap"] == 2
    assert [c["id"] for c in body["conversations"]] == [seeded.mixed, seeded.abandoned]
    assert exact.json()["truncated"] is False and exact.json()["count"] == 2
