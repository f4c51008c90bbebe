"""The evaluation report: metrics, ROC points and figures, and ``report.md`` and ``report.html``.

The report opens with a banner saying which backbones are pretrained (and on what: YAMNet on
AudioSet, VGG16 on ImageNet), which have random weights (loudly: a random backbone is not transfer
learning) and which have no learned weights (eGeMAPS, averaged mels)
(:func:`weaklabel.features.identity.weights_banner`). It says which data were used, how many clips
each split and class holds and how many were left out and why, every model's ROC AUC with its
confidence interval, named by kind and backbone (:func:`weaklabel.report.verdict.display_name`:
``logreg@yamnet`` is "logistic regression on YAMNet"), what ``fit`` chose (a logistic regression's
``C``, a dense head's best epoch), the original study's numbers beside ours, and a plain-language
verdict computed from the numbers (:func:`weaklabel.report.verdict.verdict`): nothing in it is
hard-coded.

Its text is one list of blocks (:func:`evaluation_blocks`), rendered to both files by
:func:`weaklabel.report.render.write_report`. This module imports no TensorFlow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from weaklabel.features.identity import describe, weights_banner, weights_kind
from weaklabel.report.figures import new_figure
from weaklabel.report.render import Block, write_report
from weaklabel.report.verdict import (
    STUDY_AUC,
    display_name,
    estimate,
    fit_summary,
    fmt_auc,
    random_backbones,
    verdict,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: File names written by :func:`write_evaluation_report`, besides ``report.md`` and ``report.html``.
OUTPUT_FILES = {"metrics": "metrics.json", "roc": "roc.csv", "roc_png": "roc.png", "scores_png": "scores.png"}
#: Caption of each figure in the report, by its key in :data:`OUTPUT_FILES`.
FIGURE_CAPTIONS = {
    "roc_png": "ROC curves against the weak labels (validation, test)",
    "scores_png": "Test scores per weak-label class",
}


def _rows_table(metrics: Mapping[str, Any]) -> Block:
    header = [
        "split",
        "videos",
        "segments",
        "positive",
        "negative",
        "abstained",
        "no label",
        "no features",
        "used (weak-label AUC)",
        "scored (gold)",
    ]
    rows = []
    for split, classes in metrics.get("classes", {}).items():
        counts = metrics.get("rows", {}).get(split, {})
        no_features = sum(v for k, v in counts.items() if k.startswith("no_") and k != "no_label")
        rows.append(
            [
                split,
                classes.get("videos", 0),
                classes.get("segments", 0),
                classes.get("positive", 0),
                classes.get("negative", 0),
                counts.get("abstained", 0),
                counts.get("no_label", 0),
                no_features,
                counts.get("used", 0),
                counts.get("scored", 0),
            ]
        )
    return ("table", (header, rows))


def _model_table(metrics: Mapping[str, Any]) -> Block:
    header = [
        "model",
        "name",
        "fit chose",
        "valid AUC [95% CI]",
        "test AUC [95% CI]",
        "test n (pos/neg, videos)",
        "study test",
    ]
    rows = []
    for model, info in metrics.get("models", {}).items():
        test = estimate(metrics, "weak", "test", model) or {}
        study = STUDY_AUC.get(model, {}).get("test")
        rows.append(
            [
                display_name(model),
                f"`{model}`",
                fit_summary(info),
                fmt_auc(estimate(metrics, "weak", "valid", model)),
                fmt_auc(test),
                f"{test.get('n', 0)} ({test.get('n_pos', 0)}/{test.get('n_neg', 0)}, "
                f"{test.get('n_groups', 0)})",
                "-" if study is None else f"{study:.2f}",
            ]
        )
    return ("table", (header, rows))


def _gold_table(metrics: Mapping[str, Any]) -> Block | None:
    targets = [t for t in ("gold_has0", "gold_non0") if t in metrics.get("auc", {})]
    if not targets:
        return None
    header = ["model"] + [f"{t[5:]} {split}" for t in targets for split in ("valid", "test")]
    rows = [
        [display_name(model)]
        + [fmt_auc(estimate(metrics, t, split, model)) for t in targets for split in ("valid", "test")]
        for model in metrics.get("models", {})
    ]
    return ("table", (header, rows))


def _study_table(metrics: Mapping[str, Any]) -> Block:
    header = ["model", "study valid", "study test", "how the study scored it", "ours valid", "ours test"]
    rows = []
    for model, study in STUDY_AUC.items():
        rows.append(
            [
                display_name(model),
                "-" if study["valid"] is None else f"{study['valid']:.2f}",
                f"{study['test']:.2f}",
                study["how"],
                fmt_auc(estimate(metrics, "weak", "valid", model)),
                fmt_auc(estimate(metrics, "weak", "test", model)),
            ]
        )
    return ("table", (header, rows))


def _cell(value: object, *, width: int = 24) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 2] + ".."


def banner(metrics: Mapping[str, Any]) -> Block | None:
    """The report's banner: which backbones read are pretrained, which random, which hand-crafted.

    A warning box when any is random (not transfer learning), a bold line otherwise; None when no
    feature store was read.
    """
    features = metrics.get("features") or {}
    if not features:
        return None
    line = f"Backbones: {weights_banner(features)}"
    return ("warn", line) if random_backbones(metrics) else ("p", f"**{line}**")


def _backbone_blocks(metrics: Mapping[str, Any]) -> list[Block]:
    features = metrics.get("features") or {}
    if not features:
        return [("p", "No feature store was read.")]
    keys = ["embedder", "layer", "pooling", "dim", "weights", "weights_file", "weights_sha256", "precision"]
    keys = [k for k in keys if any(k in identity for identity in features.values())]
    rows = [[store] + [_cell(identity.get(k)) for k in keys] for store, identity in features.items()]
    words = {
        "pretrained": "pretrained, frozen",
        "random": "RANDOM weights, frozen",
        "none": "no learned weights",
    }
    lines = [f"`{store}` ({words[weights_kind(meta)]}): {describe(meta)}" for store, meta in features.items()]
    blocks: list[Block] = [("ul", lines), ("table", (["store", *keys], rows))]
    if "egemaps" in features:
        blocks.append(("p", "openSMILE (eGeMAPS) is licensed for research and non-commercial use only."))
    return blocks


def evaluation_blocks(metrics: Mapping[str, Any], *, figures: Mapping[str, str | Path]) -> list[Block]:
    """The report's text as blocks (:data:`weaklabel.report.render.Block`).

    Parameters
    ----------
    metrics
        From :func:`weaklabel.learn.evaluate.evaluate_models`.
    figures
        Caption -> PNG path, shown in order.

    Returns
    -------
    list of tuple
        The blocks, for :func:`weaklabel.report.render.render_markdown` and
        :func:`~weaklabel.report.render.render_html`.
    """
    data = metrics.get("data") or {}
    settings = metrics.get("settings") or {}
    blocks: list[Block] = [("h1", "Speech sentiment from weak labels: evaluation report")]
    top = banner(metrics)
    if top is not None:
        blocks.append(top)
    blocks += [("h2", "Verdict"), ("ul", verdict(metrics))]

    demo = data.get("demo")
    facts = [
        f"Corpus: {data.get('corpus', 'unknown')}"
        + (f" (audio under `{data['audio_root']}`)" if data.get("audio_root") else ""),
        f"{data.get('segments', 0)} segments from {data.get('videos', 0)} videos; "
        f"{data.get('gold_segments', 0)} segments carry gold sentiment.",
    ]
    clip = data.get("clip") or {}
    if clip:
        facts.append(
            f"Clips: {clip.get('length_s', 0):g} s at {clip.get('sample_rate', 0)} Hz "
            "(cropped or zero-padded)."
        )
    if demo is not None:
        facts.append(
            f"Demo corpus with SIMULATED affect, affect_strength {demo.get('affect_strength')}"
            + (
                " (the negative control: no sentiment in the audio)."
                if demo.get("affect_strength") == 0
                else "."
            )
        )
    blocks += [("h2", "Data"), ("ul", facts), ("h2", "Backbone and features"), *_backbone_blocks(metrics)]
    blocks += [
        ("h2", "Clips per split and class"),
        (
            "p",
            "Split grouped by video (no speaker in two splits). Positive/negative/abstained are weak labels. "
            "Rows are never dropped silently: abstained, unlabelled and featureless rows are counted here; "
            "the weak-label AUC uses the 'used' rows, the gold AUC every scored row with gold.",
        ),
        _rows_table(metrics),
    ]
    blocks += [
        ("h2", "Models against the weak labels"),
        (
            "p",
            f"ROC AUC with {settings.get('level', 0.95):.0%} bootstrap intervals resampled by video "
            f"({settings.get('n_boot', '?')} replicates). "
            "Every model is scored with predicted probabilities. A model is named KIND@FEATURES "
            "(`logreg@yamnet+egemaps`: the logistic regression on both stores side by side). 'fit chose': "
            "a logistic regression's C, chosen from a grid by an inner cross-validation on the training "
            "rows whose folds never split a video (speaker); a dense head's kept epoch.",
        ),
        _model_table(metrics),
    ]
    skipped = metrics.get("skipped") or {}
    if skipped:
        blocks.append(
            ("ul", [f"Not trained: {display_name(model)}: {reason}." for model, reason in skipped.items()])
        )
    gold = _gold_table(metrics)
    if gold is not None:
        blocks += [
            ("h2", "Models against gold sentiment"),
            (
                "p",
                "has0: gold >= 0 is positive; non0: gold > 0 positive, < 0 negative, 0 left out. "
                "Every scored "
                "clip with gold counts, including clips whose weak label abstained.",
            ),
            gold,
        ]
    blocks += [
        ("h2", "The original study beside ours"),
        (
            "p",
            "The study reported ROC AUC against its weak labels on a random 80/10/10 split of segments, so "
            "the same speaker appeared in train and test; its RandomForest and KNN were scored from hard 0/1 "
            "predictions. Ours: a split grouped by video, every model scored with probabilities.",
        ),
        _study_table(metrics),
    ]
    if figures:
        blocks.append(("h2", "Figures"))
        blocks += [("img", (caption, Path(path))) for caption, path in figures.items()]
    models = metrics.get("models", {})
    blocks += [
        ("h2", "Settings"),
        (
            "ul",
            [
                f"Bootstrap: {settings.get('n_boot')} replicates, level {settings.get('level')}, "
                f"seed {settings.get('seed')}; chance margin {settings.get('chance_margin')}.",
                f"Training seed {settings.get('train_seed')}; rows per model: "
                + ", ".join(
                    f"{m} {info.get('n_train')} train / {info.get('n_valid')} valid"
                    for m, info in models.items()
                )
                + ".",
                "Sample weighting: "
                + ", ".join(f"{m} {info.get('sample_weight')}" for m, info in models.items())
                + ".",
            ],
        ),
    ]
    return blocks


def plot_roc(roc: pd.DataFrame, aucs: Mapping[str, Any]) -> Figure:
    """ROC curves of every model against the weak labels, one panel per split.

    Parameters
    ----------
    roc
        :func:`weaklabel.learn.evaluate.roc_table`: ``model, split, fpr, tpr``.
    aucs
        The ``weak`` part of the metrics' ``auc``, ``{split: {model: estimate}}``: one panel per
        split, in its order, each model's AUC in the legend.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``roc.png`` by :func:`write_evaluation_report`.
    """
    figure = new_figure(11, 5)
    splits = list(aucs)
    axes = figure.subplots(1, len(splits), sharey=True)
    for ax, split in zip(axes, splits, strict=True):
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="chance")
        for model, rows in roc[roc["split"] == split].groupby("model", sort=False):
            auc = (aucs.get(split, {}).get(model) or {}).get("auc")
            label = f"{model} ({auc:.3f})" if auc is not None else model
            ax.plot(rows["fpr"], rows["tpr"], linewidth=1.5, label=label)
        ax.set_title(f"{split}: ROC against the weak labels")
        ax.set_xlabel("false positive rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="lower right", fontsize="small")
    axes[0].set_ylabel("true positive rate")
    return figure


def plot_evaluation_scores(scores: pd.DataFrame, weak: pd.Series, *, split: str = "test") -> Figure:
    """Histograms of each model's scores on ``split``, per weak-label class.

    Parameters
    ----------
    scores
        :func:`weaklabel.learn.evaluate.score_models`: ``model, segment_id, split, score``.
    weak
        The weak label of each scored segment (1.0, 0.0, NaN when not used), indexed by
        ``segment_id``.
    split
        Which split's scores to draw.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``scores.png`` by :func:`write_evaluation_report`.
    """
    models = list(dict.fromkeys(scores["model"]))
    n_cols = min(3, max(1, len(models)))
    n_rows = max(1, -(-len(models) // n_cols))
    figure = new_figure(4 * n_cols, 3 * n_rows)
    axes = np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False)).ravel()
    bins = np.linspace(0, 1, 26)
    for ax, model in zip(axes, models, strict=False):
        rows = scores[(scores["model"] == model) & (scores["split"] == split)]
        y = weak.reindex(rows["segment_id"]).to_numpy()
        for value, name, color in ((1.0, "positive", "tab:orange"), (0.0, "negative", "tab:blue")):
            values = rows["score"].to_numpy()[y == value]
            ax.hist(
                values, bins=bins, alpha=0.55, color=color, density=True, label=f"{name} (n={values.size})"
            )
        ax.set_title(f"{model} ({split})")
        ax.set_xlabel("P(positive)")
        ax.legend(fontsize="small")
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    return figure


def write_evaluation_report(
    metrics: Mapping[str, Any],
    out: str | Path,
    *,
    scores: pd.DataFrame,
    roc: pd.DataFrame,
    weak: pd.Series,
) -> dict[str, Path]:
    """Write the evaluation report into ``out``: :data:`OUTPUT_FILES`, ``report.md`` and ``report.html``.

    Parameters
    ----------
    metrics, scores, roc
        From :func:`weaklabel.learn.evaluate.evaluate_models`.
    out
        The reports folder (created).
    weak
        The weak label of each scored segment (1.0, 0.0, NaN when not used), indexed by
        ``segment_id``, for :func:`plot_evaluation_scores`.

    Returns
    -------
    dict
        Keys of :data:`OUTPUT_FILES`, ``md`` and ``html`` -> written paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in OUTPUT_FILES.items()}
    paths["metrics"].write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    roc.to_csv(paths["roc"], index=False, float_format="%.6g")
    figures = {
        OUTPUT_FILES["roc_png"]: plot_roc(roc, metrics["auc"].get("weak", {})),
        OUTPUT_FILES["scores_png"]: plot_evaluation_scores(scores, weak),
    }
    captions = {caption: paths[key] for key, caption in FIGURE_CAPTIONS.items()}
    written = write_report(out, figures=figures, blocks=evaluation_blocks(metrics, figures=captions))
    paths.update(md=written["md"], html=written["html"])
    for line in verdict(metrics):
        log.info("verdict: %s", line.replace("**", ""))
    return paths
