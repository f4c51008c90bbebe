"""DVC stage ``train``: the VGG16 dense head and every baseline, on the shared split (params ``train``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines import _stage
from weaklabel.cli.train import parse_stores
from weaklabel.learn.train import TrainConfig, train_from_paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels", type=Path, required=True, help="labels.parquet")
    parser.add_argument("--split", type=Path, required=True, help="split.parquet")
    parser.add_argument("--clips", type=Path, required=True, help="clips.parquet (duration baseline)")
    parser.add_argument(
        "--features", type=Path, required=True, help="folder whose sub-folders are the feature stores"
    )
    parser.add_argument("--out", type=Path, required=True, help="models folder")
    args = parser.parse_args(argv)
    log = _stage.start("train")

    manifest = train_from_paths(
        labels=args.labels,
        split=args.split,
        clips=args.clips,
        stores=parse_stores(None, features=args.features),
        out=args.out,
        config=_stage.section("train", TrainConfig),
    )
    log.info("trained %s; rows: %s", ", ".join(manifest["models"]), manifest["rows"])


if __name__ == "__main__":
    main()
