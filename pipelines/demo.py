"""DVC stage ``demo``: synthesize the demo corpus (CMU-MOSEI raw layout) with espeak-ng.

Reads the ``demo`` section of params.yaml; the affect in the audio is SIMULATED (prosody), see
:mod:`weaklabel.demo.corpus`.
"""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel.demo import DemoConfig, build_demo_corpus


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument(
        "--out", type=Path, required=True, help="corpus root to write (data/demo in dvc.yaml)"
    )
    args = parser.parse_args(argv)
    log = _stage.start("demo", args)

    config = _stage.params().section("demo", DemoConfig)
    summary = build_demo_corpus(args.out, config=config)
    log.info(
        "wrote %s: %d videos, %d segments, %d probe files in %.1f s",
        args.out,
        summary["counts"]["videos"],
        summary["counts"]["segments"],
        summary["counts"]["probe_files"],
        summary["elapsed_s"],
    )


if __name__ == "__main__":
    _stage.run(main)
