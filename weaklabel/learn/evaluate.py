"""Score every trained model, out of fold (``kfold``) or on validation and test (``holdout``).

Protocols (``evaluate.protocol``; the split stage makes the folds, :mod:`weaklabel.learn.split`):

``kfold`` (default)
    Every weakly labelled clip was scored once by the model fitted without its fold (the train
    stage's ``oof.parquet``). The headline AUC per model is the AUC of the pooled out-of-fold
    scores (scored set ``oof``), with a bootstrap interval that resamples speakers; the AUC of
    each fold is listed too.
``holdout``
    The final models score the ``valid`` and ``test`` splits; the headline is ``test``.

Targets:

``weak``
    The weak labels (abstained rows left out): what the models were trained to predict and what the
    original study reported.
``gold_has0`` and ``gold_non0``
    Gold sentiment binarised the two usual ways (:func:`weaklabel.sources.gold.binarize_gold`), on every
    scored row with gold (under ``holdout`` including rows whose weak label abstained; under
    ``kfold`` the out-of-fold rows, which are the labelled ones). Only when the segments carry gold.

Paired comparisons (:func:`paired_table`): each audio model against duration alone and against the
best other model, as the AUC difference on the same clips with a paired speaker-bootstrap interval
(:func:`weaklabel.metrics.paired_bootstrap_auc`); the verdict's words come from these intervals.

Outputs (:func:`weaklabel.report.evaluation.write_evaluation_report`): ``metrics.json`` (small and
flat, the DVC metrics: :func:`small_metrics`), ``evaluation.json`` (everything: intervals, folds,
paired differences, sample sizes, model facts; the report is written from it), ROC points per
scored set (``plots/roc_<set>.csv``, ``model, fpr, tpr``), ``roc.png``, ``scores.png``, and
``report.md`` and ``report.html``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weaklabel.errors import DataError, ParameterError
from weaklabel.features.identity import check_identity
from weaklabel.learn.dataset import (
    DURATION,
    Dataset,
    build_dataset,
    read_oof,
    row_counts,
    split_fingerprint,
)
from weaklabel.learn.split import DEFAULT_FOLDS, DEFAULT_PROTOCOL, check_protocol, read_split, split_summary
from weaklabel.metrics import bootstrap_auc, paired_bootstrap_auc, roc_auc, roc_points
from weaklabel.models.bundle import PLUS, load_model, read_bundle
from weaklabel.models.files import read_json
from weaklabel.report.diagnostics import weak_gold_agreement
from weaklabel.report.evaluation import write_evaluation_report
from weaklabel.sources.gold import BINARIZE_MODES, binarize_gold
from weaklabel.sources.mosei import read_corpus_facts
from weaklabel.tables import read_table

log = logging.getLogger(__name__)

#: Scored sets per protocol, the headline last: out of fold, or the holdout's validation and test.
SCORED_SETS = {"kfold": ("oof",), "holdout": ("valid", "test")}
#: Columns of the ROC points of one scored set (``plots/roc_<set>.csv``).
ROC_COLUMNS = ("model", "fpr", "tpr")


@dataclass(frozen=True)
class EvaluateConfig:
    """How models are scored and judged (the ``evaluate`` section of params.yaml).

    Attributes
    ----------
    n_boot
        Bootstrap replicates per AUC, >= 1 (1000 is plenty for a 95% interval).
    level
        Confidence level of the intervals, in (0, 1).
    seed
        Seed of the bootstrap resampling.
    protocol
        ``kfold`` (k speaker-grouped folds, every labelled clip scored out of fold) or
        ``holdout`` (train/valid/test). The split stage reads it to make the folds.
    folds
        k under ``kfold``, >= 2 (5 by default; 3 for quick runs).
    min_speakers
        Fewest speakers a scored set needs for a confidence interval, >= 2; with fewer the AUC is
        reported without one (a bootstrap over one or two speakers looks falsely certain).
    min_videos
        The former name of ``min_speakers`` (groups were videos); when set, it wins.
    chance_margin
        For the verdict: an AUC within this distance of 0.5 (or whose interval holds 0.5) is
        "near chance"; an audio model must beat duration alone by more than this. In [0, 0.5).
    gold_modes
        Gold binarisations to score against (``has0``, ``non0``); empty for none.
    """

    n_boot: int = 1000
    level: float = 0.95
    seed: int = 0
    protocol: str = DEFAULT_PROTOCOL
    folds: int = DEFAULT_FOLDS
    min_speakers: int = 5
    min_videos: int | None = None
    chance_margin: float = 0.05
    gold_modes: tuple[str, ...] = BINARIZE_MODES

    def __post_init__(self) -> None:
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int) or self.n_boot < 1:
            raise ParameterError(f"evaluate.n_boot must be an integer >= 1, got {self.n_boot!r}")
        if not 0 < self.level < 1:
            raise ParameterError(f"evaluate.level must lie in (0, 1), e.g. 0.95; got {self.level}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ParameterError(f"evaluate.seed must be an integer, got {self.seed!r}")
        check_protocol(self.protocol, self.folds)
        for name in ("min_speakers", "min_videos"):
            value = getattr(self, name)
            if name == "min_videos" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ParameterError(f"evaluate.{name} must be an integer >= 2, got {value!r}")
        if not 0 <= self.chance_margin < 0.5:
            raise ParameterError(f"evaluate.chance_margin must lie in [0, 0.5), got {self.chance_margin}")
        modes = (self.gold_modes,) if isinstance(self.gold_modes, str) else tuple(self.gold_modes or ())
        bad = [m for m in modes if m not in BINARIZE_MODES]
        if bad:
            raise ParameterError(f"evaluate.gold_modes must be some of {BINARIZE_MODES}, got {list(modes)}")
        object.__setattr__(self, "gold_modes", modes)

    @property
    def min_groups(self) -> int:
        """Fewest speakers for an interval: ``min_videos`` when set (former name), else ``min_speakers``."""
        return self.min_speakers if self.min_videos is None else self.min_videos

    @property
    def cv_folds(self) -> int | None:
        """The folds under ``kfold``, None under ``holdout`` (what :func:`~.split.make_split` takes)."""
        return check_protocol(self.protocol, self.folds)


def check_model_stores(entry: Mapping[str, Any], dataset: Dataset) -> str | None:
    """Check that the dataset holds the features a bundle entry was trained on; returns its source.

    Raises
    ------
    DataError
        If a store the model reads was not loaded, or was made differently (another backbone,
        other weights) from the one it was trained on.
    """
    name, source = entry.get("name"), entry.get("features")
    reads = source.split(PLUS) if source else []
    absent = [part for part in reads if part not in dataset.features]
    if absent:
        raise DataError(
            f"model {name!r} reads {', '.join(absent)} features, which were not loaded (have "
            f"{sorted(dataset.features)}); pass --store {absent[0]}=PATH"
        )
    identities = entry.get("feature_identity") or {}
    for store in (part for part in reads if part != DURATION):
        check_identity(
            identities.get(store, {}), dataset.metas[store], model=name, source=f"the {store} store"
        )
    return source


def score_models(models_dir: str | Path, dataset: Dataset, *, names: list[str] | None = None) -> pd.DataFrame:
    """P(positive) of every final model for every row of the ``valid`` and ``test`` splits with all features.

    Parameters
    ----------
    models_dir
        The models folder (with ``bundle.json``).
    dataset
        From :func:`weaklabel.learn.dataset.build_dataset`, with every source the models read.
    names
        Models to score (default: all in the bundle).

    Returns
    -------
    pandas.DataFrame
        Long table, one row per (model, segment): ``model``, ``segment_id``, ``speaker``,
        ``split`` (the scored set), ``score`` (float64 in [0, 1]).

    Raises
    ------
    DataError
        If a model's features are absent from the dataset or were made differently (another
        backbone, other weights) from those it was trained on.
    """
    bundle = read_bundle(models_dir)
    names = list(bundle["models"]) if names is None else names
    frame = dataset.frame
    scored = frame["split"].isin(SCORED_SETS["holdout"]).to_numpy()
    rows = np.flatnonzero(frame["has_features"].to_numpy() & scored)
    parts = []
    for name in names:
        source = check_model_stores(bundle["models"][name], dataset)
        model = load_model(models_dir, name)
        proba = model.predict_proba(dataset.X(source, rows))
        parts.append(
            pd.DataFrame(
                {
                    "model": name,
                    "segment_id": frame["segment_id"].to_numpy()[rows],
                    "speaker": frame["speaker"].to_numpy()[rows],
                    "split": frame["split"].to_numpy()[rows],
                    "score": proba[:, 1],
                }
            )
        )
        log.info("scored %s on %d rows", name, len(rows))
    if not parts:
        return pd.DataFrame(columns=["model", "segment_id", "speaker", "split", "score"])
    return pd.concat(parts, ignore_index=True)


def oof_scores(models_dir: str | Path, dataset: Dataset) -> pd.DataFrame:
    """The out-of-fold scores of the train stage (``kfold``), as :func:`score_models` shapes them.

    Parameters
    ----------
    models_dir
        The models folder (with ``oof.parquet``).
    dataset
        The evaluated dataset; scores of segments outside it are dropped.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``segment_id``, ``speaker``, ``split`` (``oof``), ``fold``, ``score``.

    Raises
    ------
    DataError
        If the models folder holds no out-of-fold scores, a labelled clip was scored twice, or a
        store differs from the one a model was trained on (:func:`check_model_stores`).
    """
    for entry in read_bundle(models_dir)["models"].values():
        check_model_stores(entry, dataset)
    scores = read_oof(models_dir)
    scores = scores[scores["segment_id"].isin(dataset.frame["segment_id"])].copy()
    if scores.duplicated(["model", "segment_id"]).any():
        raise DataError(f"{models_dir}: a clip was scored out of fold twice; re-run the train stage")
    scores.insert(3, "split", "oof")
    return scores.reset_index(drop=True)


def _targets(dataset: Dataset, *, gold_modes: tuple[str, ...]) -> dict[str, pd.Series]:
    """Target name -> binary target (float, NaN where undefined) indexed by segment_id."""
    frame = dataset.frame
    ids = frame["segment_id"].to_numpy()
    weak = np.where(frame["reason"].to_numpy() == "used", frame["label"].to_numpy(dtype=np.float64), np.nan)
    targets = {"weak": pd.Series(weak, index=ids)}
    gold = frame["gold_sentiment"].to_numpy(dtype=np.float64)
    if np.isfinite(gold).any():
        for mode in gold_modes:
            targets[f"gold_{mode}"] = pd.Series(binarize_gold(gold, mode=mode), index=ids)
    return targets


def _sets(scores: pd.DataFrame) -> list[str]:
    """The scored sets present, in :data:`SCORED_SETS` order (the headline last)."""
    order = [name for sets in SCORED_SETS.values() for name in sets]
    return [name for name in order if (scores["split"] == name).any()]


def _scored(scores: pd.DataFrame, target: pd.Series) -> Iterator[tuple[str, str, np.ndarray, pd.DataFrame]]:
    """``(set, model, y, rows)`` per scored set and model, in the scores' order.

    ``y`` is ``target`` on the model's scored rows of that set, and ``rows`` those rows of
    ``scores``, both restricted to where the target is defined (not NaN).
    """
    for name in _sets(scores):
        for model, rows in scores[scores["split"] == name].groupby("model", sort=False):
            y = target.reindex(rows["segment_id"]).to_numpy()
            keep = ~np.isnan(y)
            yield name, model, y[keep], rows[keep]


def auc_table(scores: pd.DataFrame, dataset: Dataset, *, config: EvaluateConfig) -> dict[str, Any]:
    """ROC AUC with a speaker-grouped bootstrap interval, per target, scored set and model.

    Parameters
    ----------
    scores
        From :func:`score_models` or :func:`oof_scores`.
    dataset
        The dataset the scores came from.
    config
        Bootstrap size, level, seed and fewest speakers.

    Returns
    -------
    dict
        ``{target: {set: {model: AucEstimate.to_dict()}}}`` for targets ``weak`` and, with gold,
        ``gold_has0``/``gold_non0``; sets ``oof`` (kfold) or ``valid`` and ``test`` (holdout).
    """
    out: dict[str, Any] = {}
    for target, y_all in _targets(dataset, gold_modes=config.gold_modes).items():
        out[target] = {name: {} for name in _sets(scores)}
        for name, model, y, rows in _scored(scores, y_all):
            estimate = bootstrap_auc(
                y,
                rows["score"].to_numpy(),
                groups=rows["speaker"].to_numpy(),
                n_boot=config.n_boot,
                level=config.level,
                seed=config.seed,
                min_groups=config.min_groups,
            )
            out[target][name][model] = estimate.to_dict()
    return out


def simultaneous_table(
    scores: pd.DataFrame, dataset: Dataset, *, audio: list[str], headline: str, config: EvaluateConfig
) -> dict[str, Any]:
    """Simultaneous intervals of the audio models' headline AUCs (Bonferroni over the models).

    Judging m models by m separate 95% intervals fails a true null far more often than 1 time in 20
    (up to 1 - 0.95^m: 37% for 9 independent models), so the negative control judges every audio
    model by an interval at level ``1 - (1 - level) / m``: all m hold the truth at least ``level`` of
    the time. Same bootstrap (resampling speakers, same seed) as :func:`auc_table`.

    Parameters
    ----------
    scores, dataset, config
        As in :func:`auc_table`.
    audio
        The audio models (the family judged together).
    headline
        The scored set judged (``oof`` or ``test``).

    Returns
    -------
    dict
        ``{"level": float, "models": {model: AucEstimate.to_dict()}}`` against the weak labels.
    """
    level = 1 - (1 - config.level) / max(len(audio), 1)
    weak = _targets(dataset, gold_modes=())["weak"]
    models = {}
    for name, model, y, rows in _scored(scores, weak):
        if name == headline and model in audio:
            models[model] = bootstrap_auc(
                y,
                rows["score"].to_numpy(),
                groups=rows["speaker"].to_numpy(),
                n_boot=config.n_boot,
                level=level,
                seed=config.seed,
                min_groups=config.min_groups,
            ).to_dict()
    return {"level": level, "models": models}


def fold_table(scores: pd.DataFrame, dataset: Dataset, *, config: EvaluateConfig) -> dict[str, Any]:
    """The AUC of each fold (no interval: a fold holds a few speakers), per target and model.

    Parameters
    ----------
    scores
        From :func:`oof_scores` (with ``fold``); other scores give ``{}``.
    dataset, config
        As in :func:`auc_table`.

    Returns
    -------
    dict
        ``{target: {model: [{"fold": k, "auc": float or None, "n": int, "n_groups": int}, ...]}}``.
    """
    if "fold" not in scores.columns:
        return {}
    out: dict[str, Any] = {}
    for target, y_all in _targets(dataset, gold_modes=config.gold_modes).items():
        out[target] = {}
        for _, model, y, rows in _scored(scores, y_all):
            entries = []
            for k in sorted(rows["fold"].unique()):
                at = (rows["fold"] == k).to_numpy()
                auc = roc_auc(y[at], rows["score"].to_numpy()[at])
                entries.append(
                    {
                        "fold": int(k),
                        "auc": None if np.isnan(auc) else round(auc, 4),
                        "n": int(at.sum()),
                        "n_groups": int(rows["speaker"][at].nunique()),
                    }
                )
            out[target][model] = entries
    return out


def paired_table(
    scores: pd.DataFrame,
    dataset: Dataset,
    *,
    audio: list[str],
    headline: Mapping[str, Any],
    config: EvaluateConfig,
) -> dict[str, Any]:
    """Each audio model against duration alone and against the best other model, on the same clips.

    The difference of AUCs against the weak labels on the headline set, with a paired
    speaker-bootstrap interval (:func:`weaklabel.metrics.paired_bootstrap_auc`): above 0, the audio
    model beats the other; below 0, it is worse; containing 0, no better.

    Parameters
    ----------
    scores
        The scores of the headline set (and maybe others).
    dataset
        The dataset the scores came from.
    audio
        The audio models (those that hear the recordings).
    headline
        ``{model: estimate}`` of the headline set against the weak labels: the best other model is
        the one with the highest AUC there (not the model itself, not the class prior).
    config
        Bootstrap settings.

    Returns
    -------
    dict
        ``{model: {"vs_duration": diff, "vs_best": diff}}``, each diff
        :meth:`~weaklabel.metrics.AucDifference.to_dict` plus ``other`` (the model compared with);
        a comparison is missing when its other model was not scored.
    """
    name = _sets(scores)[-1] if len(scores) else None
    if name is None:
        return {}
    y_all = _targets(dataset, gold_modes=())["weak"]
    wide = scores[scores["split"] == name].pivot_table(
        index="segment_id", columns="model", values="score", aggfunc="first"
    )
    speaker = scores.drop_duplicates("segment_id").set_index("segment_id")["speaker"]
    ranked = sorted(
        (m for m, e in headline.items() if m != "prior" and (e or {}).get("auc") is not None),
        key=lambda m: -headline[m]["auc"],
    )
    out: dict[str, Any] = {}
    for model in (m for m in audio if m in wide.columns):
        others = {"vs_duration": "duration" if "duration" in wide.columns else None}
        others["vs_best"] = next((m for m in ranked if m != model and m in wide.columns), None)
        out[model] = {}
        for key, other in others.items():
            if other is None:
                continue
            pair = wide[[model, other]].dropna()
            y = y_all.reindex(pair.index).to_numpy()
            keep = ~np.isnan(y)
            diff = paired_bootstrap_auc(
                y[keep],
                pair[model].to_numpy()[keep],
                pair[other].to_numpy()[keep],
                groups=speaker.reindex(pair.index[keep]).to_numpy(),
                n_boot=config.n_boot,
                level=config.level,
                seed=config.seed,
                min_groups=config.min_groups,
            )
            out[model][key] = {"other": other, **diff.to_dict()}
    return out


def roc_tables(scores: pd.DataFrame, dataset: Dataset) -> dict[str, pd.DataFrame]:
    """ROC curve points against the weak labels, one table per scored set.

    Parameters
    ----------
    scores, dataset
        As in :func:`auc_table`.

    Returns
    -------
    dict
        Scored set (``oof``; ``valid``, ``test``) -> table with columns :data:`ROC_COLUMNS`; a
        model lacking a class in a set has no rows there.
    """
    parts: dict[str, list[pd.DataFrame]] = {name: [] for name in _sets(scores)}
    for name, model, y, rows in _scored(scores, _targets(dataset, gold_modes=())["weak"]):
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr = roc_points(y, rows["score"].to_numpy())
        parts[name].append(pd.DataFrame({"model": model, "fpr": fpr, "tpr": tpr}))
    return {
        name: pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(ROC_COLUMNS))
        for name, tables in parts.items()
    }


def repeated_text(dataset: Dataset, segments: pd.DataFrame) -> dict[str, dict[str, int]]:
    """How many weakly labelled scored clips repeat a transcript that the model scoring them trained on.

    The split keeps speakers apart, not sentences: when the same sentence is read by several
    speakers (the demo corpus draws sentences from one pool), an audio model can learn what a
    sentence sounds like, and so its weak label, without hearing any affect.

    Parameters
    ----------
    dataset
        The evaluated dataset.
    segments
        The segments table with ``text``.

    Returns
    -------
    dict
        ``{set: {"clips": n, "text_in_train": k}}``: under ``kfold`` set ``oof`` (each fold's
        clips against the other folds' training rows), under ``holdout`` ``valid`` and ``test``
        (against the train split); used rows only, transcripts compared after lower-casing and
        collapsing white space. Empty without text.
    """
    if "text" not in segments.columns:
        return {}
    text = segments.drop_duplicates("segment_id").set_index("segment_id")["text"]
    key = (
        text.reindex(dataset.frame["segment_id"]).fillna("").astype(str).str.lower().str.split().str.join(" ")
    ).to_numpy()
    split, fold = dataset.frame["split"].to_numpy(), dataset.frame["fold"].to_numpy()
    used = (dataset.frame["reason"] == "used").to_numpy() & (key != "")
    if dataset.protocol == "kfold":
        clips = repeats = 0
        for k in dataset.folds:
            seen = set(key[(fold >= 0) & (fold != k) & (split == "train") & (key != "")])
            rows = used & (fold == k)
            clips += int(rows.sum())
            repeats += int(sum(t in seen for t in key[rows]))
        return {"oof": {"clips": clips, "text_in_train": repeats}}
    seen = set(key[(split == "train") & (key != "")])
    out = {}
    for name in SCORED_SETS["holdout"]:
        rows = used & (split == name)
        out[name] = {"clips": int(rows.sum()), "text_in_train": int(sum(k in seen for k in key[rows]))}
    return out


def describe_data(
    dataset: Dataset, *, segments: pd.DataFrame | None, corpus: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What was evaluated: corpus kind, counts, gold, clip format.

    Parameters
    ----------
    dataset
        The evaluated dataset.
    segments
        The segments table (for the corpus folder), or None.
    corpus
        Ingest's ``corpus.json`` (:func:`weaklabel.sources.mosei.corpus_facts`), or None (taken
        for a CMU-MOSEI-layout corpus).

    Returns
    -------
    dict
        ``kind`` (``demo``, ``mosei``, ``manifest``), ``corpus`` (text), ``groups`` (what a
        speaker is: ``speakers.csv``, ``video``, ``group``), ``audio_root`` (common folder of the
        audio, or None), ``segments``, ``videos``, ``speakers``, ``gold_segments``, ``clip``,
        ``demo`` (None or ``affect_strength``, ``spoken_words`` and counts), ``repeated_text``
        (:func:`repeated_text`).
    """
    frame = dataset.frame
    corpus = dict(corpus or {"kind": "mosei", "speakers": "video"})
    audio_root = None
    if segments is not None and "audio_path" in segments.columns:
        paths = segments["audio_path"].dropna().astype(str)
        if len(paths):
            try:
                audio_root = os.path.commonpath(sorted({str(Path(p).parent) for p in paths}))
            except ValueError:  # relative and absolute paths mixed, or other drives
                audio_root = None
    kind = corpus.get("kind", "mosei")
    names = {
        "demo": corpus.get("corpus", "weaklabel demo corpus"),
        "mosei": "a CMU-MOSEI-layout corpus",
        "manifest": "a recordings manifest ("
        + (", ".join(corpus.get("corpora") or []) or "corpora unnamed")
        + "), gold labels",
    }
    return {
        "kind": kind,
        "corpus": names.get(kind, kind),
        "groups": corpus.get("speakers", "video"),
        "audio_root": audio_root,
        "segments": len(frame),
        "videos": int(frame["video"].nunique()),
        "speakers": int(frame["speaker"].nunique()),
        "gold_segments": int(np.isfinite(frame["gold_sentiment"].to_numpy(dtype=np.float64)).sum()),
        "clip": dataset.clip,
        "repeated_text": repeated_text(dataset, segments) if segments is not None else {},
        "demo": None
        if kind != "demo"
        else {
            "affect_strength": corpus.get("affect_strength"),
            "spoken_words": corpus.get("spoken_words", "transcript"),
            "counts": corpus.get("counts", {}),
        },
    }


#: What ``fit`` chose that the report shows, from a bundle entry's ``fitted``.
FIT_FACTS = ("best_epoch", "C", "C_selection", "C_note", "inner_folds", "Cs", "cv_auc")


def model_facts(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A bundle entry's facts for the metrics and the report.

    Parameters
    ----------
    entry
        One model of ``bundle.json``'s ``models``.

    Returns
    -------
    dict
        ``kind``, ``features``, ``stores``, ``audio``, ``description``, rows and classes, sample
        weighting, and ``fit``: what ``fit`` chose (:data:`FIT_FACTS` present in ``fitted``:
        a dense head's ``best_epoch``; a logistic regression's ``C``, how it was chosen, the inner
        folds and the inner AUC per grid value).
    """
    keys = ("kind", "features", "stores", "audio", "description", "n_train", "n_valid", "train_classes")
    fitted = entry.get("fitted") or {}
    return {key: entry.get(key) for key in (*keys, "sample_weight")} | {
        "fit": {key: fitted[key] for key in FIT_FACTS if key in fitted}
    }


def small_metrics(evaluation: Mapping[str, Any]) -> dict[str, float | int]:
    """The DVC metrics: a small flat mapping of numbers from the full evaluation.

    Parameters
    ----------
    evaluation
        From :func:`evaluate_models`.

    Returns
    -------
    dict
        ``auc.<model>.weak`` (headline AUC against the weak labels), ``auc.<model>.gold`` (against
        the first gold mode, only with gold), ``clips`` and ``speakers`` (labelled clips scored and
        their speakers, on the headline set). Everything else stays in ``evaluation.json``.
    """
    headline = evaluation["headline"]
    aucs = evaluation.get("auc", {})
    gold = next((f"gold_{m}" for m in evaluation["settings"]["gold_modes"] if f"gold_{m}" in aucs), None)
    out: dict[str, float | int] = {}
    for model in evaluation.get("models", {}):
        for key, target in (("weak", "weak"), ("gold", gold)):
            value = (
                ((aucs.get(target) or {}).get(headline, {}).get(model) or {}).get("auc") if target else None
            )
            if value is not None:
                out[f"auc.{model}.{key}"] = value
    scored = [e for e in aucs.get("weak", {}).get(headline, {}).values() if e]
    out["clips"] = max((e["n"] for e in scored), default=0)
    out["speakers"] = max((e["n_groups"] for e in scored), default=0)
    return out


def evaluate_models(
    models_dir: str | Path,
    dataset: Dataset,
    *,
    config: EvaluateConfig,
    segments: pd.DataFrame | None = None,
    corpus: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, pd.DataFrame]]:
    """Score every model and compute the evaluation the report is written from.

    Under ``kfold`` (the split has folds) the scores are the train stage's out-of-fold scores;
    under ``holdout`` the final models score ``valid`` and ``test``.

    Parameters
    ----------
    models_dir
        The models folder.
    dataset
        From :func:`weaklabel.learn.dataset.build_dataset` (the same split the models were trained on).
    config
        Bootstrap and verdict settings.
    segments
        The segments table, to describe the corpus.
    corpus
        Ingest's ``corpus.json`` (:func:`weaklabel.sources.mosei.read_corpus_facts`).

    Returns
    -------
    evaluation : dict
        ``protocol``, ``folds``, ``headline`` (the scored set the verdict reads: ``oof`` or
        ``test``), ``auc`` (:func:`auc_table`), ``per_fold`` (:func:`fold_table`), ``paired``
        (:func:`paired_table`), ``simultaneous`` (:func:`simultaneous_table`), ``rows``
        (:func:`~weaklabel.learn.dataset.row_counts`), ``classes`` (per split and fold), ``models``
        (:func:`model_facts`), ``skipped`` (models not trained, name -> reason), ``features`` (each
        store's identity), ``data`` (:func:`describe_data`), ``settings``.
    scores : pandas.DataFrame
        From :func:`oof_scores` or :func:`score_models`.
    roc : dict
        From :func:`roc_tables`.

    Raises
    ------
    DataError
        If models and features disagree, or out-of-fold scores are missing.
    """
    bundle = read_bundle(models_dir)
    protocol = dataset.protocol
    if protocol != config.protocol:
        log.warning(
            "evaluate.protocol is %s but the split is %s: evaluating as the split says "
            "(re-run the split stage to change it)",
            config.protocol,
            protocol,
        )
    scores = oof_scores(models_dir, dataset) if protocol == "kfold" else score_models(models_dir, dataset)
    headline = SCORED_SETS[protocol][-1]
    aucs = auc_table(scores, dataset, config=config)
    models = {name: model_facts(entry) for name, entry in bundle["models"].items()}
    audio = [m for m, info in models.items() if info.get("audio")]
    frame = dataset.frame
    evaluation = {
        "protocol": protocol,
        "folds": len(dataset.folds),
        "headline": headline,
        "auc": aucs,
        "per_fold": fold_table(scores, dataset, config=config),
        "paired": paired_table(
            scores, dataset, audio=audio, headline=aucs.get("weak", {}).get(headline, {}), config=config
        ),
        "simultaneous": simultaneous_table(scores, dataset, audio=audio, headline=headline, config=config),
        "rows": row_counts(dataset),
        "classes": split_summary(frame, frame[["segment_id", "label"]]),
        "models": models,
        "skipped": dict(bundle.get("skipped") or {}),
        "features": {source: dict(meta) for source, meta in dataset.metas.items() if source != DURATION},
        "data": describe_data(dataset, segments=segments, corpus=corpus),
        "settings": {
            **asdict(config),
            "min_groups": config.min_groups,
            "gold_modes": list(config.gold_modes),
            "train_seed": bundle.get("seed"),
        },
    }
    return evaluation, scores, roc_tables(scores, dataset)


def evaluate_from_paths(
    *,
    models: str | Path,
    labels: str | Path,
    split: str | Path,
    clips: str | Path | None,
    segments: str | Path | None,
    stores: Mapping[str, str | Path],
    out: str | Path,
    config: EvaluateConfig,
    corpus: str | Path | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Read everything, evaluate every model, write the metrics, plots and report (the evaluate stage).

    Parameters
    ----------
    models
        The models folder written by the train stage.
    labels, split, clips, segments
        ``labels.parquet``, ``split.parquet``, ``clips.parquet`` (for the duration baseline) and
        ``segments.parquet`` (for gold and the corpus description; None for neither).
    stores
        Store name -> folder, for every store the trained models read.
    out
        The reports folder.
    config
        Bootstrap and verdict settings.
    corpus
        Ingest's ``corpus.json`` (what the corpus is: demo, CMU-MOSEI, manifest); None or absent:
        taken for a CMU-MOSEI-layout corpus, with a warning.
    provenance
        From :func:`weaklabel.provenance.provenance` (commit, packages, params hash, date), for the
        report and ``evaluation.json``; None leaves it out.

    Returns
    -------
    dict
        Output name -> path (:data:`weaklabel.report.evaluation.OUTPUT_FILES`, the ROC tables,
        ``md``, ``html``).

    Raises
    ------
    DataError
        If an input is missing, the split is not the one the models were trained on, or a store
        differs from the one a model was trained on.
    """
    bundle = read_bundle(models)
    sources = list(dict.fromkeys(e["features"] for e in bundle["models"].values() if e.get("features")))
    split_table = read_split(split)
    trained_on = bundle.get("split_fingerprint")
    if trained_on and trained_on != split_fingerprint(split_table):
        raise DataError(
            f"the models in {models} were trained on another split than {split}: re-run the train stage "
            "(dvc repro train) so that training and evaluation share one split"
        )
    segments_table = read_table(segments) if segments is not None else None
    dataset = build_dataset(
        split_table,
        read_table(labels),
        stores=stores,
        clips=read_table(clips) if clips is not None else None,
        segments=segments_table,
        sources=sources,
    )
    evaluation, scores, roc = evaluate_models(
        models, dataset, config=config, segments=segments_table, corpus=read_corpus_facts(corpus)
    )
    targets = _targets(dataset, gold_modes=config.gold_modes)
    weak = targets.pop("weak")
    agreement = {
        f"gold {name[len('gold_') :]}": weak_gold_agreement(weak, gold) for name, gold in targets.items()
    }
    return write_evaluation_report(
        evaluation,
        out,
        metrics=small_metrics(evaluation),
        scores=scores,
        roc=roc,
        weak=weak,
        histories=dense_histories(models, bundle),
        agreement=agreement or None,
        provenance=provenance,
    )


def dense_histories(models: str | Path, bundle: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each dense network's per-epoch history (its final fit), read from its ``model.json``.

    Parameters
    ----------
    models
        The models folder.
    bundle
        Its ``bundle.json`` (:func:`weaklabel.models.bundle.read_bundle`).

    Returns
    -------
    dict
        Model name -> history (``epoch``, ``loss``, ``val_auc`` ...), for models that keep one.
    """
    histories = {}
    for name, entry in bundle["models"].items():
        path = Path(models) / entry["path"] / "model.json"
        fitted = read_json(path).get("fitted", {}) if path.is_file() else {}
        if isinstance(fitted, Mapping) and fitted.get("history"):
            histories[name] = list(fitted["history"])
    return histories
