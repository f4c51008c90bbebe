"""Z-scoring with statistics from the training split only.

Features on very different scales (eGeMAPS mixes Hz, dB, ratios and rates) must be standardised
before a linear model sees them; the mean and standard deviation come from the **training rows
only**, so nothing about the validation or test rows leaks into the model.

Examples
--------
>>> import numpy as np
>>> features = np.array([[0.0], [2.0], [100.0]])
>>> scaler = Standardizer().fit(features, split=np.array(["train", "train", "test"]))
>>> scaler.mean_, scaler.scale_
(array([1.]), array([1.]))
>>> scaler.transform(features).ravel().tolist()
[-1.0, 1.0, 99.0]
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from weaklabel.errors import DataError, ParameterError

log = logging.getLogger(__name__)

#: The split name whose rows the statistics come from.
TRAIN = "train"


class Standardizer:
    """Per-feature z-scores, ``(x - mean_) / scale_``, fitted on training rows only.

    Missing values (NaN, e.g. eGeMAPS of a clip with too little audio) are ignored when fitting
    and become 0 (the training mean) when transforming, when ``impute`` is set.

    Parameters
    ----------
    impute
        Replace NaN in the output by 0 (the training mean); otherwise NaN stays NaN.
    min_scale
        A feature whose training standard deviation is below this (a constant feature) gets
        scale 1, so it maps to 0 instead of dividing by ~0.

    Attributes
    ----------
    mean_ : numpy.ndarray
        (dim,) float64 training means (0 where a feature has no finite training value).
    scale_ : numpy.ndarray
        (dim,) float64 training standard deviations (ddof 0), 1 for constant features.
    n_fit_ : int
        Training rows the statistics came from.
    """

    def __init__(self, *, impute: bool = True, min_scale: float = 1e-12) -> None:
        self.impute = impute
        self.min_scale = min_scale

    def fit(self, features: np.ndarray, *, split: np.ndarray | None = None) -> Standardizer:
        """Learn means and scales from the training rows.

        Parameters
        ----------
        features
            (n, dim) float.
        split
            (n,) split names (``"train"``, ``"valid"``, ``"test"``); only ``"train"`` rows are
            used. ``None`` means every row is a training row (the caller already selected them).

        Returns
        -------
        Standardizer
            ``self``, fitted.

        Raises
        ------
        ParameterError
            If ``features`` is not 2-D or ``split`` does not match it.
        DataError
            If there is no training row.
        """
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2:
            raise ParameterError(f"features must be (n, dim), got shape {features.shape}")
        if split is not None:
            split = np.asarray(split).astype(str)
            if split.shape != (features.shape[0],):
                raise ParameterError(
                    f"split must have one name per feature row ({features.shape[0]}), got shape {split.shape}"
                )
            features = features[split == TRAIN]
        if features.shape[0] == 0:
            raise DataError(
                "no training rows to standardise with: the split has no 'train' rows; check the split stage"
            )
        finite = np.isfinite(features)
        counts = finite.sum(axis=0)
        safe = np.where(finite, features, 0.0)
        mean = np.divide(safe.sum(axis=0), counts, out=np.zeros(features.shape[1]), where=counts > 0)
        var = np.divide(
            (np.where(finite, features - mean, 0.0) ** 2).sum(axis=0),
            counts,
            out=np.zeros(features.shape[1]),
            where=counts > 0,
        )
        scale = np.sqrt(var)
        constant = scale < self.min_scale
        if constant.any():
            log.debug("standardiser: %d constant feature(s) get scale 1", int(constant.sum()))
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, scale)
        self.n_fit_ = int(features.shape[0])
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        """Z-score ``features`` with the training statistics.

        Parameters
        ----------
        features
            (n, dim) float.

        Returns
        -------
        numpy.ndarray
            (n, dim) float32; NaN/inf entries are 0 when ``impute`` is set.

        Raises
        ------
        DataError
            If the standardiser is not fitted.
        ParameterError
            If ``dim`` differs from the fitted one.
        """
        if not hasattr(self, "mean_"):
            raise DataError("Standardizer is not fitted: call fit() on the training rows first")
        features = np.asarray(features, dtype=np.float64)
        if features.ndim != 2 or features.shape[1] != self.mean_.shape[0]:
            raise ParameterError(
                f"features must be (n, {self.mean_.shape[0]}) like the training rows, "
                f"got shape {features.shape}"
            )
        z = (features - self.mean_) / self.scale_
        if self.impute:
            z = np.where(np.isfinite(z), z, 0.0)
        return z.astype(np.float32)

    def fit_transform(self, features: np.ndarray, *, split: np.ndarray | None = None) -> np.ndarray:
        """:meth:`fit` on the training rows, then :meth:`transform` every row."""
        return self.fit(features, split=split).transform(features)

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-ready lists (for saving beside a model)."""
        if not hasattr(self, "mean_"):
            raise DataError("Standardizer is not fitted: nothing to save")
        return {
            "impute": self.impute,
            "min_scale": self.min_scale,
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "n_fit": self.n_fit_,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted standardiser from :meth:`to_dict`'s output."""
        scaler = cls(impute=bool(state["impute"]), min_scale=float(state["min_scale"]))
        scaler.mean_ = np.asarray(state["mean"], dtype=np.float64)
        scaler.scale_ = np.asarray(state["scale"], dtype=np.float64)
        scaler.n_fit_ = int(state["n_fit"])
        return scaler
