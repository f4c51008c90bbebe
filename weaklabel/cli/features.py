"""``weaklabel features [CLIPS]``: the feature stores (VGG16, YAMNet, eGeMAPS, mel) of every planned clip."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from weaklabel import shell
from weaklabel.audio.mel import MelConfig
from weaklabel.cli import _options
from weaklabel.features.extract import extract_features
from weaklabel.features.identity import describe
from weaklabel.features.ray_engine import ENGINES, EngineConfig
from weaklabel.features.registry import EmbedConfig
from weaklabel.features.store import remove_stale_stores
from weaklabel.params import Params
from weaklabel.tables import read_table

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``features`` arguments."""
    parser.description = (
        "Read every clip planned in CLIPS, compute its log-mel spectrogram once, and write one "
        "feature store per backbone under OUT (vgg16/, yamnet/, egemaps/ as embed.backbones lists, "
        "and mel_mean/: meta.json, shard-*.npy, index.parquet) plus OUT/rejects.parquet for clips "
        "that cannot be read (params 'mel' and 'embed'). Resumable: the stores are built in the "
        "--checkpoint folder and move into OUT once complete; run it again after an interruption "
        "and it continues at the next unfinished shard. A store left in OUT by a "
        "backbone no longer in embed.backbones is removed. With --engine ray (params 'features') the "
        "same stores are made on the Ray cluster at features.address."
    )
    parser.add_argument(
        "clips", nargs="?", type=Path, default=_options.CLIPS, metavar="CLIPS", help="clips table"
    )
    parser.add_argument("--out", type=Path, default=_options.FEATURES, help="folder of the feature stores")
    parser.add_argument("--report", type=Path, default=_options.FEATURES_REPORT, help="run summary JSON")
    parser.add_argument(
        "--metrics", type=Path, default=_options.FEATURES_METRICS, help="clip counts (DVC metrics)"
    )
    parser.add_argument(
        "--weights",
        default=None,
        help="override embed.weights: auto | imagenet | random | path/to/weights.h5",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="override features.engine: local (threads here) | ray (the Ray cluster at features.address)",
    )
    parser.add_argument(
        "--max-shards",
        type=int,
        default=None,
        help="compute at most this many shards, then stop (run again to continue)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=_options.FEATURES_CHECKPOINT,
        help="folder of its own where the stores are built (and resumed after an interruption) "
        "before they move into OUT once complete, so that OUT only ever holds finished stores",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Extract the features; returns the exit code."""
    mel = params.section("mel", MelConfig)
    config = _options.override(params.section("embed", EmbedConfig), weights=args.weights)
    engine = _options.override(params.section("features", EngineConfig), engine=args.engine)
    clips = read_table(args.clips)
    log.info("embedding %d clips of %s into %s with %s", len(clips), args.clips, args.out, config)
    summary = extract_features(
        clips,
        args.out,
        config=config,
        mel=mel,
        max_shards=args.max_shards,
        engine=engine,
        checkpoint=args.checkpoint,
    )
    remove_stale_stores(args.out, keep=summary.stores)
    for name, meta in summary.meta.items():
        log.info("%s: %s; flagged clips %s", name, describe(meta), summary.clip_status.get(name, "none"))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    shell.write_metrics(args.metrics, {"kept": summary.kept, "rejected": summary.rejected})
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
