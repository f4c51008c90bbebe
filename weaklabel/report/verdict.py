"""The evaluation report's verdict: plain-language findings computed from the evaluation, never typed.

:func:`verdict` reads ``evaluation.json``'s numbers (AUCs and intervals per target, scored set and
model, paired differences, rows, the data description) on the headline set (out of fold under
``kfold``, test under ``holdout``) and says, for each audio model, whether it is above, at or below
chance (:func:`chance_status`), whether it beats duration alone and the best other model (from the
paired difference intervals: :func:`relation`), whether a negative-control run passed
(:func:`control_check`), how ours compares with the original study (only on CMU-MOSEI), and when
the scored set is too small to read differences. An AUC at the ceiling is said to be so, its
interval uninformative (:func:`fmt_auc`). :func:`display_name` names a model for readers (kind and
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
#: Below this many scored clips or speakers the verdict warns that intervals are wide.
SMALL_TEST = {"clips": 100, "speakers": 10}
#: An AUC at or above this is at the ceiling: it compares nothing and its interval says nothing.
CEILING = 0.999


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


def at_ceiling(estimate: Mapping[str, Any] | None) -> bool:
    """Whether an AUC (or its interval's lower end) sits at the ceiling, 1.0 (:data:`CEILING`)."""
    return bool(estimate) and max(estimate.get("auc") or 0, estimate.get("low") or 0) >= CEILING


def fmt_auc(estimate: Mapping[str, Any] | None) -> str:
    """``0.631 [0.552, 0.704]``; ``0.600 (no CI)`` without an interval; ``n/a`` without an AUC.

    At the ceiling: ``1.000 (at ceiling, interval uninformative)``.

    Examples
    --------
    >>> fmt_auc({"auc": 1.0, "low": 1.0, "high": 1.0})
    '1.000 (at ceiling, interval uninformative)'
    """
    if not estimate or estimate.get("auc") is None:
        return "n/a"
    if at_ceiling(estimate):
        return f"{estimate['auc']:.3f} (at ceiling, interval uninformative)"
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


def relation(diff: Mapping[str, Any] | None) -> str:
    """What a paired AUC difference (a - b) says: ``beats``, ``worse than``, ``no better than``, ``unknown``.

    ``beats`` when the interval lies above 0, ``worse than`` when below, ``no better than`` when it
    holds 0; ``unknown`` without an interval (too few speakers) or without a difference.
    """
    if not diff or diff.get("low") is None or diff.get("high") is None:
        return "unknown"
    if diff["low"] > 0:
        return "beats"
    if diff["high"] < 0:
        return "worse than"
    return "no better than"


def fmt_diff(diff: Mapping[str, Any] | None) -> str:
    """``+0.082 [+0.021, +0.140]``; ``+0.050 (no CI)``; ``n/a``."""
    if not diff or diff.get("diff") is None:
        return "n/a"
    if diff.get("low") is None or diff.get("high") is None:
        return f"{diff['diff']:+.3f} (no CI)"
    return f"{diff['diff']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}]"


def control_check(metrics: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Whether a negative-control run passed: every audio model's interval holds 0.5, none lies below.

    Parameters
    ----------
    metrics
        The evaluation (:func:`weaklabel.learn.evaluate.evaluate_models`): the headline set's
        AUCs against the weak labels are judged, by their simultaneous intervals (``simultaneous``:
        Bonferroni over the audio models, :func:`weaklabel.learn.evaluate.simultaneous_table`) when
        the evaluation has them, else by each model's own interval.

    Returns
    -------
    passed : bool
        True when every audio model has an interval and it contains 0.5.
    reasons : list of str
        One line per audio model that fails (above or below chance, or no interval to judge), or
        why nothing could be judged; empty when passed.

    Examples
    --------
    >>> metrics = {"models": {"knn@mel_mean": {"audio": True}},
    ...            "auc": {"weak": {"test": {"knn@mel_mean": {"auc": 0.41, "low": 0.33, "high": 0.48}}}}}
    >>> control_check(metrics)
    (False, ['KNN on averaged mels: 0.410 [0.330, 0.480] lies below chance'])
    """
    audio = [m for m, info in (metrics.get("models") or {}).items() if info.get("audio")]
    scored = control_estimates(metrics)
    if not audio:
        return False, ["no audio model was scored"]
    reasons = []
    for model in audio:
        entry = scored.get(model)
        if not entry or entry.get("low") is None or entry.get("high") is None:
            reasons.append(f"{display_name(model)}: {fmt_auc(entry)} has no interval to judge")
        elif entry["high"] < 0.5:
            reasons.append(f"{display_name(model)}: {fmt_auc(entry)} lies below chance")
        elif entry["low"] > 0.5:
            reasons.append(f"{display_name(model)}: {fmt_auc(entry)} lies above chance")
    return not reasons, reasons


def control_estimates(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``{model: estimate}`` the control is judged by: simultaneous intervals when present."""
    return (metrics.get("simultaneous") or {}).get("models") or headline_aucs(metrics)


def headline_aucs(metrics: Mapping[str, Any], target: str = "weak") -> dict[str, Any]:
    """``{model: estimate}`` of the headline set (``metrics["headline"]``: ``oof`` or ``test``)."""
    return (metrics.get("auc", {}).get(target, {}) or {}).get(metrics.get("headline", "test"), {}) or {}


def corpus_kind(metrics: Mapping[str, Any]) -> str:
    """``demo``, ``mosei`` or ``manifest``: what the evaluated corpus is (``data.kind``)."""
    data = metrics.get("data") or {}
    return data.get("kind") or ("demo" if data.get("demo") else "mosei")


def _where(metrics: Mapping[str, Any]) -> str:
    """How the headline numbers were scored, for sentences: ``out of fold`` or ``on the test split``."""
    return "out of fold" if metrics.get("headline", "test") == "oof" else "on the test split"


def _status_words(where: str) -> dict[str, str]:
    return {
        "above": "above chance",
        "chance": "not clearly different from chance",
        "below": "below chance (its ranking is inverted between training and scoring)",
        "undetermined": f"not judged: too few speakers scored {where} for a confidence interval "
        "(evaluate.min_speakers)",
        "unknown": f"undefined (the clips scored {where} lack a class)",
    }


def _backbone_models(models: Mapping[str, Any]) -> list[str]:
    """Audio models that read a backbone's features (not the averaged-mel baselines)."""
    return [
        m for m, info in models.items() if info.get("audio") and "mel_mean" not in (info.get("stores") or [])
    ]


def _paired_findings(metrics: Mapping[str, Any], audio: list[str], *, margin: float) -> list[str]:
    """One sentence per audio model: its AUC, where it stands, and what the paired differences say."""
    scored, where = headline_aucs(metrics), _where(metrics)
    paired = metrics.get("paired") or {}
    labels = "gold labels" if corpus_kind(metrics) == "manifest" else "weak labels"
    words = _status_words(where)
    out = []
    for model in audio:
        entry = scored.get(model)
        line = (
            f"{display_name(model)} scores ROC AUC {fmt_auc(entry)} against the {labels} {where}: "
            f"{words[chance_status(entry, margin=margin)]}"
        )
        parts = []
        for key, fallback in (("vs_duration", "duration alone"), ("vs_best", None)):
            diff = (paired.get(model) or {}).get(key)
            if not diff or (
                key == "vs_best" and diff.get("other") == "duration" and "vs_duration" in paired[model]
            ):
                continue
            other = fallback or f"the best other model, {display_name(diff['other'])}"
            verb = {"beats": "beats", "unknown": "cannot be compared with"}.get(relation(diff))
            verb = verb or f"is {relation(diff)}"
            parts.append(f"it {verb} {other} (difference {fmt_diff(diff)})")
        out.append(line + ("; " + "; ".join(parts) if parts else "") + ".")
    return out


def _duration_findings(metrics: Mapping[str, Any], audio: list[str], *, margin: float) -> list[str]:
    scored, where = headline_aucs(metrics), _where(metrics)
    duration = scored.get("duration")
    status = chance_status(duration, margin=margin)
    words = _status_words(where)
    if status == "above":
        out = [
            f"**Duration alone predicts the label** {where}: the duration-only baseline scores "
            f"{fmt_auc(duration)}. Longer sentences carry more sentiment words, and the zero padding of "
            "short clips tells an audio model how long the speech was, so an audio model must beat this "
            "to show it hears more than length."
        ]
        paired = metrics.get("paired") or {}
        behind = [m for m in audio if relation((paired.get(m) or {}).get("vs_duration")) != "beats"]
        if behind:
            out.append(
                f"{_join([display_name(m) for m in behind])} {_plural(len(behind), 'does', 'do')} not beat "
                "duration alone (the paired difference interval holds 0 or lies below it)."
            )
        elif audio:
            out.append("Every audio model beats duration alone (paired difference intervals above 0).")
        return out
    if status in ("chance", "below"):
        return [
            f"Duration alone scores {fmt_auc(duration)} {where}, {words[status]}: sentence length does not "
            "explain the audio models' scores."
        ]
    if status == "undetermined":
        return [f"Duration alone scores {fmt_auc(duration)}: {words[status]}."]
    return []


#: Title of each kind of control run (:func:`control_kind`).
CONTROL_TITLES = {"full": "Negative control", "prosody": "Prosody control"}
#: What each kind of control run is, in the report's words.
CONTROL_TEXT = {
    "full": (
        "This run is the **negative control** (demo corpus with affect_strength 0 and spoken_words "
        "independent: no simulated affect, and the words heard are independent of the label, so "
        "nothing in the audio depends on it). "
    ),
    "prosody": (
        "This run is the **prosody control** (demo corpus with affect_strength 0: no simulated affect, "
        "but the audio speaks the transcript's words, which carry the sentiment, so a model that "
        "recognises words can score above chance; the full control adds demo.spoken_words: "
        "independent). "
    ),
}


def control_kind(demo: Mapping[str, Any] | None) -> str | None:
    """Which control a demo run is: ``"full"``, ``"prosody"`` or None (none).

    Parameters
    ----------
    demo
        The demo facts of an evaluation (``affect_strength``, ``spoken_words``), or None.

    Returns
    -------
    str or None
        ``"full"`` with ``affect_strength`` 0 and ``spoken_words: independent`` (nothing in the audio
        depends on the label); ``"prosody"`` with ``affect_strength`` 0 and the transcript's words
        (the words heard still carry the sentiment, so a model that recognises words can score above
        chance); None otherwise.
    """
    if demo is None or demo.get("affect_strength") is None or float(demo["affect_strength"]) != 0:
        return None
    return "full" if demo.get("spoken_words", "transcript") == "independent" else "prosody"


def _control_findings(metrics: Mapping[str, Any], *, margin: float, repeat_note: str) -> list[str]:
    kind = control_kind(metrics.get("data", {}).get("demo")) or "full"
    control, label = CONTROL_TEXT[kind], CONTROL_TITLES[kind].lower()
    scored = control_estimates(metrics)
    passed, reasons = control_check(metrics)
    tail = f" {repeat_note}" if repeat_note else ""
    audio = [m for m, info in (metrics.get("models") or {}).items() if info.get("audio")]
    if passed:
        loose = [m for m in audio if abs(scored[m]["auc"] - 0.5) > margin]
        if not loose:
            return [
                f"{control}It PASSED: all {len(audio)} audio models sit within {margin:g} of 0.5 and every "
                "interval holds 0.5, as it should."
            ]
        listed = _join([f"{display_name(m)} ({fmt_auc(scored.get(m))})" for m in loose])
        return [
            f"{control}It PASSED: every audio model's interval holds 0.5, but {listed} "
            f"{_plural(len(loose), 'lies', 'lie')} more than {margin:g} from it: the intervals are wide "
            "(a larger demo.videos narrows them)." + tail
        ]
    if all(r.endswith("has no interval to judge") for r in reasons):
        return [
            f"{control}It cannot be judged: {_join(reasons)} (too few speakers, or a class missing); "
            "raise demo.videos." + tail
        ]
    duration = chance_status(scored.get("duration"), margin=margin)
    if duration == "above":
        leak = (
            f" Duration alone scores {fmt_auc(scored.get('duration'))}, so padding length is a likely leak."
        )
    elif duration == "below":
        leak = (
            f" Duration alone scores {fmt_auc(scored.get('duration'))}, below chance too: sentence length "
            "relates to the class one way in training and the other way when scored, and padding shows "
            "length to every model (few speakers make such flips likely; raise demo.videos)."
        )
    else:
        leak = tail or " Look for speaker, loudness or recording differences between the classes."
    return [
        f"**The {label} FAILED**: {control}Yet {_join(reasons)}. These models hear something other "
        f"than affect.{leak}"
    ]


def _study_findings(metrics: Mapping[str, Any]) -> list[str]:
    kind = corpus_kind(metrics)
    if kind != "mosei":
        why = {
            "demo": "the demo corpus is synthetic speech with simulated affect, not CMU-MOSEI",
            "manifest": "this corpus is a recordings manifest with gold labels, "
            "not CMU-MOSEI with weak labels",
        }.get(kind, f"the corpus is {kind}, not CMU-MOSEI")
        return [f"No comparison with the original study (AUC 0.51 to 0.63 on CMU-MOSEI): {why}."]
    test = headline_aucs(metrics)
    where = _where(metrics)
    out = []
    head = test.get(STUDY_HEAD)
    if head and head.get("auc") is not None:
        study = STUDY_AUC[STUDY_HEAD]["test"]
        if head.get("low") is None:
            where_ = f"{'above' if study > head['auc'] else 'at or below'} ours (no interval to compare)"
        elif head["low"] <= study <= head["high"]:
            where_ = "inside our interval"
        else:
            where_ = "above our interval" if study > head["high"] else "below our interval"
        out.append(
            f"The original study reported test AUC {study:.2f} for the VGG16 head; ours ({where}) is "
            f"{fmt_auc(head)}, so theirs lies {where_}."
        )
    hard = [m for m in (model_name("random_forest", "mel_mean"), model_name("knn", "mel_mean")) if m in test]
    if hard:
        ours = _join(
            [f"{display_name(m)} {fmt_auc(test[m])} (study {STUDY_AUC[m]['test']:.2f})" for m in hard]
        )
        out.append(
            "The study scored RandomForest and KNN from hard 0/1 predictions, on a random split that put "
            f"the same speaker in train and test; scored with probabilities, speakers kept apart, {where}: "
            f"{ours}."
        )
    return out


def _prior_findings(metrics: Mapping[str, Any]) -> list[str]:
    """The class prior must score 0.5: pooled (holdout), or in every fold (kfold).

    Out of fold, each fold's constant is its own training prior, so pooling the folds' constants
    ranks folds against each other and need not give 0.5; every single fold must.
    """
    prior = headline_aucs(metrics).get("prior")
    if not prior or prior.get("auc") is None:
        return []
    folds = [e.get("auc") for e in ((metrics.get("per_fold") or {}).get("weak") or {}).get("prior", [])]
    if folds:
        if all(a is not None and abs(a - 0.5) < 1e-9 for a in folds):
            return [
                "The class-prior baseline scores 0.500 in every fold, as a constant score must (pooled out "
                f"of fold {prior['auc']:.3f}: each fold's constant is its own training prior, so pooling "
                "ranks the folds against each other; the other models' pooled AUCs carry a little of this "
                "too)."
            ]
        return [f"**Check the evaluation**: the class-prior baseline scores {folds} per fold, not 0.5."]
    if abs(prior["auc"] - 0.5) < 1e-9:
        return ["The class-prior baseline scores 0.500, as a constant score must."]
    return [f"**Check the evaluation**: the class-prior baseline scores {prior['auc']:.3f}, not 0.5."]


def verdict(metrics: Mapping[str, Any]) -> list[str]:
    """The plain-language verdict, one sentence group per finding, computed from the evaluation.

    Parameters
    ----------
    metrics
        From :func:`weaklabel.learn.evaluate.evaluate_models` (``evaluation.json``).

    Returns
    -------
    list of str
        Findings, most important first (markdown ``**bold**`` allowed).
    """
    margin = float(metrics.get("settings", {}).get("chance_margin", 0.05))
    models = metrics.get("models", {})
    audio = [m for m, info in models.items() if info.get("audio")]
    test = headline_aucs(metrics)
    where = _where(metrics)
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
    ceiling = [m for m in models if at_ceiling(test.get(m))]
    if ceiling:
        out.append(
            f"{_join([display_name(m) for m in ceiling])} {_plural(len(ceiling), 'sits', 'sit')} at the "
            "ceiling (AUC 1.000): the task is too easy to compare models, and the interval is uninformative."
        )
    out += _paired_findings(metrics, audio, margin=margin)
    if "duration" in models:
        out += _duration_findings(metrics, audio, margin=margin)
    out += _prior_findings(metrics)

    repeats = (data.get("repeated_text") or {}).get(metrics.get("headline", "test")) or {}
    repeat_note = ""
    if repeats.get("text_in_train"):
        k = repeats["text_in_train"]
        repeat_note = (
            f"{k} of the {repeats['clips']} labelled clips scored {where} "
            f"{_plural(k, 'repeats', 'repeat')} a transcript that is also read in the training part "
            "(by another speaker): an audio model can "
            "learn what a sentence sounds like, and so its label, without hearing any affect."
        )
    demo = data.get("demo")
    if demo is not None and demo.get("affect_strength") is not None:
        strength = float(demo["affect_strength"])
        if strength == 0:
            out += _control_findings(metrics, margin=margin, repeat_note=repeat_note)
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
                f"{mode} {fmt_auc(headline_aucs(metrics, f'gold_{mode}').get(model))}" for mode in modes
            )
            for model in _backbone_models(models) or audio[:1]
        ]
        out.append(f"Against gold sentiment {where}: {'; '.join(scores)}.")
    out += _study_findings(metrics)

    sizes = [(e.get("n", 0), e.get("n_groups", 0)) for e in test.values() if e]
    if sizes:
        n, groups = max(sizes)
        if n < SMALL_TEST["clips"] or groups < SMALL_TEST["speakers"]:
            out.append(
                f"Few clips were scored {where} ({n} labelled {_plural(n, 'clip', 'clips')} from {groups} "
                f"{_plural(groups, 'speaker', 'speakers')}): intervals are wide or missing, so read "
                "differences between models with care."
            )
    return out
