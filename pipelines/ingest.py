"""DVC stage ``ingest``: a CMU-MOSEI raw-layout corpus (and gold), or a labelled manifest, into segments.

``labels.source: text`` (default) reads the corpus ``data.corpus`` (params ``ingest``);
``labels.source: manifest`` reads the manifest CSV ``data.manifest`` instead, and also writes its
recordings by segment (``manifest.parquet``, gold labels included) for the label stage. Either way
it writes ``corpus.json`` (demo, CMU-MOSEI or manifest; what a speaker is), which evaluate reads, and
every segment's ``speaker`` (``speakers.csv`` at the corpus root, the manifest's group, else the video).
"""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel import shell
from weaklabel.labels.source import ingest_source
from weaklabel.sources.manifest_ingest import split_source
from weaklabel.sources.mosei import IngestConfig


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--in", dest="corpus", type=Path, required=True, help="corpus root (data.corpus)")
    parser.add_argument("--gold", default="", help='gold labels, .csd or .csv (data.gold); "" for none')
    parser.add_argument("--manifest", default="", help='labelled manifest CSV (data.manifest); "" for none')
    parser.add_argument("--out", type=Path, required=True, help="folder for segments/rejects parquet")
    parser.add_argument("--report", type=Path, required=True, help="summary JSON (counts by reason)")
    parser.add_argument("--metrics", type=Path, default=None, help="segment counts (DVC metrics)")
    args = parser.parse_args(argv)
    log = _stage.start("ingest", args)

    params = _stage.params()
    source, _ = split_source(params.raw("labels"))
    summary = ingest_source(
        source,
        corpus=args.corpus,
        gold=args.gold,
        manifest=args.manifest,
        out=args.out,
        report=args.report,
        config=params.section("ingest", IngestConfig),
        verbose=True,
    )
    shell.write_metrics(args.metrics, {"segments": summary["segments"], "rejected": summary["rejected"]})
    log.info(
        "%d lines -> %d segments, %d rejected; wrote %s",
        summary["lines_read"],
        summary["segments"],
        summary["rejected"],
        args.out,
    )


if __name__ == "__main__":
    _stage.run(main)
