"""What several commands share: the standard layout's paths, input options, config overrides.

The layout is where each stage reads and writes, as dvc.yaml passes its stage scripts: these are the
commands' default paths, so that ``weaklabel <stage>`` with no paths works on what ``dvc repro``
made (tests/test_cli.py checks them against each stage's ``cmd``). The corpus, gold and manifests
come from params ``data`` instead.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from weaklabel.errors import ParameterError
from weaklabel.features.store import list_stores

ConfigT = TypeVar("ConfigT")

DEMO = Path("data/demo")
INGEST = Path("data/ingest")
SEGMENTS = INGEST / "segments.parquet"
CORPUS_JSON = INGEST / "corpus.json"
INGEST_MANIFEST = INGEST / "manifest.parquet"
CLIPS = Path("data/clips/clips.parquet")
CLIP_REJECTS = Path("data/clips/rejects.parquet")
LABELS_DIR = Path("data/labels")
LABELS = LABELS_DIR / "labels.parquet"
FEATURES = Path("data/features")
SPLIT_DIR = Path("data/split")
SPLIT = SPLIT_DIR / "split.parquet"
MODELS = Path("data/models")
CROSSCORPUS_WORK = Path("data/crosscorpus")
REPORTS = Path("reports")
INGEST_REPORT = REPORTS / "ingest.json"
INGEST_METRICS = REPORTS / "ingest_metrics.json"
LABELS_REPORT = REPORTS / "labels"
FEATURES_REPORT = REPORTS / "features.json"
FEATURES_METRICS = REPORTS / "features_metrics.json"
#: Where the features are built until complete: outside data/features, which DVC's run-cache restores.
FEATURES_CHECKPOINT = Path(".weaklabel/checkpoints/features")
PROBE_REPORT = REPORTS / "probe"
CROSSCORPUS_REPORT = REPORTS / "crosscorpus"

#: Input option -> (default, help), for commands that read several tables.
INPUTS: dict[str, tuple[Path, str]] = {
    "segments": (SEGMENTS, "segments table (ingest)"),
    "labels": (LABELS, "labels table (label)"),
    "clips": (CLIPS, "clips table (clips)"),
    "split": (SPLIT, "split table (split)"),
    "features": (FEATURES, "folder whose sub-folders are feature stores (features)"),
    "models": (MODELS, "models folder (train)"),
}


def add_inputs(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add ``--<name>`` for each input of :data:`INPUTS`, defaulting to the standard layout."""
    for name in names:
        default, help = INPUTS[name]
        parser.add_argument(f"--{name}", type=Path, default=default, help=help)


def add_stores(parser: argparse.ArgumentParser) -> None:
    """Add ``--features`` and the repeatable ``--store NAME=PATH`` (see :func:`parse_stores`)."""
    add_inputs(parser, "features")
    parser.add_argument(
        "--store",
        action="append",
        metavar="NAME=PATH",
        help="a feature store (repeatable; overrides --features)",
    )


def parse_stores(args: argparse.Namespace) -> dict[str, Path]:
    """Store name -> folder: each sub-folder of ``args.features``, then the ``--store`` arguments.

    Raises
    ------
    ParameterError
        If a ``--store`` argument is not ``NAME=PATH``.
    """
    stores = list_stores(args.features)
    for value in args.store or ():
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ParameterError(f"--store expects NAME=PATH (e.g. vgg16=data/features/vgg16), got {value!r}")
        stores[name] = Path(path)
    return stores


def override(config: ConfigT, **values: Any) -> ConfigT:
    """``config`` with the command-line ``values`` that were given (not None) in place of its own."""
    return dataclasses.replace(config, **{k: v for k, v in values.items() if v is not None})
