"""What an agent and a supervisor see on the staff pages, in headless Chromium (issue 18):
one navigation bar on every page (and on the 403 pages), the FAQ gaps page's 403 for an
agent, a long ticket whose header and actions stay in view, the resolve form starting at
the ticket's own category, and the desktop-notification / sound toggles that alert an
agent to a new ticket and to a customer writing in their chat.

The browser's Notification API is replaced by a recorder (a headless browser has no
desktop to show notifications on), and WebAudio's createOscillator is counted (the real
one still runs): what is asserted is what the page asked the browser to show or play."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from handoff.models import Ticket
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import ChatClient, Gateway, running_gateway
from tests.stack_harness import OUTPUT
from tests.staff.analytics.builders import RowBuilder
from tests.staff.test_console import PASSWORD, add_user

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

AGENT, SUPERVISOR = "dana@helpline.test", "sam@helpline.test"
ALL_LINKS = ["Console", "Review", "Dashboard", "FAQ gaps", "My stats"]

# Installed before any page script: notifications and beeps are recorded, and the console
# counts as being in the background (not focused), as when the agent works elsewhere.
RECORDER = """
window.__shown = []; window.__asked = 0; window.__beeps = 0;
class RecordedNotification {
  constructor(title, options) { window.__shown.push({ title, body: (options || {}).body || "" }); }
  close() {}
}
// Like a browser, the granted permission outlives a reload (kept here for the tab).
RecordedNotification.permission = sessionStorage.getItem("granted") ? "granted" : "default";
RecordedNotification.requestPermission = async () => {
  window.__asked += 1; RecordedNotification.permission = "granted"; sessionStorage.setItem("granted", "1");
  return "granted";
};
window.Notification = RecordedNotification;
document.hasFocus = () => false;
const realOscillator = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__beeps += 1; return realOscillator.call(this); };
"""


class Shop:
    """The gateway in a thread, and customers who write to it over socket.io."""

    def __init__(self, gateway: Gateway, url: str, loop: asyncio.AbstractEventLoop) -> None:
        self.gateway, self.db_url, self.loop = gateway, url, loop

    def customer_says(self, text: str, session_id: str | None = None, *, answered: bool = True) -> str:
        """``answered``: wait for the bot's reply (not when an agent owns the chat)."""
        async def talk() -> str:
            customer = ChatClient()
            sid = await customer.connect(self.gateway.url, session_id)
            await customer.say(text)  # returns once the message is stored
            if answered:
                await customer.next_of("bot_uttered")
            await customer.close()
            return sid

        # Playwright's sync API owns this thread's loop: the customer runs on the gateway's.
        return asyncio.run_coroutine_threadsafe(talk(), self.loop).result(60)

    def latest_ticket(self) -> Ticket:
        engine = make_engine(self.db_url)
        with make_session_factory(engine)() as session:
            ticket = session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
            session.expunge_all()
        engine.dispose()
        assert ticket is not None
        return ticket

    def lengthen(self, conversation_id: str, messages: int) -> None:
        """Earlier chat with the bot, so the transcript is far taller than the window."""
        engine = make_engine(self.db_url)
        with make_session_factory(engine).begin() as session:
            rows = RowBuilder(session)
            start = datetime.now(UTC) - timedelta(hours=1)
            for i in range(messages):
                inbound = i % 2 == 0
                rows.message(conversation_id, start + timedelta(seconds=i), direction="in" if inbound else "out",
                             author="customer" if inbound else "bot")
        engine.dispose()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    upgrade(url)
    add_user(url, AGENT, "Dana Agent", "agent")
    add_user(url, SUPERVISOR, "Sam Supervisor", "supervisor")
    ready, stop, box = threading.Event(), threading.Event(), {}
    # No embedding model: the gaps page answers its list with a quick 503 instead of loading one.
    settings = {"embedding_model": str(tmp_path / "no-model")}

    async def serve() -> None:
        async with running_gateway(tmp_path, url, extra_settings=settings) as running:
            box["gateway"], box["loop"] = running, asyncio.get_running_loop()
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(60), "gateway did not start"
    yield Shop(box["gateway"], url, box["loop"])
    stop.set()
    thread.join(10)


def wait_until(page: Page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JS expression (page.wait_for_function evaluates strings, which the pages' CSP
    forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"timed out waiting for {expression}"
        page.wait_for_timeout(100)


def sign_in(context: BrowserContext, shop: Shop, email: str, path: str) -> Page:
    page = context.new_page()
    page.goto(shop.gateway.url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def expect_nav(page: Page, *, links: list[str], current: str | None, name: str, role: str) -> None:
    nav = page.get_by_role("navigation", name="Staff pages")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link")).to_have_text(links)
    if current is not None:
        expect(nav.get_by_role("link", name=current, exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator(".staff-nav__user")).to_have_text(f"{name} ({role})")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_supervisor_sees_one_navigation_bar_on_every_page(shop: Shop, browser: Browser) -> None:  # noqa: F811
    # Three customers, each escalated today: three conversations and three tickets.
    cid = shop.customer_says("human please, first")
    shop.customer_says("human please, second")
    shop.customer_says("human please, third")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = sign_in(context, shop, SUPERVISOR, "/console")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible(timeout=20_000)
    for path, current in (("/console", "Console"), ("/review", "Review"), (f"/review/{cid[:32]}", "Review"),
                          ("/dashboard", "Dashboard"), ("/dashboard/me", "My stats"), ("/gaps", "FAQ gaps")):
        page.goto(shop.gateway.url + path)
        expect_nav(page, links=ALL_LINKS, current=current, name="Sam Supervisor", role="supervisor")
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(shop.gateway.url + "/dashboard")
    # Conversations per day: integer ticks, each once; the tickets line (equal to the
    # conversations line today) does not hide it.
    chart = page.locator("figure.chart", has_text="Conversations per day")
    expect(chart.locator("text.tick")).to_have_text(["0", "1", "2", "3"], timeout=20_000)
    expect(chart.locator(".legend span")).to_have_text(["conversations", "tickets"])
    groups = chart.locator("g.series-group")
    expect(groups).to_have_count(2)
    assert groups.evaluate_all("gs => gs.map((g) => g.dataset.series)") == ["tickets", "conversations"]  # on top last
    lines = groups.locator("path")
    styles = lines.evaluate_all("ps => ps.map((p) => [p.getAttribute('stroke'), p.getAttribute('stroke-dasharray')])")
    assert styles[0][0] != styles[1][0] and styles[0][1] and not styles[1][1]  # tickets: own colour, dashed
    chart.screenshot(path=str(OUTPUT / "dashboard_conversations_chart.png"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    context.close()


def test_agent_nav_and_403_pages_for_supervisor_pages(shop: Shop, browser: Browser) -> None:  # noqa: F811
    context = browser.new_context()
    page = sign_in(context, shop, AGENT, "/dashboard/me")
    expect_nav(page, links=["Console", "My stats"], current="My stats", name="Dana Agent", role="agent")
    for path in ("/gaps", "/review", "/dashboard"):
        response = page.goto(shop.gateway.url + path)
        assert response is not None and response.status == 403 and "text/html" in response.headers["content-type"]
        expect(page.get_by_role("heading", level=1)).to_have_text("403: supervisors only")
        expect(page.locator("main")).to_contain_text("you are signed in as agent")
        expect_nav(page, links=["Console", "My stats"], current=None, name="Dana Agent", role="agent")
    page.screenshot(path=str(OUTPUT / "gaps_403_agent.png"))
    context.close()


def test_agent_console_long_ticket_category_and_alerts(shop: Shop, browser: Browser) -> None:  # noqa: F811
    session_id = shop.customer_says("human please, my blender arrived broken and damaged")
    first = shop.latest_ticket()
    assert first.category == "returns_refunds"  # not the first category alphabetically
    shop.lengthen(first.conversation_id, 80)

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(RECORDER)
    page = sign_in(context, shop, AGENT, "/console")
    expect(page.get_by_role("heading", name="Queue")).to_be_visible(timeout=20_000)
    expect_nav(page, links=["Console", "My stats"], current="Console", name="Dana Agent", role="agent")

    # Notifications are asked for on a click, never on load; sound is a stored toggle.
    notify = page.get_by_role("button", name="Desktop notifications: off")
    expect(notify).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("window.__asked") == 0
    notify.click()
    expect(page.get_by_role("button", name="Desktop notifications: on")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__asked") == 1
    sound = page.get_by_label("Sound on new tickets and customer messages")
    expect(sound).not_to_be_checked()
    sound.check()
    assert page.evaluate("localStorage.getItem('helpline.console.sound')") == "on"
    assert page.evaluate("window.__beeps") == 1  # a preview beep
    page.reload()
    expect(page.get_by_label("Sound on new tickets and customer messages")).to_be_checked()
    expect(page.get_by_role("button", name="Desktop notifications: on")).to_be_visible()
    expect(page.locator("#queue button")).to_have_count(1, timeout=10_000)
    assert page.evaluate("window.__shown.length") == 0  # tickets already waiting are not news

    # A new ticket arrives while the agent works elsewhere: notified, with a beep.
    shop.customer_says("human please, where is my parcel")
    expect(page.locator("#queue button")).to_have_count(2, timeout=10_000)
    wait_until(page, "window.__shown.length === 1")
    second = shop.latest_ticket()
    shown = page.evaluate("window.__shown[0]")
    assert shown["title"] == f"New ticket {second.number}"
    assert "customer request" in shown["body"] and "my parcel" not in shown["body"]  # no customer words
    assert page.evaluate("window.__beeps") >= 1

    # The long ticket: header and actions stay in view while the transcript scrolls.
    page.locator(f'#queue button[data-ticket="{first.id}"]').click()
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("button", name="Resolve…")).to_be_visible()
    transcript = page.get_by_label("Transcript")
    expect(transcript).to_contain_text("has joined", timeout=10_000)  # the claim notice, after 80 older lines
    assert transcript.locator("li").count() > 80
    assert transcript.evaluate("t => t.scrollHeight > 3 * t.clientHeight")
    assert transcript.evaluate("t => t.scrollTop + t.clientHeight >= t.scrollHeight - 2")  # at the newest
    newest = transcript.evaluate("t => t.scrollTop")
    transcript.hover()
    page.mouse.wheel(0, -3000)  # the agent scrolls back through the older messages
    wait_until(page, f"document.querySelector('.transcript').scrollTop < {newest - 1500}")
    assert page.evaluate("document.scrollingElement.scrollTop") == 0
    header = page.locator(".ticket-head")
    for name in ("Hand back to bot", "Details", "Notes", "Resolve…"):
        expect(header.get_by_role("button", name=name, exact=True)).to_be_in_viewport()
    expect(header.get_by_role("heading", level=2)).to_contain_text(first.number)
    expect(header.get_by_role("heading", level=2)).to_be_in_viewport()
    page.screenshot(path=str(OUTPUT / "console_long_ticket.png"))

    # Resolve starts at the ticket's own category, and the button brings its form into view.
    header.get_by_role("button", name="Resolve…").click()
    expect(page.get_by_label("Category")).to_have_value("returns_refunds")
    expect(page.get_by_label("Resolution note (sent to the customer)")).to_be_focused()
    expect(page.get_by_label("Resolution note (sent to the customer)")).to_be_in_viewport()

    # The customer writes in the chat: the agent (console in the background) is told.
    before = page.evaluate("window.__shown.length")
    shop.customer_says("are you still there?", session_id, answered=False)
    expect(transcript).to_contain_text("are you still there?", timeout=10_000)
    wait_until(page, f"window.__shown.length > {before}")
    assert page.evaluate("window.__shown.at(-1).title") == f"Customer wrote in {first.number}"
    assert "still there" not in page.evaluate("window.__shown.at(-1).body")
    context.close()


def test_agent_console_shows_the_title_of_a_pressed_button(shop: Shop, browser: Browser) -> None:  # noqa: F811
    session_id = shop.customer_says("buttons")  # the scripted Rasa offers "Yes" (payload /affirm)
    shop.customer_says("/affirm", session_id)
    shop.customer_says("human please, that was not it", session_id)
    ticket = shop.latest_ticket()

    page = sign_in(browser.new_context(), shop, AGENT, "/console")
    page.locator(f'#queue button[data-ticket="{ticket.id}"]').click(timeout=20_000)
    pressed = page.get_by_label("Transcript").locator('li[title="/affirm"]')
    expect(pressed).to_have_count(1, timeout=10_000)
    expect(pressed).to_contain_text("Yes")
    assert "/affirm" not in pressed.inner_text()  # the payload only on hover
