"""Log-mel spectrograms, and the image a frozen ImageNet CNN (VGG16) is fed.

The spectrogram is a power mel spectrogram (librosa's STFT and Slaney mel filters) in decibels
relative to the clip's own loudest bin, floored at ``-top_db``: every clip spans
``[-top_db, 0]`` dB. Silence (zero padding) sits on the floor; an all-silent clip is the floor
everywhere.

The image (:func:`to_vgg_image`) is that spectrogram at its native size (``n_mels`` rows, one column
per frame, row 0 the lowest mel band as librosa returns it), mapped linearly from
``[-top_db, 0]`` dB to ``[0, 255]``, replicated into 3 identical channels, and then given the
ImageNet preprocessing of ``keras.applications.vgg16.preprocess_input`` ("caffe" mode: RGB to
BGR, a no-op on identical channels, and subtraction of the ImageNet BGR means
:data:`IMAGENET_BGR_MEAN`). With ``include_top=False`` no resize to 224 x 224 is needed: a 7 s
clip at 16 kHz and hop 512 is a 128 x 219 image.

This module imports no TensorFlow.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import librosa
import numpy as np
import scipy.sparse

from weaklabel.audio.io import SAMPLE_RATE
from weaklabel.errors import ParameterError

log = logging.getLogger(__name__)

#: ImageNet channel means in BGR order, as subtracted by ``keras.applications.vgg16.preprocess_input``.
IMAGENET_BGR_MEAN = np.array([103.939, 116.779, 123.68], dtype=np.float32)

#: Power below which a bin counts as silence (librosa's ``amin``), so ``log10`` stays finite.
AMIN = 1e-10


@dataclass(frozen=True)
class MelConfig:
    """How a clip becomes a log-mel spectrogram.

    Attributes
    ----------
    sample_rate
        Rate of the audio, Hz (CMU-MOSEI ships 16 kHz).
    n_mels
        Mel bands: the image height.
    n_fft
        FFT window, samples (2048 = 128 ms at 16 kHz).
    hop_length
        Hop between frames, samples (512 = 32 ms): a clip of ``n`` samples has
        ``1 + n // hop_length`` frames (centred frames), the image width.
    fmin, fmax
        Lowest and highest mel filter edges, Hz; ``fmax`` at most ``sample_rate / 2``.
    top_db
        Dynamic range kept below the clip's loudest bin, dB; quieter bins are floored there.
    """

    sample_rate: int = SAMPLE_RATE
    n_mels: int = 128
    n_fft: int = 2048
    hop_length: int = 512
    fmin: float = 0.0
    fmax: float = 8000.0
    top_db: float = 80.0

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_mels", "n_fft", "hop_length"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"mel.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ParameterError(
                f"mel.fmin/fmax must satisfy 0 <= fmin < fmax <= sample_rate/2 = {self.sample_rate / 2:g}, "
                f"got fmin={self.fmin}, fmax={self.fmax}; lower fmax or raise mel.sample_rate"
            )
        if self.top_db <= 0:
            raise ParameterError(f"mel.top_db must be > 0 dB, got {self.top_db}")

    def n_frames(self, n_samples: int) -> int:
        """Frames (image width) of a clip of ``n_samples`` samples: ``1 + n_samples // hop_length``."""
        return 1 + int(n_samples) // self.hop_length

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the parameters, for a store's ``meta.json``."""
        return asdict(self)


@functools.lru_cache(maxsize=8)
def mel_filterbank(config: MelConfig) -> np.ndarray:
    """The (n_mels, 1 + n_fft // 2) float32 Slaney mel filterbank of ``config`` (cached)."""
    return librosa.filters.mel(
        sr=config.sample_rate,
        n_fft=config.n_fft,
        n_mels=config.n_mels,
        fmin=config.fmin,
        fmax=config.fmax,
        dtype=np.float32,
    )


@functools.lru_cache(maxsize=8)
def _sparse_filterbank(config: MelConfig) -> scipy.sparse.csr_array:
    # Each FFT bin feeds at most two filters: a sparse product is ~60x fewer flops than a dense one
    # and, unlike BLAS, starts no threads that would compete with the model for the CPU. It is kept
    # over librosa.feature.melspectrogram, whose dense einsum sums in another order: on 93 real and
    # synthetic 7 s clips 43,748 of 2.6 M log-mel bins differed (by up to 1.5e-5 dB), and the stores
    # built from these log-mels must stay byte-identical.
    return scipy.sparse.csr_array(mel_filterbank(config))


def _check_audio(audio: np.ndarray, *, ndim: int) -> np.ndarray:
    audio = np.asarray(audio)
    if audio.ndim != ndim:
        shape = "(samples,)" if ndim == 1 else "(n, samples)"
        raise ParameterError(f"audio must have shape {shape}, got shape {audio.shape}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise ParameterError(f"audio must be floating point in [-1, 1], got dtype {audio.dtype}")
    if audio.shape[-1] == 0:
        raise ParameterError("audio is empty (0 samples): a clip needs at least one sample")
    if not np.all(np.isfinite(audio)):
        raise ParameterError("audio holds NaN or inf samples; check the decoder or the source file")
    return np.ascontiguousarray(audio, dtype=np.float32)


def _power_to_db(power: np.ndarray, *, top_db: float) -> np.ndarray:
    """Decibels of each clip (first axis) relative to its loudest bin, floored at ``-top_db``.

    ``librosa.power_to_db`` per clip, except that a silent clip (loudest bin <= :data:`AMIN`) is the
    floor everywhere, where librosa would put it at 0 dB.
    """
    db = np.stack([librosa.power_to_db(clip, ref=np.max, amin=AMIN, top_db=top_db) for clip in power])
    db[power.max(axis=(-2, -1)) <= AMIN] = -top_db
    return db.astype(np.float32)


def log_mel_batch(audio: np.ndarray, *, config: MelConfig = MelConfig()) -> np.ndarray:
    """Log-mel spectrograms of a batch of equal-length clips.

    Parameters
    ----------
    audio
        Shape (n, samples), float, mono at ``config.sample_rate``.
    config
        Mel parameters.

    Returns
    -------
    numpy.ndarray
        Shape (n, n_mels, frames), float32 dB in ``[-top_db, 0]``, ``frames = 1 + samples // hop``;
        each clip relative to its own loudest bin.

    Raises
    ------
    ParameterError
        If ``audio`` is not a finite float (n, samples) array with samples > 0.
    """
    audio = _check_audio(audio, ndim=2)
    if audio.shape[0] == 0:
        return np.zeros((0, config.n_mels, config.n_frames(audio.shape[1])), dtype=np.float32)
    spec = librosa.stft(audio, n_fft=config.n_fft, hop_length=config.hop_length, center=True)
    power = spec.real**2 + spec.imag**2  # (n, bins, frames), float32
    n, bins, frames = power.shape
    mel = _sparse_filterbank(config) @ power.transpose(1, 0, 2).reshape(bins, n * frames)
    mel = np.asarray(mel, dtype=np.float32).reshape(config.n_mels, n, frames).transpose(1, 0, 2)
    return np.ascontiguousarray(_power_to_db(mel, top_db=config.top_db))


def log_mel(audio: np.ndarray, *, config: MelConfig = MelConfig()) -> np.ndarray:
    """Log-mel spectrogram of one clip.

    Parameters
    ----------
    audio
        Shape (samples,), float, mono at ``config.sample_rate``.
    config
        Mel parameters.

    Returns
    -------
    numpy.ndarray
        Shape (n_mels, frames), float32 dB in ``[-top_db, 0]`` relative to the clip's loudest bin.

    Raises
    ------
    ParameterError
        If ``audio`` is not a finite float (samples,) array with samples > 0.

    Examples
    --------
    >>> import numpy as np
    >>> log_mel(np.zeros(112_000, np.float32)).shape  # 7 s at 16 kHz
    (128, 219)
    """
    return log_mel_batch(_check_audio(audio, ndim=1)[None, :], config=config)[0]


def to_vgg_image(mel_db: np.ndarray, *, top_db: float = MelConfig.top_db) -> np.ndarray:
    """Map log-mel spectrograms to VGG16 input images (3 channels, ImageNet-preprocessed).

    ``pixel = 255 * (dB + top_db) / top_db`` (clipped to 0..255), the same value in all three
    channels, minus :data:`IMAGENET_BGR_MEAN` per channel: exactly what
    ``keras.applications.vgg16.preprocess_input`` does to that 0..255 RGB image.

    Parameters
    ----------
    mel_db
        Shape (..., n_mels, frames), dB in ``[-top_db, 0]`` (as from :func:`log_mel`).
    top_db
        The spectrogram's dynamic range, dB (``MelConfig.top_db``).

    Returns
    -------
    numpy.ndarray
        Shape (..., n_mels, frames, 3), float32, BGR, each channel in
        ``[-mean_c, 255 - mean_c]``.

    Raises
    ------
    ParameterError
        If ``mel_db`` has fewer than 2 dimensions or ``top_db`` <= 0.
    """
    mel_db = np.asarray(mel_db, dtype=np.float32)
    if mel_db.ndim < 2:
        raise ParameterError(f"mel_db must have shape (..., n_mels, frames), got shape {mel_db.shape}")
    if top_db <= 0:
        raise ParameterError(f"top_db must be > 0 dB, got {top_db}")
    pixels = np.clip((mel_db + top_db) * (255.0 / top_db), 0.0, 255.0)
    return pixels[..., None] - IMAGENET_BGR_MEAN


def batch_mel(batch: Mapping[str, np.ndarray], *, config: MelConfig = MelConfig()) -> np.ndarray:
    """The log-mels of an embedder's input batch: ``batch["mel"]`` when given, else computed.

    Parameters
    ----------
    batch
        ``"audio"``: (n, samples) float at ``config.sample_rate``; optionally ``"mel"``:
        (n, n_mels, frames) dB, computed by :func:`log_mel_batch` with the same ``config``
        (the extraction loop passes it so that the mel is computed once for every embedder).
    config
        Mel parameters.

    Returns
    -------
    numpy.ndarray
        Shape (n, n_mels, frames), float32 dB.

    Raises
    ------
    ParameterError
        If the batch has neither key, or ``"mel"`` has the wrong number of bands.
    """
    if "mel" in batch:
        mel = np.asarray(batch["mel"], dtype=np.float32)
        if mel.ndim != 3 or mel.shape[1] != config.n_mels:
            raise ParameterError(
                f'batch["mel"] must have shape (n, {config.n_mels}, frames), got {mel.shape}; '
                "compute it with log_mel_batch and the embedder's MelConfig, or pass audio only"
            )
        return mel
    if "audio" not in batch:
        raise ParameterError(
            f'an embedder batch needs an "audio" array (n, samples), got keys {sorted(batch)}'
        )
    return log_mel_batch(batch["audio"], config=config)
