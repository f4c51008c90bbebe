"""``weaklabel train``: fit the dense head and every baseline on the split that ``weaklabel split`` made."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from weaklabel import shell
from weaklabel.cli import _options
from weaklabel.errors import DataError
from weaklabel.learn.train import TrainConfig, train_from_paths
from weaklabel.params import Params

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` arguments."""
    parser.description = (
        "Fit the models params 'train.models' names, KIND@FEATURES (the dense head and the logistic "
        "regression on each backbone, e.g. dense_head@yamnet, logreg@yamnet+egemaps; RandomForest, KNN "
        "and a dense net on time-averaged mels; duration only; class prior) on the labels, all on the "
        "split SPLIT (made by `weaklabel split`). Writes OUT/<model>/ and OUT/bundle.json."
    )
    _options.add_inputs(parser, "labels", "split", "clips")
    _options.add_stores(parser)
    parser.add_argument("--out", type=Path, default=_options.MODELS, help="models folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Train every model; returns the exit code."""
    config = params.section("train", TrainConfig)
    if not args.split.exists():
        raise DataError(
            f"split table {args.split} not found: make it first with `weaklabel split` "
            "(or `dvc repro split`), or pass --split"
        )
    bundle = train_from_paths(
        **shell.paths(args, "labels", "split", "clips", "out"),
        stores=_options.parse_stores(args),
        config=config,
        verbose=args.verbosity >= 0,
    )
    log.info("trained %s into %s", ", ".join(bundle["models"]), args.out)
    return 0
