"""Shared fixtures: a seeded rng, synthetic tones, and the real data in ../shared/data when present."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

T = TypeVar("T")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip that says why when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not found at {SHARED_DATA} (the ../shared/data folder beside the repo)")
    return SHARED_DATA


def tone(seconds: float, *, sample_rate: int = 16_000, freq: float = 220.0, channels: int = 1) -> np.ndarray:
    """A sine tone, (n,) or (n, channels) float32 at amplitude 0.5."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return wave if channels == 1 else np.repeat(wave[:, None], channels, axis=1)


def noisy_tone(
    seconds: float,
    rng: np.random.Generator,
    *,
    sample_rate: int = 16_000,
    freq: float = 220.0,
    phase: float = 0.0,
    level: float = 0.05,
) -> np.ndarray:
    """A 0.3-amplitude sine plus Gaussian noise of std ``level``, (n,) float32.

    Its first and last samples are 0.05 and -0.05, non-zero, so that trimming zeros (as the
    embedders do to find the real audio) keeps every sample.
    """
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    wave = 0.3 * np.sin(2 * np.pi * freq * t + phase) + level * rng.normal(size=n)
    wave[0], wave[-1] = 0.05, -0.05
    return wave.astype(np.float32)


def opened_or_skip(
    available: bool, reason: str, make: Callable[[], AbstractContextManager[T]]
) -> Iterator[T]:
    """For a fixture: ``make()`` entered for as long as the tests use it, or a skip saying ``reason``.

    An embedder of an optional extra (opensmile, ai-edge-litert) is made once per module and closed
    after its last test: ``yield from opened_or_skip(...)`` in a fixture.
    """
    if not available:
        pytest.skip(reason)
    with make() as opened:
        yield opened
