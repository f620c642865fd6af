"""The transcript: every annotation, ticket events and notes, CSAT, review data; redacted,
audited, 404 for unknown ids."""

from __future__ import annotations

from sqlalchemy import select

from staff.auth.models import AuditEntry
from bot.db import make_engine, make_session_factory
from tests.staff.review.conftest import World
from tests.staff.review.seed import IBAN, PII


def _audit(url: str, action: str) -> list[AuditEntry]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
    engine.dispose()
    return rows


async def test_bot_answer_annotations(world: World) -> None:
    s = world.seeded
    response = await world.supervisor.get(f"/api/review/conversations/{s.bot}")
    assert response.status_code == 200
    data = response.json()
    question, answer = data["messages"]
    assert question["author"] == "customer" and question["text"] == "How do I return shoes? Mail me at [email]"
    assert question["intent"] == "faq" and question["intent_confidence"] == 0.91 and question["latency_ms"] == 140.0
    assert question["status"] == "answered"
    assert answer["reply_to_id"] == question["id"] and answer["feedback"] == "up" and answer["feedback_at"]
    trail = answer["faq_trail"]
    assert trail["faq_id"] == "returns" and trail["score"] == 0.83 and trail["rule"] == "answer"
    assert [t["faq_id"] for t in trail["top3"]] == ["returns", "refunds", "exchange"]
    [survey] = data["csat"]
    assert survey["rating"] == 5 and survey["would_recommend"] is True and survey["trigger"] == "bot_resolved"
    assert survey["comment"] == "great, call me on [phone]"
    assert data["tags"] == ["good-answer"]
    assert data["review"]["status"] == "reviewed" and data["review"]["reviewer"] == "Dana Agent"
    assert data["conversation"]["outcome"] == "resolved_by_bot" and data["conversation"]["owner"]["owner"] == "bot"
    assert data["tickets"] == [] and data["ticket_events"] == []


async def test_escalated_conversation_shows_tickets_events_notes_comments_redacted(world: World) -> None:
    s = world.seeded
    response = await world.supervisor.get(f"/api/review/conversations/{s.complaint}")
    data = response.json()
    assert not any(p in response.text for p in PII), response.text
    assert "4111 1111 1111 1112" in response.text  # not a card (Luhn fails): stays readable
    [ticket] = data["tickets"]
    assert ticket["reason"] == "complaint" and ticket["category"] == "payment"
    assert ticket["assignee_name"] == "Dana Agent"
    assert ticket["subject"] == "Charged twice, card [card]" and ticket["summary"] == "Customer [email] charged twice"
    assert ticket["details"] == {"contact": "[phone]", "order": "no"}
    assert ticket["resolution_note"] == "Refunded to [iban]"
    kinds = [(e["kind"], e["actor"], e["ownership"]) for e in data["ticket_events"]]
    assert kinds == [("claimed", "Dana Agent", "to an agent"), ("resolved", "Dana Agent", "back to the bot")]
    assert data["ticket_events"][1]["note"] == "Refunded to [iban]"
    assert data["notes"] == [{"ticket": ticket["number"], "at": data["notes"][0]["at"], "author": "Dana Agent",
                              "text": "Customer called from [phone]"}]
    assert [sv["rating"] for sv in data["csat"]] == [2, 4]
    assert [(c["author"], c["text"]) for c in data["comments"]] == [("Dana Agent", "Call back on [phone]")]
    assert [m["author"] for m in data["messages"]] == ["customer", "agent"]
    assert IBAN not in response.text


async def test_reads_are_audited_and_unknown_ids_are_404(world: World) -> None:
    s, c = world.seeded, world.supervisor
    assert (await c.get(f"/api/review/conversations/{s.abandoned}")).status_code == 200
    [entry] = _audit(world.url, "review.read")
    assert entry.target_type == "conversation" and entry.target_id == s.abandoned
    assert entry.actor_label == "super@helpline.test"
    assert (await c.get("/api/review/conversations/" + "f" * 32)).status_code == 404
    assert (await c.get("/api/review/conversations/" + "x" * 40)).status_code == 404
    assert (await c.get("/api/review/conversations/bad%20id")).status_code == 404
    assert len(_audit(world.url, "review.read")) == 1  # nothing read, nothing logged


FEEDBACK_PRESS = '/feedback{"helpful":"yes","faq_id":"returns_refunds.timing"}'


async def test_button_presses_read_as_the_pressed_title_with_the_payload_kept(world: World) -> None:
    from datetime import timedelta

    from tests.staff.review.seed import EMAIL, T0, _conversation, _msg

    engine = make_engine(world.url)
    with make_session_factory(engine).begin() as session:
        cid = _conversation(session, 900, T0)
        _msg(session, cid, T0, "customer", "refund time")
        _msg(session, cid, T0 + timedelta(seconds=1), "bot", "Did you mean one of these?",
             buttons=[{"title": "How long does a refund take?",
                       "payload": '/faq_select{"faq_id":"returns_refunds.timing"}'}])
        _msg(session, cid, T0 + timedelta(seconds=2), "customer", '/faq_select{"faq_id":"returns_refunds.timing"}')
        _msg(session, cid, T0 + timedelta(seconds=3), "bot", "Within 5 working days.",
             buttons=[{"title": "👍 Helpful", "payload": FEEDBACK_PRESS}])
        _msg(session, cid, T0 + timedelta(seconds=4), "customer", FEEDBACK_PRESS)
        # No stored offer matches (a hand-made payload): a label from the payload, redacted.
        _msg(session, cid, T0 + timedelta(seconds=5), "customer", '/faq_select{"faq_id":"%s"}' % EMAIL)
    engine.dispose()

    response = await world.supervisor.get(f"/api/review/conversations/{cid}")
    assert response.status_code == 200
    inbound = [m for m in response.json()["messages"] if m["direction"] == "in"]
    assert [m.get("display_text") for m in inbound] == [
        None, "How long does a refund take?", "👍 Helpful", "[email]"]
    assert inbound[2]["text"] == FEEDBACK_PRESS  # the payload stays for auditing and exports
    assert EMAIL not in response.text
