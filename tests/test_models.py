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
from weaklabel.models.logreg import LogisticModel, inner_folds

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
    "logreg": lambda: LogisticModel(Cs=[0.01, 0.1, 1.0], folds=3),
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
    np.testing.assert_array_equal(again.predict_proba(X[:, columns]), proba)  # bit for bit


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
        LogisticModel(Cs=[]),
        LogisticModel(Cs=[0.1, -1.0]),
        LogisticModel(Cs=["1e-4"]),
        LogisticModel(folds=1),
        LogisticModel(fallback_C=0),
        LogisticModel(class_weight="sometimes"),
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


# ------------------------------------------------------------------------------ logistic regression
def speakers_data(rng, *, speakers: int = 12, per: int = 20, dim: int = 40, signal: float = 0.6):
    """Rows of several speakers: a speaker offset on every feature, the label in column 0."""
    groups = np.repeat(np.arange(speakers), per)
    y = rng.integers(0, 2, len(groups))
    X = rng.normal(size=(len(groups), dim)) + rng.normal(scale=2.0, size=(speakers, dim))[groups]
    X[:, 0] += signal * (2 * y - 1)
    return X, y, groups


class SpyCV:
    """Records the ``cv`` folds LogisticRegressionCV is given, then runs the real thing."""

    folds: list = []

    @classmethod
    def install(cls, monkeypatch):
        import sklearn.linear_model

        real = sklearn.linear_model.LogisticRegressionCV

        class Spy(real):
            def fit(self, X, y, **kwargs):
                cls.folds.append(list(self.cv))
                return super().fit(X, y, **kwargs)

        cls.folds = []
        monkeypatch.setattr(sklearn.linear_model, "LogisticRegressionCV", Spy)
        return cls


def test_logreg_chooses_C_from_the_grid_by_folds_that_never_split_a_speaker(rng, monkeypatch):
    spy = SpyCV.install(monkeypatch)
    X, y, groups = speakers_data(rng)
    grid = [0.0001, 0.01, 1.0, 100.0]
    model = LogisticModel(Cs=grid, folds=4).fit(X, y, groups=groups)
    assert model.C_ in grid and model.C_selection_ == "inner_cv" and model.inner_folds_ == 4
    assert model.C_note_ == "inner CV: 4 folds grouped by speaker (12 speakers)"
    assert len(model.cv_auc_) == len(grid) and model.cv_auc_[grid.index(model.C_)] == max(model.cv_auc_)
    (folds,) = spy.folds
    assert len(folds) == 4
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])  # a speaker is on one side only
        assert len(set(y[test])) == 2
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(len(y)))
    info = model.fitted_info()
    assert info["C"] == model.C_ and info["Cs"] == grid and info["cv_auc"] == model.cv_auc_


def test_logreg_regularises_a_weak_signal_spread_over_many_dimensions(rng):
    """Embedding-like: 300 dimensions, each shifted a little by the class, 120 rows of 10 speakers."""
    groups, y = np.repeat(np.arange(10), 12), rng.integers(0, 2, 120)
    X = rng.normal(size=(120, 300)) + 0.12 * (2 * y - 1)[:, None] + 0.5 * rng.normal(size=(10, 300))[groups]
    model = LogisticModel(Cs=[0.0001, 0.001, 0.01, 0.1, 1.0, 10.0], folds=5).fit(X, y, groups=groups)
    assert model.C_ <= 0.01  # the inner CV picks strong regularisation
    assert model.cv_auc_[0] > model.cv_auc_[-1]


def test_inner_folds_group_fall_back_and_say_why(rng):
    y = np.array([0, 1] * 6)
    splits, how = inner_folds(y, np.repeat([0, 1, 2], 4), folds=5)
    assert (
        len(splits) == 3 and how == "3 folds grouped by speaker (3 speakers)"
    )  # fewer speakers: fewer folds
    assert inner_folds(y, np.zeros(12), folds=5) == ([], "1 speaker: no inner CV")
    one_class = np.array([0, 0, 0, 0, 1, 1, 1, 1])  # each speaker holds one class: no fold has both
    assert inner_folds(one_class, np.repeat([0, 1], 4), folds=2)[0] == []
    splits, how = inner_folds(y, None, folds=3)
    assert len(splits) == 3 and "no speakers given" in how


def test_logreg_falls_back_to_a_fixed_C_with_one_speaker(rng, caplog):
    X, y, _ = speakers_data(rng, speakers=1, per=40)
    model = LogisticModel(Cs=[0.01, 1.0], fallback_C=0.5).fit(X, y, groups=np.zeros(40))
    assert model.C_ == 0.5 and model.C_selection_ == "fallback" and model.cv_auc_ is None
    assert model.C_note_ == "fallback: 1 speaker: no inner CV" and "fallback_C" in caplog.text


def test_logreg_one_value_is_plain_logistic_regression(rng):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    X, y, groups = speakers_data(rng, dim=6)
    model = LogisticModel(Cs=[0.3], class_weight="none").fit(X, y, groups=groups)
    assert model.C_ == 0.3 and model.C_selection_ == "fixed" and model.inner_folds_ == 0
    Z = StandardScaler().fit_transform(X.astype(np.float32).astype(np.float64)).astype(np.float32)
    direct = LogisticRegression(C=0.3, max_iter=2000).fit(Z, y)
    np.testing.assert_allclose(model.coef_, direct.coef_.ravel(), rtol=1e-6)


def test_logreg_saves_json_only_and_loads_bit_identical(rng, tmp_path):
    X, y, groups = speakers_data(rng, dim=8)
    X[3, 2] = np.nan  # a clip with too little audio: imputed, not an error
    model = LogisticModel(Cs=[0.01, 0.1, 1.0], folds=3).fit(X, y, groups=groups)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1)
    folder = model.save(tmp_path / "logreg@yamnet")
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "weights.json"]  # no pickle
    description = json.loads((folder / "model.json").read_text())
    assert description["fitted"]["C"] == model.C_ and description["params"]["Cs"] == [0.01, 0.1, 1.0]
    json.loads((folder / "weights.json").read_text())
    for loaded in (LogisticModel.load(folder), load_saved(folder)):
        np.testing.assert_array_equal(loaded.predict_proba(X), proba)  # bit for bit
        assert (loaded.C_, loaded.C_note_, loaded.cv_auc_) == (model.C_, model.C_note_, model.cv_auc_)
    with pytest.raises(DataError, match="features"):
        model.predict_proba(X[:, :3])
    other = tmp_path / "other"
    other.mkdir()
    (other / "weights.json").write_text((folder / "weights.json").read_text())
    (other / "model.json").write_text(
        json.dumps({**description, "class": "weaklabel.models.baselines:KNNModel"})
    )
    with pytest.raises(DataError, match="not a LogisticModel"):
        LogisticModel.load(other)


def test_logreg_ignores_validation_rows_missing_values_and_constant_features(rng):
    X = rng.normal(size=(60, 3)) * [1.0, 50.0, 1.0] + [0.0, 200.0, 0.0]
    y = (X[:, 0] > 0).astype(int)
    X[:, 2] = 5.0  # constant: scale 1, not a division by 0
    X[4, 1], X[5, 1] = np.nan, np.inf  # missing: left out of the statistics, scored as the training mean
    model = LogisticModel(Cs=[1.0]).fit(X, y, X_val=X[:5] * 1e6, y_val=y[:5])
    same = LogisticModel(Cs=[1.0]).fit(X, y)  # validation rows do not influence the fit
    np.testing.assert_array_equal(same.coef_, model.coef_)
    finite = np.isfinite(X[:, 1])
    np.testing.assert_allclose(model.scaler_.mean_, [X[:, 0].mean(), X[finite, 1].mean(), 5.0], rtol=1e-6)
    np.testing.assert_allclose(model.scaler_.scale_, [X[:, 0].std(), X[finite, 1].std(), 1.0], rtol=1e-5)
    at_mean = X[4:6].copy()
    at_mean[:, 1] = model.scaler_.mean_[1]
    np.testing.assert_allclose(model.decision_function(X[4:6]), model.decision_function(at_mean), atol=1e-6)
    assert np.isfinite(model.predict_proba(X)).all()


def test_logreg_class_weight_none_is_no_weighting(rng):
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + rng.normal(size=40) > 0.8).astype(int)
    none = LogisticModel(Cs=[1.0], class_weight="none").fit(X, y)
    np.testing.assert_array_equal(none.coef_, LogisticModel(Cs=[1.0], class_weight=None).fit(X, y).coef_)
    assert not np.array_equal(none.coef_, LogisticModel(Cs=[1.0]).fit(X, y).coef_)


def test_fit_checks_groups_for_every_model(signal):
    X, y = signal["train"]
    with pytest.raises(DataError, match="groups must have shape"):
        LogisticModel().fit(X, y, groups=np.zeros(3))
    with pytest.raises(DataError, match="groups must have shape"):
        PriorModel().fit(X, y, groups=np.zeros(3))
    with pytest.raises(DataError, match="single class"):
        LogisticModel().fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(ParameterError, match="not fitted"):
        LogisticModel().predict_proba(X)
