"""The manifest saved next to every index: what it was built from and with what.

It answers "can this index serve this configuration?" without touching the vectors: the
model must match, the content hash must match the FAQ sources, and the build settings
(which change the vectors or the scores) must match too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Bump when the on-disk layout or the meaning of a field changes; older indexes rebuild.
FORMAT_VERSION = 1


class ManifestError(ValueError):
    """The manifest is missing, unreadable or not from a compatible build."""


@dataclass(frozen=True)
class Manifest:
    version: str
    model: str
    dimension: int
    content_hash: str
    build_config: dict[str, Any]
    n_faqs: int
    n_vectors: int
    index_kind: str
    created_at: str
    build_seconds: float = 0.0
    # True when the encoder was adapted to this FAQ's phrasings and saved in encoder/.
    adapted_encoder: bool = False
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    format: int = FORMAT_VERSION

    @property
    def config_hash(self) -> str:
        return config_hash(self.build_config)

    def serves(self, *, model: str, content_hash: str, build_config: dict[str, Any]) -> bool:
        return (
            self.format == FORMAT_VERSION
            and self.model == model
            and self.content_hash == content_hash
            and self.config_hash == config_hash(build_config)
        )

    def mismatch(self, *, model: str, content_hash: str | None, build_config: dict[str, Any]) -> str | None:
        """Why this index cannot serve the configuration, or None if it can."""
        if self.format != FORMAT_VERSION:
            return f"index format {self.format} is not the current format {FORMAT_VERSION}"
        if self.model != model:
            return f"index was built with model {self.model!r}, configured model is {model!r}"
        if content_hash is not None and self.content_hash != content_hash:
            return "FAQ content changed since the index was built"
        if self.config_hash != config_hash(build_config):
            return "build settings changed since the index was built"
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ManifestError(f"no manifest at {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"unreadable manifest {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ManifestError(f"manifest {path} is not a JSON object")
        if data.get("format") != FORMAT_VERSION:
            raise ManifestError(f"manifest {path} has format {data.get('format')!r}, expected {FORMAT_VERSION}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ManifestError(f"manifest {path} has unexpected fields: {exc}") from None


def config_hash(build_config: dict[str, Any]) -> str:
    payload = json.dumps(build_config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
