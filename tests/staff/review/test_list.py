"""The review list: every filter, search, keyset pages, row contents, 422 on bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from staff.auth.models import AuditEntry
from bot.db import make_engine, make_session_factory
from tests.staff.review.conftest import World
from tests.staff.review.seed import PII, T0


async def test_every_filter_selects_exactly_its_conversations(world: World) -> None:
    s, c = world.seeded, world.supervisor
    everyone = [s.mixed, s.abandoned, s.complaint, s.bot, s.old]  # newest first; 4 and 3 tie on time
    assert await c.ids() == everyone  # the empty conversation (customer never wrote) is not listed
    day = T0.date().isoformat()
    assert await c.ids(**{"from": day}) == [s.mixed, s.abandoned, s.complaint, s.bot]
    assert await c.ids(to=(T0 - timedelta(days=1)).date().isoformat()) == [s.old]
    assert await c.ids(**{"from": (T0 + timedelta(hours=1)).isoformat(), "to": (T0 + timedelta(hours=2)).isoformat()}) == [s.complaint]
    assert await c.ids(to=day) == everyone  # a date-only "to" includes that day
    assert await c.ids(channel="telegram") == [s.complaint]
    assert await c.ids(outcome="resolved_by_bot") == [s.bot, s.old]
    assert await c.ids(outcome="escalated") == [s.mixed, s.complaint]
    assert await c.ids(outcome="abandoned") == [s.abandoned]
    assert await c.ids(intent="complaint") == [s.complaint]
    assert await c.ids(intent="faq") == [s.mixed, s.bot]
    assert await c.ids(faq="returns") == [s.bot]
    assert await c.ids(faq="refunds") == []  # only in top3, not the answer
    assert await c.ids(reason="repeated_fallback") == [s.mixed]
    assert await c.ids(reason="complaint") == [s.complaint]
    assert await c.ids(csat="4") == [s.complaint]  # the last rating counts
    assert await c.ids(csat="2") == []
    assert await c.ids(csat="1,2,5") == [s.bot]
    assert await c.ids(agent=str(s.agent_id)) == [s.mixed, s.complaint]
    assert await c.ids(agent="99999") == []
    assert await c.ids(tag="good-answer") == [s.bot]
    assert await c.ids(tag="Good Answer") == [s.bot]  # normalised like when it was added
    assert await c.ids(status="reviewed") == [s.bot]
    assert await c.ids(status="needs_follow_up") == [s.complaint]
    assert await c.ids(status="unreviewed") == [s.mixed, s.abandoned, s.old]
    assert await c.ids(channel="web", outcome="escalated") == [s.mixed]
    assert await c.ids(intent="faq", status="unreviewed", **{"from": day}) == [s.mixed]


async def test_search_finds_words_of_one_message(world: World) -> None:
    s, c = world.seeded, world.supervisor
    assert await c.ids(q="charged twice") == [s.complaint]
    assert await c.ids(q="CHARGED") == [s.complaint]
    assert await c.ids(q="shoes return") == [s.bot]  # any order, same message
    assert await c.ids(q="parcel") == [s.mixed]
    assert await c.ids(q="shoes parcel") == []  # the words are in different conversations
    assert await c.ids(q="returns free") == [s.bot]  # bot messages are searched too
    assert await c.ids(q="100% _x") == []  # LIKE wildcards are literal
    assert await c.ids(q="parcel", channel="telegram") == []


async def test_keyset_pages_cover_the_list_once_newest_first(world: World) -> None:
    s, c = world.seeded, world.supervisor
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        response = await c.get("/api/review/conversations", **params)
        assert response.status_code == 200
        body = response.json()
        assert len(body["conversations"]) <= 2
        seen += [row["id"] for row in body["conversations"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [s.mixed, s.abandoned, s.complaint, s.bot, s.old]
    assert pages == 3
    # a filter and a cursor together
    first = (await c.get("/api/review/conversations", limit="1", outcome="resolved_by_bot")).json()
    second = (await c.get("/api/review/conversations", limit="1", outcome="resolved_by_bot",
                          cursor=first["next_cursor"])).json()
    assert [r["id"] for r in first["conversations"] + second["conversations"]] == [s.bot, s.old]
    assert second["next_cursor"] is None


async def test_rows_carry_the_summary_redacted(world: World) -> None:
    s, c = world.seeded, world.supervisor
    response = await c.get("/api/review/conversations")
    rows = {row["id"]: row for row in response.json()["conversations"]}
    bot = rows[s.bot]
    assert bot["channel"] == "web" and bot["message_count"] == 2 and bot["outcome"] == "resolved_by_bot"
    assert bot["first_customer_message"] == "How do I return shoes? Mail me at [email]"
    assert bot["intents"] == ["faq"] and bot["tickets"] == [] and bot["tags"] == ["good-answer"]
    assert bot["csat"] == {"rating": 5, "would_recommend": True} and bot["review_status"] == "reviewed"
    assert bot["started_at"].startswith("2026-11-02T09:00:00") and bot["last_activity_at"].startswith("2026-11-02T09:09")
    complaint = rows[s.complaint]
    assert complaint["first_customer_message"] == "My card [card] was charged twice! Order 4111 1111 1111 1112"
    assert complaint["csat"]["rating"] == 4
    [ticket] = complaint["tickets"]
    assert ticket["number"].startswith("HL-") and ticket["reason"] == "complaint"
    assert ticket["assignee_name"] == "Dana Agent"
    assert rows[s.mixed]["outcome"] == "escalated" and rows[s.abandoned]["outcome"] == "abandoned"
    assert rows[s.abandoned]["review_status"] == "unreviewed"
    assert not any(p in response.text for p in PII)


async def test_bad_parameters_get_422_with_the_reason(world: World) -> None:
    c = world.supervisor
    for params, reason in (
        ({"from": "yesterday"}, "from"), ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "after"),
        ({"outcome": "maybe"}, "outcome"), ({"status": "done"}, "status"), ({"csat": "6"}, "csat"),
        ({"csat": "x"}, "csat"), ({"agent": "bob"}, "agent"), ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"), ({"cursor": "not-a-cursor"}, "cursor"), ({"q": "x" * 201}, "q"),
        ({"tag": "<b>"}, "tag"), ({"channel": "Web!"}, "channel"), ({"kpi": "containment"}, "kpi"),
        ({"kpi": "nonsense", "part": "numerator", "from": "2026-11-01", "to": "2026-11-08"}, "nonsense"),
        ({"kpi": "containment", "part": "numerator"}, "from"),
    ):
        response = await c.get("/api/review/conversations", **params)
        assert response.status_code == 422, (params, response.text)
        assert reason in response.json()["detail"], (params, response.text)


async def test_list_reads_are_audited_with_filters_search_redacted(world: World) -> None:
    c = world.supervisor
    # A whole e-mail address is refused (transcripts show it masked, docs/review.md) ...
    refused = await c.get("/api/review/conversations", q="jane.doe@example.com", channel="web")
    assert refused.status_code == 422 and "masked" in refused.json()["detail"]
    assert (await c.get("/api/review/conversations", q="return shoes", channel="web")).status_code == 200
    engine = make_engine(world.url)
    with make_session_factory(engine)() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "review.list")
                                .order_by(AuditEntry.id.desc())).first()
    engine.dispose()
    assert entry is not None and entry.actor_label == "super@helpline.test"
    assert entry.details is not None
    assert entry.details["filters"] == {"channel": "web", "q": "return shoes"}


async def test_kpi_drilldown_lists_the_conversations_behind_a_number(world: World) -> None:
    s, c = world.seeded, world.supervisor
    week = {"from": "2026-11-02", "to": "2026-11-08"}
    assert await c.ids(kpi="containment", part="numerator", **week) == [s.bot]
    assert await c.ids(kpi="containment", part="population", **week) == [s.mixed, s.abandoned, s.complaint, s.bot]
    assert await c.ids(kpi="abandonment_rate", part="numerator", **week) == [s.mixed, s.abandoned]
    assert await c.ids(kpi="escalation_rate_by_reason:complaint", part="numerator", **week) == [s.complaint]
    # other filters still narrow a drill-down
    assert await c.ids(kpi="containment", part="population", channel="web", status="unreviewed", **week) == [s.mixed, s.abandoned]
