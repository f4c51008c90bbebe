"""``weaklabel label SEGMENTS``: weak labels from transcripts, and the label report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from weaklabel.cli._params import DEFAULT_PARAMS, command_params
from weaklabel.errors import DataError
from weaklabel.labels.analysis import label_configs
from weaklabel.labels.labellers import label_segments, write_labels
from weaklabel.report.labels import write_label_report
from weaklabel.sources.manifest_ingest import split_source
from weaklabel.tables import read_table

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``label`` subcommand."""
    parser = subparsers.add_parser(
        "label",
        help="weak labels from transcripts (TextBlob + VADER) and their agreement with gold",
        description=(
            "Score every segment's transcript with TextBlob and VADER, combine the scores, label "
            "the confident ones positive/negative and abstain (with a reason) on the rest. Writes "
            "OUT/labels.parquet and, under REPORTS, metrics.json, sweep.csv, scores.png, sweep.png "
            "(gold metrics when the segments carry gold_sentiment)."
        ),
    )
    parser.add_argument(
        "segments",
        type=Path,
        metavar="SEGMENTS",
        help="segments table: ingest's segments.parquet, or a CSV with segment_id, text "
        "(and optionally gold_sentiment)",
    )
    parser.add_argument("--out", type=Path, default=Path("data/labels"), help="folder for labels.parquet")
    parser.add_argument("--reports", type=Path, default=Path("reports/labels"), help="folder for the report")
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        help=f"params file whose 'labels' section configures labelling (default: ./{DEFAULT_PARAMS} "
        "when present, else built-in defaults)",
    )
    parser.set_defaults(func=run)
    return parser


def read_segments(path: Path) -> pd.DataFrame:
    """Read a segments table from Parquet or CSV.

    Raises
    ------
    DataError
        If the file is missing or of another type.
    """
    if path.suffix.lower() == ".csv":
        if not path.exists():
            raise DataError(f"segments file {path} not found")
        return pd.read_csv(path, dtype={"segment_id": str, "text": object})
    if path.suffix.lower() != ".parquet":
        raise DataError(f"segments file {path} is neither .parquet nor .csv; pass ingest's segments.parquet")
    return read_table(path)


def run(args: argparse.Namespace) -> int:
    """Label the segments and write the labels and the report; returns the exit code."""
    section = command_params(args.params).get("labels")
    _, section = split_source(section)  # labels.source concerns the pipeline; this command labels text
    config, report = label_configs(section)
    log.info("labelling %s with %s", args.segments, config)
    segments = read_segments(args.segments)
    labels = label_segments(segments, config=config, verbose=True)
    path = write_labels(labels, args.out / "labels.parquet")
    metrics = write_label_report(labels, segments, args.reports, config=config, report=report)
    combined = metrics["summary"]["combined"]
    log.info(
        "wrote %s (%d positive, %d negative, %d abstained) and the report in %s",
        path,
        combined["positive"],
        combined["negative"],
        combined["abstain"],
        args.reports,
    )
    return 0
