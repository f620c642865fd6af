"""Review search matches only what the supervisor can see (issue 15): the transcript shows
e-mail addresses and card numbers masked, so searching the unmasked value, or a part of
it, must not find the conversation (it would confirm a guess). SQLite and PostgreSQL."""

from __future__ import annotations

from tests.security.conftest import World
from tests.staff.review.seed import CARD, EMAIL, IBAN, PHONE


async def test_search_cannot_confirm_masked_values(world: World) -> None:
    c, s = world.supervisor, world.seeded
    # The values themselves: refused with the reason (they are masked everywhere).
    for value in (EMAIL, CARD, CARD.replace(" ", ""), IBAN, PHONE, f"card {CARD}"):
        response = await c.get("/api/review/conversations", q=value)
        assert response.status_code == 422, (value, response.text)
        assert "masked" in response.json()["detail"], response.text
    # Parts of them match the stored text but not the masked one: nothing found.
    for part in ("jane.doe", "example.com", "doe@example", "3704", "0044 0532", "DE89", "7946"):
        assert await c.ids(q=part) == [], part
    # The same parts through the export.
    export = await c.get("/api/review/export", q="0044", format="json")
    assert export.status_code == 200 and export.json()["count"] == 0
    # What is visible is still found: words beside the masked values, and the order
    # number that only looks like a card (it fails Luhn, so it is shown as is).
    assert await c.ids(q="charged twice") == [s.complaint]
    assert await c.ids(q="Mail me") == [s.bot]
    assert await c.ids(q="1112") == [s.complaint]
    csv = await c.get("/api/review/export", q="charged")
    assert csv.status_code == 200 and s.complaint in csv.text and CARD not in csv.text
