"""The interface every model follows, input checks, and loading a saved model by its class name.

A saved model is a folder holding ``model.json`` (the class, its parameters, what ``fit`` learnt
that is worth reading: epochs, training rows) and the class's own files (``model.keras`` for a
Keras network, ``model.joblib`` for a scikit-learn estimator).
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.errors import DataError, ParameterError

log = logging.getLogger(__name__)

#: The description file of a saved model folder.
MODEL_JSON = "model.json"


def check_features(X: np.ndarray, *, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """Check a feature matrix and return it as float32.

    Parameters
    ----------
    X
        Shape (n, d), finite.
    n_features
        The ``d`` the model was fitted on, when known.
    name
        Name used in messages.

    Returns
    -------
    numpy.ndarray
        Shape (n, d), float32, C-contiguous.

    Raises
    ------
    DataError
        If ``X`` is not 2-D, holds NaN/inf, or has the wrong number of columns.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise DataError(f"{name} must be 2-D (rows, features), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise DataError(
            f"{name} has {X.shape[1]} features but the model was fitted on {n_features}: "
            "score it with the feature store it was trained on (see the models folder's bundle.json)"
        )
    if not np.isfinite(X).all():
        raise DataError(
            f"{name} holds {int((~np.isfinite(X)).sum())} NaN/inf values; expected finite features"
        )
    return X


def check_training_data(
    X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, *, name: str = "X"
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check training features, binary targets and optional weights.

    Parameters
    ----------
    X
        Shape (n, d), finite.
    y
        Shape (n,), 0 or 1, both classes present.
    sample_weight
        Shape (n,), finite and >= 0, not all 0; or ``None``.
    name
        Name of ``X`` in messages (``X_val`` for validation data).

    Returns
    -------
    X : numpy.ndarray
        Shape (n, d), float32.
    y : numpy.ndarray
        Shape (n,), int64.
    sample_weight : numpy.ndarray or None
        Shape (n,), float64.

    Raises
    ------
    DataError
        If shapes disagree, ``y`` holds other values or a single class, or the weights are invalid.
    """
    X = check_features(X, name=name)
    y = np.asarray(y)
    if y.shape != (len(X),):
        raise DataError(f"targets for {name} must have shape ({len(X)},), got {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise DataError(
            f"targets for {name} must be 0 or 1, found {sorted(set(np.unique(y).tolist()) - {0, 1})[:5]}; "
            "drop abstained (-1) rows first"
        )
    y = y.astype(np.int64)
    if len(np.unique(y)) < 2:
        raise DataError(
            f"targets for {name} hold a single class ({len(y)} rows, all {int(y[0]) if len(y) else '-'}); "
            "a classifier needs positives and negatives: check the labels and the split"
        )
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != y.shape:
            raise DataError(f"sample_weight must have shape {y.shape}, got {sample_weight.shape}")
        if not np.isfinite(sample_weight).all() or (sample_weight < 0).any() or sample_weight.sum() <= 0:
            raise DataError("sample_weight must be finite, >= 0 and not all 0")
    return X, y, sample_weight


class Model:
    """The common interface: ``fit``, ``predict_proba``, ``save``, ``load``.

    Subclasses take their parameters as keyword arguments of ``__init__`` and store them
    unchanged under the same names; ``fit`` validates them and sets fitted attributes ending in
    ``_`` (``n_features_in_`` at least).
    """

    #: Whether ``fit`` honours ``sample_weight`` (a model that cannot ignores it and says so).
    supports_sample_weight: bool = True

    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` parameters and their current values."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> Model:
        """Fit on ``X`` (n, d) and ``y`` (n,) in {0, 1}; returns ``self``."""
        raise NotImplementedError

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, 2): P(negative), P(positive)."""
        raise NotImplementedError

    def fitted_info(self) -> dict[str, Any]:
        """JSON-serialisable facts learnt in ``fit`` (written to ``model.json``)."""
        return {"n_features_in": int(self.n_features_in_)}

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise ParameterError(f"{type(self).__name__} is not fitted yet: call fit(X, y) first")

    def _write_description(self, folder: Path) -> None:
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.get_params().items()}
        description = {
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "params": params,
            "fitted": self.fitted_info(),
        }
        (folder / MODEL_JSON).write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")

    def save(self, folder: str | Path) -> Path:
        """Save the fitted model into ``folder`` (created); returns the folder."""
        raise NotImplementedError

    @classmethod
    def load(cls, folder: str | Path) -> Model:
        """Load a model saved by :meth:`save`."""
        raise NotImplementedError


def load_saved(folder: str | Path) -> Model:
    """Load any saved model folder, whatever its class (named in its ``model.json``).

    Parameters
    ----------
    folder
        A folder written by a model's ``save``.

    Returns
    -------
    Model
        The fitted model.

    Raises
    ------
    DataError
        If the folder holds no ``model.json`` or names a class that is not a weaklabel model.
    """
    path = Path(folder) / MODEL_JSON
    if not path.exists():
        raise DataError(f"no saved model in {folder} ({MODEL_JSON} missing): run the train stage first")
    target = json.loads(path.read_text()).get("class", "")
    module_name, _, qualname = target.partition(":")
    if not module_name.startswith("weaklabel.models."):
        raise DataError(f"{path} names class {target!r}; expected a class from weaklabel.models")
    cls = getattr(importlib.import_module(module_name), qualname, None)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise DataError(f"{path} names class {target!r}, which is not a weaklabel model")
    return cls.load(folder)
