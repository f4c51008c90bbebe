"""``weaklabel clips [SEGMENTS]``: plan one fixed-length clip per segment with audio."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from weaklabel.audio.clips import CLIPS_SCHEMA, ClipConfig, plan_clips_or_reject
from weaklabel.cli import _options
from weaklabel.params import Params
from weaklabel.tables import read_table, write_rejects, write_table

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``clips`` arguments."""
    parser.description = (
        "Plan one clip of clips.length_s seconds per segment with audio: where to read it in the "
        "source file and how to crop or pad it (params 'clips'); no audio is copied. Segments "
        "without audio (text-only ingest) go to REJECTS."
    )
    parser.add_argument(
        "segments", nargs="?", type=Path, default=_options.SEGMENTS, metavar="SEGMENTS", help="segments table"
    )
    parser.add_argument("--out", type=Path, default=_options.CLIPS, help="clips table to write")
    parser.add_argument("--rejects", type=Path, default=_options.CLIP_REJECTS, help="rejects table to write")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Plan and write the clips; returns the exit code."""
    config = params.section("clips", ClipConfig)
    clips, rejects = plan_clips_or_reject(read_table(args.segments), config)
    write_table(clips, args.out, schema=CLIPS_SCHEMA)
    write_rejects(rejects, args.rejects)
    log.info(
        "%d clips of %.1f s in %s, %d segments without audio rejected",
        len(clips),
        config.length_s,
        args.out,
        len(rejects),
    )
    return 0
