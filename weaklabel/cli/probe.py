"""``weaklabel probe [DIR]``: score any folder of recordings with a trained model."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from weaklabel.cli import _options
from weaklabel.features.registry import EmbedConfig
from weaklabel.learn.probe import ProbeConfig, load_trained, probe
from weaklabel.params import Params
from weaklabel.report.probe import write_probe
from weaklabel.sources.recordings import SCHEMES, build_manifest

log = logging.getLogger(__name__)

#: A manifest with this name inside DIR is used when neither --manifest nor --scheme is given.
AUTO_MANIFEST = "manifest.csv"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``probe`` arguments."""
    parser.description = (
        "Score every recording under DIR with a trained model: each file is resampled to the model's "
        "rate, cropped or padded (centred) to its clip length and embedded with the same backbone and "
        "weights the model was trained on (a mismatch is refused). Writes OUT/probe.parquet and "
        "probe.csv (file, language, polarity, raw score, score min-max scaled within its language, "
        "rank), probe_summary.json/csv (per language: mean scaled score of positive vs negative files, "
        "whether positive > negative, ROC AUC), probe_rejects.parquet (undecodable, empty, silent "
        "files) and probe.png. Languages and polarities come from --manifest, from --scheme, from "
        f"DIR/{AUTO_MANIFEST} when present, or else language = parent folder name, polarity unknown."
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of recordings (searched recursively); default: params data.probe",
    )
    _options.add_inputs(parser, "models")
    parser.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="model of MODELS to use (default: probe.model in params, else dense_head, else the first "
        "audio model)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--manifest",
        type=Path,
        default=None,
        metavar="CSV",
        help="CSV with path (relative to DIR), language, polarity (positive/negative/empty), text",
    )
    source.add_argument(
        "--scheme", choices=sorted(SCHEMES), default=None, help="read emotions from the corpus's file names"
    )
    parser.add_argument("--out", type=Path, default=_options.PROBE_REPORT, help="output folder")
    parser.add_argument(
        "--weights",
        default=None,
        metavar="PATH",
        help="backbone weights file, for a model trained on a weights file (checked against the model)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep the probe's feature store here (a rerun resumes); default: a temporary folder",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Probe the folder; returns the exit code."""
    config = params.section("probe", ProbeConfig)
    embed = params.section("embed", EmbedConfig)
    if args.weights is not None:
        config = dataclasses.replace(config, weights=args.weights)
    if args.folder is None:
        args.folder = Path(params.data.probe)
    csv = args.manifest
    if csv is None and args.scheme is None and (args.folder / AUTO_MANIFEST).is_file():
        csv = args.folder / AUTO_MANIFEST
        log.info("using %s as the manifest (pass --manifest or --scheme to choose another)", csv)
    manifest = build_manifest(args.folder, csv=csv, scheme=args.scheme)
    trained = load_trained(args.models, args.model or config.model or None)
    result = probe(manifest, trained, config=config, embed=embed, root=args.folder, work_dir=args.work_dir)
    paths = write_probe(result, args.out)
    log.info("backbone: %s", result.info["backbone"])
    for row in result.summary.itertuples():
        log.info(
            "%-10s scored %3d, rejected %2d; mean scaled positive %s vs negative %s; AUC %s",
            row.language,
            row.scored,
            row.rejected,
            _fmt(row.mean_scaled_positive),
            _fmt(row.mean_scaled_negative),
            _fmt(row.auc),
        )
    log.info("probe outputs in %s (%s)", args.out, ", ".join(p.name for p in paths.values()))
    return 0


def _fmt(value: object) -> str:
    return "n/a" if value is None or value != value else f"{value:.3f}"
