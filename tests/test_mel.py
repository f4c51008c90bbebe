import subprocess
import sys

import librosa
import numpy as np
import pytest

from tests.conftest import REPO, tone
from weaklabel.audio.mel import IMAGENET_BGR_MEAN, MelConfig, batch_mel, log_mel, log_mel_batch, to_vgg_image
from weaklabel.errors import ParameterError
from weaklabel.features.mel_mean import MelMeanEmbedder


def test_shapes_for_a_7_s_clip():
    config = MelConfig()
    mel = log_mel(tone(7.0), config=config)
    assert mel.shape == (128, 219) == (config.n_mels, config.n_frames(112_000))
    assert mel.dtype == np.float32
    batch = log_mel_batch(np.stack([tone(7.0), tone(7.0, freq=440.0)]), config=config)
    assert batch.shape == (2, 128, 219)
    np.testing.assert_allclose(batch[0], mel, atol=1e-4)


@pytest.mark.parametrize("freq", [250.0, 1000.0, 3000.0])
def test_tone_peaks_at_its_mel_band(freq):
    config = MelConfig()
    mel = log_mel(tone(2.0, freq=freq), config=config)
    centres = librosa.mel_frequencies(config.n_mels + 2, fmin=config.fmin, fmax=config.fmax)[1:-1]
    assert abs(int(mel.mean(axis=1).argmax()) - int(np.abs(centres - freq).argmin())) <= 1


def test_db_range_and_silence(rng):
    config = MelConfig(top_db=60.0)
    mel = log_mel((0.1 * rng.normal(size=16_000)).astype(np.float32), config=config)
    assert mel.max() == pytest.approx(0.0) and mel.min() >= -60.0
    silent = log_mel(np.zeros(16_000, np.float32), config=config)
    assert np.all(silent == -60.0)  # silence sits on the floor, not at 0 dB
    padded = log_mel(np.concatenate([tone(1.0), np.zeros(16_000, np.float32)]), config=config)
    assert np.all(padded[:, -5:] == -60.0) and padded.max() == pytest.approx(0.0)


def test_each_clip_is_relative_to_its_own_loudest_bin():
    audio = np.stack([tone(1.0), 0.001 * tone(1.0, freq=440.0), np.zeros(16_000, np.float32)])
    batch = log_mel_batch(audio)
    for clip, mel in zip(audio, batch, strict=True):
        np.testing.assert_allclose(log_mel(clip), mel, atol=1e-4)
    assert batch[0].max() == batch[1].max() == 0.0  # 60 dB quieter, same image
    assert np.all(batch[2] == -80.0)  # a silent clip in a batch is the floor, not 0 dB


def test_vgg_image_scaling():
    mel = np.array([[-80.0, -40.0, 0.0, -100.0]], dtype=np.float32)
    image = to_vgg_image(mel, top_db=80.0)
    assert image.shape == (1, 4, 3) and image.dtype == np.float32
    np.testing.assert_allclose(image[0, :, 0] + IMAGENET_BGR_MEAN[0], [0.0, 127.5, 255.0, 0.0], atol=1e-4)
    # identical channels before the per-channel BGR mean subtraction
    np.testing.assert_allclose(
        image + IMAGENET_BGR_MEAN - (image[..., :1] + IMAGENET_BGR_MEAN[0]), 0, atol=1e-4
    )
    batch = to_vgg_image(np.zeros((2, 128, 219), np.float32))
    assert batch.shape == (2, 128, 219, 3)
    np.testing.assert_allclose(batch[0, 0, 0], 255.0 - IMAGENET_BGR_MEAN, atol=1e-4)


def test_input_validation():
    with pytest.raises(ParameterError, match=r"shape \(samples,\)"):
        log_mel(np.zeros((2, 100), np.float32))
    with pytest.raises(ParameterError, match="floating point"):
        log_mel(np.zeros(100, np.int16))
    with pytest.raises(ParameterError, match="NaN"):
        log_mel(np.full(100, np.nan, np.float32))
    with pytest.raises(ParameterError, match="empty"):
        log_mel(np.zeros(0, np.float32))
    with pytest.raises(ParameterError, match="fmax"):
        MelConfig(fmax=9000.0)
    with pytest.raises(ParameterError, match="top_db"):
        MelConfig(top_db=0)
    with pytest.raises(ParameterError, match="n_mels"):
        MelConfig(n_mels=0)
    with pytest.raises(ParameterError, match="n_mels, frames"):
        to_vgg_image(np.zeros(3))


def test_batch_mel_uses_a_given_mel_and_checks_it(rng):
    audio = (0.1 * rng.normal(size=(2, 8000))).astype(np.float32)
    mel = log_mel_batch(audio)
    assert batch_mel({"mel": mel}) is not None
    np.testing.assert_array_equal(batch_mel({"audio": audio, "mel": mel}), mel)
    np.testing.assert_allclose(batch_mel({"audio": audio}), mel)
    with pytest.raises(ParameterError, match="n, 128, frames"):
        batch_mel({"mel": mel[:, :10]})
    with pytest.raises(ParameterError, match='"audio"'):
        batch_mel({"segment_id": np.array(["a"])})


def test_mel_mean_embedder(rng):
    embed = MelMeanEmbedder(mel=MelConfig(n_mels=64))
    audio = (0.1 * rng.normal(size=(3, 16_000))).astype(np.float32)
    out = embed({"audio": audio, "segment_id": np.array(["a", "b", "c"])})
    assert out["embedding"].shape == (3, 64) == (3, embed.dim) and out["embedding"].dtype == np.float32
    np.testing.assert_allclose(
        out["embedding"][1], log_mel(audio[1], config=embed.mel_config).mean(axis=1), rtol=1e-5
    )
    assert out["segment_id"].tolist() == ["a", "b", "c"]
    assert embed.meta["mel"]["n_mels"] == 64 and embed.name == "mel_mean"


def test_real_recording(shared_data):
    import soundfile as sf

    path = sorted((shared_data / "emodb").glob("*.wav"))[0]
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 16_000
    mel = log_mel(audio)
    assert mel.shape == (128, 1 + audio.size // 512)
    assert mel.max() == pytest.approx(0.0) and np.isfinite(mel).all()
    assert (mel > -80).mean() > 0.3  # speech fills much of the dynamic range


def test_light_modules_do_not_import_tensorflow():
    code = (
        "import sys, weaklabel.audio.mel, weaklabel.features.mel_mean, weaklabel.features.extract, "
        "weaklabel.features.vgg16, weaklabel.cli.features; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
