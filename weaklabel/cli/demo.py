"""``weaklabel demo OUT``: synthesize the demo corpus (CMU-MOSEI raw layout) with espeak-ng."""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from weaklabel.cli._params import load_section
from weaklabel.demo import DemoConfig, build_demo_corpus

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="synthesize the demo corpus (CMU-MOSEI raw layout) with espeak-ng",
        description=(
            "Write a synthesized corpus in the CMU-MOSEI raw layout under OUT: review/vlog sentences "
            "read by espeak-ng voices with SIMULATED affect (prosody), transcripts with the true "
            "sentence times, labels/gold.csv, multilingual Probe/ recordings and demo.json. "
            "Needs espeak-ng (apt-get install espeak-ng)."
        ),
    )
    parser.add_argument("out", type=Path, help="corpus root to write, e.g. data/demo")
    parser.add_argument(
        "--params",
        type=Path,
        default=None,
        help="params file whose `demo` section sets the config (default: the built-in defaults)",
    )
    parser.add_argument("--videos", type=int, default=None, help="number of videos (overrides demo.videos)")
    parser.add_argument(
        "--affect-strength",
        type=float,
        default=None,
        help="simulated affect 0..1 (overrides demo.affect_strength; 0 = the negative control)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed (overrides demo.seed)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the corpus from the parsed arguments; returns the exit code."""
    config = load_section(args.params, "demo", DemoConfig)
    overrides = {"videos": args.videos, "affect_strength": args.affect_strength, "seed": args.seed}
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    summary = build_demo_corpus(args.out, config=config)
    counts = summary["counts"]
    print(
        f"demo corpus in {args.out}: {counts['videos']} videos, {counts['segments']} segments, "
        f"{summary['audio_seconds']:.0f} s of audio, {counts['probe_files']} probe files "
        f"(affect_strength {summary['affect_strength']}), {summary['elapsed_s']:.1f} s"
    )
    return 0
