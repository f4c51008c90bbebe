from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from tests.conftest import REPO
from weaklabel.cli import build_parser, params_path
from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.analysis import (
    SWEEP_COLUMNS,
    ReportConfig,
    analyse_labels,
    gold_metrics,
    label_configs,
    summarise_labels,
    threshold_sweep,
)
from weaklabel.labels.labellers import (
    ABSTAIN,
    ABSTAIN_REASONS,
    LABELS_SCHEMA,
    LabelConfig,
    combine_scores,
    label_segments,
)
from weaklabel.metrics import roc_auc
from weaklabel.params import load_params
from weaklabel.report.labels import write_label_report
from weaklabel.sources.gold import binarize_gold
from weaklabel.sources.manifest_ingest import LabelSourceConfig, split_source
from weaklabel.tables import read_table

PNG = b"\x89PNG\r\n\x1a\n"


def labels_frame(textblob, vader, label, reason=None) -> pd.DataFrame:
    n = len(textblob)
    textblob, vader = np.asarray(textblob, dtype=float), np.asarray(vader, dtype=float)
    combined = (textblob + vader) / 2
    return pd.DataFrame(
        {
            "segment_id": [f"v___{i}" for i in range(n)],
            "textblob": textblob,
            "vader": vader,
            "combined": combined,
            "label": np.asarray(label, dtype=np.int8),
            "confidence": np.abs(combined),
            "abstain_reason": pd.Series(reason if reason is not None else [None] * n, dtype="string"),
        }
    )


def mosi_segments(shared_data) -> pd.DataFrame:
    frame = pd.read_csv(shared_data / "mosi" / "mosi_segments_gold.csv")
    return pd.DataFrame(
        {
            "segment_id": frame["video_id"] + "___" + frame["segment"].astype(str),
            "text": frame["text"],
            "gold_sentiment": frame["sentiment"].astype(float),
        }
    )


def small_segments(*, gold: bool) -> pd.DataFrame:
    texts = [
        "I loved it, a fantastic film",
        "It was terrible and boring",
        "Great acting, really good fun",
        "Awful, I hated every minute",
        "It starts at eight",
        None,
        "   ",
        "Das ist wirklich nicht gut",
    ]
    sentiment = [2.5, -2.0, 1.0, -3.0, 0.0, 1.0, -1.0, -0.5] if gold else [np.nan] * len(texts)
    return pd.DataFrame(
        {
            "segment_id": [f"vid___{i}" for i in range(len(texts))],
            "text": pd.Series(texts, dtype=object),
            "audio_path": pd.Series([None] * len(texts), dtype="string"),
            "gold_sentiment": sentiment,
        }
    )


def test_label_configs_split_the_section():
    config, report = label_configs({"threshold": 0.3, "combine": "agree", "report": {"sweep_step": 0.1}})
    assert (config.threshold, config.combine, report.sweep_step) == (0.3, "agree", 0.1)
    assert label_configs(None) == (LabelConfig(), ReportConfig())


def test_label_configs_name_the_bad_key():
    with pytest.raises(ParameterError, match=r"labels\.report\.step"):
        label_configs({"report": {"step": 0.1}})
    with pytest.raises(ParameterError, match=r"labels\.thresh"):
        label_configs({"thresh": 0.1})
    with pytest.raises(ParameterError, match="labels.report must be a mapping"):
        label_configs({"report": 3})


def test_report_config_validation_and_grid():
    assert ReportConfig(sweep_min=0.1, sweep_max=0.3, sweep_step=0.1).thresholds.tolist() == [0.1, 0.2, 0.3]
    with pytest.raises(ParameterError, match="sweep_min/sweep_max"):
        ReportConfig(sweep_max=1.0)
    with pytest.raises(ParameterError, match="sweep_step must be > 0"):
        ReportConfig(sweep_step=0)


def test_summarise_counts_coverage_agreement_conflict():
    #            both +   both -  conflict  tb only  neither  unscored
    textblob = [0.5, -0.5, 0.5, 0.5, 0.0, np.nan]
    vader = [0.5, -0.5, -0.5, 0.1, 0.0, np.nan]
    label = [1, 0, ABSTAIN, 1, ABSTAIN, ABSTAIN]
    reason = [None, None, "neutral_band", None, "neutral_band", "no_text"]
    summary = summarise_labels(labels_frame(textblob, vader, label, reason), threshold=0.2)
    assert summary["n_segments"] == 6 and summary["scored"] == 5
    assert summary["labellers"]["textblob"] == pytest.approx(
        {"coverage": 4 / 6, "positive": 3, "negative": 1, "mean_score": 0.2}, abs=1e-6
    )
    assert summary["labellers"]["vader"]["coverage"] == pytest.approx(3 / 6, abs=1e-6)
    assert summary["overlap"] == pytest.approx(3 / 6, abs=1e-6)
    assert summary["agreement"] == pytest.approx(2 / 6, abs=1e-6)
    assert summary["conflict"] == pytest.approx(1 / 6, abs=1e-6)
    assert summary["agreement_when_both"] == pytest.approx(2 / 3, abs=1e-6)
    combined = summary["combined"]
    assert combined["positive"] + combined["negative"] + combined["abstain"] == 6
    assert combined["coverage"] == pytest.approx(0.5, abs=1e-6)
    assert summary["abstain_reasons"]["neutral_band"] == 2 and summary["abstain_reasons"]["no_text"] == 1
    assert set(summary["abstain_reasons"]) == set(ABSTAIN_REASONS)


def test_summarise_empty_table():
    summary = summarise_labels(labels_frame([], [], []), threshold=0.2)
    assert summary["n_segments"] == 0 and summary["combined"]["coverage"] is None


def test_gold_metrics_perfect_and_binarisations():
    gold = np.array([2.0, -1.0, 0.0, 1.5, -0.5, np.nan])
    textblob = [0.6, -0.6, 0.3, 0.4, -0.4, 0.5]
    label = [1, 0, 1, ABSTAIN, 0, 1]
    labels = labels_frame(textblob, textblob, label)
    non0 = gold_metrics(labels, gold, mode="non0")
    assert non0["n_gold"] == 4 and non0["labelled"] == 3
    assert non0["coverage"] == pytest.approx(0.75)
    assert non0["accuracy"] == 1.0 and non0["kappa"] == 1.0 and non0["balanced_accuracy"] == 1.0
    assert non0["auc"] == {"textblob": 1.0, "vader": 1.0, "combined": 1.0}
    has0 = gold_metrics(labels, gold, mode="has0")
    assert has0["n_gold"] == 5 and has0["labelled"] == 4  # the zero counts as non-negative
    assert has0["accuracy"] == 1.0


def test_gold_metrics_undefined_values_are_none():
    labels = labels_frame([0.0, 0.0], [0.0, 0.0], [ABSTAIN, ABSTAIN])
    metrics = gold_metrics(labels, np.array([1.0, 2.0]), mode="non0")
    assert metrics["labelled"] == 0 and metrics["accuracy"] is None and metrics["kappa"] is None
    assert metrics["auc"]["combined"] is None  # one gold class only


def test_gold_auc_is_the_one_roc_auc_and_matches_scikit_learn(rng):
    n = 300
    gold = np.round(rng.normal(size=n) * 1.5)  # zeros included: non0 drops them
    gold[::17] = np.nan
    textblob = np.round(np.clip(gold / 3 + rng.normal(0, 0.5, n), -1, 1), 1)  # many ties
    textblob[::13] = np.nan  # unscored texts
    labels = labels_frame(textblob, np.round(rng.uniform(-1, 1, n), 2), np.full(n, ABSTAIN))
    for mode in ("non0", "has0"):
        binary = binarize_gold(gold, mode=mode)
        for name, auc in gold_metrics(labels, gold, mode=mode)["auc"].items():
            scores = labels[name].to_numpy(dtype=float)
            keep = ~np.isnan(binary) & ~np.isnan(scores)
            assert auc == round(roc_auc_score(binary[keep], scores[keep]), 6)
            assert auc == round(roc_auc(binary[keep], scores[keep]), 6)


def test_gold_metrics_checks_shape_and_mode():
    labels = labels_frame([0.5], [0.5], [1])
    with pytest.raises(DataError, match=r"gold has shape \(2,\), expected \(1,\)"):
        gold_metrics(labels, np.array([1.0, 2.0]), mode="non0")
    with pytest.raises(ParameterError, match="has0"):
        gold_metrics(labels, np.array([1.0]), mode="both")


def test_threshold_sweep_coverage_falls_and_matches_the_labels(rng):
    n = 400
    gold = rng.normal(size=n) * 2
    textblob = np.clip(gold / 3 + rng.normal(scale=0.3, size=n), -1, 1)
    vader = np.clip(gold / 3 + rng.normal(scale=0.3, size=n), -1, 1)
    labels = labels_frame(textblob, vader, np.zeros(n))
    sweep = threshold_sweep(labels, gold, combine="mean", thresholds=np.array([0.0, 0.2, 0.4, 0.6]))
    assert list(sweep.columns) == list(SWEEP_COLUMNS) and len(sweep) == 4
    assert sweep["coverage"].is_monotonic_decreasing
    assert sweep["accuracy"].iloc[-1] > sweep["accuracy"].iloc[0]  # a wider band is more accurate here
    # the sweep's row at threshold 0.2 agrees with the metrics of labels made at 0.2
    _, label, _ = combine_scores(textblob, vader, combine="mean", threshold=0.2)
    metrics = gold_metrics(labels_frame(textblob, vader, label), gold, mode="non0")
    assert sweep.iloc[1]["accuracy"] == pytest.approx(metrics["accuracy"], abs=1e-6)
    assert sweep.iloc[1]["coverage"] == pytest.approx(metrics["coverage"], abs=1e-6)


def test_report_without_gold_says_so_and_writes_every_file(tmp_path):
    segments = small_segments(gold=False)
    labels = label_segments(segments, config=LabelConfig())
    metrics = write_label_report(labels, segments, tmp_path / "rep", config=LabelConfig())
    assert metrics["gold"] == {"present": False, "reason": "the segments carry no gold_sentiment"}
    for name in ("analysis.json", "metrics.json", "sweep.csv", "scores.png", "sweep.png"):
        assert (tmp_path / "rep" / name).exists()
    assert json.loads((tmp_path / "rep" / "analysis.json").read_text()) == metrics
    # the DVC metrics: flat numbers only, no gold ones without gold
    assert set(json.loads((tmp_path / "rep" / "metrics.json").read_text())) == {"coverage", "agreement"}
    assert (tmp_path / "rep" / "scores.png").read_bytes()[:8] == PNG
    assert pd.read_csv(tmp_path / "rep" / "sweep.csv").empty
    # no segments at all, or no gold column: the same
    assert analyse_labels(labels, None, config=LabelConfig())[0]["gold"]["present"] is False


def test_report_with_gold(tmp_path):
    segments = small_segments(gold=True)
    config = LabelConfig()
    labels = label_segments(segments, config=config)
    report = ReportConfig(sweep_max=0.5, sweep_step=0.1)
    metrics = write_label_report(labels, segments.iloc[::-1], tmp_path, config=config, report=report)
    assert metrics["config"] == dataclasses.asdict(config)
    gold = metrics["gold"]
    assert gold["present"] is True
    assert gold["non0"]["n_gold"] == 7 and gold["has0"]["n_gold"] == 8
    assert gold["non0"]["accuracy"] == 1.0  # the four clear English sentences are right
    assert gold["non0"]["auc"]["combined"] == 1.0
    assert set(metrics["normalisation"]) == {
        f"{mode}{suffix}" for mode in ("none", "lower", "sentence", "uncaps") for suffix in ("", "+negations")
    }
    sweep = pd.read_csv(tmp_path / "sweep.csv")
    assert sweep["threshold"].tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert (tmp_path / "sweep.png").read_bytes()[:8] == PNG
    json.loads((tmp_path / "analysis.json").read_text())  # strict JSON: no NaN
    headline = json.loads((tmp_path / "metrics.json").read_text())
    assert headline == {
        "coverage": metrics["summary"]["combined"]["coverage"],
        "agreement": metrics["summary"]["agreement_when_both"],
        "gold_accuracy": 1.0,
        "gold_auc": 1.0,
    }


def test_mosi_report_auc_and_normalisation_choice(shared_data):
    segments = mosi_segments(shared_data)
    config = LabelConfig()
    labels = label_segments(segments, config=config)
    metrics, sweep = analyse_labels(labels, segments, config=config)
    assert metrics["gold"]["non0"]["auc"]["combined"] >= 0.80
    assert metrics["summary"]["combined"]["coverage"] > 0.5
    norm = metrics["normalisation"]
    chosen = config.normalise + ("+negations" if config.expand_negations else "")
    assert norm[chosen]["mean"] == pytest.approx(max(v["mean"] for v in norm.values()))
    assert norm["lower"]["vader"] >= norm["none"]["vader"]  # ALL-CAPS+digit texts: boost removed
    assert sweep["coverage"].is_monotonic_decreasing


def _cli(argv: list[str]) -> int:
    """The label command without main's error handling, so that errors surface as exceptions."""
    args = build_parser("label").parse_args(argv)
    return args.func(args, load_params(params_path(args.params)))


def test_cli_text_only_parquet_with_params(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small_segments(gold=False).to_parquet(tmp_path / "segments.parquet")
    (tmp_path / "p.yaml").write_text(
        yaml.safe_dump({"labels": {"threshold": 0.1, "report": {"sweep_step": 0.2}}})
    )
    code = _cli(["label", "segments.parquet", "--out", "o", "--report", "r", "--params", "p.yaml"])
    assert code == 0
    labels = read_table(tmp_path / "o" / "labels.parquet")
    assert list(labels.columns) == LABELS_SCHEMA.names and len(labels) == 8
    metrics = json.loads((tmp_path / "r" / "analysis.json").read_text())
    assert metrics["config"]["threshold"] == 0.1 and metrics["gold"]["present"] is False


def test_cli_csv_defaults_and_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no params.yaml here: built-in defaults
    small_segments(gold=True)[["segment_id", "text", "gold_sentiment"]].to_csv("s.csv", index=False)
    assert _cli(["label", "s.csv"]) == 0
    assert (tmp_path / "data" / "labels" / "labels.parquet").exists()
    metrics = json.loads((tmp_path / "reports" / "labels" / "analysis.json").read_text())
    assert metrics["gold"]["present"] is True
    with pytest.raises(DataError, match="neither .parquet nor .csv"):
        _cli(["label", "s.txt"])
    with pytest.raises(DataError, match="not found"):
        _cli(["label", "missing.parquet"])
    with pytest.raises(ParameterError, match="params file nope.yaml not found"):
        _cli(["label", "s.csv", "--params", "nope.yaml"])


def test_dvc_stage_declares_every_labels_param():
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["label"]
    params = yaml.safe_load((REPO / "params.yaml").read_text())["labels"]
    fields = {f"labels.{f.name}" for f in dataclasses.fields(LabelConfig)}
    fields |= {f"labels.report.{f.name}" for f in dataclasses.fields(ReportConfig)}
    fields |= {f"labels.{f.name}" for f in dataclasses.fields(LabelSourceConfig)}
    assert set(stage["params"]) == fields
    assert label_configs(split_source(params)[1]) is not None


@pytest.mark.slow
def test_pipeline_stage_end_to_end(tmp_path):
    segments = small_segments(gold=True)
    segments.to_parquet(tmp_path / "segments.parquet")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"labels": {"combine": "agree"}}))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        "-m",
        "pipelines.label",
        "--in",
        "segments.parquet",
        "--out",
        "out",
        "--report",
        "rep",
    ]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    labels = read_table(tmp_path / "out" / "labels.parquet")
    assert labels["segment_id"].tolist() == segments["segment_id"].tolist()
    metrics = json.loads((tmp_path / "rep" / "analysis.json").read_text())
    assert metrics["config"]["combine"] == "agree"
    assert {p.name for p in (tmp_path / "rep").iterdir()} == {
        "analysis.json",
        "metrics.json",
        "sweep.csv",
        "scores.png",
        "sweep.png",
    }
