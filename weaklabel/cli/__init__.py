"""The ``weaklabel`` console script.

This subpackage is the application shell: the only package code that parses arguments, reads a
params file or configures logging. Each subcommand lives in its own module here, exposing
``add_parser(subparsers)`` that registers it and sets ``func`` (called with the parsed args,
returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from weaklabel import __version__
from weaklabel.errors import WeakLabelError

#: Subcommand name -> module under weaklabel.cli that defines it, in help order.
COMMANDS: dict[str, str] = {
    "demo": "weaklabel.cli.demo",
    "ingest": "weaklabel.cli.ingest",
    "label": "weaklabel.cli.label",
    "train": "weaklabel.cli.train",
    "evaluate": "weaklabel.cli.evaluate",
    "embed": "weaklabel.cli.embed",
    "probe": "weaklabel.cli.probe",
    "crosscorpus": "weaklabel.cli.crosscorpus",
}

log = logging.getLogger("weaklabel")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="weaklabel", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"weaklabel {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except WeakLabelError as error:
        log.error("%s", error)
        return 2


if __name__ == "__main__":
    sys.exit(main())
