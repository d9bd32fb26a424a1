"""Shared fixtures: the bundled samples, their gold files, and fresh stores."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from extraction.storage import store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "data" / "samples").glob("*.txt"))
GOLD = {
    p.stem: json.loads(p.read_text(encoding="utf-8"), parse_float=Decimal)
    for p in (ROOT / "data" / "gold").glob("*.json")
}


@pytest.fixture
def db(tmp_path: Path):
    return store.open_db(tmp_path / "test.db")


@pytest.fixture
def samples_dir() -> Path:
    return ROOT / "data" / "samples"
