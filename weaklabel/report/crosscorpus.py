"""The cross-corpus report: the table as Parquet and CSV, ``crosscorpus.md``/``.html``, a heatmap.

Written by :func:`write_crosscorpus` from a :class:`weaklabel.learn.crosscorpus.CrossCorpusResult`:
what was compared (which features; which backbones are pretrained, which random, loudly, and which
hand-crafted), files per corpus and what to know about them (inputs merged into one corpus, files
unlabelled), every evaluated cell's ROC AUC with its interval beside the duration-only baseline and
the logistic regression's chosen ``C``, the cells not evaluated and why, means over held-out corpora
(each corpus weighing the same, and each file), and the caveats the numbers call for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from weaklabel.features.identity import describe, is_random, weights_banner
from weaklabel.learn.crosscorpus import DURATION, PREDICTIONS_SCHEMA, TABLE_SCHEMA, CrossCorpusResult
from weaklabel.report.figures import new_figure, stamp_warning
from weaklabel.report.render import Block, render_markdown, write_report
from weaklabel.tables import write_rejects, write_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Title of the report (its first heading and the HTML page's title).
TITLE = "Cross-corpus evaluation"
#: Resolution of ``heatmap.png``, dots per inch (its cells hold small text).
HEATMAP_DPI = 120


def _fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _cell(auc: float, low: float, high: float) -> str:
    return "n/a" if pd.isna(auc) else f"{auc:.2f} [{_fmt(low)}, {_fmt(high)}]"


def _grid(config: dict) -> str:
    grid = (config.get("logreg") or {}).get("Cs")
    return "the grid " + ", ".join(f"{c:g}" for c in grid) if grid else "a grid"


def _caveats(result: CrossCorpusResult) -> list[str]:
    table, config = result.table, result.meta.get("config", {})
    out = []
    widths = (table["ci_high"] - table["ci_low"]).dropna()
    if len(widths):
        out.append(
            f"Interval widths range from {widths.min():.2f} to {widths.max():.2f} AUC: "
            "with this few files and speakers, differences smaller than that are not evidence."
        )
    if (table["ci_unit"] == "file").any():
        out.append(
            f"Rows with CI by `file` have fewer than {config.get('min_ci_speakers', 5)} test speakers: "
            "their intervals resample files, ignore how much results vary between speakers, and are "
            "too narrow."
        )
    beaten = table.dropna(subset=["auc", "duration_auc"])
    beaten = beaten[beaten["auc"] <= beaten["duration_auc"]]
    if len(beaten):
        cells = ", ".join(
            f"{r.backbone} ({r.protocol} {r.test_corpus})" for r in beaten.itertuples(index=False)
        )
        out.append(f"Duration alone scores at least as well as: {cells}.")
    partial = table[table["status"] != "ok"].drop_duplicates(["protocol", "test_corpus"])
    for row in partial.itertuples(index=False):
        out.append(f"{row.protocol} {row.test_corpus}: {row.status}.")
    if len(result.rejects):
        by_reason = result.rejects["reason"].value_counts().to_dict()
        out.append(f"{len(result.rejects)} files rejected: {by_reason} (see rejects.parquet).")
    return out


def crosscorpus_blocks(result: CrossCorpusResult) -> list[Block]:
    """The report's text as blocks (:data:`weaklabel.report.render.Block`).

    Parameters
    ----------
    result
        From :func:`weaklabel.learn.crosscorpus.crosscorpus`: its ``table``, ``counts``, ``rejects``
        ``untested``, ``means``, ``notes`` and ``meta`` (``backbones``, ``features``, ``config``).

    Returns
    -------
    list of tuple
        What was compared, files per corpus, the table, means over held-out corpora and caveats.
    """
    table, counts, config = result.table, result.counts, result.meta.get("config", {})
    level = int(round(100 * float(config.get("level", 0.95))))
    features = result.meta.get("features", {})
    random = any(is_random(meta) for meta in features.values())
    line = f"Backbones: {weights_banner(features)}" + (
        " Rows of a random backbone are only a noise reference." if random else ""
    )
    blocks: list[Block] = [("h1", TITLE), ("p", f"**{line}**")]
    listed = [f"`{name}`: {describe({'embedder': name, **features[name]})}" for name in features] + [
        f"`{name}`: the features of {' and '.join(name.split('+'))} side by side"
        for name in result.meta.get("backbones", [])
        if name not in features
    ]
    blocks += [("p", "Features:"), ("ul", listed)]
    corpus_rows = [
        [
            r.corpus,
            r.speakers,
            r.files,
            r.unlabelled,
            r.rejected,
            f"{r.evaluated} ({r.positive}/{r.negative})",
        ]
        for r in counts.itertuples(index=False)
    ]
    header = ["corpus", "speakers", "files", "unlabelled", "rejected", "evaluated (+/-)"]
    blocks += [
        (
            "p",
            "Files per corpus, as the manifests' `corpus` column names them (files = unlabelled + rejected "
            "+ evaluated; label 1 = positive valence, 0 = negative; speakers of the evaluated files):",
        ),
        ("table", (header, corpus_rows, "lrrrrr")),
    ]
    if result.notes:
        blocks.append(("ul", list(result.notes)))
    blocks += [
        (
            "p",
            f"ROC AUC of a logistic regression on z-scored features (training statistics only), {level}% "
            "bootstrap interval; `duration AUC` is the duration-only baseline (the train stage's `duration` "
            "model: a logistic regression on the clip's speech duration before padding) on the same rows "
            "and folds: what length alone gives away. `loco`: train on the other corpora, test on this "
            "one; `within`: leave one speaker out within the corpus, held-out scores pooled. `C`: the "
            "regression's strength, chosen "
            f"from {_grid(config)} in every fit by an inner cross-validation on the training rows grouped "
            "by speaker (no speaker on both sides of an inner fold); with fewer than two training speakers "
            "a fixed fallback, which `C chosen by` says (within: one fit per held-out speaker).",
        ),
    ]
    header = [
        "protocol",
        "test corpus",
        "trained on",
        "backbone",
        "n test (+/-)",
        "speakers",
        "ROC AUC",
        "duration AUC",
        "CI by",
        "C",
        "C chosen by",
        "status",
    ]
    rows = [
        [
            r.protocol,
            r.test_corpus,
            r.train_corpora,
            r.backbone,
            f"{r.n_test} ({r.n_test_pos}/{r.n_test_neg})",
            r.n_test_speakers,
            _cell(r.auc, r.ci_low, r.ci_high),
            _cell(r.duration_auc, r.duration_ci_low, r.duration_ci_high),
            "" if pd.isna(r.ci_unit) else r.ci_unit,
            "" if pd.isna(r.C) else r.C,
            "" if pd.isna(r.C_selection) else r.C_selection,
            r.status,
        ]
        for r in table.itertuples(index=False)
    ]
    blocks.append(("table", (header, rows, "lllllrllllll")))
    if len(result.untested):
        minimum = config.get("min_test_speakers", 2)
        blocks += [
            (
                "p",
                f"Not tested (no row above): a corpus needs >= {minimum} speakers to be tested; with fewer "
                "it only trains the other corpora's `loco` cells:",
            ),
            ("ul", [f"{r.protocol} {r.test_corpus}: {r.reason}" for r in result.untested.itertuples()]),
        ]
    if len(result.means):
        rows = [
            [
                r.protocol,
                r.backbone,
                r.corpora,
                r.files,
                _fmt(r.mean_auc),
                _fmt(r.weighted_auc),
                _fmt(r.mean_duration_auc),
                _fmt(r.weighted_duration_auc),
            ]
            for r in result.means.itertuples(index=False)
        ]
        header = [
            "protocol",
            "backbone",
            "corpora",
            "test files",
            "mean AUC (corpora equal)",
            "mean AUC (by files)",
            "duration (corpora equal)",
            "duration (by files)",
        ]
        blocks += [
            (
                "p",
                "Mean ROC AUC over held-out corpora, twice: each corpus weighing the same (a small corpus "
                "counts as much as a large one) and each corpus weighing its test files (the largest "
                "dominates). Read both, and the rows:",
            ),
            ("table", (header, rows, "llrrllll")),
        ]
    return [*blocks, ("p", "Caveats:"), ("ul", _caveats(result))]


def to_markdown(result: CrossCorpusResult) -> str:
    """The report as Markdown (``crosscorpus.md``): :func:`crosscorpus_blocks`, rendered."""
    return render_markdown(crosscorpus_blocks(result))


def plot_heatmap(result: CrossCorpusResult) -> Figure:
    """A heatmap: rows = backbones and the duration baseline, columns = protocol/test corpus.

    Each cell shows the ROC AUC and its interval; 0.5 (chance) is white, red above, blue below.
    Only evaluated cells have a column (the untested ones are listed in the report); with none,
    the figure says so. When a backbone has random weights, the warning is written into the image
    (:func:`weaklabel.report.figures.stamp_warning`).

    Parameters
    ----------
    result
        From :func:`weaklabel.learn.crosscorpus.crosscorpus`; only its ``table`` is drawn.

    Returns
    -------
    matplotlib.figure.Figure
        Saved as ``heatmap.png`` by :func:`write_crosscorpus`, at :data:`HEATMAP_DPI`.
    """
    from matplotlib import colormaps

    table = result.table
    if table.empty:
        figure = new_figure(4.0, 1.5, layout=None)
        figure.text(0.5, 0.5, "no cell could be evaluated (see the report)", ha="center", va="center")
        return figure
    columns = list(dict.fromkeys(zip(table["protocol"], table["test_corpus"], strict=True)))
    backbones = list(dict.fromkeys(table["backbone"]))
    names = [*backbones, DURATION]
    values = np.full((len(names), len(columns)), np.nan)
    labels = [["n/a"] * len(columns) for _ in names]
    for j, (protocol, corpus) in enumerate(columns):
        cell = table[(table["protocol"] == protocol) & (table["test_corpus"] == corpus)]
        for i, name in enumerate(backbones):
            row = cell[cell["backbone"] == name]
            if len(row) and not pd.isna(row["auc"].iloc[0]):
                r = row.iloc[0]
                values[i, j] = r["auc"]
                labels[i][j] = f"{r['auc']:.2f}\n[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
        if len(cell) and not pd.isna(cell["duration_auc"].iloc[0]):
            r = cell.iloc[0]
            values[-1, j] = r["duration_auc"]
            labels[-1][j] = (
                f"{r['duration_auc']:.2f}\n[{_fmt(r['duration_ci_low'])}, {_fmt(r['duration_ci_high'])}]"
            )
    figure = new_figure(2.0 + 1.9 * len(columns), 1.2 + 0.9 * len(names), layout=None)
    axes = figure.subplots()
    cmap = colormaps["RdBu_r"].with_extremes(bad="#dddddd")
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(len(names)):
        for j in range(len(columns)):
            axes.text(j, i, labels[i][j], ha="center", va="center", fontsize=8)
    axes.set_xticks(range(len(columns)), [f"{p}\n{c}" for p, c in columns], fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=9)
    axes.set_title("ROC AUC by protocol and held-out corpus (0.5 = chance)", fontsize=10)
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, label="ROC AUC")
    figure.tight_layout()
    features = result.meta.get("features", {})
    if any(is_random(meta) for meta in features.values()):
        stamp_warning(figure, f"Backbones: {weights_banner(features)}")
    return figure


def write_crosscorpus(result: CrossCorpusResult, out: str | Path) -> dict[str, Path]:
    """Write the table (Parquet, CSV), the report (Markdown, HTML), heatmap, predictions, rejects, meta.

    Parameters
    ----------
    result
        From :func:`weaklabel.learn.crosscorpus.crosscorpus`.
    out
        The report's folder, e.g. ``reports/crosscorpus``; created when missing, and the feature
        stores' ``work`` folder may sit inside it.

    Returns
    -------
    dict
        Output name -> path: ``table`` (crosscorpus.parquet), ``predictions``, ``rejects``, ``csv``,
        ``markdown`` (crosscorpus.md), ``html`` (crosscorpus.html), ``heatmap`` (heatmap.png),
        ``meta`` (meta.json: the result's meta, counts, notes, untested cells and means).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "table": write_table(result.table, out / "crosscorpus.parquet", schema=TABLE_SCHEMA),
        "predictions": write_table(
            result.predictions, out / "predictions.parquet", schema=PREDICTIONS_SCHEMA
        ),
        "rejects": write_rejects(result.rejects, out / "rejects.parquet"),
    }
    result.table.to_csv(out / "crosscorpus.csv", index=False)
    paths["csv"] = out / "crosscorpus.csv"
    written = write_report(
        out,
        figures={"heatmap.png": plot_heatmap(result)},
        blocks=crosscorpus_blocks(result),
        name="crosscorpus",
        title=TITLE,
        dpi=HEATMAP_DPI,
    )
    paths.update(markdown=written["md"], html=written["html"], heatmap=written["heatmap.png"])
    meta = {
        **result.meta,
        "counts": result.counts.to_dict("records"),
        "notes": result.notes,
        "untested": result.untested.to_dict("records"),
        "means": result.means.to_dict("records"),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    paths["meta"] = out / "meta.json"
    return paths
