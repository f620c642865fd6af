"""Building an index version from FAQ entries (and skipping the work when nothing changed)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .adaptation import AdaptConfig, adapt
from .encoder import Encoder, SentenceTransformerEncoder, canonical_model_name, load_encoder
from .head import HeadConfig, train_head
from .id_phrasing import texts_with_id
from .index import EXACT_LIMIT, VectorIndex
from .manifest import Manifest
from .records import FaqEntry
from .scoring import SCORE_NAME, centroids_of
from .source import content_hash, load_faq_dir
from .store import ENCODER_DIR, IndexLoadError, build_lock, new_version_dir, publish, read_current_verified_manifest, write_arrays

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildConfig:
    """Settings that change the vectors or the scores; part of the manifest's identity."""

    score: str = SCORE_NAME
    exact_limit: int = EXACT_LIMIT
    # Add an FAQ id that reads as words ("card_arrival") as one more phrasing (id_phrasing.py).
    id_phrasings: bool = True
    adapt: AdaptConfig = field(default_factory=AdaptConfig)
    head: HeadConfig = field(default_factory=HeadConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ENV_ADAPT = "HELPLINE_KB_ADAPT"  # "0" turns encoder adaptation off
ENV_ADAPT_STEPS = "HELPLINE_KB_ADAPT_MAX_STEPS"
ENV_ADAPT_LAYERS = "HELPLINE_KB_ADAPT_LAYERS"  # top layers trained on cached states; 0 = whole model
ENV_ID_PHRASINGS = "HELPLINE_KB_ID_PHRASINGS"  # "0": do not add ids that read as words as phrasings
_OFF = ("0", "false", "no", "off")


def default_build_config() -> BuildConfig:
    """The build settings in force, from the environment (so CLI and bot agree)."""
    adapt_cfg = AdaptConfig()
    flag = os.environ.get(ENV_ADAPT, "").strip().lower()
    if flag in _OFF:
        adapt_cfg = replace(adapt_cfg, enabled=False)
    steps = os.environ.get(ENV_ADAPT_STEPS, "").strip()
    if steps:
        try:
            adapt_cfg = replace(adapt_cfg, max_steps=max(1, int(steps)), min_steps=min(adapt_cfg.min_steps, max(1, int(steps))))
        except ValueError:
            logger.warning("ignoring %s=%r (not an integer)", ENV_ADAPT_STEPS, steps)
    layers = os.environ.get(ENV_ADAPT_LAYERS, "").strip()
    if layers:
        try:
            adapt_cfg = replace(adapt_cfg, train_layers=max(0, int(layers)))
        except ValueError:
            logger.warning("ignoring %s=%r (not an integer)", ENV_ADAPT_LAYERS, layers)
    id_phrasings = os.environ.get(ENV_ID_PHRASINGS, "").strip().lower() not in _OFF
    return BuildConfig(adapt=adapt_cfg, id_phrasings=id_phrasings)


# For tests and quick experiments: plain embeddings, no training at build time.
PLAIN_BUILD_CONFIG = BuildConfig(adapt=AdaptConfig(enabled=False), head=HeadConfig(enabled=False))


def _phrasings(entry: FaqEntry, config: BuildConfig) -> list[str]:
    """What the index embeds for one FAQ: its texts, plus its id when the id reads as words."""
    texts = entry.texts()
    return texts_with_id(entry.id, texts) if config.id_phrasings else texts


def build_index(
    faq_dir: Path,
    index_dir: Path,
    model: str,
    *,
    progress: bool = True,
    encoder: Encoder | None = None,
    config: BuildConfig | None = None,
    force: bool = False,
) -> Manifest:
    """Validate the FAQ sources and build an index version; no-op if nothing changed."""
    entries = load_faq_dir(Path(faq_dir))
    return build_from_entries(entries, Path(index_dir), model, progress=progress, encoder=encoder, config=config, force=force)


def build_from_entries(
    entries: list[FaqEntry],
    index_dir: Path,
    model: str,
    *,
    progress: bool = True,
    encoder: Encoder | None = None,
    config: BuildConfig | None = None,
    force: bool = False,
) -> Manifest:
    config = config or default_build_config()
    model_name = encoder.name if encoder is not None else canonical_model_name(model)
    digest = content_hash(entries)
    build_config = config.to_dict()
    index_dir = Path(index_dir)
    with build_lock(index_dir):
        if not force:
            try:
                existing = read_current_verified_manifest(index_dir)
            except IndexLoadError as exc:
                logger.info("building a new index: %s", exc)
                existing = None
            if existing is not None and existing.serves(model=model_name, content_hash=digest, build_config=build_config):
                logger.info("index %s is up to date (content %s, model %s)", existing.version, digest[:12], model_name)
                return existing
        started = time.perf_counter()
        groups = [_phrasings(entry, config) for entry in entries]
        texts = [text for group in groups for text in group]
        rows = np.asarray([i for i, group in enumerate(groups) for _ in group], dtype=np.int32)
        tmp_dir = new_version_dir(index_dir)
        try:
            adapted = False
            vectors = None
            adaptable = encoder is None or isinstance(encoder, SentenceTransformerEncoder)
            if config.adapt.enabled and adaptable and len(entries) >= config.adapt.min_faqs:
                # A private copy: the base model may be shared with a running KnowledgeBase.
                work = load_encoder(model if encoder is None else encoder.location)
                result = adapt(work.model, groups, config.adapt, progress=progress)
                work.save(tmp_dir / ENCODER_DIR)
                encoder, adapted = work, True
                # The top-layer path already has every phrasing's adapted vector.
                vectors = result.vectors
                logger.info("adapted encoder saved (%s)", result.report)
            encoder = encoder or load_encoder(model)
            if vectors is None or len(vectors) != len(texts):
                logger.info("encoding %d phrasings of %d FAQs with %s", len(texts), len(entries), model_name)
                vectors = encoder.encode(texts, batch_size=64, progress=progress)
            centroids = centroids_of(vectors, rows, len(entries))
            index = VectorIndex.build(vectors, cells=rows, centroids=centroids, exact_limit=config.exact_limit,
                                      progress=progress)
            head = train_head(vectors, rows, len(entries), config.head)
            files = write_arrays(tmp_dir, entries, rows, index, centroids, head)
            now = datetime.now(timezone.utc)
            version = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{digest[:8]}"
            manifest = Manifest(
                version=version,
                model=model_name,
                dimension=int(vectors.shape[1]) if len(vectors) else encoder.dimension,
                content_hash=digest,
                build_config=build_config,
                n_faqs=len(entries),
                n_vectors=index.size,
                index_kind=index.kind,
                created_at=now.isoformat(),
                build_seconds=round(time.perf_counter() - started, 3),
                adapted_encoder=adapted,
                files=files,
            )
            manifest.write(tmp_dir / "manifest.json")
            publish(index_dir, tmp_dir, version)
        except BaseException:
            import shutil

            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        logger.info("built index %s: %d FAQs, %d vectors in %.1fs", version, len(entries), index.size, manifest.build_seconds)
        return manifest
