"""DVC stage ``label``: weak labels of every segment, and the label report (params ``labels``).

With ``labels.source: manifest`` the labels are the manifest's gold labels, which the ingest stage
wrote beside the segments; the report is written the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines import _stage
from weaklabel.errors import ParameterError
from weaklabel.labels.analysis import label_configs
from weaklabel.labels.labellers import label_segments, write_labels
from weaklabel.report.labels import write_label_report
from weaklabel.sources.manifest_ingest import split_source
from weaklabel.tables import read_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in", dest="segments", type=Path, required=True, help="segments.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder for labels.parquet")
    parser.add_argument("--reports", type=Path, required=True, help="folder for the label report")
    parser.add_argument(
        "--manifest-labels", type=Path, default=None, help="ingest's labels.parquet (labels.source manifest)"
    )
    args = parser.parse_args(argv)
    log = _stage.start("label")

    source, section = split_source(_stage.raw("labels"))
    config, report = label_configs(section)
    segments = read_table(args.segments)
    if source.source == "manifest":
        if args.manifest_labels is None:
            raise ParameterError(
                "labels.source is manifest: pass --manifest-labels (ingest's labels.parquet)"
            )
        labels = read_table(args.manifest_labels)
    else:
        labels = label_segments(segments, config=config, verbose=True)
    write_labels(labels, args.out / "labels.parquet")
    metrics = write_label_report(labels, segments, args.reports, config=config, report=report)
    log.info("labels (%s): %s", source.source, metrics["summary"]["combined"])


if __name__ == "__main__":
    main()
