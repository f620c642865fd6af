"""On-disk index versions, atomic swaps and loading.

Layout of an index directory:

    index_dir/
      CURRENT                  name of the version in use (replaced atomically)
      versions/<version>/      manifest.json, entries.json, rows.npy, vectors.faiss,
                               [encoder/ when the encoder was adapted to this FAQ]
      .build.lock              serialises concurrent builders (CLI vs action server)

A build writes a complete version into a temporary directory, renames it into versions/
and only then replaces CURRENT. A reader therefore sees the old version or the new one,
never half of one, and a reader that finds the new one broken can keep serving the old.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .encoder import Encoder
from .index import VectorIndex
from .manifest import Manifest, ManifestError, file_sha256
from .records import FaqEntry

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
VERSIONS = "versions"
ENCODER_DIR = "encoder"
KEEP_VERSIONS = 3
CHECKSUMMED = ("entries.json", "rows.npy", "vectors.faiss", "centroids.npy")
HEAD_FILE = "head.npz"  # optional: only when a head was trained


class IndexLoadError(RuntimeError):
    """The index on disk is missing, corrupt or unusable."""


@dataclass
class Snapshot:
    """One loaded, immutable index version: everything needed to answer queries."""

    path: Path
    manifest: Manifest
    entries: list[FaqEntry]
    rows: np.ndarray  # vector row -> position in entries
    index: VectorIndex
    encoder: Encoder
    centroids: np.ndarray  # unit mean phrasing vector per FAQ (same order as entries)
    head: tuple[np.ndarray, np.ndarray] | None = None  # (weights, bias) of the FAQ classifier
    by_id: dict[str, FaqEntry] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {entry.id: entry for entry in self.entries}


def current_version_dir(index_dir: Path) -> Path | None:
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexLoadError(f"unreadable {pointer}: {exc}") from None
    if not name or "/" in name or name.startswith("."):
        raise IndexLoadError(f"{pointer} does not name a version ({name!r})")
    return Path(index_dir) / VERSIONS / name


def pointer_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """Cheap change detector for CURRENT (inode, size, mtime)."""
    try:
        st = os.stat(Path(index_dir) / CURRENT)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def read_current_manifest(index_dir: Path) -> Manifest:
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexLoadError(f"no index in {index_dir}")
    try:
        return Manifest.read(version_dir / "manifest.json")
    except ManifestError as exc:
        raise IndexLoadError(str(exc)) from None


def verify_files(version_dir: Path, manifest: Manifest) -> None:
    """IndexLoadError unless every checksummed file is present and unmodified."""
    names = [*CHECKSUMMED, *([HEAD_FILE] if HEAD_FILE in manifest.files else [])]
    for name in names:
        path = version_dir / name
        try:
            actual = file_sha256(path)
        except OSError as exc:
            raise IndexLoadError(f"{path}: {exc.strerror or exc}") from None
        if manifest.files.get(name) != actual:
            raise IndexLoadError(f"{path} does not match its checksum in the manifest (corrupt or modified)")


def read_current_verified_manifest(index_dir: Path) -> Manifest:
    """The current manifest, only if its files are intact (for "is a rebuild needed?")."""
    manifest = read_current_manifest(index_dir)
    version_dir = current_version_dir(index_dir)
    assert version_dir is not None
    verify_files(version_dir, manifest)
    return manifest


def load_snapshot(
    index_dir: Path,
    base_encoder: Callable[[], Encoder],
    *,
    verify: bool = True,
) -> Snapshot:
    """Load the current version; IndexLoadError with the reason if anything is off."""
    version_dir = current_version_dir(index_dir)
    if version_dir is None:
        raise IndexLoadError(f"no index in {index_dir}")
    try:
        manifest = Manifest.read(version_dir / "manifest.json")
    except ManifestError as exc:
        raise IndexLoadError(str(exc)) from None
    if verify:
        verify_files(version_dir, manifest)
    try:
        entries = [FaqEntry.from_dict(d) for d in json.loads((version_dir / "entries.json").read_text(encoding="utf-8"))]
        rows = np.load(version_dir / "rows.npy", allow_pickle=False)
        index = VectorIndex.load(version_dir / "vectors.faiss", manifest.index_kind)
        centroids = np.load(version_dir / "centroids.npy", allow_pickle=False)
        head = None
        if HEAD_FILE in manifest.files:
            with np.load(version_dir / HEAD_FILE, allow_pickle=False) as data:
                head = (np.ascontiguousarray(data["weights"], dtype=np.float32), data["bias"].astype(np.float32))
    except Exception as exc:  # noqa: BLE001 - faiss raises RuntimeError, numpy ValueError, ...
        raise IndexLoadError(f"cannot read index files in {version_dir}: {exc}") from None
    if index.size != len(rows) or index.size != manifest.n_vectors:
        raise IndexLoadError(f"{version_dir}: {index.size} vectors but {len(rows)} row labels")
    if len(entries) != manifest.n_faqs or (len(rows) and (rows.min() < 0 or rows.max() >= len(entries))):
        raise IndexLoadError(f"{version_dir}: row labels do not match the {len(entries)} FAQs")
    if centroids.shape != (len(entries), manifest.dimension):
        raise IndexLoadError(f"{version_dir}: centroids {centroids.shape} do not match {len(entries)} FAQs")
    if head is not None and head[0].shape != (len(entries), manifest.dimension):
        raise IndexLoadError(f"{version_dir}: classifier head {head[0].shape} does not match {len(entries)} FAQs")
    if index.dimension != manifest.dimension:
        raise IndexLoadError(f"{version_dir}: index dimension {index.dimension} != manifest {manifest.dimension}")
    if manifest.adapted_encoder:
        from .encoder import ModelNotAvailableError, SentenceTransformerEncoder

        try:
            encoder: Encoder = SentenceTransformerEncoder(version_dir / ENCODER_DIR, name=manifest.model)
        except ModelNotAvailableError as exc:
            raise IndexLoadError(f"adapted encoder in {version_dir} is unusable: {exc}") from None
    else:
        encoder = base_encoder()
    if encoder.dimension != manifest.dimension:
        raise IndexLoadError(f"encoder dimension {encoder.dimension} != index dimension {manifest.dimension}")
    return Snapshot(version_dir, manifest, entries, rows, index, encoder, centroids, head)


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def new_version_dir(index_dir: Path) -> Path:
    """A private temporary directory on the same filesystem (so rename is atomic)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))


def write_arrays(
    tmp_dir: Path,
    entries: list[FaqEntry],
    rows: np.ndarray,
    index: VectorIndex,
    centroids: np.ndarray,
    head: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, str]:
    (tmp_dir / "entries.json").write_text(
        json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    np.save(tmp_dir / "rows.npy", rows.astype(np.int32), allow_pickle=False)
    np.save(tmp_dir / "centroids.npy", centroids.astype(np.float32), allow_pickle=False)
    index.save(tmp_dir / "vectors.faiss")
    names = list(CHECKSUMMED)
    if head is not None:
        np.savez(tmp_dir / HEAD_FILE, weights=head[0].astype(np.float32), bias=head[1].astype(np.float32))
        names.append(HEAD_FILE)
    return {name: file_sha256(tmp_dir / name) for name in names}


def _fsync_tree(path: Path) -> None:
    for item in [*path.rglob("*"), path]:
        with contextlib.suppress(OSError):
            fd = os.open(item, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def publish(index_dir: Path, tmp_dir: Path, version: str) -> Path:
    """Move a finished build into place and point CURRENT at it (atomic for readers)."""
    versions = index_dir / VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    _fsync_tree(tmp_dir)
    final = versions / version
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp_dir, final)
    pointer_tmp = index_dir / f".{CURRENT}.tmp"
    pointer_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(pointer_tmp, index_dir / CURRENT)
    _prune(index_dir, keep=version)
    return final


def _prune(index_dir: Path, keep: str) -> None:
    """Drop old versions, leaving a few so a process still reading one is not surprised."""
    versions = sorted((p for p in (index_dir / VERSIONS).iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    old = [p for p in versions if p.name != keep][: max(0, len(versions) - KEEP_VERSIONS)]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    for stale in index_dir.glob(".tmp-*"):
        # Leftovers of crashed builds; a live build holds the lock, so none is in use.
        shutil.rmtree(stale, ignore_errors=True)
