"""``weaklabel label [SEGMENTS]``: weak labels from transcripts (or a manifest's), and the label report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from weaklabel.cli import _options
from weaklabel.errors import DataError
from weaklabel.params import Params
from weaklabel.report.labels import label_and_report
from weaklabel.tables import read_table

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``label`` arguments."""
    parser.description = (
        "Score every segment's transcript with TextBlob and VADER, combine the scores, label "
        "the confident ones positive/negative and abstain (with a reason) on the rest (params "
        "'labels'); with labels.source: manifest, take the manifest's gold labels that ingest wrote "
        "instead. Writes OUT/labels.parquet and, under REPORT, analysis.json (the analysis), metrics.json "
        "(its headline numbers), sweep.csv, scores.png, "
        "sweep.png (gold metrics when the segments carry gold_sentiment)."
    )
    parser.add_argument(
        "segments",
        nargs="?",
        type=Path,
        default=_options.SEGMENTS,
        metavar="SEGMENTS",
        help="segments table: ingest's segments.parquet, or a CSV with segment_id, text "
        "(and optionally gold_sentiment)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        default=_options.INGEST_MANIFEST,
        help="the per-file table ingest wrote with labels.source: manifest (its gold labels)",
    )
    parser.add_argument("--out", type=Path, default=_options.LABELS_DIR, help="folder for labels.parquet")
    parser.add_argument("--report", type=Path, default=_options.LABELS_REPORT, help="folder for the report")
    parser.set_defaults(func=run)


def read_segments(path: Path) -> pd.DataFrame:
    """Read a segments table from Parquet or CSV.

    Raises
    ------
    DataError
        If the file is missing, of another type, or not a readable UTF-8 CSV.
    """
    if path.suffix.lower() == ".csv":
        if not path.exists():
            raise DataError(f"segments file {path} not found")
        try:
            return pd.read_csv(path, dtype={"segment_id": str, "text": object})
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
            raise DataError(
                f"segments file {path} is not a readable UTF-8 CSV ({type(error).__name__}: {error}); "
                "expected a header row with segment_id and text: fix or re-export the file"
            ) from None
    if path.suffix.lower() != ".parquet":
        raise DataError(f"segments file {path} is neither .parquet nor .csv; pass ingest's segments.parquet")
    return read_table(path)


def run(args: argparse.Namespace, params: Params) -> int:
    """Label the segments and write the labels and the report; returns the exit code."""
    source, path, metrics = label_and_report(
        read_segments(args.segments),
        params.raw("labels"),
        manifest=args.manifest,
        out=args.out,
        report_dir=args.report,
        verbose=args.verbosity >= 0,
    )
    combined = metrics["summary"]["combined"]
    log.info(
        "wrote %s (%s labels: %d positive, %d negative, %d abstained) and the report in %s",
        path,
        source,
        combined["positive"],
        combined["negative"],
        combined["abstain"],
        args.report,
    )
    return 0
