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

This module imports scikit-learn, never TensorFlow.
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

#: File name of the pickled scikit-learn estimator inside a saved model folder.
JOBLIB_FILE = "model.joblib"


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


class SklearnModel(Model):
    """Shared ``fit``/``predict_proba``/``save``/``load`` of the scikit-learn baselines.

    Subclasses implement ``_make_estimator(n_samples)``; a pipeline's last step receives the
    sample weights.

    Attributes
    ----------
    estimator_ : sklearn estimator
        The fitted estimator (or pipeline).
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
    n_train_ : int
        Training rows.
    """

    def _make_estimator(self, n_samples: int) -> Any:
        raise NotImplementedError

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> SklearnModel:
        """Fit the estimator.

        Parameters
        ----------
        X
            Shape (n, d), finite.
        y
            Shape (n,), 0 or 1, both classes present.
        X_val, y_val
            Unused (these baselines have no early stopping); accepted for the common interface.
        sample_weight
            Shape (n,), >= 0; ignored (with a log line) by models that cannot weight rows.

        Returns
        -------
        SklearnModel
            ``self``, fitted.

        Raises
        ------
        ParameterError
            If a parameter is invalid.
        DataError
            If the data are malformed.
        """
        X, y, sample_weight = check_training_data(X, y, sample_weight)
        estimator = self._make_estimator(len(X))
        fit_params: dict[str, Any] = {}
        if sample_weight is not None:
            if self.supports_sample_weight:
                step = estimator.steps[-1][0] + "__" if hasattr(estimator, "steps") else ""
                fit_params[f"{step}sample_weight"] = sample_weight
            else:
                log.info("%s cannot weight rows: sample_weight ignored", type(self).__name__)
        estimator.fit(X, y, **fit_params)
        self.estimator_ = estimator
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
            If ``X`` is malformed.
        """
        self._check_fitted()
        X = check_features(X, n_features=self.n_features_in_)
        if len(X) == 0:
            return np.zeros((0, 2))
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        classes = list(self.estimator_.classes_)
        return proba[:, [classes.index(0), classes.index(1)]]

    def fitted_info(self) -> dict[str, Any]:
        """Columns and rows seen in ``fit``."""
        return {"n_features_in": self.n_features_in_, "n_train": self.n_train_}

    def save(self, folder: str | Path) -> Path:
        """Save to ``folder``: ``model.joblib`` (the estimator) and ``model.json``.

        Returns
        -------
        Path
            The folder.

        Raises
        ------
        ParameterError
            If the model is not fitted.
        """
        import joblib

        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.estimator_, folder / JOBLIB_FILE)
        self._write_description(folder)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> SklearnModel:
        """Load a model saved by :meth:`save` (the folder must come from a trusted source: joblib unpickles).

        Raises
        ------
        DataError
            If the files are missing.
        """
        import joblib

        folder = Path(folder)
        if not (folder / JOBLIB_FILE).exists() or not (folder / MODEL_JSON).exists():
            raise DataError(
                f"{folder} holds no saved {cls.__name__} ({JOBLIB_FILE}, {MODEL_JSON}); run train first"
            )
        description = json.loads((folder / MODEL_JSON).read_text())
        model = cls(**description["params"])
        model.estimator_ = joblib.load(folder / JOBLIB_FILE)
        model.n_features_in_ = int(description["fitted"]["n_features_in"])
        model.n_train_ = int(description["fitted"]["n_train"])
        return model


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

    def __init__(
        self,
        *,
        n_estimators: int = 500,
        max_depth: int | None = None,
        min_samples_leaf: int = 2,
        max_features: str | float | int = "sqrt",
        class_weight: str | None = "balanced",
        n_jobs: int = 1,
        seed: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.seed = seed

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.ensemble import RandomForestClassifier

        if not _is_int(self.n_estimators) or self.n_estimators < 1:
            raise ParameterError(f"n_estimators must be an integer >= 1, got {self.n_estimators!r}")
        if not _is_int(self.min_samples_leaf) or self.min_samples_leaf < 1:
            raise ParameterError(f"min_samples_leaf must be an integer >= 1, got {self.min_samples_leaf!r}")
        if self.class_weight not in ("balanced", "balanced_subsample", None):
            raise ParameterError(
                f"class_weight must be balanced, balanced_subsample or null, got {self.class_weight!r}"
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
    Nearest neighbours cannot weight rows: ``sample_weight`` is ignored.
    """

    supports_sample_weight = False

    def __init__(
        self, *, n_neighbors: int = 25, weights: str = "distance", metric: str = "euclidean"
    ) -> None:
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.metric = metric

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if not _is_int(self.n_neighbors) or self.n_neighbors < 1:
            raise ParameterError(f"n_neighbors must be an integer >= 1, got {self.n_neighbors!r}")
        if self.weights not in ("uniform", "distance"):
            raise ParameterError(f"weights must be uniform or distance, got {self.weights!r}")
        k = min(int(self.n_neighbors), n_samples)
        if k < self.n_neighbors:
            log.warning("KNN: n_neighbors=%d > %d training rows; using %d", self.n_neighbors, n_samples, k)
        return make_pipeline(
            StandardScaler(), KNeighborsClassifier(n_neighbors=k, weights=self.weights, metric=self.metric)
        )


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

    def __init__(self, *, C: float = 1.0, class_weight: str | None = "balanced") -> None:
        self.C = C
        self.class_weight = class_weight

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if not self.C > 0:
            raise ParameterError(f"C must be > 0, got {self.C}")
        if self.class_weight not in ("balanced", None):
            raise ParameterError(f"class_weight must be balanced or null, got {self.class_weight!r}")
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.C, class_weight=self.class_weight))


class PriorModel(SklearnModel):
    """Predicts the training share of positives for every row: the floor, AUC 0.5 by construction."""

    def __init__(self) -> None:
        pass

    def _make_estimator(self, n_samples: int) -> Any:
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior")
