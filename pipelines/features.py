"""DVC stage ``features``: the feature stores of every clip (params ``mel``, ``embed``, ``features``).

The stores are built shard by shard in a checkpoint folder outside the stage's output
(``--checkpoint``), so that an interrupted run resumes at the next unfinished shard, and move into
the output folder once complete: the output is an ordinary DVC output, which DVC's run-cache
restores when the params and inputs return to earlier values. The metrics file holds the clip
counts; the report, the full run summary (stores, metas, throughput).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from pipelines import _stage
from weaklabel import shell
from weaklabel.audio.mel import MelConfig
from weaklabel.features.extract import extract_features
from weaklabel.features.identity import describe
from weaklabel.features.ray_engine import ENGINES, EngineConfig
from weaklabel.features.registry import EmbedConfig
from weaklabel.features.store import remove_stale_stores
from weaklabel.tables import read_table


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--in", dest="clips", type=Path, required=True, help="clips.parquet")
    parser.add_argument("--out", type=Path, required=True, help="folder of the feature stores")
    parser.add_argument("--report", type=Path, required=True, help="run summary (JSON)")
    parser.add_argument("--metrics", type=Path, default=None, help="clip counts (DVC metrics)")
    parser.add_argument(
        "--checkpoint", type=Path, default=None, help="folder the stores are built in until complete"
    )
    parser.add_argument("--engine", choices=ENGINES, default=None, help="override features.engine")
    args = parser.parse_args(argv)
    log = _stage.start("features", args)

    params = _stage.params()
    mel = params.section("mel", MelConfig)
    config = params.section("embed", EmbedConfig)
    engine = params.section("features", EngineConfig)
    engine = engine if args.engine is None else dataclasses.replace(engine, engine=args.engine)
    clips = read_table(args.clips)
    summary = extract_features(
        clips, args.out, config=config, mel=mel, engine=engine, checkpoint=args.checkpoint
    )
    remove_stale_stores(args.out, keep=summary.stores)
    for name, meta in summary.meta.items():
        log.info("%s: %s; flagged clips %s", name, describe(meta), summary.clip_status.get(name, "none"))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    shell.write_metrics(args.metrics, {"kept": summary.kept, "rejected": summary.rejected})
    log.info("features: %d clips, %d kept, %d rejected", summary.clips, summary.kept, summary.rejected)


if __name__ == "__main__":
    _stage.run(main)
