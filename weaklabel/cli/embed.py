"""``weaklabel embed CLIPS``: log-mel and frozen VGG16 feature stores of every planned clip."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

from weaklabel.audio.mel import MelConfig
from weaklabel.cli._params import DEFAULT_PARAMS, command_params
from weaklabel.config import from_mapping
from weaklabel.features.extract import EmbedConfig, extract_features
from weaklabel.features.identity import describe
from weaklabel.tables import read_table

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``embed`` subcommand."""
    parser = subparsers.add_parser(
        "embed",
        help="log-mel spectrograms and frozen VGG16 embeddings of every clip, into feature stores",
        description=(
            "Read every clip planned in CLIPS, compute its log-mel spectrogram once, and write one "
            "feature store per embedder under OUT (vgg16/, mel_mean/: meta.json, shard-*.npy, "
            "index.parquet) plus OUT/rejects.parquet for clips that cannot be read. Resumable: run it "
            "again after an interruption and it continues at the next unfinished shard."
        ),
    )
    parser.add_argument(
        "clips", type=Path, metavar="CLIPS", help="clips table (the clips stage's clips.parquet)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data/features"), help="folder of the feature stores"
    )
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        help=f"params file whose 'mel' and 'embed' sections configure the run (default: ./{DEFAULT_PARAMS} "
        "when present, else built-in defaults)",
    )
    parser.add_argument(
        "--weights",
        default=None,
        help="override embed.weights: auto | imagenet | random | path/to/weights.h5",
    )
    parser.add_argument(
        "--max-shards",
        type=int,
        default=None,
        help="compute at most this many shards, then stop (run again to continue)",
    )
    parser.add_argument(
        "--report", type=Path, default=None, help="also write the run summary to this JSON file"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Extract the features; returns the exit code."""
    params = command_params(args.params)
    mel = from_mapping(MelConfig, params.get("mel"), section="mel")
    config = from_mapping(EmbedConfig, params.get("embed"), section="embed")
    if args.weights is not None:
        config = dataclasses.replace(config, weights=args.weights)
    clips = read_table(args.clips)
    log.info("embedding %d clips of %s into %s with %s", len(clips), args.clips, args.out, config)
    summary = extract_features(clips, args.out, config=config, mel=mel, max_shards=args.max_shards)
    if "vgg16" in summary.meta:
        log.info("backbone: %s", describe(summary.meta["vgg16"]))
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    state = "complete" if summary.complete else "UNFINISHED: run again to continue"
    log.info(
        "stores %s %s (%d kept, %d rejected: %s)",
        ", ".join(summary.stores.values()),
        state,
        summary.kept,
        summary.rejected,
        summary.rejects_by_reason or "none",
    )
    return 0
