"""Reading and writing the conversation log.

Every method is async and runs its SQL in a worker thread, so the gateway's event loop
never blocks on the database. Each call owns one short transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db import in_transaction
from bot.transcript.models import Conversation, Message, utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conversation_id: str
    channel: str
    direction: str
    author: str
    text: str
    status: str
    created_at: datetime
    client_message_id: str | None = None
    buttons: list[dict[str, Any]] | None = None
    intent: str | None = None
    intent_confidence: float | None = None
    faq_trail: dict[str, Any] | None = None
    latency_ms: float | None = None
    reply_to_id: int | None = None
    feedback: str | None = None

    @classmethod
    def of(cls, row: Message) -> "StoredMessage":
        return cls(
            id=row.id,
            conversation_id=row.conversation_id,
            channel=row.channel,
            direction=row.direction,
            author=row.author,
            text=row.text,
            status=row.status,
            created_at=row.created_at,
            client_message_id=row.client_message_id,
            buttons=row.buttons,
            intent=row.intent,
            intent_confidence=row.intent_confidence,
            faq_trail=row.faq_trail,
            latency_ms=row.latency_ms,
            reply_to_id=row.reply_to_id,
            feedback=row.feedback,
        )


@dataclass(frozen=True)
class InboundResult:
    message: StoredMessage
    duplicate: bool


@dataclass(frozen=True)
class OutboundDraft:
    """A reply about to be stored (before it is delivered)."""

    text: str
    author: str = "bot"
    buttons: list[dict[str, Any]] | None = None
    faq_trail: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InboundOutcome:
    """How a customer message ended (answered, failed, ...), written with its replies."""

    status: str
    intent: str | None = None
    intent_confidence: float | None = None
    error: str | None = None


def _complete(message_id: int, outcome: InboundOutcome, latency_ms: float | None) -> Any:
    return (
        update(Message)
        .where(Message.id == message_id)
        .values(status=outcome.status, intent=outcome.intent, intent_confidence=outcome.intent_confidence,
                latency_ms=latency_ms, error=outcome.error)
    )


class AlreadyAnswered(Exception):
    """The customer message was answered (or otherwise completed) by another turn."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"message {message_id} is no longer waiting for an answer")
        self.message_id = message_id


class TranscriptStore:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    async def _run(self, work: Callable[[Session], T]) -> T:
        return await in_transaction(self._sessions, work)

    async def open_conversation(self, channel: str, external_id: str | None = None) -> str:
        """The conversation id for this customer; created on first contact."""

        def work(session: Session) -> str:
            if external_id is not None:
                found = session.scalar(
                    select(Conversation.id).where(
                        Conversation.channel == channel, Conversation.external_id == external_id
                    )
                )
                if found:
                    return found
            conversation = Conversation(
                id=uuid.uuid4().hex, channel=channel, external_id=external_id
            )
            session.add(conversation)
            return conversation.id

        try:
            return await self._run(work)
        except IntegrityError:
            # Two first messages of one Telegram chat raced; the other one created it.
            return await self._run(work)

    async def conversation(self, conversation_id: str) -> Conversation | None:
        def work(session: Session) -> Conversation | None:
            row = session.get(Conversation, conversation_id)
            if row is not None:
                session.expunge(row)
            return row

        return await self._run(work)

    async def conversation_exists(self, conversation_id: str) -> bool:
        return await self._run(
            lambda s: s.get(Conversation, conversation_id) is not None
        )

    async def ensure_conversation(self, conversation_id: str, channel: str) -> None:
        """Create the row for a server-issued id the first time it is used."""

        def work(session: Session) -> None:
            if session.get(Conversation, conversation_id) is None:
                session.add(Conversation(id=conversation_id, channel=channel))

        try:
            await self._run(work)
        except IntegrityError:
            pass  # created concurrently by another connection of the same customer

    async def record_inbound(
        self,
        conversation_id: str,
        channel: str,
        text: str,
        client_message_id: str | None,
    ) -> InboundResult:
        """Persist a customer message; a known client id returns the stored one."""

        def find(session: Session) -> Message | None:
            if client_message_id is None:
                return None
            return session.scalar(
                select(Message).where(
                    Message.conversation_id == conversation_id,
                    Message.client_message_id == client_message_id,
                )
            )

        def work(session: Session) -> InboundResult:
            existing = find(session)
            if existing is not None:
                return InboundResult(StoredMessage.of(existing), duplicate=True)
            row = Message(
                conversation_id=conversation_id,
                channel=channel,
                direction="in",
                author="customer",
                text=text,
                client_message_id=client_message_id,
                status="received",
            )
            session.add(row)
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(last_activity_at=utcnow())
            )
            session.flush()
            return InboundResult(StoredMessage.of(row), duplicate=False)

        try:
            return await self._run(work)
        except IntegrityError:
            # The same client id arrived twice at once; the first insert won.
            return await self._run(lambda s: InboundResult(StoredMessage.of(find(s)), True))  # type: ignore[arg-type]

    async def record_outbound(
        self,
        conversation_id: str,
        channel: str,
        drafts: list[OutboundDraft],
        reply_to_id: int | None = None,
        latency_ms: float | None = None,
        outcome: InboundOutcome | None = None,
    ) -> list[StoredMessage]:
        """Store replies as sent (before delivery). With ``outcome`` the message they answer
        (``reply_to_id``) is completed in the same transaction: a reader or a restart never
        sees replies to a message still "received", which start-up would answer again."""
        if outcome is not None and reply_to_id is None:
            raise ValueError("an outcome needs the message it completes (reply_to_id)")

        def work(session: Session) -> list[StoredMessage]:
            rows = [
                Message(
                    conversation_id=conversation_id,
                    channel=channel,
                    direction="out",
                    author=draft.author,
                    text=draft.text,
                    buttons=draft.buttons or None,
                    faq_trail=draft.faq_trail,
                    status="sent",
                    reply_to_id=reply_to_id,
                    latency_ms=latency_ms,
                )
                for draft in drafts
            ]
            session.add_all(rows)
            session.flush()
            if outcome is not None:
                assert reply_to_id is not None
                # Only a message still waiting for its answer is completed: a second
                # answer (a turn run twice across gateway replicas) rolls back whole.
                done = session.execute(
                    _complete(reply_to_id, outcome, latency_ms).where(Message.status == "received")
                )
                if not done.rowcount:
                    raise AlreadyAnswered(reply_to_id)
            return [StoredMessage.of(row) for row in rows]

        return await self._run(work)

    async def complete_inbound(
        self,
        message_id: int,
        *,
        status: str,
        intent: str | None = None,
        intent_confidence: float | None = None,
        latency_ms: float | None = None,
        error: str | None = None,
    ) -> None:
        outcome = InboundOutcome(status, intent, intent_confidence, error)
        await self._run(lambda s: s.execute(_complete(message_id, outcome, latency_ms)))

    async def replies_to(self, message_id: int) -> list[StoredMessage]:
        return await self._run(
            lambda s: [
                StoredMessage.of(row)
                for row in s.scalars(
                    select(Message).where(Message.reply_to_id == message_id).order_by(Message.id)
                )
            ]
        )

    async def record_feedback(self, conversation_id: str, faq_id: str, helpful: bool) -> int | None:
        """Attach "did this help?" to the latest answer of that FAQ in the conversation."""

        def work(session: Session) -> int | None:
            answers = session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction == "out",
                    Message.faq_trail.is_not(None),
                )
                .order_by(Message.id.desc())
                .limit(20)
            )
            for answer in answers:
                if (answer.faq_trail or {}).get("faq_id") == faq_id:
                    answer.feedback = "up" if helpful else "down"
                    answer.feedback_at = utcnow()
                    return answer.id
            return None

        return await self._run(work)

    async def unanswered(self, since: datetime, until: datetime) -> list[StoredMessage]:
        """Customer messages stored in [since, until) but never answered."""
        return await self._run(
            lambda s: [
                StoredMessage.of(row)
                for row in s.scalars(
                    select(Message)
                    .where(
                        Message.direction == "in",
                        Message.status == "received",
                        Message.created_at >= since,
                        Message.created_at < until,
                    )
                    .order_by(Message.id)
                )
            ]
        )

    async def unanswered_in(self, conversation_id: str) -> list[StoredMessage]:
        """One conversation's customer messages still waiting for an answer, in stored
        order (what a turn worker holding the conversation's lease answers next)."""
        return await self._run(
            lambda s: [
                StoredMessage.of(row)
                for row in s.scalars(
                    select(Message)
                    .where(
                        Message.conversation_id == conversation_id,
                        Message.direction == "in",
                        Message.status == "received",
                    )
                    .order_by(Message.id)
                )
            ]
        )

    async def expire_unanswered(self, before: datetime) -> int:
        """Mark messages too old to answer now as failed, so their state is truthful."""

        def work(session: Session) -> int:
            result = session.execute(
                update(Message)
                .where(
                    Message.direction == "in",
                    Message.status == "received",
                    Message.created_at < before,
                )
                .values(status="failed", error="not answered before a restart")
            )
            return int(result.rowcount or 0)

        return await self._run(work)

    async def messages(self, message_ids: list[int]) -> list[StoredMessage]:
        """These messages as stored now (a status changed by delivery), in id order."""
        if not message_ids:
            return []
        return await self._run(
            lambda s: [
                StoredMessage.of(row)
                for row in s.scalars(select(Message).where(Message.id.in_(message_ids)).order_by(Message.id))
            ]
        )

    async def mark_undelivered(self, message_ids: list[int], reason: str) -> int:
        """Outgoing messages the channel could not hand over (the customer blocked the bot,
        the channel is down): stored as sent, they would claim the customer saw them."""
        if not message_ids:
            return 0

        def work(session: Session) -> int:
            result = session.execute(
                update(Message)
                .where(Message.id.in_(message_ids), Message.direction == "out")
                .values(status="undelivered", error=reason)
            )
            return int(result.rowcount or 0)

        return await self._run(work)

    async def history(self, conversation_id: str, limit: int = 200) -> list[StoredMessage]:
        def work(session: Session) -> list[StoredMessage]:
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.id.desc())
                .limit(limit)
            ).all()
            return [StoredMessage.of(row) for row in reversed(rows)]

        return await self._run(work)
