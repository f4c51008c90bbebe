"""Audio input: read just a slice of a file, downmixed to mono and resampled.

Whole recordings are never loaded to cut a segment: :func:`read_slice` seeks to the first frame
and reads only the frames it needs (soundfile), then downmixes and resamples (soxr).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from weaklabel.errors import DataError, ParameterError

#: CMU-MOSEI ships 16 kHz mono WAV; every clip is brought to this rate.
SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class AudioInfo:
    """What the header of an audio file says."""

    sample_rate: int
    frames: int
    channels: int

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate


def audio_info(path: str | Path) -> AudioInfo:
    """Read an audio file's header.

    Raises
    ------
    DataError
        If the file is missing or cannot be decoded.
    """
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise DataError(f"cannot read audio header of {path}: {error}") from error
    return AudioInfo(sample_rate=int(info.samplerate), frames=int(info.frames), channels=int(info.channels))


def to_mono(audio: np.ndarray, native_rate: int, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Downmix ``audio`` (frames,) or (frames, channels) to mono float32 at ``sample_rate``."""
    audio = np.asarray(audio, dtype=np.float32)
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    if native_rate != sample_rate and mono.size:
        mono = soxr.resample(mono, native_rate, sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)


def read_slice(
    path: str | Path, start: float = 0.0, duration: float | None = None, *, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Read ``duration`` seconds from ``start`` as mono float32 at ``sample_rate``.

    Parameters
    ----------
    path
        Any format libsndfile decodes (wav, flac, ogg, mp3).
    start
        Offset in seconds, >= 0.
    duration
        Seconds to read; ``None`` reads to the end. A slice past the end is cut short.
    sample_rate
        Target rate; the slice is resampled with soxr when the file differs.

    Returns
    -------
    numpy.ndarray
        Shape (n,), float32, ``n ~= duration * sample_rate``.

    Raises
    ------
    ParameterError
        If ``start`` or ``duration`` is negative.
    DataError
        If the file cannot be opened or decoded.
    """
    if start < 0 or (duration is not None and duration < 0):
        raise ParameterError(f"slice start and duration must be >= 0, got start={start}, duration={duration}")
    try:
        with sf.SoundFile(str(path)) as handle:
            native = handle.samplerate
            handle.seek(min(int(round(start * native)), handle.frames))
            frames = -1 if duration is None else int(round(duration * native))
            data = handle.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise DataError(f"cannot decode {path}: {error}") from error
    return to_mono(data, native, sample_rate=sample_rate)
