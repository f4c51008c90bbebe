"""The probe report: the scored recordings, the per-language summary, the rejects and one figure.

Written by :func:`write_probe` from a :class:`weaklabel.learn.probe.ProbeResult`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from weaklabel.features.identity import is_random, weights_banner
from weaklabel.learn.probe import PROBE_SCHEMA, ProbeResult
from weaklabel.report.figures import new_figure, stamp_warning
from weaklabel.report.render import write_report
from weaklabel.shell import write_metrics
from weaklabel.sources.recordings import NEGATIVE, POSITIVE
from weaklabel.tables import write_rejects, write_table

#: The probe's DVC metrics file, in its output folder.
METRICS_FILE = "metrics.json"

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return _jsonable(value.item())
    if value is pd.NA:
        return None
    return value


def plot_probe(result: ProbeResult) -> Figure:
    """Bar chart: one group per language, mean scaled score per polarity, files as dots.

    Parameters
    ----------
    result
        From :func:`weaklabel.learn.probe.probe`: its scores, per-language summary and run info
        (model, backbone, files scored). When its ``weights`` are ``random`` the figure carries
        the random-backbone warning in a red band (:func:`weaklabel.report.figures.stamp_warning`).

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``probe.png`` by :func:`write_probe`.
    """
    scores, summary = result.scores, result.summary
    colours = {POSITIVE: "tab:orange", NEGATIVE: "tab:blue", None: "tab:gray"}
    present = [p for p in (POSITIVE, NEGATIVE) if (scores["polarity"] == p).any()]
    classes = present + ([None] if scores["polarity"].isna().any() else [])
    languages = summary["language"].tolist()
    width = 0.8 / max(len(classes), 1)
    figure = new_figure(max(5.0, 1.6 * len(languages) + 2), 4.4)
    axes = figure.add_subplot()
    rng = np.random.default_rng(0)  # jitter of the dots only
    for k, polarity in enumerate(classes):
        label, colour = polarity or "no polarity", colours[polarity]
        for x, language in enumerate(languages):
            part = scores[scores["language"] == language]
            part = part[part["polarity"].isna()] if polarity is None else part[part["polarity"] == polarity]
            values = part["scaled"].dropna().to_numpy()
            if not len(values):
                continue
            centre = x + (k - (len(classes) - 1) / 2) * width
            axes.bar(centre, values.mean(), width * 0.9, color=colour, alpha=0.6, label=label)
            jitter = rng.uniform(-width / 4, width / 4, len(values))
            axes.scatter(centre + jitter, values, s=10, color=colour, zorder=3)
            label = None
    ticks = []
    for row in summary.itertuples():
        auc = f"AUC {row.auc:.2f}" if row.auc is not None and not pd.isna(row.auc) else "AUC n/a"
        ticks.append(f"{row.language}\n{auc}, n={row.scored}")
    axes.set_xticks(range(len(languages)), ticks)
    axes.set_ylim(-0.05, 1.05)
    axes.set_ylabel("score, min-max scaled within language")
    info = result.info
    chars = int(figure.get_figwidth() * 12)  # what fits across the figure at 8 pt
    backbone = textwrap.fill(str(info.get("backbone", "")), width=chars)
    axes.set_title(
        f"probe: model {info.get('model')}, {info.get('scored')} files scored\n{backbone}", fontsize=8
    )
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside lower center", fontsize=8, ncols=len(handles))
    if is_random(info):
        stamp_warning(figure, f"Backbone: {weights_banner({str(info.get('features')): info})}")
    return figure


def write_probe(result: ProbeResult, out: str | Path) -> dict[str, Path]:
    """Write a probe's outputs into the folder ``out``.

    Files: ``probe.parquet`` (:data:`weaklabel.learn.probe.PROBE_SCHEMA`), ``probe.csv`` (same
    rows), ``probe_summary.json`` (run info and per-language rows), ``probe_summary.csv``
    (per-language rows), ``probe_rejects.parquet`` (rejects table) and ``probe.png``
    (:func:`plot_probe`).

    Parameters
    ----------
    result
        From :func:`weaklabel.learn.probe.probe`.
    out
        The folder (created).

    Returns
    -------
    dict
        Output name -> path: ``probe``, ``rejects``, ``csv``, ``summary_csv``, ``summary``, ``metrics``,
        ``plot``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "probe": write_table(result.scores, out / "probe.parquet", schema=PROBE_SCHEMA),
        "rejects": write_rejects(result.rejects, out / "probe_rejects.parquet"),
    }
    result.scores.to_csv(out / "probe.csv", index=False)
    paths["csv"] = out / "probe.csv"
    result.summary.to_csv(out / "probe_summary.csv", index=False)
    paths["summary_csv"] = out / "probe_summary.csv"
    languages = [
        {k: _jsonable(v) for k, v in row.items()} for row in result.summary.to_dict(orient="records")
    ]
    document = {**result.info, "languages": languages}
    (out / "probe_summary.json").write_text(json.dumps(document, indent=2, default=_jsonable) + "\n")
    paths["summary"] = out / "probe_summary.json"
    overall = result.info.get("overall", {})
    headline = {
        "files": result.info.get("files"),
        "scored": result.info.get("scored"),
        "rejected": result.info.get("rejected"),
        "auc_scaled_pooled": overall.get("auc_scaled_pooled"),
        "languages_positive_higher": overall.get("languages_positive_higher"),
    }
    write_metrics(out / METRICS_FILE, {k: v for k, v in headline.items() if isinstance(v, (int, float))})
    paths["metrics"] = out / METRICS_FILE
    paths["plot"] = write_report(out, figures={"probe.png": plot_probe(result)})["probe.png"]
    return paths
