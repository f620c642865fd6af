"""Shared fixtures: a tiny deterministic encoder and FAQ folders written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest
from kb_testing import ACCOUNT_YML, ORDERS_YML, HashingEncoder, write


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "faq"
    write(directory / "orders.yml", ORDERS_YML)
    write(directory / "account.yml", ACCOUNT_YML)
    return directory


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"
