"""``weaklabel evaluate``: ROC AUC of every trained model with video-grouped intervals, and the report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from weaklabel import shell
from weaklabel.cli import _options
from weaklabel.learn.evaluate import EvaluateConfig, evaluate_from_paths
from weaklabel.params import Params

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` arguments."""
    parser.description = (
        "Score every model in MODELS on the validation and test splits against the weak labels "
        "and, where the segments carry gold, against gold sentiment (has0, non0), with bootstrap "
        "intervals resampled by video (params 'evaluate'). Writes OUT/metrics.json, roc.csv, "
        "roc.png, scores.png, report.md and report.html (figures embedded, readable offline)."
    )
    _options.add_inputs(parser, "models", "labels", "split", "clips", "segments")
    _options.add_stores(parser)
    parser.add_argument(
        "--demo",
        type=Path,
        default=_options.DEMO_JSON,
        help="the demo corpus's demo.json (read only when the segments come from it)",
    )
    parser.add_argument("--out", type=Path, default=_options.REPORTS, help="reports folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Evaluate and write the report; returns the exit code."""
    paths = evaluate_from_paths(
        **shell.paths(args, "models", "labels", "split", "clips", "segments", "demo", "out"),
        stores=_options.parse_stores(args),
        config=params.section("evaluate", EvaluateConfig),
    )
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return 0
