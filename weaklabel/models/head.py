"""A Keras dense network over fixed-size features: the head on frozen VGG16 embeddings.

The same class is the dense baseline on time-averaged mel features (with other parameters). The
network standardises its input with a ``Normalization`` layer whose mean and variance come from the
training rows, so the saved ``.keras`` file is self-contained: raw store features go in, P(positive)
comes out.

Training is seeded (``keras.utils.set_random_seed``) with TensorFlow's deterministic ops switched
on, so the same data, parameters and seed give the same network up to float round-off. One
``model.fit`` runs the epochs; a callback puts the exact ROC AUC on the validation rows
(:func:`weaklabel.metrics.roc_auc`) into each epoch's logs as ``val_auc``, and Keras's
``EarlyStopping`` watches it and restores the best epoch's weights. Class weights ("balanced",
scikit-learn's ``compute_sample_weight``) and per-sample weights are folded into one sample weight
normalised to mean 1.

A saved head is ``model.json`` and ``model.keras``, loaded in Keras's safe mode (a file holding
Python code, such as a ``Lambda`` layer, is refused; :func:`weaklabel.models.files.read_keras`).

TensorFlow and Keras are imported only inside :meth:`DenseHead.fit` and :meth:`DenseHead.load`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from weaklabel.errors import DataError, import_keras, import_tensorflow
from weaklabel.metrics import roc_auc
from weaklabel.models.base import FitData, Model, is_int, is_number, parameters, require
from weaklabel.models.files import read_keras

log = logging.getLogger(__name__)

#: File name of the network inside a saved model folder (Keras native format).
KERAS_FILE = "model.keras"
#: Accepted values of ``class_weight``.
CLASS_WEIGHTS = ("balanced", "none")


@parameters
class DenseHead(Model):
    """Dense network, sigmoid output, trained with binary cross-entropy and Adam.

    Parameters
    ----------
    hidden
        Units of each hidden ReLU layer, in order; empty gives logistic regression.
    dropout
        Dropout rate after each hidden layer, in [0, 1).
    learning_rate
        Adam's learning rate, > 0.
    l2
        L2 penalty on the hidden layers' kernels, >= 0.
    epochs
        Most epochs to train, >= 1.
    batch_size
        Rows per gradient step, >= 1.
    patience
        Epochs without a better validation AUC before training stops, >= 1.
    class_weight
        ``"balanced"`` weights each class inversely to its frequency; ``"none"`` (or None) does not;
        multiplied by the per-row ``sample_weight`` of ``fit``.
    seed
        Seed of the initial weights, dropout and batch order.
    verbose
        Show a progress bar over the epochs.

    Notes
    -----
    ``fit`` watches ``X_val``/``y_val`` for early stopping (without them, or when ``y_val`` has a
    single class, it trains all ``epochs``).

    Attributes
    ----------
    model_ : keras.Model
        The fitted network (input: raw features; output: P(positive)).
    n_features_in_ : int
        Columns of ``X`` seen in ``fit``.
    history_ : list of dict
        Per epoch: ``epoch`` (from 1), ``loss``, ``val_auc`` (None without validation data).
    best_epoch_ : int
        The epoch whose weights were kept.
    best_val_auc_ : float or None
        Validation AUC at ``best_epoch_``.
    """

    uses_validation = True
    saved_files = (KERAS_FILE,)

    hidden: Sequence[int] = (256, 64)
    dropout: float = 0.3
    learning_rate: float = 1e-3
    l2: float = 1e-4
    epochs: int = 60
    batch_size: int = 32
    patience: int = 10
    class_weight: str | None = "balanced"
    seed: int = 0
    verbose: bool = False

    def _validate_params(self) -> None:
        hidden = self.hidden
        sizes = isinstance(hidden, (list, tuple)) and all(is_int(h) and h >= 1 for h in hidden)
        require(sizes, "hidden", hidden, "a list of layer sizes >= 1, e.g. [256, 64]")
        for name in ("dropout", "learning_rate", "l2"):
            value = getattr(self, name)
            require(
                is_number(value),
                name,
                value,
                "a number (in YAML write 0.0001, not 1e-4, which YAML reads as text)",
            )
        require(0 <= self.dropout < 1, "dropout", self.dropout, "in [0, 1)")
        require(self.learning_rate > 0, "learning_rate", self.learning_rate, "> 0")
        require(self.l2 >= 0, "l2", self.l2, ">= 0")
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            require(is_int(value) and value >= 1, name, value, "an integer >= 1")
        choices = f"one of {CLASS_WEIGHTS} or null"
        require((self.class_weight or "none") in CLASS_WEIGHTS, "class_weight", self.class_weight, choices)
        require(is_int(self.seed), "seed", self.seed, "an integer")

    def _build(self, keras: Any, X: np.ndarray) -> Any:
        mean = X.mean(axis=0, dtype=np.float64)
        variance = X.var(axis=0, dtype=np.float64)
        inputs = keras.Input(shape=(X.shape[1],), name="features")
        x = keras.layers.Normalization(mean=mean.tolist(), variance=variance.tolist(), name="standardise")(
            inputs
        )
        for k, units in enumerate(self.hidden):
            x = keras.layers.Dense(
                int(units),
                activation="relu",
                kernel_regularizer=keras.regularizers.L2(self.l2) if self.l2 else None,
                name=f"dense_{k}",
            )(x)
            if self.dropout:
                x = keras.layers.Dropout(self.dropout, name=f"dropout_{k}")(x)
        outputs = keras.layers.Dense(1, activation="sigmoid", name="p_positive")(x)
        model = keras.Model(inputs, outputs, name="dense_head")
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        return model

    def _fit(self, data: FitData) -> None:
        keras = import_keras()
        tf = import_tensorflow()
        from sklearn.utils.class_weight import compute_sample_weight

        X, y, X_val, y_val = data.X, data.y, data.X_val, data.y_val
        watch = X_val is not None
        keras.utils.set_random_seed(int(self.seed))
        tf.config.experimental.enable_op_determinism()
        weights = np.ones(len(y)) if data.sample_weight is None else data.sample_weight.copy()
        if (self.class_weight or "none") == "balanced":
            weights *= compute_sample_weight("balanced", y)
        weights = (weights / weights.mean()).astype(np.float32)
        model = self._build(keras, X)

        bar = tqdm(total=self.epochs, desc="dense head", unit="epoch", disable=not self.verbose, leave=False)

        def end_of_epoch(epoch: int, logs: dict[str, Any]) -> None:
            loss = float(logs["loss"])
            if not np.isfinite(loss):
                raise DataError(
                    f"dense head diverged (loss {loss}) at epoch {epoch + 1}: lower learning_rate "
                    f"(now {self.learning_rate}) or check the features for extreme values"
                )
            if watch:  # EarlyStopping (next in the list) reads it from the same logs
                logs["val_auc"] = roc_auc(y_val, np.asarray(model(X_val, training=False), np.float64).ravel())
            bar.update()
            bar.set_postfix(loss=f"{loss:.4f}", val_auc=f"{logs['val_auc']:.3f}" if watch else "-")

        stopper = (
            keras.callbacks.EarlyStopping(
                monitor="val_auc", mode="max", patience=int(self.patience), restore_best_weights=True
            )
            if watch
            else None
        )
        callbacks = [keras.callbacks.LambdaCallback(on_epoch_end=end_of_epoch), stopper]
        with bar:
            trained = model.fit(
                X,
                y.astype(np.float32),
                sample_weight=weights,
                batch_size=int(self.batch_size),
                epochs=int(self.epochs),
                shuffle=True,
                callbacks=[c for c in callbacks if c is not None],
                verbose=0,
            ).history
        val_auc = trained.get("val_auc", [None] * len(trained["loss"]))
        history = [
            {"epoch": epoch, "loss": round(float(loss), 6), "val_auc": auc}
            for epoch, (loss, auc) in enumerate(zip(trained["loss"], val_auc, strict=True), start=1)
        ]
        if stopper is not None and stopper.stopped_epoch:
            log.info(
                "early stop after epoch %d: best validation AUC %.4f at epoch %d",
                len(history),
                stopper.best,
                stopper.best_epoch + 1,
            )
        self.model_ = model
        self.history_ = history
        self.best_epoch_ = len(history) if stopper is None else stopper.best_epoch + 1
        self.best_val_auc_ = None if stopper is None else float(stopper.best)

    def _predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = self.model_.predict(X, batch_size=1024, verbose=0).astype(np.float64).ravel()
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def fitted_info(self) -> dict[str, Any]:
        """Columns and rows, epochs trained, the kept epoch and its validation AUC, the loss history."""
        return {
            **super().fitted_info(),
            "epochs_trained": len(self.history_),
            "best_epoch": self.best_epoch_,
            "best_val_auc": self.best_val_auc_,
            "history": self.history_,
        }

    def _save(self, folder: Path) -> None:
        self.model_.save(folder / KERAS_FILE)

    def _restore(self, folder: Path, fitted: dict[str, Any]) -> None:
        self.model_ = read_keras(folder / KERAS_FILE)
        self.history_ = fitted["history"]
        self.best_epoch_ = fitted["best_epoch"]
        self.best_val_auc_ = fitted["best_val_auc"]
