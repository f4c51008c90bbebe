"""DVC stage ``label``: weak labels of every segment, and the label report (params ``labels``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines import _stage
from weaklabel.label_report import label_configs, write_report
from weaklabel.labels import label_segments, write_labels
from weaklabel.tables import read_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in", dest="segments", type=Path, required=True, help="segments.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder for labels.parquet")
    parser.add_argument("--reports", type=Path, required=True, help="folder for the label report")
    args = parser.parse_args(argv)
    log = _stage.start("label")

    config, report = label_configs(_stage.raw("labels"))
    segments = read_table(args.segments)
    labels = label_segments(segments, config=config, verbose=True)
    write_labels(labels, args.out / "labels.parquet")
    metrics = write_report(labels, segments, args.reports, config=config, report=report)
    log.info("labels: %s", metrics["summary"]["combined"])


if __name__ == "__main__":
    main()
