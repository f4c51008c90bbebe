"""Score every trained model on validation and test, with confidence intervals resampled by video.

Targets:

``weak``
    The weak labels (abstained rows left out): what the models were trained to predict and what the
    original study reported.
``gold_has0`` and ``gold_non0``
    Gold sentiment binarised the two usual ways (:func:`weaklabel.sources.gold.binarize_gold`), on every
    scored row with gold, including rows whose weak label abstained. Only when the segments carry gold.

Outputs (:func:`weaklabel.report.evaluation.write_evaluation_report`): ``metrics.json`` (DVC
metrics), ``roc.csv`` (``model, split, fpr, tpr`` against the weak labels, DVC plots), ``roc.png`` (ROC
curves per split), ``scores.png`` (distributions of each model's test scores per weak-label class),
and ``report.md`` and ``report.html``, written from the metrics.
"""

from __future__ import annotations

import json
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
    row_counts,
    split_fingerprint,
)
from weaklabel.learn.split import read_split, split_summary
from weaklabel.metrics import bootstrap_auc, roc_points
from weaklabel.models.bundle import PLUS, load_model, read_bundle
from weaklabel.report.evaluation import write_evaluation_report
from weaklabel.sources.gold import BINARIZE_MODES, binarize_gold
from weaklabel.tables import read_table

log = logging.getLogger(__name__)

#: Splits every model is scored on.
EVAL_SPLITS = ("valid", "test")
#: Columns of ``roc.csv``.
ROC_COLUMNS = ("model", "split", "fpr", "tpr")


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
    min_videos
        Fewest videos a split needs for a confidence interval, >= 2; with fewer the AUC is
        reported without one (a bootstrap over one or two videos looks falsely certain).
    chance_margin
        For the verdict: an AUC within this distance of 0.5 (or whose interval holds 0.5) is
        "near chance"; an audio model must beat duration alone by more than this. In [0, 0.5).
    gold_modes
        Gold binarisations to score against (``has0``, ``non0``); empty for none.
    """

    n_boot: int = 1000
    level: float = 0.95
    seed: int = 0
    min_videos: int = 5
    chance_margin: float = 0.05
    gold_modes: tuple[str, ...] = BINARIZE_MODES

    def __post_init__(self) -> None:
        if isinstance(self.n_boot, bool) or not isinstance(self.n_boot, int) or self.n_boot < 1:
            raise ParameterError(f"evaluate.n_boot must be an integer >= 1, got {self.n_boot!r}")
        if not 0 < self.level < 1:
            raise ParameterError(f"evaluate.level must lie in (0, 1), e.g. 0.95; got {self.level}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ParameterError(f"evaluate.seed must be an integer, got {self.seed!r}")
        if isinstance(self.min_videos, bool) or not isinstance(self.min_videos, int) or self.min_videos < 2:
            raise ParameterError(f"evaluate.min_videos must be an integer >= 2, got {self.min_videos!r}")
        if not 0 <= self.chance_margin < 0.5:
            raise ParameterError(f"evaluate.chance_margin must lie in [0, 0.5), got {self.chance_margin}")
        modes = (self.gold_modes,) if isinstance(self.gold_modes, str) else tuple(self.gold_modes or ())
        bad = [m for m in modes if m not in BINARIZE_MODES]
        if bad:
            raise ParameterError(f"evaluate.gold_modes must be some of {BINARIZE_MODES}, got {list(modes)}")
        object.__setattr__(self, "gold_modes", modes)


def score_models(models_dir: str | Path, dataset: Dataset, *, names: list[str] | None = None) -> pd.DataFrame:
    """P(positive) of every model for every row of the dataset that has all features.

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
        Long table, one row per (model, segment): ``model``, ``segment_id``, ``video``,
        ``split``, ``score`` (float64 in [0, 1]).

    Raises
    ------
    DataError
        If a model's features are absent from the dataset or were made differently (another
        backbone, other weights) from those it was trained on.
    """
    bundle = read_bundle(models_dir)
    names = list(bundle["models"]) if names is None else names
    frame = dataset.frame
    rows = np.flatnonzero(frame["has_features"].to_numpy())
    parts = []
    for name in names:
        entry = bundle["models"][name]
        source = entry.get("features")
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
        model = load_model(models_dir, name)
        proba = model.predict_proba(dataset.X(source, rows))
        parts.append(
            pd.DataFrame(
                {
                    "model": name,
                    "segment_id": frame["segment_id"].to_numpy()[rows],
                    "video": frame["video"].to_numpy()[rows],
                    "split": frame["split"].to_numpy()[rows],
                    "score": proba[:, 1],
                }
            )
        )
        log.info("scored %s on %d rows", name, len(rows))
    if not parts:
        return pd.DataFrame(columns=["model", "segment_id", "video", "split", "score"])
    return pd.concat(parts, ignore_index=True)


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


def _scored(scores: pd.DataFrame, target: pd.Series) -> Iterator[tuple[str, str, np.ndarray, pd.DataFrame]]:
    """``(split, model, y, rows)`` per split of :data:`EVAL_SPLITS` and model, in the scores' order.

    ``y`` is ``target`` on the model's scored rows of that split, and ``rows`` those rows of
    ``scores``, both restricted to where the target is defined (not NaN).
    """
    for split in EVAL_SPLITS:
        for model, rows in scores[scores["split"] == split].groupby("model", sort=False):
            y = target.reindex(rows["segment_id"]).to_numpy()
            keep = ~np.isnan(y)
            yield split, model, y[keep], rows[keep]


def auc_table(scores: pd.DataFrame, dataset: Dataset, *, config: EvaluateConfig) -> dict[str, Any]:
    """ROC AUC with a video-grouped bootstrap interval, per target, split and model.

    Parameters
    ----------
    scores
        From :func:`score_models`.
    dataset
        The dataset the scores came from.
    config
        Bootstrap size, level and seed.

    Returns
    -------
    dict
        ``{target: {split: {model: AucEstimate.to_dict()}}}`` for targets ``weak`` and, with gold,
        ``gold_has0``/``gold_non0``; splits ``valid`` and ``test``.
    """
    out: dict[str, Any] = {}
    for target, y_all in _targets(dataset, gold_modes=config.gold_modes).items():
        out[target] = {split: {} for split in EVAL_SPLITS}
        for split, model, y, rows in _scored(scores, y_all):
            estimate = bootstrap_auc(
                y,
                rows["score"].to_numpy(),
                groups=rows["video"].to_numpy(),
                n_boot=config.n_boot,
                level=config.level,
                seed=config.seed,
                min_groups=config.min_videos,
            )
            out[target][split][model] = estimate.to_dict()
    return out


def roc_table(scores: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """ROC curve points against the weak labels, per model and split.

    Parameters
    ----------
    scores, dataset
        As in :func:`auc_table`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ROC_COLUMNS`; a (model, split) lacking a class has no rows.
    """
    parts = []
    for split, model, y, rows in _scored(scores, _targets(dataset, gold_modes=())["weak"]):
        if len(np.unique(y)) < 2:
            continue
        fpr, tpr = roc_points(y, rows["score"].to_numpy())
        parts.append(pd.DataFrame({"model": model, "split": split, "fpr": fpr, "tpr": tpr}))
    if not parts:
        return pd.DataFrame(columns=list(ROC_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def read_demo(path: str | Path | None, segments: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """The demo corpus summary (``demo.json``), if the evaluated segments come from that corpus.

    Parameters
    ----------
    path
        ``demo.json`` written by the demo stage, or None.
    segments
        The segments table: the summary counts only when the audio files lie under ``path``'s
        folder (a ``demo.json`` beside another corpus is ignored).

    Returns
    -------
    dict or None
        The summary (``affect_strength``, ``counts``, ...) or None when not the demo.

    Raises
    ------
    DataError
        If the file exists but is not JSON.
    """
    if path is None or not Path(path).is_file():
        return None
    try:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not JSON ({error}); expected the demo stage's demo.json") from error
    if segments is not None and "audio_path" in segments.columns:
        root = Path(path).resolve().parent
        audio = segments["audio_path"].dropna().astype(str)
        inside = audio.map(lambda p: Path(p).resolve().is_relative_to(root))
        if audio.empty or not inside.all():
            log.info("%s ignored: the evaluated segments are not (all) from that demo corpus", path)
            return None
    return summary


def repeated_text(dataset: Dataset, segments: pd.DataFrame) -> dict[str, dict[str, int]]:
    """How many weakly labelled valid/test clips repeat a transcript that is also in the train split.

    The split keeps speakers (videos) apart, not sentences: when the same sentence is read in
    several videos (the demo corpus draws sentences from one pool), an audio model can learn what a
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
        ``{split: {"clips": n, "text_in_train": k}}`` for ``valid`` and ``test`` (used rows only;
        transcripts compared after lower-casing and collapsing white space). Empty without text.
    """
    if "text" not in segments.columns:
        return {}
    text = segments.drop_duplicates("segment_id").set_index("segment_id")["text"]
    key = (
        text.reindex(dataset.frame["segment_id"]).fillna("").astype(str).str.lower().str.split().str.join(" ")
    )
    key = key.to_numpy()
    split = dataset.frame["split"].to_numpy()
    used = (dataset.frame["reason"] == "used").to_numpy() & (key != "")
    seen = set(key[(split == "train") & (key != "")])
    out = {}
    for name in EVAL_SPLITS:
        rows = used & (split == name)
        out[name] = {"clips": int(rows.sum()), "text_in_train": int(sum(k in seen for k in key[rows]))}
    return out


def describe_data(
    dataset: Dataset, *, segments: pd.DataFrame | None, demo: dict[str, Any] | None
) -> dict[str, Any]:
    """What was evaluated: corpus, counts, gold, clip format.

    Parameters
    ----------
    dataset
        The evaluated dataset.
    segments
        The segments table (for the corpus folder), or None.
    demo
        From :func:`read_demo`.

    Returns
    -------
    dict
        ``corpus`` (text), ``audio_root`` (common folder of the audio, or None), ``segments``,
        ``videos``, ``gold_segments``, ``clip``, ``demo`` (None or ``affect_strength`` and counts),
        ``repeated_text`` (:func:`repeated_text`).
    """
    frame = dataset.frame
    audio_root = None
    if segments is not None and "audio_path" in segments.columns:
        paths = segments["audio_path"].dropna().astype(str)
        if len(paths):
            try:
                audio_root = os.path.commonpath(sorted({str(Path(p).parent) for p in paths}))
            except ValueError:  # relative and absolute paths mixed, or other drives
                audio_root = None
    corpus = demo.get("corpus", "weaklabel demo corpus") if demo else "a CMU-MOSEI-layout corpus"
    return {
        "corpus": corpus,
        "audio_root": audio_root,
        "segments": len(frame),
        "videos": int(frame["video"].nunique()),
        "gold_segments": int(np.isfinite(frame["gold_sentiment"].to_numpy(dtype=np.float64)).sum()),
        "clip": dataset.clip,
        "repeated_text": repeated_text(dataset, segments) if segments is not None else {},
        "demo": None
        if demo is None
        else {"affect_strength": demo.get("affect_strength"), "counts": demo.get("counts", {})},
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


def evaluate_models(
    models_dir: str | Path,
    dataset: Dataset,
    *,
    config: EvaluateConfig,
    segments: pd.DataFrame | None = None,
    demo: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Score every model and compute the metrics the report is written from.

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
    demo
        From :func:`read_demo`.

    Returns
    -------
    metrics : dict
        ``auc`` (:func:`auc_table`), ``rows`` (:func:`~weaklabel.learn.dataset.row_counts`), ``classes``
        (per split), ``models`` (:func:`model_facts`), ``skipped`` (models not trained, name -> reason),
        ``features`` (each store's identity), ``data``
        (:func:`describe_data`), ``settings``.
    scores : pandas.DataFrame
        From :func:`score_models`.
    roc : pandas.DataFrame
        From :func:`roc_table`.

    Raises
    ------
    DataError
        If models and features disagree.
    """
    bundle = read_bundle(models_dir)
    scores = score_models(models_dir, dataset)
    aucs = auc_table(scores, dataset, config=config)
    roc = roc_table(scores, dataset)
    frame = dataset.frame
    models = {name: model_facts(entry) for name, entry in bundle["models"].items()}
    metrics = {
        "auc": aucs,
        "rows": row_counts(dataset),
        "classes": split_summary(frame[["segment_id", "video", "split"]], frame[["segment_id", "label"]]),
        "models": models,
        "skipped": dict(bundle.get("skipped") or {}),
        "features": {source: dict(meta) for source, meta in dataset.metas.items() if source != DURATION},
        "data": describe_data(dataset, segments=segments, demo=demo),
        "settings": {
            **asdict(config),
            "gold_modes": list(config.gold_modes),
            "train_seed": bundle.get("seed"),
        },
    }
    return metrics, scores, roc


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
    demo: str | Path | None = None,
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
    demo
        The demo stage's ``demo.json`` (used only when the segments come from that corpus).

    Returns
    -------
    dict
        Output name -> path: ``metrics``, ``roc``, ``roc_png``, ``scores_png``, ``md``, ``html``.

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
    metrics, scores, roc = evaluate_models(
        models, dataset, config=config, segments=segments_table, demo=read_demo(demo, segments_table)
    )
    weak = _targets(dataset, gold_modes=())["weak"]
    return write_evaluation_report(metrics, out, scores=scores, roc=roc, weak=weak)
