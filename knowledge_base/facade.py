"""KnowledgeBase: the one object the bot uses (open, answer, get, reload_if_changed)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .builder import BuildConfig, build_index, default_build_config
from .conflicts import ConflictReport, find_conflicts
from .encoder import DEFAULT_MODEL, MAX_QUERY_CHARS, Encoder, canonical_model_name, load_encoder
from .manifest import Manifest
from .policy import Thresholds
from .records import RULE_EMPTY_INDEX, RULE_EMPTY_QUERY, RULE_SUGGEST, Candidate, Decision, FaqEntry
from .scoring import rank
from .source import content_hash, load_faq_dir
from .store import IndexLoadError, Snapshot, load_snapshot, pointer_stamp, read_current_manifest
from .thresholds import default_thresholds, load_thresholds

logger = logging.getLogger(__name__)

TOP_CANDIDATES = 3


class KnowledgeBaseUnavailable(RuntimeError):
    """No usable index and none could be built (the message says why)."""


class KnowledgeBase:
    """Thread-safe FAQ answering over the current index version.

    Answers always come from one immutable Snapshot; reload swaps the reference, so a query
    in flight finishes on the version it started with.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        thresholds: Thresholds,
        *,
        index_dir: Path,
        faq_dir: Path | None,
        model: str,
        encoder_factory: Callable[[], Encoder],
        config: BuildConfig,
    ):
        self._snapshot = snapshot
        self.thresholds = thresholds
        self.index_dir = Path(index_dir)
        self.faq_dir = Path(faq_dir) if faq_dir is not None else None
        self.model = model
        self._encoder_factory = encoder_factory
        self._config = config
        self._stamp = pointer_stamp(self.index_dir)
        self._reload_lock = threading.Lock()

    # -- construction -----------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        faq_dir: Path,
        index_dir: Path,
        model: str = DEFAULT_MODEL,
        thresholds: Path | None = None,
        encoder: Encoder | None = None,
        config: BuildConfig | None = None,
        progress: bool = False,
    ) -> "KnowledgeBase":
        """Load the index; rebuild it from faq_dir when missing, corrupt, stale or built
        with another model. KnowledgeBaseUnavailable (or FaqValidationError) if impossible."""
        config = config or default_build_config()
        index_dir = Path(index_dir)
        faq_dir = Path(faq_dir)
        model_name = encoder.name if encoder is not None else canonical_model_name(model)
        encoder_factory = _shared_encoder_factory(model, encoder)
        build_config = config.to_dict()

        # Thresholds first: a typo in their path should not cost a rebuild before failing.
        chosen = load_thresholds(thresholds) if thresholds is not None else default_thresholds()

        snapshot: Snapshot | None = None
        # The manifest alone says whether the index fits this configuration; checking it
        # before loading avoids loading a model only to find the index is for another one.
        try:
            manifest = read_current_manifest(index_dir)
            reason = manifest.mismatch(model=model_name, content_hash=_faq_digest(faq_dir), build_config=build_config)
        except IndexLoadError as exc:
            reason = str(exc)
        if reason is None:
            try:
                snapshot = load_snapshot(index_dir, encoder_factory)
            except IndexLoadError as exc:
                reason = str(exc)
        if snapshot is None:
            logger.warning("rebuilding the FAQ index in %s: %s", index_dir, reason)
            if not faq_dir.is_dir():
                raise KnowledgeBaseUnavailable(f"cannot use the index in {index_dir} ({reason}) and FAQ folder {faq_dir} does not exist")
            build_index(faq_dir, index_dir, model, progress=progress, encoder=encoder, config=config)
            try:
                snapshot = load_snapshot(index_dir, encoder_factory)
            except IndexLoadError as exc:
                raise KnowledgeBaseUnavailable(f"index rebuilt in {index_dir} but cannot be loaded: {exc}") from None
        logger.info(
            "knowledge base ready: index %s, %d FAQs, model %s, thresholds %s (answer %.3f, suggest %.3f)",
            snapshot.manifest.version, len(snapshot.entries), model_name, chosen.source, chosen.answer, chosen.suggest,
        )
        return cls(snapshot, chosen, index_dir=index_dir, faq_dir=faq_dir, model=model_name,
                   encoder_factory=encoder_factory, config=config)

    @classmethod
    def from_entries(
        cls,
        entries: list[FaqEntry],
        *,
        index_dir: Path,
        model: str = DEFAULT_MODEL,
        thresholds: Path | Thresholds | None = None,
        encoder: Encoder | None = None,
        config: BuildConfig | None = None,
        progress: bool = False,
    ) -> "KnowledgeBase":
        """Build (or reuse, when unchanged) an index for in-memory entries, e.g. an evaluation CSV."""
        from .builder import build_from_entries

        config = config or default_build_config()
        encoder_factory = _shared_encoder_factory(model, encoder)
        # Loading the model before building lets the build reuse it instead of loading twice.
        build_from_entries(entries, Path(index_dir), model, progress=progress,
                           encoder=encoder_factory() if encoder is None else encoder, config=config)
        try:
            snapshot = load_snapshot(Path(index_dir), encoder_factory)
        except IndexLoadError as exc:
            raise KnowledgeBaseUnavailable(str(exc)) from None
        if isinstance(thresholds, Thresholds):
            chosen = thresholds
        else:
            chosen = load_thresholds(thresholds) if thresholds is not None else default_thresholds()
        return cls(snapshot, chosen, index_dir=Path(index_dir), faq_dir=None, model=snapshot.manifest.model,
                   encoder_factory=encoder_factory, config=config)

    # -- queries ----------------------------------------------------------------------

    @property
    def manifest(self) -> Manifest:
        return self._snapshot.manifest

    @property
    def entries(self) -> list[FaqEntry]:
        return list(self._snapshot.entries)

    def get(self, faq_id: str) -> FaqEntry | None:
        if not isinstance(faq_id, str):
            return None
        return self._snapshot.by_id.get(faq_id)

    def answer(self, query: str) -> Decision:
        snapshot = self._snapshot  # one consistent version for the whole call
        version = snapshot.manifest.version
        text = (query or "").strip() if isinstance(query, str) else ""
        if not text:
            return Decision(RULE_EMPTY_QUERY, None, 0.0, [], self.model, version)
        details: dict[str, object] = {}
        if len(text) > MAX_QUERY_CHARS:
            details["truncated_from_chars"] = len(text)
            text = text[:MAX_QUERY_CHARS]
        if not snapshot.entries:
            return Decision(RULE_EMPTY_INDEX, None, 0.0, [], self.model, version, details)
        started = time.perf_counter()
        vector = snapshot.encoder.encode([text])
        ranking = rank(snapshot, vector, top_n=max(TOP_CANDIDATES, 2))[0]
        candidates = [
            Candidate(snapshot.entries[p].id, snapshot.entries[p].question, s)
            for p, s in zip(ranking.faq_positions[:TOP_CANDIDATES], ranking.scores[:TOP_CANDIDATES])
        ]
        rule = self.thresholds.decide(ranking.top_score, ranking.runner_up)
        faq = snapshot.entries[ranking.faq_positions[0]] if rule == "answer" else None
        details["margin"] = round(ranking.top_score - ranking.runner_up, 4)
        if rule == RULE_SUGGEST:
            # Buttons below this score are not worth showing (actions/faq.py keeps the best two).
            details["suggest_floor"] = self.thresholds.suggest
        details["ms"] = round((time.perf_counter() - started) * 1000, 2)
        return Decision(rule, faq, ranking.top_score, candidates, self.model, version, details)

    def rank_many(self, queries: list[str], *, top_n: int = TOP_CANDIDATES, progress: bool = False) -> list[tuple[list[str], list[float]]]:
        """Batch scoring for calibration: (faq ids, scores) best first, same scorer as answer()."""
        snapshot = self._snapshot
        capped = [(q or "").strip()[:MAX_QUERY_CHARS] for q in queries]
        vectors = snapshot.encoder.encode(capped, batch_size=64, progress=progress)
        rankings = rank(snapshot, vectors, top_n=max(top_n, 2))
        return [([snapshot.entries[p].id for p in r.faq_positions], list(r.scores)) for r in rankings]

    def conflicts(self, *, margin: float | None = None, progress: bool = False) -> ConflictReport:
        """Phrasings that sit closer to another FAQ than to their own, or within `margin` of
        it (default: the answer policy's margin, below which the bot offers a choice
        instead of answering), scored with this index's encoder; see conflicts.py."""
        snapshot = self._snapshot
        margin = self.thresholds.margin if margin is None else margin
        texts: list[str] = []
        rows: list[int] = []
        for position, entry in enumerate(snapshot.entries):
            for text in entry.texts():
                texts.append(text)
                rows.append(position)
        if not texts:
            return ConflictReport([], 0, margin)
        vectors = snapshot.encoder.encode(texts, batch_size=64, progress=progress)
        found = find_conflicts([e.id for e in snapshot.entries], texts, vectors, np.asarray(rows), margin=margin)
        return ConflictReport(found, len(texts), margin)

    # -- hot reload -------------------------------------------------------------------

    def reload_if_changed(self) -> bool:
        """Pick up a newly published index version; keep the current one if it is broken.

        Cheap when nothing changed: one stat of the CURRENT pointer file.
        """
        stamp = pointer_stamp(self.index_dir)
        if stamp == self._stamp:
            return False
        with self._reload_lock:
            if stamp == self._stamp:
                return False
            try:
                reason = read_current_manifest(self.index_dir).mismatch(
                    model=self.model, content_hash=None, build_config=self._config.to_dict()
                )
                if reason is not None:
                    raise IndexLoadError(reason)
                snapshot = load_snapshot(self.index_dir, self._encoder_factory)
            except IndexLoadError as exc:
                logger.error("new FAQ index in %s is unusable, keeping version %s: %s",
                             self.index_dir, self._snapshot.manifest.version, exc)
                self._stamp = stamp  # do not retry the same broken version on every call
                return False
            old = self._snapshot.manifest.version
            self._snapshot = snapshot
            self._stamp = stamp
            logger.info("FAQ index reloaded: %s -> %s (%d FAQs)", old, snapshot.manifest.version, len(snapshot.entries))
            return True


def _faq_digest(faq_dir: Path) -> str | None:
    """Hash of the current FAQ sources, or None if they cannot be read (then trust the index)."""
    if not faq_dir.is_dir():
        return None
    try:
        return content_hash(load_faq_dir(faq_dir))
    except Exception as exc:  # noqa: BLE001 - a broken source must not stop us serving the last index
        logger.warning("FAQ sources in %s are invalid, serving the existing index: %s", faq_dir, exc)
        return None


def _shared_encoder_factory(model: str, encoder: Encoder | None) -> Callable[[], Encoder]:
    """Load the base model once, lazily, and share it across reloads."""
    lock = threading.Lock()
    holder: list[Encoder] = [encoder] if encoder is not None else []

    def factory() -> Encoder:
        with lock:
            if not holder:
                holder.append(load_encoder(model))
            return holder[0]

    return factory
