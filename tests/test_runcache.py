"""The features stage's output is one DVC's run-cache can restore, and a run still resumes after a crash.

The stores are built in a checkpoint folder outside the stage's output and move into it once
complete (``extract_features(checkpoint=...)``); the output is an ordinary one (no ``persist``,
which DVC leaves out of its run-cache). The stages' metrics files hold a few flat numbers.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import REPO
from tests.test_extract import CLIP, CONFIG, make_segments
from weaklabel.audio.clips import plan_clips
from weaklabel.errors import DataError
from weaklabel.features.extract import extract_features
from weaklabel.features.mel_mean import MelMeanEmbedder
from weaklabel.features.store import move_stores, read_store


@pytest.fixture
def clips(tmp_path):
    return plan_clips(make_segments(tmp_path), CLIP)


def run(clips, out, checkpoint, **kwargs):
    embedders = [MelMeanEmbedder()]
    return extract_features(
        clips, out, config=CONFIG, embedders=embedders, checkpoint=checkpoint, verbose=False, **kwargs
    )


def test_an_interrupted_run_resumes_in_the_checkpoint_and_moves_into_the_output(tmp_path, clips):
    out, checkpoint = tmp_path / "features", tmp_path / ".weaklabel" / "features"
    first = run(clips, out, checkpoint, max_shards=1)  # "crashes" after one of three shards
    assert not first.complete
    assert not (out / "mel_mean").exists()  # the output never holds an unfinished store
    assert len(list((checkpoint / "mel_mean").glob("shard-*.ids.npy"))) == 1

    second = run(clips, out, checkpoint)
    assert second.complete and second.shards == 3 and second.shards_computed == 2  # resumed, not redone
    assert second.stores == {"mel_mean": str(out / "mel_mean")} and second.root == out
    assert not checkpoint.exists()  # emptied and removed
    ids, features, _ = read_store(out / "mel_mean")
    assert ids.tolist() == clips["segment_id"].tolist() and features.shape == (12, 128)
    assert (out / "rejects.parquet").is_file()
    assert second.features("mel_mean").shape == (12, 128)

    # Run again: the finished stores are taken back into the checkpoint and nothing is recomputed
    third = run(clips, out, checkpoint)
    assert third.complete and third.shards_computed == 0 and not checkpoint.exists()
    assert (read_store(out / "mel_mean")[1] == features).all()

    # Features in place (no checkpoint) are the same numbers
    _, in_place, _ = read_store(run(clips, tmp_path / "direct", None).stores["mel_mean"])
    assert (in_place == features).all()


def test_a_run_with_other_clips_replaces_the_finished_store(tmp_path, clips):
    out = tmp_path / "features"
    run(clips, out, tmp_path / "ck")  # 12 clips: 3 shards of 5
    again = run(clips.iloc[:6], out, tmp_path / "ck")  # another plan: the store starts over
    assert again.shards_computed == 2 and not (out / "mel_mean" / "shard-00002.npy").exists()
    assert read_store(out / "mel_mean")[1].shape == (6, 128)


def test_moving_an_unfinished_store_is_refused(tmp_path, clips):
    run(clips, tmp_path / "out", tmp_path / "ck", max_shards=1)
    with pytest.raises(DataError, match=r"\['mel_mean'\].*not finished: run the extraction again"):
        move_stores(tmp_path / "ck", tmp_path / "out", names=["mel_mean"])


def stages():
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def test_features_stage_is_run_cacheable_with_its_checkpoint_outside_the_outputs():
    stage = stages()["features"]
    outs = [next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]]
    checkpoint = stage["cmd"].split("--checkpoint")[1].split()[0]
    assert checkpoint.startswith(".weaklabel/")
    assert not any(checkpoint.startswith(out) or out.startswith(checkpoint) for out in outs)
    assert "/.weaklabel/" in (REPO / ".gitignore").read_text().split()
    assert "/.weaklabel/" in (REPO / ".dvcignore").read_text().split()


@pytest.mark.parametrize("name", ["ingest", "features", "label"])
def test_stage_is_run_cacheable_with_small_metrics_and_its_full_report_an_output(name):
    stage = stages()[name]
    (metrics,) = [next(iter(m)) for m in stage["metrics"]]
    assert metrics.endswith("metrics.json")
    outs = [o if isinstance(o, str) else next(iter(o)) for o in stage["outs"]]
    assert [o for o in outs if o.endswith(".json")], f"{name}: its full report is not an output"
    # DVC saves no run-cache entry for a stage with a persist output, or an uncached one that is
    # no metric or plot (dvc/stage/__init__.py, Stage.run: run_cache=... not no_cache_outs)
    options = [next(iter(o.values())) for o in stage["outs"] if isinstance(o, dict)]
    assert not [o for o in options if o.get("persist") or o.get("cache") is False]


def test_stage_scripts_write_flat_numeric_metrics(tmp_path, clips, monkeypatch):
    from pipelines import features

    clips.to_parquet(tmp_path / "clips.parquet")
    (tmp_path / "params.yaml").write_text("embed:\n  backbones: [mel_mean]\n  shard_size: 4\n")
    monkeypatch.chdir(tmp_path)
    argv = ["--in", "clips.parquet", "--out", "feats", "--report", "features.json"]
    features.main([*argv, "--metrics", "m.json", "--checkpoint", ".weaklabel/ck"])
    assert json.loads((tmp_path / "m.json").read_text()) == {"kept": 12, "rejected": 0}
    assert read_store(tmp_path / "feats" / "mel_mean")[1].shape == (12, 128)
    assert not (tmp_path / ".weaklabel" / "ck").exists()
    assert json.loads((tmp_path / "features.json").read_text())["stores"] == {"mel_mean": "feats/mel_mean"}
