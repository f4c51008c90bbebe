import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.audio.clips import ClipConfig, load_clip, plan_clips
from weaklabel.audio.mel import MelConfig
from weaklabel.errors import DataError, ParameterError
from weaklabel.features import extract, registry
from weaklabel.features.extract import extract_features
from weaklabel.features.mel_mean import MelMeanEmbedder
from weaklabel.features.registry import EmbedConfig, make_embedders
from weaklabel.features.store import read_meta, read_store

CONFIG = EmbedConfig(weights="random", batch_size=4, shard_size=5, workers=2)
CLIP = ClipConfig(length_s=1.0)  # 32 frames: the narrowest image VGG16 takes, fast on 2 cores


def make_segments(root, *, videos=3, per_video=4):
    rng = np.random.default_rng(1)
    rows = []
    for v in range(videos):
        audio = (0.05 * rng.normal(size=16_000 * 10)).astype(np.float32) + tone(10.0, freq=200.0 * (v + 1))
        path = root / f"video{v}.wav"
        sf.write(path, audio, 16_000)
        rows += [(f"video{v}___{s}", str(path), 2.0 * s, 0.6 + 0.3 * s) for s in range(per_video)]
    return pd.DataFrame(rows, columns=["segment_id", "audio_path", "start", "duration"])


@pytest.fixture(scope="module")
def embedders():
    from weaklabel.features.vgg16 import VGG16Embedder

    return [VGG16Embedder(weights="random", batch_size=4), MelMeanEmbedder()]


@pytest.fixture
def clips(tmp_path):
    return plan_clips(make_segments(tmp_path), CLIP)


def expected(clips, embedders):
    audio = np.stack([load_clip(row) for row in clips.itertuples(index=False)])
    return {e.name: e({"audio": audio})["embedding"] for e in embedders}


def run(clips, out, embedders, **kwargs):
    return extract_features(clips, out, config=CONFIG, embedders=embedders, verbose=False, **kwargs)


def test_one_pass_fills_every_store_and_rejects_bad_clips(tmp_path, clips, embedders):
    good = clips.copy()
    bad = clips.iloc[:4].reset_index(drop=True)
    bad["segment_id"] = ["gone___0", "text___0", "late___0", "empty___0"]
    bad.loc[0, "audio_path"] = str(tmp_path / "missing.wav")
    bad.loc[1, "audio_path"] = None
    bad.loc[2, "read_start"] = 99.0
    bad.loc[3, "read_seconds"] = 0.0
    table = pd.concat([good.iloc[:5], bad, good.iloc[5:]], ignore_index=True)

    summary = run(table, tmp_path / "features", embedders)

    assert (summary.clips, summary.kept, summary.rejected) == (16, 12, 4)
    assert summary.rejects_by_reason == {
        "missing_audio": 1,
        "no_audio": 1,
        "slice_out_of_range": 1,
        "empty_clip": 1,
    }
    assert summary.complete and summary.shards == 3 and summary.clips_computed == 12
    want = expected(good, embedders)
    for name, dim in (("vgg16", 512), ("mel_mean", 128)):
        ids, features, meta = read_store(tmp_path / "features" / name)
        assert ids.tolist() == good["segment_id"].tolist()
        assert features.shape == (12, dim)
        np.testing.assert_allclose(features, want[name], rtol=1e-4, atol=1e-5)
        assert meta["clips"]["rows"] == 16 and meta["embedder"] == name
    assert read_meta(tmp_path / "features" / "vgg16")["weights"] == "random"
    rejects = pd.read_parquet(tmp_path / "features" / "rejects.parquet")
    assert sorted(rejects["key"]) == ["empty___0", "gone___0", "late___0", "text___0"]
    assert set(rejects["stage"]) == {"features"}
    json.dumps(summary.to_dict())
    assert summary.peak_rss_mb > 0 and summary.clips_per_s > 0


def test_interrupted_run_resumes_at_the_next_shard(tmp_path, clips, embedders):
    out = tmp_path / "features"
    first = run(clips, out, embedders, max_shards=1)
    assert not first.complete and first.shards_computed == 1 and first.clips_computed == 5 and first.notes
    with pytest.raises(DataError):
        read_store(out / "vgg16")
    stamp = (out / "vgg16" / "shard-00000.npy").stat().st_mtime_ns

    second = run(clips, out, embedders)

    assert second.complete and second.shards_computed == 2 and second.clips_computed == 7
    assert (out / "vgg16" / "shard-00000.npy").stat().st_mtime_ns == stamp  # not recomputed
    straight = run(clips, tmp_path / "straight", embedders)
    for name in ("vgg16", "mel_mean"):
        np.testing.assert_array_equal(read_store(out / name)[1], read_store(tmp_path / "straight" / name)[1])
    assert straight.clips_computed == 12
    assert run(clips, out, embedders).clips_computed == 0  # finished: nothing to do


def test_changed_settings_restart_the_store(tmp_path, clips, embedders):
    out = tmp_path / "features"
    run(clips, out, embedders)
    before = read_store(out / "mel_mean")[1]
    other_mel = MelConfig(top_db=60.0)
    changed = extract_features(
        clips, out, config=CONFIG, mel=other_mel, embedders=[MelMeanEmbedder(mel=other_mel)], verbose=False
    )
    assert changed.clips_computed == 12 and read_meta(out / "mel_mean")["mel"]["top_db"] == 60.0
    assert not np.allclose(read_store(out / "mel_mean")[1], before)
    assert read_meta(out / "vgg16")["mel"]["top_db"] == 80.0  # untouched: not in this run

    replanned = plan_clips(make_segments(tmp_path), ClipConfig(length_s=1.0, seed=1))
    assert run(replanned, out, embedders).clips_computed == 12  # another clip plan: same ids, new features


def test_clip_failing_mid_run_is_rejected_and_the_rest_kept(tmp_path, clips, embedders, monkeypatch):
    broken = clips["segment_id"].iloc[6]

    def flaky(row):
        if row.segment_id == broken:
            raise DataError("cannot decode: corrupt frame")
        return load_clip(row)

    monkeypatch.setattr(extract, "load_clip", flaky)
    summary = run(clips, tmp_path / "features", embedders)

    assert (summary.kept, summary.rejected, summary.rejects_by_reason) == (11, 1, {"decode_failed": 1})
    assert summary.complete
    ids, features, _ = read_store(tmp_path / "features" / "vgg16")
    kept = clips[clips["segment_id"] != broken]
    assert ids.tolist() == kept["segment_id"].tolist()
    np.testing.assert_allclose(features, expected(kept, embedders[:1])["vgg16"], rtol=1e-4, atol=1e-5)
    rejects = pd.read_parquet(tmp_path / "features" / "rejects.parquet")
    assert rejects["key"].tolist() == [broken] and "corrupt frame" in rejects["detail"].iloc[0]


def test_nothing_readable_still_conserves_counts(tmp_path, clips):
    clips = clips.assign(audio_path=str(tmp_path / "gone.wav"))
    summary = extract_features(clips, tmp_path / "features", embedders=[MelMeanEmbedder()], verbose=False)
    assert (summary.clips, summary.kept, summary.rejected, summary.complete) == (12, 0, 12, True)
    ids, x, _ = read_store(tmp_path / "features" / "mel_mean")
    assert ids.size == 0 and x.shape == (0, 128)
    assert len(pd.read_parquet(tmp_path / "features" / "rejects.parquet")) == 12


def test_config_and_table_checks(tmp_path, clips):
    assert EmbedConfig(features=["mel_mean"]).features == ("mel_mean",)
    with pytest.raises(ParameterError, match="embed.features"):
        EmbedConfig(features=["egemaps_v0"])
    with pytest.raises(ParameterError, match="embed.batch_size"):
        EmbedConfig(batch_size=0)
    with pytest.raises(ParameterError, match="mel.sample_rate"):
        extract_features(clips, tmp_path, mel=MelConfig(sample_rate=22_050), embedders=[MelMeanEmbedder()])
    with pytest.raises(DataError, match="CLIPS_SCHEMA"):
        extract_features(clips.drop(columns="pad_left"), tmp_path, embedders=[MelMeanEmbedder()])
    with pytest.raises(ParameterError, match="max_shards"):
        extract_features(clips, tmp_path, embedders=[MelMeanEmbedder()], max_shards=-1)
    (only,) = make_embedders(EmbedConfig(features=["mel_mean"]))
    assert isinstance(only, MelMeanEmbedder)


def test_backbones_name_the_stores_and_the_mel_always_comes_along():
    assert EmbedConfig().backbones == registry.DEFAULT_BACKBONES == ("vgg16", "yamnet", "egemaps")
    assert EmbedConfig().embedder_names == ("vgg16", "yamnet", "egemaps", "mel_mean")
    assert EmbedConfig(backbones=["egemaps"]).embedder_names == ("egemaps", "mel_mean")
    assert EmbedConfig(backbones=["mel_mean", "vgg16"]).embedder_names == ("mel_mean", "vgg16")
    exact = EmbedConfig(backbones=["vgg16"], features=["yamnet"])
    assert exact.embedder_names == ("yamnet",)  # features: exactly these, for library callers
    # derived, not stored: a replaced config derives its embedders anew
    assert dataclasses.replace(EmbedConfig(), backbones=("vgg16",)).embedder_names == ("vgg16", "mel_mean")
    assert dataclasses.replace(exact, batch_size=2).embedder_names == ("yamnet",)
    for bad in (["resnet"], [], ["vgg16", "vgg16"]):
        with pytest.raises(ParameterError, match="embed.backbones must list distinct embedders"):
            EmbedConfig(backbones=bad)
    with pytest.raises(
        ParameterError, match=r"must be a list of embedder names, got 'vgg16'; e.g. \[vgg16\]"
    ):
        EmbedConfig(backbones="vgg16")
    with pytest.raises(ParameterError, match="embed.yamnet_pooling"):
        EmbedConfig(yamnet_pooling="max")
    with pytest.raises(ParameterError, match="embed.precision must be one of auto"):
        EmbedConfig(precision="float16")


@pytest.mark.parametrize(
    ("old", "instead"),
    [
        ("both", "backbones: [vgg16, egemaps]"),
        ("vgg16", "backbones: [vgg16]"),
        ("egemaps", "backbones: [egemaps]"),
        ("resnet", "backbones: [...] with names out of egemaps, yamnet, vgg16"),
    ],
)
def test_the_removed_backbone_param_says_what_to_write_instead(tmp_path, old, instead):
    from weaklabel.params import load_params

    path = tmp_path / "params.yaml"
    path.write_text(f"embed:\n  backbone: {old}\n  weights: random\n")
    with pytest.raises(ParameterError) as error:
        load_params(path).section("embed", EmbedConfig)
    message = str(error.value)
    assert f"instead of `backbone: {old}` write `{instead}`" in message
    assert "embed.backbones" in message and "[vgg16, yamnet, egemaps]" in message
    with pytest.raises(ParameterError, match="embed.backbone was replaced"):
        EmbedConfig(backbone=old)


def stand_ins(monkeypatch, missing: set[str]):
    """Cheap embedders under every name, and the OPTIONAL packages of ``missing`` not installed."""
    from weaklabel.errors import MissingDependencyError

    def factory(name):
        def build(config, mel):
            if name in missing:
                raise MissingDependencyError(f"no package for {name} here")
            embedder = MelMeanEmbedder(mel=mel)
            embedder.name = name
            return embedder

        return build

    for name in registry.EMBEDDERS:
        monkeypatch.setitem(registry.EMBEDDERS, name, factory(name))
    for name in registry.OPTIONAL:
        status = f"the {name} package is not installed" if name in missing else None
        monkeypatch.setitem(registry.OPTIONAL, name, lambda status=status: status)


def test_default_backbones_leave_out_a_missing_optional_one_with_a_warning(monkeypatch, caplog):
    stand_ins(monkeypatch, missing={"egemaps", "yamnet"})
    with caplog.at_level("WARNING", logger="weaklabel.features.extract"):
        built = make_embedders(EmbedConfig())
    assert [e.name for e in built] == ["vgg16", "mel_mean"]
    assert "backbone egemaps left out: the egemaps package is not installed" in caplog.text
    assert "backbone yamnet left out" in caplog.text
    reordered = EmbedConfig(backbones=("egemaps", "vgg16", "yamnet"))  # the default list, in any order
    assert [e.name for e in make_embedders(reordered)] == ["vgg16", "mel_mean"]


@pytest.mark.parametrize(
    "config",
    [
        EmbedConfig(backbones=("vgg16", "egemaps")),
        EmbedConfig(backbones=("yamnet",)),
        EmbedConfig(features=("vgg16", "yamnet", "egemaps", "mel_mean")),
    ],
)
def test_an_optional_backbone_asked_for_explicitly_fails_loudly(monkeypatch, config):
    from weaklabel.errors import MissingDependencyError

    stand_ins(monkeypatch, missing={"egemaps", "yamnet"})
    with pytest.raises(MissingDependencyError, match="no package for"):
        make_embedders(config)


def test_installed_keeps_what_can_be_built(monkeypatch):
    stand_ins(monkeypatch, missing={"yamnet"})
    assert registry.installed(["yamnet", "vgg16", "egemaps", "mel_mean"]) == ["vgg16", "egemaps", "mel_mean"]


def test_batches_say_where_the_real_audio_lies(tmp_path, clips):
    seen = []

    class Recorder(MelMeanEmbedder):
        def __call__(self, batch):
            seen.append({k: np.asarray(batch[k]).copy() for k in ("pad_left", "audio_samples")})
            return super().__call__(batch)

    extract_features(clips, tmp_path / "features", config=CONFIG, embedders=[Recorder()], verbose=False)
    pad_left = np.concatenate([b["pad_left"] for b in seen])
    samples = np.concatenate([b["audio_samples"] for b in seen])
    np.testing.assert_array_equal(pad_left, clips["pad_left"].to_numpy())
    expected = np.minimum(np.round(clips["read_seconds"] * 16_000), clips["length"] - clips["pad_left"])
    np.testing.assert_array_equal(samples, expected.to_numpy().astype(np.int64))


def test_recordings_are_planned_by_the_window_and_read_back(tmp_path):
    segments = make_segments(tmp_path)
    segments.loc[len(segments)] = ["gone___0", str(tmp_path / "gone.wav"), 0.0, 1.0]
    for window in ("random", "centre"):
        config = ClipConfig(length_s=1.0, window=window, seed=4)
        out = tmp_path / window
        summary = extract_features(
            segments, out, clips=config, config=CONFIG, embedders=[MelMeanEmbedder()], verbose=False
        )
        plan = plan_clips(segments, config)
        pd.testing.assert_frame_equal(summary.plan, plan)
        assert read_meta(out / "mel_mean")["clips"]["sha256"] == extract.clips_digest(plan)
        frame = summary.features("mel_mean")
        ids, x, _ = read_store(out / "mel_mean")
        assert frame.index.name == "segment_id" and frame.index.tolist() == ids.tolist()
        assert "gone___0" not in frame.index and frame.shape == (12, 128)
        np.testing.assert_array_equal(frame.to_numpy(), x)
        rejects = summary.rejects_table()
        assert rejects[["key", "reason"]].values.tolist() == [["gone___0", "missing_audio"]]
        assert len(frame) + len(rejects) == len(segments)  # counts conserve
    assert set(summary.to_dict()) == {f.name for f in dataclasses.fields(summary)} - {"root", "plan"}
    with pytest.raises(ParameterError, match="made no 'vgg16' features"):
        summary.features("vgg16")
    with pytest.raises(ParameterError, match="already a clips plan"):
        extract_features(plan, tmp_path / "x", clips=CLIP, embedders=[MelMeanEmbedder()], verbose=False)
    with pytest.raises(DataError, match="duration"):
        extract_features(
            segments.drop(columns="duration"), tmp_path / "x", clips=CLIP, embedders=[MelMeanEmbedder()]
        )


def test_full_window_gives_embedders_every_sample(tmp_path):
    segments = make_segments(tmp_path, videos=1)
    seen = []

    class Recorder(MelMeanEmbedder):
        def __call__(self, batch):
            seen.append((batch["audio"].shape[1], batch["pad_left"].copy(), batch["audio_samples"].copy()))
            return super().__call__(batch)

    summary = extract_features(
        segments, tmp_path / "f", clips=ClipConfig(window="full"), embedders=[Recorder()], verbose=False
    )
    samples = np.round(segments["duration"].to_numpy() * 16_000).astype(np.int64)
    assert summary.kept == 4 and {width for width, _, _ in seen} == {samples.max()}
    assert not np.concatenate([pad for _, pad, _ in seen]).any()
    np.testing.assert_array_equal(np.concatenate([n for _, _, n in seen]), samples)


def test_stage_script_with_params(tmp_path, clips, monkeypatch):
    from pipelines import features

    clips_path = tmp_path / "clips.parquet"
    clips.to_parquet(clips_path)
    (tmp_path / "params.yaml").write_text(
        "mel:\n  n_mels: 64\nembed:\n  features: [mel_mean]\n  shard_size: 4\n  weights: random\n"
    )
    monkeypatch.chdir(tmp_path)
    features.main(["--in", str(clips_path), "--out", "feats", "--report", "reports/features.json"])
    ids, x, meta = read_store(tmp_path / "feats" / "mel_mean")
    assert x.shape == (12, 64) and meta["shard_size"] == 4
    report = json.loads((tmp_path / "reports" / "features.json").read_text())
    assert report["kept"] == 12 and report["complete"]


@pytest.mark.slow
def test_cli_features_end_to_end(tmp_path, clips):
    from weaklabel.cli import main

    clips_path = tmp_path / "clips.parquet"
    clips.to_parquet(clips_path)
    params = tmp_path / "params.yaml"
    params.write_text("embed:\n  backbones: [vgg16]\n  weights: auto\n  batch_size: 4\n  shard_size: 8\n")
    out = tmp_path / "features"
    argv = ["features", str(clips_path), "--out", str(out), "--params", str(params), "--weights", "random"]
    argv += ["--report", str(tmp_path / "summary.json"), "--metrics", str(tmp_path / "metrics.json")]
    argv += ["--checkpoint", str(tmp_path / "checkpoint")]
    assert main([*argv, "--max-shards", "1"]) == 0
    assert not json.loads((tmp_path / "summary.json").read_text())["complete"]
    assert not out.exists()  # unfinished stores stay in the checkpoint folder
    assert main(argv) == 0
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"kept": 12, "rejected": 0}
    ids, x, meta = read_store(out / "vgg16")
    assert x.shape == (12, 512) and meta["weights"] == "random" and meta["shard_size"] == 8
    assert read_store(out / "mel_mean")[1].shape == (12, 128)


def test_real_recordings(shared_data, tmp_path, embedders):
    from weaklabel.audio.io import audio_info

    paths = (
        sorted((shared_data / "emodb").glob("*.wav"))[:4]
        + sorted((shared_data / "ravdess").glob("*.wav"))[:2]
    )
    segments = pd.DataFrame(
        {
            "segment_id": [f"{p.stem}___0" for p in paths],
            "audio_path": [str(p) for p in paths],
            "start": 0.0,
            "duration": [audio_info(p).seconds for p in paths],
        }
    )
    clips = plan_clips(segments, ClipConfig(length_s=2.0))
    summary = run(clips, tmp_path / "features", embedders)
    assert summary.complete and (summary.kept, summary.rejected) == (6, 0)
    ids, x, _ = read_store(tmp_path / "features" / "vgg16")
    assert x.shape == (6, 512) and np.isfinite(x).all()
    mel = read_store(tmp_path / "features" / "mel_mean")[1]
    assert mel.shape == (6, 128) and (mel < 0).all() and (mel > -80).all()
