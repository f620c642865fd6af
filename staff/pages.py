"""What every signed-in HTML page of the gateway shares: the user's CSRF token, the one
navigation bar, security headers, and a 403 page for a role that may not see a page.

The pages are static files with ``__CSRF_TOKEN__``, ``__USER_NAME__`` and ``__STAFF_NAV__``
placeholders; their scripts read the token from the page and send it with every unsafe
request. The navigation bar is built here, once, for every page (and the 403 page): links
the user's role may open, the user's name and role, and Sign out.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str
    supervisors_only: bool  # agents get a 403 page there, so they are not offered the link


NAV_LINKS = (
    NavLink("/console", "Console", False),
    NavLink("/review", "Review", True),
    NavLink("/dashboard", "Dashboard", True),
    NavLink("/gaps", "FAQ gaps", True),
    NavLink("/dashboard/me", "My stats", False),
)

# Which link a page template belongs to (the transcript is part of Review).
PAGE_OF_TEMPLATE = {
    "console.html": "/console",
    "review.html": "/review",
    "transcript.html": "/review",
    "dashboard.html": "/dashboard",
    "me.html": "/dashboard/me",
    "gaps.html": "/gaps",
}


def nav_bar(user: AuthenticatedUser, current: str | None = None) -> str:
    """The staff navigation bar: the pages the user's role may open (``current`` marked
    with aria-current), the user's name and role, and a Sign out form (POST with CSRF)."""
    items = []
    for link in NAV_LINKS:
        if link.supervisors_only and not user.has_role("supervisor"):
            continue
        here = ' aria-current="page"' if link.href == current else ""
        items.append(f'<li><a href="{link.href}"{here}>{html.escape(link.label)}</a></li>')
    token = html.escape(user.csrf_token, quote=True)
    return (
        '<header class="staff-nav">'
        '<a class="staff-nav__brand" href="/console">Helpline</a>'
        f'<nav aria-label="Staff pages"><ul class="staff-nav__links">{"".join(items)}</ul></nav>'
        f'<span class="staff-nav__user" data-role="{html.escape(user.role, quote=True)}">'
        f'{html.escape(user.display_name)} <span class="staff-nav__role">({html.escape(user.role)})</span></span>'
        '<form method="post" action="/logout" class="staff-nav__signout">'
        f'<input type="hidden" name="csrf_token" value="{token}">'
        '<button type="submit">Sign out</button></form>'
        "</header>"
    )


_PLACEHOLDER = re.compile(r"__(CSRF_TOKEN|USER_NAME|STAFF_NAV)__")


def fill_page(template: str, user: AuthenticatedUser, current: str | None = None) -> str:
    # One pass, so a user's name that reads like a placeholder stays text.
    values = {
        "CSRF_TOKEN": html.escape(user.csrf_token, quote=True),
        "USER_NAME": html.escape(user.display_name),
        "STAFF_NAV": nav_bar(user, current),
    }
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def page_response(
    template: Traversable, user: AuthenticatedUser, headers: dict[str, str] | None = None
) -> HTMLResponse:
    current = PAGE_OF_TEMPLATE.get(template.name)
    return HTMLResponse(fill_page(template.read_text(), user, current), headers=headers)


def forbidden_page(
    user: AuthenticatedUser,
    *,
    what: str,
    stylesheet: str,
    links: list[tuple[str, str]],
    headers: dict[str, str],
    body_class: str | None = None,
) -> HTMLResponse:
    """403 for a signed-in user whose role may not see ``what`` (e.g. "The KPI dashboard"),
    with the same navigation bar as every staff page and ``links`` as ways on."""
    body_attr = f' class="staff-forbidden {body_class}"' if body_class else ' class="staff-forbidden"'
    onward = " · ".join(f'<a href="{href}">{html.escape(label)}</a>' for href, label in links)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Not allowed · Helpline</title>'
        f'<link rel="stylesheet" href="/staff/static/staff.css"><link rel="stylesheet" href="{stylesheet}">'
        f"</head><body{body_attr}>{nav_bar(user)}<main>"
        f"<h1>403: supervisors only</h1><p>{html.escape(what)} is for supervisors and admins; "
        f"you are signed in as {html.escape(user.role)}.</p><p>{onward}</p></main></body></html>"
    )
    return HTMLResponse(body, status_code=403, headers=headers)
