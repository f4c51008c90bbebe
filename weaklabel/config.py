"""Frozen configuration dataclasses built from plain mappings (a ``params.yaml`` section).

:func:`from_mapping` is the one place a section's values meet their config: it refuses unknown keys,
checks every value against its field's type annotation (:func:`check_value`) before the config's
own ``__post_init__`` judges ranges, and turns whatever else the config raises about a value into a
:class:`~weaklabel.errors.ParameterError` naming the section. A wrongly typed setting therefore
never reaches the library as, say, the string ``"7s"`` where seconds were meant.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from weaklabel.errors import ParameterError

ConfigT = TypeVar("ConfigT")

#: Fields of this name are seeds: numpy's ``SeedSequence`` takes only non-negative integers.
SEED_FIELD = "seed"


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field annotations, resolved; empty when they cannot be (then nothing is checked)."""
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):  # an annotation naming something only imported for type checkers
        return {}


def _describe(annotation: Any) -> str:
    """What a value of ``annotation`` looks like in YAML, for messages: ``a number``, ``a list of ...``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds = [_describe(a) for a in args if a is not type(None)]
        return " or ".join(kinds) + (" or null" if type(None) in args else "")
    if origin in (tuple, list):
        return f"a list of {_describe(args[0] if args else Any).removeprefix('a ').removeprefix('an ')}s"
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return "a mapping of settings"
    return {
        bool: "true or false",
        int: "an integer",
        float: "a finite number",
        str: "a string",
        type(None): "null",
    }.get(annotation, f"a {getattr(annotation, '__name__', annotation)}")


def _kind(value: Any) -> str:
    """What YAML made of ``value``, for messages."""
    if isinstance(value, float) and not math.isfinite(value):
        return "not finite"
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", type(None): "null"}
    if type(value) in kinds:
        return kinds[type(value)]
    return (
        "a list"
        if isinstance(value, (list, tuple))
        else "a mapping"
        if isinstance(value, Mapping)
        else type(value).__name__
    )


def _fits(value: Any, annotation: Any) -> tuple[bool, Any]:
    """Whether ``value`` has the type ``annotation`` says, and the value to store (lists as tuples)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True, value
    if origin in (typing.Union, types.UnionType):
        for option in args:
            ok, stored = _fits(value, option)
            if ok:
                return True, stored
        return False, value
    if origin in (tuple, list):
        element = args[0] if args else Any
        if isinstance(value, (list, tuple)):
            fits = [_fits(item, element) for item in value]
            if all(ok for ok, _ in fits):
                return True, tuple(stored for _, stored in fits)
            return False, value
        # One element for a list: the config decides (some wrap it, data.crosscorpus refuses it).
        return _fits(value, element)[0] and element is not Any, value
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return isinstance(value, Mapping), value
    if annotation is bool:
        return isinstance(value, bool), value
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if annotation is float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return number and math.isfinite(value), value
    if annotation is str:
        return isinstance(value, str), value
    if annotation is type(None):
        return value is None, value
    return True, value  # a type this check does not know: the config's own __post_init__ judges it


def check_value(annotation: Any, value: Any, *, key: str) -> Any:
    """Check one setting against its field's type annotation.

    Parameters
    ----------
    annotation
        The resolved annotation: ``int``, ``float`` (an integer is a number too; NaN and infinities
        are not), ``str``, ``bool``, ``tuple[X, ...]`` (a YAML list, or one X that the config may
        wrap), ``X | None``, ``Mapping[...]``, ``Any``; other types are not checked here.
    value
        The value as YAML gave it.
    key
        ``section.setting``, for the message.

    Returns
    -------
    Any
        ``value``, with lists turned into tuples (configs are frozen and hashable).

    Raises
    ------
    ParameterError
        Naming ``key``, the value and its type, and what was expected.

    Examples
    --------
    >>> check_value(tuple[str, ...], ["a", "b"], key="x.y")
    ('a', 'b')
    >>> check_value(float, "7s", key="clips.length_s")
    Traceback (most recent call last):
    ...
    weaklabel.errors.ParameterError: clips.length_s must be a finite number, got '7s' (a string)
    """
    ok, stored = _fits(value, annotation)
    if not ok:
        raise ParameterError(f"{key} must be {_describe(annotation)}, got {value!r} ({_kind(value)})")
    if key.rpartition(".")[2] == SEED_FIELD and isinstance(stored, int) and stored < 0:
        raise ParameterError(
            f"{key} must be a non-negative integer (numpy refuses negative seeds), got {stored}"
        )
    return stored


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
        If ``mapping`` is not a mapping, names a key that ``cls`` does not have, holds a value of
        the wrong type (:func:`check_value`), or a value ``cls`` refuses.

    Examples
    --------
    >>> @dataclasses.dataclass(frozen=True)
    ... class C:
    ...     threshold: float = 0.2
    >>> from_mapping(C, {"threshold": 0.1}).threshold
    0.1
    """
    prefix = f"{section}." if section else ""
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ParameterError(
            f"section {section or cls.__name__!r} must be a mapping of settings, got {mapping!r}"
        )
    mapping = dict(mapping or {})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(mapping) - known, key=str)
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(prefix + str(k) for k in unknown)}; "
            f"expected some of {', '.join(prefix + k for k in sorted(known))}"
        )
    hints = _hints(cls)
    values = {
        name: check_value(hints[name], value, key=prefix + name) if name in hints else value
        for name, value in mapping.items()
    }
    try:
        return cls(**values)
    except ParameterError:
        raise
    except (TypeError, ValueError, ArithmeticError) as error:  # a check the config did not phrase
        raise ParameterError(f"{section or cls.__name__}: {error}") from error
