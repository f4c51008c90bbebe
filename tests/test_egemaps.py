"""eGeMAPS embedder (un-padded audio, worker pool); its logistic regression is tested in test_models."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import noisy_tone, opened_or_skip
from weaklabel.audio.clips import ClipConfig, fix_length
from weaklabel.errors import MissingDependencyError, ParameterError
from weaklabel.features import egemaps as eg

RATE = 16_000
NO_OPENSMILE = "the opensmile extra is not installed (pip install weaklabel[opensmile]): eGeMAPS cannot run"
needs_opensmile = pytest.mark.skipif(not eg.egemaps_available(), reason=NO_OPENSMILE)


def noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Noise with a pitch-like 180 Hz tone, non-zero at both ends (so zero-trimming is exact)."""
    return noisy_tone(seconds, rng, sample_rate=RATE, freq=180.0, phase=0.3, level=0.1)


@pytest.fixture(scope="module")
def embedder():
    yield from opened_or_skip(eg.egemaps_available(), NO_OPENSMILE, lambda: eg.EgemapsEmbedder(workers=1))


# ------------------------------------------------------------------------------ missing extra
def test_missing_opensmile_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "opensmile", None)  # makes `import opensmile` raise ImportError
    monkeypatch.setattr(eg, "_SMILE", None)
    assert not eg.egemaps_available()
    with pytest.raises(MissingDependencyError) as info:
        eg.EgemapsEmbedder(workers=1)
    message = str(info.value)
    assert "pip install weaklabel[opensmile]" in message
    assert "non-commercial" in message


def test_bad_parameters():
    with pytest.raises(ParameterError, match="workers"):
        eg.EgemapsEmbedder(workers=0)
    with pytest.raises(ParameterError, match="chunksize"):
        eg.EgemapsEmbedder(workers=1, chunksize=0)


# ------------------------------------------------------------------------------ un-padding
def test_unpadded_uses_positions_and_checks_them():
    clips = np.zeros((2, 10), np.float32)
    clips[0, 2:5] = 1
    clips[1, :] = 2
    parts = eg.unpadded(clips, pad_left=[2, 0], audio_samples=[3, 10])
    assert [p.tolist() for p in parts] == [[1, 1, 1], [2] * 10]
    assert [p.size for p in eg.unpadded(clips)] == [3, 10]  # zero-trimming fallback
    assert eg.unpadded([np.ones(3), np.ones(5)])[1].size == 5  # ragged batches are taken as they are
    with pytest.raises(ParameterError, match="both"):
        eg.unpadded(clips, pad_left=[0, 0])
    with pytest.raises(ParameterError, match="within"):
        eg.unpadded(clips, pad_left=[8, 0], audio_samples=[3, 3])
    with pytest.raises(ParameterError, match=r"\(n, samples\)"):
        eg.unpadded(np.zeros(10, np.float32))


@needs_opensmile
def test_embedding_ignores_padding(embedder, rng):
    speech = noise(2.0, rng)
    length = 7 * RATE
    clip = fix_length(speech, length, pad_left=RATE)
    direct = embedder.embed_signals([speech])[0]
    out = embedder(
        {"audio": clip[None], "pad_left": [RATE], "audio_samples": [speech.size], "segment_id": ["a"]}
    )
    assert out["embedding"].shape == (1, eg.EGEMAPS_DIM) and out["embedding"].dtype == np.float32
    assert out["segment_id"] == ["a"]  # other batch keys pass through (Ray Data map_batches)
    np.testing.assert_array_equal(out["embedding"], direct)
    np.testing.assert_array_equal(embedder({"audio": clip[None]})["embedding"], direct)  # zero-trim fallback
    padded = embedder({"audio": clip[None], "pad_left": [0], "audio_samples": [length]})["embedding"]
    # the silence would distort the statistics: that is why the padding is taken off
    assert np.abs(padded - direct).max() > 1.0


@needs_opensmile
def test_too_short_gives_nan_row_not_an_error(embedder, rng):
    out = embedder({"audio": [noise(2.0, rng), np.full(50, 0.1, np.float32)]})
    assert np.isfinite(out["embedding"][0]).all()
    assert np.isnan(out["embedding"][1]).all()
    assert out["status"].tolist() == [eg.OK, eg.TOO_SHORT]


@needs_opensmile
def test_meta_and_names(embedder):
    assert embedder.name == "egemaps" and embedder.dim == 88
    assert embedder.meta["feature_set"] == "eGeMAPSv02" and "non-commercial" in embedder.meta["licence"]
    names = eg.egemaps_feature_names()
    assert len(names) == 88 and names[0].startswith("F0semitone")


@needs_opensmile
def test_worker_pool_matches_in_process_and_pickles(embedder, rng):
    signals = [noise(1.0 + 0.25 * k, rng) for k in range(4)]
    serial = embedder.embed_signals(signals)[0]
    with eg.EgemapsEmbedder(workers=2, chunksize=1) as pooled:
        parallel = pooled.embed_signals(signals)[0]
        clone = pickle.loads(pickle.dumps(pooled))  # what Ray does with a callable class
    np.testing.assert_allclose(parallel, serial, rtol=1e-6, atol=1e-6)
    assert clone._pool is None and clone.workers == 2


@needs_opensmile
def test_the_extraction_path_feeds_it_the_unpadded_audio(embedder, rng, tmp_path):
    from weaklabel.features.extract import extract_features
    from weaklabel.features.registry import EmbedConfig

    audio = {"long": noise(9.0, rng), "short": noise(2.5, rng), "mid": noise(3.5, rng)}
    for key, signal in audio.items():
        sf.write(tmp_path / f"{key}.wav", signal, RATE)
    recordings = pd.DataFrame(
        {
            "segment_id": [f"v___{key}" for key in audio],
            "audio_path": [str(tmp_path / f"{key}.wav") for key in audio],
            "start": 0.0,
            "duration": [signal.size / RATE for signal in audio.values()],
        }
    )
    decoded = {key: sf.read(tmp_path / f"{key}.wav", dtype="float32")[0] for key in audio}  # 16-bit PCM
    for window in ("random", "full"):
        summary = extract_features(
            recordings,
            tmp_path / window,
            clips=ClipConfig(length_s=7.0, window=window),
            config=EmbedConfig(batch_size=2),
            embedders=[embedder],
            verbose=False,
        )
        assert summary.complete and summary.kept == 3
        stored = summary.features("egemaps")
        assert summary.meta["egemaps"]["embedder"] == "egemaps" and stored.shape == (3, 88)
        # a padded clip's features are those of its audio alone, and the read slice of a cropped one
        np.testing.assert_array_equal(
            stored.loc["v___short"], embedder.embed_signals([decoded["short"]])[0][0]
        )
        long = summary.plan.set_index("segment_id").loc["v___long"]
        first = round(long["read_start"] * RATE)
        window_audio = decoded["long"][first : first + round(long["read_seconds"] * RATE)]
        np.testing.assert_array_equal(stored.loc["v___long"], embedder.embed_signals([window_audio])[0][0])
    assert window_audio.size == decoded["long"].size  # full: every sample of the 9 s recording


SCRIPT_BESIDE_TENSORFLOW = """
import numpy as np
from weaklabel.features.egemaps import EgemapsEmbedder

if __name__ == "__main__":
    import tensorflow as tf  # as the VGG16 embedder does: loaded after the module imports

    tf.constant(1.0) + 1.0
    with EgemapsEmbedder(workers=1) as embedder:
        audio = (0.1 * np.random.default_rng(0).normal(size=(2, 32_000))).astype(np.float32)
        print(embedder({"audio": audio})["embedding"].shape)
"""


@needs_opensmile
def test_one_worker_beside_tensorflow_runs_in_its_own_process(tmp_path):
    # openSMILE in a process that has loaded TensorFlow aborts with "malloc(): invalid size".
    script = tmp_path / "beside_tf.py"
    script.write_text(SCRIPT_BESIDE_TENSORFLOW)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("(2, 88)")


SCRIPT_PARENT_OF_A_POOL = """
import sys
import time

import numpy as np
from weaklabel.features.egemaps import EgemapsEmbedder

if __name__ == "__main__":
    embedder = EgemapsEmbedder(workers=2, chunksize=1)
    embedder.embed_signals([np.full(16_000, 0.1, np.float32)] * 4)  # starts the workers
    print(" ".join(str(pid) for pid in embedder._pool._processes), flush=True)
    time.sleep(300)  # killed with -9 long before this ends
"""


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@needs_opensmile
def test_workers_die_with_their_parent_after_kill_9(tmp_path):
    import os
    import signal
    import time

    from tests.conftest import REPO

    script = tmp_path / "parent.py"
    script.write_text(SCRIPT_PARENT_OF_A_POOL)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    workers: list[int] = []
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers), workers
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 5.0  # each worker checks its parent every second
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "eGeMAPS workers outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in workers:  # only if the test failed: the workers this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
