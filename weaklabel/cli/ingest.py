"""``weaklabel ingest [CORPUS]``: segments, rejects and a summary from a corpus or a labelled manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from weaklabel import shell
from weaklabel.cli import _options
from weaklabel.errors import ParameterError
from weaklabel.labels.source import ingest_source
from weaklabel.params import Params
from weaklabel.sources.manifest_ingest import split_source
from weaklabel.sources.mosei import IngestConfig


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``ingest`` arguments."""
    parser.description = (
        "Read CORPUS/Transcript/Segmented/Combined/<video>.txt and "
        "CORPUS/Audio/Full/WAV_16000/<video>.wav into OUT/segments.parquet, rejects.parquet "
        "(one row per dropped line, with a reason code), gold_rejects.parquet and the summary REPORT. "
        "With labels.source: manifest, read the manifest CSV instead and write its gold labels "
        "beside the segments (OUT/labels.parquet) for the label command."
    )
    parser.add_argument(
        "corpus", nargs="?", type=Path, default=None, metavar="CORPUS",
        help="corpus root in the CMU-MOSEI raw layout (default: data.corpus in params)",
    )  # fmt: skip
    parser.add_argument(
        "--gold", default=None, help="gold labels: CMU_MOSEI_Labels.csd or a labels CSV (default: data.gold)"
    )
    parser.add_argument(
        "--manifest", default=None, help="labelled manifest CSV, read with labels.source: manifest "
        "(default: data.manifest)"
    )  # fmt: skip
    parser.add_argument(
        "--text-only",
        action="store_true",
        help="keep segments whose audio is missing, with null audio columns (sets ingest.text_only)",
    )
    parser.add_argument("--out", type=Path, default=_options.INGEST, help="output folder")
    parser.add_argument("--report", type=Path, default=_options.INGEST_REPORT, help="summary JSON")
    parser.add_argument(
        "--metrics", type=Path, default=_options.INGEST_METRICS, help="segment counts (DVC metrics)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Ingest and write the tables; returns the exit code."""
    source, _ = split_source(params.raw("labels"))
    data = params.data
    corpus = args.corpus or data.corpus
    if source.source == "text" and not corpus:
        raise ParameterError("no corpus to ingest: pass CORPUS or set data.corpus in the params file")
    config = params.section("ingest", IngestConfig)
    summary = ingest_source(
        source,
        corpus=corpus,
        gold=data.gold if args.gold is None else args.gold,
        manifest=args.manifest or data.manifest,
        out=args.out,
        report=args.report,
        config=_options.override(config, text_only=args.text_only or None),
        verbose=args.verbosity >= 0,
    )
    shell.write_metrics(args.metrics, {"segments": summary["segments"], "rejected": summary["rejected"]})
    print(
        f"{summary['lines_read']} lines -> {summary['segments']} segments, {summary['rejected']} rejected; "
        f"wrote {args.out}"
    )
    for reason, count in summary["rejects_by_reason"].items():
        if count:
            print(f"  rejected {reason}: {count}")
    return 0
