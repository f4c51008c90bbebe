"""Diagnostics a reviewer checks beyond the AUC, each from plain arrays or a long table of scores.

Confusion at a stated threshold, calibration, per-speaker AUC, the dense heads' learning curves
and how often the weak labels agree with gold.

They serve any evaluation that produces scores (held-out splits or pooled out-of-fold scores):

- :func:`confusion_at`: the 2x2 table and the rates it gives at one threshold on P(positive);
- :func:`calibration_table`: reliability bins (with counts) and the Brier score;
- :func:`auc_by_group` and :func:`group_auc_summary`: ROC AUC within each speaker;
- :func:`weak_gold_agreement`: agreement and Cohen's kappa of two binary labellings;
- :func:`plot_confusion`, :func:`plot_calibration`, :func:`plot_auc_by_group`,
  :func:`plot_learning_curves`: one figure each, every model in it;
- :func:`diagnostics_blocks`: all of the above as report blocks and figures for
  :func:`weaklabel.report.render.write_report`.

The ROC AUC is :func:`weaklabel.metrics.roc_auc` (the library's one AUC); the rest is scikit-learn.
This module imports no TensorFlow; matplotlib is imported only when a figure is drawn.

Examples
--------
>>> import numpy as np
>>> confusion_at(np.array([0, 0, 1, 1]), np.array([0.2, 0.7, 0.6, 0.9]))["tp"]
2
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from weaklabel.errors import ParameterError
from weaklabel.metrics import roc_auc
from weaklabel.report.figures import new_figure, stamp_warning
from weaklabel.report.render import Block

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)

#: Threshold on P(positive) of the confusion table: positive when the score is above it.
THRESHOLD = 0.5
#: Why the confusion table uses :data:`THRESHOLD`, said in the report.
THRESHOLD_NOTE = (
    "A clip counts as predicted positive when its P(positive) is above 0.5 (ties go to negative), the "
    "label each model's own `predict` gives. The threshold was fixed before any score was seen, not "
    "tuned: a tuned threshold would need rows the scores were not computed on. The models are trained "
    "with balanced class weights, where 0.5 is the point of equal cost; ranking quality is the AUC's "
    "job, this table shows what one fixed decision rule does."
)
#: File names of the figures :func:`diagnostics_blocks` returns.
FIGURE_FILES = {
    "confusion": "confusion.png",
    "calibration": "calibration.png",
    "auc_by_group": "auc_by_group.png",
    "learning_curves": "learning_curves.png",
}
#: Columns :func:`diagnostics_blocks` needs in its scores table.
SCORE_COLUMNS = ("model", "y_true", "score", "group")
#: Fewer rows than this are called a small sample in the report.
SMALL_SAMPLE = 30
#: Fewer speakers with both classes than this are called few in the report.
FEW_GROUPS = 10


def _binary(values: Any, name: str, *, missing: bool = False) -> np.ndarray:
    """``values`` as a 1-D float array of 0 and 1 (and NaN when ``missing``), or a ParameterError."""
    try:
        array = (
            values.astype("float64").to_numpy()
            if isinstance(values, pd.Series)
            else np.asarray(values, dtype=np.float64)
        )
    except (TypeError, ValueError) as error:
        raise ParameterError(f"{name} must be numeric 0/1, found values that are not ({error})") from None
    if array.ndim != 1:
        raise ParameterError(f"{name} must be 1-D, got shape {array.shape}")
    known = array[~np.isnan(array)] if missing else array
    if not np.isin(known, (0.0, 1.0)).all():
        bad = sorted(set(np.unique(known).tolist()) - {0.0, 1.0})[:5]
        allowed = "0, 1 or NaN (missing)" if missing else "0 and 1"
        raise ParameterError(f"{name} must hold only {allowed}, found {bad}; binarise it first")
    return array


def _pair(y_true: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validated labels (0/1) and finite scores of one length, at least one row."""
    y = _binary(y_true, "y_true")
    s = np.asarray(score, dtype=np.float64)
    if s.shape != y.shape:
        raise ParameterError(
            f"y_true and score must be 1-D of one length, got shapes {y.shape} and {s.shape}"
        )
    if not len(y):
        raise ParameterError("y_true and score are empty: nothing to assess")
    if not np.isfinite(s).all():
        raise ParameterError(f"score must be finite, found {int((~np.isfinite(s)).sum())} NaN/inf")
    return y.astype(int), s


def confusion_at(y_true: Any, score: Any, *, threshold: float = THRESHOLD) -> dict[str, Any]:
    """The confusion table at one threshold on P(positive), and the rates it gives.

    Parameters
    ----------
    y_true
        Shape (n,), 0 or 1.
    score
        Shape (n,), finite P(positive); predicted positive when ``score > threshold``.
    threshold
        The cut on ``score``, in [0, 1].

    Returns
    -------
    dict
        ``threshold``, ``n``, ``tn``, ``fp``, ``fn``, ``tp`` (ints), ``precision``, ``recall``,
        ``f1``, ``accuracy``, ``balanced_accuracy`` (floats, scikit-learn's). A rate whose
        denominator is zero is NaN, not 0 (scikit-learn's ``zero_division=np.nan``): precision
        when nothing is predicted positive, recall without positives, balanced accuracy without
        both classes.

    Raises
    ------
    ParameterError
        If the shapes differ, ``y_true`` holds other values than 0 and 1, ``score`` is not finite,
        there are no rows or ``threshold`` is outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> out = confusion_at(np.array([0, 0, 1, 1]), np.array([0.2, 0.7, 0.6, 0.9]))
    >>> out["tn"], out["fp"], out["fn"], out["tp"], out["precision"]
    (1, 1, 0, 2, 0.6666666666666666)
    """
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        f1_score,
        precision_score,
        recall_score,
    )

    if not 0.0 <= float(threshold) <= 1.0:
        raise ParameterError(f"threshold must be in [0, 1] (a cut on P(positive)), got {threshold!r}")
    y, s = _pair(y_true, score)
    predicted = (s > threshold).astype(int)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, predicted, labels=[0, 1]).ravel())
    both = 0 < y.sum() < len(y)
    return {
        "threshold": float(threshold),
        "n": len(y),
        "tn": tn,
        "fp": fp,
        "fn": fn,
        "tp": tp,
        "precision": float(precision_score(y, predicted, zero_division=np.nan)),
        "recall": float(recall_score(y, predicted, zero_division=np.nan)),
        "f1": float(f1_score(y, predicted, zero_division=np.nan)),
        "accuracy": float(accuracy_score(y, predicted)),
        "balanced_accuracy": float(balanced_accuracy_score(y, predicted)) if both else float("nan"),
    }


def calibration_table(
    y_true: Any, score: Any, *, n_bins: int = 10, strategy: str = "uniform"
) -> pd.DataFrame:
    """Reliability bins: mean predicted probability against the fraction of positives, with counts.

    The bins are those of ``sklearn.calibration.calibration_curve`` (same edges, same rule for a
    score on an edge), so the non-empty rows hold its two curves; the counts and the empty bins
    are added.

    Parameters
    ----------
    y_true
        Shape (n,), 0 or 1.
    score
        Shape (n,), P(positive) in [0, 1].
    n_bins
        Number of bins, >= 1.
    strategy
        ``"uniform"`` (equal widths on [0, 1]) or ``"quantile"`` (equal counts).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (from 0), ``lower``, ``upper``, ``count``, ``mean_predicted``,
        ``fraction_positive`` (NaN in an empty bin). ``attrs`` holds ``brier`` (scikit-learn's
        ``brier_score_loss``), ``brier_base_rate`` (the Brier score of always predicting the
        fraction of positives, ``p (1 - p)``: what a model must beat), ``ece`` (the mean absolute
        gap between the two curves weighted by the bins' counts) and ``n``.

    Raises
    ------
    ParameterError
        On bad shapes or values (as :func:`confusion_at`), a score outside [0, 1], or a bad
        ``n_bins`` or ``strategy``.
    """
    from sklearn.metrics import brier_score_loss

    y, s = _pair(y_true, score)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ParameterError(f"n_bins must be an integer >= 1, got {n_bins!r}")
    if s.min() < 0 or s.max() > 1:
        raise ParameterError(f"score must be a probability in [0, 1], found [{s.min():g}, {s.max():g}]")
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(s, np.linspace(0, 100, n_bins + 1))
    else:
        raise ParameterError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    index = np.searchsorted(edges[1:-1], s)  # calibration_curve's rule
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(index, weights=s, minlength=n_bins) / count
        fraction_positive = np.bincount(index, weights=y, minlength=n_bins) / count
    table = pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count.astype(int),
            "mean_predicted": mean_predicted,
            "fraction_positive": fraction_positive,
        }
    )
    gaps = np.abs(mean_predicted - fraction_positive)
    rate = float(y.mean())
    table.attrs = {
        "n": len(y),
        "brier": float(brier_score_loss(y, s)),
        "brier_base_rate": rate * (1 - rate),
        "ece": float(np.nansum(gaps * count) / len(y)),
    }
    return table


def auc_by_group(y_true: Any, score: Any, groups: Any) -> pd.DataFrame:
    """ROC AUC within each group (speaker, video): how well a model ranks one speaker's clips.

    Parameters
    ----------
    y_true
        Shape (n,), 0 or 1.
    score
        Shape (n,), finite.
    groups
        Shape (n,), the group of each row (any hashable values).

    Returns
    -------
    pandas.DataFrame
        One row per group: ``group``, ``n``, ``n_pos``, ``n_neg``, ``auc``
        (:func:`weaklabel.metrics.roc_auc`; NaN when the group has one class only) and ``reason``
        (why ``auc`` is NaN; missing otherwise). Sorted by ``auc`` ascending (worst first), groups without
        an AUC last, then by group. :func:`group_auc_summary` sums it up.

    Raises
    ------
    ParameterError
        On bad shapes or values (as :func:`confusion_at`).
    """
    y, s = _pair(y_true, score)
    g = np.asarray(groups)
    if g.shape != y.shape:
        raise ParameterError(f"groups must be 1-D of the length of y_true ({len(y)}), got shape {g.shape}")
    rows = []
    for group, index in pd.Series(np.arange(len(y))).groupby(g, sort=True, dropna=False).groups.items():
        yy, ss = y[index], s[index]
        n_pos = int(yy.sum())
        n_neg = len(yy) - n_pos
        both = n_pos and n_neg
        rows.append(
            {
                "group": group,
                "n": len(yy),
                "n_pos": n_pos,
                "n_neg": n_neg,
                "auc": roc_auc(yy, ss) if both else float("nan"),
                "reason": None if both else f"one class only ({n_pos} positive, {n_neg} negative)",
            }
        )
    table = pd.DataFrame(rows, columns=["group", "n", "n_pos", "n_neg", "auc", "reason"])
    return table.sort_values(["auc", "group"], na_position="last", kind="mergesort").reset_index(drop=True)


def group_auc_summary(table: pd.DataFrame) -> dict[str, Any]:
    """How the per-group AUCs of :func:`auc_by_group` spread.

    Parameters
    ----------
    table
        From :func:`auc_by_group`.

    Returns
    -------
    dict
        ``groups``, ``with_auc`` (groups holding both classes), ``median``, ``q1``, ``q3``,
        ``iqr`` (of the groups with an AUC; NaN without any), ``above_half`` (groups with AUC
        above 0.5) and ``share_above_half`` (of those with an AUC).
    """
    aucs = table["auc"].dropna().to_numpy(dtype=np.float64)
    q1, median, q3 = np.percentile(aucs, [25, 50, 75]) if len(aucs) else (np.nan,) * 3
    above = int((aucs > 0.5).sum())
    return {
        "groups": len(table),
        "with_auc": len(aucs),
        "median": float(median),
        "q1": float(q1),
        "q3": float(q3),
        "iqr": float(q3 - q1),
        "above_half": above,
        "share_above_half": above / len(aucs) if len(aucs) else float("nan"),
    }


def _aligned(weak: Any, gold: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two labellings as arrays of one length: Series are aligned on their index (union)."""
    if isinstance(weak, pd.Series) and isinstance(gold, pd.Series):
        weak, gold = weak.align(gold, join="outer")
    w, g = _binary(weak, "weak", missing=True), _binary(gold, "gold", missing=True)
    if w.shape != g.shape:
        raise ParameterError(
            f"weak and gold must have one length (or be Series, aligned on their index), got {w.shape} "
            f"and {g.shape}"
        )
    return w, g


def weak_gold_agreement(weak: Any, gold: Any) -> dict[str, Any]:
    """How often two binary labellings agree where both have a label, and Cohen's kappa.

    Parameters
    ----------
    weak, gold
        Shape (n,) each, 1, 0 or NaN (missing, abstained); two :class:`pandas.Series` are aligned
        on their index first (a row missing from one is missing there). Binarise a continuous gold
        score first (e.g. gold >= 0 is positive).

    Returns
    -------
    dict
        ``n`` (rows), ``n_weak`` and ``n_gold`` (rows each labels), ``coverage_weak`` and
        ``coverage_gold`` (those over ``n``), ``n_both``, ``agree``, ``agreement`` (``agree /
        n_both``), ``kappa`` (``sklearn.metrics.cohen_kappa_score``; NaN when no row has both or
        the chance agreement is 1, e.g. both labellings constant) and ``counts``: the 2x2 table as
        ``{"weak_pos_gold_pos": .., "weak_pos_gold_neg": .., "weak_neg_gold_pos": ..,
        "weak_neg_gold_neg": ..}``.

    Raises
    ------
    ParameterError
        If the lengths differ or a value is not 0, 1 or missing.

    Examples
    --------
    >>> out = weak_gold_agreement([1, 0, 1, float("nan")], [1, 0, 0, 1])
    >>> out["n_both"], out["agree"], out["coverage_weak"]
    (3, 2, 0.75)
    """
    from sklearn.metrics import cohen_kappa_score

    w, g = _aligned(weak, gold)
    both = ~np.isnan(w) & ~np.isnan(g)
    wb, gb = w[both].astype(int), g[both].astype(int)
    counts = {
        f"weak_{a}_gold_{b}": int(((wb == x) & (gb == z)).sum())
        for a, x in (("pos", 1), ("neg", 0))
        for b, z in (("pos", 1), ("neg", 0))
    }
    n_both = int(both.sum())
    agree = int((wb == gb).sum())
    # chance agreement of 1 (both constant, same class): kappa is 0/0
    chance = (wb.mean() * gb.mean() + (1 - wb.mean()) * (1 - gb.mean())) if n_both else 1.0
    kappa = float("nan")
    if chance < 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            kappa = float(cohen_kappa_score(wb, gb, labels=[0, 1]))
    n = len(w)
    return {
        "n": n,
        "n_weak": int((~np.isnan(w)).sum()),
        "n_gold": int((~np.isnan(g)).sum()),
        "coverage_weak": float((~np.isnan(w)).mean()) if n else float("nan"),
        "coverage_gold": float((~np.isnan(g)).mean()) if n else float("nan"),
        "n_both": n_both,
        "agree": agree,
        "agreement": agree / n_both if n_both else float("nan"),
        "kappa": kappa,
        "counts": counts,
    }


# ----------------------------------------------------------------------------------------- figures


def _grid(n: int, *, width: float, height: float, columns: int) -> tuple[Figure, list[Any]]:
    """A figure of ``n`` panels in rows of ``columns``; unused panels hidden."""
    n_cols = min(columns, max(1, n))
    n_rows = max(1, -(-n // n_cols))
    figure = new_figure(width * n_cols, height * n_rows)
    axes = list(np.atleast_1d(figure.subplots(n_rows, n_cols, squeeze=False)).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return figure, axes[:n]


def plot_confusion(confusions: Mapping[str, Mapping[str, Any]]) -> Figure:
    """One 2x2 confusion table per model, counts and row shares written in the cells.

    Parameters
    ----------
    confusions
        Model -> :func:`confusion_at` of its scores.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``confusion.png`` by :func:`diagnostics_blocks`' caller.
    """
    figure, axes = _grid(len(confusions), width=3.0, height=2.9, columns=4)
    for ax, (model, c) in zip(axes, confusions.items(), strict=True):
        cells = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]], dtype=float)
        totals = cells.sum(axis=1, keepdims=True)
        share = np.divide(cells, totals, out=np.zeros_like(cells), where=totals > 0)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for (i, j), count in np.ndenumerate(cells):
            colour = "white" if share[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(count)}\n{share[i, j]:.0%}", ha="center", va="center", color=colour)
        ax.set_xticks([0, 1], ["neg", "pos"])
        ax.set_yticks([0, 1], ["neg", "pos"])
        ax.set_xlabel(f"predicted (P > {c['threshold']:g})")
        ax.set_ylabel("weak label")
        ax.set_title(f"{model}\nn={c['n']}, balanced acc {_fmt(c['balanced_accuracy'])}", fontsize=9)
    return figure


def plot_calibration(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Reliability diagrams: fraction of positives against mean P(positive), one panel per model.

    Parameters
    ----------
    tables
        Model -> :func:`calibration_table` of its scores. Each panel has the diagonal (perfect
        calibration) and the model's line over its non-empty bins, the marker's area following the
        bin's count; the title gives the Brier score.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``calibration.png``.
    """
    figure, axes = _grid(len(tables), width=3.0, height=3.0, columns=4)
    for ax, (model, table) in zip(axes, tables.items(), strict=True):
        used = table[table["count"] > 0]
        size = 120 * used["count"] / max(int(used["count"].max()), 1) if len(used) else 0
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
        ax.plot(used["mean_predicted"], used["fraction_positive"], color="tab:blue", linewidth=1.2)
        ax.scatter(used["mean_predicted"], used["fraction_positive"], s=size, color="tab:blue", zorder=3)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{model}\nBrier {_fmt(table.attrs.get('brier'))}, n={table.attrs.get('n')}", fontsize=9)
        ax.set_xlabel("mean P(positive) in the bin", fontsize=8)
        ax.set_ylabel("fraction positive in the bin", fontsize=8)
    return figure


def plot_auc_by_group(tables: Mapping[str, pd.DataFrame]) -> Figure:
    """Per-speaker ROC AUC: a box and the speakers as dots, one column per model, chance at 0.5.

    Parameters
    ----------
    tables
        Model -> :func:`auc_by_group` of its scores; speakers with one class only are left out
        (their count is in the tick label).

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``auc_by_group.png``.
    """
    models = list(tables)
    figure = new_figure(min(12.0, max(5.0, 0.8 * len(models) + 2)), 4.8)
    ax = figure.add_subplot()
    rng = np.random.default_rng(0)  # jitter of the dots only
    values = [tables[m]["auc"].dropna().to_numpy(dtype=np.float64) for m in models]
    ax.axhline(0.5, color="0.5", linestyle="--", linewidth=1, label="chance (0.5)")
    ax.boxplot(
        [v if len(v) else [np.nan] for v in values],
        positions=range(len(models)),
        widths=0.5,
        showfliers=False,
    )
    for x, v in enumerate(values):
        ax.scatter(x + rng.uniform(-0.15, 0.15, len(v)), v, s=10, alpha=0.6, color="tab:blue", zorder=3)
    ticks = [f"{m}\n{len(v)}/{len(tables[m])} speakers" for m, v in zip(models, values, strict=True)]
    ax.set_xticks(range(len(models)), ticks, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("ROC AUC within one speaker")
    ax.set_title("Per-speaker AUC (speakers with both classes)")
    ax.legend(loc="lower right", fontsize="small")
    return figure


def best_epoch(history: Sequence[Mapping[str, Any]]) -> int | None:
    """The epoch early stopping keeps: the first with the highest ``val_auc``, else the last.

    Parameters
    ----------
    history
        A dense head's ``history_`` (:class:`weaklabel.models.head.DenseHead`): per epoch
        ``epoch`` (from 1), ``loss``, ``val_auc`` (None without validation rows).

    Returns
    -------
    int or None
        The epoch number; None for an empty history.
    """
    if not history:
        return None
    aucs = [(row.get("val_auc"), row["epoch"]) for row in history if row.get("val_auc") is not None]
    aucs = [(auc, epoch) for auc, epoch in aucs if np.isfinite(auc)]
    if not aucs:
        return int(history[-1]["epoch"])
    best = max(auc for auc, _ in aucs)
    return int(next(epoch for auc, epoch in aucs if auc == best))


def plot_learning_curves(
    histories: Mapping[str, Sequence[Mapping[str, Any]]], *, best: Mapping[str, int] | None = None
) -> Figure:
    """Training loss and validation AUC per epoch of each dense network, the kept epoch marked.

    Parameters
    ----------
    histories
        Model -> its ``history_`` (per epoch ``epoch``, ``loss``, ``val_auc``).
    best
        Model -> the epoch it kept (``best_epoch`` of its fitted info); missing models get
        :func:`best_epoch` of their history.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (loss, validation AUC); saved as ``learning_curves.png``.
    """
    best = dict(best or {})
    figure = new_figure(11, 4.2)
    loss_ax, auc_ax = figure.subplots(1, 2)
    for model, history in histories.items():
        epochs = np.array([row["epoch"] for row in history], dtype=float)
        loss = np.array([row["loss"] for row in history], dtype=float)
        auc = np.array([np.nan if row.get("val_auc") is None else row["val_auc"] for row in history], float)
        kept = best.get(model, best_epoch(history))
        (line,) = loss_ax.plot(epochs, loss, linewidth=1.3, label=f"{model} (kept epoch {kept})")
        auc_ax.plot(epochs, auc, linewidth=1.3, color=line.get_color())
        at = np.flatnonzero(epochs == kept)
        if len(at):
            loss_ax.scatter(epochs[at], loss[at], marker="*", s=120, color=line.get_color(), zorder=3)
            auc_ax.scatter(epochs[at], auc[at], marker="*", s=120, color=line.get_color(), zorder=3)
            loss_ax.axvline(kept, color=line.get_color(), linestyle=":", linewidth=0.8)
            auc_ax.axvline(kept, color=line.get_color(), linestyle=":", linewidth=0.8)
    auc_ax.axhline(0.5, color="0.6", linestyle="--", linewidth=1)
    loss_ax.set_title("training loss (weighted binary cross-entropy)")
    auc_ax.set_title("validation ROC AUC (early stopping watches it)")
    for ax in (loss_ax, auc_ax):
        ax.set_xlabel("epoch")
    loss_ax.legend(fontsize="small")
    return figure


# ------------------------------------------------------------------------------------------ blocks


def _fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: ``-`` for None or NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, (float, np.floating)) else str(value)


def _small(n: int) -> str:
    return f"{n} (small sample)" if n < SMALL_SAMPLE else str(n)


def _confusion_table(confusions: Mapping[str, Mapping[str, Any]]) -> Block:
    header = ["model", "n", "TN", "FP", "FN", "TP", "precision", "recall", "F1", "accuracy", "balanced acc."]
    rows = [
        [f"`{m}`", _small(c["n"]), c["tn"], c["fp"], c["fn"], c["tp"]]
        + [_fmt(c[k]) for k in ("precision", "recall", "f1", "accuracy", "balanced_accuracy")]
        for m, c in confusions.items()
    ]
    return ("table", (header, rows, "l" + "r" * (len(header) - 1)))


def _calibration_rows(tables: Mapping[str, pd.DataFrame]) -> Block:
    header = ["model", "n", "Brier", "Brier of the base rate", "ECE (count-weighted |gap|)"]
    rows = [
        [
            f"`{m}`",
            _small(t.attrs["n"]),
            _fmt(t.attrs["brier"]),
            _fmt(t.attrs["brier_base_rate"]),
            _fmt(t.attrs["ece"]),
        ]
        for m, t in tables.items()
    ]
    return ("table", (header, rows, "lrrrr"))


def _group_rows(summaries: Mapping[str, Mapping[str, Any]]) -> Block:
    header = ["model", "speakers", "with both classes", "median AUC", "IQR (q1-q3)", "AUC > 0.5"]
    rows = [
        [
            f"`{m}`",
            s["groups"],
            f"{s['with_auc']} (few)" if s["with_auc"] < FEW_GROUPS else s["with_auc"],
            _fmt(s["median"]),
            f"{_fmt(s['q1'])}-{_fmt(s['q3'])}" if s["with_auc"] else "-",
            f"{s['above_half']}/{s['with_auc']} ({s['share_above_half']:.0%})" if s["with_auc"] else "-",
        ]
        for m, s in summaries.items()
    ]
    return ("table", (header, rows, "lrrrrr"))


def _history_rows(histories: Mapping[str, Sequence[Mapping[str, Any]]], best: Mapping[str, int]) -> Block:
    header = ["model", "epochs trained", "kept epoch", "validation AUC there", "loss there", "last loss"]
    rows = []
    for m, history in histories.items():
        kept = best.get(m, best_epoch(history))
        at = next((row for row in history if row["epoch"] == kept), {})
        rows.append(
            [
                f"`{m}`",
                len(history),
                kept,
                _fmt(at.get("val_auc")),
                _fmt(at.get("loss")),
                _fmt(history[-1]["loss"]) if history else "-",
            ]
        )
    return ("table", (header, rows, "lrrrrr"))


def _agreement_rows(agreement: Mapping[str, Mapping[str, Any]]) -> Block:
    header = [
        "gold target",
        "rows",
        "weak coverage",
        "gold coverage",
        "both labelled",
        "agreement",
        "Cohen's kappa",
        "weak+/gold+",
        "weak+/gold-",
        "weak-/gold+",
        "weak-/gold-",
    ]
    rows = [
        [
            name,
            a["n"],
            f"{a['coverage_weak']:.0%}",
            f"{a['coverage_gold']:.0%}",
            _small(a["n_both"]),
            _fmt(a["agreement"]),
            _fmt(a["kappa"]),
            *a["counts"].values(),
        ]
        for name, a in agreement.items()
    ]
    return ("table", (header, rows, "l" + "r" * (len(header) - 1)))


def _scored_rows(scores: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The rows of ``scores`` with a label, and how many had none."""
    missing = [c for c in SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise ParameterError(
            f"the scores table lacks columns {missing} (has {list(scores.columns)}); expected "
            f"{list(SCORE_COLUMNS)}: y_true is the 0/1 label (NaN: none), group the speaker"
        )
    labelled = scores["y_true"].notna()
    return scores[labelled], int((~labelled).sum())


def diagnostics_blocks(
    scores: pd.DataFrame,
    out: str | Path,
    *,
    histories: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    best: Mapping[str, int] | None = None,
    agreement: Mapping[str, Mapping[str, Any]] | None = None,
    threshold: float = THRESHOLD,
    n_bins: int = 10,
    warning: str | None = None,
) -> tuple[list[Block], dict[str, Figure]]:
    """The diagnostics section of a report: its blocks and its figures.

    Parameters
    ----------
    scores
        Long table, one row per (model, clip): ``model``, ``y_true`` (the 0/1 label the scores
        are judged against, NaN where there is none: those rows are counted and left out),
        ``score`` (P(positive)) and ``group`` (speaker or video). Pooled out-of-fold scores or one
        held-out split's: the caller says which in the text around this section.
    out
        The report's folder: the ``img`` blocks point at :data:`FIGURE_FILES` there.
    histories
        Dense network -> its ``history_`` (per epoch ``epoch``, ``loss``, ``val_auc``); None or
        empty leaves out the learning curves.
    best
        Dense network -> its kept epoch (``best_epoch`` of its fitted info); default: computed
        from the history by :func:`best_epoch`.
    agreement
        Gold target name (e.g. ``"gold >= 0"``) -> :func:`weak_gold_agreement` of the weak labels
        and that target; None or empty leaves out the section (no gold).
    threshold
        The cut of the confusion tables, on P(positive).
    n_bins
        Bins of the calibration tables.
    warning
        Stamped into every figure (:func:`weaklabel.report.figures.stamp_warning`) and said above
        the section: e.g. ``"Backbones: " + weights_banner(...)`` when a backbone is random.

    Returns
    -------
    blocks : list of tuple
        :data:`weaklabel.report.render.Block` items, starting with an ``h2``.
    figures : dict
        File name (:data:`FIGURE_FILES`) -> figure, for :func:`weaklabel.report.render.write_report`
        (which saves them before rendering the blocks that embed them).

    Raises
    ------
    ParameterError
        If ``scores`` lacks a column of :data:`SCORE_COLUMNS` or holds bad labels or scores.
    """
    out = Path(out)
    used, unlabelled = _scored_rows(scores)
    confusions: dict[str, dict[str, Any]] = {}
    calibrations: dict[str, pd.DataFrame] = {}
    groups: dict[str, pd.DataFrame] = {}
    for model, rows in used.groupby("model", sort=False):
        y, s = rows["y_true"].to_numpy(), rows["score"].to_numpy()
        confusions[model] = confusion_at(y, s, threshold=threshold)
        calibrations[model] = calibration_table(y, s, n_bins=n_bins)
        groups[model] = auc_by_group(y, s, rows["group"].to_numpy())
    blocks: list[Block] = [("h2", "Diagnostics")]
    if warning:
        blocks.append(("warn", warning))
    sizes = sorted({c["n"] for c in confusions.values()})
    clips = "-".join(str(n) for n in sizes[:: max(1, len(sizes) - 1)])  # "42" or "21-42"
    intro = (
        f"{len(used)} scores against a label ({len(confusions)} models, {clips} clips each)"
        + (f"; {unlabelled} scores of clips without a label are left out" if unlabelled else "")
        + f". Fewer than {SMALL_SAMPLE} clips are marked as a small sample, fewer than {FEW_GROUPS} "
        "speakers as few."
    )
    blocks.append(("p", intro))
    figures: dict[str, Figure] = {}

    def figure_block(key: str, figure: Figure, caption: str) -> Block:
        if warning:
            stamp_warning(figure, warning)
        figures[FIGURE_FILES[key]] = figure
        return ("img", (caption, out / FIGURE_FILES[key]))

    if confusions:
        blocks += [
            ("h2", f"Confusion at P(positive) > {threshold:g}"),
            (
                "p",
                THRESHOLD_NOTE if threshold == THRESHOLD else f"Threshold {threshold:g}, set by the caller.",
            ),
            ("p", "Precision, recall or balanced accuracy is `-` where its denominator is zero."),
            _confusion_table(confusions),
            figure_block("confusion", plot_confusion(confusions), f"Confusion tables at P > {threshold:g}"),
            ("h2", "Calibration"),
            (
                "p",
                f"Scores in {n_bins} equal-width bins of P(positive); a calibrated model's line follows the "
                "diagonal (with few clips per bin it wanders by chance alone). The Brier score is the mean "
                "squared error of P(positive) (lower is better); always predicting the share of positives "
                "scores the base-rate Brier. Models trained with balanced class weights are not calibrated "
                "to the true base rate by design.",
            ),
            _calibration_rows(calibrations),
            figure_block("calibration", plot_calibration(calibrations), "Calibration (reliability) curves"),
            ("h2", "Per-speaker AUC"),
            (
                "p",
                "ROC AUC within each speaker: whether a model ranks one speaker's positive clips "
                "above the same speaker's negative ones, with speaker identity held fixed. A speaker has "
                "few clips, so each per-speaker AUC is noisy; speakers with one class only have none.",
            ),
            _group_rows({m: group_auc_summary(t) for m, t in groups.items()}),
            figure_block("auc_by_group", plot_auc_by_group(groups), "Per-speaker ROC AUC"),
        ]
    if histories:
        best = {m: best_epoch(h) for m, h in histories.items()} | dict(best or {})
        blocks += [
            ("h2", "Learning curves of the dense networks"),
            (
                "p",
                "Training loss and validation ROC AUC per epoch; the star marks the epoch whose weights "
                "were kept (early stopping on the validation AUC).",
            ),
            _history_rows(histories, best),
            figure_block(
                "learning_curves",
                plot_learning_curves(histories, best=best),
                "Learning curves (loss, validation AUC)",
            ),
        ]
    if agreement:
        blocks += [
            ("h2", "Weak labels against gold"),
            (
                "p",
                "Where both the weak label and the binarised gold sentiment exist: how often they agree and "
                "Cohen's kappa (agreement beyond chance; 0 is chance, 1 perfect). Coverage: share of rows "
                "each labels.",
            ),
            _agreement_rows(agreement),
        ]
    return blocks, figures
