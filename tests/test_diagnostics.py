from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    balanced_accuracy_score,
    brier_score_loss,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from tests.conftest import REPO
from weaklabel.errors import ParameterError
from weaklabel.report.diagnostics import (
    FIGURE_FILES,
    auc_by_group,
    best_epoch,
    calibration_table,
    confusion_at,
    diagnostics_blocks,
    group_auc_summary,
    plot_auc_by_group,
    plot_calibration,
    plot_confusion,
    plot_learning_curves,
    weak_gold_agreement,
)
from weaklabel.report.render import render_markdown, write_report

MODELS = REPO.parent / "main" / "data" / "models"


def synthetic(rng, n=400, strength=1.0):
    """Labels, scores in (0, 1) that follow them with ``strength``, and 20 groups."""
    y = rng.integers(0, 2, n)
    score = 1 / (1 + np.exp(-(strength * (2 * y - 1) + rng.normal(size=n))))
    groups = rng.integers(0, 20, n).astype(str)
    return y, score, groups


def test_confusion_matches_sklearn(rng):
    y, s, _ = synthetic(rng)
    for threshold in (0.3, 0.5, 0.8):
        out = confusion_at(y, s, threshold=threshold)
        predicted = (s > threshold).astype(int)
        assert [out[k] for k in ("tn", "fp", "fn", "tp")] == confusion_matrix(y, predicted).ravel().tolist()
        assert out["n"] == len(y) and out["threshold"] == threshold
        assert out["precision"] == pytest.approx(precision_score(y, predicted))
        assert out["recall"] == pytest.approx(recall_score(y, predicted))
        assert out["f1"] == pytest.approx(f1_score(y, predicted))
        assert out["accuracy"] == pytest.approx((predicted == y).mean())
        assert out["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, predicted))


def test_confusion_ties_and_zero_division():
    out = confusion_at([0, 1, 1], [0.5, 0.5, 0.5])  # 0.5 is not above 0.5: nothing predicted positive
    assert (out["tp"], out["fn"], out["tn"]) == (0, 2, 1)
    assert np.isnan(out["precision"]) and out["recall"] == 0.0
    one_class = confusion_at([0, 0], [0.1, 0.9])
    assert np.isnan(one_class["recall"]) and np.isnan(one_class["balanced_accuracy"])
    assert one_class["accuracy"] == 0.5


@pytest.mark.parametrize(
    ("y", "s", "kwargs", "match"),
    [
        ([0, 2], [0.1, 0.2], {}, "only 0 and 1"),
        ([0, 1], [0.1], {}, "one length"),
        ([0, 1], [0.1, np.nan], {}, "finite"),
        ([], [], {}, "empty"),
        ([0, 1], [0.1, 0.2], {"threshold": 1.5}, r"\[0, 1\]"),
        ([0, np.nan], [0.1, 0.2], {}, "only 0 and 1"),
    ],
)
def test_confusion_rejects_bad_input(y, s, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        confusion_at(y, s, **kwargs)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_matches_sklearn(rng, strategy):
    y, s, _ = synthetic(rng)
    s[:3] = [0.0, 0.5, 1.0]  # scores on bin edges
    table = calibration_table(y, s, n_bins=10, strategy=strategy)
    true, predicted = calibration_curve(y, s, n_bins=10, strategy=strategy)
    used = table[table["count"] > 0]
    np.testing.assert_allclose(used["fraction_positive"], true)
    np.testing.assert_allclose(used["mean_predicted"], predicted)
    assert table["count"].sum() == len(y) and list(table["bin"]) == list(range(10))
    assert table.attrs["brier"] == pytest.approx(brier_score_loss(y, s))
    assert table.attrs["brier_base_rate"] == pytest.approx(y.mean() * (1 - y.mean()))
    gap = (used["mean_predicted"] - used["fraction_positive"]).abs()
    assert table.attrs["ece"] == pytest.approx((gap * used["count"]).sum() / len(y))


def test_calibration_empty_bins_and_bad_input():
    table = calibration_table([0, 1], [0.05, 0.95], n_bins=4)
    assert table["count"].tolist() == [1, 0, 0, 1]
    assert table["mean_predicted"].isna().tolist() == [False, True, True, False]
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        calibration_table([0, 1], [0.1, 1.2])
    with pytest.raises(ParameterError, match="n_bins"):
        calibration_table([0, 1], [0.1, 0.2], n_bins=0)
    with pytest.raises(ParameterError, match="strategy"):
        calibration_table([0, 1], [0.1, 0.2], strategy="kmeans")


def test_auc_by_group_matches_sklearn_and_says_why_missing(rng):
    y, s, g = synthetic(rng, strength=0.5)
    y[g == "7"] = 1  # one group with positives only
    table = auc_by_group(y, s, g)
    assert table["n"].sum() == len(y) and len(table) == len(set(g))
    for row in table.itertuples():
        rows = g == row.group
        assert (row.n_pos, row.n_neg) == (int(y[rows].sum()), int((1 - y[rows]).sum()))
        if row.group == "7":
            assert np.isnan(row.auc) and row.reason.startswith("one class only")
        else:
            assert row.auc == pytest.approx(roc_auc_score(y[rows], s[rows])) and pd.isna(row.reason)
    aucs = table["auc"].to_numpy()
    assert np.isnan(aucs[-1]) and (np.diff(aucs[:-1]) >= 0).all()  # worst first, missing last

    summary = group_auc_summary(table)
    known = aucs[:-1]
    assert summary["groups"] == len(table) and summary["with_auc"] == len(known)
    assert summary["median"] == pytest.approx(np.median(known))
    assert summary["iqr"] == pytest.approx(np.percentile(known, 75) - np.percentile(known, 25))
    assert summary["share_above_half"] == pytest.approx((known > 0.5).mean())


def test_group_auc_summary_without_any_auc():
    summary = group_auc_summary(auc_by_group([1, 1, 0], [0.2, 0.3, 0.4], ["a", "a", "b"]))
    assert summary["with_auc"] == 0 and np.isnan(summary["median"]) and np.isnan(summary["share_above_half"])


def test_weak_gold_agreement_matches_sklearn(rng):
    n = 300
    gold = rng.integers(0, 2, n).astype(float)
    weak = np.where(rng.random(n) < 0.8, gold, 1 - gold)
    weak[rng.random(n) < 0.3] = np.nan
    gold[rng.random(n) < 0.1] = np.nan
    out = weak_gold_agreement(weak, gold)
    both = ~np.isnan(weak) & ~np.isnan(gold)
    assert out["n"] == n and out["n_both"] == both.sum()
    assert out["coverage_weak"] == pytest.approx((~np.isnan(weak)).mean())
    assert out["coverage_gold"] == pytest.approx((~np.isnan(gold)).mean())
    assert out["agreement"] == pytest.approx((weak[both] == gold[both]).mean())
    assert out["kappa"] == pytest.approx(cohen_kappa_score(weak[both], gold[both]))
    table = confusion_matrix(gold[both], weak[both], labels=[1, 0])  # rows gold, columns weak
    counts = out["counts"]
    assert counts["weak_pos_gold_pos"] == table[0, 0] and counts["weak_neg_gold_pos"] == table[0, 1]
    assert counts["weak_pos_gold_neg"] == table[1, 0] and counts["weak_neg_gold_neg"] == table[1, 1]
    assert sum(counts.values()) == out["n_both"]


def test_weak_gold_agreement_aligns_series_and_handles_degenerate_cases():
    weak = pd.Series([1.0, 0.0, None], index=["a", "b", "c"])
    gold = pd.Series([1, 1, 0, 0], index=["b", "a", "d", "c"], dtype="Int8")
    out = weak_gold_agreement(weak, gold)
    assert out["n"] == 4 and out["n_both"] == 2 and out["agree"] == 1 and out["coverage_weak"] == 0.5
    same = weak_gold_agreement([1, 1], [1, 1])  # chance agreement 1: kappa undefined
    assert same["agreement"] == 1.0 and np.isnan(same["kappa"])
    none = weak_gold_agreement([1, np.nan], [np.nan, 0])
    assert none["n_both"] == 0 and np.isnan(none["agreement"]) and np.isnan(none["kappa"])
    with pytest.raises(ParameterError, match="0, 1 or NaN"):
        weak_gold_agreement([1, -1], [1, 0])
    with pytest.raises(ParameterError, match="one length"):
        weak_gold_agreement([1, 0], [1])
    with pytest.raises(ParameterError, match="numeric"):
        weak_gold_agreement(["positive", "negative"], [1, 0])


def test_best_epoch_follows_early_stopping():
    history = [{"epoch": 1, "loss": 1, "val_auc": 0.6}, {"epoch": 2, "loss": 0.8, "val_auc": 0.7}]
    history += [{"epoch": 3, "loss": 0.7, "val_auc": 0.7}, {"epoch": 4, "loss": 0.6, "val_auc": 0.65}]
    assert best_epoch(history) == 2  # the first of equal bests, as EarlyStopping keeps
    unwatched = [{"epoch": 1, "loss": 1, "val_auc": None}, {"epoch": 2, "loss": 1, "val_auc": None}]
    assert best_epoch(unwatched) == 2  # no validation rows: every epoch trained, the last kept
    assert best_epoch([]) is None


def test_best_epoch_agrees_with_the_trained_heads():
    """The kept epoch recorded by training is the one best_epoch finds in its history."""
    files = sorted(MODELS.glob("*/model.json")) if MODELS.is_dir() else []
    heads = [json.loads(f.read_text())["fitted"] for f in files]
    heads = [fitted for fitted in heads if fitted.get("history")]
    if not heads:
        pytest.skip(f"no trained dense heads under {MODELS}")
    for fitted in heads:
        assert best_epoch(fitted["history"]) == fitted["best_epoch"]


def long_scores(rng):
    frames = []
    for model, strength in (("good", 2.0), ("chance", 0.0)):
        y, s, g = synthetic(rng, n=200, strength=strength)
        frames.append(pd.DataFrame({"model": model, "y_true": y.astype(float), "score": s, "group": g}))
    scores = pd.concat(frames, ignore_index=True)
    scores.loc[:2, "y_true"] = np.nan
    return scores


def history(n, peak):
    return [
        {"epoch": e, "loss": 1 / e, "val_auc": 0.5 + 0.4 * min(e, peak) / peak - 0.01 * max(0, e - peak)}
        for e in range(1, n + 1)
    ]


def test_diagnostics_blocks_render_with_figures(tmp_path, rng):
    scores = long_scores(rng)
    agreement = {"gold >= 0": weak_gold_agreement([1, 0, 1, np.nan], [1, 0, 0, 1])}
    blocks, figures = diagnostics_blocks(
        scores,
        tmp_path,
        histories={"dense": history(12, 5)},
        agreement=agreement,
        warning="Backbones: RANDOM weights (NOT transfer learning): VGG16.",
    )
    assert sorted(figures) == sorted(FIGURE_FILES.values())
    md = render_markdown(blocks, relative_to=tmp_path)
    assert "> **WARNING: Backbones: RANDOM weights (NOT transfer learning)" in md
    assert "397 scores against a label (2 models, 197-200 clips each); 3 scores of clips without" in md
    assert "## Confusion at P(positive) > 0.5" in md and "fixed before any score was seen" in md
    good = scores[(scores["model"] == "good") & scores["y_true"].notna()]
    c = confusion_at(good["y_true"], good["score"])
    assert f"| `good` | {c['n']} | {c['tn']} | {c['fp']} | {c['fn']} | {c['tp']} |" in md
    assert "| `dense` | 12 | 5 | 0.900 |" in md  # kept epoch 5, its validation AUC
    assert "| gold >= 0 | 4 | 75% | 100% | 3 (small sample) | 0.667 |" in md
    paths = write_report(tmp_path, figures=figures, blocks=blocks)
    assert all(paths[name].stat().st_size > 1000 for name in FIGURE_FILES.values())
    assert paths["html"].read_text().count("data:image/png;base64,") == len(FIGURE_FILES)


def test_diagnostics_blocks_leave_out_absent_parts(tmp_path, rng):
    blocks, figures = diagnostics_blocks(long_scores(rng), tmp_path)
    md = render_markdown(blocks)
    assert "Learning curves" not in md and "against gold" not in md and "WARNING" not in md
    assert set(figures) == {FIGURE_FILES[k] for k in ("confusion", "calibration", "auc_by_group")}
    with pytest.raises(ParameterError, match=r"lacks columns \['group'\]"):
        diagnostics_blocks(long_scores(rng).drop(columns="group"), tmp_path)


def test_figures_draw_one_element_per_model(rng):
    y, s, g = synthetic(rng)
    models = {"a": (y, s), "b": (y, 1 - s)}
    figure = plot_confusion({m: confusion_at(*ys) for m, ys in models.items()})
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 2
    figure = plot_calibration({m: calibration_table(*ys) for m, ys in models.items()})
    assert [len(ax.get_lines()) for ax in figure.axes if ax.get_visible()] == [2, 2]  # diagonal, model
    figure = plot_auc_by_group({m: auc_by_group(*ys, g) for m, ys in models.items()})
    assert [t.get_text().split("\n")[0] for t in figure.axes[0].get_xticklabels()] == ["a", "b"]
    figure = plot_learning_curves({"x": history(8, 3), "y": history(5, 2)}, best={"x": 3})
    loss_ax, auc_ax = figure.axes
    assert len(loss_ax.get_lines()) == 4  # a curve and the kept epoch's line per model
    legend = [t.get_text() for t in loss_ax.get_legend().get_texts()]
    assert legend == ["x (kept epoch 3)", "y (kept epoch 2)"]


def test_importing_diagnostics_and_provenance_stays_light():
    """No TensorFlow, Keras, matplotlib or scikit-learn until a function needs them."""
    code = (
        "import sys\n"
        "import weaklabel.report.diagnostics, weaklabel.provenance\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_another_threshold_is_said(tmp_path, rng):
    blocks, _ = diagnostics_blocks(long_scores(rng), tmp_path, threshold=0.3)
    md = render_markdown(blocks)
    assert "## Confusion at P(positive) > 0.3" in md and "Threshold 0.3, set by the caller." in md
    assert "fixed before any score was seen" not in md
