"""``weaklabel crosscorpus [MANIFEST ...]``: leave-one-corpus-out and within-corpus ROC AUC per backbone."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from weaklabel.cli import _options
from weaklabel.errors import ParameterError
from weaklabel.learn.crosscorpus import (
    BACKBONES,
    PROTOCOLS,
    SCHEMES,
    crosscorpus,
    default_backbones,
    load_manifest,
    settings_from_params,
)
from weaklabel.params import Params
from weaklabel.report.crosscorpus import write_crosscorpus

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``crosscorpus`` arguments."""
    parser.description = (
        "Evaluate how well each audio representation carries valence on gold-labelled corpora: "
        "leave one corpus out (train on the others) and within each corpus leave one speaker out; "
        "logistic regression on z-scored features (params train.logreg: C chosen by an inner "
        "cross-validation grouped by speaker), bootstrap confidence intervals by speaker, and "
        "the duration-only baseline beside every cell. The manifests' corpus column decides the folds "
        "(one corpus from several manifests is one corpus); a corpus of fewer than 2 speakers only trains. "
        "Writes OUT/crosscorpus.{parquet,csv,md}, "
        "OUT/heatmap.png, OUT/predictions.parquet, OUT/rejects.parquet and OUT/meta.json."
    )
    parser.epilog = (
        "MANIFEST is a manifest CSV (path, label or polarity, group/speaker, corpus; see "
        "weaklabel.sources.recordings.read_manifest), or a corpus folder named by its scheme: "
        f"{', '.join(f'{scheme}:DIR' for scheme in SCHEMES)} (valence from the file names: happy "
        "positive; sad, angry, fearful, disgust negative; others unlabelled). The corpus column decides "
        "the folds: several manifests of one corpus are one corpus. Example: weaklabel crosscorpus "
        "emodb:data/emodb ravdess:data/ravdess --backbone yamnet egemaps yamnet+egemaps mel_mean"
    )
    parser.add_argument(
        "manifests",
        nargs="*",
        metavar="MANIFEST",
        help=f"manifest CSV or SCHEME:DIR, SCHEME one of {', '.join(SCHEMES)} "
        "(default: data.crosscorpus in params)",
    )
    parser.add_argument(
        "--scheme",
        choices=SCHEMES,
        default=None,
        help="naming scheme of MANIFEST arguments given as bare folders (as in weaklabel probe --scheme)",
    )
    parser.add_argument(
        "--protocol",
        nargs="+",
        choices=PROTOCOLS,
        default=None,
        help="loco (leave one corpus out) and/or within (leave one speaker out within each corpus); "
        "default: crosscorpus.protocols, else both",
    )
    parser.add_argument(
        "--backbone",
        nargs="+",
        default=None,
        metavar="BACKBONE",
        help=f"representations to compare: {', '.join(BACKBONES)}, or a combination joined by + "
        "(yamnet+egemaps: both side by side); default: every one (egemaps when the opensmile extra is "
        "installed); vgg16 without ImageNet weights is RANDOM and says so",
    )
    parser.add_argument(
        "--weights",
        default=None,
        help="override embed.weights (VGG16): auto | imagenet | random | path.h5",
    )
    parser.add_argument("--out", type=Path, default=_options.CROSSCORPUS_REPORT, help="folder for the report")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="folder for the feature stores (default OUT/work; a re-run reuses them)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Evaluate and write the report; returns the exit code."""
    specs = args.manifests or params.data.crosscorpus
    if not specs:
        raise ParameterError(
            "no manifest to evaluate: pass MANIFEST arguments or list them in data.crosscorpus "
            "(e.g. [emodb:data/emodb, ravdess:data/ravdess])"
        )
    settings = settings_from_params(params)
    if args.protocol is not None:
        settings["config"] = dataclasses.replace(settings["config"], protocols=tuple(args.protocol))
    if args.weights is not None:
        settings["embed"] = dataclasses.replace(settings["embed"], weights=args.weights)
    backbones = args.backbone if args.backbone is not None else default_backbones()
    manifests = [load_manifest(spec, scheme=args.scheme) for spec in specs]
    log.info(
        "crosscorpus: %d manifests, backbones %s, %s",
        len(manifests),
        ", ".join(backbones),
        settings["config"],
    )
    result = crosscorpus(
        manifests, backbones=backbones, work_dir=args.work_dir or args.out / "work", **settings
    )
    paths = write_crosscorpus(result, args.out)
    for row in result.table.itertuples(index=False):
        log.info(
            "%-6s %-10s %-9s AUC %s  (duration %s)  C %s  %s",
            row.protocol,
            row.test_corpus,
            row.backbone,
            "n/a " if row.auc != row.auc else f"{row.auc:.2f}",
            "n/a " if row.duration_auc != row.duration_auc else f"{row.duration_auc:.2f}",
            row.C,
            row.status,
        )
    for row in result.untested.itertuples(index=False):
        log.info("%-6s %-10s not tested: %s", row.protocol, row.test_corpus, row.reason)
    for note in result.notes:
        log.info("note: %s", note)
    log.info("wrote %s and %s", paths["markdown"], paths["heatmap"])
    return 0
