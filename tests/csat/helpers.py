"""Reading the survey table and the transcript straight from the test database."""

from __future__ import annotations

from sqlalchemy import select

from bot.csat.models import CsatSurvey
from bot.db import make_engine, make_session_factory
from bot.transcript.models import Message


def surveys_of(database_url: str, conversation_id: str) -> list[CsatSurvey]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = list(session.scalars(
                select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id).order_by(CsatSurvey.id)
            ))
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def transcript_of(database_url: str, conversation_id: str) -> list[Message]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = list(session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
            ))
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def all_surveys(database_url: str) -> list[CsatSurvey]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            rows = list(session.scalars(select(CsatSurvey).order_by(CsatSurvey.id)))
            session.expunge_all()
            return rows
    finally:
        engine.dispose()
