"""DVC stage ``split``: speaker-grouped folds (evaluate.protocol kfold) or train/valid/test (``split``)."""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel.learn.split import SplitConfig, folds_from, make_split, split_summary, write_split
from weaklabel.tables import read_table


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--segments", type=Path, required=True, help="segments.parquet")
    parser.add_argument("--labels", type=Path, required=True, help="labels.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder for split.parquet")
    args = parser.parse_args(argv)
    log = _stage.start("split", args)

    params = _stage.params()
    config = params.section("split", SplitConfig)
    folds = folds_from(params.raw("evaluate"))
    labels = read_table(args.labels)
    split = make_split(read_table(args.segments), labels, config=config, folds=folds)
    write_split(split, args.out / "split.parquet")
    log.info("split: %s", split_summary(split, labels))


if __name__ == "__main__":
    _stage.run(main)
