import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.metrics import roc_auc_score

from tests.conftest import tone
from weaklabel.audio.clips import ClipConfig, fix_length, plan_clips
from weaklabel.audio.io import read_slice
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.egemaps import egemaps_available
from weaklabel.features.extract import extract_features
from weaklabel.features.mel_mean import MelMeanEmbedder
from weaklabel.features.registry import EmbedConfig
from weaklabel.features.store import read_store
from weaklabel.features.yamnet import yamnet_available
from weaklabel.learn.probe import (
    PROBE_SCHEMA,
    ProbeConfig,
    TrainedModel,
    check_embedder,
    embedder_for,
    inspect_file,
    load_trained,
    probe,
    scale_within,
    summarise,
)
from weaklabel.report.probe import write_probe
from weaklabel.sources.recordings import (
    emodb_manifest,
    folder_manifest,
    ravdess_manifest,
    read_manifest,
    recordings_frame,
)
from weaklabel.tables import read_table

RATE = 16_000
CLIP_S = 1.0  # 32 frames: the narrowest image VGG16 takes, fast on 2 cores


def voice(seconds, *, high, seed, sample_rate=RATE, channels=1):
    """A stand-in for speech: a tone (high = "positive", low = "negative") in a little noise."""
    rng = np.random.default_rng(seed)
    wave = tone(seconds, sample_rate=sample_rate, freq=(420.0 if high else 140.0) + 7 * (seed % 5))
    wave = wave + 0.02 * rng.standard_normal(wave.shape[0]).astype(np.float32)
    return wave if channels == 1 else np.repeat(wave[:, None], channels, axis=1)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A tiny dense head, a KNN (and eGeMAPS + LR with the extra) trained through the train stage's API."""
    from weaklabel.learn.dataset import build_dataset
    from weaklabel.learn.train import TrainConfig, train_models

    stores = ("vgg16", "mel_mean", "egemaps") if egemaps_available() else ("vgg16", "mel_mean")

    root = tmp_path_factory.mktemp("trained")
    rows, split, labels = [], [], []
    for video in range(6):
        for segment in range(4):
            positive = segment % 2 == 0
            path = root / f"v{video}_{segment}.wav"
            sf.write(path, voice(1.5, high=positive, seed=10 * video + segment), RATE)
            key = f"v{video}___{segment}"
            rows.append((key, str(path), 0.0, 1.5))
            split.append((key, f"v{video}", "train" if video < 4 else ("valid" if video == 4 else "test")))
            labels.append((key, int(positive), 1.0))
    segments = pd.DataFrame(rows, columns=["segment_id", "audio_path", "start", "duration"])
    clips = plan_clips(segments, ClipConfig(length_s=CLIP_S))
    config = EmbedConfig(weights="random", seed=0, batch_size=8, features=stores, workers=1)
    extract_features(clips, root / "features", config=config, verbose=False)
    dataset = build_dataset(
        pd.DataFrame(split, columns=["segment_id", "video", "split"]),
        pd.DataFrame(labels, columns=["segment_id", "label", "confidence"]),
        stores={name: root / "features" / name for name in stores},
        clips=clips,
    )
    train = TrainConfig(
        models=("dense_head", "knn", "duration") + (("logreg@egemaps",) if "egemaps" in stores else ()),
        dense_head={"hidden": [8], "epochs": 4, "l2": 0.01},
        knn={"n_neighbors": 5},
    )
    train_models(dataset, root / "models", config=train)
    return root / "models"


@pytest.fixture(scope="module")
def trained(models):
    return load_trained(models)


@pytest.fixture(scope="module")
def embedder(trained):
    return embedder_for(trained.features, embed=EmbedConfig(batch_size=8), model=trained.name)


def write_mp3(path, audio, sample_rate):
    """An mp3 made by ffmpeg (a real encoder's framing and tags) when present, else by libsndfile."""
    wav = path.with_suffix(".src.wav")
    sf.write(wav, audio, sample_rate)
    if shutil.which("ffmpeg"):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-b:a", "64k", str(path)], check=True)
    else:  # pragma: no cover
        sf.write(path, audio, sample_rate, format="MP3")
    wav.unlink()


@pytest.fixture
def folder(tmp_path):
    """Two languages, every format and rate; plus an undecodable, an empty and a silent file."""
    root = tmp_path / "probe"
    for lang, seed in (("english", 100), ("german", 200)):
        (root / lang).mkdir(parents=True)
        sf.write(root / lang / "pos_mono16k.wav", voice(2.5, high=True, seed=seed), RATE)
        sf.write(
            root / lang / "pos_stereo44k.wav",
            voice(0.8, high=True, seed=seed + 1, sample_rate=44_100, channels=2),
            44_100,
        )
        sf.write(root / lang / "neg.flac", voice(1.2, high=False, seed=seed + 2), RATE)
        sf.write(root / lang / "neg.ogg", voice(1.0, high=False, seed=seed + 3, sample_rate=22_050), 22_050)
        write_mp3(root / lang / "neg.mp3", voice(1.3, high=False, seed=seed + 4, sample_rate=44_100), 44_100)
    (root / "english" / "garbage.wav").write_bytes(b"RIFF\x00\x00this is not audio" * 20)
    (root / "english" / "empty.wav").write_bytes(b"")
    sf.write(root / "german" / "silent.wav", np.zeros(RATE, np.float32), RATE)
    return root


def with_polarity(manifest):
    names = manifest["path"].str.rsplit("/", n=1).str[-1]
    manifest["polarity"] = np.where(names.str.startswith("pos"), "positive", None)
    manifest.loc[names.str.startswith("neg"), "polarity"] = "negative"
    return recordings_frame(manifest.drop(columns="label").to_dict(orient="records"))


def test_formats_rejects_scaling_and_summary(folder, trained, embedder):
    manifest = with_polarity(folder_manifest(folder))
    result = probe(manifest, trained, embedder=embedder, root=folder, verbose=False)
    scores, rejects, summary = result.scores, result.rejects, result.summary

    assert len(scores) + len(rejects) == len(manifest) == 13  # counts conserve
    reasons = dict(zip(rejects["key"].str.rsplit("/", n=1).str[-1], rejects["reason"], strict=True))
    assert reasons == {"garbage.wav": "decode_error", "empty.wav": "empty", "silent.wav": "silent"}
    assert sorted(scores["file"]) == sorted(
        f"{lang}/{name}"
        for lang in ("english", "german")
        for name in ("pos_mono16k.wav", "pos_stereo44k.wav", "neg.flac", "neg.ogg", "neg.mp3")
    )
    assert list(scores.columns) == PROBE_SCHEMA.names
    assert scores["score"].between(0, 1).all()
    mp3 = scores[scores["file"] == "english/neg.mp3"].iloc[0]
    assert mp3["seconds"] == pytest.approx(1.3, abs=0.1)  # decoded, not just a header
    stereo = scores[scores["file"] == "english/pos_stereo44k.wav"].iloc[0]
    assert stereo["seconds"] == pytest.approx(0.8, abs=1e-3)

    for language, part in scores.groupby("language"):  # min-max within each language, by hand
        low, high = part["score"].min(), part["score"].max()
        if high > low:
            np.testing.assert_allclose(part["scaled"], (part["score"] - low) / (high - low))
            assert part["scaled"].min() == 0 and part["scaled"].max() == 1
        expected_rank = part["score"].rank(method="min", ascending=False).astype(int)
        assert (part["rank"] == expected_rank).all()

        row = summary.set_index("language").loc[language]
        pos, neg = part[part["polarity"] == "positive"], part[part["polarity"] == "negative"]
        assert (row["positive"], row["negative"]) == (len(pos), len(neg)) == (2, 3)
        assert row["mean_scaled_positive"] == pytest.approx(pos["scaled"].mean())
        assert row["mean_scaled_negative"] == pytest.approx(neg["scaled"].mean())
        assert row["positive_higher"] == (pos["scaled"].mean() > neg["scaled"].mean())
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        assert row["auc"] == pytest.approx(roc_auc_score(y, np.r_[pos["score"], neg["score"]]))
    assert summary.set_index("language")["rejected"].to_dict() == {"english": 2, "german": 1}
    assert result.info["rejects_by_reason"] == {"decode_error": 1, "empty": 1, "silent": 1}
    assert "RANDOM" in result.info["backbone"]


def test_scores_follow_the_training_path_and_are_deterministic(tmp_path, trained, embedder):
    path = tmp_path / "long.wav"
    sf.write(path, voice(1.7, high=True, seed=5), RATE)
    manifest = recordings_frame([{"path": str(path), "language": "x", "polarity": "positive"}])
    result = probe(manifest, trained, embedder=embedder, work_dir=tmp_path / "work", verbose=False)
    ids, X, meta = read_store(tmp_path / "work" / "vgg16")
    audio = read_slice(path)
    crop = (audio.size - trained.length) // 2  # centred
    clip = fix_length(audio, trained.length, crop_start=crop)
    expected = embedder({"audio": clip[None, :]})["embedding"]
    np.testing.assert_allclose(X, expected, rtol=1e-5, atol=1e-5)
    proba = trained.model.predict_proba(expected)[:, 1]
    assert result.scores["score"].iloc[0] == pytest.approx(float(proba[0]), abs=1e-6)
    again = probe(manifest, trained, embedder=embedder, verbose=False)
    assert again.scores["score"].iloc[0] == result.scores["score"].iloc[0]
    assert np.isnan(result.scores["scaled"].iloc[0])  # one file: scaling undefined, not made up


def test_mismatched_backbone_is_refused(tmp_path, models, trained):
    from weaklabel.features.vgg16 import VGG16Embedder

    other = VGG16Embedder(weights="random", seed=1, batch_size=8)
    with pytest.raises(DataError, match="weights_fingerprint"):
        check_embedder(other, trained.features, model="dense_head")
    manifest = recordings_frame([{"path": str(tmp_path / "a.wav")}])
    with pytest.raises(DataError, match="the probe's embedder do not reproduce"):
        probe(manifest, trained, embedder=other, verbose=False)

    tampered = tmp_path / "models"
    shutil.copytree(models, tampered)
    document = json.loads((tampered / "bundle.json").read_text())
    document["features"]["vgg16"]["meta"]["weights_fingerprint"] = "0" * 64
    (tampered / "bundle.json").write_text(json.dumps(document))
    with pytest.raises(DataError, match="weights_fingerprint"):
        probe(manifest, load_trained(tampered), embed=EmbedConfig(batch_size=8), verbose=False)

    from_file = {**trained.features, "weights": "file", "weights_file": "mine.h5"}
    with pytest.raises(ParameterError, match="mine.h5"):
        embedder_for(from_file)
    with pytest.raises(DataError, match="cannot be rebuilt"):
        embedder_for({**trained.features, "embedder": "wav2vec"})


def test_load_trained_choices(models):
    assert load_trained(models).name == "dense_head@vgg16"
    knn = load_trained(models, "knn@mel_mean")
    assert (
        knn.features["embedder"] == "mel_mean"
        and knn.length == int(CLIP_S * RATE)
        and knn.sample_rate == RATE
    )
    with pytest.raises(DataError, match="not a feature store"):
        load_trained(models, "duration")
    with pytest.raises(DataError, match="no model 'forest'"):
        load_trained(models, "forest")


def test_mel_mean_model_end_to_end_without_tensorflow_embedder(folder, models, tmp_path):
    knn = load_trained(models, "knn@mel_mean")
    manifest = with_polarity(folder_manifest(folder))
    result = probe(manifest, knn, embed=EmbedConfig(workers=1), root=folder, verbose=False)
    assert len(result.scores) == 10 and result.info["features"] == "mel_mean"
    paths = write_probe(result, tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "probe.parquet",
        "probe.csv",
        "probe_summary.csv",
        "probe_summary.json",
        "probe_rejects.parquet",
        "probe.png",
        "metrics.json",
    }
    metrics = json.loads(paths["metrics"].read_text())  # flat numbers only: the DVC metrics
    assert metrics["files"] == 13 and metrics["scored"] == 10 and metrics["rejected"] == 3
    assert all(isinstance(v, (int, float)) for v in metrics.values())
    table = read_table(paths["probe"])
    assert table["file"].tolist() == result.scores["file"].tolist()
    assert len(read_table(paths["rejects"])) == 3
    document = json.loads(paths["summary"].read_text())
    assert document["files"] == 13 and [r["language"] for r in document["languages"]] == ["english", "german"]
    assert pd.read_csv(paths["csv"]).shape[0] == 10
    assert paths["plot"].stat().st_size > 5_000


def test_paths_leaving_the_probed_folder_are_rejected_and_never_opened(tmp_path, models, monkeypatch):
    import weaklabel.learn.probe as probe_module

    root = tmp_path / "probe"
    root.mkdir()
    sf.write(root / "good.wav", voice(1.2, high=True, seed=1), RATE)
    outside = tmp_path / "outside.wav"  # a readable recording: only containment keeps it out
    sf.write(outside, voice(1.2, high=False, seed=2), RATE)
    (root / "link.wav").symlink_to(outside)
    rows = ["good.wav", "../outside.wav", "/etc/passwd", "/proc/self/environ", "link.wav"]
    (root / "manifest.csv").write_text("path,language\n" + "".join(f"{row},en\n" for row in rows))
    opened = []
    check = probe_module.inspect_file
    monkeypatch.setattr(
        probe_module, "inspect_file", lambda path, **kw: opened.append(path) or check(path, **kw)
    )
    manifest = read_manifest(root / "manifest.csv", root=root)
    result = probe(
        manifest, load_trained(models, "knn@mel_mean"), embed=EmbedConfig(workers=1), root=root, verbose=False
    )
    assert opened == [str(root / "good.wav")]
    assert result.scores["file"].tolist() == ["good.wav"]
    rejects = result.rejects.set_index("key")
    assert (rejects["reason"] == "outside_root").all() and len(rejects) == 4
    assert "symbolic link" in rejects.loc[str(root / "link.wav"), "detail"]
    assert "outside" in rejects.loc["/etc/passwd", "detail"]
    info = result.info
    assert info["files"] == 5 == info["scored"] + info["rejected"] and info["rejects_by_reason"] == {
        "outside_root": 4
    }
    assert result.summary.set_index("language").loc["en", ["files", "scored", "rejected"]].tolist() == [
        5,
        1,
        4,
    ]


def test_nothing_to_score_still_conserves_counts(tmp_path, models):
    sf.write(tmp_path / "silent.wav", np.zeros(RATE, np.float32), RATE)
    manifest = recordings_frame(
        [{"path": str(tmp_path / "silent.wav")}, {"path": str(tmp_path / "gone.wav")}]
    )
    result = probe(manifest, load_trained(models, "knn@mel_mean"), work_dir=tmp_path / "work", verbose=False)
    assert result.scores.empty and result.rejects["reason"].tolist() == ["silent", "missing_file"]
    assert result.info["timing"]["embed_clips_per_s"] is None


@pytest.mark.skipif(not egemaps_available(), reason="the opensmile extra is not installed: no eGeMAPS model")
def test_egemaps_model_probes_through_the_same_path(folder, models):
    lr = load_trained(models, "logreg@egemaps")
    assert lr.features["embedder"] == "egemaps"
    manifest = with_polarity(folder_manifest(folder))
    result = probe(manifest, lr, embed=EmbedConfig(workers=1), root=folder, verbose=False)
    assert len(result.scores) == 10 and result.info["features"] == "egemaps"
    assert result.summary["positive_higher"].tolist() == [True, True]  # high voices trained positive


@pytest.mark.skipif(not yamnet_available(), reason="ai-edge-litert is not installed: no YAMNet model")
def test_yamnet_model_is_rebuilt_from_its_store_and_another_pooling_refused(folder, tmp_path):
    """A model fitted on YAMNet features probes through the same path; the probe's YAMNet is rebuilt
    from the store's meta (pooling, the packaged model by its sha256) and refused when it differs."""
    from sklearn.linear_model import LogisticRegression

    from weaklabel.features.yamnet import YAMNET_SHA256, YAMNetEmbedder

    rows = []
    for k in range(12):
        path = tmp_path / "train" / f"{k}.wav"
        path.parent.mkdir(exist_ok=True)
        sf.write(path, voice(1.5, high=k % 2 == 0, seed=k), RATE)
        rows.append((f"t___{k}", str(path), 0.0, 1.5))
    segments = pd.DataFrame(rows, columns=["segment_id", "audio_path", "start", "duration"])
    window = ClipConfig(length_s=2.0, window="centre")
    config = EmbedConfig(features=("yamnet",), yamnet_pooling="mean+std", workers=1)
    run = extract_features(segments, tmp_path / "features", clips=window, config=config, verbose=False)
    X = run.features("yamnet").to_numpy()
    model = LogisticRegression(C=1.0).fit(X, np.arange(12) % 2 == 0)
    trained = TrainedModel("yamnet_lr", model, run.meta["yamnet"], 2 * RATE, RATE)

    manifest = with_polarity(folder_manifest(folder))
    result = probe(
        manifest, trained, embed=EmbedConfig(workers=1), root=folder, work_dir=tmp_path / "w", verbose=False
    )
    assert (
        len(result.scores) == 10
        and result.info["features"] == "yamnet"
        and result.info["embedder_dim"] == 2048
    )
    assert "YAMNet" in result.info["backbone"] and "RANDOM" not in result.info["backbone"]
    assert result.summary["positive_higher"].tolist() == [True, True]  # high voices were fitted positive
    _, _, meta = read_store(tmp_path / "w" / "yamnet")
    assert meta["pooling"] == "mean+std" and meta["weights_sha256"] == YAMNET_SHA256

    rebuilt = embedder_for(trained.features, embed=EmbedConfig(workers=1))
    assert isinstance(rebuilt, YAMNetEmbedder) and rebuilt.pooling == "mean+std" and rebuilt.threads == 1
    with YAMNetEmbedder(pooling="mean", threads=1) as other:
        with pytest.raises(DataError, match='pooling: trained on "mean\\+std", found "mean"'):
            check_embedder(other, trained.features, model="yamnet_lr")
        with pytest.raises(DataError, match="the probe's embedder do not reproduce"):
            probe(manifest, trained, embedder=other, verbose=False)

    foreign = {**trained.features, "weights_sha256": "ab" * 32, "weights_fingerprint": "ab" * 32}
    with pytest.raises(ParameterError, match="not the yamnet.tflite weaklabel ships.*probe.weights"):
        embedder_for(foreign)
    copy = tmp_path / "copy.tflite"
    copy.write_bytes(Path(rebuilt.weights_path).read_bytes())
    with pytest.raises(DataError, match="weights_fingerprint"):  # the given file is not the model's
        embedder_for(foreign, config=ProbeConfig(weights=str(copy)))


def test_inspect_file_reasons(tmp_path):
    sf.write(tmp_path / "short.wav", tone(0.05), RATE)
    sf.write(tmp_path / "quiet.wav", tone(1.0) * 1e-4, RATE)  # peak -86 dBFS
    sf.write(tmp_path / "nan.wav", np.full(RATE, np.nan, np.float32), RATE, subtype="FLOAT")
    sf.write(tmp_path / "header.wav", np.zeros(0, np.float32), RATE)
    sf.write(tmp_path / "ok.wav", tone(1.0), RATE)
    assert inspect_file(tmp_path / "short.wav")[0] == "too_short"
    assert inspect_file(tmp_path / "quiet.wav")[0] == "silent"
    assert inspect_file(tmp_path / "quiet.wav", silence_dbfs=-100.0)[0] is None
    assert inspect_file(tmp_path / "nan.wav")[0] == "decode_error"
    assert inspect_file(tmp_path / "header.wav")[0] == "empty"
    assert inspect_file(tmp_path / "gone.wav")[0] == "missing_file"
    assert inspect_file(tmp_path / "ok.wav") == (None, "", pytest.approx(1.0))


def test_scale_within_and_summary_edge_cases():
    scaled, rank = scale_within(np.array([0.2, 0.4, 0.3, 0.9, 0.4]), np.array(["a", "a", "a", "b", "a"]))
    np.testing.assert_allclose(scaled, [0.0, 1.0, 0.5, np.nan, 1.0])
    assert rank.tolist() == [4, 1, 3, 1, 1]
    scores = pd.DataFrame(
        {
            "language": ["a", "a", "a", "b", "b"],
            "polarity": pd.array(["positive", "negative", None, "positive", "positive"], dtype="string"),
            "score": [0.6, 0.5, 0.1, 0.7, 0.2],
            "scaled": [1.0, 0.8, 0.0, 1.0, 0.0],
        }
    )
    summary = summarise(scores, rejected={"c": 2}).set_index("language")
    assert summary.loc["a", "positive_higher"] is True and summary.loc["a", "auc"] is None
    assert summary.loc["a", "no_polarity"] == 1 and "AUC needs" in summary.loc["a", "note"]
    assert summary.loc["b", "positive_higher"] is None and summary.loc["b", "mean_scaled_positive"] == 0.5
    assert summary.loc["c", "files"] == 2 and summary.loc["c", "scored"] == 0


def test_config_validation():
    with pytest.raises(ParameterError, match="probe.min_seconds"):
        ProbeConfig(min_seconds=-1.0)
    with pytest.raises(ParameterError, match="silence_dbfs"):
        ProbeConfig(silence_dbfs=3.0)
    with pytest.raises(ParameterError, match="sample rate|Hz"):
        probe(
            recordings_frame([{"path": "/x.wav"}]),
            TrainedModel("m", None, MelMeanEmbedder().meta, 16_000, 8_000),
            verbose=False,
        )


@pytest.mark.slow
def test_real_corpora_with_scheme_builders(shared_data, trained, embedder):
    for builder, folder, language in (
        (emodb_manifest, shared_data / "emodb", "german"),
        (ravdess_manifest, shared_data / "ravdess", "english"),
    ):
        manifest = builder(folder)
        result = probe(manifest, trained, embedder=embedder, root=folder, verbose=False)
        assert len(result.scores) + len(result.rejects) == len(manifest)
        assert len(result.rejects) == 0  # real recordings: all decodable, none silent
        row = result.summary.set_index("language").loc[language]
        scores = result.scores
        pos, neg = scores[scores["polarity"] == "positive"], scores[scores["polarity"] == "negative"]
        assert (row["positive"], row["negative"]) == (
            int((manifest["polarity"] == "positive").sum()),
            int((manifest["polarity"] == "negative").sum()),
        )
        assert row["no_polarity"] == int(manifest["polarity"].isna().sum()) > 0  # neutral etc. kept, scored
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        assert row["auc"] == pytest.approx(roc_auc_score(y, np.r_[pos["score"], neg["score"]]))
        assert scores["emotion"].notna().all()


@pytest.mark.slow
def test_cli_and_stage(folder, models, tmp_path, monkeypatch):
    from pipelines import probe as stage
    from weaklabel.cli import main

    manifest = folder / "manifest.csv"
    rows = ["path,language,polarity,text"]
    for path in sorted(folder.rglob("*.*")):
        if path.suffix != ".csv":
            rel = path.relative_to(folder).as_posix()
            polarity = (
                "positive"
                if path.name.startswith("pos")
                else "negative"
                if path.name.startswith("neg")
                else ""
            )
            rows.append(f"{rel},{rel.split('/')[0]},{polarity},")
    manifest.write_text("\n".join(rows) + "\n")
    params = tmp_path / "params.yaml"
    params.write_text("probe:\n  model: knn@mel_mean\nembed:\n  batch_size: 8\n")
    out = tmp_path / "cli"
    code = main(["probe", str(folder), "--models", str(models), "--out", str(out), "--params", str(params)])
    assert code == 0
    document = json.loads((out / "probe_summary.json").read_text())
    assert document["model"] == "knn@mel_mean" and document["scored"] == 10 and document["rejected"] == 3
    assert all(r["positive"] == 2 and r["negative"] == 3 for r in document["languages"])  # auto manifest.csv
    assert (
        main(["probe", str(folder), "--models", str(models), "--model", "duration", "--out", str(out)]) == 2
    )

    monkeypatch.chdir(tmp_path)
    stage.main(
        ["--in", str(folder), "--manifest", str(manifest), "--models", str(models), "--out", "reports"]
    )
    stage_doc = json.loads((tmp_path / "reports" / "probe_summary.json").read_text())
    assert stage_doc["languages"] == document["languages"]
