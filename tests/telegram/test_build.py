"""The one-call integration: built synchronously (as create_app runs), no network until start."""

from __future__ import annotations

from pathlib import Path

from bot.channels.telegram import WEBHOOK_PATH, TelegramConfig, build_telegram_channel
from bot.db import make_engine, make_session_factory
from bot.pipeline import MessagePipeline
from bot.rasa_client import RasaClient
from bot.transcript.store import TranscriptStore


def test_building_needs_no_event_loop_and_touches_no_network(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unused.db'}")
    store = TranscriptStore(make_session_factory(engine))
    pipeline = MessagePipeline(store, RasaClient("http://127.0.0.1:9", "t", 1.0), {})
    # Port 9 (discard) has no Bot API: building must not try to reach it.
    config = TelegramConfig(token="1:x", api_url="http://127.0.0.1:9")
    channel = build_telegram_channel(config, store, pipeline)
    assert channel.name == "telegram" and not channel.ready and channel.mode == "polling"
    assert [route.path for route in channel.router.routes] == [WEBHOOK_PATH]  # type: ignore[attr-defined]
    assert pipeline._channels["telegram"] is channel  # registered: resumed answers find it
    engine.dispose()
