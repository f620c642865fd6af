"""Building an index version from FAQ entries (and skipping the work when nothing changed)."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from .encoder import Encoder, canonical_model_name, load_encoder
from .index import EXACT_LIMIT, VectorIndex
from .manifest import Manifest
from .records import FaqEntry
from .scoring import SCORE_NAME
from .source import content_hash, load_faq_dir
from .store import IndexLoadError, build_lock, new_version_dir, publish, read_current_verified_manifest, write_arrays

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildConfig:
    """Settings that change the vectors or the scores; part of the manifest's identity."""

    score: str = SCORE_NAME
    exact_limit: int = EXACT_LIMIT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_BUILD_CONFIG = BuildConfig()


def build_index(
    faq_dir: Path,
    index_dir: Path,
    model: str,
    *,
    progress: bool = True,
    encoder: Encoder | None = None,
    config: BuildConfig = DEFAULT_BUILD_CONFIG,
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
    config: BuildConfig = DEFAULT_BUILD_CONFIG,
    force: bool = False,
) -> Manifest:
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
        encoder = encoder or load_encoder(model)
        texts: list[str] = []
        rows: list[int] = []
        for position, entry in enumerate(entries):
            for text in entry.texts():
                texts.append(text)
                rows.append(position)
        logger.info("encoding %d phrasings of %d FAQs with %s", len(texts), len(entries), model_name)
        vectors = encoder.encode(texts, batch_size=64, progress=progress)
        index = VectorIndex.build(vectors, exact_limit=config.exact_limit, progress=progress)
        tmp_dir = new_version_dir(index_dir)
        try:
            files = write_arrays(tmp_dir, entries, np.asarray(rows, dtype=np.int32), index)
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
                adapted_encoder=False,
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
