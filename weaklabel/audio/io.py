"""Audio input: read just a slice of a file, downmixed to mono and resampled.

Whole recordings are never loaded to cut a segment: :func:`read_slice` seeks to the first frame
and reads only the frames it needs (soundfile), then downmixes and resamples (soxr). What it
returns is finite: a slice holding NaN or infinite samples is a :class:`~weaklabel.errors.DataError`
naming the file, which the extraction loop turns into a reject of that one clip.

Resampling is serialised by a lock: libsoxr keeps a process-wide FFT table cache that it fills
and grows without a lock unless it is built with OpenMP (the python-soxr wheels are not), so two
threads resampling at once can read a half-built table and produce slightly different samples.
The demo synthesizes recordings on threads and the extraction loop reads clips on threads; with the
lock, every resampled sample is the same whatever the thread timing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from weaklabel.errors import DataError, ParameterError

#: CMU-MOSEI ships 16 kHz mono WAV; every clip is brought to this rate.
SAMPLE_RATE = 16_000

#: Held around every libsoxr call (see the module docstring).
_SOXR_LOCK = threading.Lock()


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
        with _SOXR_LOCK:
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
        If ``start`` or ``duration`` is negative or not finite.
    DataError
        If the file cannot be opened or decoded, or the slice holds NaN or infinite samples.
    """
    finite = np.isfinite(start) and (duration is None or np.isfinite(duration))
    if not finite or start < 0 or (duration is not None and duration < 0):
        raise ParameterError(
            f"slice start and duration must be finite and >= 0, got start={start}, duration={duration}"
        )
    try:
        with sf.SoundFile(str(path)) as handle:
            native = handle.samplerate
            handle.seek(min(int(round(start * native)), handle.frames))
            frames = -1 if duration is None else int(round(duration * native))
            data = handle.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise DataError(f"cannot decode {path}: {error}") from error
    bad = ~np.isfinite(data)
    if bad.any():
        first = int(np.flatnonzero(bad.any(axis=1))[0])
        raise DataError(
            f"{path} holds {int(bad.sum())} NaN or infinite sample(s) in the slice read from {start:.3f} s "
            f"(the first {first / native + start:.3f} s into the file); the file is damaged: re-export it"
        )
    return to_mono(data, native, sample_rate=sample_rate)
