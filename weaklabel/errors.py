"""The exception hierarchy: one root, so callers can catch everything weaklabel raises.

And the imports of the optional TensorFlow, which fail with one line naming the extra to install.
"""

from __future__ import annotations

from types import ModuleType


class WeakLabelError(Exception):
    """Root of every error weaklabel raises on purpose."""


class ParameterError(WeakLabelError, ValueError):
    """A parameter or configuration value is invalid; the message says which and how to fix it."""


class DataError(WeakLabelError):
    """Input data cannot be used as a whole (a missing corpus, an unreadable table).

    Bad *rows* are not errors: they go to a rejects table with a reason code.
    """


class MissingDependencyError(WeakLabelError, ImportError):
    """An optional package, system program or model file is absent; the message says how to get it."""


#: How to get TensorFlow, which the VGG16 backbone and the dense heads need (it is an extra).
TENSORFLOW_INSTALL = "pip install 'weaklabel[cpu]' (or 'weaklabel[gpu]' for an NVIDIA GPU)"


def import_tensorflow() -> ModuleType:
    """Import TensorFlow, which ``weaklabel`` installs only with its ``cpu`` or ``gpu`` extra.

    Returns
    -------
    module
        ``tensorflow``.

    Raises
    ------
    MissingDependencyError
        One line naming the extra to install, when TensorFlow cannot be imported.
    """
    try:
        import tensorflow
    except ImportError as error:
        raise MissingDependencyError(
            f"TensorFlow is not installed ({error}); the VGG16 backbone and the dense heads need it: "
            f"{TENSORFLOW_INSTALL}"
        ) from None
    return tensorflow


def import_keras() -> ModuleType:
    """Import Keras on its TensorFlow backend (:func:`import_tensorflow` says what is missing)."""
    import_tensorflow()
    import keras

    return keras
