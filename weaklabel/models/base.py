"""The interface every model follows, input checks, and loading a saved model by its class name.

:class:`Model` is a template: its public ``fit``, ``predict_proba``, ``save`` and ``load`` check
inputs and state once, for every model, and call a subclass's private hooks (``_fit``,
``_predict_proba``, ``_save``, ``_restore``).

A saved model is a folder holding ``model.json`` (the class, its parameters, what ``fit`` learnt
that is worth reading: epochs, training rows, a chosen regularisation) and the class's own files
(``model.keras`` for a Keras network, ``model.skops`` for a scikit-learn estimator,
``neighbours.npz`` for the KNN, ``weights.json`` for the logistic regression). None of them can run
code when it loads (:mod:`weaklabel.models.files`); a damaged one is a DataError naming it.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.errors import DataError, ParameterError
from weaklabel.models.files import damaged, read_json

log = logging.getLogger(__name__)

#: The description file of a saved model folder.
MODEL_JSON = "model.json"

#: Class decorator of every model: the annotated class attributes (with their defaults) become the
#: keyword-only ``__init__`` parameters, stored unchanged under the same names (scikit-learn's
#: convention, without writing the ``__init__``); models compare by identity.
parameters = dataclass(kw_only=True, eq=False, repr=False)


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """Whether ``value`` is a real number (not a bool; YAML reads ``1e-4`` as text)."""
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool)


def require(ok: bool, name: str, value: object, expected: str) -> None:
    """Raise a ParameterError saying ``name must be <expected>, got <value>`` unless ``ok``.

    Examples
    --------
    >>> require(True, "folds", 5, "an integer >= 2")
    """
    if not ok:
        raise ParameterError(f"{name} must be {expected}, got {value!r}")


def check_features(
    X: np.ndarray, *, n_features: int | None = None, name: str = "X", allow_missing: bool = False
) -> np.ndarray:
    """Check a feature matrix and return it as float32.

    Parameters
    ----------
    X
        Shape (n, d), finite unless ``allow_missing``.
    n_features
        The ``d`` the model was fitted on, when known.
    name
        Name used in messages.
    allow_missing
        Accept NaN and inf (a model that imputes them); both come back as NaN.

    Returns
    -------
    numpy.ndarray
        Shape (n, d), float32, C-contiguous.

    Raises
    ------
    DataError
        If ``X`` is not 2-D, holds NaN/inf (unless allowed), or has the wrong number of columns.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise DataError(f"{name} must be 2-D (rows, features), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise DataError(
            f"{name} has {X.shape[1]} features but the model was fitted on {n_features}: "
            "score it with the feature store it was trained on (see the models folder's bundle.json)"
        )
    finite = np.isfinite(X)
    if allow_missing:
        return X if finite.all() else np.where(finite, X, np.float32(np.nan))
    if not finite.all():
        raise DataError(f"{name} holds {int((~finite).sum())} NaN/inf values; expected finite features")
    return X


def check_training_data(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    name: str = "X",
    allow_missing: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check training features, binary targets and optional weights.

    Parameters
    ----------
    X
        Shape (n, d), finite unless ``allow_missing`` (see :func:`check_features`).
    y
        Shape (n,), 0 or 1, both classes present.
    sample_weight
        Shape (n,), finite and >= 0, not all 0; or ``None``.
    name
        Name of ``X`` in messages (``X_val`` for validation data).
    allow_missing
        Accept NaN and inf in ``X`` (returned as NaN).

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
    X = check_features(X, name=name, allow_missing=allow_missing)
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


def check_validation(
    X_val: np.ndarray | None, y_val: np.ndarray | None, *, n_features: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Check validation rows for early stopping; ``(None, None)`` when there are none to watch.

    Parameters
    ----------
    X_val, y_val
        Shape (m, d) and (m,) 0/1, or None.
    n_features
        The ``d`` of the training rows.

    Returns
    -------
    X_val : numpy.ndarray or None
        Shape (m, d), float32; None without validation rows or when ``y_val`` holds one class
        (logged: nothing to stop on).
    y_val : numpy.ndarray or None
        Shape (m,).

    Raises
    ------
    DataError
        If the shapes disagree or ``y_val`` holds other values than 0 and 1.
    """
    if X_val is None or y_val is None:
        return None, None
    X_val = check_features(X_val, n_features=n_features, name="X_val")
    y_val = np.asarray(y_val)
    if y_val.shape != (len(X_val),) or not np.isin(y_val, (0, 1)).all():
        raise DataError(f"y_val must be 0/1 of shape ({len(X_val)},), got {y_val.shape}")
    if len(np.unique(y_val)) < 2:
        log.warning("validation rows hold a single class: no early stopping, training all epochs")
        return None, None
    return X_val, y_val


@dataclass(frozen=True)
class FitData:
    """The checked inputs of :meth:`Model.fit`, handed to a model's ``_fit`` hook.

    Attributes
    ----------
    X
        Shape (n, d), float32 (NaN only for a model that :attr:`Model.allows_missing`).
    y
        Shape (n,), int64, 0 or 1, both classes present.
    sample_weight
        Shape (n,), float64, or None (always None for a model that cannot weight rows).
    groups
        Shape (n,): the speaker of each row, or None.
    X_val, y_val
        Validation rows with both classes, for a model that :attr:`Model.uses_validation`; else None.
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None = None
    groups: np.ndarray | None = None
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None


class Model:
    """The common interface: ``fit``, ``predict_proba``, ``save``, ``load``, as a template.

    The public methods check their inputs and state here, once, and call the subclass's private
    hooks: ``_validate_params()``, ``_fit(data)`` (a :class:`FitData`),
    ``_predict_proba(X)`` (an (n, 2) array), ``_save(folder)`` and ``_restore(folder, fitted)``
    (what ``load`` needs besides the parameters), and ``fitted_info()`` for what ``fit`` learnt.
    Subclasses declare their parameters as annotated class attributes under :data:`parameters`
    (keyword-only ``__init__`` arguments, stored unchanged, validated in ``fit`` with
    :func:`require`); fitted attributes end in ``_`` (``n_features_in_`` and ``n_train_`` are set
    here).
    """

    #: Whether ``fit`` honours ``sample_weight`` (a model that cannot ignores it and says so).
    supports_sample_weight: bool = True
    #: Whether ``fit`` watches validation rows (early stopping); others never see them.
    uses_validation: bool = False
    #: Whether features may be missing (NaN or inf) in ``fit`` and ``predict_proba``.
    allows_missing: bool = False
    #: Files besides ``model.json`` that a saved folder must hold.
    saved_files: tuple[str, ...] = ()
    #: Files an older weaklabel saved instead, no longer read (named when ``saved_files`` are missing).
    retired_files: tuple[str, ...] = ()

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
        groups: np.ndarray | None = None,
    ) -> Model:
        """Fit on the training rows.

        Parameters
        ----------
        X
            Shape (n, d), finite (missing values allowed where the model says so).
        y
            Shape (n,), 0 or 1, both classes present.
        X_val, y_val
            Shape (m, d) and (m,): validation rows, watched for early stopping by models that
            stop early (:attr:`uses_validation`) and unused by the others. Without them (or when
            ``y_val`` holds a single class) such a model trains all its epochs.
        sample_weight
            Shape (n,), >= 0 (e.g. label confidence); ignored, with a log line, by models that
            cannot weight rows (:attr:`supports_sample_weight`).
        groups
            Shape (n,): the speaker (or video) of each row, for models that choose settings by an
            inner cross-validation, which never splits a group; unused by the others.

        Returns
        -------
        Model
            ``self``, fitted.

        Raises
        ------
        ParameterError
            If a parameter is invalid.
        DataError
            If the data are malformed (see :func:`check_training_data`).
        """
        self._validate_params()
        X, y, sample_weight = check_training_data(X, y, sample_weight, allow_missing=self.allows_missing)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != y.shape:
                raise DataError(f"groups must have shape {y.shape}, one per training row; got {groups.shape}")
        if sample_weight is not None and not self.supports_sample_weight:
            log.info("%s cannot weight rows: sample_weight ignored", type(self).__name__)
            sample_weight = None
        if self.uses_validation:
            X_val, y_val = check_validation(X_val, y_val, n_features=X.shape[1])
        else:
            X_val = y_val = None
        self._fit(FitData(X, y, sample_weight=sample_weight, groups=groups, X_val=X_val, y_val=y_val))
        self.n_features_in_ = int(X.shape[1])
        self.n_train_ = len(X)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X
            Shape (n, d) with the ``d`` of ``fit``.

        Returns
        -------
        numpy.ndarray
            Shape (n, 2), float64: P(negative), P(positive).

        Raises
        ------
        ParameterError
            If the model is not fitted.
        DataError
            If ``X`` is malformed or has another number of columns.
        """
        self._check_fitted()
        X = check_features(X, n_features=self.n_features_in_, allow_missing=self.allows_missing)
        if len(X) == 0:
            return np.zeros((0, 2))
        return self._predict_proba(X)

    def fitted_info(self) -> dict[str, Any]:
        """JSON-serialisable facts learnt in ``fit`` (written to ``model.json``): columns and rows."""
        return {"n_features_in": int(self.n_features_in_), "n_train": int(self.n_train_)}

    def save(self, folder: str | Path) -> Path:
        """Save the fitted model into ``folder`` (created): ``model.json`` and the class's own files.

        Returns
        -------
        Path
            The folder.

        Raises
        ------
        ParameterError
            If the model is not fitted.
        """
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._save(folder)
        self._write_description(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Model:
        """Load a model saved by :meth:`save` (:func:`load_saved` finds the class by itself).

        Raises
        ------
        DataError
            If a file is missing or damaged (the message names it and says to retrain), the folder
            holds another class, or a file would run code when loaded (refused, see
            :mod:`weaklabel.models.files`).
        """
        folder = Path(folder)
        missing = [name for name in (MODEL_JSON, *cls.saved_files) if not (folder / name).exists()]
        if missing:
            retired = [name for name in cls.retired_files if (folder / name).exists()]
            note = (
                f"; its {', '.join(retired)} is a pickle an older weaklabel wrote, no longer loaded because "
                "loading a pickle can run any code"
                if retired
                else ""
            )
            raise DataError(
                f"{folder} holds no saved {cls.__name__} ({', '.join(missing)} missing{note}); "
                "run train first"
            )
        path = folder / MODEL_JSON
        description = read_json(path)
        if not isinstance(description, dict):
            raise damaged(path, f"a JSON {type(description).__name__}, expected an object")
        if str(description.get("class", "")) != _class_path(cls):
            raise DataError(f"{folder} holds a {description.get('class')}, not a {cls.__name__}")
        try:
            model = cls(**description["params"])
            fitted = description["fitted"]
            n_features, n_train = int(fitted["n_features_in"]), int(fitted.get("n_train", 0))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise damaged(path, error) from None
        try:
            model._restore(folder, fitted)
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # a hook's file lacks a field
            raise damaged(folder, error) from None
        model.n_features_in_ = n_features
        model.n_train_ = n_train
        return model

    # ------------------------------------------------------------------ hooks of the subclasses
    def _validate_params(self) -> None:
        """Raise ParameterError on an invalid parameter (called first by ``fit``)."""

    def _fit(self, data: FitData) -> None:
        """Fit on checked inputs, setting the fitted attributes of the subclass."""
        raise NotImplementedError

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _save(self, folder: Path) -> None:
        raise NotImplementedError

    def _restore(self, folder: Path, fitted: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "n_features_in_"):
            raise ParameterError(f"{type(self).__name__} is not fitted yet: call fit(X, y) first")

    def _write_description(self, folder: Path) -> None:
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in self.get_params().items()}
        description = {"class": _class_path(type(self)), "params": params, "fitted": self.fitted_info()}
        (folder / MODEL_JSON).write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


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
        If the folder holds no ``model.json``, a damaged one, or one naming a class that is not a
        weaklabel model; or as :meth:`Model.load`.
    """
    path = Path(folder) / MODEL_JSON
    if not path.exists():
        raise DataError(f"no saved model in {folder} ({MODEL_JSON} missing): run the train stage first")
    description = read_json(path)
    if not isinstance(description, dict):
        raise damaged(path, f"a JSON {type(description).__name__}, expected an object")
    target = str(description.get("class", ""))
    module_name, _, qualname = target.partition(":")
    if not module_name.startswith("weaklabel.models."):
        raise DataError(f"{path} names class {target!r}; expected a class from weaklabel.models")
    cls = getattr(importlib.import_module(module_name), qualname, None)
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise DataError(f"{path} names class {target!r}, which is not a weaklabel model")
    return cls.load(folder)
