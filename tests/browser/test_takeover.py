"""Issue 4 end to end in headless Chromium: a customer page and an agent console.

The customer asks for a person, the agent (created with `helpline users add`) logs in,
claims the ticket, both talk, the agent hands back and the bot answers again.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_chat_page import browser  # noqa: F401  (shared fixture)
from tests.stack_harness import OUTPUT, PROJECT, Stack

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

EMAIL = "dana.agent@example.com"
PASSWORD = "browser-test-password"


def add_agent(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "users", "add", "--email", EMAIL, "--name", "Dana",
         "--role", "agent", "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, cwd=PROJECT, env=stack.env,
    )
    assert result.returncode == 0 or "already" in result.stderr, result.stderr


def test_agent_takes_over_and_hands_back(stack: Stack, browser: Browser) -> None:  # noqa: F811
    add_agent(stack)
    customer = browser.new_context().new_page()
    agent = browser.new_context().new_page()

    customer.goto(stack.url + "/")
    expect(customer.get_by_role("status")).to_have_text("Connected", timeout=20_000)
    box = customer.get_by_label("Your message")
    box.fill("I want to talk to a person please")
    box.press("Enter")
    expect(customer.locator(".msg--system").last).to_contain_text("ticket number is HL-", timeout=30_000)

    agent.goto(stack.url + "/console")
    agent.get_by_label("Email").fill(EMAIL)
    agent.get_by_label("Password").fill(PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent.get_by_role("heading", name="Queue")).to_be_visible(timeout=20_000)
    agent.locator("#queue button").first.click()
    # The console shows the bot part of the conversation and which channel it is on.
    expect(agent.locator(".transcript")).to_contain_text("I want to talk to a person please")
    expect(agent.locator("[data-channel]")).to_have_text("on web")
    agent.get_by_role("button", name="Claim").click()
    expect(customer.locator(".msg--system").last).to_contain_text("Dana from our support team has joined", timeout=10_000)

    reply = agent.get_by_label("Reply to the customer")
    reply.fill("Hello, I'm Dana. <script>window.hacked=1</script> How can I help?")
    agent.get_by_role("button", name="Send").click()
    expect(reply).to_have_value("", timeout=5_000)  # cleared once the gateway stored it
    agent_message = customer.locator(".msg--out").last
    expect(agent_message).to_contain_text("<script>window.hacked=1</script>", timeout=5_000)
    expect(agent_message).to_contain_text("Agent")
    assert customer.evaluate("window.hacked === undefined")

    box.fill("My parcel <b>never</b> arrived")
    box.press("Enter")
    expect(agent.locator(".transcript")).to_contain_text("My parcel <b>never</b> arrived", timeout=5_000)
    assert agent.locator(".transcript b").count() == 0
    OUTPUT.mkdir(exist_ok=True)
    agent.screenshot(path=str(OUTPUT / "agent-console.png"), full_page=True)

    agent.get_by_role("button", name="Hand back to bot").click()
    expect(customer.locator(".msg--system").last).to_contain_text("back with the Brightcart assistant", timeout=10_000)
    expect(customer.locator(".msg--out").last).to_contain_text("anything else", timeout=30_000)

    box.fill("How do I cancel my order?")
    box.press("Enter")
    expect(customer.locator(".msg--out").last).to_contain_text("cancel", timeout=30_000)
    customer.screenshot(path=str(OUTPUT / "customer-after-handback.png"), full_page=True)
