"""The ray engine (features.engine: ray) against the local one, on a local Ray instance of 2 CPUs."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import REPO
from tests.test_extract import CLIP, CONFIG, make_segments
from weaklabel.audio.clips import plan_clips
from weaklabel.errors import DataError, MissingDependencyError, ParameterError
from weaklabel.features.extract import extract_features
from weaklabel.features.mel_mean import MelMeanEmbedder
from weaklabel.features.ray_engine import EngineConfig
from weaklabel.features.store import read_meta, read_store

try:
    import ray

    NO_RAY = ""
except ImportError:
    NO_RAY = "ray is not installed (pip install 'weaklabel[ray]')"
needs_ray = pytest.mark.skipif(bool(NO_RAY), reason=NO_RAY)
#: Two actor pools of half a CPU leave one of the two CPUs to the mel tasks.
RAY = EngineConfig(engine="ray", cpus_per_actor=0.5)


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray instance of 2 CPUs whose workers import this checkout (tests start it, not the engine)."""
    if NO_RAY:
        pytest.skip(NO_RAY)
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    # A short folder: Ray's socket paths have a length limit that pytest's tmp_path exceeds.
    with tempfile.TemporaryDirectory(prefix="wlray", ignore_cleanup_errors=True) as temp:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            _temp_dir=temp,
            runtime_env={"env_vars": env},
        )
        yield
        ray.shutdown()


@pytest.fixture(scope="module")
def embedders():
    from weaklabel.features.yamnet import YAMNetEmbedder, yamnet_available

    fast = [MelMeanEmbedder()]
    return [*fast, YAMNetEmbedder(threads=1)] if yamnet_available() else fast


@pytest.fixture
def clips(tmp_path):
    return plan_clips(make_segments(tmp_path), CLIP)


def run(clips, out, embedders, **kwargs):
    return extract_features(clips, out, config=CONFIG, embedders=embedders, verbose=False, **kwargs)


def assert_same_stores(left, right, names):
    for name in names:
        ids, x, meta = read_store(left / name)
        ray_ids, ray_x, ray_meta = read_store(right / name)
        assert ray_ids.tolist() == ids.tolist() and len(set(ray_ids)) == len(ray_ids)
        np.testing.assert_allclose(ray_x, x, rtol=0, atol=1e-6)
        assert ray_meta == meta  # the same identity and provenance: later stages cannot tell


def test_engine_config_checks():
    assert EngineConfig().engine == "local" and EngineConfig().address == "auto"
    for bad, match in (
        ({"engine": "spark"}, "features.engine"),
        ({"address": ""}, "ray start --head"),
        ({"actors": 0}, "features.actors"),
        ({"gpus_per_actor": -1.0}, "features.gpus_per_actor"),
    ):
        with pytest.raises(ParameterError, match=match):
            EngineConfig(**bad)


def test_params_file_has_the_features_section():
    from weaklabel.params import load_params

    engine = load_params(REPO / "params.yaml").section("features", EngineConfig)
    assert engine == EngineConfig()


def test_missing_ray_names_the_extra(monkeypatch, tmp_path, clips):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'weaklabel\[ray\]'") as error:
        run(clips, tmp_path / "features", [MelMeanEmbedder()], engine=RAY)
    assert "\n" not in str(error.value)


@needs_ray
def test_no_cluster_is_one_line_saying_how_to_start_one(tmp_path, clips):
    # In a fresh process: nothing joined, no RAY_ADDRESS; the engine must not start an instance.
    clips.to_parquet(tmp_path / "clips.parquet")
    (tmp_path / "params.yaml").write_text("embed:\n  features: [mel_mean]\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    argv = [sys.executable, "-m", "weaklabel", "features", str(tmp_path / "clips.parquet"), "--engine", "ray"]
    argv += ["--out", str(tmp_path / "f"), "--report", str(tmp_path / "r.json")]
    argv += ["--params", str(tmp_path / "params.yaml")]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert "no Ray cluster reachable" in last and "ray start --head" in last


@needs_ray
@pytest.mark.slow
def test_ray_stores_equal_local_ones_with_the_same_rejects(local_ray, tmp_path, clips, embedders):
    # A float WAV with NaN in it: its header is fine, the slice is not (decode_failed mid-run).
    nan_audio = np.full(16_000 * 3, 0.1, dtype=np.float32)
    nan_audio[8000:9000] = np.nan
    sf.write(tmp_path / "nan.wav", nan_audio, 16_000, subtype="FLOAT")
    nan_segments = pd.DataFrame(
        {"segment_id": ["nan___0"], "audio_path": [str(tmp_path / "nan.wav")], "start": 0.0, "duration": 1.0}
    )
    bad = clips.iloc[:1].assign(segment_id="gone___0", audio_path=str(tmp_path / "gone.wav"))
    nan = plan_clips(nan_segments, CLIP)
    table = pd.concat([clips.iloc[:6], nan, bad, clips.iloc[6:]], ignore_index=True)

    local = run(table, tmp_path / "local", embedders)
    remote = run(table, tmp_path / "ray", embedders, engine=RAY)

    assert (remote.kept, remote.rejected, remote.complete) == (12, 2, True)
    assert remote.rejects_by_reason == local.rejects_by_reason == {"decode_failed": 1, "missing_audio": 1}
    assert remote.clip_status == local.clip_status
    assert_same_stores(tmp_path / "local", tmp_path / "ray", [e.name for e in embedders])
    rejects = pd.read_parquet(tmp_path / "ray" / "rejects.parquet")
    assert sorted(rejects["key"]) == ["gone___0", "nan___0"]


@needs_ray
@pytest.mark.slow
def test_cli_ray_engine_resumes_and_skips_finished_shards(local_ray, tmp_path, clips):
    from weaklabel.cli import main

    clips.to_parquet(tmp_path / "clips.parquet")
    params = tmp_path / "params.yaml"
    params.write_text(
        "embed:\n  features: [mel_mean]\n  batch_size: 4\n  shard_size: 5\n"
        "features:\n  engine: local\n  cpus_per_actor: 0.5\n"
    )
    out, report = tmp_path / "features", tmp_path / "summary.json"
    argv = ["features", str(tmp_path / "clips.parquet"), "--out", str(out), "--params", str(params)]
    argv += ["--report", str(report), "--engine", "ray", "--metrics", str(tmp_path / "metrics.json")]
    argv += ["--checkpoint", str(tmp_path / "checkpoint")]

    assert main([*argv, "--max-shards", "1"]) == 0
    first = json.loads(report.read_text())
    assert not first["complete"] and first["shards_computed"] == 1 and first["clips_computed"] == 5
    stamp = (tmp_path / "checkpoint" / "mel_mean" / "shard-00000.npy").stat().st_mtime_ns
    assert main(argv) == 0
    second = json.loads(report.read_text())
    assert second["complete"] and second["shards_computed"] == 2 and second["clips_computed"] == 7
    assert (out / "mel_mean" / "shard-00000.npy").stat().st_mtime_ns == stamp  # not recomputed
    assert main(argv) == 0 and json.loads(report.read_text())["clips_computed"] == 0

    run(clips, tmp_path / "local", [MelMeanEmbedder()])
    assert_same_stores(tmp_path / "local", out, ["mel_mean"])


#: Where a mel_mean runs on Ray: in the CPU tasks (its own name), or in an actor pool (any other name).
WHERE = pytest.mark.parametrize("name", ["mel_mean", "mel_mean_in_an_actor"], ids=["task", "actor"])


class DiesOnce(MelMeanEmbedder):
    """The averaged mel, whose process exits the first time it is called (a marker file remembers)."""

    def __init__(self, marker, name):
        super().__init__()
        self.marker, self.name = marker, name

    def __call__(self, batch):
        if not self.marker.exists():
            self.marker.touch()
            os._exit(1)  # the worker's process dies mid-run, its batch unfinished
        return super().__call__(batch)


@needs_ray
@pytest.mark.slow
@WHERE
def test_a_killed_worker_is_replaced_without_losing_or_duplicating_rows(local_ray, tmp_path, clips, name):
    marker = tmp_path / "died"
    summary = run(clips, tmp_path / "ray", [DiesOnce(marker, name)], engine=RAY)

    assert marker.exists()  # the task's or actor's process did die
    assert summary.complete and summary.kept == 12 and summary.clips_computed == 12
    run(clips, tmp_path / "local", [DiesOnce(marker, name)])  # the marker is there: the plain averaged mel
    assert_same_stores(tmp_path / "local", tmp_path / "ray", [name])
    assert read_meta(tmp_path / "ray" / name)["embedder"] == "mel_mean"


class Refuses(MelMeanEmbedder):
    """The averaged mel, refusing every batch as bad data."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def __call__(self, batch):
        raise DataError("this batch is bad: one line")


@needs_ray
@pytest.mark.slow
@WHERE
def test_an_error_raised_on_a_worker_arrives_as_itself(local_ray, tmp_path, clips, name):
    with pytest.raises(DataError, match="this batch is bad: one line"):
        run(clips, tmp_path / "ray", [Refuses(name)], engine=RAY)


@needs_ray
@pytest.mark.slow
def test_a_traced_vgg16_is_built_again_on_the_workers_with_the_same_features(local_ray, tmp_path, clips):
    from weaklabel.features.vgg16 import VGG16Embedder

    vgg16 = [VGG16Embedder(weights="random", batch_size=4)]  # CONFIG's settings: the registry's recipe
    run(clips, tmp_path / "local", vgg16)
    with pytest.raises(TypeError):
        ray.cloudpickle.dumps(vgg16[0])  # traced now: its tf.function no longer pickles
    run(clips, tmp_path / "ray", vgg16, engine=RAY)
    assert_same_stores(tmp_path / "local", tmp_path / "ray", ["vgg16"])
