"""The trained-models bundle: a folder of fitted models and ``bundle.json``, its index.

``bundle.json`` records, for each model, its class, params, the feature store it reads and that
store's identity (:mod:`weaklabel.features.identity`), the rows and classes it was trained on; and
for the bundle, the clip length and rate, the split's fingerprint and the models skipped (with the
reason). The train stage writes it (:func:`write_bundle`); evaluate and the probe read it
(:func:`read_bundle`, :func:`load_model`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from weaklabel.errors import DataError
from weaklabel.models.base import Model, load_saved

#: The index's file name inside the models folder.
BUNDLE = "bundle.json"


def write_bundle(bundle: Mapping[str, Any], models_dir: str | Path) -> Path:
    """Write ``bundle`` as ``models_dir/bundle.json``; returns the path."""
    path = Path(models_dir) / BUNDLE
    path.write_text(json.dumps(bundle, indent=2, sort_keys=False, default=str) + "\n")
    return path


def read_bundle(models_dir: str | Path) -> dict[str, Any]:
    """The index of a models folder.

    Raises
    ------
    DataError
        If there is none.
    """
    path = Path(models_dir) / BUNDLE
    if not path.exists():
        raise DataError(f"no {BUNDLE} in {models_dir}: run the train stage (weaklabel train) first")
    return json.loads(path.read_text())


def load_model(models_dir: str | Path, name: str) -> Model:
    """Load model ``name`` from a models folder.

    Parameters
    ----------
    models_dir
        The models folder.
    name
        A key of the bundle's ``models`` (``dense_head``, ``knn``, ...).

    Returns
    -------
    Model
        The fitted model; its bundle entry (``read_bundle(models_dir)["models"][name]``) says which
        features it reads (``features``, ``feature_identity``).

    Raises
    ------
    DataError
        If the folder or the model is missing.

    Examples
    --------
    >>> head = load_model("data/models", "dense_head")  # doctest: +SKIP
    >>> head.predict_proba(X)[:, 1]  # doctest: +SKIP
    """
    models = read_bundle(models_dir)["models"]
    entry = models.get(name)
    if entry is None:
        raise DataError(f"{models_dir} holds no model {name!r}; it holds {', '.join(models)}")
    return load_saved(Path(models_dir) / entry["path"])
