"""DVC stage ``clips``: plan one fixed-length clip per segment with audio (params ``clips``)."""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel.audio.clips import CLIPS_SCHEMA, ClipConfig, plan_clips_or_reject
from weaklabel.tables import read_table, write_rejects, write_table


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--in", dest="segments", type=Path, required=True, help="segments.parquet")
    parser.add_argument("--out", type=Path, required=True, help="clips.parquet")
    parser.add_argument(
        "--rejects", type=Path, required=True, help="rejects.parquet (segments without audio)"
    )
    args = parser.parse_args(argv)
    log = _stage.start("clips", args)

    config = _stage.params().section("clips", ClipConfig)
    segments = read_table(args.segments)
    clips, rejects = plan_clips_or_reject(segments, config)
    write_table(clips, args.out, schema=CLIPS_SCHEMA)
    write_rejects(rejects, args.rejects)
    log.info(
        "%d segments -> %d clips of %.1f s, %d without audio rejected",
        len(segments),
        len(clips),
        config.length_s,
        len(rejects),
    )


if __name__ == "__main__":
    _stage.run(main)
