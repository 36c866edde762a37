"""Shared test fixtures: where the real corpus lives (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent (fresh clone elsewhere)")
    return CORPUS


def corpus_file(*parts: str) -> Path:
    """A corpus file, or skip the test where ../shared is absent."""
    path = CORPUS.joinpath(*parts)
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent (fresh clone elsewhere)")
    return path
