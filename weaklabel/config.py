"""Frozen configuration dataclasses built from plain mappings (a ``params.yaml`` section)."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

from weaklabel.errors import ParameterError

ConfigT = TypeVar("ConfigT")


def from_mapping(cls: type[ConfigT], mapping: Mapping[str, Any] | None, *, section: str = "") -> ConfigT:
    """Build the frozen dataclass ``cls`` from ``mapping``, its defaults filling the gaps.

    Parameters
    ----------
    cls
        A dataclass whose fields all have defaults.
    mapping
        Overrides, e.g. one section of ``params.yaml``. ``None`` means all defaults.
    section
        Name used in error messages (``"labels"`` gives ``labels.threshold``).

    Returns
    -------
    ConfigT
        The config instance.

    Raises
    ------
    ParameterError
        If ``mapping`` names a key that ``cls`` does not take (its fields, and init-only
        ``InitVar`` settings such as a removed key whose ``__post_init__`` says what replaced it).

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class C:
    ...     threshold: float = 0.2
    >>> from_mapping(C, {"threshold": 0.1}).threshold
    0.1
    """
    mapping = dict(mapping or {})
    # init-only keys too: a removed setting kept as an InitVar says what to write instead
    unknown = sorted(set(mapping) - set(inspect.signature(cls).parameters))
    if unknown:
        prefix = f"{section}." if section else ""
        known = sorted(f.name for f in dataclasses.fields(cls))
        raise ParameterError(
            f"unknown parameter(s) {', '.join(prefix + k for k in unknown)}; "
            f"expected some of {', '.join(prefix + k for k in known)}"
        )
    return cls(**mapping)
