"""The evaluation report's verdict: plain-language findings computed from the metrics, never typed.

:func:`verdict` reads ``metrics.json``'s numbers (AUCs and intervals per target, split and model,
rows, the data description) and says, for each audio model, whether it is above, at or below chance
(:func:`chance_status`), how it compares with the best averaged-mel baseline and with duration alone,
whether a negative-control run passed, how ours compares with the original study, and when the test
split is too small to read differences. :func:`display_name` names a model for readers (kind and
backbone) here and in the report's tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weaklabel.features.identity import backbone_name, is_random
from weaklabel.models.bundle import model_name, parse_name

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


def estimate(metrics: Mapping[str, Any], target: str, split: str, model: str) -> dict[str, Any] | None:
    """The AUC estimate of ``model`` on ``split`` against ``target`` in ``metrics``, or None."""
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
            + ", ".join(
                f"{mode} {fmt_auc(estimate(metrics, f'gold_{mode}', 'test', model))}" for mode in modes
            )
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
