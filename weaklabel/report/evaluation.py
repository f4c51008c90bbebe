"""The evaluation report: metrics, the full evaluation, ROC points and figures, ``report.md`` and ``.html``.

``metrics.json`` is small and flat (the DVC metrics: headline AUC per model and target, clips and
speakers scored); ``evaluation.json`` holds everything the report is written from (intervals,
per-fold AUCs, paired differences, sample sizes, model facts). ROC points go to one CSV per scored
set under ``plots/`` (``roc_oof.csv``; ``roc_valid.csv`` and ``roc_test.csv``), columns
``model, fpr, tpr``.

The report opens with a banner saying which backbones are pretrained (and on what: YAMNet on
AudioSet, VGG16 on ImageNet), which have random weights (loudly: a random backbone is not transfer
learning) and which have no learned weights (eGeMAPS, averaged mels)
(:func:`weaklabel.features.identity.weights_banner`). It says which data were used (recordings,
speakers and gold labels for a manifest), the protocol and what a speaker is, how many clips each
split, fold and class holds and how many were left out and why, every model's ROC AUC with its
confidence interval (out of fold under ``kfold``, with the AUC per fold; validation and test under
``holdout``), its paired differences with duration alone and with the best other model, named by
kind and backbone (:func:`weaklabel.report.verdict.display_name`: ``logreg@yamnet`` is "logistic
regression on YAMNet"), what ``fit`` chose (a logistic regression's ``C``, a dense head's best
epoch), the original study's numbers beside ours (on CMU-MOSEI only), the negative control's check
(:func:`weaklabel.report.verdict.control_check`) on a demo run without affect, and a plain-language
verdict computed from the numbers (:func:`weaklabel.report.verdict.verdict`): nothing in it is
hard-coded.

Its text is one list of blocks (:func:`evaluation_blocks`), rendered to both files by
:func:`weaklabel.report.render.write_report`. This module imports no TensorFlow.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from weaklabel.features.identity import describe, weights_banner, weights_kind
from weaklabel.provenance import provenance_block
from weaklabel.report.diagnostics import diagnostics_blocks
from weaklabel.report.figures import new_figure, stamp_warning
from weaklabel.report.render import Block, write_report
from weaklabel.report.verdict import (
    CONTROL_TITLES,
    STUDY_AUC,
    control_check,
    control_kind,
    corpus_kind,
    display_name,
    estimate,
    fit_summary,
    fmt_auc,
    fmt_diff,
    random_backbones,
    relation,
    verdict,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: File names written by :func:`write_evaluation_report`, besides ``report.md``, ``report.html`` and
#: the ROC points (:data:`ROC_FILE`).
OUTPUT_FILES = {
    "metrics": "metrics.json",
    "evaluation": "evaluation.json",
    "roc_png": "roc.png",
    "scores_png": "scores.png",
}
#: ROC points of one scored set, under the reports folder (``model, fpr, tpr``; DVC plots).
ROC_FILE = "plots/roc_{set}.csv"
#: Folder of the diagnostics figures (confusion, calibration, per-speaker AUC, learning curves);
#: which of them exist depends on the run (no dense network: no learning curves).
DIAGNOSTICS = "diagnostics"
#: Readers' names of the scored sets.
SET_NAMES = {"oof": "out of fold", "valid": "validation", "test": "test"}
#: Caption of each figure in the report, by its key in :data:`OUTPUT_FILES`.
FIGURE_CAPTIONS = {
    "roc_png": "ROC curves against the labels",
    "scores_png": "Scores per label class (headline set)",
}


def _labels_word(metrics: Mapping[str, Any]) -> str:
    """``gold labels`` for a manifest (its labels are gold), else ``weak labels``."""
    return "gold labels" if corpus_kind(metrics) == "manifest" else "weak labels"


def _rows_table(metrics: Mapping[str, Any]) -> Block:
    header = [
        "part",
        "speakers",
        "segments",
        "positive",
        "negative",
        "abstained / unlabelled",
        "no features",
        "used (label AUC)",
        "scored (gold)",
    ]
    rows = []
    for part, classes in metrics.get("classes", {}).items():
        counts = metrics.get("rows", {}).get(part, {})
        no_features = sum(v for k, v in counts.items() if k.startswith("no_") and k != "no_label")
        rows.append(
            [
                part,
                classes.get("speakers", classes.get("videos", 0)),
                classes.get("segments", 0),
                classes.get("positive", 0),
                classes.get("negative", 0),
                classes.get("abstain", counts.get("abstained", 0) + counts.get("no_label", 0)),
                no_features if counts else "-",
                counts.get("used", "-"),
                counts.get("scored", "-"),
            ]
        )
    return ("table", (header, rows))


def _sets(metrics: Mapping[str, Any]) -> list[str]:
    """The scored sets of the evaluation, the headline last."""
    return list((metrics.get("auc", {}).get("weak") or {}) or [metrics.get("headline", "test")])


def _model_table(metrics: Mapping[str, Any]) -> Block:
    headline = metrics.get("headline", "test")
    sets = _sets(metrics)
    mosei = corpus_kind(metrics) == "mosei"
    per_fold = (metrics.get("per_fold") or {}).get("weak") or {}
    paired = metrics.get("paired") or {}
    header = ["model", "name", "fit chose"]
    header += [f"{SET_NAMES.get(name, name)} AUC [95% CI]" for name in sets]
    header += ["n (pos/neg, speakers)"]
    header += ["AUC per fold"] if per_fold else []
    header += ["vs duration (paired diff)", "vs best other (paired diff)"]
    header += ["study test"] if mosei else []
    rows = []
    for model, info in metrics.get("models", {}).items():
        top = estimate(metrics, "weak", headline, model) or {}
        row = [display_name(model), f"`{model}`", fit_summary(info)]
        row += [fmt_auc(estimate(metrics, "weak", name, model)) for name in sets]
        row.append(
            f"{top.get('n', 0)} ({top.get('n_pos', 0)}/{top.get('n_neg', 0)}, {top.get('n_groups', 0)})"
        )
        if per_fold:
            row.append(
                ", ".join("-" if e["auc"] is None else f"{e['auc']:.2f}" for e in per_fold.get(model, []))
                or "-"
            )
        for key in ("vs_duration", "vs_best"):
            diff = (paired.get(model) or {}).get(key)
            label = "" if key == "vs_duration" or not diff else f" {display_name(diff['other'])}"
            row.append("-" if not diff else f"{relation(diff)}{label}: {fmt_diff(diff)}")
        if mosei:
            study = STUDY_AUC.get(model, {}).get("test")
            row.append("-" if study is None else f"{study:.2f}")
        rows.append(row)
    return ("table", (header, rows))


def _gold_table(metrics: Mapping[str, Any]) -> Block | None:
    targets = [t for t in ("gold_has0", "gold_non0") if t in metrics.get("auc", {})]
    if not targets:
        return None
    sets = _sets(metrics)
    header = ["model"] + [f"{t[5:]} {SET_NAMES.get(name, name)}" for t in targets for name in sets]
    rows = [
        [display_name(model)] + [fmt_auc(estimate(metrics, t, name, model)) for t in targets for name in sets]
        for model in metrics.get("models", {})
    ]
    return ("table", (header, rows))


def _study_table(metrics: Mapping[str, Any]) -> Block:
    sets = _sets(metrics)
    header = ["model", "study valid", "study test", "how the study scored it"]
    header += [f"ours {SET_NAMES.get(name, name)}" for name in sets]
    rows = []
    for model, study in STUDY_AUC.items():
        rows.append(
            [
                display_name(model),
                "-" if study["valid"] is None else f"{study['valid']:.2f}",
                f"{study['test']:.2f}",
                study["how"],
            ]
            + [fmt_auc(estimate(metrics, "weak", name, model)) for name in sets]
        )
    return ("table", (header, rows))


def protocol_text(metrics: Mapping[str, Any]) -> str:
    """One paragraph: how the clips were split and scored, and what a speaker is here."""
    data = metrics.get("data") or {}
    groups = {
        "speakers.csv": "speakers as the corpus's speakers.csv names them",
        "group": "speakers as the manifest's group column names them",
        "video": "speakers approximated by videos (no speakers.csv; in CMU-MOSEI one speaker can own "
        "several videos, so speaker groups may be too fine)",
    }.get(data.get("groups", "video"), f"speakers ({data.get('groups')})")
    if metrics.get("protocol") == "kfold":
        return (
            f"Protocol: {metrics.get('folds')}-fold cross-validation, stratified by label and grouped by "
            f"speaker ({groups}): no speaker is in two folds, and every labelled clip is scored once by the "
            "model fitted without its fold (out of fold). Each fold's model stopped early on whole "
            "validation speakers from its training part. The headline AUC pools the out-of-fold scores."
        )
    return (
        f"Protocol: one train/validation/test split grouped by speaker ({groups}): no speaker is in two "
        "splits. The headline AUC is the test split's."
    )


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
    kind = corpus_kind(metrics)
    labels = _labels_word(metrics)
    blocks: list[Block] = [("h1", "Speech sentiment from weak labels: evaluation report")]
    top = banner(metrics)
    if top is not None:
        blocks.append(top)
    blocks += [("h2", "Verdict"), ("ul", verdict(metrics))]

    demo = data.get("demo")
    units = "recordings" if kind == "manifest" else "segments"
    facts = [
        f"Corpus: {data.get('corpus', 'unknown')}"
        + (f" (audio under `{data['audio_root']}`)" if data.get("audio_root") else ""),
        f"{data.get('segments', 0)} {units} from {data.get('speakers', data.get('videos', 0))} speakers"
        + ("" if kind == "manifest" else f" ({data.get('videos', 0)} videos)")
        + "; "
        + (
            "labels are the manifest's gold labels."
            if kind == "manifest"
            else f"{data.get('gold_segments', 0)} segments carry gold sentiment."
        ),
    ]
    clip = data.get("clip") or {}
    if clip:
        facts.append(
            f"Clips: {clip.get('length_s', 0):g} s at {clip.get('sample_rate', 0)} Hz "
            "(cropped or zero-padded)."
        )
    if demo is not None:
        control = control_kind(demo)
        facts.append(
            f"Demo corpus with SIMULATED affect, affect_strength {demo.get('affect_strength')}, "
            f"spoken words: {demo.get('spoken_words', 'transcript')}"
            + (f" ({CONTROL_TITLES[control].lower()})." if control else ".")
        )
    blocks += [("h2", "Data"), ("ul", facts), ("h2", "Backbone and features"), *_backbone_blocks(metrics)]
    blocks += [
        ("h2", "Clips per split, fold and class"),
        (
            "p",
            protocol_text(metrics) + f" Positive/negative/abstained are {labels}. Rows are never dropped "
            "silently: abstained, unlabelled and featureless rows are counted here; the label AUC uses the "
            "'used' rows, the gold AUC every scored row with gold.",
        ),
        _rows_table(metrics),
    ]
    headline = metrics.get("headline", "test")
    blocks += [
        ("h2", f"Models against the {labels}"),
        (
            "p",
            f"ROC AUC with {settings.get('level', 0.95):.0%} bootstrap intervals resampled by speaker "
            f"({settings.get('n_boot', '?')} replicates); the headline is "
            f"{SET_NAMES.get(headline, headline)}. "
            "Paired differences: the AUC of the model minus the other's on the same clips, with a paired "
            "speaker-bootstrap interval; 'beats' when it lies above 0, 'worse than' below, 'no better than' "
            "when it holds 0. Every model is scored with predicted probabilities. A model is named "
            "KIND@FEATURES (`logreg@yamnet+egemaps`: the logistic regression on both stores side by side). "
            "'fit chose' (final model): a logistic regression's C, chosen from a grid by an inner "
            "cross-validation on the training rows whose folds never split a speaker; a dense head's kept "
            "epoch.",
        ),
        _model_table(metrics),
    ]
    skipped = metrics.get("skipped") or {}
    if skipped:
        blocks.append(
            ("ul", [f"Not trained: {display_name(model)}: {reason}." for model, reason in skipped.items()])
        )
    control = control_kind(demo)
    if control is not None:
        passed, reasons = control_check(metrics)
        simultaneous = metrics.get("simultaneous") or {}
        family = (
            f"simultaneous {simultaneous['level']:.2%} interval (Bonferroni over the "
            f"{len(simultaneous.get('models', {}))} audio models, so that all of them hold the truth "
            f"{settings.get('level', 0.95):.0%} of the time; one 95% interval each would fail a true null "
            "far more often)"
            if simultaneous.get("models")
            else "interval"
        )
        blocks += [
            ("h2", CONTROL_TITLES[control]),
            (
                "p",
                f"Passes when every audio model's {family} contains 0.5 and none lies below it: "
                + ("**PASSED**." if passed else "**FAILED**: " + "; ".join(reasons) + "."),
            ),
        ]
    gold = _gold_table(metrics)
    if gold is not None:
        blocks += [
            ("h2", "Models against gold sentiment"),
            (
                "p",
                "has0: gold >= 0 is positive; non0: gold > 0 positive, < 0 negative, 0 left out. Every "
                "scored clip with gold counts (out of fold: the labelled clips; holdout: abstained ones "
                "too).",
            ),
            gold,
        ]
    if kind == "mosei":
        blocks += [
            ("h2", "The original study beside ours"),
            (
                "p",
                "The study reported ROC AUC against its weak labels on a random 80/10/10 split of segments, "
                "so the same speaker appeared in train and test; its RandomForest and KNN were scored from "
                "hard 0/1 predictions. Ours: speakers kept apart, every model scored with probabilities.",
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
                f"seed {settings.get('seed')}, at least {settings.get('min_groups')} speakers for an "
                f"interval; chance margin {settings.get('chance_margin')}.",
                f"Training seed {settings.get('train_seed')}; rows per final model: "
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


def plot_roc(roc: Mapping[str, pd.DataFrame], aucs: Mapping[str, Any]) -> Figure:
    """ROC curves of every model against the labels, one panel per scored set.

    Parameters
    ----------
    roc
        :func:`weaklabel.learn.evaluate.roc_tables`: scored set -> ``model, fpr, tpr``.
    aucs
        The ``weak`` part of the evaluation's ``auc``, ``{set: {model: estimate}}``: one panel per
        set, in its order, each model's AUC in the legend.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``roc.png`` by :func:`write_evaluation_report`.
    """
    sets = list(aucs) or list(roc)
    figure = new_figure(5.5 * max(1, len(sets)), 5)
    axes = np.atleast_1d(figure.subplots(1, max(1, len(sets)), sharey=True, squeeze=False)).ravel()
    for ax, name in zip(axes, sets, strict=False):
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="chance")
        table = roc.get(name, pd.DataFrame(columns=["model", "fpr", "tpr"]))
        for model, rows in table.groupby("model", sort=False):
            auc = (aucs.get(name, {}).get(model) or {}).get("auc")
            label = f"{model} ({auc:.3f})" if auc is not None else model
            ax.plot(rows["fpr"], rows["tpr"], linewidth=1.5, label=label)
        ax.set_title(f"{SET_NAMES.get(name, name)}: ROC against the labels")
        ax.set_xlabel("false positive rate")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="lower right", fontsize="small")
    axes[0].set_ylabel("true positive rate")
    return figure


def plot_evaluation_scores(scores: pd.DataFrame, weak: pd.Series, *, split: str = "test") -> Figure:
    """Histograms of each model's scores on one scored set, per label class.

    Parameters
    ----------
    scores
        :func:`weaklabel.learn.evaluate.score_models` or ``oof_scores``: ``model, segment_id, split,
        score``.
    weak
        The label of each scored segment (1.0, 0.0, NaN when not used), indexed by ``segment_id``.
    split
        Which scored set to draw (``oof``, ``test``, ...).

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
        ax.set_title(f"{model} ({SET_NAMES.get(split, split)})")
        ax.set_xlabel("P(positive)")
        ax.legend(fontsize="small")
    for ax in axes[len(models) :]:
        ax.set_visible(False)
    return figure


def write_evaluation_report(
    evaluation: Mapping[str, Any],
    out: str | Path,
    *,
    metrics: Mapping[str, Any],
    scores: pd.DataFrame,
    roc: Mapping[str, pd.DataFrame],
    weak: pd.Series,
    histories: Mapping[str, Any] | None = None,
    agreement: Mapping[str, Mapping[str, Any]] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the evaluation report into ``out``: :data:`OUTPUT_FILES`, ROC points, ``report.{md,html}``.

    Parameters
    ----------
    evaluation
        From :func:`weaklabel.learn.evaluate.evaluate_models`: written as ``evaluation.json``, and
        the report's source.
    out
        The reports folder (created).
    metrics
        The small flat DVC metrics (:func:`weaklabel.learn.evaluate.small_metrics`), ``metrics.json``.
    scores, roc
        From :func:`weaklabel.learn.evaluate.evaluate_models`; ``roc`` gives one CSV per scored set
        (:data:`ROC_FILE`).
    weak
        The label of each scored segment (1.0, 0.0, NaN when not used), indexed by ``segment_id``,
        for :func:`plot_evaluation_scores` and the diagnostics (confusion at 0.5, calibration,
        AUC per speaker, on the headline set: :func:`weaklabel.report.diagnostics.diagnostics_blocks`).
    histories
        Dense network -> its per-epoch history (the final fit's), for the learning curves.
    agreement
        Gold target -> :func:`weaklabel.report.diagnostics.weak_gold_agreement` of the weak labels;
        None without gold.
    provenance
        From :func:`weaklabel.provenance.provenance`: shown at the end of the report and kept in
        ``evaluation.json``.

    Every figure of a run that reads a random-weight backbone carries the warning in the image
    (:func:`weaklabel.report.figures.stamp_warning`).

    Returns
    -------
    dict
        Keys of :data:`OUTPUT_FILES`, ``roc_<set>`` per scored set, ``md`` and ``html`` -> written paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {key: out / name for key, name in OUTPUT_FILES.items()}
    paths["metrics"].write_text(json.dumps(dict(metrics), indent=2) + "\n")
    if provenance is not None:
        evaluation = {**evaluation, "provenance": dict(provenance)}
    paths["evaluation"].write_text(json.dumps(evaluation, indent=2, default=str) + "\n")
    plots = out / Path(ROC_FILE).parent
    for old in plots.glob(Path(ROC_FILE.format(set="*")).name):
        old.unlink()
    for name, table in roc.items():
        path = out / ROC_FILE.format(set=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        table[list(table.columns[:3])].to_csv(path, index=False, float_format="%.6g")
        paths[f"roc_{name}"] = path
    figures = {
        OUTPUT_FILES["roc_png"]: plot_roc(roc, evaluation["auc"].get("weak", {})),
        OUTPUT_FILES["scores_png"]: plot_evaluation_scores(
            scores, weak, split=evaluation.get("headline", "test")
        ),
    }
    random = random_backbones(evaluation)
    warning = f"Backbones: {weights_banner(evaluation['features'])}" if random else None
    for figure in figures.values():
        if warning:
            stamp_warning(figure, warning)
    headline = scores[scores["split"] == evaluation.get("headline", "test")]
    judged = pd.DataFrame(
        {
            "model": headline["model"].to_numpy(),
            "y_true": weak.reindex(headline["segment_id"].to_numpy()).to_numpy(dtype=np.float64),
            "score": headline["score"].to_numpy(),
            "group": headline["speaker"].to_numpy(),
        }
    )
    extra, diagnostic_figures = diagnostics_blocks(
        judged, out / DIAGNOSTICS, histories=histories, agreement=agreement, warning=warning
    )
    shutil.rmtree(out / DIAGNOSTICS, ignore_errors=True)  # no figure of an earlier run stays behind
    figures.update({f"{DIAGNOSTICS}/{name}": figure for name, figure in diagnostic_figures.items()})
    captions = {caption: paths[key] for key, caption in FIGURE_CAPTIONS.items()}
    blocks = evaluation_blocks(evaluation, figures=captions) + extra
    if provenance is not None:
        blocks += provenance_block(provenance)
    written = write_report(out, figures=figures, blocks=blocks)
    paths.update(md=written["md"], html=written["html"])
    for line in verdict(evaluation):
        log.info("verdict: %s", line.replace("**", ""))
    return paths
