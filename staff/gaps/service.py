"""FAQ gaps: select, cluster and rank the questions the bot missed; turn them into FAQ content.

The gateway process holds one GapsService. The embedding model and the FAQ index are
loaded on first use, on a worker thread (a page nobody opens costs nothing). Clustering
uses the knowledge base's configured base encoder (knowledge_base.encoder.load_encoder,
which sets HF_HUB_OFFLINE); "nearest FAQ" scores come from the current index through
KnowledgeBase.rank_many, i.e. the same scorer the bot answers with.

Results are cached by (gap questions fingerprint, index version, options): a reload with
no new gap question and no new index re-runs one SQL query and returns the cached
clusters; embeddings of texts already seen are kept (LRU) so new questions only cost
their own encoding.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import anyio.to_thread
import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from bot.db import in_transaction
from staff.gaps.clustering import GapText, cluster_vectors, group_texts
from staff.gaps.jobs import RebuildJob, RebuildJobs
from staff.gaps.selection import THUMBS_DOWN, GapQuestion, fingerprint, select_gap_questions
from staff.privacy.redaction import redact
from bot.settings import Settings
from knowledge_base import FaqEntry, KnowledgeBase
from knowledge_base.builder import build_index, default_build_config
from knowledge_base.conflicts import ConflictReport
from knowledge_base.editing import EditResult, add_faq, add_phrasings, move_phrasing, source_stamp
from knowledge_base.encoder import Encoder, load_encoder
from knowledge_base.source import load_faq_dir
from knowledge_base.validation import FaqValidationError

logger = logging.getLogger(__name__)

SAMPLES_PER_CLUSTER = 20
CACHED_RESULTS = 16
CACHED_VECTORS = 50_000
# Gap rows read per request: ten times the clustering cap leaves room for repeats.
ROWS_PER_QUESTION_CAP = 10
KB_RETRY_SECONDS = 60.0


@functools.lru_cache(maxsize=2)
def shared_encoder(model: str) -> Encoder:
    """One base encoder per model in this process (thread-safe, read-only)."""
    return load_encoder(model)


class GapsUnavailable(RuntimeError):
    """The embedding model cannot be loaded (the message says why)."""


@dataclass(frozen=True)
class GapsConfig:
    faq_dir: Path
    index_dir: Path
    model: str
    thresholds: Path | None
    max_questions: int = 2000
    min_similarity: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings) -> "GapsConfig":
        return cls(
            faq_dir=settings.path(settings.faq_dir),
            index_dir=settings.path(settings.kb_index_dir),
            model=settings.embedding_model,
            thresholds=settings.path(settings.kb_thresholds) if settings.kb_thresholds else None,
            max_questions=settings.gaps_max_questions,
            min_similarity=settings.gaps_min_similarity,
        )


class GapsService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        config: GapsConfig,
        *,
        encoder_loader: Callable[[str], Encoder] = shared_encoder,
    ) -> None:
        self._sessions = sessions
        self.config = config
        self._encoder_loader = encoder_loader
        self._encoder: Encoder | None = None
        self._kb: KnowledgeBase | None = None
        self._kb_error: str | None = None
        self._kb_tried_at = 0.0
        self._load_lock = asyncio.Lock()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._results: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._overlaps: tuple[str, ConflictReport, float] | None = None  # (index version, report, ms)
        # One computation at a time: they share the vector cache, and two would only
        # compete for the same two cores.
        self._compute_lock = threading.Lock()
        self.jobs = RebuildJobs(self._rebuild, on_done=self._after_rebuild)

    # -- lazily loaded parts ----------------------------------------------------------

    async def encoder(self) -> Encoder:
        if self._encoder is None:
            async with self._load_lock:
                if self._encoder is None:
                    try:
                        self._encoder = await anyio.to_thread.run_sync(self._encoder_loader, self.config.model)
                    except Exception as exc:  # noqa: BLE001 - ModelNotAvailableError and loader failures
                        raise GapsUnavailable(f"embedding model {self.config.model!r} cannot be loaded: {exc}") from None
        return self._encoder

    async def knowledge_base(self) -> KnowledgeBase | None:
        """The current index (reloaded when rebuilt), or None with `kb_error` saying why."""
        encoder = await self.encoder()
        if self._kb is not None:
            await anyio.to_thread.run_sync(self._kb.reload_if_changed)
            return self._kb
        async with self._load_lock:
            if self._kb is None and time.monotonic() - self._kb_tried_at > KB_RETRY_SECONDS:
                self._kb_tried_at = time.monotonic()
                try:
                    self._kb = await anyio.to_thread.run_sync(lambda: KnowledgeBase.open(
                        faq_dir=self.config.faq_dir, index_dir=self.config.index_dir, model=self.config.model,
                        thresholds=self.config.thresholds, encoder=encoder,
                    ))
                    self._kb_error = None
                except Exception as exc:  # noqa: BLE001 - the page works without "nearest FAQ"
                    logger.warning("FAQ index unavailable for the gaps page: %s", exc)
                    self._kb_error = str(exc)[:500]
        return self._kb

    # -- the report -------------------------------------------------------------------

    async def report(
        self,
        since: datetime,
        until: datetime,
        *,
        channel: str | None = None,
        include_suggest: bool = True,
        limit: int = 100,
    ) -> dict[str, Any]:
        cap = self.config.max_questions
        questions = await in_transaction(self._sessions, lambda s: select_gap_questions(
            s, since, until, channel=channel, include_suggest=include_suggest,
            max_rows=cap * ROWS_PER_QUESTION_CAP,
        ))
        kb = await self.knowledge_base()
        version = kb.manifest.version if kb is not None else None
        key = (fingerprint(questions), version, include_suggest, limit)
        cached = self._results.get(key)
        if cached is not None:
            self._results.move_to_end(key)
            return {**cached, "cached": True}
        encoder = await self.encoder()
        started = time.perf_counter()
        body = await anyio.to_thread.run_sync(lambda: self._compute(questions, encoder, kb, limit))
        body["compute_ms"] = round((time.perf_counter() - started) * 1000, 1)
        body["index"] = {
            "version": version, "error": self._kb_error if kb is None else None,
            "answer_threshold": kb.thresholds.answer if kb else None,
            "suggest_threshold": kb.thresholds.suggest if kb else None,
        }
        self._results[key] = body
        while len(self._results) > CACHED_RESULTS:
            self._results.popitem(last=False)
        return {**body, "cached": False}

    def _compute(self, questions: list[GapQuestion], encoder: Encoder, kb: KnowledgeBase | None,
                 limit: int) -> dict[str, Any]:
        with self._compute_lock:
            return self._compute_locked(questions, encoder, kb, limit)

    def _compute_locked(self, questions: list[GapQuestion], encoder: Encoder, kb: KnowledgeBase | None,
                        limit: int) -> dict[str, Any]:
        texts = group_texts(questions)
        kept = texts[: self.config.max_questions]
        vectors = self._embed([t.text for t in kept], encoder)
        weights = np.asarray([t.weight for t in kept], dtype=np.float32)
        groups = cluster_vectors(vectors, weights, self.config.min_similarity)
        shown = groups[:limit]
        nearest: list[tuple[list[str], list[float]]] = []
        if kb is not None and shown:
            nearest = kb.rank_many([kept[g[0]].text for g in shown], top_n=3)
        clusters = [
            _cluster_json([kept[i] for i in members], nearest[n] if nearest else None, kb)
            for n, members in enumerate(shown)
        ]
        reasons: dict[str, int] = {}
        for q in questions:
            reasons[q.reason] = reasons.get(q.reason, 0) + 1
        return {
            "totals": {
                "questions": len(questions),
                "distinct": len(texts),
                "clustered_distinct": len(kept),
                "not_clustered_distinct": len(texts) - len(kept),
                "not_clustered_questions": sum(t.count for t in texts[len(kept):]),
                "clusters": len(groups),
                "clusters_shown": len(shown),
                "by_reason": reasons,
            },
            "clusters": clusters,
        }

    def _embed(self, texts: list[str], encoder: Encoder) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, encoder.encode(missing, batch_size=64)):
                self._vectors[text] = vector
        for text in texts:
            self._vectors.move_to_end(text)
        while len(self._vectors) > max(CACHED_VECTORS, len(texts)):
            self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, getattr(encoder, "dimension", 1)), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)

    # -- overlapping FAQs -------------------------------------------------------------

    async def overlaps(self, limit: int = 50) -> dict[str, Any]:
        """Phrasings that sit closer to another FAQ than to their own (knowledge_base
        conflicts), worst first, and the FAQ pairs that overlap most. Computed once per
        index version: it encodes every phrasing with the index's encoder."""
        kb = await self.knowledge_base()
        if kb is None:
            raise GapsUnavailable(f"no FAQ index: {self._kb_error}")
        version = kb.manifest.version
        cached = self._overlaps is not None and self._overlaps[0] == version
        if not cached:
            started = time.perf_counter()
            report = await anyio.to_thread.run_sync(lambda: self._compute_overlaps(kb))
            self._overlaps = (version, report, round((time.perf_counter() - started) * 1000, 1))
        assert self._overlaps is not None
        _, report, compute_ms = self._overlaps
        stamp = await anyio.to_thread.run_sync(source_stamp, self.config.faq_dir)
        return {**report.as_json(limit), "compute_ms": compute_ms, "cached": cached,
                "index": {"version": version}, "source_stamp": stamp}

    def _compute_overlaps(self, kb: KnowledgeBase) -> ConflictReport:
        with self._compute_lock:
            return kb.conflicts()

    # -- FAQ sources ------------------------------------------------------------------

    async def sources(self) -> dict[str, Any]:
        """What the page needs to edit: the current stamp, FAQs and categories."""

        def work() -> dict[str, Any]:
            stamp = source_stamp(self.config.faq_dir)
            try:
                entries = load_faq_dir(self.config.faq_dir)
                problems: list[str] = []
            except FaqValidationError as exc:
                entries = self._kb.entries if self._kb is not None else []
                problems = [str(p) for p in exc.problems]
            return {
                "source_stamp": stamp,
                "source_problems": problems,
                "faqs": [{"id": e.id, "question": e.question, "category": e.category} for e in entries],
                "categories": sorted({e.category for e in entries if e.category}),
            }

        return await anyio.to_thread.run_sync(work)

    async def create_faq(self, entry: FaqEntry, *, file: str | None, stamp: str | None) -> tuple[EditResult, RebuildJob]:
        entry = FaqEntry(**{**entry.__dict__, "phrasings": [redact(p) for p in entry.phrasings]})
        result = await anyio.to_thread.run_sync(
            lambda: add_faq(self.config.faq_dir, entry, file=file, expected_stamp=stamp))
        return result, self.jobs.submit()

    async def move_phrasing(self, faq_id: str, phrasing: str, to_faq_id: str | None, *,
                            stamp: str | None) -> tuple[EditResult, RebuildJob]:
        """Move one phrasing to another FAQ (or remove it: `to_faq_id` None), then rebuild."""
        result = await anyio.to_thread.run_sync(
            lambda: move_phrasing(self.config.faq_dir, faq_id, phrasing, to_faq_id, expected_stamp=stamp))
        return result, self.jobs.submit()

    async def add_phrasings(self, faq_id: str, phrasings: list[str], *, stamp: str | None) -> tuple[EditResult, RebuildJob]:
        cleaned = [redact(p) for p in phrasings]
        result = await anyio.to_thread.run_sync(
            lambda: add_phrasings(self.config.faq_dir, faq_id, cleaned, expected_stamp=stamp))
        return result, self.jobs.submit()

    def _rebuild(self) -> str:
        # Same build settings as the action server (both read the environment), or its
        # hot reload would refuse the new version.
        manifest = build_index(self.config.faq_dir, self.config.index_dir, self.config.model,
                               progress=False, encoder=self._encoder, config=default_build_config())
        return manifest.version

    def _after_rebuild(self) -> None:
        if self._kb is not None:
            self._kb.reload_if_changed()
        else:
            self._kb_tried_at = 0.0  # the index may be usable now


def _cluster_json(members: list[GapText], nearest: tuple[list[str], list[float]] | None,
                  kb: KnowledgeBase | None) -> dict[str, Any]:
    representative = members[0]
    reasons: dict[str, int] = {}
    channels: dict[str, int] = {}
    rated_down: dict[str, int] = {}
    for m in members:
        for source, target in ((m.reasons, reasons), (m.channels, channels), (m.rated_down_faqs, rated_down)):
            for name, count in source.items():
                target[name] = target.get(name, 0) + count
    count = sum(m.count for m in members)
    near: dict[str, Any] | None = None
    proposal = "new"
    if nearest is not None and nearest[0] and kb is not None:
        faq_id, score = nearest[0][0], float(nearest[1][0])
        entry = kb.get(faq_id)
        near = {"id": faq_id, "question": entry.question if entry else "", "score": round(score, 4)}
        # Rated down on that very FAQ: its answer is what failed, a new phrasing won't help.
        mostly_rated_down = reasons.get(THUMBS_DOWN, 0) * 2 >= count and faq_id in rated_down
        if score >= kb.thresholds.suggest and not mostly_rated_down:
            proposal = "phrasing"
    first = min(m.first_seen for m in members if m.first_seen)
    last = max(m.last_seen for m in members if m.last_seen)
    return {
        "id": hashlib.sha256(representative.key.encode("utf-8")).hexdigest()[:12],
        "representative": representative.text,
        "volume": round(sum(m.weight for m in members), 2),
        "questions": count,
        "distinct": len(members),
        "reasons": reasons,
        "channels": channels,
        "rated_down_faqs": rated_down,
        "first_seen": first.isoformat(),
        "last_seen": last.isoformat(),
        "samples": [{"text": m.text, "count": m.count, "reasons": dict(m.reasons)}
                    for m in members[:SAMPLES_PER_CLUSTER]],
        "message_ids": [i for m in members for i in m.message_ids][:20],
        "nearest_faq": near,
        "proposal": proposal,
    }
