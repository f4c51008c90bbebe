"""YAMNet embedder: the packaged model and its hash, equality with the reference tensor, framing."""

from __future__ import annotations

import hashlib
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, noisy_tone, opened_or_skip
from weaklabel.audio.clips import fix_length
from weaklabel.errors import DataError, MissingDependencyError, ParameterError
from weaklabel.features import yamnet as ym
from weaklabel.features.identity import describe, feature_identity, is_random

RATE = 16_000
CLIP = 7 * RATE
#: The shared copy of the model, independent of the packaged one, when present.
SHARED_MODEL = REPO.parent / "shared" / "models" / "yamnet.tflite"

NO_LITERT = "ai-edge-litert is not installed: YAMNet cannot run"
needs_litert = pytest.mark.skipif(not ym.yamnet_available(), reason=NO_LITERT)


def padded_batch(signals: list[np.ndarray], pad_left: list[int]) -> dict[str, np.ndarray]:
    """Fixed-length 7 s clips with each signal after ``pad_left`` zeros, as the clips stage plans them."""
    return {
        "audio": np.stack([fix_length(s, CLIP, pad_left=p) for s, p in zip(signals, pad_left, strict=True)]),
        "pad_left": np.array(pad_left, dtype=np.int64),
        "audio_samples": np.array([min(s.size, CLIP - p) for s, p in zip(signals, pad_left, strict=True)]),
    }


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.atleast_2d(a).astype(np.float64), np.atleast_2d(b).astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def embedder():
    yield from opened_or_skip(ym.yamnet_available(), NO_LITERT, lambda: ym.YAMNetEmbedder(threads=2))


# ---------------------------------------------------------------- the shipped file
def test_packaged_model_hash_and_attribution() -> None:
    assert hashlib.sha256(ym.DEFAULT_WEIGHTS.read_bytes()).hexdigest() == ym.YAMNET_SHA256
    names = ym.CLASS_MAP.read_text().splitlines()
    assert names[0] == "index,mid,display_name" and len(names) == 1 + 521 and names[1].endswith("Speech")
    notice = (REPO / "NOTICE").read_text()
    assert "YAMNet, Google, Apache-2.0" in notice and ym.YAMNET_SHA256 in notice
    assert (ym.ASSETS / "NOTICE").read_text() == notice  # the copy that ships beside the file
    assert "Apache License" in (ym.ASSETS / "LICENSE-YAMNET.txt").read_text()


def test_read_weights_refuses_another_file(tmp_path: Path) -> None:
    content = bytearray(ym.DEFAULT_WEIGHTS.read_bytes())
    content[1000] ^= 0xFF
    bad = tmp_path / "yamnet.tflite"
    bad.write_bytes(bytes(content))
    found = hashlib.sha256(bytes(content)).hexdigest()
    with pytest.raises(DataError) as error:
        ym.read_weights(bad)
    message = str(error.value)
    assert str(bad) in message and found in message and ym.YAMNET_SHA256 in message
    assert "intact copy" in message  # the fix
    with pytest.raises(MissingDependencyError, match="not found"):
        ym.read_weights(tmp_path / "absent.tflite")


@needs_litert
def test_wrong_hash_refused_by_the_embedder(tmp_path: Path) -> None:
    bad = tmp_path / "yamnet.tflite"
    bad.write_bytes(ym.DEFAULT_WEIGHTS.read_bytes()[:-1])
    with pytest.raises(DataError, match=ym.YAMNET_SHA256):
        ym.YAMNetEmbedder(weights=bad, threads=1)


@needs_litert
def test_another_copy_of_the_file_is_accepted(tmp_path: Path) -> None:
    copy = tmp_path / "my-yamnet.tflite"
    copy.write_bytes(ym.DEFAULT_WEIGHTS.read_bytes())
    with ym.YAMNetEmbedder(weights=copy, threads=1) as embedder:
        assert embedder.meta["weights_file"] == "my-yamnet.tflite"
        assert embedder.meta["weights_sha256"] == ym.YAMNET_SHA256


def test_missing_litert_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # makes the import fail
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    assert not ym.yamnet_available()
    with pytest.raises(MissingDependencyError, match="ai-edge-litert"):
        ym.YAMNetEmbedder()


@needs_litert
@pytest.mark.parametrize(
    "kwargs", [{"pooling": "max"}, {"threads": 0}, {"threads": 1.5}, {"sample_rate": 22_050}]
)
def test_bad_parameters(kwargs: dict) -> None:
    with pytest.raises(ParameterError):
        ym.YAMNetEmbedder(**kwargs)


# ----------------------------------------------------------------------- framing
def test_framing() -> None:
    assert ym.frame_count(CLIP) == 13  # 1 + (112000 - 15600) // 7680
    assert [ym.frame_count(n) for n in (0, 15_599, 15_600, 23_279, 23_280)] == [1, 1, 1, 1, 2]
    audio = np.arange(40_000, dtype=np.float32)
    windows, short = ym.frame_signal(audio)
    assert not short and windows.shape == (ym.frame_count(40_000), ym.WINDOW)
    assert windows[1, 0] == ym.HOP and windows[-1, -1] < audio[-1]  # the tail under one hop is left out
    windows, short = ym.frame_signal(audio[:1000])
    assert short and windows.shape == (1, ym.WINDOW)
    assert np.array_equal(windows[0, :1000], audio[:1000]) and not windows[0, 1000:].any()


# ------------------------------------------------------------ the reference tensor
@pytest.fixture
def real_signals(shared_data: Path) -> list[np.ndarray]:
    """A few real utterances (EmoDB, TESS, RAVDESS), 16 kHz mono, the first of each sorted list."""
    from weaklabel.audio.io import read_slice

    picks = []
    for folder, count in (("emodb", 3), ("tess", 2), ("ravdess", 1)):
        files = sorted((shared_data / folder).glob("*.wav"))
        if len(files) < count:
            pytest.skip(f"{shared_data / folder} holds fewer than {count} wav files")
        picks += files[:: max(1, len(files) // count)][:count]
    return [read_slice(path, 0.0, None, sample_rate=RATE) for path in picks]


def reference_frames(signal: np.ndarray) -> np.ndarray:
    """Tensor 121 of the unmodified model, frame by frame, with its plain interpreter."""
    from ai_edge_litert.interpreter import Interpreter

    model = SHARED_MODEL if SHARED_MODEL.is_file() else ym.DEFAULT_WEIGHTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "intended for debugging purposes only"
        interpreter = Interpreter(
            model_path=str(model), num_threads=1, experimental_preserve_all_tensors=True
        )
    interpreter.allocate_tensors()
    assert interpreter.get_tensor_details()[121]["name"] == ym.EMBEDDING_TENSOR
    starts = range(0, signal.size - 15_600 + 1, 7_680) if signal.size >= 15_600 else [0]
    out = []
    for start in starts:
        frame = np.zeros((1, 15_600), np.float32)
        piece = signal[start : start + 15_600]
        frame[0, : piece.size] = piece
        interpreter.set_tensor(0, frame)
        interpreter.invoke()
        out.append(interpreter.get_tensor(121)[0].copy())
    return np.array(out)


@needs_litert
def test_embedding_equals_the_reference_tensor(embedder, real_signals: list[np.ndarray]) -> None:
    references = [reference_frames(signal) for signal in real_signals]
    for signal, reference in zip(real_signals, references, strict=True):
        windows, _ = ym.frame_signal(signal)
        assert len(windows) == len(reference)
        assert cosine(embedder.embed_frames(windows), reference).min() >= 0.999
    pads = [(CLIP - s.size) // 2 for s in real_signals]  # centred, as the clips stage plans short segments
    out = embedder(padded_batch(real_signals, pads))
    clip_reference = np.array([reference.mean(axis=0) for reference in references])
    assert out["embedding"].shape == (len(real_signals), 1024) and out["embedding"].dtype == np.float32
    assert cosine(out["embedding"], clip_reference).min() >= 0.999
    assert list(out["frames"]) == [len(r) for r in references]


# ------------------------------------------------------------------- behaviour
@needs_litert
def test_padding_invariance(embedder, rng: np.random.Generator) -> None:
    audio = noisy_tone(3.3, rng)
    out = embedder(padded_batch([audio] * 3, [0, 12_345, CLIP - audio.size]))
    assert np.array_equal(out["embedding"][0], out["embedding"][1])
    assert np.array_equal(out["embedding"][0], out["embedding"][2])
    alone = embedder.embed_signals([audio])[0][0]
    assert np.array_equal(out["embedding"][0], alone)


@needs_litert
def test_short_clip_is_padded_to_one_window_and_counted(rng: np.random.Generator) -> None:
    audio = noisy_tone(0.5, rng)
    with ym.YAMNetEmbedder(threads=1) as embedder:
        out = embedder(padded_batch([audio, noisy_tone(2.0, rng)], [40_000, 0]))
        assert list(out["status"]) == [ym.SHORT, ym.OK] and list(out["frames"]) == [1, 3]
        assert (embedder.short_clips, embedder.clips_seen, embedder.frames_seen) == (1, 2, 4)
        window = np.zeros(ym.WINDOW, np.float32)
        window[: audio.size] = audio
        assert np.array_equal(out["embedding"][0], embedder.embed_frames(window[None])[0])
        embedder(padded_batch([noisy_tone(ym.WINDOW / RATE, rng)], [0]))  # exactly one window: not short
        assert embedder.short_clips == 1 and embedder.clips_seen == 3


@needs_litert
def test_mean_std_doubles_the_dim(embedder, rng: np.random.Generator) -> None:
    signals = [noisy_tone(4.0, rng), noisy_tone(0.6, rng)]
    with ym.YAMNetEmbedder(pooling="mean+std", threads=1) as both:
        assert both.dim == 2048 and both.meta["dim"] == 2048 and both.meta["pooling"] == "mean+std"
        out = both(padded_batch(signals, [0, 0]))["embedding"]
    assert out.shape == (2, 2048)
    mean = embedder(padded_batch(signals, [0, 0]))["embedding"]
    np.testing.assert_allclose(out[:, :1024], mean, rtol=0, atol=1e-6)
    frames = embedder.embed_frames(ym.frame_signal(signals[0])[0])
    np.testing.assert_allclose(out[0, 1024:], frames.std(axis=0), rtol=1e-5, atol=1e-6)
    assert not out[1, 1024:].any()  # one frame: no spread


@needs_litert
def test_deterministic_across_calls_and_threads(embedder, rng: np.random.Generator) -> None:
    batch = padded_batch([noisy_tone(6.5, rng), noisy_tone(1.2, rng), noisy_tone(7.0, rng)], [0, 3_000, 0])
    first = embedder(batch)["embedding"]
    assert np.array_equal(first, embedder(batch)["embedding"])
    with ym.YAMNetEmbedder(threads=1) as serial:
        assert np.array_equal(first, serial(batch)["embedding"])


@needs_litert
def test_batch_keys_and_zero_trimming(embedder, rng: np.random.Generator) -> None:
    audio = noisy_tone(2.5, rng)
    batch = padded_batch([audio], [5_000])
    out = embedder({"audio": batch["audio"], "segment_id": np.array(["v___1"])})  # no positions: trim zeros
    assert list(out["segment_id"]) == ["v___1"] and set(out) == {
        "segment_id",
        "embedding",
        "frames",
        "status",
    }
    assert np.array_equal(out["embedding"], embedder(batch)["embedding"])
    with pytest.raises(ParameterError):
        embedder({"audio": batch["audio"], "pad_left": batch["pad_left"]})
    assert embedder({"audio": np.zeros((0, CLIP), np.float32)})["embedding"].shape == (0, 1024)


@needs_litert
def test_meta_identity_and_description(embedder) -> None:
    meta = embedder.meta
    assert meta["embedder"] == "yamnet" and meta["dim"] == embedder.dim == 1024
    assert meta["weights"] == "audioset" and not is_random(meta)
    assert meta["weights_file"] == "yamnet.tflite" and meta["weights_sha256"] == ym.YAMNET_SHA256
    identity = feature_identity(meta)  # what a model checks: the hash and the framing are in it
    assert identity["weights_fingerprint"] == ym.YAMNET_SHA256
    assert (identity["window_samples"], identity["hop_samples"], identity["sample_rate"]) == (
        15_600,
        7_680,
        RATE,
    )
    assert identity["pooling"] == "mean"
    line = describe(meta)
    assert line.startswith(
        "YAMNet (AudioSet-pretrained MobileNet-v1) mean of 0.975 s frame embeddings (1024-d)"
    )
    assert "un-padded" in line and ym.YAMNET_SHA256[:16] in line


@needs_litert
def test_pickles_without_its_threads(embedder, rng: np.random.Generator) -> None:
    batch = padded_batch([noisy_tone(2.0, rng)], [0])
    clone = pickle.loads(pickle.dumps(embedder))
    try:
        assert np.array_equal(clone(batch)["embedding"], embedder(batch)["embedding"])
    finally:
        clone.close()


@needs_litert
def test_embedding_graph_outputs_the_embedding_tensor() -> None:
    model, index = ym.embedding_graph(ym.DEFAULT_WEIGHTS.read_bytes())
    assert index == 121 and model[4:8] == b"TFL3"
    with pytest.raises(DataError, match="not the YAMNet"):
        renamed = ym.DEFAULT_WEIGHTS.read_bytes().replace(
            ym.EMBEDDING_TENSOR.encode(), b"x" * len(ym.EMBEDDING_TENSOR)
        )
        ym.embedding_graph(renamed)


@needs_litert
def test_extraction_loop_fills_a_store_from_the_unpadded_audio(tmp_path: Path, embedder) -> None:
    """The features loop's batches (pad_left, audio_samples) give the embedding of the bare audio."""
    import pandas as pd
    import soundfile as sf

    from weaklabel.audio.clips import ClipConfig, plan_clips
    from weaklabel.audio.io import read_slice
    from weaklabel.features.extract import extract_features
    from weaklabel.features.registry import EmbedConfig
    from weaklabel.features.store import read_store

    rng = np.random.default_rng(3)
    path = tmp_path / "talk.wav"
    sf.write(path, noisy_tone(20.0, rng), RATE)
    starts, durations = [0.0, 2.0, 5.5, 12.0], [0.5, 3.0, 9.0, 7.0]  # short, padded, cropped, exact
    segments = pd.DataFrame(
        {
            "segment_id": [f"talk___{k}" for k in range(4)],
            "audio_path": str(path),
            "start": starts,
            "duration": durations,
        }
    )
    clips = plan_clips(segments, ClipConfig(length_s=7.0))
    config = EmbedConfig(batch_size=3, shard_size=2, workers=1)
    summary = extract_features(
        clips, tmp_path / "features", config=config, embedders=[embedder], verbose=False
    )
    assert summary.kept == 4 and summary.complete
    ids, features, meta = read_store(tmp_path / "features" / "yamnet")
    assert list(ids) == list(clips["segment_id"]) and features.shape == (4, 1024)
    assert meta["weights_fingerprint"] == ym.YAMNET_SHA256 and meta["pooling"] == "mean"
    bare = [
        read_slice(row.audio_path, row.read_start, row.read_seconds, sample_rate=RATE)
        for row in clips.itertuples(index=False)
    ]
    np.testing.assert_array_equal(features, embedder.embed_signals(bare)[0])


@needs_litert
def test_the_features_path_builds_yamnet_from_params_and_reports_short_clips(
    tmp_path: Path, monkeypatch
) -> None:
    """``embed.backbones: [yamnet]`` through the one extraction path and the features stage: the
    embedder's own bytes, the mel alongside, and the clips under one window counted in the report,
    resumed shards included; a store of a backbone no longer listed is removed."""
    import json

    import pandas as pd
    import soundfile as sf

    from pipelines import features as stage
    from weaklabel.audio.clips import ClipConfig, load_clip, plan_clips
    from weaklabel.features.extract import extract_features
    from weaklabel.features.registry import EmbedConfig
    from weaklabel.features.store import read_store

    rng = np.random.default_rng(5)
    path = tmp_path / "talk.wav"
    sf.write(path, noisy_tone(30.0, rng), RATE)
    durations = [0.5, 3.0, 0.9, 9.0]  # a short clip in each shard of two
    segments = pd.DataFrame(
        {
            "segment_id": [f"talk___{k}" for k in range(4)],
            "audio_path": str(path),
            "start": [0.0, 2.0, 6.0, 12.0],
            "duration": durations,
        }
    )
    clips = plan_clips(segments, ClipConfig(length_s=7.0))
    config = EmbedConfig(backbones=("yamnet",), batch_size=2, shard_size=2, workers=2)
    first = extract_features(clips, tmp_path / "features", config=config, max_shards=1, verbose=False)
    assert not first.complete and first.clip_status == {"yamnet": {"short_padded": 1}}
    summary = extract_features(clips, tmp_path / "features", config=config, verbose=False)
    assert summary.complete and summary.shards_computed == 1  # resumed at the second shard
    assert summary.clip_status == {"yamnet": {"short_padded": 2}}  # over every shard on disk
    assert set(summary.stores) == {"yamnet", "mel_mean"}
    assert summary.meta["yamnet"]["pooling"] == "mean" and summary.meta["yamnet"]["precision"] == "float32"

    audio = np.stack([load_clip(row) for row in clips.itertuples(index=False)])
    batch = {
        "audio": audio,
        "pad_left": clips["pad_left"].to_numpy(),
        "audio_samples": np.minimum(np.round(clips["read_seconds"] * RATE), CLIP - clips["pad_left"]).astype(
            int
        ),
    }
    with ym.YAMNetEmbedder(threads=1) as direct:
        out = direct(batch)
    assert list(out["status"]) == [ym.SHORT, ym.OK, ym.SHORT, ym.OK]
    np.testing.assert_array_equal(summary.features("yamnet").to_numpy(), out["embedding"])  # byte-identical

    clips.to_parquet(tmp_path / "clips.parquet")
    (tmp_path / "params.yaml").write_text("embed:\n  backbones: [yamnet]\n  shard_size: 2\n  workers: 1\n")
    (tmp_path / "feats" / "vgg16").mkdir(parents=True)
    (tmp_path / "feats" / "vgg16" / "meta.json").write_text("{}")  # an earlier run's backbone
    monkeypatch.chdir(tmp_path)
    stage.main(["--in", "clips.parquet", "--out", "feats", "--report", "features.json"])
    report = json.loads((tmp_path / "features.json").read_text())
    assert report["clip_status"] == {"yamnet": {"short_padded": 2}} and report["kept"] == 4
    assert sorted(p.name for p in (tmp_path / "feats").iterdir() if p.is_dir()) == ["mel_mean", "yamnet"]
    np.testing.assert_array_equal(read_store(tmp_path / "feats" / "yamnet")[1], out["embedding"])
