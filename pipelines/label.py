"""DVC stage ``label``: weak labels of every segment, and the label report (params ``labels``).

With ``labels.source: manifest`` the labels are the gold labels of the recordings manifest that the
ingest stage wrote beside the segments (``manifest.parquet``); the report is written the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines import _stage
from weaklabel.errors import ParameterError
from weaklabel.labels.analysis import label_configs, write_report
from weaklabel.labels.labellers import label_segments, write_labels
from weaklabel.sources.manifest_ingest import labels_from_manifest, split_source
from weaklabel.tables import read_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in", dest="segments", type=Path, required=True, help="segments.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder for labels.parquet")
    parser.add_argument("--reports", type=Path, required=True, help="folder for the label report")
    parser.add_argument(
        "--manifest", type=Path, default=None, help="ingest's manifest.parquet (labels.source manifest)"
    )
    args = parser.parse_args(argv)
    log = _stage.start("label")

    source, section = split_source(_stage.raw("labels"))
    config, report = label_configs(section)
    segments = read_table(args.segments)
    if source.source == "manifest":
        if args.manifest is None:
            raise ParameterError("labels.source is manifest: pass --manifest (ingest's manifest.parquet)")
        labels = labels_from_manifest(read_table(args.manifest))
    else:
        labels = label_segments(segments, config=config, verbose=True)
    write_labels(labels, args.out / "labels.parquet")
    metrics = write_report(labels, segments, args.reports, config=config, report=report)
    log.info("labels (%s): %s", source.source, metrics["summary"]["combined"])


if __name__ == "__main__":
    main()
