"""Read one section of a params file (``params.yaml``) into a frozen config dataclass."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

from weaklabel.config import from_mapping
from weaklabel.errors import ParameterError

ConfigT = TypeVar("ConfigT")
#: The params file a command reads when ``--params`` is not given and the file exists here.
DEFAULT_PARAMS = "params.yaml"


def params_path(value: str | Path | None) -> Path | None:
    """The params file to read: ``value``, else ``./params.yaml`` when present, else None (defaults)."""
    if value is None and Path(DEFAULT_PARAMS).exists():
        return Path(DEFAULT_PARAMS)
    return None if value is None else Path(value)


def command_params(value: str | Path | None) -> dict[str, Any]:
    """Every section of the file :func:`params_path` picks; ``{}`` (built-in defaults) when none.

    Raises
    ------
    ParameterError
        If a file given explicitly is missing, or the file is not a YAML mapping.
    """
    path = params_path(value)
    return read_params(path) if path is not None else {}


def read_params(path: str | Path) -> dict[str, Any]:
    """Read a whole params YAML file.

    Raises
    ------
    ParameterError
        If the file is missing or is not a YAML mapping.
    """
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"params file {path} not found; pass --params or run from the repo root")
    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ParameterError(f"{path} must hold a mapping of sections, found {type(params).__name__}")
    return params


def load_section(path: str | Path | None, section: str, cls: type[ConfigT]) -> ConfigT:
    """Config ``cls`` from ``section`` of the params file at ``path`` (defaults when ``path`` is None)."""
    mapping = read_params(path).get(section) if path is not None else None
    return from_mapping(cls, mapping, section=section)
