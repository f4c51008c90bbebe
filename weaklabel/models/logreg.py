"""Logistic regression on z-scored features, its strength chosen by a cross-validation grouped by speaker.

The linear read-out of any feature store (``logreg@yamnet``, ``logreg@egemaps``,
``logreg@yamnet+egemaps``; cross-corpus evaluation fits it for every backbone). Features are
z-scored with statistics of the rows given to ``fit`` (scikit-learn's ``StandardScaler``, which
ignores missing values and gives constant features scale 1); missing values (NaN or inf: clips
with too little audio for openSMILE) then become 0, the training mean. An L2-regularised logistic
regression (``lbfgs``) follows.

**Regularisation.** With 1024-d embeddings and a few hundred clips the strength matters (on real
speech, leave-one-corpus-out AUC moved by about 0.05 between C = 1 and C = 0.01), so it is not
fixed: ``C`` is chosen from the grid ``Cs`` by an inner cross-validation on the training rows
(scikit-learn's ``LogisticRegressionCV``, scored by ROC AUC), whose folds are **grouped by
speaker**: ``fit`` takes ``groups`` (the speaker of each row; the train stage passes the video)
and no speaker is ever on both sides of an inner fold (:func:`inner_folds`:
``StratifiedGroupKFold``, at most ``folds`` folds, fewer when there are fewer speakers). Then the
regression is refitted on all training rows with the chosen ``C``. Where no inner
cross-validation is possible (fewer than two speakers, or fewer than two folds holding both
classes on both sides) ``fallback_C`` is used and the model says so (``C_selection_``
``"fallback"``, with the reason); a grid of one value is used as given (``"fixed"``). The chosen
``C`` and the inner AUC of every grid value are recorded (:meth:`LogisticModel.fitted_info`, in
``model.json`` and the models' ``bundle.json``).

A saved model is plain JSON, nothing that executes code on load: ``model.json`` (class, parameters,
chosen C) and ``weights.json`` (the scaler's means and scales, the coefficients, the intercept).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 3)) * [1.0, 100.0, 0.01]
>>> y = (X[:, 0] + rng.normal(size=120) > 0).astype(int)
>>> model = LogisticModel(Cs=[0.01, 1.0], folds=3).fit(X, y, groups=np.arange(120) % 6)
>>> model.predict_proba(X).shape, model.C_ in (0.01, 1.0)
((120, 2), True)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.models.base import FitData, Model, check_features, is_int, is_number, parameters, require
from weaklabel.models.files import damaged, read_json

log = logging.getLogger(__name__)

#: The file holding a saved model's numbers.
WEIGHTS_JSON = "weights.json"
#: The default grid of ``C`` (inverse L2 strength), weakest regularisation last.
DEFAULT_CS = (0.0001, 0.001, 0.01, 0.1, 1.0, 10.0)


def _scaler(*, mean: Sequence[float], scale: Sequence[float]) -> Any:
    """A fitted ``StandardScaler`` with saved statistics (the attributes its ``transform`` reads)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_ = np.asarray(mean, dtype=np.float64)
    scaler.scale_ = np.asarray(scale, dtype=np.float64)
    scaler.n_features_in_ = int(scaler.mean_.shape[0])
    return scaler


def inner_folds(
    y: np.ndarray, groups: np.ndarray | None, *, folds: int
) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """The inner cross-validation folds: whole groups (speakers) on one side only.

    Parameters
    ----------
    y
        Shape (n,), 0 or 1.
    groups
        Shape (n,): the speaker of each row; None treats every row as its own group (and says
        that speakers may then sit on both sides).
    folds
        Most folds, >= 2; fewer when there are fewer groups.

    Returns
    -------
    splits : list of (train, test)
        Row positions of each fold (``StratifiedGroupKFold`` without shuffling, so deterministic),
        keeping only folds whose two sides hold both classes; empty when fewer than two such folds
        exist.
    how : str
        What was done, or why there is no inner cross-validation, for the report.

    Examples
    --------
    >>> y = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    >>> splits, how = inner_folds(y, np.array([0, 0, 1, 1, 2, 2, 3, 3]), folds=2)
    >>> len(splits), how
    (2, '2 folds grouped by speaker (4 speakers)')
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    by_row = groups is None
    groups = np.arange(len(y)) if by_row else np.asarray(groups)
    n_groups = len(np.unique(groups))
    unit = "rows (no speakers given)" if by_row else "speaker"
    k = min(int(folds), n_groups)
    if k < 2:
        return [], f"{n_groups} {'row' if by_row else 'speaker'}{'s' if n_groups != 1 else ''}: no inner CV"
    splits = [
        (train, test)
        for train, test in StratifiedGroupKFold(n_splits=k).split(np.zeros(len(y)), y, groups)
        if len(np.unique(y[train])) == 2 and len(np.unique(y[test])) == 2
    ]
    if len(splits) < 2:
        return [], f"{len(splits)} of {k} folds by {unit} hold both classes: no inner CV"
    dropped = k - len(splits)
    detail = f", {dropped} fold{'s' if dropped > 1 else ''} without both classes dropped" if dropped else ""
    what = "rows (no speakers given)" if by_row else f"speaker ({n_groups} speakers)"
    return splits, f"{len(splits)} folds grouped by {what}{detail}"


@parameters
class LogisticModel(Model):
    """Z-scoring (training statistics) then L2 logistic regression, ``C`` chosen by grouped inner CV.

    Parameters
    ----------
    Cs
        Grid of ``C`` (scikit-learn's inverse L2 strength), each > 0. One value: that ``C``, no
        inner cross-validation.
    folds
        Most folds of the inner cross-validation, >= 2 (fewer when the training rows hold fewer
        speakers).
    fallback_C
        ``C`` used when no inner cross-validation is possible (fewer than two speakers, or no two
        folds with both classes), > 0.
    class_weight
        ``"balanced"`` (weigh classes inversely to their frequency) or ``"none"`` (as
        :class:`~weaklabel.models.head.DenseHead` spells it; ``None`` is accepted too).
    max_iter
        Iterations of the ``lbfgs`` solver, >= 1.

    Notes
    -----
    ``fit`` takes ``groups`` (the speaker of each row) for the inner folds; without them every row
    is its own group, and rows of one speaker may then sit on both sides of an inner fold.
    Missing features are allowed (imputed with the training mean).

    Attributes
    ----------
    scaler_ : sklearn.preprocessing.StandardScaler
        Fitted on the training rows given to :meth:`fit` (never on validation rows).
    coef_ : numpy.ndarray
        (d,) coefficients on the z-scores.
    intercept_ : float
        The intercept.
    C_ : float
        The ``C`` the final fit used.
    C_selection_ : str
        How it was chosen: ``"inner_cv"`` (the best mean inner AUC), ``"fixed"`` (a grid of one
        value) or ``"fallback"`` (no inner CV possible: ``fallback_C``).
    C_note_ : str
        How, in words: ``"inner CV: 5 folds grouped by speaker (30 speakers)"``, ``"fallback: 1
        speaker: no inner CV"``, ``"fixed: one value in Cs"``.
    inner_folds_ : int
        Folds of the inner CV (0 without).
    cv_auc_ : list of float or None
        Mean inner ROC AUC of each value of ``Cs`` (in the order given); None without inner CV.
    n_features_in_ : int
        ``d``.
    n_train_ : int
        Training rows.
    """

    allows_missing = True
    saved_files = (WEIGHTS_JSON,)

    Cs: Sequence[float] = DEFAULT_CS
    folds: int = 5
    fallback_C: float = 0.01
    class_weight: str | None = "balanced"
    max_iter: int = 2000

    def _validate_params(self) -> None:
        grid = isinstance(self.Cs, (list, tuple)) and len(self.Cs) > 0
        grid = grid and all(is_number(c) and c > 0 for c in self.Cs)
        expected = "a non-empty list of numbers > 0, e.g. [0.001, 0.01, 0.1, 1.0] (YAML: 0.0001, not 1e-4)"
        require(grid, "Cs", self.Cs, expected)
        require(
            is_number(self.fallback_C) and self.fallback_C > 0, "fallback_C", self.fallback_C, "a number > 0"
        )
        require(is_int(self.folds) and self.folds >= 2, "folds", self.folds, "an integer >= 2")
        choices = ("balanced", "none", None)
        require(self.class_weight in choices, "class_weight", self.class_weight, "'balanced' or 'none'")
        require(is_int(self.max_iter) and self.max_iter >= 1, "max_iter", self.max_iter, "an integer >= 1")

    def _fit(self, data: FitData) -> None:
        from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
        from sklearn.preprocessing import StandardScaler

        y = data.y
        raw = data.X.astype(np.float64)
        scaler = StandardScaler().fit(raw)
        Z = self._zscores(scaler, raw)
        class_weight = None if self.class_weight == "none" else self.class_weight
        grid = [float(c) for c in self.Cs]
        splits, how = (
            ([], "one value in Cs") if len(grid) == 1 else inner_folds(y, data.groups, folds=self.folds)
        )
        self.inner_folds_ = len(splits)
        if splits:
            search = LogisticRegressionCV(
                Cs=grid,
                l1_ratios=(0.0,),
                cv=splits,
                scoring="roc_auc",
                class_weight=class_weight,
                max_iter=self.max_iter,
                use_legacy_attributes=False,
            ).fit(Z, y, sample_weight=data.sample_weight)
            coef, intercept, C = search.coef_, search.intercept_, float(search.C_)
            self.cv_auc_ = [round(float(a), 6) for a in np.asarray(search.scores_).mean(axis=0).ravel()]
            self.C_selection_ = "inner_cv"
            how = f"inner CV: {how}"
        else:
            C = grid[0] if len(grid) == 1 else float(self.fallback_C)
            if len(grid) > 1:
                log.warning("logistic regression: %s; using fallback_C = %g", how, C)
            regression = LogisticRegression(C=C, class_weight=class_weight, max_iter=self.max_iter)
            regression.fit(Z, y, sample_weight=data.sample_weight)
            coef, intercept = regression.coef_, regression.intercept_
            self.cv_auc_ = None
            self.C_selection_ = "fixed" if len(grid) == 1 else "fallback"
            how = f"{self.C_selection_}: {how}"
        self.scaler_ = scaler
        self.coef_ = np.asarray(coef, dtype=np.float64).ravel()
        self.intercept_ = float(np.ravel(intercept)[0])
        self.C_ = C
        self.C_note_ = how
        log.info("logistic regression: C = %g (%s)", C, how)

    @staticmethod
    def _zscores(scaler: Any, raw: np.ndarray) -> np.ndarray:
        """(n, d) float32 z-scores; missing values (NaN) become 0, the training mean."""
        return np.nan_to_num(scaler.transform(raw), nan=0.0).astype(np.float32)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of the positive class, shape (n,), for ``X`` of shape (n, d) (missing values allowed)."""
        self._check_fitted()
        return self._logits(check_features(X, n_features=self.n_features_in_, allow_missing=True))

    def _logits(self, X: np.ndarray) -> np.ndarray:
        Z = self._zscores(self.scaler_, X.astype(np.float64)).astype(np.float64)
        return Z @ self.coef_ + self.intercept_

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        positive = 1.0 / (1.0 + np.exp(-self._logits(X)))
        return np.column_stack([1.0 - positive, positive])

    def fitted_info(self) -> dict[str, Any]:
        """Columns and rows, the chosen ``C``, how it was chosen, the inner AUC per grid value."""
        return {
            **super().fitted_info(),
            "C": self.C_,
            "C_selection": self.C_selection_,
            "C_note": self.C_note_,
            "inner_folds": self.inner_folds_,
            "Cs": [float(c) for c in self.Cs],
            "cv_auc": self.cv_auc_,
        }

    def _save(self, folder: Path) -> None:
        weights = {
            "scaler": {"mean": self.scaler_.mean_.tolist(), "scale": self.scaler_.scale_.tolist()},
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
        }
        (folder / WEIGHTS_JSON).write_text(json.dumps(weights) + "\n")

    def _restore(self, folder: Path, fitted: dict[str, Any]) -> None:
        path = folder / WEIGHTS_JSON
        weights = read_json(path)
        try:
            self.scaler_ = _scaler(mean=weights["scaler"]["mean"], scale=weights["scaler"]["scale"])
            self.coef_ = np.asarray(weights["coef"], dtype=np.float64)
            self.intercept_ = float(weights["intercept"])
        except (KeyError, TypeError, ValueError) as error:
            raise damaged(path, error) from None
        d = int(fitted["n_features_in"])
        if self.coef_.shape != (d,) or self.scaler_.mean_.shape != (d,) or self.scaler_.scale_.shape != (d,):
            raise damaged(path, f"coefficients or scaler statistics of the wrong length, expected {d}")
        self.C_ = float(fitted["C"])
        self.C_selection_ = str(fitted["C_selection"])
        self.C_note_ = str(fitted["C_note"])
        self.inner_folds_ = int(fitted["inner_folds"])
        self.cv_auc_ = fitted.get("cv_auc")
