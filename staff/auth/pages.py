"""The login page: server-rendered, no scripts, no third-party assets."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, Template

LOGIN_CSS_PATH = "/auth/login.css"

# The chat page's palette (bot/static/chat.css), so the console's front door looks like it.
LOGIN_CSS = """\
:root { --accent: #1f5fbf; --bg: #f4f6fa; --text: #1b1f24; --error-bg: #fde7e7; --error: #8a1c1c; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
.login { width: min(24rem, 100% - 2rem); background: #fff; box-shadow: 0 0 0 1px #dde2ea; border-radius: .6rem; overflow: hidden; }
.login__header { padding: .75rem 1rem; background: var(--accent); color: #fff; }
.login__header h1 { margin: 0; font-size: 1.15rem; }
.login__header p { margin: 0; font-size: .85rem; opacity: .9; }
.login form { display: flex; flex-direction: column; gap: .4rem; padding: 1rem; }
.login label { font-weight: 600; font-size: .95rem; margin-top: .4rem; }
.login input { font: inherit; padding: .55rem .7rem; border: 1px solid #b9c1cd; border-radius: .5rem; }
.login input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
.login button { margin-top: .8rem; font: inherit; padding: .6rem 1.1rem; border: 0; border-radius: .5rem; background: var(--accent); color: #fff; cursor: pointer; }
.login button:focus-visible { outline: 2px solid var(--text); outline-offset: 2px; }
.login__error { margin: 0; padding: .5rem 1rem; background: var(--error-bg); color: var(--error); font-size: .9rem; }
"""

LOGIN_TEMPLATE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{ csrf_token }}">
<title>Sign in · Helpline agent console</title>
<link rel="stylesheet" href="{{ css_path }}">
</head>
<body>
<main class="login">
  <header class="login__header">
    <h1>Helpline</h1>
    <p>Agent console</p>
  </header>
  {% if error %}<p class="login__error" role="alert" id="login-error">{{ error }}</p>{% endif %}
  <form method="post" action="{{ action }}"{% if error %} aria-describedby="login-error"{% endif %}>
    <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
    <input type="hidden" name="next" value="{{ next }}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required{% if not email %} autofocus{% endif %} value="{{ email }}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required{% if email %} autofocus{% endif %}>
    <button type="submit">Sign in</button>
  </form>
</main>
</body>
</html>
"""

# No scripts at all; styles only from our own origin; the form posts only to us; no framing.
PAGE_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def _login_template() -> Template:
    # Autoescape: the email and any message are echoed back into the page.
    return Environment(autoescape=True).from_string(LOGIN_TEMPLATE)


def render_login(
    *, action: str, csrf_token: str, next_path: str, email: str = "", error: str | None = None
) -> str:
    return _login_template().render(
        action=action,
        csrf_token=csrf_token,
        next=next_path,
        email=email,
        error=error,
        css_path=LOGIN_CSS_PATH,
    )
