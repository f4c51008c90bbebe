"""The evaluation report: metrics, ROC points and figures, and ``report.md`` and ``report.html``.

The report opens with a banner saying which backbones are pretrained (and on what: YAMNet on
AudioSet, VGG16 on ImageNet), which have random weights (loudly: a random backbone is not transfer
learning) and which have no learned weights (eGeMAPS, averaged mels)
(:func:`weaklabel.features.identity.weights_banner`). It says which data were used, how many clips
each split and class holds and how many were left out and why, every model's ROC AUC with its
confidence interval, named by kind and backbone (:func:`display_name`: ``logreg@yamnet`` is
"logistic regression on YAMNet"), what ``fit`` chose (a logistic regression's ``C``, a dense
head's best epoch), the original study's numbers beside ours, and a plain-language verdict
computed from the numbers (:func:`verdict`): nothing in it is hard-coded.

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

from weaklabel.features.identity import backbone_name, describe, is_random, weights_banner, weights_kind
from weaklabel.models.bundle import model_name, parse_name
from weaklabel.report.figures import new_figure
from weaklabel.report.render import Block, write_report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: The original study's ROC AUC against its weak labels, and how it got them, by our model's name.
STUDY_AUC: dict[str, dict[str, Any]] = {
    model_name("random_forest", "mel_mean"): {
        "test": 0.51,
        "valid": None,
        "how": "hard 0/1 predictions; random split",
    },
    model_name("knn", "mel_mean"): {"test": 0.54, "valid": None, "how": "hard 0/1 predictions; random split"},
    model_name("dense_mel", "mel_mean"): {"test": 0.60, "valid": None, "how": "probabilities; random split"},
    model_name("dense_head", "vgg16"): {"test": 0.63, "valid": 0.61, "how": "probabilities; random split"},
}
#: The study's head: the dense head on VGG16 embeddings.
STUDY_HEAD = model_name("dense_head", "vgg16")
#: Display names of the model kinds (:func:`display_name` adds the backbone).
KIND_NAMES = {
    "dense_head": "dense head",
    "logreg": "logistic regression",
    "dense_mel": "dense net",
    "random_forest": "RandomForest",
    "knn": "KNN",
    "duration": "duration only",
    "prior": "class prior",
}
#: Below this many test clips or videos the verdict warns that intervals are wide.
SMALL_TEST = {"clips": 100, "videos": 10}
#: File names written by :func:`write_evaluation_report`, besides ``report.md`` and ``report.html``.
OUTPUT_FILES = {"metrics": "metrics.json", "roc": "roc.csv", "roc_png": "roc.png", "scores_png": "scores.png"}
#: Caption of each figure in the report, by its key in :data:`OUTPUT_FILES`.
FIGURE_CAPTIONS = {
    "roc_png": "ROC curves against the weak labels (validation, test)",
    "scores_png": "Test scores per weak-label class",
}


def display_name(model: str) -> str:
    """A model's name for readers: its kind and its backbone.

    Examples
    --------
    >>> display_name("logreg@yamnet+egemaps"), display_name("dense_head@vgg16"), display_name("prior")
    ('logistic regression on YAMNet + eGeMAPS', 'dense head on VGG16', 'class prior')
    """
    kind, features = parse_name(model)
    name = KIND_NAMES.get(kind, kind)
    return f"{name} on {backbone_name(features)}" if features else name


def _est(metrics: Mapping[str, Any], target: str, split: str, model: str) -> dict[str, Any] | None:
    return (metrics.get("auc", {}).get(target, {}).get(split, {}) or {}).get(model)


def fmt_auc(estimate: Mapping[str, Any] | None) -> str:
    """``0.631 [0.552, 0.704]``; ``0.600 (no CI)`` without an interval; ``n/a`` without an AUC."""
    if not estimate or estimate.get("auc") is None:
        return "n/a"
    if estimate.get("low") is None or estimate.get("high") is None:
        return f"{estimate['auc']:.3f} (no CI)"
    return f"{estimate['auc']:.3f} [{estimate['low']:.3f}, {estimate['high']:.3f}]"


def chance_status(estimate: Mapping[str, Any] | None, *, margin: float) -> str:
    """Where an AUC stands against chance: ``above``, ``below``, ``chance``, ``undetermined``, ``unknown``.

    Above (below) chance means the interval excludes 0.5 *and* the AUC is more than ``margin``
    above (below) 0.5; anything else with an interval is near chance. Without an interval (too
    few videos to resample) the AUC is ``undetermined``; without an AUC (a class missing),
    ``unknown``.

    Parameters
    ----------
    estimate
        An AUC entry of the metrics (``auc``, ``low``, ``high``).
    margin
        The chance margin (``evaluate.chance_margin``).

    Returns
    -------
    str
        One of ``above``, ``below``, ``chance``, ``undetermined``, ``unknown``.
    """
    if not estimate or estimate.get("auc") is None:
        return "unknown"
    auc, low, high = estimate["auc"], estimate.get("low"), estimate.get("high")
    if low is None or high is None:
        return "undetermined"
    if auc > 0.5 + margin and low > 0.5:
        return "above"
    if auc < 0.5 - margin and high < 0.5:
        return "below"
    return "chance"


def random_backbones(metrics: Mapping[str, Any]) -> list[str]:
    """The stores read that were made with random (untrained) weights (e.g. ``["vgg16"]``)."""
    return [name for name, meta in (metrics.get("features") or {}).items() if is_random(meta)]


def fit_summary(info: Mapping[str, Any]) -> str:
    """What ``fit`` chose, for the model table: ``C = 0.01 (inner CV: ...)``, ``best epoch 12``.

    Parameters
    ----------
    info
        A model's entry of the metrics (:func:`weaklabel.learn.evaluate.model_facts`).

    Returns
    -------
    str
        ``-`` when nothing was chosen.

    Examples
    --------
    >>> fit_summary({"fit": {"C": 0.01, "C_note": "inner CV: 5 folds grouped by speaker (30 speakers)"}})
    'C = 0.01 (inner CV: 5 folds grouped by speaker (30 speakers))'
    >>> fit_summary({"fit": {"best_epoch": 12}})
    'best epoch 12'
    """
    fit = info.get("fit") or {}
    if fit.get("C") is not None:
        return f"C = {fit['C']:g} ({fit.get('C_note', '?')})"
    if fit.get("best_epoch") is not None:
        return f"best epoch {fit['best_epoch']}"
    return "-"


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


_STATUS_WORDS = {
    "above": "above chance",
    "chance": "not clearly different from chance",
    "below": "below chance (its ranking is inverted between training and test)",
    "undetermined": "not judged: too few test videos for a confidence interval (evaluate.min_videos)",
    "unknown": "undefined (the test split lacks a class)",
}


def _backbone_models(models: Mapping[str, Any]) -> list[str]:
    """Audio models that read a backbone's features (not the averaged-mel baselines)."""
    return [
        m for m, info in models.items() if info.get("audio") and "mel_mean" not in (info.get("stores") or [])
    ]


def _head_findings(
    test: Mapping[str, Any], audio: list[str], *, margin: float, models: Mapping[str, Any]
) -> list[str]:
    heads = [m for m in _backbone_models(models) if m in test or m in models]
    out = [
        f"{display_name(m)} scores test ROC AUC {fmt_auc(test.get(m))} against the weak labels: "
        f"{_STATUS_WORDS[chance_status(test.get(m), margin=margin)]}."
        for m in heads
    ]
    scored = [m for m in heads if (test.get(m) or {}).get("auc") is not None]
    baselines = [m for m in audio if m not in heads and (test.get(m) or {}).get("auc") is not None]
    if not baselines or not scored:
        return out
    head = max(scored, key=lambda m: test[m]["auc"])
    best = max(baselines, key=lambda m: test[m]["auc"])
    top, base = test[head], test[best]
    intervals = top.get("low") is not None and base.get("high") is not None
    if intervals and top["low"] > base["high"]:
        relation, detail = "beats", "the intervals do not overlap"
    elif top["auc"] > base["auc"]:
        relation = "scores above"
        detail = "but the intervals overlap, so it is not clearly better" if intervals else "(no intervals)"
    else:
        relation, detail = "does not beat", "on the test split"
    reads_mel = "mel_mean" in ((models.get(best) or {}).get("stores") or [])
    kind = "averaged-mel baseline" if reads_mel else "other audio model"
    lead = "It" if len(scored) == 1 else f"The best of them, {display_name(head)},"
    out.append(f"{lead} {relation} the best {kind}, {display_name(best)} ({fmt_auc(base)}), {detail}.")
    return out


def _duration_findings(test: Mapping[str, Any], audio: list[str], *, margin: float) -> list[str]:
    duration = test.get("duration")
    status = chance_status(duration, margin=margin)
    if status == "above":
        out = [
            "**Duration alone predicts the weak label**: the duration-only baseline scores "
            f"{fmt_auc(duration)}. Longer sentences carry more sentiment words, and the zero padding of "
            "short clips tells an audio model how long the speech was, so an audio model must beat this "
            "to show it hears more than length."
        ]
        close = [
            m
            for m in audio
            if (test.get(m) or {}).get("auc") is not None and test[m]["auc"] <= duration["auc"] + margin
        ]
        if close:
            out.append(
                f"{_join([display_name(m) for m in close])} {_plural(len(close), 'does', 'do')} not beat "
                f"duration alone by more than {margin:g} AUC."
            )
        elif audio:
            out.append(f"Every audio model beats duration alone by more than {margin:g} AUC.")
        return out
    if status in ("chance", "below"):
        return [
            f"Duration alone scores {fmt_auc(duration)}, {_STATUS_WORDS[status]}: sentence length does not "
            "explain the audio models' scores."
        ]
    if status == "undetermined":
        return [f"Duration alone scores {fmt_auc(duration)}: {_STATUS_WORDS[status]}."]
    return []


def _control_findings(
    test: Mapping[str, Any], audio: list[str], *, margin: float, repeat_note: str
) -> list[str]:
    control = (
        "This run is the **negative control** (demo corpus with affect_strength 0: the audio carries no "
        "sentiment, only the words do). "
    )
    status = {m: chance_status(test.get(m), margin=margin) for m in audio}
    off = {m: s for m, s in status.items() if s in ("above", "below")}
    open_ = [m for m, s in status.items() if s in ("undetermined", "unknown")]
    loose = [m for m, s in status.items() if s == "chance" and abs(test[m]["auc"] - 0.5) > margin]
    tail = f" {repeat_note}" if repeat_note else ""
    if off:
        listed = _join([f"{display_name(m)} ({fmt_auc(test.get(m))}, {s} chance)" for m, s in off.items()])
        duration = chance_status(test.get("duration"), margin=margin)
        if duration == "above":
            leak = (
                f" Duration alone scores {fmt_auc(test.get('duration'))}, so padding length is a likely leak."
            )
        elif duration == "below":
            leak = (
                f" Duration alone scores {fmt_auc(test.get('duration'))}, below chance too: sentence length "
                "relates to the class one way in training and the other way in test, and padding shows "
                "length to every model (a small test split makes such flips likely; raise demo.videos)."
            )
        else:
            leak = tail or " Look for speaker, loudness or recording differences between the classes."
        return [
            f"**The negative control FAILED**: {control}Yet {listed}. These models hear something other "
            f"than affect.{leak}"
        ]
    if open_:
        listed = _join([f"{display_name(m)} ({fmt_auc(test.get(m))})" for m in open_])
        return [
            f"{control}It cannot be judged: {listed} {_plural(len(open_), 'has', 'have')} no confidence "
            "interval (too few test videos, or a class missing); raise demo.videos." + tail
        ]
    if loose:
        listed = _join([f"{display_name(m)} ({fmt_auc(test.get(m))})" for m in loose])
        return [
            f"{control}No audio model is clearly above or below chance, as it should be, but {listed} "
            f"{_plural(len(loose), 'lies', 'lie')} more than {margin:g} from 0.5 with intervals that still "
            "include it: the test split is too small to confirm the control (a larger demo.videos narrows "
            "the intervals)." + tail
        ]
    return [f"{control}All {len(audio)} audio models sit within {margin:g} of 0.5, as they should."]


def _study_findings(test: Mapping[str, Any]) -> list[str]:
    out = []
    head = test.get(STUDY_HEAD)
    if head and head.get("auc") is not None:
        study = STUDY_AUC[STUDY_HEAD]["test"]
        if head.get("low") is None:
            where = f"{'above' if study > head['auc'] else 'at or below'} ours (no interval to compare)"
        elif head["low"] <= study <= head["high"]:
            where = "inside our interval"
        else:
            where = "above our interval" if study > head["high"] else "below our interval"
        out.append(
            f"The original study reported test AUC {study:.2f} for the VGG16 head; ours is {fmt_auc(head)}, "
            f"so theirs lies {where}."
        )
    hard = [m for m in (model_name("random_forest", "mel_mean"), model_name("knn", "mel_mean")) if m in test]
    if hard:
        ours = _join(
            [f"{display_name(m)} {fmt_auc(test[m])} (study {STUDY_AUC[m]['test']:.2f})" for m in hard]
        )
        out.append(
            "The study scored RandomForest and KNN from hard 0/1 predictions, on a random split that put the "
            f"same speaker in train and test; scored with probabilities on a split grouped by video: {ours}."
        )
    return out


def verdict(metrics: Mapping[str, Any]) -> list[str]:
    """The plain-language verdict, one sentence group per finding, computed from the metrics.

    Parameters
    ----------
    metrics
        From :func:`weaklabel.learn.evaluate.evaluate_models`.

    Returns
    -------
    list of str
        Findings, most important first (markdown ``**bold**`` allowed).
    """
    margin = float(metrics.get("settings", {}).get("chance_margin", 0.05))
    models = metrics.get("models", {})
    audio = [m for m, info in models.items() if info.get("audio")]
    test = metrics.get("auc", {}).get("weak", {}).get("test", {})
    data = metrics.get("data") or {}
    out: list[str] = []

    random = random_backbones(metrics)
    if random:
        names = _join([backbone_name(r) for r in random])
        out.append(
            f"**The {names} backbone{'s have' if len(random) > 1 else ' has'} RANDOM weights.** Its "
            "embeddings come from an untrained network: this is NOT transfer learning, and the numbers of "
            "the models reading it say nothing about pretrained features."
        )
    if _backbone_models(models):
        out += _head_findings(test, audio, margin=margin, models=models)
    if "duration" in models:
        out += _duration_findings(test, audio, margin=margin)
    prior = test.get("prior")
    if prior and prior.get("auc") is not None:
        if abs(prior["auc"] - 0.5) < 1e-9:
            out.append("The class-prior baseline scores 0.500, as a constant score must.")
        else:
            out.append(
                f"**Check the evaluation**: the class-prior baseline scores {prior['auc']:.3f}, not 0.5."
            )

    repeats = (data.get("repeated_text") or {}).get("test") or {}
    repeat_note = ""
    if repeats.get("text_in_train"):
        k = repeats["text_in_train"]
        repeat_note = (
            f"{k} of the {repeats['clips']} labelled test clips {_plural(k, 'repeats', 'repeat')} a "
            "transcript that is also read in the training split (by another speaker): an audio model can "
            "learn what a sentence sounds like, and so its label, without hearing any affect."
        )
    demo = data.get("demo")
    if demo is not None and demo.get("affect_strength") is not None:
        strength = float(demo["affect_strength"])
        if strength == 0:
            out += _control_findings(test, audio, margin=margin, repeat_note=repeat_note)
        else:
            out.append(
                f"The demo corpus's affect is SIMULATED with prosody (affect_strength {strength:g}): these "
                "numbers show that the pipeline works, not how well a model hears real emotion."
            )
            if repeat_note:
                out.append(repeat_note)
    elif repeat_note and repeats["text_in_train"] > 0.1 * max(repeats.get("clips", 1), 1):
        out.append(repeat_note)

    modes = [mode for mode in ("non0", "has0") if f"gold_{mode}" in metrics.get("auc", {})]
    if modes:
        scores = [
            f"{display_name(model)} "
            + ", ".join(f"{mode} {fmt_auc(_est(metrics, f'gold_{mode}', 'test', model))}" for mode in modes)
            for model in _backbone_models(models) or audio[:1]
        ]
        out.append(f"Against gold sentiment on test: {'; '.join(scores)}.")
    out += _study_findings(test)

    sizes = [(e.get("n", 0), e.get("n_groups", 0)) for e in test.values() if e]
    if sizes:
        n, groups = max(sizes)
        if n < SMALL_TEST["clips"] or groups < SMALL_TEST["videos"]:
            out.append(
                f"The test split is small ({n} labelled {_plural(n, 'clip', 'clips')} from {groups} "
                f"{_plural(groups, 'video', 'videos')}): intervals are wide or missing, so read differences "
                "between models with care."
            )
    return out


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
        test = _est(metrics, "weak", "test", model) or {}
        study = STUDY_AUC.get(model, {}).get("test")
        rows.append(
            [
                display_name(model),
                f"`{model}`",
                fit_summary(info),
                fmt_auc(_est(metrics, "weak", "valid", model)),
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
        + [fmt_auc(_est(metrics, t, split, model)) for t in targets for split in ("valid", "test")]
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
                fmt_auc(_est(metrics, "weak", "valid", model)),
                fmt_auc(_est(metrics, "weak", "test", model)),
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
