from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from weaklabel.errors import DataError, ParameterError
from weaklabel.metrics import roc_auc
from weaklabel.models import load_saved
from weaklabel.models.baselines import DurationModel, KNNModel, PriorModel, RandomForestModel
from weaklabel.models.head import DenseHead

DIM = 16


def make_data(n: int, *, signal: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings with the label planted in the first columns (signal 0: pure noise); 35% positive."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.35).astype(np.int64)
    X = rng.normal(size=(n, DIM)).astype(np.float32)
    X[:, :3] += signal * (2 * y[:, None] - 1)
    return X, y


@pytest.fixture(scope="module")
def signal():
    return {
        split: make_data(n, signal=0.9, seed=k)
        for k, (split, n) in enumerate((("train", 240), ("valid", 80), ("test", 200)))
    }


@pytest.fixture(scope="module")
def noise():
    return {
        split: make_data(n, signal=0.0, seed=10 + k)
        for k, (split, n) in enumerate((("train", 240), ("valid", 80), ("test", 200)))
    }


def head(**params):
    return DenseHead(**{"hidden": (16,), "epochs": 12, "patience": 4, "learning_rate": 0.01, **params})


FACTORIES = {
    "dense_head": head,
    "random_forest": lambda: RandomForestModel(n_estimators=60),
    "knn": lambda: KNNModel(n_neighbors=15),
    "duration": DurationModel,
}


def fit(model, data, *, columns=slice(None)):
    (X, y), (Xv, yv) = data["train"], data["valid"]
    return model.fit(X[:, columns], y, X_val=Xv[:, columns], y_val=yv)


@pytest.mark.parametrize("name", FACTORIES)
def test_fit_predict_save_load_with_a_planted_signal(name, signal, tmp_path):
    columns = slice(0, 1) if name == "duration" else slice(None)  # duration reads one column
    model = fit(FACTORIES[name](), signal, columns=columns)
    X, y = signal["test"]
    proba = model.predict_proba(X[:, columns])
    assert proba.shape == (len(X), 2)
    assert np.allclose(proba.sum(axis=1), 1) and (proba >= 0).all() and (proba <= 1).all()
    assert roc_auc(y, proba[:, 1]) > 0.8
    folder = model.save(tmp_path / name)
    description = json.loads((folder / "model.json").read_text())
    assert description["class"].startswith("weaklabel.models.")
    again = load_saved(folder)
    assert type(again) is type(model)
    np.testing.assert_allclose(again.predict_proba(X[:, columns]), proba, atol=1e-6)


@pytest.mark.parametrize("name", FACTORIES)
def test_noise_scores_near_chance(name, noise):
    columns = slice(0, 1) if name == "duration" else slice(None)
    model = fit(FACTORIES[name](), noise, columns=columns)
    X, y = noise["test"]
    assert abs(roc_auc(y, model.predict_proba(X[:, columns])[:, 1]) - 0.5) < 0.15


def test_prior_is_constant_at_the_training_share(signal, tmp_path):
    model = fit(PriorModel(), signal)
    X, y = signal["test"]
    proba = model.predict_proba(X)[:, 1]
    assert np.allclose(proba, signal["train"][1].mean())
    assert roc_auc(y, proba) == 0.5
    np.testing.assert_array_equal(load_saved(model.save(tmp_path / "prior")).predict_proba(X)[:, 1], proba)


def test_dense_head_is_deterministic_within_tolerance(signal):
    X = signal["test"][0]
    a = fit(head(seed=3), signal).predict_proba(X)
    b = fit(head(seed=3), signal).predict_proba(X)
    c = fit(head(seed=4), signal).predict_proba(X)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(a - c).max() > 1e-4


def test_dense_head_early_stopping_and_history(noise):
    model = fit(head(epochs=40, patience=2), noise)
    assert len(model.history_) < 40  # noise: validation AUC stops improving
    assert 1 <= model.best_epoch_ <= len(model.history_)
    assert len(model.history_) == model.best_epoch_ + 2  # stopped after `patience` epochs without a gain
    best = model.history_[model.best_epoch_ - 1]["val_auc"]
    assert best == pytest.approx(model.best_val_auc_)
    assert best == max(h["val_auc"] for h in model.history_)
    X_val, y_val = noise["valid"]  # the best epoch's weights are the ones kept
    assert roc_auc(y_val, model.predict_proba(X_val)[:, 1]) == pytest.approx(best)


def test_dense_head_refuses_a_diverging_fit(signal):
    with pytest.raises(DataError, match="diverged"):
        fit(head(learning_rate=1e20, l2=0.0, dropout=0.0, epochs=3), signal)


def test_dense_head_without_validation_trains_all_epochs_and_takes_weights(signal):
    X, y = signal["train"]
    weights = np.where(np.arange(len(y)) % 2 == 0, 1.0, 0.0)
    model = head(epochs=3).fit(X, y, sample_weight=weights)
    assert len(model.history_) == 3 and model.best_val_auc_ is None


def test_sample_weights_reach_the_sklearn_estimators(signal):
    X, y = signal["train"]
    flipped = 1 - y
    weights = np.r_[np.ones(200), np.full(len(y) - 200, 0.0)]
    plain = DurationModel().fit(X[:, :1], y)
    weighted = DurationModel().fit(X[:, :1], y, sample_weight=weights)
    assert not np.allclose(plain.predict_proba(X[:, :1]), weighted.predict_proba(X[:, :1]))
    KNNModel().fit(X, flipped, sample_weight=weights)  # ignored, with a log line, not an error


@pytest.mark.parametrize(
    "model",
    [
        DenseHead(hidden=[0]),
        DenseHead(dropout=1.0),
        DenseHead(epochs=0),
        DenseHead(class_weight="sometimes"),
        RandomForestModel(n_estimators=0),
        KNNModel(weights="far"),
        DurationModel(C=0),
    ],
)
def test_invalid_parameters_are_caught_in_fit(model, signal):
    with pytest.raises(ParameterError):
        fit(model, signal)


def test_data_errors(signal, tmp_path):
    X, y = signal["train"]
    with pytest.raises(DataError, match="single class"):
        RandomForestModel(n_estimators=5).fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(DataError, match="0 or 1"):
        KNNModel().fit(X, np.where(y == 0, -1, 1))
    with pytest.raises(ParameterError, match="not fitted"):
        KNNModel().predict_proba(X)
    model = KNNModel().fit(X, y)
    with pytest.raises(DataError, match="fitted on 16"):
        model.predict_proba(X[:, :4])
    with pytest.raises(DataError, match="NaN"):
        model.predict_proba(np.full_like(X, np.nan))
    with pytest.raises(DataError, match="no saved model"):
        load_saved(tmp_path)


def test_light_modules_import_without_tensorflow():
    code = (
        "import sys\n"
        "import weaklabel.models.baselines, weaklabel.models.head, weaklabel.learn.split, weaklabel.metrics\n"
        "import weaklabel.report.evaluation, weaklabel.learn.train, weaklabel.learn.evaluate\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
