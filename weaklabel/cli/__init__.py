"""The ``weaklabel`` console script: one subcommand per DVC stage, named as the stage.

This subpackage is the application shell: with :mod:`weaklabel.shell` (which the stage scripts
share) the only package code that parses arguments, picks a params file or configures logging.
Each subcommand ``weaklabel.cli.<name>`` exposes ``configure(parser)``, which adds its arguments and
sets ``func``, called as ``func(args, params)`` and returning an exit code. A command's module is
imported only when that command runs or shows its help, so ``weaklabel --help`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from weaklabel import __version__, shell

#: What ``weaklabel --help`` says first.
DESCRIPTION = "Weakly labelled emotional speech from transcribed speech: one command per pipeline stage."
#: Subcommand (module ``weaklabel.cli.<name>``) -> one-line help, in the pipeline's order.
COMMANDS: dict[str, str] = {
    "demo": "synthesize the demo corpus (CMU-MOSEI raw layout) with espeak-ng",
    "ingest": "read a corpus in the CMU-MOSEI raw layout (or a labelled manifest) into segments",
    "clips": "plan one fixed-length clip per segment with audio",
    "label": "weak labels from transcripts (TextBlob + VADER) and their agreement with gold",
    "features": "log-mel, VGG16 and eGeMAPS feature stores of every planned clip",
    "split": "speaker-grouped folds (or one train/valid/test split) that every model shares",
    "train": "train every model per fold (out-of-fold scores) and once on all folds",
    "evaluate": "score every model (AUC with speaker-grouped CIs, paired comparisons) and write the report",
    "probe": "score a folder of recordings (any language, wav/flac/ogg/mp3) with a trained model",
    "crosscorpus": "cross-corpus and within-corpus ROC AUC of each backbone on gold-labelled speech",
}
#: The params file a command reads when ``--params`` is not given and the file exists here.
DEFAULT_PARAMS = Path("params.yaml")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where it has none (None) or is a flag (takes no value)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def _verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "-v", "--verbose", dest="verbosity", action="store_const", const=1, default=default,
        help="debug logging, TensorFlow's start-up logs too",
    )  # fmt: skip
    parser.add_argument(
        "-q", "--quiet", dest="verbosity", action="store_const", const=-1, default=default,
        help="warnings and errors only, no progress bars",
    )  # fmt: skip


def _common() -> argparse.ArgumentParser:
    """The options every subcommand takes: ``--params``, ``-v``, ``-q``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--params",
        type=Path,
        default=None,
        help=f"params file (default: ./{DEFAULT_PARAMS} when present, else the built-in defaults)",
    )
    _verbosity(common, argparse.SUPPRESS)  # given after the subcommand, it overrides the one before
    return common


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; only ``command``'s module is imported to add its arguments."""
    parser = argparse.ArgumentParser(prog="weaklabel", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"weaklabel {__version__}")
    _verbosity(parser, 0)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common()
    for name, help in COMMANDS.items():
        sub = subparsers.add_parser(
            name, help=help, description=help, parents=[common], formatter_class=HelpFormatter
        )
        if name == command:
            importlib.import_module(f"{__name__}.{name}").configure(sub)
    return parser


def params_path(value: Path | None) -> Path | None:
    """The params file to read: ``value``, else ``./params.yaml`` when present, else None (defaults)."""
    if value is None and DEFAULT_PARAMS.exists():
        return DEFAULT_PARAMS
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the console script; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((word for word in argv if not word.startswith("-")), None)
    args = build_parser(command).parse_args(argv)
    shell.configure(args.verbosity)

    def run() -> int:
        from weaklabel.params import load_params

        return args.func(args, load_params(params_path(args.params)))

    return shell.run(run, prog="weaklabel")
