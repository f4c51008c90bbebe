"""End to end: `dvc repro` on a small demo corpus with 3 folds, in a copy of the project (slow; in CI)."""

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

#: Shrinks the demo and the training so the whole pipeline runs in a few minutes on 2 cores.
SMALL = {
    "demo": {"videos": 8},
    "train": {"epochs": 15},
    "evaluate": {"folds": 3, "n_boot": 200},
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


def _shrink_params(path: Path, sections: dict = SMALL) -> None:
    params = yaml.safe_load(path.read_text())
    for section, values in sections.items():
        params.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def _dvc(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=root, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def repro(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    _copy_project(root)
    _shrink_params(root / "params.yaml")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    result = _dvc(root, "repro")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root


def test_manifest_mode_does_not_build_the_demo(tmp_path):
    """With the corpus, manifest and probe folder elsewhere, no stage but demo itself needs the demo."""
    _copy_project(tmp_path)
    manifest = {"corpus": "data/mine", "manifest": "data/mine/manifest.csv", "probe": "data/mine/probe"}
    _shrink_params(tmp_path / "params.yaml", {"data": manifest, "labels": {"source": "manifest"}})
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for stage in ("evaluate", "probe"):
        dag = _dvc(tmp_path, "dag", "--dot", stage)
        assert dag.returncode == 0, dag.stderr[-2000:]
        assert "demo" not in dag.stdout and "ingest" in dag.stdout, dag.stdout


@pytest.mark.slow
def test_every_stage_ran_and_is_up_to_date(repro):
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status"], cwd=repro, capture_output=True, text=True, check=True
    )
    assert "up to date" in status.stdout


@pytest.mark.slow
def test_ingest_counts_conserve(repro):
    segments = pd.read_parquet(repro / "data/ingest/segments.parquet")
    rejects = pd.read_parquet(repro / "data/ingest/rejects.parquet")
    summary = json.loads((repro / "reports/ingest.json").read_text())
    assert len(segments) > 0
    assert summary["lines_read"] == len(segments) + len(rejects)


@pytest.mark.slow
def test_one_label_per_segment(repro):
    segments = pd.read_parquet(repro / "data/ingest/segments.parquet")
    labels = pd.read_parquet(repro / "data/labels/labels.parquet")
    assert sorted(labels["segment_id"]) == sorted(segments["segment_id"])


@pytest.mark.slow
def test_report_names_the_backbone_weights_and_every_model(repro):
    from weaklabel.report.verdict import display_name

    evaluation = json.loads((repro / "reports/evaluation.json").read_text())
    metrics = json.loads((repro / "reports/metrics.json").read_text())
    report = (repro / "reports/report.md").read_text()
    listed = yaml.safe_load((repro / "params.yaml").read_text())["train"]["models"]
    trained, skipped = set(evaluation["models"]), set(evaluation["skipped"])
    assert trained | skipped == set(listed) and not trained & skipped  # each model trained or said why not
    assert evaluation["protocol"] == "kfold" and set(evaluation["auc"]["weak"]["oof"]) == trained
    assert len(metrics) < 40 and {f"auc.{m}.weak" for m in trained} <= set(metrics)
    assert metrics["clips"] == pd.read_parquet(repro / "data/models/oof.parquet")["segment_id"].nunique()
    assert (repro / "reports/plots/roc_oof.csv").is_file() and json.loads(
        (repro / "data/ingest/corpus.json").read_text()
    )["kind"] == "demo"
    assert "3-fold cross-validation" in report and "The original study beside ours" not in report
    for model in trained:
        assert f"| {display_name(model)} | `{model}` |" in report  # every row names its backbone
    assert "Backbones: " in report and ("RANDOM" in report or "Pretrained" in report)
    assert (repro / "reports/report.html").stat().st_size > 10_000


@pytest.mark.slow
def test_probe_scores_every_language(repro):
    probe = pd.read_parquet(repro / "reports/probe/probe.parquet")
    assert probe["language"].nunique() >= 7


@pytest.mark.slow
def test_dvc_metrics_fit_a_terminal(repro):
    """`dvc metrics show` lists few, numeric columns: the details live in outputs, not metrics."""
    shown = _dvc(repro, "metrics", "show", "--json")
    assert shown.returncode == 0, shown.stderr[-2000:]
    (workspace,) = json.loads(shown.stdout).values()  # keyed by revision ("" or "workspace")
    files = workspace["data"]

    def leaves(value):
        if isinstance(value, dict):
            return [leaf for v in value.values() for leaf in leaves(v)]
        return [value]

    values = [leaf for entry in files.values() for leaf in leaves(entry["data"])]
    assert len(values) < 40, sorted(files)
    assert all(isinstance(v, (int, float)) for v in values)


#: The negative control: no simulated affect and spoken words independent of the label.
#: 20 videos = 20 speakers: a speaker bootstrap over fewer gives intervals too narrow to judge.
CONTROL = {**SMALL, "demo": {"videos": 20, "affect_strength": 0.0, "spoken_words": "independent"}}


@pytest.fixture(scope="module")
def control(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("control")
    _copy_project(root)
    _shrink_params(root / "params.yaml", CONTROL)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    result = _dvc(root, "repro", "evaluate")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root


@pytest.mark.slow
def test_the_negative_control_passes(control):
    """With nothing in the audio that depends on the label, every audio model's interval holds 0.5."""
    from weaklabel.report.verdict import control_check

    evaluation = json.loads((control / "reports/evaluation.json").read_text())
    assert evaluation["data"]["demo"] == {
        **evaluation["data"]["demo"],
        "affect_strength": 0.0,
        "spoken_words": "independent",
    }
    passed, reasons = control_check(evaluation)
    assert passed, reasons
    report = (control / "reports/report.md").read_text()
    assert "## Negative control" in report and "**PASSED**" in report
