"""The survey in our chat page, in headless Chromium: five stars in a row, answered once.

The gateway is the real one (tests/gateway_harness.py) with the scripted Rasa, so the
page's rendering is what is tested; screenshots go to test-output/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from bot.csat import dialogue
from bot.local_stack import OUTPUT
from tests.csat.helpers import all_surveys
from tests.gateway_harness import ScriptedRasa, running_gateway

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-gpu", "--no-first-run", "--disable-sync"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_customer_rates_with_stars_and_adds_a_comment(tmp_path: Path, database_url: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Debian's chromium is required for browser tests")
    OUTPUT.mkdir(exist_ok=True)
    rasa = ScriptedRasa(intents={"bye": "goodbye"})
    async with running_gateway(tmp_path, database_url, csat=True, rasa=rasa) as gateway:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 720, "height": 900})
            await page.goto(gateway.url + "/")
            await expect(page.locator("#status")).to_have_text("Connected")
            for text in ("question: can I return sale items?", "bye"):
                await page.fill("#input", text)
                await page.press("#input", "Enter")
                await expect(page.locator(".msg--out").last).not_to_have_text("")
            stars = page.locator(".replies--rating .star")
            await expect(stars).to_have_count(5)
            await expect(page.locator(".msg--out", has_text=dialogue.RATE_PROMPT)).to_be_visible()
            assert await stars.nth(3).get_attribute("aria-label") == "4 out of 5, good"
            # One row: every star on the same line.
            tops = {round((await stars.nth(i).bounding_box())["y"]) for i in range(5)}  # type: ignore[index]
            assert len(tops) == 1

            await stars.nth(3).hover()
            assert await page.locator(".replies--rating .star.is-lit").count() == 4
            await page.screenshot(path=str(OUTPUT / "csat-rating-stars.png"))
            await stars.nth(3).click()
            await expect(page.locator(".msg--in").last).to_have_text("You\u2605\u2605\u2605\u2605\u2606 (4/5)")
            for index in range(5):
                await expect(stars.nth(index)).to_be_disabled()  # answered once

            yes = page.locator(".replies button", has_text="Yes").last
            await expect(yes).to_be_visible()
            await yes.click()
            await expect(page.locator(".msg--out", has_text="Anything you'd like to add?")).to_be_visible()
            await page.fill("#input", "Easy to use")
            await page.press("#input", "Enter")
            await expect(page.locator(".msg--out", has_text=dialogue.THANKS_FOR_COMMENT)).to_be_visible()
            await page.screenshot(path=str(OUTPUT / "csat-dialogue-done.png"))

            # After a reload the history shows what was chosen, not the raw payloads.
            await page.reload()
            await expect(page.locator(".msg--out", has_text=dialogue.THANKS_FOR_COMMENT)).to_be_visible()
            customer_lines = await page.locator(".msg--in .msg__text").all_text_contents()
            assert "4" in customer_lines and "Yes" in customer_lines
            assert not [line for line in customer_lines if line.startswith("/csat_")]
            await browser.close()
        (survey,) = all_surveys(database_url)
        assert (survey.state, survey.rating, survey.would_recommend, survey.comment) == ("done", 4, True, "Easy to use")

