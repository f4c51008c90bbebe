"""What both shells, the ``weaklabel`` command and the DVC stage scripts, do to their process.

Only a shell calls this module, never the library: it configures logging, quiets TensorFlow through
the environment, hands parsed paths to the library (:func:`paths`), and turns a
:class:`~weaklabel.errors.WeakLabelError` into one line and an exit code. Keeping it here gives the
two shells one behaviour without either importing the other.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from weaklabel.errors import WeakLabelError

#: Log record format of every command and stage.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Verbosity (-1 quiet, 0 normal, 1 verbose) -> log level.
LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
#: Exit code of a run stopped by a WeakLabelError (bad parameters or data).
ERROR_EXIT = 2


def configure(verbosity: int = 0) -> None:
    """Set up logging at ``verbosity``; below 1 also silence TensorFlow's and absl's start-up noise.

    Call before anything imports TensorFlow: its C++ logging reads ``TF_CPP_MIN_LOG_LEVEL`` once,
    when it loads. A value already in the environment is kept.

    Parameters
    ----------
    verbosity
        -1 (``-q``: warnings and errors), 0 (info) or 1 (``-v``: debug, TensorFlow's own logs too).
    """
    logging.basicConfig(level=LEVELS[max(-1, min(1, verbosity))], format=LOG_FORMAT)
    if verbosity < 1:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # C++ INFO and WARNING: the CPU banner, absl
        logging.getLogger("absl").setLevel(logging.ERROR)  # absl's Python logger, which Keras warns through


def paths(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The parsed options ``names``, as keyword arguments of the library call they are named after.

    A stage script and its command name each path option after the parameter of the
    ``*_from_paths`` function that reads it, so both pass their paths the same way.

    Parameters
    ----------
    args
        The parsed command line.
    *names
        Option destinations, each a parameter name of the function called.

    Examples
    --------
    >>> paths(argparse.Namespace(labels="l.parquet", split="s.parquet", out="o"), "labels", "split")
    {'labels': 'l.parquet', 'split': 's.parquet'}
    """
    return {name: getattr(args, name) for name in names}


def run(main: Callable[[], int | None], *, prog: str) -> int:
    """Run ``main`` and return its exit code; a WeakLabelError becomes one line on stderr and code 2.

    Parameters
    ----------
    main
        The command; returns an exit code, or None for 0.
    prog
        Name that prefixes the error line (``weaklabel``, ``pipelines.ingest``).
    """
    try:
        return int(main() or 0)
    except WeakLabelError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return ERROR_EXIT


def write_metrics(path: str | Path | None, values: Mapping[str, int | float]) -> None:
    """Write a run's DVC metrics: a few flat numbers that ``dvc metrics show`` compares across runs.

    The run's full summary (counts by reason, settings, provenance) goes to its report, an output;
    this file keeps only the headline numbers, so that ``dvc metrics show`` and ``dvc exp show``
    fit a terminal.

    Parameters
    ----------
    path
        The JSON file; ``None`` writes nothing.
    values
        Name -> number.
    """
    if path is None:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(values), indent=2) + "\n")
