"""The action server's one KnowledgeBase, opened lazily and reloaded when rebuilt."""

from __future__ import annotations

import asyncio
import logging
import time

import anyio.to_thread

from bot.settings import Settings, get_settings
from knowledge_base import KnowledgeBase

logger = logging.getLogger(__name__)

RELOAD_CHECK_SECONDS = 5.0


class KnowledgeBaseProvider:
    """Opens the index off the event loop once; checks for a newer index now and then.

    Building the provider has no side effects, so importing actions stays cheap; the
    action server's start-up hook calls ``get`` to warm it up before the first customer.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._kb: KnowledgeBase | None = None
        self._lock = asyncio.Lock()
        self._checked_at = 0.0

    async def get(self) -> KnowledgeBase:
        if self._kb is None:
            async with self._lock:
                if self._kb is None:
                    settings = self._settings or get_settings()
                    self._kb = await anyio.to_thread.run_sync(
                        lambda: KnowledgeBase.open(
                            faq_dir=settings.path(settings.faq_dir),
                            index_dir=settings.path(settings.kb_index_dir),
                            model=settings.embedding_model,
                            thresholds=settings.path(settings.kb_thresholds) if settings.kb_thresholds else None,
                        )
                    )
                    self._checked_at = time.monotonic()
        elif time.monotonic() - self._checked_at > RELOAD_CHECK_SECONDS:
            self._checked_at = time.monotonic()
            if await anyio.to_thread.run_sync(self._kb.reload_if_changed):
                logger.info("FAQ index reloaded")
        return self._kb


provider = KnowledgeBaseProvider()
