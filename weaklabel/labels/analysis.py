"""How good are the weak labels? A labeller analysis, and agreement with gold sentiment.

In the style of snorkel's ``LFAnalysis``: coverage of each labeller (its score outside the
neutral band) and of the combination, overlap, agreement and conflict between the two labellers,
class balance and the reasons for abstaining. When the segments carry gold sentiment, the labels
are compared with it binarised both ways the literature uses (``has0``, ``non0``, see
:func:`weaklabel.sources.gold.binarize_gold`): accuracy, balanced accuracy, F1, Cohen's kappa on the
covered segments, coverage, and ROC AUC of each continuous score; a threshold sweep shows accuracy
against coverage as the band widens; and each text normalisation's AUC is measured, so that the
choice of ``labels.normalise`` rests on numbers.

:func:`analyse_labels` computes every number; :func:`weaklabel.report.labels.write_label_report` writes
them as the label report.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    cohen_kappa_score,
    f1_score,
)

from weaklabel.config import from_mapping
from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.labellers import ABSTAIN, ABSTAIN_REASONS, LABELLERS, LabelConfig, combine_scores, vote
from weaklabel.labels.text import NORMALISATIONS, normalise, unusable_reasons
from weaklabel.metrics import roc_auc
from weaklabel.sources.gold import BINARIZE_MODES, binarize_gold

log = logging.getLogger(__name__)

#: Columns of the threshold sweep table (``non0`` gold unsuffixed; ``has0`` suffixed).
SWEEP_COLUMNS = (
    "threshold",
    "coverage",
    "accuracy",
    "balanced_accuracy",
    "f1",
    "kappa",
    "n_labelled",
    "coverage_has0",
    "accuracy_has0",
)


@dataclasses.dataclass(frozen=True)
class ReportConfig:
    """What the label report computes beyond the summary.

    Attributes
    ----------
    sweep_min, sweep_max, sweep_step
        Thresholds of the sweep: ``sweep_min, sweep_min + sweep_step, ..., sweep_max``.
    compare_normalisations
        Score the gold segments under every text normalisation (with and without negation
        expansion) and report each one's ROC AUC. Costs 8 extra scoring passes.
    """

    sweep_min: float = 0.0
    sweep_max: float = 0.8
    sweep_step: float = 0.05
    compare_normalisations: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.sweep_min <= self.sweep_max < 1:
            raise ParameterError(
                "labels.report.sweep_min/sweep_max must satisfy 0 <= min <= max < 1, "
                f"got {self.sweep_min}, {self.sweep_max}"
            )
        if not self.sweep_step > 0:
            raise ParameterError(f"labels.report.sweep_step must be > 0, got {self.sweep_step}")

    @property
    def thresholds(self) -> np.ndarray:
        """The sweep's thresholds, shape (k,)."""
        grid = np.arange(self.sweep_min, self.sweep_max + self.sweep_step / 2, self.sweep_step)
        return np.round(grid, 6)


def label_configs(section: Mapping[str, Any] | None) -> tuple[LabelConfig, ReportConfig]:
    """The labelling and report configs from one ``labels`` params section.

    Parameters
    ----------
    section
        The fields of :class:`~weaklabel.labels.labellers.LabelConfig`, plus an optional ``report``
        mapping with the fields of :class:`ReportConfig`. ``None`` gives the defaults.

    Returns
    -------
    tuple of LabelConfig, ReportConfig

    Raises
    ------
    ParameterError
        If a key is unknown or a value invalid; the message names it (``labels.report.x``).

    Examples
    --------
    >>> label_configs({"threshold": 0.3, "report": {"sweep_step": 0.1}})[0].threshold
    0.3
    """
    section = dict(section or {})
    report = section.pop("report", None)
    if report is not None and not isinstance(report, Mapping):
        raise ParameterError(f"labels.report must be a mapping of settings, got {report!r}")
    return (
        from_mapping(LabelConfig, section, section="labels"),
        from_mapping(ReportConfig, report, section="labels.report"),
    )


def _number(value: float | None) -> float | None:
    """A JSON-safe float: NaN and None become None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def _rate(count: int, total: int) -> float | None:
    return _number(count / total) if total else None


def summarise_labels(labels: pd.DataFrame, *, threshold: float) -> dict[str, Any]:
    """The labeller analysis: coverage, overlap, agreement, conflict, balance, abstentions.

    Parameters
    ----------
    labels
        A labels table (:data:`weaklabel.labels.labellers.LABELS_SCHEMA`), n rows.
    threshold
        The neutral band the labels were made with; each labeller votes when its own score is
        outside it.

    Returns
    -------
    dict
        ``n_segments``, ``scored`` (texts that could be scored), ``labellers`` (per labeller:
        ``coverage``, ``positive``, ``negative``, ``mean_score``), ``overlap``, ``agreement``,
        ``conflict`` (fractions of all segments where both labellers vote / vote alike / vote
        differently), ``agreement_when_both``, ``score_correlation`` (Pearson, scored texts),
        ``combined`` (``coverage``, ``positive``, ``negative``, ``abstain``, ``positive_rate``
        among labelled) and ``abstain_reasons`` (count per reason, zeros included).
    """
    n = len(labels)
    votes = {lf.name: vote(labels[lf.name].to_numpy(dtype=float), threshold=threshold) for lf in LABELLERS}
    out: dict[str, Any] = {"n_segments": n, "scored": int(labels["combined"].notna().sum()), "labellers": {}}
    for name, v in votes.items():
        scores = labels[name].to_numpy(dtype=float)
        out["labellers"][name] = {
            "coverage": _rate(int((v != ABSTAIN).sum()), n),
            "positive": int((v == 1).sum()),
            "negative": int((v == 0).sum()),
            "mean_score": _number(np.nanmean(scores)) if np.isfinite(scores).any() else None,
        }
    tb, vd = votes["textblob"], votes["vader"]
    both = (tb != ABSTAIN) & (vd != ABSTAIN)
    out["overlap"] = _rate(int(both.sum()), n)
    out["agreement"] = _rate(int((both & (tb == vd)).sum()), n)
    out["conflict"] = _rate(int((both & (tb != vd)).sum()), n)
    out["agreement_when_both"] = _rate(int((both & (tb == vd)).sum()), int(both.sum()))
    scored = labels[["textblob", "vader"]].dropna().to_numpy(dtype=float)
    corr = None
    if len(scored) > 2 and scored.std(axis=0).min() > 0:
        corr = _number(np.corrcoef(scored[:, 0], scored[:, 1])[0, 1])
    out["score_correlation"] = corr
    label = labels["label"].to_numpy()
    positive, negative = int((label == 1).sum()), int((label == 0).sum())
    out["combined"] = {
        "coverage": _rate(positive + negative, n),
        "positive": positive,
        "negative": negative,
        "abstain": int((label == ABSTAIN).sum()),
        "positive_rate": _rate(positive, positive + negative),
    }
    reasons = labels["abstain_reason"].value_counts()
    out["abstain_reasons"] = {reason: int(reasons.get(reason, 0)) for reason in ABSTAIN_REASONS}
    return out


def _auc(gold: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC over the rows where both are known; None without both classes."""
    keep = ~np.isnan(gold) & ~np.isnan(scores)
    return _number(roc_auc(gold[keep], scores[keep]))


def _agreement(gold: np.ndarray, label: np.ndarray) -> dict[str, Any]:
    """Metrics of labels vs binary gold on rows with gold; NaN gold rows are ignored."""
    has_gold = ~np.isnan(gold)
    covered = has_gold & (label != ABSTAIN)
    y_true, y_pred = gold[covered].astype(int), label[covered].astype(int)
    out: dict[str, Any] = {
        "n_gold": int(has_gold.sum()),
        "gold_positive_rate": _number(np.nanmean(gold)) if has_gold.any() else None,
        "labelled": int(covered.sum()),
        "coverage": _rate(int(covered.sum()), int(has_gold.sum())),
    }
    if not covered.any():
        return {**out, "accuracy": None, "balanced_accuracy": None, "f1": None, "kappa": None}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class slices: sklearn warns, the value is still defined
        out["accuracy"] = _number(accuracy_score(y_true, y_pred))
        out["balanced_accuracy"] = _number(balanced_accuracy_score(y_true, y_pred))
        out["f1"] = _number(f1_score(y_true, y_pred, zero_division=0))
        out["kappa"] = _number(cohen_kappa_score(y_true, y_pred))
    out["majority_baseline"] = _number(max(y_true.mean(), 1 - y_true.mean()))
    return out


def gold_metrics(labels: pd.DataFrame, gold_sentiment: np.ndarray, *, mode: str) -> dict[str, Any]:
    """Agreement of the weak labels with gold sentiment binarised by ``mode``.

    Parameters
    ----------
    labels
        A labels table, n rows.
    gold_sentiment
        Shape (n,), gold sentiment in -3..+3 aligned with ``labels``; NaN where unknown.
    mode
        ``has0`` or ``non0`` (:func:`weaklabel.sources.gold.binarize_gold`).

    Returns
    -------
    dict
        ``n_gold`` (segments with a binary gold label), ``gold_positive_rate``, ``labelled`` and
        ``coverage`` (weakly labelled among them), ``accuracy``, ``balanced_accuracy``, ``f1``
        (positive class), ``kappa`` (Cohen's), ``majority_baseline`` (on the covered segments),
        and ``auc``: ROC AUC of each continuous score (``textblob``, ``vader``, ``combined``)
        over every scored segment with gold. Undefined values are ``None``.

    Raises
    ------
    ParameterError
        If ``mode`` is unknown.
    DataError
        If ``gold_sentiment`` does not have one value per label row.
    """
    gold_sentiment = np.asarray(gold_sentiment, dtype=np.float64)
    if gold_sentiment.shape != (len(labels),):
        raise DataError(
            f"gold has shape {gold_sentiment.shape}, expected ({len(labels)},): one value per label row"
        )
    gold = binarize_gold(gold_sentiment, mode=mode)
    out = _agreement(gold, labels["label"].to_numpy())
    out["auc"] = {
        name: _auc(gold, labels[name].to_numpy(dtype=float)) for name in ("textblob", "vader", "combined")
    }
    return out


def threshold_sweep(
    labels: pd.DataFrame, gold_sentiment: np.ndarray, *, combine: str, thresholds: np.ndarray
) -> pd.DataFrame:
    """Accuracy against coverage as the neutral band widens.

    Parameters
    ----------
    labels
        A labels table, n rows (its ``textblob`` and ``vader`` scores are re-combined).
    gold_sentiment
        Shape (n,), gold sentiment aligned with ``labels``; NaN where unknown.
    combine
        The combination rule (:data:`weaklabel.labels.labellers.COMBINE_MODES`).
    thresholds
        Shape (k,), band half-widths in [0, 1).

    Returns
    -------
    pandas.DataFrame
        k rows, columns :data:`SWEEP_COLUMNS`: coverage and metrics against ``non0`` gold, then
        coverage and accuracy against ``has0`` gold. Metrics are NaN when nothing is labelled.
    """
    gold_sentiment = np.asarray(gold_sentiment, dtype=np.float64)
    non0 = binarize_gold(gold_sentiment, mode="non0")
    has0 = binarize_gold(gold_sentiment, mode="has0")
    tb, vd = labels["textblob"].to_numpy(dtype=float), labels["vader"].to_numpy(dtype=float)
    rows = []
    for threshold in np.asarray(thresholds, dtype=float):
        _, label, _ = combine_scores(tb, vd, combine=combine, threshold=float(threshold))
        a, b = _agreement(non0, label), _agreement(has0, label)
        rows.append(
            {
                "threshold": float(threshold),
                **{key: a[key] for key in ("coverage", "accuracy", "balanced_accuracy", "f1", "kappa")},
                "n_labelled": a["labelled"],
                "coverage_has0": b["coverage"],
                "accuracy_has0": b["accuracy"],
            }
        )
    frame = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
    floats = [c for c in SWEEP_COLUMNS if c != "n_labelled"]
    return frame.astype({c: "float64" for c in floats} | {"n_labelled": "int64"})


def normalisation_auc(texts: list[object], gold_sentiment: np.ndarray, *, config: LabelConfig) -> dict:
    """ROC AUC of each score under every text normalisation, against ``non0`` and ``has0`` gold.

    Parameters
    ----------
    texts
        n transcripts.
    gold_sentiment
        Shape (n,), gold sentiment aligned with ``texts``; NaN where unknown.
    config
        Supplies ``max_chars`` and ``check_language`` (which texts are scored).

    Returns
    -------
    dict
        Keyed ``"<normalise>"`` and ``"<normalise>+negations"`` (negations expanded), each
        ``{"textblob", "vader", "mean", "mean_has0"}``: AUC against ``non0`` gold (the mean's also
        against ``has0``), over the usable texts with gold.
    """
    gold_sentiment = np.asarray(gold_sentiment, dtype=np.float64)
    reasons = unusable_reasons(texts, max_chars=config.max_chars, check_language=config.check_language)
    keep = np.flatnonzero(pd.isna(reasons) & ~np.isnan(gold_sentiment))
    non0 = binarize_gold(gold_sentiment[keep], mode="non0")
    has0 = binarize_gold(gold_sentiment[keep], mode="has0")
    raw = [texts[i] for i in keep]
    out = {}
    for mode in NORMALISATIONS:
        for negations in (False, True):
            normed = normalise(raw, mode=mode, negations=negations)
            scores = {lf.name: lf.score(normed) for lf in LABELLERS}
            mean = (scores["textblob"] + scores["vader"]) / 2
            out[mode + ("+negations" if negations else "")] = {
                "textblob": _auc(non0, scores["textblob"]),
                "vader": _auc(non0, scores["vader"]),
                "mean": _auc(non0, mean),
                "mean_has0": _auc(has0, mean),
            }
    return out


def _aligned(segments: pd.DataFrame, column: str, ids: pd.Series) -> pd.Series:
    """``segments[column]`` in the order of ``ids`` (matched by segment id; missing ids give NaN)."""
    values = pd.Series(segments[column].to_numpy(dtype=object), index=segments["segment_id"].astype(str))
    return values[~values.index.duplicated()].reindex(ids.astype(str))


def _gold_column(labels: pd.DataFrame, segments: pd.DataFrame | None) -> np.ndarray | None:
    """Gold sentiment aligned with ``labels`` by segment id, or None when there is none."""
    if segments is None or "gold_sentiment" not in segments.columns:
        return None
    gold = pd.to_numeric(_aligned(segments, "gold_sentiment", labels["segment_id"]), errors="coerce")
    gold = gold.to_numpy(dtype=float, na_value=np.nan)
    return gold if np.isfinite(gold).any() else None


def analyse_labels(
    labels: pd.DataFrame,
    segments: pd.DataFrame | None,
    *,
    config: LabelConfig,
    report: ReportConfig | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Every number of the label report, and the sweep table.

    Parameters
    ----------
    labels
        A labels table made with ``config``, n rows.
    segments
        The segments the labels were made from (for ``gold_sentiment`` and ``text``, matched by
        ``segment_id``); ``None`` or a table without gold gives a report without gold metrics.
    config
        The labelling config (threshold, combination rule, normalisation).
    report
        Sweep grid and whether to compare normalisations; defaults when ``None``.

    Returns
    -------
    metrics : dict
        ``config``, ``summary`` (:func:`summarise_labels`) and ``gold``: ``{"present": False, "reason"}``
        or ``{"present": True, "has0": ..., "non0": ...}`` (:func:`gold_metrics`); with gold and
        ``compare_normalisations``, also ``normalisation`` (:func:`normalisation_auc`).
    sweep : pandas.DataFrame
        :func:`threshold_sweep`'s table; no rows without gold.
    """
    report = report or ReportConfig()
    metrics: dict[str, Any] = {
        "config": dataclasses.asdict(config),
        "summary": summarise_labels(labels, threshold=config.threshold),
    }
    gold = _gold_column(labels, segments)
    if gold is None:
        metrics["gold"] = {"present": False, "reason": "the segments carry no gold_sentiment"}
        log.info("no gold sentiment in the segments: report without gold metrics")
        return metrics, pd.DataFrame(columns=list(SWEEP_COLUMNS))
    metrics["gold"] = {"present": True} | {
        mode: gold_metrics(labels, gold, mode=mode) for mode in BINARIZE_MODES
    }
    sweep = threshold_sweep(labels, gold, combine=config.combine, thresholds=report.thresholds)
    if report.compare_normalisations and "text" in segments.columns:
        texts = _aligned(segments, "text", labels["segment_id"]).tolist()
        metrics["normalisation"] = normalisation_auc(texts, gold, config=config)
    return metrics, sweep
