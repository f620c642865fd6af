"""Only supervisors and admins reach conversation review: every route, every role."""

from __future__ import annotations

from tests.staff.review.conftest import World

READS = ("/api/review/conversations", "/api/review/conversations/{id}", "/api/review/export?format=json",
         "/api/review/options")
WRITES = (("PUT", "/api/review/conversations/{id}/status", {"status": "reviewed"}),
          ("POST", "/api/review/conversations/{id}/tags", {"tag": "x"}),
          ("DELETE", "/api/review/conversations/{id}/tags/x", None),
          ("POST", "/api/review/conversations/{id}/comments", {"text": "x"}))
PAGES = ("/review", "/review/{id}")


async def test_roles_on_every_route(world: World) -> None:
    cid = world.seeded.bot
    for path in READS:
        url = path.format(id=cid)
        assert (await world.anonymous.get(url)).status_code == 401, url
        assert (await world.agent.get(url)).status_code == 403, url
        assert (await world.supervisor.get(url)).status_code == 200, url
        assert (await world.admin.get(url)).status_code == 200, url
    for method, path, body in WRITES:
        url = path.format(id=cid)
        assert (await world.anonymous.send(method, url, body)).status_code == 401, url
        assert (await world.agent.send(method, url, body)).status_code == 403, url
        assert (await world.supervisor.send(method, url, body)).status_code in (200, 201), url
        assert (await world.admin.send(method, url, body)).status_code in (200, 201), url
    for path in PAGES:
        url = path.format(id=cid)
        anonymous = await world.anonymous.get(url)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next="), url
        agent = await world.agent.get(url)
        assert agent.status_code == 403 and "supervisors only" in agent.text, url
        for user in (world.supervisor, world.admin):
            page = await user.get(url)
            assert page.status_code == 200 and user.csrf in page.text and "__CSRF_TOKEN__" not in page.text
            assert 'href="/dashboard"' in page.text and 'href="/gaps"' in page.text
    assert (await world.anonymous.get("/review/static/review.js")).status_code == 200
    assert "build_review_router" not in (await world.admin.get("/review/static/../routes.py")).text
    assert (await world.anonymous.get("/review/static/routes.py")).status_code == 404
    assert (await world.anonymous.get("/review/static/secret.py")).status_code == 404
