import numpy as np
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.audio.io import audio_info, read_slice, to_mono
from weaklabel.errors import DataError, ParameterError


def test_read_slice_reads_only_the_requested_window(tmp_path):
    ramp = np.linspace(-0.5, 0.5, 32_000, dtype=np.float32)
    path = tmp_path / "ramp.wav"
    sf.write(path, ramp, 16_000, subtype="FLOAT")
    piece = read_slice(path, 0.5, 0.25)
    np.testing.assert_allclose(piece, ramp[8_000:12_000])


def test_read_slice_resamples_and_downmixes(tmp_path):
    path = tmp_path / "stereo44.wav"
    sf.write(path, tone(2.0, sample_rate=44_100, channels=2), 44_100)
    piece = read_slice(path, 0.5, 1.0)
    assert piece.dtype == np.float32 and piece.ndim == 1
    assert abs(piece.size - 16_000) <= 2
    spectrum = np.abs(np.fft.rfft(piece))
    assert abs(np.argmax(spectrum) * 16_000 / piece.size - 220.0) < 2.0


def test_read_slice_past_the_end_is_cut_short(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(1.0), 16_000)
    assert read_slice(path, 0.75, 1.0).size == 4_000
    assert read_slice(path, 5.0, 1.0).size == 0


def test_read_slice_rejects_negative_window(tmp_path):
    with pytest.raises(ParameterError, match="must be finite and >= 0"):
        read_slice(tmp_path / "x.wav", -1.0, 1.0)


def test_unreadable_audio_is_a_data_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(DataError, match="bad.wav"):
        read_slice(bad)
    with pytest.raises(DataError, match="missing.wav"):
        audio_info(tmp_path / "missing.wav")


def test_audio_info_reads_the_header(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(1.5, sample_rate=8_000, channels=2), 8_000)
    info = audio_info(path)
    assert (info.sample_rate, info.channels, info.frames) == (8_000, 2, 12_000)
    assert info.seconds == pytest.approx(1.5)


def test_to_mono_keeps_empty_audio_empty():
    assert to_mono(np.zeros((0, 2)), 44_100).shape == (0,)
