"""What every stage script shares: logging setup and reading its section of params.yaml."""

from __future__ import annotations

import logging
from typing import TypeVar

from weaklabel.cli._params import load_section, read_params

ConfigT = TypeVar("ConfigT")
PARAMS = "params.yaml"


def start(name: str) -> logging.Logger:
    """Configure logging for a stage run and return the stage's logger."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return logging.getLogger(f"pipelines.{name}")


def section(name: str, cls: type[ConfigT]) -> ConfigT:
    """The ``name`` section of params.yaml as a ``cls`` config."""
    return load_section(PARAMS, name, cls)


def raw(name: str) -> dict:
    """The ``name`` section of params.yaml as a plain mapping (for values outside any config)."""
    return read_params(PARAMS).get(name) or {}
