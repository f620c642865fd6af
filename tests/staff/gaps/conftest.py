"""FAQ gaps fixtures: a tmp copy of the real FAQ sources with a plain (unadapted) index
built once per session, and helpers that write conversations straight into the database."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy.orm import Session

from staff.gaps.service import shared_encoder
from bot.transcript.models import Conversation, Message, utcnow
from knowledge_base.builder import ENV_ADAPT, build_index, default_build_config
from knowledge_base.encoder import DEFAULT_MODEL, Encoder

PROJECT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real packaged MiniLM, loaded once (the gateway's GapsService shares it)."""
    return shared_encoder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def built_kb(tmp_path_factory: pytest.TempPathFactory, encoder: Encoder) -> tuple[Path, Path]:
    """data/faq and an index of it without encoder adaptation (a few seconds to build)."""
    root = tmp_path_factory.mktemp("kb")
    faq_dir, index_dir = root / "faq", root / "index"
    shutil.copytree(PROJECT / "data" / "faq", faq_dir)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_ADAPT, "0")
        build_index(faq_dir, index_dir, DEFAULT_MODEL, progress=False, encoder=encoder, config=default_build_config())
    return faq_dir, index_dir


@pytest.fixture
def kb_copy(tmp_path: Path, built_kb: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A private copy of sources and index; HELPLINE_KB_ADAPT=0 so rebuilds take seconds."""
    monkeypatch.setenv(ENV_ADAPT, "0")
    faq_dir, index_dir = tmp_path / "faq", tmp_path / "kb"
    shutil.copytree(built_kb[0], faq_dir)
    shutil.copytree(built_kb[1], index_dir)
    return faq_dir, index_dir


@dataclass
class Seeder:
    """Writes customer questions and the bot's replies as the gateway stores them."""

    session: Session
    counter: int = 0

    def conversation(self, channel: str = "web", at: datetime | None = None) -> str:
        self.counter += 1
        cid = f"c{self.counter:06d}"
        self.session.add(Conversation(id=cid, channel=channel, created_at=at or utcnow(),
                                      last_activity_at=at or utcnow()))
        self.session.flush()
        return cid

    def turn(
        self,
        text: str,
        *,
        rule: str | None = None,
        faq_id: str | None = None,
        feedback: str | None = None,
        intent: str | None = "faq",
        channel: str = "web",
        at: datetime | None = None,
        reply_text: str = "bot reply",
    ) -> int:
        """One customer message and one bot reply (with a FAQ trail when `rule` is set)."""
        at = at or utcnow() - timedelta(hours=1)
        cid = self.conversation(channel, at)
        question = Message(conversation_id=cid, channel=channel, direction="in", author="customer",
                           text=text, status="answered", intent=intent, created_at=at)
        self.session.add(question)
        self.session.flush()
        trail: dict[str, Any] | None = None
        if rule is not None:
            trail = {"rule": rule, "faq_id": faq_id, "score": 0.5, "top3": []}
        self.session.add(Message(conversation_id=cid, channel=channel, direction="out", author="bot",
                                 text=reply_text, status="sent", faq_trail=trail, reply_to_id=question.id,
                                 feedback=feedback, feedback_at=at if feedback else None,
                                 created_at=at + timedelta(seconds=1)))
        self.session.flush()
        return question.id


@pytest.fixture
def seeded_sessions(database_url: str) -> Iterator[Any]:
    from bot.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()
