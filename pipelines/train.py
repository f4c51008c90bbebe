"""DVC stage ``train``: every model per fold (out-of-fold scores) and a final one each (params ``train``)."""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel import shell
from weaklabel.features.store import list_stores
from weaklabel.learn.train import TrainConfig, train_from_paths


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--labels", type=Path, required=True, help="labels.parquet")
    parser.add_argument("--split", type=Path, required=True, help="split.parquet")
    parser.add_argument("--clips", type=Path, required=True, help="clips.parquet (duration baseline)")
    parser.add_argument(
        "--features", type=Path, required=True, help="folder whose sub-folders are the feature stores"
    )
    parser.add_argument("--out", type=Path, required=True, help="models folder")
    args = parser.parse_args(argv)
    log = _stage.start("train", args)
    config = _stage.params().section("train", TrainConfig)

    manifest = train_from_paths(
        **shell.paths(args, "labels", "split", "clips", "out"),
        stores=list_stores(args.features),
        config=config,
    )
    log.info("trained %s; rows: %s", ", ".join(manifest["models"]), manifest["rows"])


if __name__ == "__main__":
    _stage.run(main)
