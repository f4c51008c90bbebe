"""DVC stage ``demo``: synthesize the demo corpus (CMU-MOSEI raw layout) with espeak-ng.

Reads the ``demo`` section of params.yaml; the affect in the audio is SIMULATED (prosody), see
:mod:`weaklabel.demo.corpus`.
"""

from __future__ import annotations

import argparse
import sys

from pipelines import _stage
from weaklabel.demo import DemoConfig, build_demo_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="corpus root to write (data/demo in dvc.yaml)")
    args = parser.parse_args(argv)
    log = _stage.start("demo")
    config = _stage.section("demo", DemoConfig)
    summary = build_demo_corpus(args.out, config=config)
    log.info(
        "wrote %s: %d videos, %d segments, %d probe files in %.1f s",
        args.out,
        summary["counts"]["videos"],
        summary["counts"]["segments"],
        summary["counts"]["probe_files"],
        summary["elapsed_s"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
