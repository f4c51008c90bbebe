"""Saved models run no code when they load, load bit for bit, and say which library versions made them.

Mirrors :mod:`weaklabel.models.files` and the versions of :mod:`weaklabel.models.bundle`.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import zipfile

import numpy as np
import pytest

from weaklabel.errors import DataError
from weaklabel.models import load_saved
from weaklabel.models.baselines import DurationModel, KNNModel, PriorModel, RandomForestModel
from weaklabel.models.bundle import (
    library_versions,
    load_model,
    read_bundle,
    version_differences,
    write_bundle,
)
from weaklabel.models.files import DATA_TYPES, read_skops, skops_types, write_skops
from weaklabel.models.head import DenseHead
from weaklabel.models.logreg import LogisticModel

DIM = 6


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    y = (rng.random(160) < 0.4).astype(np.int64)
    X = rng.normal(size=(160, DIM)).astype(np.float32)
    X[:, :2] += 0.8 * (2 * y[:, None] - 1)
    return X, y, rng.random(160) + 0.5, rng.normal(size=(90, DIM)).astype(np.float32)


#: Every model kind, small; (factory, columns it reads, the files its folder holds besides model.json).
KINDS = {
    "random_forest": (lambda: RandomForestModel(n_estimators=20), slice(None), ["model.skops"]),
    "random_forest_none": (
        lambda: RandomForestModel(n_estimators=5, class_weight=None, max_depth=3, max_features=0.5),
        slice(None),
        ["model.skops"],
    ),
    "knn": (lambda: KNNModel(n_neighbors=9), slice(None), ["neighbours.npz"]),
    "knn_cosine": (lambda: KNNModel(n_neighbors=5, weights="uniform", metric="cosine"), slice(None), None),
    "knn_manhattan": (lambda: KNNModel(n_neighbors=5, metric="manhattan"), slice(None), None),
    "duration": (DurationModel, slice(0, 1), ["model.skops"]),
    "prior": (PriorModel, slice(None), ["model.skops"]),
    "logreg": (lambda: LogisticModel(Cs=[0.1, 1.0], folds=3), slice(None), ["weights.json"]),
    "dense_head": (lambda: DenseHead(hidden=(8,), epochs=3), slice(None), ["model.keras"]),
}


def fitted(name, data):
    X, y, w, _ = data
    factory, columns, _ = KINDS[name]
    return factory().fit(X[:, columns], y, X_val=X[:40, columns], y_val=y[:40], sample_weight=w)


@pytest.mark.parametrize("name", KINDS)
def test_every_model_loads_bit_identical_from_files_that_hold_no_pickle(name, data, tmp_path):
    _, columns, files = KINDS[name]
    model = fitted(name, data)
    X_new = data[3][:, columns]
    proba = model.predict_proba(X_new)
    folder = model.save(tmp_path / name)
    names = sorted(p.name for p in folder.iterdir())
    assert "model.joblib" not in names and names == sorted(["model.json", *(files or names[1:])])
    loaded = load_saved(folder)
    np.testing.assert_array_equal(loaded.predict_proba(X_new), proba)  # bit for bit
    np.testing.assert_array_equal(load_saved(loaded.save(tmp_path / "again")).predict_proba(X_new), proba)
    if (folder / "model.skops").exists():  # only plain data and the estimator's own classes
        own = {f"{c.__module__}.{c.__qualname__}" for c in model.estimator_types()}
        assert skops_types(folder / "model.skops") <= DATA_TYPES | own


def test_a_skops_file_naming_another_type_is_refused_before_anything_is_built(data, tmp_path):
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.svm import SVC

    folder = fitted("prior", data).save(tmp_path / "prior")
    # a transformer that would call os.system: refused from the schema, never built
    write_skops(FunctionTransformer(func=os.system, kw_args={"command": "true"}), folder / "model.skops")
    with pytest.raises(DataError, match=r"prior/model\.skops holds type\(s\) .*posix\.system.*not loaded"):
        load_saved(folder)
    write_skops(SVC(), folder / "model.skops")  # a scikit-learn class, but not this model's
    with pytest.raises(DataError, match=r"holds type\(s\) sklearn\.svm\._classes\.SVC, which a saved Dummy"):
        load_saved(folder)
    # a schema edited by hand to name a module that must not even be imported
    write_skops(fitted("prior", data).estimator_, folder / "model.skops")
    with zipfile.ZipFile(folder / "model.skops") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(files["schema.json"])
    schema.update({"__module__": "antigravity", "__class__": "DummyClassifier"})
    files["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(folder / "model.skops", "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    with pytest.raises(DataError, match=r"holds type\(s\) antigravity\.DummyClassifier, which"):
        load_saved(folder)
    assert "antigravity" not in sys.modules


def test_read_skops_checks_the_class_it_loads(tmp_path):
    from sklearn.dummy import DummyClassifier
    from sklearn.preprocessing import StandardScaler

    write_skops(StandardScaler(), tmp_path / "m.skops")
    trusted = ["sklearn.preprocessing._data.StandardScaler"]
    with pytest.raises(DataError, match="holds a sklearn.preprocessing._data.StandardScaler, expected"):
        read_skops(tmp_path / "m.skops", trusted=trusted, expected=DummyClassifier)


@pytest.mark.parametrize(
    ("name", "file", "content"),
    [
        ("random_forest", "model.skops", b"PK\x03\x04 not a zip"),
        ("random_forest", "model.skops", b""),
        ("knn", "neighbours.npz", b"garbage"),
        ("logreg", "weights.json", b'{"coef": '),
        ("logreg", "weights.json", b'{"coef": [1, 2]}'),
        ("prior", "model.json", b"{not json"),
        ("prior", "model.json", b"[1, 2]"),
        ("dense_head", "model.keras", b"PK\x03\x04 damaged archive"),
    ],
)
def test_a_damaged_file_is_one_data_error_naming_it_and_saying_retrain(name, file, content, data, tmp_path):
    folder = fitted(name, data).save(tmp_path / name)
    (folder / file).write_bytes(content)
    with pytest.raises(
        DataError, match=rf"{name}/{file} cannot be read as a saved model .*retrain"
    ) as caught:
        load_saved(folder)
    assert "File not found" not in str(caught.value)


def test_a_knn_whose_rows_disagree_with_its_description_is_refused(data, tmp_path):
    folder = fitted("knn", data).save(tmp_path / "knn")
    np.savez(folder / "neighbours.npz", X=np.zeros((3, DIM), np.float32), y=np.zeros(3, np.int64))
    with pytest.raises(DataError, match=r"neighbours\.npz cannot be read .*expected float32 \(160, 6\)"):
        load_saved(folder)
    np.savez(folder / "neighbours.npz", X=np.array([object()] * 3), y=np.zeros(3))
    with pytest.raises(DataError, match=r"neighbours\.npz cannot be read .*pickle"):
        load_saved(folder)


def test_a_keras_file_holding_code_is_refused_in_safe_mode(data, tmp_path):
    import keras

    folder = fitted("dense_head", data).save(tmp_path / "head")
    inputs = keras.Input(shape=(DIM,))
    outputs = keras.layers.Lambda(lambda x: x[:, :1] * 0 + 0.5)(inputs)  # code, serialised as bytecode
    keras.Model(inputs, outputs).save(folder / "model.keras")
    with pytest.raises(DataError, match=r"head/model\.keras cannot be read .*(safe_mode|Lambda)"):
        load_saved(folder)


def test_an_older_pickled_model_is_not_loaded_and_says_why(data, tmp_path):
    folder = fitted("random_forest", data).save(tmp_path / "rf")
    (folder / "model.skops").rename(folder / "model.joblib")
    with pytest.raises(DataError, match=r"model\.skops missing; its model\.joblib is a pickle .* run train"):
        load_saved(folder)


def test_library_versions_are_recorded_and_a_mismatch_is_warned_naming_both(data, tmp_path, caplog):
    versions = library_versions()
    assert {"weaklabel", "numpy", "scikit-learn", "skops", "keras"} <= set(versions)
    models = tmp_path / "models"
    fitted("prior", data).save(models / "prior")
    saved = {**versions, "scikit-learn": "1.0.0", "numpy": "1.26.0"}
    write_bundle({"models": {"prior": {"path": "prior"}}, "versions": saved}, models)
    assert read_bundle(models)["versions"] == saved
    assert version_differences(saved) == [
        ("numpy", "1.26.0", versions["numpy"]),
        ("scikit-learn", "1.0.0", versions["scikit-learn"]),
    ]
    with caplog.at_level(logging.WARNING, logger="weaklabel.models.bundle"):
        load_model(models, "prior")
        load_model(models, "prior")  # once per folder and library, not once per model
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2, warned
    assert any(
        "scikit-learn 1.0.0" in m and f"scikit-learn {versions['scikit-learn']} is installed" in m
        for m in warned
    )
    assert any("numpy 1.26.0" in m and f"numpy {versions['numpy']} is installed" in m for m in warned)
    caplog.clear()
    fitted("prior", data).save(tmp_path / "same" / "prior")
    write_bundle({"models": {"prior": {"path": "prior"}}, "versions": versions}, tmp_path / "same")
    with caplog.at_level(logging.WARNING, logger="weaklabel.models.bundle"):
        load_model(tmp_path / "same", "prior")
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_skops_files_are_zips_without_pickles(data, tmp_path):
    folder = fitted("random_forest", data).save(tmp_path / "rf")
    with zipfile.ZipFile(folder / "model.skops") as archive:
        names = archive.namelist()
        assert "schema.json" in names and all(n == "schema.json" or n.endswith(".npy") for n in names)
        json.loads(archive.read("schema.json"))
        for name in names:
            if name.endswith(".npy"):
                np.lib.format.read_array(archive.open(name), allow_pickle=False)
