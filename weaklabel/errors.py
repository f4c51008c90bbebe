"""The exception hierarchy: one root, so callers can catch everything weaklabel raises."""


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
