"""``weaklabel ingest CORPUS``: segments, rejects and a summary from a CMU-MOSEI raw layout."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from weaklabel.cli._params import DEFAULT_PARAMS, load_section, params_path
from weaklabel.sources.mosei import IngestConfig, ingest_corpus, write_ingest

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``ingest`` subcommand."""
    parser = subparsers.add_parser(
        "ingest",
        help="read a corpus in the CMU-MOSEI raw layout into data/ingest/segments.parquet",
        description=(
            "Read CORPUS/Transcript/Segmented/Combined/<video>.txt and "
            "CORPUS/Audio/Full/WAV_16000/<video>.wav into segments.parquet, rejects.parquet "
            "(one row per dropped line, with a reason code), gold_rejects.parquet and ingest.json (counts)."
        ),
    )
    parser.add_argument("corpus", type=Path, help="corpus root in the CMU-MOSEI raw layout")
    parser.add_argument(
        "--gold",
        default=None,
        help="gold labels: CMU_MOSEI_Labels.csd (HDF5) or a labels CSV (default: none)",
    )
    parser.add_argument(
        "--text-only",
        action="store_true",
        help="keep segments whose audio is missing, with null audio columns (sets ingest.text_only)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/ingest"), help="output folder (default: %(default)s)"
    )
    parser.add_argument("--report", type=Path, default=None, help="summary JSON (default: OUT/ingest.json)")
    parser.add_argument(
        "--params",
        default=None,
        help=f"params file whose 'ingest' section is used (default: {DEFAULT_PARAMS} if present)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Ingest ``args.corpus`` and write the tables; returns the exit code."""
    config = load_section(params_path(args.params), "ingest", IngestConfig)
    if args.text_only:
        config = dataclasses.replace(config, text_only=True)
    result = ingest_corpus(args.corpus, config=config, gold=args.gold, verbose=True)
    paths = write_ingest(result, args.out, report=args.report)
    summary = result.summary
    print(
        f"{summary['lines_read']} lines -> {summary['segments']} segments ({summary['hours']:.2f} h, "
        f"{summary['videos']} videos), {summary['rejected']} rejected; wrote {paths['segments']}"
    )
    for reason, count in summary["rejects_by_reason"].items():
        if count:
            print(f"  rejected {reason}: {count}")
    return 0
