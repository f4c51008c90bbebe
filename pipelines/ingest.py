"""DVC stage ``ingest``: a CMU-MOSEI raw-layout corpus (and gold), or a labelled manifest, into segments.

``labels.source: text`` (default) reads the corpus ``data.corpus`` (params ``ingest``);
``labels.source: manifest`` reads the manifest CSV ``data.manifest`` instead, and also writes its
recordings by segment (``manifest.parquet``, gold labels included) for the label stage.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines import _stage
from weaklabel.errors import ParameterError
from weaklabel.sources.manifest_ingest import ingest_manifest, split_source
from weaklabel.sources.mosei import IngestConfig, ingest_corpus, write_ingest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in", dest="corpus", type=Path, required=True, help="corpus root (data.corpus)")
    parser.add_argument("--gold", default="", help='gold labels, .csd or .csv (data.gold); "" for none')
    parser.add_argument("--manifest", default="", help='labelled manifest CSV (data.manifest); "" for none')
    parser.add_argument("--out", type=Path, required=True, help="folder for segments/rejects parquet")
    parser.add_argument("--report", type=Path, required=True, help="summary JSON (DVC metrics)")
    args = parser.parse_args(argv)
    log = _stage.start("ingest")

    source, _ = split_source(_stage.raw("labels"))
    if source.source == "manifest":
        if not args.manifest:
            raise ParameterError(
                "labels.source is manifest but data.manifest is empty: set it to a manifest CSV"
            )
        summary = ingest_manifest(args.manifest, args.out, report=args.report, verbose=True)
    else:
        config = _stage.section("ingest", IngestConfig)
        result = ingest_corpus(args.corpus, config=config, gold=args.gold or None, verbose=True)
        write_ingest(result, args.out, report=args.report)
        summary = result.summary
    log.info(
        "%d lines -> %d segments, %d rejected; wrote %s",
        summary["lines_read"],
        summary["segments"],
        summary["rejected"],
        args.out,
    )


if __name__ == "__main__":
    main()
