"""XSS: the payloads of tests/security/xss_payloads.py entered everywhere text goes in,
rendered in headless Chromium on every page that shows them; zero executions, zero CSP
violations, no injected element or javascript:/data: link, CSV cells neutralised.

Where text goes in: customer messages on the web chat (typed on the chat page, echoed back
by the scripted bot), agent display names (admin API), agent replies, internal notes and
the resolution note (console API), review comments and tags (review API), and first
customer messages of many conversations (the review list). Pages: the chat page, the
console with the ticket open, the review list and transcript, the dashboard, the CSV
export. The FAQ gaps page (gap clusters, FAQ questions and answers) is in its own test.

Detection: an init script, run before any page script, replaces alert/confirm/prompt/print
with recorders, listens for ``securitypolicyviolation``, and the test also records
dialogs and console CSP errors; payloads that would run set ``window.__pwned`` or create
elements with ids ``xss*``.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from bot.transcript.models import Conversation, Message, utcnow
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.security.live import EMAILS, LiveWorld, live_world
from tests.security.xss_payloads import FORMULA_STARTS, PAYLOADS, SHORT
from tests.staff.test_console import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

HOOKS = """
window.__xss = [];
window.__csp = [];
const record = (what) => window.__xss.push(String(what));
window.alert = (m) => record('alert:' + m);
window.confirm = (m) => { record('confirm:' + m); return false; };
window.prompt = (m) => { record('prompt:' + m); return null; };
window.print = () => record('print');
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""

PROBE = """() => ({
  xss: window.__xss || ['hooks missing'],
  csp: window.__csp || [],
  pwned: window.__pwned || null,
  injected: document.querySelectorAll('[id^="xss"]').length,
  links: Array.from(document.querySelectorAll('[href],[src],[action],[data],[srcdoc],[formaction]'))
    .map((el) => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action')
         || el.getAttribute('data') || el.getAttribute('formaction') || (el.hasAttribute('srcdoc') ? 'srcdoc' : ''))
    .filter((v) => /^\\s*(javascript|data|vbscript):|^srcdoc$/i.test(v)),
})"""


def chunks(items: list[str], size: int) -> list[str]:
    return [" | ".join(items[i:i + size]) for i in range(0, len(items), size)]


class Watch:
    """Everything a page did that it should not have."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.pages = 0

    def attach(self, page: Page, label: str) -> Page:
        page.on("dialog", lambda dialog: (self.problems.append(f"{label}: dialog {dialog.message!r}"),
                                          dialog.dismiss()))
        page.on("console", lambda msg: self.problems.append(f"{label}: console {msg.text[:200]}")
                if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
        page.on("pageerror", lambda error: self.problems.append(f"{label}: page error {error}"))
        return page

    def probe(self, page: Page, label: str) -> None:
        # Give hover, focus and animation handlers their chance.
        page.mouse.move(200, 200)
        page.mouse.move(600, 400)
        for _ in range(3):
            page.keyboard.press("Tab")
        page.wait_for_timeout(300)
        found = page.evaluate(PROBE)
        self.pages += 1
        for key in ("xss", "csp", "links"):
            if found[key]:
                self.problems.append(f"{label}: {key} {found[key][:5]}")
        if found["pwned"] or found["injected"]:
            self.problems.append(f"{label}: pwned={found['pwned']} injected elements={found['injected']}")


def signed_in(context: BrowserContext, watch: Watch, url: str, role: str, path: str) -> Page:
    page = watch.attach(context.new_page(), f"{path} as {role}")
    page.goto(url + path)
    page.get_by_label("Email").fill(EMAILS[role])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.fixture
def world(tmp_path: Path) -> Iterator[LiveWorld]:
    database_url = f"sqlite:///{tmp_path / 'xss.db'}"
    upgrade(database_url)
    with live_world(tmp_path, database_url, extra_settings={"embedding_model": str(tmp_path / "no-model")}) as w:
        yield w


def seed_first_messages(database_url: str) -> None:
    """One conversation per payload, its first customer message the payload (review list)."""
    engine = make_engine(database_url)
    now = utcnow()
    with make_session_factory(engine).begin() as session:
        for n, payload in enumerate(PAYLOADS):
            cid = f"x{n:031d}"
            at = now - timedelta(minutes=n + 5)
            session.add(Conversation(id=cid, channel="web", created_at=at, last_activity_at=at))
            session.flush()
            session.add(Message(conversation_id=cid, channel="web", direction="in", author="customer",
                                text=payload, status="answered", intent="faq", created_at=at))
    engine.dispose()


def test_payloads_everywhere_render_inert_in_chromium(world: LiveWorld, browser: Browser) -> None:  # noqa: F811
    watch = Watch()
    admin, agent, sup = world.staff["admin"], world.staff["agent"], world.staff["supervisor"]
    counter = itertools.count()
    # Agent display names (admin API); control characters are refused with 422.
    named = 0
    for payload in SHORT[:12]:
        response = admin.request("POST", "/api/users", json={
            "email": f"x{next(counter)}@helpline.test", "display_name": payload, "role": "agent",
            "password": "a long enough password"})
        assert response.status_code in (201, 422), response.text
        named += response.status_code == 201
    assert named >= 10
    seed_first_messages(world.database_url)

    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_init_script(HOOKS)

    # The customer types every payload on the chat page; the bot echoes each back.
    chat = watch.attach(context.new_page(), "chat page")
    chat.goto(world.url + "/")
    expect(chat.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    box = chat.get_by_label("Your message")
    messages = chunks(PAYLOADS, 12)
    for n, text in enumerate(messages, start=1):
        box.fill(text)
        box.press("Enter")
        expect(chat.locator(".msg--out")).to_have_count(n, timeout=15_000)
    box.fill("human please")
    box.press("Enter")
    expect(chat.locator(".msg--system").last).to_contain_text("HL-", timeout=15_000)

    # The agent takes it, replies and writes notes with payloads (console API).
    queue = agent.http.get("/api/queue").json()["queue"]
    ticket = max(t["id"] for t in queue)
    conversation = next(t["conversation_id"] for t in queue if t["id"] == ticket)
    assert agent.request("POST", "/api/presence", json={"status": "online"}).status_code == 200
    assert agent.request("POST", f"/api/tickets/{ticket}/claim").status_code == 200
    for text in chunks(PAYLOADS, 24):
        assert agent.request("POST", f"/api/tickets/{ticket}/messages", json={"text": text}).status_code == 201
        assert agent.request("POST", f"/api/tickets/{ticket}/notes", json={"text": text}).status_code == 201
    expect(chat.locator(".msg--agent, .msg--out").last).to_contain_text("alert", timeout=15_000)
    watch.probe(chat, "chat page")

    console = signed_in(context, watch, world.url, "agent", "/console")
    console.locator("#mine button, #queue button").first.click()
    expect(console.locator(".transcript")).to_contain_text("alert(64)", timeout=15_000)
    watch.probe(console, "console with the ticket")

    resolved = agent.request("POST", f"/api/tickets/{ticket}/resolve", json={"note": chunks(PAYLOADS, 80)[0][:3900]})
    assert resolved.status_code == 200, resolved.text
    # Supervisors' comments and tags on the conversation (review API).
    for text in chunks(PAYLOADS, 24):
        assert sup.request("POST", f"/api/review/conversations/{conversation}/comments",
                           json={"text": text}).status_code == 201
    for payload in SHORT[:20]:
        tagged = sup.request("POST", f"/api/review/conversations/{conversation}/tags", json={"tag": payload[:48]})
        assert tagged.status_code in (201, 422), tagged.text

    context.close()
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_init_script(HOOKS)
    review = signed_in(context, watch, world.url, "supervisor", "/review")
    expect(review.locator("#rows tr")).to_have_count(50, timeout=20_000)
    watch.probe(review, "review list")
    transcript = watch.attach(context.new_page(), "review transcript")
    transcript.goto(f"{world.url}/review/{conversation}")
    expect(transcript.locator("body")).to_contain_text("alert(64)", timeout=15_000)
    watch.probe(transcript, "review transcript")
    dashboard = watch.attach(context.new_page(), "dashboard")
    dashboard.goto(world.url + "/dashboard")
    expect(dashboard.locator("body[data-loaded=true]")).to_be_attached(timeout=60_000)
    watch.probe(dashboard, "dashboard")
    context.close()

    # The CSV export: no cell a spreadsheet would run as a formula.
    export = sup.http.get("/api/review/export", params={"format": "csv"})
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    formulas = [cell for cell in cells if cell[:1] in FORMULA_STARTS or cell[:1] in ("\t", "\r")]
    assert not formulas, formulas[:5]

    assert watch.pages == 5
    assert not watch.problems, "\n".join(watch.problems[:30])




def test_the_detector_sees_a_payload_that_does_get_in(world: LiveWorld, browser: Browser) -> None:  # noqa: F811
    """Control: if a page did put a payload into its DOM as markup, the probe would say so
    (CSP refuses the inline handler and reports it; the element and link are seen)."""
    watch = Watch()
    context = browser.new_context()
    context.add_init_script(HOOKS)
    page = watch.attach(context.new_page(), "chat page (control)")
    page.goto(world.url + "/")
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    page.evaluate("""() => document.body.insertAdjacentHTML('beforeend',
        '<img src=x id=xss-control onerror=alert(1)><a href="javascript:alert(2)">x</a>')""")
    page.wait_for_timeout(300)
    watch.probe(page, "control")
    context.close()
    text = "\n".join(watch.problems)
    assert "csp" in text and "injected elements=1" in text and "javascript:alert(2)" in text, text
