"""The agent console keeps what the agent is typing when the ticket panel is redrawn.

Regression: an agent who clicked Claim and typed straight away (key by key, as people
do) sent only the first characters ("Hi"). The claim's own redraw and the 'ticket_changed'
socket event that follows it each rebuilt the panel; the reply box was a new element,
so the focus went to the page and the keys typed after the redraw were lost. The gateway
runs in-process with the scripted Rasa (tests/browser/cross_origin.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.cross_origin import gateway_in_thread
from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.gateway_harness import Gateway

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

REPLY = "Hi there, I am Ana and I am looking into your parcel right now."


@pytest.fixture
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    # One per test: a new ticket goes straight to an agent who is still online (within the
    # grace period of an earlier test's console), and these tests need it in the queue.
    with gateway_in_thread(tmp_path_factory.mktemp("console-typing")) as running:
        yield running


def customer_asks_for_a_person(gateway: Gateway, browser: Browser, text: str) -> Page:  # noqa: F811
    page = browser.new_context().new_page()
    page.goto(gateway.url + "/")
    expect(page.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".msg--system", has_text="ticket number is HL-").last).to_be_visible(timeout=15_000)
    return page


def signed_in_console(gateway: Gateway, browser: Browser, email: str) -> Page:  # noqa: F811
    from tests.staff.test_console import PASSWORD, add_user

    add_user(gateway.settings.database_url, email, "Ana")
    console = browser.new_context().new_page()
    console.goto(gateway.url + "/console")
    console.get_by_label("Email").fill(email)
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    expect(console.get_by_role("heading", name="Queue")).to_be_visible(timeout=20_000)
    return console


def test_typing_right_after_claim_sends_the_whole_reply(gateway: Gateway, browser: Browser) -> None:  # noqa: F811
    customer = customer_asks_for_a_person(gateway, browser, "human please, my parcel is lost")
    console = signed_in_console(gateway, browser, "ana.typing@example.com")
    console.locator("#queue button").first.click()
    expect(console.get_by_role("button", name="Claim")).to_be_visible()
    ticket_id = console.locator("#queue button").first.get_attribute("data-ticket")

    # A claim redraws the panel twice: once when the POST returns and once for the
    # 'ticket_changed' event it causes. On a busy machine the second read of the ticket comes
    # back while the agent is already typing; here it is held until "Hi" is typed, then let go.
    reads: list[Route] = []
    held: list[Route] = []

    def hold_later_reads(route: Route) -> None:
        if route.request.method != "GET" or not route.request.url.endswith(f"/api/tickets/{ticket_id}"):
            route.continue_()
            return
        reads.append(route)
        if len(reads) == 1:
            route.continue_()  # the first read after the claim brings the reply box
        else:
            held.append(route)

    console.route("**/api/tickets/*", hold_later_reads)
    console.get_by_role("button", name="Claim").click()
    reply = console.get_by_label("Reply to the customer")
    reply.press_sequentially(REPLY[:2], delay=15)  # as an agent types, straight after the click
    expect(reply).to_have_value(REPLY[:2])
    for _ in range(100):  # the event's read may still be on its way
        if held:
            break
        console.wait_for_timeout(50)
    assert held, "the claim's second read of the ticket was not seen"
    console.evaluate("document.querySelector('.ticket-head').dataset.before = 'redraw'")
    for route in held:
        route.continue_()
    expect(console.locator(".ticket-head[data-before]")).to_have_count(0)  # the panel was redrawn
    reply.page.keyboard.type(REPLY[2:], delay=15)  # the agent goes on typing where they were
    expect(reply).to_have_value(REPLY)
    expect(reply).to_be_focused()
    console.get_by_role("button", name="Send").click()
    expect(reply).to_have_value("", timeout=5_000)
    expect(customer.locator(".msg--out").last).to_contain_text(REPLY, timeout=10_000)
    expect(console.locator(".transcript li").last).to_contain_text(REPLY)
    customer.context.close()
    console.context.close()


def test_a_draft_stays_with_its_ticket(gateway: Gateway, browser: Browser) -> None:  # noqa: F811
    first = customer_asks_for_a_person(gateway, browser, "human please, my invoice is wrong")
    second = customer_asks_for_a_person(gateway, browser, "human please, I was charged twice")
    console = signed_in_console(gateway, browser, "ben.typing@example.com")
    expect(console.locator("#queue button")).to_have_count(2)
    a, b = (console.locator("#queue button").nth(i).get_attribute("data-ticket") for i in range(2))
    console.locator(f'#queue button[data-ticket="{a}"]').click()
    console.get_by_role("button", name="Claim").click()
    reply = console.get_by_label("Reply to the customer")
    reply.press_sequentially("Draft for the first customer", delay=5)

    # Before, the text in the box went along into the next ticket opened, ready to be sent
    # to the wrong customer.
    console.locator(f'#queue button[data-ticket="{b}"]').click()
    expect(console.locator(".ticket-head h2")).not_to_contain_text(console.locator(f'#mine button[data-ticket="{a}"] strong').inner_text())
    console.get_by_role("button", name="Claim").click()
    expect(reply).to_have_value("")
    console.locator(f'#mine button[data-ticket="{a}"]').click()
    expect(reply).to_have_value("Draft for the first customer")
    console.locator(f'#mine button[data-ticket="{b}"]').click()  # both chats are the agent's now
    expect(console.locator(".ticket-head h2")).to_contain_text(console.locator(f'#mine button[data-ticket="{b}"] strong').inner_text())
    expect(reply).to_have_value("")
    console.locator(f'#mine button[data-ticket="{a}"]').click()
    expect(reply).to_have_value("Draft for the first customer")

    # A note once added is not kept as a draft by the redraw that shows it.
    note = console.get_by_label("Add a note (not shown to the customer)")
    note.fill("Checked the invoice run")
    console.get_by_role("button", name="Add note").click()
    expect(console.locator("#notes")).to_contain_text("Checked the invoice run")
    expect(note).to_have_value("")
    for page in (first, second, console):
        page.context.close()
