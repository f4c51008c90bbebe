"""What every stage script shares: its parser, process set-up, params.yaml, and the exit on error.

A stage script's ``main(argv)`` parses its paths with :func:`parser`, calls :func:`start` and
:func:`params`, and runs the library; its ``__main__`` block is ``_stage.run(main)``, which turns a
:class:`~weaklabel.errors.WeakLabelError` into one line on stderr and exit code 2, as the
``weaklabel`` command does.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from weaklabel import shell
from weaklabel.params import Params, load_params

#: DVC's params file, read from the working directory (the repository root under ``dvc repro``).
PARAMS = "params.yaml"


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser described by the script's docstring, with ``-v/--verbose``."""
    result = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument("-v", "--verbose", action="store_true", help="debug logging, TensorFlow's logs too")
    return result


def start(name: str, args: argparse.Namespace) -> logging.Logger:
    """Set up logging (and quiet TensorFlow unless ``-v``); returns the stage's logger."""
    shell.configure(1 if args.verbose else 0)
    return logging.getLogger(f"pipelines.{name}")


def params() -> Params:
    """params.yaml, with its cross-section constraints checked."""
    return load_params(PARAMS)


def run(main: Callable[[], int | None]) -> None:
    """Run a stage's ``main`` as the process: exit 0, or 2 with one line on a WeakLabelError."""
    sys.exit(shell.run(main, prog=f"pipelines.{Path(sys.argv[0]).stem}"))
