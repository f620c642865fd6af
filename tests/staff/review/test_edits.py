"""Review status, tags and comments: validated, CSRF-protected, audit-logged."""

from __future__ import annotations

from sqlalchemy import select

from staff.auth.models import AuditEntry
from bot.db import make_engine, make_session_factory
from tests.staff.review.conftest import World


def _actions(url: str) -> list[tuple[str, str | None, dict | None]]:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = [(e.action, e.target_id, e.details) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("review.%"),
                                     AuditEntry.action.not_in(("review.read", "review.list")))
            .order_by(AuditEntry.id))]
    engine.dispose()
    return rows


async def test_status_tags_and_comments_round_trip(world: World) -> None:
    s, c = world.seeded, world.supervisor
    base = f"/api/review/conversations/{s.abandoned}"
    assert (await c.send("PUT", base + "/status", {"status": "in_review"})).status_code == 200
    assert (await c.send("PUT", base + "/status", {"status": "needs_follow_up"})).status_code == 200
    added = await c.send("POST", base + "/tags", {"tag": "  Late Delivery "})
    assert added.status_code == 201 and added.json() == {"tag": "late-delivery", "added": True}
    again = await c.send("POST", base + "/tags", {"tag": "late-delivery"})
    assert again.json() == {"tag": "late-delivery", "added": False}
    assert (await c.send("POST", base + "/tags", {"tag": "refund"})).status_code == 201
    removed = await c.send("DELETE", base + "/tags/refund")
    assert removed.json() == {"tag": "refund", "removed": True}
    comment = await c.send("POST", base + "/comments", {"text": " Customer wrote from jane@example.org "})
    assert comment.status_code == 201 and comment.json()["text"] == "Customer wrote from [email]"
    data = (await c.get(base)).json()
    assert data["review"]["status"] == "needs_follow_up" and data["review"]["reviewer"] == "Sam Supervisor"
    assert data["tags"] == ["late-delivery"]
    assert [(x["author"], x["text"]) for x in data["comments"]] == [("Sam Supervisor", "Customer wrote from [email]")]
    assert await c.ids(tag="late-delivery") == [s.abandoned]
    assert await c.ids(status="needs_follow_up") == [s.abandoned, s.complaint]
    actions = _actions(world.url)
    assert [a for a, _, _ in actions] == ["review.status", "review.status", "review.tag_add", "review.tag_add",
                                          "review.tag_remove", "review.comment"]
    assert all(target == s.abandoned for _, target, _ in actions)
    assert actions[1][2] == {"status": "needs_follow_up"} and actions[2][2] == {"tag": "late-delivery"}
    assert "jane" not in str(actions[-1][2])  # the comment text is not copied into the log


async def test_bad_edits_get_4xx(world: World) -> None:
    s, c = world.seeded, world.supervisor
    base = f"/api/review/conversations/{s.bot}"
    for method, path, body in (
        ("PUT", "/status", {"status": "done"}),
        ("PUT", "/status", {}),
        ("POST", "/tags", {"tag": ""}),
        ("POST", "/tags", {"tag": "<script>"}),
        ("POST", "/tags", {"tag": "x" * 41}),
        ("POST", "/comments", {"text": "   "}),
        ("POST", "/comments", {"text": "x" * 2001}),
        ("POST", "/comments", {"text": 5}),
    ):
        response = await c.send(method, base + path, body)
        assert response.status_code == 422, (path, body, response.text)
    for _ in range(19):
        await c.send("POST", base + "/tags", {"tag": f"t{_}"})
    too_many = await c.send("POST", base + "/tags", {"tag": "one-more"})
    assert too_many.status_code == 422 and "20 tags" in too_many.json()["detail"]
    unknown = "/api/review/conversations/" + "e" * 32
    assert (await c.send("PUT", unknown + "/status", {"status": "reviewed"})).status_code == 404
    assert (await c.send("POST", unknown + "/tags", {"tag": "x"})).status_code == 404
    assert (await c.send("POST", unknown + "/comments", {"text": "x"})).status_code == 404


async def test_edits_need_the_csrf_token(world: World) -> None:
    s, c = world.seeded, world.supervisor
    base = f"/api/review/conversations/{s.bot}"
    for method, path, body in (("PUT", "/status", {"status": "in_review"}), ("POST", "/tags", {"tag": "x"}),
                               ("DELETE", "/tags/good-answer", None), ("POST", "/comments", {"text": "x"})):
        missing = await c.http.request(method, base + path, json=body)
        wrong = await c.http.request(method, base + path, json=body, headers={"X-CSRF-Token": "forged"})
        assert missing.status_code == 403 and wrong.status_code == 403
    data = (await c.get(base)).json()
    assert data["review"]["status"] == "reviewed" and data["tags"] == ["good-answer"] and data["comments"] == []
