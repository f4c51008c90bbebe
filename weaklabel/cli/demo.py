"""``weaklabel demo``: synthesize the demo corpus (CMU-MOSEI raw layout) with espeak-ng."""

from __future__ import annotations

import argparse
from pathlib import Path

from weaklabel.cli import _options
from weaklabel.demo import SPOKEN_WORDS, DemoConfig, build_demo_corpus
from weaklabel.params import Params


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` arguments."""
    parser.description = (
        "Write a synthesized corpus in the CMU-MOSEI raw layout under OUT: review/vlog sentences "
        "read by 20 espeak-ng speakers with SIMULATED affect (prosody), transcripts with the true "
        "sentence times, labels/gold.csv, speakers.csv (video,speaker), multilingual Probe/ "
        "recordings and demo.json, as params 'demo' says. Needs espeak-ng (apt-get install espeak-ng)."
    )
    parser.add_argument("--out", type=Path, default=_options.DEMO, help="corpus root to write")
    parser.add_argument("--videos", type=int, default=None, help="number of videos (overrides demo.videos)")
    parser.add_argument(
        "--affect-strength",
        type=float,
        default=None,
        help="simulated affect 0..1 (overrides demo.affect_strength; 0 = no prosodic affect)",
    )
    parser.add_argument(
        "--spoken-words",
        choices=SPOKEN_WORDS,
        default=None,
        help="what the audio speaks (overrides demo.spoken_words; independent + affect strength 0 = the "
        "full negative control)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed (overrides demo.seed)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, params: Params) -> int:
    """Build the corpus; returns the exit code."""
    config = _options.override(
        params.section("demo", DemoConfig),
        videos=args.videos,
        affect_strength=args.affect_strength,
        spoken_words=args.spoken_words,
        seed=args.seed,
    )
    summary = build_demo_corpus(args.out, config=config, progress=args.verbosity >= 0)
    counts = summary["counts"]
    print(
        f"demo corpus in {args.out}: {counts['videos']} videos, {counts['segments']} segments, "
        f"{summary['audio_seconds']:.0f} s of audio, {counts['probe_files']} probe files "
        f"(affect_strength {summary['affect_strength']}, spoken words: {summary['spoken_words']}), "
        f"{summary['elapsed_s']:.1f} s"
    )
    return 0
