"""DVC stage ``ingest``: a CMU-MOSEI raw-layout corpus (and gold) into segments (params ``ingest``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines import _stage
from weaklabel.ingest import IngestConfig, ingest_corpus, write_ingest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in", dest="corpus", type=Path, required=True, help="corpus root (data.corpus)")
    parser.add_argument("--gold", default="", help='gold labels, .csd or .csv (data.gold); "" for none')
    parser.add_argument("--out", type=Path, required=True, help="folder for segments/rejects parquet")
    parser.add_argument("--report", type=Path, required=True, help="summary JSON (DVC metrics)")
    args = parser.parse_args(argv)
    log = _stage.start("ingest")

    config = _stage.section("ingest", IngestConfig)
    result = ingest_corpus(args.corpus, config=config, gold=args.gold or None, verbose=True)
    paths = write_ingest(result, args.out, report=args.report)
    summary = result.summary
    log.info(
        "%d lines -> %d segments, %d rejected; wrote %s",
        summary["lines_read"],
        summary["segments"],
        summary["rejected"],
        paths["segments"],
    )


if __name__ == "__main__":
    main()
