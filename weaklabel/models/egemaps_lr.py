"""Logistic regression on z-scored features: the eGeMAPS row of the benchmark.

eGeMAPS functionals mix units (Hz, dB, ratios, rates per second), so they are z-scored with
statistics of the rows given to ``fit`` (the training rows; scikit-learn's ``StandardScaler``,
which ignores missing values and gives constant features scale 1) before an L2-regularised
logistic regression (scikit-learn, ``lbfgs``). Missing values (NaN or inf: clips with too little
audio for openSMILE) become 0, the training mean. The same model serves any feature store;
cross-corpus evaluation (:mod:`weaklabel.learn.crosscorpus`) uses it for every backbone.

A saved model is plain JSON (no pickle): ``model.json`` (class, parameters) and ``weights.json``
(the scaler's means and scales, the coefficients and the intercept).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 3)) * [1.0, 100.0, 0.01]
>>> y = (X[:, 0] > 0).astype(int)
>>> model = StandardizedLogistic().fit(X, y)
>>> model.predict_proba(X).shape
(40, 2)
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.errors import DataError, ParameterError
from weaklabel.models.base import MODEL_JSON, Model, check_features, check_training_data

log = logging.getLogger(__name__)

#: The file holding a saved model's numbers.
WEIGHTS_JSON = "weights.json"


def _missing_as_nan(X: np.ndarray) -> np.ndarray:
    """(n, d) float64 features with every NaN or inf as NaN, the scaler's missing value."""
    X = np.asarray(X, dtype=np.float64)
    return np.where(np.isfinite(X), X, np.nan)


def _scaler(*, mean: list[float], scale: list[float]) -> Any:
    """A fitted ``StandardScaler`` with saved statistics (the attributes its ``transform`` reads)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_ = np.asarray(mean, dtype=np.float64)
    scaler.scale_ = np.asarray(scale, dtype=np.float64)
    scaler.n_features_in_ = int(scaler.mean_.shape[0])
    return scaler


class StandardizedLogistic(Model):
    """Z-scoring (training statistics) then L2 logistic regression.

    Parameters
    ----------
    C
        Inverse regularisation strength (scikit-learn's ``C``), > 0. eGeMAPS has 88 features and
        the acted corpora only tens to hundreds of files: 1.0 is a sensible default.
    class_weight
        ``"balanced"`` (weigh classes inversely to their frequency) or ``"none"`` (as
        :class:`~weaklabel.models.head.DenseHead` spells it; ``None`` is accepted too).
    max_iter
        Iterations of the ``lbfgs`` solver, >= 1.

    Attributes
    ----------
    scaler_ : sklearn.preprocessing.StandardScaler
        Fitted on the training rows given to :meth:`fit` (never on validation rows).
    coef_ : numpy.ndarray
        (d,) coefficients on the z-scores.
    intercept_ : float
        The intercept.
    n_features_in_ : int
        ``d``.
    n_train_ : int
        Training rows.
    """

    def __init__(
        self, *, C: float = 1.0, class_weight: str | None = "balanced", max_iter: int = 2000
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter

    def _validate_params(self) -> None:
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float)) or not self.C > 0:
            raise ParameterError(f"C must be a number > 0, got {self.C!r}")
        if self.class_weight not in ("balanced", "none", None):
            raise ParameterError(f"class_weight must be 'balanced' or 'none', got {self.class_weight!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int) or self.max_iter < 1:
            raise ParameterError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> StandardizedLogistic:
        """Fit the standardiser and the regression on the training rows.

        Parameters
        ----------
        X
            (n, d) training features; NaN allowed (imputed with the training mean).
        y
            (n,) 0 or 1, both classes present.
        X_val, y_val
            Ignored (no early stopping): the validation rows must not influence the fit.
        sample_weight
            (n,) optional weights (e.g. label confidence).

        Returns
        -------
        StandardizedLogistic
            ``self``.

        Raises
        ------
        ParameterError
            If a parameter is invalid.
        DataError
            If the data are not (n, d) with binary targets of both classes.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        self._validate_params()
        raw = _missing_as_nan(X)
        if raw.ndim != 2:
            raise DataError(f"X must be 2-D (rows, features), got shape {raw.shape}")
        scaler = StandardScaler().fit(raw)
        Z, y, sample_weight = check_training_data(self._zscores(scaler, raw), y, sample_weight)
        regression = LogisticRegression(
            C=float(self.C),
            class_weight=None if self.class_weight == "none" else self.class_weight,
            max_iter=self.max_iter,
        )
        regression.fit(Z, y, sample_weight=sample_weight)
        self.scaler_ = scaler
        self.coef_ = regression.coef_.ravel().astype(np.float64)
        self.intercept_ = float(regression.intercept_[0])
        self.n_features_in_ = int(Z.shape[1])
        self.n_train_ = int(Z.shape[0])
        return self

    @staticmethod
    def _zscores(scaler: Any, raw: np.ndarray) -> np.ndarray:
        """(n, d) float32 z-scores of ``_missing_as_nan`` features; missing ones become 0, the mean."""
        return np.nan_to_num(scaler.transform(raw), nan=0.0).astype(np.float32)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of the positive class, shape (n,)."""
        self._check_fitted()
        raw = _missing_as_nan(X)
        if raw.ndim != 2 or raw.shape[1] != self.n_features_in_:
            raise DataError(
                f"X must be (n, {self.n_features_in_}) like the training features, got shape {raw.shape}: "
                "score it with the feature store the model was trained on"
            )
        Z = check_features(self._zscores(self.scaler_, raw)).astype(np.float64)
        return Z @ self.coef_ + self.intercept_

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, 2): P(negative), P(positive).

        Raises
        ------
        ParameterError
            If the model is not fitted.
        DataError
            If ``X`` has another number of features than the training rows.
        """
        positive = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - positive, positive])

    def fitted_info(self) -> dict[str, Any]:
        """Features and training rows seen in :meth:`fit`."""
        return {"n_features_in": self.n_features_in_, "n_train": self.n_train_}

    def save(self, folder: str | Path) -> Path:
        """Write ``model.json`` and ``weights.json`` into ``folder``; returns it.

        Raises
        ------
        ParameterError
            If the model is not fitted.
        """
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._write_description(folder)
        weights = {
            "scaler": {"mean": self.scaler_.mean_.tolist(), "scale": self.scaler_.scale_.tolist()},
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "n_train": self.n_train_,
        }
        (folder / WEIGHTS_JSON).write_text(json.dumps(weights) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> StandardizedLogistic:
        """Load a model written by :meth:`save`.

        Raises
        ------
        DataError
            If the files are missing or belong to another class.
        """
        folder = Path(folder)
        try:
            description = json.loads((folder / MODEL_JSON).read_text())
            weights = json.loads((folder / WEIGHTS_JSON).read_text())
        except FileNotFoundError as error:
            raise DataError(f"no saved {cls.__name__} in {folder}: {error.filename} is missing") from error
        if not str(description.get("class", "")).endswith(f":{cls.__qualname__}"):
            raise DataError(f"{folder} holds a {description.get('class')}, not a {cls.__name__}")
        model = cls(**description["params"])
        model.scaler_ = _scaler(mean=weights["scaler"]["mean"], scale=weights["scaler"]["scale"])
        model.coef_ = np.asarray(weights["coef"], dtype=np.float64)
        model.intercept_ = float(weights["intercept"])
        model.n_features_in_ = int(model.coef_.shape[0])
        model.n_train_ = int(weights["n_train"])
        return model
