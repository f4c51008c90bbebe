"""DVC stage ``label``: weak labels of every segment, and the label report (params ``labels``).

With ``labels.source: manifest`` the labels are the gold labels of the recordings manifest that the
ingest stage wrote beside the segments (``manifest.parquet``); the report is written the same way.
"""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel.report.labels import label_and_report
from weaklabel.tables import read_table


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--in", dest="segments", type=Path, required=True, help="segments.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder for labels.parquet")
    parser.add_argument("--report", type=Path, required=True, help="folder for the label report")
    parser.add_argument(
        "--manifest", type=Path, default=None, help="ingest's manifest.parquet (labels.source manifest)"
    )
    args = parser.parse_args(argv)
    log = _stage.start("label", args)

    source, _, metrics = label_and_report(
        read_table(args.segments),
        _stage.params().raw("labels"),
        manifest=args.manifest,
        out=args.out,
        report_dir=args.report,
        verbose=True,
    )
    log.info("labels (%s): %s", source, metrics["summary"]["combined"])


if __name__ == "__main__":
    _stage.run(main)
