"""What every signed-in HTML page of the gateway shares: the user's CSRF token and name
filled into its template, security headers, and a 403 page for a role that may not see it.

The pages are static files with ``__CSRF_TOKEN__`` / ``__USER_NAME__`` placeholders; their
scripts read the token from the page and send it with every unsafe request.
"""

from __future__ import annotations

import html
from importlib.abc import Traversable

from fastapi.responses import HTMLResponse

from staff.auth.dependencies import AuthenticatedUser


def security_headers(*, inline_styles: bool = False, no_store: bool = True) -> dict[str, str]:
    """Scripts, styles and images from our own origin only; never framed.

    ``inline_styles``: pages whose scripts set ``style`` attributes (the dashboard's SVG).
    ``no_store``: pages showing customers' words are not kept in shared caches."""
    styles = "'self' 'unsafe-inline'" if inline_styles else "'self'"
    headers = {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'; style-src {styles}; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    if no_store:
        headers["Cache-Control"] = "no-store"
    return headers


def fill_page(template: str, user: AuthenticatedUser) -> str:
    return template.replace("__CSRF_TOKEN__", html.escape(user.csrf_token, quote=True)).replace(
        "__USER_NAME__", html.escape(user.display_name)
    )


def page_response(
    template: Traversable, user: AuthenticatedUser, headers: dict[str, str] | None = None
) -> HTMLResponse:
    return HTMLResponse(fill_page(template.read_text(), user), headers=headers)


def forbidden_page(
    user: AuthenticatedUser,
    *,
    what: str,
    stylesheet: str,
    links: list[tuple[str, str]],
    headers: dict[str, str],
    body_class: str | None = None,
) -> HTMLResponse:
    """403 for a signed-in user whose role may not see ``what`` (e.g. "The KPI dashboard")."""
    body_attr = f' class="{body_class}"' if body_class else ""
    nav = " · ".join(f'<a href="{href}">{html.escape(label)}</a>' for href, label in links)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not allowed</title>'
        f'<link rel="stylesheet" href="{stylesheet}"></head><body{body_attr}><main>'
        f"<h1>403: supervisors only</h1><p>{html.escape(what)} is for supervisors and admins; "
        f"you are signed in as {html.escape(user.role)}.</p><p>{nav}</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=403, headers=headers)
