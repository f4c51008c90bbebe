"""Determinism: the same params give byte-identical files, whatever the hash seed or thread timing.

The demo corpus and the stages that need no TensorFlow (ingest, clips, label) are built twice, in
two separate processes per stage with different ``PYTHONHASHSEED``, and every file they write is
compared by hash. A difference here is what ``dvc status`` would show as a changed output between
identical runs (``audio_hours`` once summed a set: its last digit followed the hash seed; the demo
once differed in one WAV: concurrent libsoxr calls on the demo's threads, now serialised).
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

#: The commands, in pipeline order, each run in its own process from the build folder.
COMMANDS = (["demo", "--out", "data/demo"], ["ingest"], ["clips"], ["label"])


def _build(folder: Path, hash_seed: str) -> dict[str, str]:
    """Build the tiny demo pipeline under ``folder``; file (relative) -> sha256."""
    folder.mkdir()
    params = {
        "data": {"corpus": "data/demo", "gold": "data/demo/labels/gold.csv"},
        "demo": {"videos": 2, "workers": 2, "sentences_min": 3, "sentences_max": 5},
    }
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
    for command in COMMANDS:
        result = subprocess.run(
            [sys.executable, "-m", "weaklabel", "-q", *command],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, f"weaklabel {' '.join(command)} failed:\n{result.stderr[-3000:]}"
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_two_builds_with_different_hash_seeds_are_byte_identical(tmp_path):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed: sudo apt-get install espeak-ng")
    first = _build(tmp_path / "a", "0")
    second = _build(tmp_path / "b", "4242")
    assert any(name.endswith(".wav") for name in first) and "reports/ingest.json" in first
    differing = sorted(name for name in first.keys() | second.keys() if first.get(name) != second.get(name))
    assert differing == [], f"files that differ between PYTHONHASHSEED 0 and 4242: {differing}"


def test_audio_hours_is_the_same_under_any_hash_seed(tmp_path, rng):
    """The ingest summary sums per-video lengths exactly, in sorted order: no last-digit drift."""
    import numpy as np
    import soundfile as sf

    lengths = rng.integers(8_000, 40_000, size=40)
    for sub in (Path("Audio") / "Full" / "WAV_16000", Path("Transcript") / "Segmented" / "Combined"):
        (tmp_path / sub).mkdir(parents=True)
    for number, frames in enumerate(lengths):
        video = f"v{number:02d}"
        sf.write(tmp_path / "Audio" / "Full" / "WAV_16000" / f"{video}.wav", np.zeros(frames), 16_000)
        (tmp_path / "Transcript" / "Segmented" / "Combined" / f"{video}.txt").write_text(
            f"{video}___1___0___0.4___fine\n"
        )
    code = (
        "import sys; from weaklabel.sources.mosei import IngestConfig, ingest_corpus; "
        "print(repr(ingest_corpus(sys.argv[1], config=IngestConfig()).summary['audio_hours']))"
    )
    values = {
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("0", "1", "2", "3")
    }
    assert values == {repr(math.fsum(sorted(lengths / 16_000)) / 3600)}
