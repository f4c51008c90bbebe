"""DVC stage ``evaluate``: AUCs with speaker-grouped CIs, paired differences, the report (``evaluate``)."""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel import shell
from weaklabel.features.store import list_stores
from weaklabel.learn.evaluate import EvaluateConfig, evaluate_from_paths
from weaklabel.provenance import provenance


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--models", type=Path, required=True, help="models folder")
    parser.add_argument("--labels", type=Path, required=True, help="labels.parquet")
    parser.add_argument("--split", type=Path, required=True, help="split.parquet")
    parser.add_argument("--clips", type=Path, required=True, help="clips.parquet")
    parser.add_argument("--segments", type=Path, required=True, help="segments.parquet (gold)")
    parser.add_argument(
        "--features", type=Path, required=True, help="folder whose sub-folders are the feature stores"
    )
    parser.add_argument("--corpus", type=Path, default=None, help="ingest's corpus.json (what the corpus is)")
    parser.add_argument("--out", type=Path, required=True, help="reports folder")
    args = parser.parse_args(argv)
    log = _stage.start("evaluate", args)
    params = _stage.params()

    paths = evaluate_from_paths(
        **shell.paths(args, "models", "labels", "split", "clips", "segments", "corpus", "out"),
        stores=list_stores(args.features),
        config=params.section("evaluate", EvaluateConfig),
        provenance=provenance(params.path or params.sections, root=Path.cwd()),
    )
    log.info("wrote %s", ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    _stage.run(main)
