"""``weaklabel evaluate``: ROC AUC of every trained model with video-grouped intervals, and the report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from weaklabel.cli._params import DEFAULT_PARAMS, load_section, params_path
from weaklabel.cli.train import parse_stores
from weaklabel.learn.evaluate import EvaluateConfig, evaluate_from_paths

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score every trained model (AUC with video-grouped CIs) and write the report",
        description=(
            "Score every model in MODELS on the validation and test splits against the weak labels "
            "and, where the segments carry gold, against gold sentiment (has0, non0), with bootstrap "
            "intervals resampled by video. Writes OUT/metrics.json, roc.csv, roc.png, scores.png, "
            "report.md and report.html (figures embedded, readable offline)."
        ),
    )
    parser.add_argument("--models", type=Path, default=Path("data/models"), help="models folder (from train)")
    parser.add_argument(
        "--segments", type=Path, default=Path("data/ingest/segments.parquet"), help="segments table"
    )
    parser.add_argument(
        "--labels", type=Path, default=Path("data/labels/labels.parquet"), help="labels table"
    )
    parser.add_argument("--clips", type=Path, default=Path("data/clips/clips.parquet"), help="clips table")
    parser.add_argument("--split", type=Path, default=Path("data/split/split.parquet"), help="split table")
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
    parser.add_argument(
        "--demo",
        type=Path,
        default=Path("data/demo/demo.json"),
        help="the demo corpus's demo.json (read only when the segments come from it)",
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="reports folder")
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        help=f"params file with an 'evaluate' section (default: ./{DEFAULT_PARAMS} when present)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Evaluate and write the report; returns the exit code."""
    config = load_section(params_path(args.params), "evaluate", EvaluateConfig)
    paths = evaluate_from_paths(
        models=args.models,
        labels=args.labels,
        split=args.split,
        clips=args.clips,
        segments=args.segments,
        stores=parse_stores(args.store, features=args.features),
        out=args.out,
        config=config,
        demo=args.demo,
    )
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return 0
