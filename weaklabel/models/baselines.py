"""Baselines the dense head must beat, scored with predicted probabilities (never hard labels).

- :class:`RandomForestModel` and :class:`KNNModel` on time-averaged mel features, the study's
  baselines. The study scored them from hard 0/1 predictions, which turns a ranking into two
  points on the ROC curve; here they are scored with ``predict_proba``.
- The dense net on time-averaged mels is :class:`~weaklabel.models.head.DenseHead` with its own
  parameters.
- :class:`DurationModel`: logistic regression on the clip's speech duration before padding.
  Padding silence tells a model how long a sentence was, and longer sentences carry more sentiment
  words; if this scores well, so can an audio model that only hears the padding.
- :class:`PriorModel`: predicts the training share of positives for every clip (AUC 0.5 exactly).

Saved models run no code when they load (:mod:`weaklabel.models.files`): the random forest, the
duration model and the prior are saved in the skops format and loaded with an explicit list of the
classes each may hold (:meth:`SklearnModel.estimator_types`), anything else refused; the KNN saves
its training rows (``.npz``) and refits on load, which rebuilds the same neighbours exactly.

This module imports scikit-learn, never TensorFlow.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.models.base import FitData, Model, is_int, is_number, parameters, require
from weaklabel.models.files import damaged, read_npz, read_skops, type_name, write_npz, write_skops

log = logging.getLogger(__name__)

#: File name of the scikit-learn estimator inside a saved model folder (skops format, no pickle).
SKOPS_FILE = "model.skops"
#: File name of the KNN's training rows inside a saved model folder.
NEIGHBOURS_FILE = "neighbours.npz"
#: What an older weaklabel saved instead: a joblib pickle, no longer loaded (it could run code).
JOBLIB_FILE = "model.joblib"


class SklearnModel(Model):
    """The scikit-learn baselines: a fitted estimator, saved in the skops format.

    Subclasses implement ``_make_estimator(n_samples)`` (which validates their parameters) and
    :meth:`estimator_types`; a pipeline's last step receives the sample weights. The saved
    ``model.skops`` is rebuilt from its schema, never unpickled, and a file that names any type
    outside :data:`weaklabel.models.files.DATA_TYPES` and :meth:`estimator_types` is refused.

    Attributes
    ----------
    estimator_ : sklearn estimator
        The fitted estimator (or pipeline).
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
    n_train_ : int
        Training rows.
    """

    saved_files = (SKOPS_FILE,)
    retired_files = (JOBLIB_FILE,)

    def _make_estimator(self, n_samples: int) -> Any:
        raise NotImplementedError

    def estimator_types(self) -> tuple[type, ...]:
        """The classes the saved estimator holds besides plain data, the estimator's own first.

        A saved file naming any other class is refused (:func:`weaklabel.models.files.read_skops`).
        """
        raise NotImplementedError

    def _fit(self, data: FitData) -> None:
        estimator = self._make_estimator(len(data.X))
        fit_params: dict[str, Any] = {}
        if data.sample_weight is not None:
            step = estimator.steps[-1][0] + "__" if hasattr(estimator, "steps") else ""
            fit_params[f"{step}sample_weight"] = data.sample_weight
        estimator.fit(data.X, data.y, **fit_params)
        self.estimator_ = estimator

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        classes = list(self.estimator_.classes_)
        return proba[:, [classes.index(0), classes.index(1)]]

    def _save(self, folder: Path) -> None:
        write_skops(self.estimator_, folder / SKOPS_FILE)

    def _restore(self, folder: Path, fitted: dict[str, Any]) -> None:
        types = self.estimator_types()
        trusted = [type_name(cls) for cls in types]
        self.estimator_ = read_skops(folder / SKOPS_FILE, trusted=trusted, expected=types[0])


@parameters
class RandomForestModel(SklearnModel):
    """Random forest; the score is the share of trees voting positive (``predict_proba``).

    Parameters
    ----------
    n_estimators
        Trees, >= 1.
    max_depth
        Deepest tree; None grows until leaves are pure or hold ``min_samples_leaf`` rows.
    min_samples_leaf
        Fewest rows in a leaf, >= 1.
    max_features
        Features tried per split: ``"sqrt"``, ``"log2"``, a fraction or a count.
    class_weight
        ``"balanced"``, ``"balanced_subsample"`` or None.
    n_jobs
        Parallel jobs; results do not depend on it.
    seed
        Seed of the bootstrap samples and feature draws.
    """

    n_estimators: int = 500
    max_depth: int | None = None
    min_samples_leaf: int = 2
    max_features: str | float | int = "sqrt"
    class_weight: str | None = "balanced"
    n_jobs: int = 1
    seed: int = 0

    def estimator_types(self) -> tuple[type, ...]:
        """The forest, its trees and their node arrays."""
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.tree import DecisionTreeClassifier
        from sklearn.tree._tree import Tree

        return (RandomForestClassifier, DecisionTreeClassifier, Tree)

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        for name in ("n_estimators", "min_samples_leaf"):
            value = getattr(self, name)
            require(is_int(value) and value >= 1, name, value, "an integer >= 1")
        choices = ("balanced", "balanced_subsample", None)
        require(
            self.class_weight in choices,
            "class_weight",
            self.class_weight,
            "balanced, balanced_subsample or null",
        )
        return RandomForestClassifier(
            n_estimators=int(self.n_estimators),
            max_depth=self.max_depth,
            min_samples_leaf=int(self.min_samples_leaf),
            max_features=self.max_features,
            class_weight=self.class_weight,
            n_jobs=self.n_jobs,
            random_state=int(self.seed),
        )


@parameters
class KNNModel(SklearnModel):
    """k nearest neighbours on standardised features; the score is the (weighted) positive share.

    Parameters
    ----------
    n_neighbors
        Neighbours, >= 1; capped at the number of training rows.
    weights
        ``"uniform"`` or ``"distance"`` (closer neighbours count more, giving finer scores).
    metric
        Distance metric, e.g. ``"euclidean"`` or ``"cosine"``.

    Notes
    -----
    Nearest neighbours cannot weight rows: ``sample_weight`` is ignored. A saved KNN is its
    training rows (``neighbours.npz``: ``X`` float32, ``y`` int64; no pickle) and parameters; loading
    refits on them, which rebuilds the same scaler and search tree, so predictions are identical.

    Attributes
    ----------
    X_train_ : numpy.ndarray
        (n, d) float32: the training rows, as :meth:`fit` checked them.
    y_train_ : numpy.ndarray
        (n,) int64: their targets.
    """

    supports_sample_weight = False
    saved_files = (NEIGHBOURS_FILE,)

    n_neighbors: int = 25
    weights: str = "distance"
    metric: str = "euclidean"

    def _fit(self, data: FitData) -> None:
        super()._fit(data)
        self.X_train_, self.y_train_ = data.X, data.y

    def _save(self, folder: Path) -> None:
        write_npz(folder / NEIGHBOURS_FILE, X=self.X_train_, y=self.y_train_)

    def _restore(self, folder: Path, fitted: dict[str, Any]) -> None:
        path = folder / NEIGHBOURS_FILE
        rows = read_npz(path, ("X", "y"))
        X, y = rows["X"], rows["y"]
        n, d = int(fitted["n_train"]), int(fitted["n_features_in"])
        if X.dtype != np.float32 or y.dtype != np.int64 or X.shape != (n, d) or y.shape != (n,):
            raise damaged(
                path,
                f"X {X.dtype} {X.shape} and y {y.dtype} {y.shape}, expected float32 ({n}, {d}) and "
                f"int64 ({n},) as model.json says",
            )
        if not np.isfinite(X).all() or not np.isin(y, (0, 1)).all():
            raise damaged(path, "training rows with NaN/inf features or targets other than 0 and 1")
        self._fit(FitData(X, y))

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        require(
            is_int(self.n_neighbors) and self.n_neighbors >= 1,
            "n_neighbors",
            self.n_neighbors,
            "an integer >= 1",
        )
        require(self.weights in ("uniform", "distance"), "weights", self.weights, "uniform or distance")
        k = min(int(self.n_neighbors), n_samples)
        if k < self.n_neighbors:
            log.warning("KNN: n_neighbors=%d > %d training rows; using %d", self.n_neighbors, n_samples, k)
        return make_pipeline(
            StandardScaler(), KNeighborsClassifier(n_neighbors=k, weights=self.weights, metric=self.metric)
        )


@parameters
class DurationModel(SklearnModel):
    """Logistic regression on one column: the clip's speech duration before padding, in seconds.

    A monotonic function of duration, so its AUC is that of duration itself (or of its negative):
    how far the weak label can be predicted from sentence length alone.

    Parameters
    ----------
    C
        Inverse regularisation strength, > 0.
    class_weight
        ``"balanced"`` or None.
    """

    C: float = 1.0
    class_weight: str | None = "balanced"

    def estimator_types(self) -> tuple[type, ...]:
        """The pipeline, its scaler and its logistic regression."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        return (Pipeline, StandardScaler, LogisticRegression)

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        require(is_number(self.C) and self.C > 0, "C", self.C, "a number > 0")
        require(
            self.class_weight in ("balanced", None), "class_weight", self.class_weight, "balanced or null"
        )
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.C, class_weight=self.class_weight))


@parameters
class PriorModel(SklearnModel):
    """Predicts the training share of positives for every row: the floor, AUC 0.5 by construction."""

    def estimator_types(self) -> tuple[type, ...]:
        """scikit-learn's ``DummyClassifier``."""
        from sklearn.dummy import DummyClassifier

        return (DummyClassifier,)

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior")
