"""DVC stage ``features``: the feature stores of every clip (params ``mel``, ``embed``, ``features``).

The output folder persists between runs (so an interrupted run resumes); the store of a backbone
no longer in ``embed.backbones`` is removed, so that later stages never read features of another run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from pipelines import _stage
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
    parser.add_argument("--report", type=Path, required=True, help="run summary (JSON metrics)")
    parser.add_argument("--engine", choices=ENGINES, default=None, help="override features.engine")
    args = parser.parse_args(argv)
    log = _stage.start("features", args)

    params = _stage.params()
    mel = params.section("mel", MelConfig)
    config = params.section("embed", EmbedConfig)
    engine = params.section("features", EngineConfig)
    engine = engine if args.engine is None else dataclasses.replace(engine, engine=args.engine)
    summary = extract_features(read_table(args.clips), args.out, config=config, mel=mel, engine=engine)
    remove_stale_stores(args.out, keep=summary.stores)
    for name, meta in summary.meta.items():
        log.info("%s: %s; flagged clips %s", name, describe(meta), summary.clip_status.get(name, "none"))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    log.info("features: %d clips, %d kept, %d rejected", summary.clips, summary.kept, summary.rejected)


if __name__ == "__main__":
    _stage.run(main)
