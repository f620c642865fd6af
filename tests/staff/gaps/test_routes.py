"""The FAQ gaps API through the real gateway: clusters, edits, rebuilds, roles and audit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from staff.auth.models import AuditEntry
from bot.db import make_engine, make_session_factory
from staff.gaps.service import shared_encoder
from knowledge_base import KnowledgeBase
from knowledge_base.encoder import DEFAULT_MODEL
from knowledge_base.source import load_faq_dir
from tests.staff.gaps.conftest import Seeder
from tests.gateway_harness import running_gateway
from tests.staff.test_console import Agent, add_user

REFUND = ["where is my refund", "I still haven't received my refund", "when do I get my money back for my return"]
GIFT = ["can you gift wrap my order", "is gift wrapping available?"]


def seed(database_url: str) -> None:
    engine = make_engine(database_url)
    with make_session_factory(engine).begin() as session:
        s = Seeder(session)
        for text in REFUND:
            s.turn(text, rule="fallback")
        s.turn(GIFT[0], rule="fallback")
        s.turn(GIFT[1], rule="suggest", channel="telegram")
        s.turn("how do I cancel my order", rule="answer", faq_id="orders.cancel")  # answered: not a gap
    engine.dispose()


async def wait_for_job(user: Agent, job_id: str, patience: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + patience
    while True:
        job = (await user.http.get(f"/api/gaps/jobs/{job_id}")).json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        await asyncio.sleep(0.5)


def audit_actions(database_url: str) -> list[tuple[str, str | None, dict[str, Any] | None]]:
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = [(r.action, r.target_id, r.details) for r in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    engine.dispose()
    return rows


async def test_gaps_become_faq_content_and_the_index_answers_it(
    tmp_path: Path, database_url: str, kb_copy: tuple[Path, Path]
) -> None:
    faq_dir, index_dir = kb_copy
    seed(database_url)
    settings = {"faq_dir": faq_dir, "kb_index_dir": index_dir}
    async with running_gateway(tmp_path, database_url, extra_settings=settings) as gateway:
        add_user(database_url, "sue@example.com", "Sue", role="supervisor")
        sue = Agent(gateway, "sue@example.com")
        await sue.login()

        first = await sue.http.get("/api/gaps", timeout=300)
        assert first.status_code == 200, first.text
        report = first.json()
        assert report["totals"]["questions"] == 5 and not report["cached"]
        assert report["totals"]["by_reason"] == {"fallback": 4, "suggest": 1}
        refund, gift = report["clusters"]
        assert sorted(s["text"] for s in refund["samples"]) == sorted(REFUND)
        assert refund["questions"] == 3 and refund["volume"] == 3.0 and refund["channels"] == {"web": 3}
        assert refund["nearest_faq"]["id"].startswith("returns_refunds.")
        assert refund["proposal"] == "phrasing"
        assert sorted(s["text"] for s in gift["samples"]) == sorted(GIFT)
        assert gift["volume"] == 1.5 and gift["reasons"] == {"fallback": 1, "suggest": 1}
        assert gift["channels"] == {"web": 1, "telegram": 1}
        assert gift["first_seen"] <= gift["last_seen"]
        assert report["index"]["version"] and "payment" in report["categories"]
        assert any(f["id"] == "orders.cancel" for f in report["faqs"])

        # A reload with nothing new is served from the cache.
        again = (await sue.http.get("/api/gaps")).json()
        assert again["cached"] and again["clusters"] == report["clusters"]
        only_telegram = (await sue.http.get("/api/gaps", params={"channel": "telegram"})).json()
        assert only_telegram["totals"]["questions"] == 1
        assert (await sue.http.get("/api/gaps", params={"suggest": "false"})).json()["totals"]["questions"] == 4

        # Validation problems come back as 422 with file, line and reason; nothing written.
        stamp = report["source_stamp"]
        duplicate = await sue.post("/api/gaps/faq", {
            "id": "orders.cancel", "question": "Gift wrap?", "answer": "No.", "category": "orders",
            "source_stamp": stamp})
        assert duplicate.status_code == 422
        problem = duplicate.json()["detail"]["problems"][0]
        assert "duplicate id 'orders.cancel'" in problem["reason"] and problem["file"].endswith("orders.yml")
        assert problem["line"] > 0
        empty = await sue.post("/api/gaps/faq", {
            "id": "orders.gift_wrap", "question": "Gift wrap?", "answer": " ", "category": "orders",
            "source_stamp": stamp})
        assert empty.status_code == 422 and empty.json()["detail"]["problems"][0]["reason"] == "answer is empty"
        stale = await sue.post("/api/gaps/faq", {
            "id": "orders.gift_wrap", "question": "Gift wrap?", "answer": "No.", "source_stamp": "0" * 64})
        assert stale.status_code == 409 and stale.json()["detail"]["source_stamp"] == stamp
        unknown = await sue.post("/api/gaps/phrasings", {"faq_id": "no.such", "phrasings": ["x"], "source_stamp": stamp})
        assert unknown.status_code == 404

        created = await sue.post("/api/gaps/faq", {
            "id": "orders.gift_wrap", "question": "Do you offer gift wrapping?", "phrasings": GIFT,
            "answer": "We do not offer gift wrapping yet.\nYou can add a gift message at checkout.",
            "category": "orders", "source_stamp": stamp, "cluster_id": gift["id"]})
        assert created.status_code == 202, created.text
        body = created.json()
        assert body["file"] == "orders.yml" and body["formatting_preserved"]
        assert body["job"]["state"] in ("queued", "running")
        job = await wait_for_job(sue, body["job"]["id"])
        assert job["state"] == "done", job
        entry = {e.id: e for e in load_faq_dir(faq_dir)}["orders.gift_wrap"]
        assert entry.phrasings == GIFT and entry.category == "orders"

        # What the action server does: open the index and answer.
        kb = KnowledgeBase.open(faq_dir=faq_dir, index_dir=index_dir, model=DEFAULT_MODEL,
                                encoder=shared_encoder(DEFAULT_MODEL))
        assert kb.manifest.version == job["index_version"]
        decision = kb.answer("Do you offer gift wrapping?")
        assert decision.rule == "answer" and decision.faq is not None and decision.faq.id == "orders.gift_wrap"

        # The new index invalidates the cache; the gift cluster now sits next to its FAQ.
        after = (await sue.http.get("/api/gaps")).json()
        assert not after["cached"] and after["index"]["version"] == job["index_version"]
        gift_after = next(c for c in after["clusters"] if c["id"] == gift["id"])
        assert gift_after["nearest_faq"]["id"] == "orders.gift_wrap"

        target = refund["nearest_faq"]["id"]
        known = {p.casefold() for p in {e.id: e for e in load_faq_dir(faq_dir)}[target].texts()}
        added = await sue.post("/api/gaps/phrasings", {
            "faq_id": target, "phrasings": REFUND, "source_stamp": after["source_stamp"],
            "cluster_id": refund["id"]})
        assert added.status_code == 202, added.text
        assert added.json()["added_phrasings"] == [q for q in REFUND if q.casefold() not in known]
        assert added.json()["skipped_phrasings"] == [q for q in REFUND if q.casefold() in known]
        assert added.json()["added_phrasings"]
        job2 = await wait_for_job(sue, added.json()["job"]["id"])
        assert job2["state"] == "done", job2
        assert set(REFUND) <= set({e.id: e for e in load_faq_dir(faq_dir)}[target].phrasings)
        assert kb.reload_if_changed() and kb.answer(REFUND[0]).candidates[0].faq_id == target
        await sue.http.aclose()

    actions = audit_actions(database_url)
    assert [a for a in actions if a[0] == "gaps.read"], actions
    create = [a for a in actions if a[0] == "faq.create"]
    assert len(create) == 1 and create[0][1] == "orders.gift_wrap"
    assert create[0][2]["job_id"] == body["job"]["id"] and create[0][2]["cluster_id"] == gift["id"]
    phrasing_rows = [a for a in actions if a[0] == "faq.add_phrasings"]
    assert len(phrasing_rows) == 1 and phrasing_rows[0][1] == target


async def test_every_route_needs_a_supervisor(tmp_path: Path, database_url: str) -> None:
    # No such model: the list answers 503 with the reason instead of failing.
    missing_model = {"embedding_model": str(tmp_path / "no-such-model")}
    async with running_gateway(tmp_path, database_url, extra_settings=missing_model) as gateway:
        routes = [("GET", "/gaps"), ("GET", "/api/gaps"), ("GET", "/api/gaps/overlaps"),
                  ("POST", "/api/gaps/phrasings/move"), ("POST", "/api/gaps/faq"),
                  ("POST", "/api/gaps/phrasings"), ("GET", "/api/gaps/jobs/abc")]
        async with httpx.AsyncClient(base_url=gateway.url) as anonymous:
            for method, path in routes:
                response = await anonymous.request(method, path, json={})
                if path == "/gaps":
                    assert response.status_code in (302, 303) and "/login" in response.headers["location"]
                else:
                    assert response.status_code == 401, (method, path, response.status_code)

        add_user(database_url, "al@example.com", "Al", role="agent")
        add_user(database_url, "ada@example.com", "Ada", role="admin")
        agent, admin = Agent(gateway, "al@example.com"), Agent(gateway, "ada@example.com")
        await agent.login()
        await admin.login()
        for method, path in routes:
            response = await agent.http.request(method, path, json={}, headers={"X-CSRF-Token": agent.csrf})
            assert response.status_code == 403, (method, path, response.status_code)
        # The page answers an agent with a page (as /review and /dashboard do), not JSON.
        refused = await agent.http.get("/gaps")
        assert "text/html" in refused.headers["content-type"] and "403: supervisors only" in refused.text
        assert 'href="/dashboard/me"' in refused.text and 'href="/gaps"' not in refused.text  # the agent's nav
        page = await admin.http.get("/gaps")
        assert page.status_code == 200 and "FAQ gaps" in page.text and admin.csrf in page.text
        assert (await admin.http.get("/api/gaps/jobs/abc")).status_code == 404
        # CSRF is enforced on the edits as on every unsafe method.
        no_csrf = await admin.http.post("/api/gaps/phrasings", json={"faq_id": "a", "phrasings": ["b"], "source_stamp": "c"})
        assert no_csrf.status_code == 403
        assert (await admin.http.get("/gaps/static/gaps.js")).status_code == 200
        assert (await admin.http.get("/gaps/static/secret.py")).status_code == 404
        assert (await admin.http.get("/api/gaps", params={"from": "2026-02-30"})).status_code == 422
        assert (await admin.http.get("/api/gaps", params={"from": "2026-05-02", "to": "2026-05-01"})).status_code == 422
        unavailable = await admin.http.get("/api/gaps", timeout=300)  # importing torch takes a while
        assert unavailable.status_code == 503 and "no-such-model" in unavailable.json()["detail"]
        no_model = await admin.http.get("/api/gaps/overlaps", timeout=300)
        assert no_model.status_code == 503 and "no-such-model" in no_model.json()["detail"]
        for client in (agent, admin):
            await client.http.aclose()


async def test_overlapping_faqs_are_listed_and_follow_the_index(
    tmp_path: Path, database_url: str, kb_copy: tuple[Path, Path]
) -> None:
    faq_dir, index_dir = kb_copy
    settings = {"faq_dir": faq_dir, "kb_index_dir": index_dir}
    async with running_gateway(tmp_path, database_url, extra_settings=settings) as gateway:
        add_user(database_url, "sue@example.com", "Sue", role="supervisor")
        sue = Agent(gateway, "sue@example.com")
        await sue.login()

        first = await sue.http.get("/api/gaps/overlaps", params={"limit": 1000}, timeout=300)
        assert first.status_code == 200, first.text
        report = first.json()
        entries = load_faq_dir(faq_dir)
        assert report["phrasings"] == sum(len(e.texts()) for e in entries) and not report["cached"]
        assert report["margin"] == 0.05 and report["index"]["version"]
        margins = [c["margin"] for c in report["conflicts"]]
        assert margins == sorted(margins) and all(m <= 0.05 for m in margins)
        assert report["closer_to_rival"] == sum(1 for m in margins if m < 0)
        assert (await sue.http.get("/api/gaps/overlaps")).json()["cached"]  # same index: not recomputed
        assert len((await sue.http.get("/api/gaps/overlaps", params={"limit": 1})).json()["conflicts"]) <= 1
        assert (await sue.http.get("/api/gaps/overlaps", params={"limit": 0})).status_code == 422

        # A refund question filed under order cancellation shows up once the index has it.
        planted = "I still haven't received my refund for the return"
        stamp = (await sue.http.get("/api/gaps")).json()["source_stamp"]
        added = await sue.post("/api/gaps/phrasings", {
            "faq_id": "orders.cancel", "phrasings": [planted], "source_stamp": stamp})
        assert added.status_code == 202, added.text
        assert (await wait_for_job(sue, added.json()["job"]["id"]))["state"] == "done"
        after = (await sue.http.get("/api/gaps/overlaps", params={"limit": 1000})).json()
        assert not after["cached"] and after["index"]["version"] != report["index"]["version"]
        assert after["phrasings"] == report["phrasings"] + 1
        hit = next(c for c in after["conflicts"] if c["phrasing"] == planted)
        assert hit["faq_id"] == "orders.cancel" and hit["rival_id"].startswith("returns_refunds.")
        assert hit["margin"] < 0 and hit["rival_score"] > hit["own_score"]
        assert after["source_stamp"] == (await sue.http.get("/api/gaps")).json()["source_stamp"]

        # The fix from the list: move it where it reads like it belongs.
        stamp = after["source_stamp"]
        refused = [
            ({"faq_id": "orders.cancel", "phrasing": "How do I cancel my order?", "to_faq_id": hit["rival_id"],
              "source_stamp": stamp}, 422, "is the question of"),
            ({"faq_id": "orders.cancel", "phrasing": planted, "to_faq_id": "no.such", "source_stamp": stamp}, 404, "no.such"),
            ({"faq_id": "orders.cancel", "phrasing": planted, "to_faq_id": None, "source_stamp": "0" * 64}, 409, "changed"),
            ({"faq_id": "orders.cancel", "phrasing": planted}, 422, "source_stamp"),
        ]
        for body, code, reason in refused:
            response = await sue.post("/api/gaps/phrasings/move", body)
            assert response.status_code == code and reason in response.text, (body, response.text)
        moved = await sue.post("/api/gaps/phrasings/move", {
            "faq_id": "orders.cancel", "phrasing": planted, "to_faq_id": hit["rival_id"], "source_stamp": stamp})
        assert moved.status_code == 202, moved.text
        body = moved.json()
        assert (body["faq_id"], body["moved_from"], body["added_phrasings"]) == (hit["rival_id"], "orders.cancel", [planted])
        assert (await wait_for_job(sue, body["job"]["id"]))["state"] == "done"
        faqs = {e.id: e for e in load_faq_dir(faq_dir)}
        assert planted not in faqs["orders.cancel"].phrasings and planted in faqs[hit["rival_id"]].phrasings
        fixed = (await sue.http.get("/api/gaps/overlaps", params={"limit": 1000})).json()
        assert not [c for c in fixed["conflicts"] if c["phrasing"] == planted and c["faq_id"] == "orders.cancel"]
        assert fixed["phrasings"] == after["phrasings"]
        await sue.http.aclose()
    moves = [a for a in audit_actions(database_url) if a[0] == "faq.move_phrasing"]
    assert len(moves) == 1 and moves[0][1] == "orders.cancel" and moves[0][2]["to"] == hit["rival_id"]
