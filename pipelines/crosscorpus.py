"""DVC stage ``crosscorpus``: valence ROC AUC across the corpora data.crosscorpus lists (params crosscorpus).

The logistic regression takes the train stage's settings (params ``train.logreg``).

With ``data.crosscorpus`` empty (the default) the stage is not configured: it writes OUT/meta.json
and OUT/crosscorpus.md saying so, and nothing else, since DVC needs a stage's outputs to exist.
The corpora are not DVC deps (a list cannot be one): after changing their files, run
``dvc repro --force crosscorpus``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipelines import _stage
from weaklabel.learn.crosscorpus import crosscorpus, default_backbones, load_manifest, settings_from_params
from weaklabel.report.crosscorpus import write_crosscorpus

#: What the outputs say when data.crosscorpus lists no manifest.
NOT_CONFIGURED = (
    "not configured: data.crosscorpus lists no manifest. List gold-labelled corpora there, each a "
    "manifest CSV or scheme:DIR (e.g. [emodb:data/emodb, ravdess:data/ravdess]), to compare backbones "
    "across corpora."
)


def main(argv: list[str] | None = None) -> None:
    parser = _stage.parser(__doc__)
    parser.add_argument("--out", type=Path, required=True, help="folder for the report")
    parser.add_argument("--work-dir", type=Path, required=True, help="folder for the feature stores (kept)")
    args = parser.parse_args(argv)
    log = _stage.start("crosscorpus", args)

    params = _stage.params()
    specs = params.data.crosscorpus
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if not specs:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "meta.json").write_text(
            json.dumps({"configured": False, "reason": NOT_CONFIGURED}) + "\n"
        )
        (args.out / "crosscorpus.md").write_text(f"# Cross-corpus evaluation\n\n{NOT_CONFIGURED}\n")
        log.info("crosscorpus %s", NOT_CONFIGURED)
        return
    manifests = [load_manifest(spec) for spec in specs]
    result = crosscorpus(
        manifests, backbones=default_backbones(), work_dir=args.work_dir, **settings_from_params(params)
    )
    paths = write_crosscorpus(result, args.out)
    log.info(
        "crosscorpus: %d rows, %d cells not tested; wrote %s",
        len(result.table),
        len(result.untested),
        paths["markdown"],
    )


if __name__ == "__main__":
    _stage.run(main)
