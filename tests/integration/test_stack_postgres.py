"""The production path: app tables and Rasa's tracker store on PostgreSQL, Redis lock store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, inspect

from bot.local_stack import Stack, make_stack
from tests.gateway_harness import ChatClient
from tests.integration.test_stack import transcript

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[Stack]:
    running = make_stack(tmp_path_factory.mktemp("pg-stack"), database_url=postgres_url,
                         redis_url=REDIS_URL)
    try:
        for name in ("actions", "rasa", "gateway"):
            running.start(name)
        yield running
    finally:
        running.stop_all()


async def test_answers_and_logs_on_postgresql(pg_stack: Stack, postgres_url: str) -> None:
    assert pg_stack.settings.sqlalchemy_url.startswith("postgresql+psycopg://")
    client = ChatClient()
    signed = await client.connect(pg_stack.url)
    await client.say("how do I cancel my order", "pg1")
    reply = await client.next_of("bot_uttered", timeout=30)
    await client.close()
    assert "cancel" in reply["text"].lower()
    history = await transcript(pg_stack).history(signed.split(".")[0])
    assert history[-1].faq_trail and history[-1].faq_trail["rule"] == "answer"
    # Rasa kept its tracker in the same PostgreSQL database, not in a local file.
    engine = create_engine(pg_stack.settings.sqlalchemy_url)
    assert "events" in inspect(engine).get_table_names()
    engine.dispose()
    assert not (Path(pg_stack.settings.var_dir) / "rasa_tracker.db").exists()
    rendered = (Path(pg_stack.settings.var_dir) / "rasa" / "endpoints.yml").read_text()
    assert "lock_store:" in rendered and "type: redis" in rendered
