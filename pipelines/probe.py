"""DVC stage ``probe``: score the demo's probe recordings with a trained model (params probe, embed)."""

from __future__ import annotations

from pathlib import Path

from pipelines import _stage
from weaklabel.features.registry import EmbedConfig
from weaklabel.learn.probe import ProbeConfig, load_trained, probe
from weaklabel.report.probe import write_probe
from weaklabel.sources.recordings import build_manifest


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--in", dest="folder", type=Path, required=True, help="folder of recordings")
    parser.add_argument("--manifest", type=Path, default=None, help="manifest CSV (paths relative to --in)")
    parser.add_argument("--models", type=Path, required=True, help="models folder (train stage)")
    parser.add_argument("--out", type=Path, required=True, help="folder for probe.parquet, summary, PNG")
    args = parser.parse_args(argv)
    log = _stage.start("probe", args)

    params = _stage.params()
    config = params.section("probe", ProbeConfig)
    embed = params.section("embed", EmbedConfig)
    manifest = build_manifest(args.folder, csv=args.manifest)
    trained = load_trained(args.models, config.model or None)
    result = probe(manifest, trained, config=config, embed=embed, root=args.folder)
    write_probe(result, args.out)
    log.info("backbone: %s", result.info["backbone"])
    log.info(
        "probe: %d files, %d scored, %d rejected; positive > negative in %d of %d languages",
        result.info["files"],
        result.info["scored"],
        result.info["rejected"],
        result.info["overall"]["languages_positive_higher"],
        result.info["overall"]["languages_compared"],
    )


if __name__ == "__main__":
    _stage.run(main)
