"""The gateway's composition root: builds the ASGI app from settings."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from datetime import datetime
from importlib.resources import files
from typing import AsyncIterator

import anyio.to_thread
import socketio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text

from staff.auth.components import AuthComponents, build_auth
from bot.agent_names import AgentNames
from bot.channels.base import CustomerChannel
from bot.channels.telegram import (
    TelegramChannel,
    TelegramConfig,
    build_telegram_channel,
    derive_webhook_secret,
)
from bot.channels.web import (
    AgentSignals, WebChannel, WidgetScript, conversation_agents, ticket_holders, widget_script,
)
from staff.console.events import SocketConsole
from staff.console.routes import SuggestionClient, build_console_router
from bot.desk import HelpDesk, load_handoff_policy
from bot.conversation_ids import ConversationIdSigner
from staff.dashboard.routes import build_dashboard_router, targets_from
from staff.gaps.routes import build_gaps_router
from bot.csat.service import CsatPolicy, CsatSurveys
from bot.db import make_engine, make_session_factory
from bot.coordination.shared import Coordination, coordination_from
from bot.pipeline import MessagePipeline
from bot.replicas import check_replica_prerequisites
from bot.rasa_client import RasaClient
from staff.review.routes import build_review_router
from staff.security_headers import SecurityHeadersMiddleware
from bot.http_guard import install_input_guard
from bot.secrets import rasa_token, secret_key
from bot.settings import Settings, get_settings
from bot.transcript.models import utcnow
from bot.transcript.store import TranscriptStore
from handoff import Handoff

logger = logging.getLogger(__name__)

STATIC_DIR = files("bot") / "static"
STAFF_STATIC_DIR = files("staff") / "static"


def create_app(settings: Settings | None = None) -> socketio.ASGIApp:
    settings = settings or get_settings()
    if settings.replica is not None:
        check_replica_prerequisites(settings)  # refuses SQLite or no Redis, saying why
    # In memory for one gateway; in Redis when REDIS_URL is set (replicas share it all).
    shared = coordination_from(settings)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    store = TranscriptStore(sessions)
    rasa = RasaClient(settings.effective_rasa_urls, rasa_token(settings), settings.rasa_timeout_seconds)
    # Browsers connect only from our own pages and the sites the operator lets embed the
    # chat (HELPLINE_ALLOWED_ORIGINS); any other Origin is refused at the handshake.
    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=settings.socket_origins, logger=False,
                               **({"client_manager": shared.client_manager} if shared.client_manager else {}))
    web = WebChannel(sio, ConversationIdSigner(secret_key(settings)), store, settings.max_message_chars,
                     flood=shared.chat_guard)
    channels: dict[str, CustomerChannel] = {web.name: web}

    auth = build_auth(settings, sessions, rate_store=shared.limiter.store if shared.shared else None)
    handoff = Handoff(load_handoff_policy(settings))
    console = SocketConsole(sio, auth, handoff.policy.agent_grace.total_seconds(),
                            connections=shared.console_connections())
    # Read from the users table (cached briefly), not filled per replica: a customer on any
    # replica reads the name of an agent whose console is connected to another one.
    agent_name = AgentNames(lambda agent_id: _display_name(auth, agent_id))
    # The consoles hear of ticket changes; a web customer also sees an agent join and type.
    signals = AgentSignals(console, web, agent_name)
    desk = HelpDesk(handoff, sessions, store, channels, signals, agent_names=agent_name,
                    deliveries=shared.deliveries)
    signals.holder = ticket_holders(desk)
    console.on_agent_typing = signals.agent_typing
    web.agent_of = conversation_agents(desk, agent_name)
    # Built even when asking is off, so answers to surveys already asked still land.
    csat = CsatSurveys(sessions, CsatPolicy.from_settings(settings), handoff.bot_may_speak)
    pipeline = MessagePipeline(store, rasa, channels, desk, csat=csat, turns=shared.turns)
    desk.on_hand_back = pipeline.resume_bot
    desk.on_resolved = pipeline.survey_after_resolution
    web.attach(pipeline)
    suggestions = SuggestionClient(settings.effective_action_server_url)
    telegram = _telegram_channel(settings, store, pipeline, shared)

    async def agent_back(agent_id: int) -> None:
        user = await auth.users.run(lambda: auth.users.get(agent_id))
        if user is not None:
            agent_name.remember(agent_id, user.display_name)
        # A console (re)connected, e.g. after a gateway restart: the agent is here again,
        # so the disconnect grace that started when they went offline stops.
        await desk.set_presence(agent_id, "online")

    console.on_agent_back = agent_back
    console.on_agent_gone = lambda agent_id: _agent_gone(desk, agent_id)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        started_at = utcnow()
        await desk.start(alone=not shared.shared)
        if telegram is not None:
            await telegram.start()
        resume = asyncio.create_task(_resume_when_rasa_ready(pipeline, rasa, started_at))
        upkeep = asyncio.create_task(_upkeep(desk, pipeline, shared))
        logger.info("gateway ready at %s", settings.effective_public_url)
        yield
        resume.cancel()
        upkeep.cancel()
        await console.shutdown()
        await pipeline.shutdown()
        await desk.drain_deliveries()  # agents' last replies, before the channels stop
        if telegram is not None:
            await telegram.stop()  # after the pipeline drained: its last replies go out
        await suggestions.aclose()
        await rasa.aclose()
        await shared.aclose()
        engine.dispose()

    api = FastAPI(title="Helpline gateway", version="0.1.0", lifespan=lifespan)
    # Every response gets the security headers; bad input gets a 4xx with a reason (issue 15).
    install_input_guard(api)
    api.add_middleware(SecurityHeadersMiddleware)
    api.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    api.mount("/staff/static", StaticFiles(directory=str(STAFF_STATIC_DIR)), name="staff-static")
    api.mount("/console/static", StaticFiles(directory=str(STAFF_STATIC_DIR.parent / "console" / "static")),
              name="console-static")
    auth.install(api)
    api.include_router(build_console_router(auth, desk, store, suggestions))
    # Supervisors' pages (issue 6): conversation review, FAQ gaps, the KPI dashboard.
    api.include_router(build_review_router(auth, sessions))
    api.include_router(build_gaps_router(auth, sessions, settings))
    api.include_router(build_dashboard_router(auth, sessions, targets_from(settings)))
    if telegram is not None:
        api.include_router(telegram.router)

    chat_html = (STATIC_DIR / "index.html").read_text().replace(
        "__MAX_MESSAGE_CHARS__", str(settings.max_message_chars))

    @api.get("/", include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(chat_html)

    widget = WidgetScript(widget_script(
        (STATIC_DIR / "widget.js").read_text(), (STATIC_DIR / "vendor" / "socket.io.min.js").read_text(),
        title=settings.widget_title, color=settings.widget_color, greeting=settings.widget_greeting,
        max_chars=settings.max_message_chars))

    @api.get("/widget.js", include_in_schema=False)
    async def widget_js(request: Request) -> Response:
        """The embeddable chat (docs/widget.md): <script src=".../widget.js"></script>."""
        return widget.response(request.headers.get("accept-encoding", ""))

    @api.get("/healthz", tags=["operations"])
    async def health() -> JSONResponse:
        """Liveness and dependencies: database reachable, Rasa answering."""
        database = await anyio.to_thread.run_sync(_database_answers, engine)
        rasa_ready = await rasa.is_ready()
        status = 200 if database else 503
        return JSONResponse({"database": database, "rasa": rasa_ready}, status_code=status)

    return socketio.ASGIApp(sio, other_asgi_app=api, socketio_path="socket.io")


def _telegram_channel(
    settings: Settings, store: TranscriptStore, pipeline: MessagePipeline, shared: Coordination
) -> TelegramChannel | None:
    """Telegram is on when TELEGRAM_BOT_TOKEN is set (docs/telegram.md)."""
    if settings.telegram_bot_token is None:
        return None
    secret = settings.telegram_webhook_secret
    config = TelegramConfig(
        token=settings.telegram_bot_token.get_secret_value(),
        mode=settings.telegram_mode,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else derive_webhook_secret(secret_key(settings)),
        api_url=settings.telegram_api_url,
        max_message_chars=settings.max_message_chars,
    )
    # Registers with the pipeline; with replicas only the leader polls.
    return build_telegram_channel(config, store, pipeline, shared.chat_guard, shared.telegram_leader())


async def _upkeep(
    desk: HelpDesk, pipeline: MessagePipeline, shared: Coordination, every_seconds: float = 15.0
) -> None:
    tick = 0
    while True:
        await asyncio.sleep(every_seconds)
        tick += 1
        try:
            if await shared.my_turn_for_upkeep(every_seconds):
                await desk.maintain(tick)
        except Exception:  # upkeep must outlive a passing database error
            logger.exception("help desk upkeep failed")
        try:
            # Messages left `received` by a dead replica or a turn stopped by an error
            # are answered again (bot/pipeline.py sweep_unanswered).
            await pipeline.sweep_unanswered()
        except Exception:
            logger.exception("sweep of unanswered messages failed")


async def _display_name(auth: AuthComponents, agent_id: int) -> str | None:
    """An agent's display name from the users table, read in a worker thread."""
    user = await auth.users.run(lambda: auth.users.get(agent_id))
    return user.display_name if user is not None else None


async def _agent_gone(desk: HelpDesk, agent_id: int) -> None:
    """The agent's last console connection closed and the grace period ran out."""
    await desk.set_presence(agent_id, "offline")
    await desk.release_agent(agent_id, force=True)


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logger.warning("database health check failed", exc_info=True)
        return False
    return True


async def _resume_when_rasa_ready(
    pipeline: MessagePipeline, rasa: RasaClient, started_at: datetime, patience_seconds: float = 300.0
) -> None:
    """Answer what a stopped gateway left unanswered, once Rasa can take it.

    Started in the background: Rasa takes far longer to start than the gateway, and
    resuming against a Rasa that is still loading would only produce apologies.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_seconds
    while not await rasa.is_ready():
        if loop.time() > deadline:
            logger.warning("Rasa not ready after %.0fs; resuming anyway", patience_seconds)
            break
        await asyncio.sleep(1.0)
    await pipeline.resume_unanswered(started_at)
