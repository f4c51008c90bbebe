"""``weaklabel split``: speaker-grouped folds (or one train/valid/test split) that every model shares."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from weaklabel.cli import _options
from weaklabel.learn.split import SplitConfig, folds_from, make_split, split_summary, write_split
from weaklabel.params import Params
from weaklabel.tables import read_table

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``split`` arguments."""
    parser.description = (
        "Assign whole speakers to folds or splits. Under evaluate.protocol kfold (the default): "
        "evaluate.folds stratified speaker-grouped folds over the weakly labelled clips, plus "
        "validation speakers for early stopping (split.valid). Under holdout: train, valid and "
        "test (params 'split'): grouped mode reaches the fractions stratified by weak label; "
        "standard mode keeps the gold file's folds. Writes OUT/split.parquet, which train and "
        "evaluate read."
    )
    _options.add_inputs(parser, "segments", "labels")
    parser.add_argument("--out", type=Path, default=_options.SPLIT_DIR, help="folder for split.parquet")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Make and write the split; returns the exit code."""
    labels = read_table(args.labels)
    split = make_split(
        read_table(args.segments),
        labels,
        config=params.section("split", SplitConfig),
        folds=folds_from(params.raw("evaluate")),
    )
    path = write_split(split, args.out / "split.parquet")
    log.info("wrote %s: %s", path, split_summary(split, labels))
    return 0
