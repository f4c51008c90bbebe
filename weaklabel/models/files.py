"""A saved model's files, written and read so that loading one runs no code of the file's choosing.

A models folder is data: it may come from elsewhere, be damaged, or be crafted. So nothing here
unpickles. The formats:

- JSON (``model.json``, the logistic regression's ``weights.json``): read with
  :func:`read_json`;
- numpy arrays in ``.npz`` without pickled objects (the KNN's training rows): :func:`read_npz`;
- a scikit-learn estimator in the `skops <https://skops.readthedocs.io>`_ format (``.skops``: a
  zip of a JSON schema and ``.npy`` arrays, rebuilt node by node, never unpickled): :func:`read_skops`
  first lists every type the schema names and refuses the file unless each is in the caller's
  explicit list (:data:`DATA_TYPES` plus the estimator's own classes);
- a Keras network (``.keras``): :func:`read_keras` loads it in Keras's safe mode, which refuses
  Python code in the file (``Lambda`` layers holding bytecode, arbitrary functions).

A file that cannot be read is one :class:`~weaklabel.errors.DataError` naming it, saying why and to
retrain (:func:`damaged`); a file naming a type outside the list is one naming the type.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.errors import DataError, import_keras

#: Types a saved estimator may hold as plain data, as skops names them (``module.Class``): the
#: containers and scalars that skops rebuilds itself from JSON, and numpy arrays and scalars (read
#: from ``.npy`` without pickle). These are all the baselines need; 32-bit numpy scalars are listed
#: for platforms whose default integer is 32 bits.
DATA_TYPES: frozenset[str] = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.str",
        "numpy.ndarray",
        "numpy.int32",
        "numpy.int64",
        "numpy.float32",
        "numpy.float64",
    }
)

#: What to do about a damaged or refused file (the end of every message here).
RETRAIN = "retrain (`weaklabel train`, or `dvc repro train`) to write the models folder again"


def damaged(path: str | Path, error: BaseException | str) -> DataError:
    """The error for a model file that cannot be read: names the file, what failed and to retrain.

    Examples
    --------
    >>> str(damaged("models/knn@mel_mean/model.json", "not JSON"))[:50]
    'models/knn@mel_mean/model.json cannot be read as a'
    """
    why = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return DataError(f"{path} cannot be read as a saved model ({why}): the file is damaged; {RETRAIN}")


def type_name(cls: type) -> str:
    """``module.Class`` of a class, as skops names it in a file's schema.

    Examples
    --------
    >>> type_name(dict)
    'builtins.dict'
    """
    return f"{cls.__module__}.{cls.__qualname__}"


# ---------------------------------------------------------------------------------------- JSON
def read_json(path: str | Path) -> Any:
    """The JSON value in ``path``.

    Raises
    ------
    DataError
        If the file is not UTF-8 JSON (:func:`damaged`).
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise damaged(path, error) from None


# ----------------------------------------------------------------------------------------- npz
def write_npz(path: str | Path, **arrays: np.ndarray) -> None:
    """Write numeric arrays to ``path`` (``.npz``, uncompressed)."""
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def read_npz(path: str | Path, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of an ``.npz``, read without unpickling (object arrays are refused).

    Raises
    ------
    DataError
        If the file is not an ``.npz``, lacks one of ``names``, or holds pickled objects.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in names}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise damaged(path, error) from None


# --------------------------------------------------------------------------------------- skops
def write_skops(estimator: Any, path: str | Path) -> None:
    """Save a scikit-learn estimator in the skops format (no pickle)."""
    import skops.io

    skops.io.dump(estimator, path)


def _schema_types(node: Any) -> Iterator[str]:
    """Every ``module.Class`` a skops schema names, at any depth (node classes and named types)."""
    if isinstance(node, dict):
        if "__class__" in node or "__module__" in node:
            yield f"{node.get('__module__')}.{node.get('__class__')}"
        for value in node.values():
            yield from _schema_types(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schema_types(value)


def skops_types(path: str | Path) -> set[str]:
    """Every type a skops file names: in its schema, as JSON, at any depth; nothing is built or imported.

    Raises
    ------
    DataError
        If the file is not a skops file (not a zip, no ``schema.json``, schema not JSON).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (OSError, KeyError, UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile) as error:
        raise damaged(path, error) from None
    return set(_schema_types(schema))


def read_skops(path: str | Path, *, trusted: Iterable[str], expected: type) -> Any:
    """Load a scikit-learn estimator saved by :func:`write_skops`, building only trusted types.

    Parameters
    ----------
    path
        A ``.skops`` file.
    trusted
        The ``module.Class`` names the file may hold besides :data:`DATA_TYPES`: the estimator's
        own classes, nothing more.
    expected
        The class the loaded object must be.

    Returns
    -------
    object
        The estimator.

    Raises
    ------
    DataError
        If the file names a type outside ``trusted`` and :data:`DATA_TYPES` (it is then not
        loaded; the message names the types), if it is damaged, or if it holds another class.
    """
    import skops.io

    allowed = DATA_TYPES | set(trusted)
    found = skops_types(path)
    if found <= allowed:  # then also every type skops itself would look up (it builds nothing)
        try:
            found |= set(skops.io.get_untrusted_types(file=path))
        except Exception as error:  # any failure to parse the file means it is damaged
            raise damaged(path, error) from None
    refused = sorted(found - allowed)
    if refused:
        raise DataError(
            f"{path} holds type(s) {', '.join(refused)}, which a saved {expected.__name__} never holds: "
            f"not loaded (a model file must not run code); {RETRAIN}"
        )
    try:
        estimator = skops.io.load(path, trusted=sorted(found))
    except Exception as error:  # whatever skops fails on, the file is damaged
        raise damaged(path, error) from None
    if type(estimator) is not expected:
        raise damaged(path, f"it holds a {type_name(type(estimator))}, expected {type_name(expected)}")
    return estimator


# --------------------------------------------------------------------------------------- Keras
def read_keras(path: str | Path) -> Any:
    """Load a Keras network in safe mode (Python code in the file is refused), uncompiled.

    Raises
    ------
    DataError
        If the file is damaged or not a ``.keras`` archive, or safe mode refuses it (a ``Lambda``
        layer holding code); the message names the file and says to retrain.
    """
    if not zipfile.is_zipfile(path):  # Keras would say "File not found"
        raise damaged(path, "not a .keras archive (a zip file)")
    keras = import_keras()

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a bad archive
        raise damaged(path, error) from None
