"""``weaklabel evaluate``: ROC AUCs with speaker-grouped intervals, paired comparisons, and the report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from weaklabel import shell
from weaklabel.cli import _options
from weaklabel.learn.evaluate import EvaluateConfig, evaluate_from_paths
from weaklabel.params import Params
from weaklabel.provenance import provenance

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` arguments."""
    parser.description = (
        "Score every model in MODELS against the weak labels and, where the segments carry gold, "
        "against gold sentiment (has0, non0): out of fold when the split has folds (the train "
        "stage's oof.parquet), else on the validation and test splits; bootstrap intervals "
        "resample speakers, and each audio model is compared with duration alone and the best "
        "other model by a paired speaker bootstrap (params 'evaluate'). Writes OUT/metrics.json "
        "(small, flat), evaluation.json (everything), plots/roc_<set>.csv, roc.png, scores.png, "
        "report.md and report.html (figures embedded, readable offline)."
    )
    _options.add_inputs(parser, "models", "labels", "split", "clips", "segments")
    _options.add_stores(parser)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=_options.CORPUS_JSON,
        help="ingest's corpus.json: whether the corpus is the demo, CMU-MOSEI or a manifest",
    )
    parser.add_argument("--out", type=Path, default=_options.REPORTS, help="reports folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Evaluate and write the report; returns the exit code."""
    paths = evaluate_from_paths(
        **shell.paths(args, "models", "labels", "split", "clips", "segments", "corpus", "out"),
        stores=_options.parse_stores(args),
        config=params.section("evaluate", EvaluateConfig),
        provenance=provenance(params.path or params.sections, root=Path.cwd()),
    )
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return 0
