"""The label report: how good the weak labels are, as JSON (analysis and metrics), a CSV and figures.

The numbers come from :func:`weaklabel.labels.analysis.analyse_labels`; this module draws and
writes them: ``analysis.json`` (the whole analysis), ``metrics.json`` (its few headline numbers,
flat, for ``dvc metrics``: :func:`headline`), ``sweep.csv`` (accuracy against coverage, for ``dvc
plots``), ``scores.png`` (:func:`plot_label_scores`) and ``sweep.png`` (:func:`plot_sweep`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from weaklabel.labels.analysis import ReportConfig, analyse_labels, label_configs
from weaklabel.labels.labellers import LabelConfig, write_labels
from weaklabel.report.figures import new_figure
from weaklabel.report.render import write_report

if TYPE_CHECKING:
    from matplotlib.figure import Figure

log = logging.getLogger(__name__)


def plot_label_scores(labels: pd.DataFrame, *, threshold: float) -> Figure:
    """Histogram of each score with the neutral band shaded.

    Parameters
    ----------
    labels
        A labels table (:data:`weaklabel.labels.labellers.LABELS_SCHEMA`).
    threshold
        Half-width of the neutral band drawn.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``scores.png`` by :func:`write_label_report`.
    """
    figure = new_figure(12, 3.6)
    axes = figure.subplots(1, 3, sharey=True)
    bins = np.linspace(-1, 1, 41)
    for ax, name in zip(axes, ("textblob", "vader", "combined"), strict=True):
        scores = labels[name].dropna().to_numpy(dtype=float)
        ax.axvspan(-threshold, threshold, color="0.85", label=f"neutral band ±{threshold:g}")
        ax.hist(scores, bins=bins, color="tab:blue" if name != "combined" else "tab:purple")
        outside = float((np.abs(scores) >= threshold).mean()) if scores.size else 0.0
        ax.set_title(f"{name} (n={scores.size}, {outside:.0%} outside band)")
        ax.set_xlabel("score")
        ax.set_xlim(-1, 1)
    axes[0].set_ylabel("segments")
    axes[0].legend(loc="upper left", fontsize="small")
    return figure


def plot_sweep(sweep: pd.DataFrame, *, threshold: float) -> Figure:
    """Accuracy against coverage over the sweep's thresholds (both gold binarisations).

    Parameters
    ----------
    sweep
        From :func:`weaklabel.labels.analysis.threshold_sweep`; empty draws a note that there is no
        gold.
    threshold
        The configured threshold, marked on the curves.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``sweep.png`` by :func:`write_label_report`.
    """
    figure = new_figure(6.5, 4.8)
    ax = figure.subplots()
    if sweep.empty:
        ax.text(0.5, 0.5, "no gold sentiment: nothing to sweep", ha="center", va="center")
        ax.set_axis_off()
        return figure
    for suffix, label, colour in (
        ("", "non0 (zeros dropped)", "tab:blue"),
        ("_has0", "has0", "tab:orange"),
    ):
        ax.plot(sweep[f"coverage{suffix}"], sweep[f"accuracy{suffix}"], "o-", ms=3, color=colour, label=label)
        chosen = sweep[np.isclose(sweep["threshold"], threshold)]
        ax.plot(chosen[f"coverage{suffix}"], chosen[f"accuracy{suffix}"], "*", ms=14, color=colour)
    for row in sweep.iloc[::2].itertuples(index=False):
        ax.annotate(
            f"{row.threshold:g}",
            (row.coverage, row.accuracy),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    ax.set_xlabel("coverage (labelled / segments with gold)")
    ax.set_ylabel("accuracy on labelled segments")
    ax.set_title(f"neutral-band sweep (star: threshold {threshold:g})")
    ax.grid(alpha=0.3)
    ax.legend()
    return figure


def headline(analysis: Mapping[str, Any]) -> dict[str, float]:
    """The few numbers of a label analysis that ``dvc metrics show`` compares across experiments.

    Parameters
    ----------
    analysis
        From :func:`weaklabel.labels.analysis.analyse_labels`.

    Returns
    -------
    dict
        Flat, numbers only: ``coverage`` (share of segments labelled), ``agreement`` (share of the
        segments both labellers vote on where they agree), and with gold only, ``gold_accuracy``
        and ``gold_auc`` (the labels and the combined score against the non-zero gold).
    """
    summary = analysis["summary"]
    values = {"coverage": summary["combined"]["coverage"], "agreement": summary["agreement_when_both"]}
    if analysis["gold"]["present"]:
        non0 = analysis["gold"]["non0"]
        values |= {"gold_accuracy": non0["accuracy"], "gold_auc": non0["auc"]["combined"]}
    return {key: value for key, value in values.items() if isinstance(value, int | float)}


def write_label_report(
    labels: pd.DataFrame,
    segments: pd.DataFrame | None,
    out_dir: str | Path,
    *,
    config: LabelConfig,
    report: ReportConfig | None = None,
) -> dict[str, Any]:
    """Write the label report: ``analysis.json``, ``metrics.json``, ``sweep.csv``, and two figures.

    Parameters
    ----------
    labels, segments, config, report
        As for :func:`weaklabel.labels.analysis.analyse_labels`.
    out_dir
        Folder for the five files; created when missing. Every file is written with or without
        gold, so a pipeline can always declare them.

    Returns
    -------
    dict
        The analysis written to ``analysis.json``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics, sweep = analyse_labels(labels, segments, config=config, report=report)
    (out_dir / "analysis.json").write_text(json.dumps(metrics, indent=2, allow_nan=False) + "\n")
    (out_dir / "metrics.json").write_text(json.dumps(headline(metrics), indent=2, allow_nan=False) + "\n")
    sweep.to_csv(out_dir / "sweep.csv", index=False, float_format="%.6g")
    figures = {
        "scores.png": plot_label_scores(labels, threshold=config.threshold),
        "sweep.png": plot_sweep(sweep, threshold=config.threshold),
    }
    write_report(out_dir, figures=figures)
    if metrics["gold"]["present"]:
        non0 = metrics["gold"]["non0"]
        log.info(
            "labels vs non0 gold: coverage %s, accuracy %s, kappa %s, AUC(combined) %s",
            non0["coverage"],
            non0["accuracy"],
            non0["kappa"],
            non0["auc"]["combined"],
        )
    return metrics


def label_and_report(
    segments: pd.DataFrame,
    section: Mapping[str, Any] | None,
    *,
    manifest: str | Path | None,
    out: str | Path,
    report_dir: str | Path,
    verbose: bool = False,
) -> tuple[str, Path, dict[str, Any]]:
    """What the label stage does: label the segments as ``labels.source`` says, write them and the report.

    Parameters
    ----------
    segments
        Segments with ``segment_id`` and ``text`` (and ``gold_sentiment`` for the gold metrics).
    section
        The ``labels`` params section (``source``, the labelling and report settings).
    manifest
        Ingest's ``manifest.parquet``, read with ``labels.source: manifest``
        (:func:`weaklabel.labels.source.source_labels`).
    out
        Folder for ``labels.parquet``.
    report_dir
        Folder for the label report (:func:`write_label_report`).
    verbose
        Show a progress bar.

    Returns
    -------
    source : str
        ``labels.source``.
    path : Path
        The ``labels.parquet`` written.
    metrics : dict
        The report's metrics.
    """
    from weaklabel.labels.source import source_labels
    from weaklabel.sources.manifest_ingest import split_source

    source, rest = split_source(dict(section) if section is not None else None)
    config, report = label_configs(rest)
    labels = source_labels(source, segments, manifest=manifest, config=config, verbose=verbose)
    path = write_labels(labels, Path(out) / "labels.parquet")
    metrics = write_label_report(labels, segments, report_dir, config=config, report=report)
    return source.source, path, metrics
