"""``weaklabel train``: fit the dense head and every baseline on one shared, video-grouped split."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable
from pathlib import Path

from weaklabel.cli._params import DEFAULT_PARAMS, load_section, params_path
from weaklabel.errors import ParameterError
from weaklabel.learn.split import SplitConfig, make_split, write_split
from weaklabel.learn.train import TrainConfig, train_from_paths
from weaklabel.tables import read_table

log = logging.getLogger(__name__)


def parse_stores(values: Iterable[str] | None, *, features: Path | None = None) -> dict[str, Path]:
    """Store name -> folder from ``NAME=PATH`` arguments, over ``features/<name>`` defaults.

    Parameters
    ----------
    values
        ``--store`` arguments, e.g. ``["vgg16=data/features/vgg16"]``.
    features
        A folder whose sub-folders are stores (``data/features``): each becomes a default.

    Returns
    -------
    dict
        Name -> folder.

    Raises
    ------
    ParameterError
        If an argument is not ``NAME=PATH``.
    """
    stores: dict[str, Path] = {}
    if features is not None and features.is_dir():
        stores.update({child.name: child for child in sorted(features.iterdir()) if child.is_dir()})
    for value in values or ():
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ParameterError(f"--store expects NAME=PATH (e.g. vgg16=data/features/vgg16), got {value!r}")
        stores[name] = Path(path)
    return stores


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train the VGG16 dense head and the baselines on one video-grouped split",
        description=(
            "Fit the dense head on VGG16 embeddings and the baselines (RandomForest, KNN and a dense "
            "net on time-averaged mels, duration only, class prior) on the weak labels, all on one "
            "split grouped by video. The split is read from --split, or made there (params 'split') "
            "when the file does not exist. Writes OUT/<model>/ and OUT/bundle.json."
        ),
    )
    parser.add_argument(
        "--segments", type=Path, default=Path("data/ingest/segments.parquet"), help="segments table"
    )
    parser.add_argument(
        "--labels", type=Path, default=Path("data/labels/labels.parquet"), help="labels table"
    )
    parser.add_argument("--clips", type=Path, default=Path("data/clips/clips.parquet"), help="clips table")
    parser.add_argument(
        "--split", type=Path, default=Path("data/split/split.parquet"), help="split table (made when missing)"
    )
    parser.add_argument(
        "--features",
        type=Path,
        default=Path("data/features"),
        help="folder whose sub-folders are feature stores",
    )
    parser.add_argument(
        "--store",
        action="append",
        metavar="NAME=PATH",
        help="a feature store (repeatable; overrides --features)",
    )
    parser.add_argument("--out", type=Path, default=Path("data/models"), help="models folder")
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        help=f"params file with 'split' and 'train' sections (default: ./{DEFAULT_PARAMS} when present)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Make the split if needed, train every model; returns the exit code."""
    params = params_path(args.params)
    config = load_section(params, "train", TrainConfig)
    if not args.split.exists():
        split_config = load_section(params, "split", SplitConfig)
        split = make_split(read_table(args.segments), read_table(args.labels), config=split_config)
        write_split(split, args.split)
        log.info("made the split %s (%s)", args.split, split_config)
    manifest = train_from_paths(
        labels=args.labels,
        split=args.split,
        clips=args.clips,
        stores=parse_stores(args.store, features=args.features),
        out=args.out,
        config=config,
        verbose=True,
    )
    log.info("trained %s into %s", ", ".join(manifest["models"]), args.out)
    return 0
