"""Settings of authentication, as plain values (bot.settings holds the fields)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from staff.auth.passwords import DEFAULT_MIN_LENGTH


@dataclass(frozen=True)
class AuthConfig:
    """Field names equal the Settings field names (env var HELPLINE_<NAME upper-cased>)."""

    # Absolute lifetime of a console session, however active.
    session_max_age_seconds: int = 12 * 3600
    # A session unused this long ends; each request (at most once a minute) extends it.
    session_idle_timeout_seconds: int = 3600
    # Secure cookie flag; None = on exactly when the public URL is https.
    session_cookie_secure: bool | None = None
    password_min_length: int = DEFAULT_MIN_LENGTH
    # Failed logins allowed per (email, IP) within the window before 429.
    login_max_failures: int = 5
    login_failure_window_seconds: int = 900

    def __post_init__(self) -> None:
        if self.session_idle_timeout_seconds <= 0 or self.session_max_age_seconds <= 0:
            raise ValueError("session lifetimes must be positive")
        if self.password_min_length < 8:
            raise ValueError("password_min_length below 8 is not allowed")

    @classmethod
    def from_settings(cls, settings: Any) -> AuthConfig:
        """Read the fields the Settings object has; those it lacks keep their defaults.

        Tolerating absent fields lets this package ship before bot/settings.py grows them.
        """
        values = {f.name: getattr(settings, f.name) for f in fields(cls) if hasattr(settings, f.name)}
        return cls(**values)

    def cookie_secure(self, public_url: str | None) -> bool:
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return bool(public_url and public_url.lower().startswith("https://"))
