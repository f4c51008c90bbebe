"""End to end: `dvc repro` on a small demo corpus, in a copy of the project (slow; runs in CI)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow

#: Shrinks the demo and the training so the whole pipeline runs in a few minutes on 2 cores.
SMALL = {
    "demo": {"videos": 8},
    "train": {"epochs": 15},
}
COPIED = ["pyproject.toml", "params.yaml", "dvc.yaml", ".dvcignore", ".dvc/config", "pipelines", "weaklabel"]


def _copy_project(dest: Path) -> None:
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _shrink_params(path: Path) -> None:
    params = yaml.safe_load(path.read_text())
    for section, values in SMALL.items():
        params.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="module")
def repro(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    _copy_project(root)
    _shrink_params(root / "params.yaml")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root


def test_every_stage_ran_and_is_up_to_date(repro):
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status"], cwd=repro, capture_output=True, text=True, check=True
    )
    assert "up to date" in status.stdout


def test_ingest_counts_conserve(repro):
    segments = pd.read_parquet(repro / "data/ingest/segments.parquet")
    rejects = pd.read_parquet(repro / "data/ingest/rejects.parquet")
    summary = json.loads((repro / "reports/ingest.json").read_text())
    assert len(segments) > 0
    assert summary["lines_read"] == len(segments) + len(rejects)


def test_one_label_per_segment(repro):
    segments = pd.read_parquet(repro / "data/ingest/segments.parquet")
    labels = pd.read_parquet(repro / "data/labels/labels.parquet")
    assert sorted(labels["segment_id"]) == sorted(segments["segment_id"])


def test_report_names_the_backbone_weights_and_every_model(repro):
    from weaklabel.report.verdict import display_name

    metrics = json.loads((repro / "reports/metrics.json").read_text())
    report = (repro / "reports/report.md").read_text()
    listed = yaml.safe_load((repro / "params.yaml").read_text())["train"]["models"]
    trained, skipped = set(metrics["models"]), set(metrics["skipped"])
    assert trained | skipped == set(listed) and not trained & skipped  # each model trained or said why not
    assert set(metrics["auc"]["weak"]["test"]) == trained
    for model in trained:
        assert f"| {display_name(model)} | `{model}` |" in report  # every row names its backbone
    assert "Backbones: " in report and ("RANDOM" in report or "Pretrained" in report)
    assert (repro / "reports/report.html").stat().st_size > 10_000


def test_probe_scores_every_language(repro):
    probe = pd.read_parquet(repro / "reports/probe/probe.parquet")
    assert probe["language"].nunique() >= 7
