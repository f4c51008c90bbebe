"""The time-averaged log-mel spectrum: an ``n_mels``-d feature for the baselines.

Same interface as every embedder (a callable class over a batch dict); no TensorFlow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from weaklabel.audio.mel import MelConfig, batch_mel

log = logging.getLogger(__name__)


class MelMeanEmbedder:
    """Mean over frames of each clip's log-mel spectrogram (dB).

    Padding silence is part of the clip and sits at ``-top_db`` dB, so short segments average
    lower: the feature describes the fixed-length clip, as the VGG16 embedding does.

    Parameters
    ----------
    mel
        Mel parameters; ``None`` for the defaults.

    Attributes
    ----------
    name : str
        ``"mel_mean"``: the store folder name.
    dim : int
        ``mel.n_mels``.
    meta : dict
        ``embedder``, ``dim``, ``mel`` (the parameters), ``pooling``.
    mel_config : MelConfig
        Mel parameters; a batch may carry ``"mel"`` computed with them.

    Examples
    --------
    >>> embed = MelMeanEmbedder()
    >>> embed({"audio": np.zeros((2, 16_000), np.float32)})["embedding"].shape
    (2, 128)
    """

    name = "mel_mean"

    def __init__(self, *, mel: MelConfig | None = None) -> None:
        mel = mel if mel is not None else MelConfig()
        self.mel_config = mel
        self.dim = mel.n_mels
        self.meta: dict[str, Any] = {
            "embedder": self.name,
            "dim": self.dim,
            "mel": mel.to_dict(),
            "pooling": "mean over frames of log-mel dB",
        }

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Embed a batch.

        Parameters
        ----------
        batch
            ``"audio"``: (n, samples) float32 mono at ``mel_config.sample_rate``; optionally
            ``"mel"``: (n, n_mels, frames) log-mels made with ``mel_config``. Other keys are passed
            through.

        Returns
        -------
        dict
            ``"embedding"``: (n, n_mels) float32 mean dB per band, plus the passed-through keys.

        Raises
        ------
        ParameterError
            If the batch has no usable ``"audio"``/``"mel"``.
        """
        passed = {k: v for k, v in batch.items() if k not in ("audio", "mel")}
        mel = batch_mel(batch, config=self.mel_config)
        return {**passed, "embedding": mel.mean(axis=-1, dtype=np.float64).astype(np.float32)}
