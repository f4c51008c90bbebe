"""The trained-models bundle: a folder of fitted models and ``bundle.json``, its index.

A model's name says what it is and what it reads: ``KIND@FEATURES`` (:func:`model_name`), e.g.
``dense_head@vgg16``, ``logreg@yamnet``, ``logreg@yamnet+egemaps`` (a combination: the stores'
features concatenated), ``knn@mel_mean``; models that read no feature store are named by their
kind alone (``duration``, ``prior``). The name keys the bundle, the metrics and the report, and is
the model's folder.

``bundle.json`` records, for each model, its class, params, the feature store it reads and that
store's identity (:mod:`weaklabel.features.identity`), the rows and classes it was trained on; and
for the bundle, the clip length and rate, the split's fingerprint, the models skipped (with the
reason) and the versions of the libraries the models were saved with (``versions``,
:func:`library_versions`). The train stage writes it (:func:`write_bundle`); evaluate and the probe
read it (:func:`read_bundle`, :func:`load_model`), and loading a model logs a warning for each
library whose installed version differs from the saved one (:func:`version_differences`): a model
saved by another scikit-learn or Keras may load and predict differently.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from weaklabel import __version__
from weaklabel.errors import DataError
from weaklabel.models.base import Model, load_saved
from weaklabel.paths import contained

#: The index's file name inside the models folder.
BUNDLE = "bundle.json"
#: Separates a model's kind from the features it reads: ``logreg@yamnet``.
AT = "@"
#: Joins the feature stores of a combination: ``yamnet+egemaps``.
PLUS = "+"
#: Libraries whose versions ``bundle.json`` records (``versions``): the ones that write and read
#: model files. Keys are PyPI names; a library that is not installed is left out.
LIBRARIES = ("weaklabel", "numpy", "scikit-learn", "skops", "keras", "tensorflow")
#: Distributions that install a library under another PyPI name (the first one found counts).
DISTRIBUTIONS = {"tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly")}

log = logging.getLogger(__name__)
_warned: set[tuple[str, ...]] = set()  # (models folder, library, saved, installed) already logged


def model_name(kind: str, features: str | None = None) -> str:
    """A model's name: ``KIND@FEATURES``, or the kind alone for a model that reads no store.

    Examples
    --------
    >>> model_name("logreg", "yamnet+egemaps"), model_name("prior")
    ('logreg@yamnet+egemaps', 'prior')
    """
    return f"{kind}{AT}{features}" if features else kind


def parse_name(name: str) -> tuple[str, str | None]:
    """``(kind, features)`` of a model name (features None when it names none).

    Examples
    --------
    >>> parse_name("dense_head@vgg16"), parse_name("duration")
    (('dense_head', 'vgg16'), ('duration', None))
    """
    kind, at, features = name.partition(AT)
    return kind, (features if at else None)


def library_versions() -> dict[str, str]:
    """The installed versions of :data:`LIBRARIES` (read from package metadata, nothing imported).

    Returns
    -------
    dict
        PyPI name -> version, for the libraries installed (``weaklabel`` always).

    Examples
    --------
    >>> sorted(library_versions())[:2]
    ['keras', 'numpy']
    """
    versions = {"weaklabel": __version__}
    for library in LIBRARIES[1:]:
        for distribution in DISTRIBUTIONS.get(library, (library,)):
            try:
                versions[library] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return versions


def version_differences(saved: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The libraries whose installed version differs from the one a models folder was saved with.

    Parameters
    ----------
    saved
        A bundle's ``versions``: PyPI name -> version.

    Returns
    -------
    list of (library, saved, installed)
        In the order of ``saved``; a library not installed now is left out (loading a model that
        needs it says so).

    Examples
    --------
    >>> version_differences({"numpy": "0.0.1", "weaklabel": library_versions()["weaklabel"]})[0][:2]
    ('numpy', '0.0.1')
    """
    installed = library_versions()
    return [
        (library, str(version), installed[library])
        for library, version in saved.items()
        if library in installed and str(version) != installed[library]
    ]


def _warn_versions(models_dir: str | Path, bundle: Mapping[str, Any]) -> None:
    """Log, once per models folder and library, each library whose version differs from the saved one."""
    saved = bundle.get("versions")
    if not isinstance(saved, Mapping):
        log.info(
            "%s/%s records no library versions (written by an older weaklabel): retrain to record them",
            models_dir,
            BUNDLE,
        )
        return
    for library, then, now in version_differences(saved):
        key = (str(Path(models_dir).resolve()), library, then, now)
        if key not in _warned:
            _warned.add(key)
            log.warning(
                "the models in %s were saved with %s %s, but %s %s is installed: they may load or predict "
                "differently; install %s==%s, or retrain with this version",
                models_dir,
                library,
                then,
                library,
                now,
                library,
                then,
            )


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
        If there is none, or it is not a JSON object with a ``models`` mapping.
    """
    path = Path(models_dir) / BUNDLE
    if not path.exists():
        raise DataError(f"no {BUNDLE} in {models_dir}: run the train stage (weaklabel train) first")
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DataError(
            f"{path} is not valid JSON ({error}): the models folder is damaged; run the train stage again"
        ) from None
    if not isinstance(bundle, dict) or not isinstance(bundle.get("models"), dict):
        raise DataError(
            f"{path} holds a {type(bundle).__name__}, expected an object with a 'models' mapping as the "
            "train stage writes it: run the train stage again"
        )
    return bundle


def load_model(models_dir: str | Path, name: str) -> Model:
    """Load model ``name`` from a models folder.

    Parameters
    ----------
    models_dir
        The models folder.
    name
        A key of the bundle's ``models`` (``dense_head@vgg16``, ``logreg@yamnet``, ...).

    Returns
    -------
    Model
        The fitted model; its bundle entry (``read_bundle(models_dir)["models"][name]``) says which
        features it reads (``features``, ``feature_identity``).

    Raises
    ------
    DataError
        If the folder or the model is missing, the bundle points the model's folder outside
        ``models_dir`` (a crafted bundle must not make anything load from elsewhere), or a model
        file is damaged or would run code (:mod:`weaklabel.models.files`).

    Notes
    -----
    Logs a warning for each library whose installed version differs from the one the bundle
    records (:func:`version_differences`), naming both.

    Examples
    --------
    >>> head = load_model("data/models", "dense_head@vgg16")  # doctest: +SKIP
    >>> head.predict_proba(X)[:, 1]  # doctest: +SKIP
    """
    bundle = read_bundle(models_dir)
    models = bundle["models"]
    entry = models.get(name)
    if entry is None:
        raise DataError(f"{models_dir} holds no model {name!r}; it holds {', '.join(models)}")
    folder = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(folder, str) or not folder:
        raise DataError(
            f"{models_dir}/{BUNDLE}: model {name!r} has no folder ('path'); run the train stage again"
        )
    folder = contained(Path(models_dir) / folder, models_dir, what=f"model {name!r} folder")
    _warn_versions(models_dir, bundle)
    return load_saved(folder)
