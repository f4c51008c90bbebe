from __future__ import annotations

import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import yaml

from weaklabel.audio.clips import CLIPS_SCHEMA
from weaklabel.config import from_mapping
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.identity import check_identity, feature_identity
from weaklabel.features.store import open_store
from weaklabel.labels.labellers import ABSTAIN, LABELS_SCHEMA
from weaklabel.learn.dataset import build_dataset, row_counts
from weaklabel.learn.evaluate import EvaluateConfig, evaluate_models, small_metrics
from weaklabel.learn.split import SplitConfig, make_split, write_split
from weaklabel.learn.train import (
    DEFAULT_MODELS,
    TrainConfig,
    available_models,
    parse_model,
    train_from_paths,
    train_models,
)
from weaklabel.models.bundle import library_versions, load_model, read_bundle
from weaklabel.report.evaluation import evaluation_blocks
from weaklabel.report.render import render_html, render_markdown
from weaklabel.report.verdict import chance_status, control_check, control_kind, display_name, verdict
from weaklabel.sources.mosei import SEGMENTS_SCHEMA
from weaklabel.tables import write_table

VGG_META = {
    "embedder": "vgg16",
    "backbone": "keras.applications.VGG16(include_top=False)",
    "layer": "block5_pool",
    "pooling": "global_average",
    "dim": 24,
    "weights": "random",
    "weights_sha256": "random:0",
    "weights_fingerprint": "abc123",
    "precision": "float32",
    "mel": {"n_mels": 128, "hop_length": 512},
}
MEL_META = {
    "embedder": "mel_mean",
    "dim": 8,
    "mel": {"n_mels": 8},
    "pooling": "mean over frames of log-mel dB",
}
EGEMAPS_META = {
    "embedder": "egemaps",
    "backbone": "openSMILE eGeMAPSv02 functionals",
    "weights": "none (hand-crafted acoustic features, no learned weights)",
    "dim": 88,
}
YAMNET_META = {
    "embedder": "yamnet",
    "pooling": "mean",
    "dim": 16,
    "weights": "audioset",
    "weights_file": "yamnet.tflite",
    "weights_sha256": "469be6a3",
    "weights_fingerprint": "469be6a3",
}
FAST = {
    "dense_head": {"hidden": [16], "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "dense_mel": {"hidden": [8], "epochs": 8, "patience": 3, "learning_rate": 0.01},
    "random_forest": {"n_estimators": 40},
    "knn": {"n_neighbors": 9},
    "logreg": {"Cs": [0.01, 1.0], "folds": 3},
}
#: Rows each store leaves out (by position): two clips lack mel and eGeMAPS features, and YAMNet
#: lacks the first and the last, so the combination yamnet+egemaps lacks three.
STORE_ROWS = {
    "vgg16": slice(None),
    "mel_mean": slice(2, None),
    "egemaps": slice(2, None),
    "yamnet": slice(1, -1),
}


def build_setup(
    root: Path, *, n_videos: int = 30, seed: int = 0, affect_strength: float = 0.0
) -> dict[str, Path]:
    """Segments, clips, labels, four stores and corpus.json, with the weak label planted in the features.

    Ten speakers read the videos in turn (video v is speaker v % 10), as in the demo corpus.
    """
    rng = np.random.default_rng(seed)
    demo = root / "demo"
    rows = []
    for v in range(n_videos):
        video = f"v{v:02d}"
        for s in range(int(rng.integers(10, 17))):
            rows.append((video, s, int(rng.choice([1, 0, ABSTAIN], p=[0.45, 0.35, 0.2]))))
    frame = pd.DataFrame(rows, columns=["video", "segment", "label"])
    n = len(frame)
    ids = frame["video"] + "___" + frame["segment"].astype(str)
    sign = np.where(frame["label"] == 1, 1.0, np.where(frame["label"] == 0, -1.0, 0.0))
    gold = np.round(np.clip(1.5 * sign + rng.normal(0, 1, n), -3, 3))
    seconds = rng.uniform(1, 7, n)
    segments = pd.DataFrame(
        {
            "segment_id": ids,
            "video": frame["video"],
            "speaker": "s" + (frame["video"].str[1:].astype(int) % 10).astype(str),
            "segment": frame["segment"].astype(str),
            "start": 0.0,
            "end": seconds,
            "duration": seconds,
            "text": "words",
            "audio_path": [str(demo / "Audio" / f"{v}.wav") for v in frame["video"]],
            "sample_rate": 16000,
            "audio_seconds": 100.0,
            "gold_sentiment": gold,
            "gold_split": None,
        }
    )
    labels = pd.DataFrame(
        {
            "segment_id": ids,
            "textblob": 0.5 * sign,
            "vader": 0.5 * sign,
            "combined": 0.5 * sign,
            "label": frame["label"].astype(np.int8),
            "confidence": np.abs(sign) * rng.uniform(0.2, 1, n),
            "abstain_reason": np.where(frame["label"] == ABSTAIN, "neutral_band", None),
        }
    )
    clips = pd.DataFrame(
        {
            "segment_id": ids,
            "audio_path": segments["audio_path"],
            "read_start": 0.0,
            "read_seconds": np.minimum(seconds, 7.0),
            "crop_offset": 0.0,
            "pad_left": 0,
            "length": 112_000,
            "sample_rate": 16_000,
        }
    )
    paths = {
        "segments": write_table(segments, root / "segments.parquet", schema=SEGMENTS_SCHEMA),
        "labels": write_table(labels, root / "labels.parquet", schema=LABELS_SCHEMA),
        "clips": write_table(clips, root / "clips.parquet", schema=CLIPS_SCHEMA),
        "vgg16": root / "features" / "vgg16",
        "mel_mean": root / "features" / "mel_mean",
        "egemaps": root / "features" / "egemaps",
        "yamnet": root / "features" / "yamnet",
        "corpus": root / "corpus.json",
    }
    for name, meta, strength in (
        ("vgg16", VGG_META, 1.0),
        ("mel_mean", MEL_META, 0.8),
        ("egemaps", EGEMAPS_META, 0.6),
        ("yamnet", YAMNET_META, 0.9),
    ):
        keep = ids.to_numpy()[STORE_ROWS[name]]
        X = rng.normal(size=(len(keep), meta["dim"])).astype(np.float32)
        X[:, :3] += strength * sign[STORE_ROWS[name], None]
        writer = open_store(paths[name], ids=list(keep), meta=meta, shard_size=128)
        for shard in writer.pending_shards():
            rows_ = slice(shard * 128, (shard + 1) * 128)
            writer.write_shard(shard, X[rows_])
        writer.finish()
    paths["corpus"].write_text(
        json.dumps({"kind": "demo", "corpus": "synthetic test corpus", "affect_strength": affect_strength})
    )
    return paths


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return build_setup(tmp_path_factory.mktemp("setup"))


def dataset_of(setup, *, sources=None):
    segments = pd.read_parquet(setup["segments"])
    labels = pd.read_parquet(setup["labels"])
    split = make_split(segments, labels, config=SplitConfig())
    return build_dataset(
        split,
        labels,
        stores={"vgg16": setup["vgg16"], "mel_mean": setup["mel_mean"]},
        clips=pd.read_parquet(setup["clips"]),
        segments=segments,
        sources=sources,
    )


def test_train_config_validates_models_and_parameters():
    config = TrainConfig(models=["knn", "prior", "logreg@yamnet+egemaps"], dense_head={"hidden": [8, 4]})
    assert config.models == ("knn@mel_mean", "prior", "logreg@yamnet+egemaps")  # the backbone in every name
    assert config.model_params("dense_head") == {"hidden": (8, 4), "seed": 0}
    assert config.model_params("dense_head@yamnet") == {"hidden": (8, 4), "seed": 0}  # params per kind
    assert config.model_params("knn") == {}
    quick = TrainConfig(epochs=5, dense_mel={"epochs": 50})
    assert quick.model_params("dense_mel")["epochs"] == quick.model_params("dense_head")["epochs"] == 5
    assert "epochs" not in quick.model_params("random_forest")
    assert TrainConfig().models == DEFAULT_MODELS
    assert TrainConfig().sources() == ["vgg16", "yamnet", "egemaps", "yamnet+egemaps", "mel_mean", "duration"]
    combo = parse_model("logreg@yamnet+egemaps")
    assert (combo.kind.name, combo.stores, combo.audio) == ("logreg", ("yamnet", "egemaps"), True)
    assert parse_model("dense_head").name == "dense_head@vgg16" and not parse_model("duration").audio
    for entry, message in (
        ("svm@vgg16", "unknown kind 'svm'"),
        ("logreg", "say which features logreg reads"),
        ("prior@vgg16", "prior reads no feature store"),
        ("logreg@yamnet+yamnet", "distinct store names"),
        ("logreg@YAMNet", "distinct store names"),
    ):
        with pytest.raises(ParameterError, match=message):
            TrainConfig(models=[entry])
    with pytest.raises(ParameterError, match="more than once"):
        TrainConfig(models=["dense_head", "dense_head@vgg16"])
    with pytest.raises(ParameterError, match="train.dense_head.layers"):
        TrainConfig(dense_head={"layers": [8]})
    with pytest.raises(ParameterError, match="train.logreg.C;"):
        TrainConfig(logreg={"C": 1.0})
    with pytest.raises(
        ParameterError, match=r"train.logreg.Cs must be a non-empty list of numbers > 0.*'1e-4'"
    ):
        TrainConfig(logreg={"Cs": ["1e-4"]})  # checked when the params load, not after the first models
    with pytest.raises(ParameterError, match="train.dense_head.dropout must be in"):
        TrainConfig(dense_head={"dropout": 1.5})
    with pytest.raises(ParameterError, match="train.egemaps_lr"):
        from_mapping(TrainConfig, {"egemaps_lr": {"C": 1.0}}, section="train")
    with pytest.raises(ParameterError, match="train.epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ParameterError, match="sample_weight"):
        TrainConfig(sample_weight="gold")
    with pytest.raises(ParameterError):
        EvaluateConfig(gold_modes=["has1"])
    with pytest.raises(ParameterError, match="min_videos"):
        EvaluateConfig(min_videos=1)
    with pytest.raises(ParameterError, match="evaluate.protocol"):
        EvaluateConfig(protocol="loso")
    with pytest.raises(ParameterError, match="evaluate.folds"):
        EvaluateConfig(folds=1)
    assert EvaluateConfig(min_videos=3).min_groups == 3 and EvaluateConfig().min_groups == 5


def test_a_combination_joins_the_stores_and_a_row_missing_in_either_is_featureless(setup):
    segments = pd.read_parquet(setup["segments"])
    labels = pd.read_parquet(setup["labels"])
    split = make_split(segments, labels, config=SplitConfig())
    dataset = build_dataset(
        split,
        labels,
        stores={name: setup[name] for name in ("yamnet", "egemaps")},
        sources=["yamnet+egemaps"],
    )
    assert sorted(dataset.features) == ["egemaps", "yamnet"]
    rows = dataset.rows("train")
    combined = dataset.X("yamnet+egemaps", rows)
    assert combined.shape == (len(rows), 16 + 88)
    np.testing.assert_array_equal(combined[:, :16], dataset.X("yamnet", rows))
    np.testing.assert_array_equal(combined[:, 16:], dataset.X("egemaps", rows))
    ids = segments["segment_id"].to_numpy()
    featureless = set(dataset.frame.loc[~dataset.frame["has_features"], "segment_id"])
    assert featureless == {ids[0], ids[1], ids[-1]}  # no egemaps (the first two), no yamnet (first, last)
    reasons = dataset.frame.set_index("segment_id")["reason"]
    assert reasons[ids[-1]] in ("no_yamnet", "abstained", "no_label")


def test_dataset_counts_every_row_once(setup):
    dataset = dataset_of(setup)
    counts = row_counts(dataset)
    frame = dataset.frame
    assert sum(c["segments"] for c in counts.values()) == len(frame)
    for entry in counts.values():
        assert entry["segments"] == sum(v for k, v in entry.items() if k not in ("segments", "scored"))
    assert (frame["reason"] == "no_mel_mean").sum() + (
        (frame["reason"] == "abstained") & ~frame["has_features"]
    ).sum() == 2
    assert set(frame["reason"]) <= {"used", "abstained", "no_label", "no_mel_mean"}
    assert dataset.clip == {"length": 112_000, "sample_rate": 16_000, "length_s": 7.0}


def test_missing_store_and_changed_features_are_refused(setup):
    with pytest.raises(ParameterError, match="--store vgg16="):
        build_dataset(
            pd.DataFrame({"segment_id": ["a"], "video": ["v"], "split": ["train"]}),
            pd.DataFrame({"segment_id": ["a"], "label": [1], "confidence": [0.5]}),
            stores={},
            sources=["vgg16"],
        )
    identity = feature_identity({**VGG_META, "weights_fingerprint": "abc"})
    check_identity(identity, {**VGG_META, "weights_fingerprint": "abc", "shard_size": 7, "weights": "file"})
    with pytest.raises(DataError, match='weights_fingerprint: trained on "abc", found "def"'):
        check_identity(identity, {**VGG_META, "weights_fingerprint": "def"}, model="dense_head")


def test_models_without_their_store_are_skipped_with_the_reason(setup, tmp_path):
    stores = {"vgg16": setup["vgg16"], "mel_mean": setup["mel_mean"], "egemaps": tmp_path / "absent"}
    config, skipped = available_models(TrainConfig(), stores)
    lacking = {"dense_head@yamnet", "logreg@yamnet", "logreg@egemaps", "logreg@yamnet+egemaps"}
    assert set(config.models) == set(DEFAULT_MODELS) - lacking and set(skipped) == lacking
    assert "opensmile" in skipped["logreg@egemaps"] and "no yamnet feature store" in skipped["logreg@yamnet"]
    assert skipped["logreg@yamnet+egemaps"].startswith("no yamnet or egemaps feature store")
    with pytest.raises(DataError, match="no model of train.models"):
        available_models(TrainConfig(models=["dense_head"]), {})
    segments = pd.read_parquet(setup["segments"])
    labels = pd.read_parquet(setup["labels"])
    write_split(make_split(segments, labels, config=SplitConfig()), tmp_path / "split.parquet")
    manifest = train_from_paths(
        labels=setup["labels"],
        split=tmp_path / "split.parquet",
        clips=setup["clips"],
        stores={"mel_mean": setup["mel_mean"]},
        out=tmp_path / "models",
        config=TrainConfig(models=["dense_head", "knn", "logreg@egemaps", "prior"], **{"knn": FAST["knn"]}),
    )
    assert list(manifest["models"]) == ["knn@mel_mean", "prior"]
    assert set(manifest["skipped"]) == {"dense_head@vgg16", "logreg@egemaps"}
    assert manifest["versions"] == library_versions() == read_bundle(tmp_path / "models")["versions"]
    assert not list((tmp_path / "models").rglob("*.joblib"))  # no pickles
    md = render_markdown(
        evaluation_blocks({"models": {}, "skipped": manifest["skipped"]}, figures={}), relative_to=tmp_path
    )
    assert "Not trained: logistic regression on eGeMAPS: no egemaps feature store" in md


#: Short names of the models in the verdict tests.
HEAD, KNN, MEL = "dense_head@vgg16", "knn@mel_mean", "dense_mel@mel_mean"


def fake_metrics(
    test: dict[str, tuple[float, float, float]], *, strength=None, weights="imagenet", spoken="independent"
) -> dict:
    """Metrics with the given test (auc, low, high) per model, for the verdict."""
    return {
        "auc": {
            "weak": {
                "test": {
                    m: {"auc": a, "low": lo, "high": hi, "n": 300, "n_pos": 150, "n_neg": 150, "n_groups": 30}
                    for m, (a, lo, hi) in test.items()
                },
                "valid": {},
            }
        },
        "models": {
            m: {
                "audio": parse_model(m).audio,
                "features": parse_model(m).features,
                "stores": parse_model(m).stores,
            }
            for m in test
        },
        "features": {"vgg16": {"weights": weights, "layer": "block5_pool", "dim": 512}},
        "data": {"demo": None if strength is None else {"affect_strength": strength, "spoken_words": spoken}},
        "settings": {"chance_margin": 0.05},
    }


def control_metrics(test: dict[str, tuple[float, float, float]], *, weights="imagenet") -> dict:
    """Metrics of the negative control (no simulated affect), with the class prior exactly at chance."""
    return fake_metrics({**test, "prior": (0.5, 0.5, 0.5)}, strength=0.0, weights=weights)


def test_verdict_negative_control_passes_near_chance():
    metrics = control_metrics(
        {HEAD: (0.52, 0.45, 0.59), KNN: (0.49, 0.42, 0.56), "duration": (0.51, 0.44, 0.58)}
    )
    text = " ".join(verdict(metrics))
    assert "negative control" in text and "It PASSED: all 2 audio models sit within 0.05 of 0.5" in text
    assert "FAILED" not in text and "RANDOM" not in text
    assert "not clearly different from chance" in text
    assert "No comparison with the original study" in text and "0.63 for the VGG16 head" not in text


def test_strength_zero_with_the_transcripts_words_is_the_prosody_control():
    metrics = fake_metrics(
        {HEAD: (0.52, 0.45, 0.59), KNN: (0.56, 0.52, 0.60), "prior": (0.5, 0.5, 0.5)},
        strength=0.0,
        spoken="transcript",
    )
    text = " ".join(verdict(metrics))
    assert "The prosody control FAILED" in text and "a model that recognises words" in text
    assert control_kind(metrics["data"]["demo"]) == "prosody"
    assert control_kind({"affect_strength": 0.0, "spoken_words": "independent"}) == "full"
    assert control_kind({"affect_strength": 0.7, "spoken_words": "independent"}) is None


def test_verdict_negative_control_fails_and_duration_is_named():
    metrics = control_metrics(
        {HEAD: (0.70, 0.64, 0.76), KNN: (0.58, 0.52, 0.64), "duration": (0.68, 0.62, 0.74)},
        weights="random",
    )
    lines = verdict(metrics)
    text = " ".join(lines)
    assert lines[0].startswith("**The VGG16 backbone has RANDOM weights")
    assert "negative control FAILED" in text and "padding length is a likely leak" in text
    assert "Duration alone predicts the label" in text
    assert "dense head on VGG16 and KNN on averaged mels do not beat duration alone" in text


def test_verdict_negative_control_wide_intervals_pass_and_name_repeated_sentences():
    metrics = fake_metrics(
        {HEAD: (0.65, 0.45, 0.80), KNN: (0.52, 0.40, 0.60), "duration": (0.5, 0.4, 0.6)},
        strength=0.0,
    )
    metrics["data"]["repeated_text"] = {"test": {"clips": 37, "text_in_train": 26}}
    text = " ".join(verdict(metrics))
    assert "It PASSED: every audio model's interval holds 0.5, but" in text
    assert "dense head on VGG16 (0.650 [0.450, 0.800]) lies more than 0.05 from it" in text
    assert "26 of the 37 labelled clips scored on the test split repeat a transcript" in text
    assert "FAILED" not in text


def test_verdict_without_intervals_judges_nothing():
    metrics = fake_metrics(
        {HEAD: (0.60, None, None), KNN: (0.8, None, None), "duration": (0.57, None, None)},
        strength=0.0,
    )
    text = " ".join(verdict(metrics))
    assert "0.600 (no CI)" in text and "not judged: too few speakers" in text
    assert "It cannot be judged" in text and "above chance" not in text
    assert "Duration alone predicts" not in text and "FAILED" not in text
    assert "beats" not in text


def test_verdict_words_come_from_the_paired_intervals():
    metrics = fake_metrics(
        {HEAD: (0.80, 0.75, 0.85), KNN: (0.60, 0.55, 0.66), "duration": (0.50, 0.44, 0.56)},
        strength=1.0,
    )
    metrics["paired"] = {
        HEAD: {
            "vs_duration": {"other": "duration", "diff": 0.3, "low": 0.2, "high": 0.4},
            "vs_best": {"other": KNN, "diff": 0.2, "low": 0.1, "high": 0.3},
        },
        KNN: {
            "vs_duration": {"other": "duration", "diff": 0.1, "low": -0.02, "high": 0.2},
            "vs_best": {"other": HEAD, "diff": -0.2, "low": -0.3, "high": -0.1},
        },
    }
    text = " ".join(verdict(metrics))
    assert "it beats duration alone (difference +0.300 [+0.200, +0.400])" in text
    assert "it beats the best other model, KNN on averaged mels (difference +0.200" in text
    assert "it no better than duration alone" not in text
    assert "KNN on averaged mels scores ROC AUC 0.600 [0.550, 0.660]" in text
    assert "it worse than" not in text and "is worse than the best other model, dense head on VGG16" in text
    assert "is no better than duration alone (difference +0.100 [-0.020, +0.200])" in text
    assert "SIMULATED" in text and "sentence length does not explain" in text
    assert chance_status({"auc": 0.54, "low": 0.51, "high": 0.57}, margin=0.05) == "chance"
    assert chance_status({"auc": 0.3, "low": 0.2, "high": 0.4}, margin=0.05) == "below"


def test_ceiling_is_said_and_the_study_only_on_mosei():
    metrics = fake_metrics({HEAD: (1.0, 1.0, 1.0), KNN: (0.7, 0.6, 0.8)})
    metrics["data"]["kind"] = "mosei"
    text = " ".join(verdict(metrics))
    assert "1.000 (at ceiling, interval uninformative)" in text
    assert "dense head on VGG16 sits at the ceiling" in text
    assert "The original study reported test AUC 0.63 for the VGG16 head" in text
    md = render_markdown(evaluation_blocks(metrics, figures={}), relative_to=Path("."))
    assert "The original study beside ours" in md and "| study test |" in md
    metrics["data"]["kind"] = "demo"
    md = render_markdown(evaluation_blocks(metrics, figures={}), relative_to=Path("."))
    assert "The original study beside ours" not in md and "| study test |" not in md


def test_manifest_mode_speaks_of_recordings_speakers_and_gold_labels():
    metrics = fake_metrics({HEAD: (0.7, 0.6, 0.8), "duration": (0.5, 0.4, 0.6)})
    metrics["data"] = {
        "kind": "manifest",
        "corpus": "a recordings manifest (emodb), gold labels",
        "groups": "group",
        "segments": 535,
        "speakers": 10,
        "videos": 10,
        "gold_segments": 0,
        "demo": None,
    }
    metrics["protocol"], metrics["folds"] = "kfold", 5
    text = " ".join(verdict(metrics))
    assert "against the gold labels" in text and "against the weak labels" not in text
    assert "this corpus is a recordings manifest with gold labels, not CMU-MOSEI" in text
    md = render_markdown(evaluation_blocks(metrics, figures={}), relative_to=Path("."))
    assert "535 recordings from 10 speakers; labels are the manifest's gold labels." in md
    assert "segments carry gold sentiment" not in md and "videos" not in md.split("## Backbone")[0]
    assert "speakers as the manifest's group column names them" in md
    assert "Models against the gold labels" in md


def test_control_check_passes_only_when_every_audio_interval_holds_chance():
    ok = control_metrics({HEAD: (0.55, 0.45, 0.66), KNN: (0.47, 0.40, 0.56), "duration": (0.3, 0.2, 0.4)})
    assert control_check(ok) == (True, [])  # duration is not an audio model
    above = control_metrics({HEAD: (0.62, 0.55, 0.70), KNN: (0.5, 0.4, 0.6)})
    passed, reasons = control_check(above)
    assert not passed and reasons == ["dense head on VGG16: 0.620 [0.550, 0.700] lies above chance"]
    below = control_metrics({HEAD: (0.41, 0.33, 0.48), KNN: (0.5, None, None)})
    passed, reasons = control_check(below)
    assert not passed and len(reasons) == 2 and "lies below chance" in reasons[0]
    assert "has no interval to judge" in reasons[1]
    assert control_check({"models": {}}) == (False, ["no audio model was scored"])
    md = render_markdown(evaluation_blocks(below, figures={}), relative_to=Path("."))
    assert "## Negative control" in md and "**FAILED**: dense head on VGG16" in md


def kfold_run(setup, out: Path, *, folds: int = 3) -> tuple[dict, pd.DataFrame, dict, object]:
    """Split into folds, train quick models per fold, evaluate: (evaluation, scores, roc, dataset)."""
    segments = pd.read_parquet(setup["segments"])
    labels = pd.read_parquet(setup["labels"])
    split = make_split(segments, labels, config=SplitConfig(), folds=folds)
    stores = {"vgg16": setup["vgg16"], "mel_mean": setup["mel_mean"]}
    config = TrainConfig(
        models=["logreg@vgg16", "knn", "duration", "prior"], logreg=FAST["logreg"], knn=FAST["knn"]
    )
    dataset = build_dataset(
        split, labels, stores=stores, clips=pd.read_parquet(setup["clips"]), segments=segments
    )
    train_models(dataset, out, config=config)
    corpus = json.loads(Path(setup["corpus"]).read_text())
    evaluation, scores, roc = evaluate_models(
        out, dataset, config=EvaluateConfig(n_boot=200, folds=folds), segments=segments, corpus=corpus
    )
    return evaluation, scores, roc, dataset


def test_kfold_scores_every_labelled_clip_once_out_of_fold(setup, tmp_path):
    evaluation, scores, roc, dataset = kfold_run(setup, tmp_path / "models")
    frame = dataset.frame
    usable = set(frame.loc[(frame["reason"] == "used") & frame["has_features"], "segment_id"])
    for model, rows in scores.groupby("model"):
        assert sorted(rows["segment_id"]) == sorted(usable), model  # each labelled clip exactly once
    fold_of = frame.set_index("segment_id")["fold"]
    assert (scores["fold"].to_numpy() == fold_of.reindex(scores["segment_id"]).to_numpy()).all()
    assert (frame[frame["fold"] >= 0].groupby("speaker")["fold"].nunique() == 1).all()
    oof = pd.read_parquet(tmp_path / "models" / "oof.parquet")
    assert list(oof.columns) == ["model", "segment_id", "speaker", "fold", "score"]
    bundle = read_bundle(tmp_path / "models")
    assert bundle["protocol"] == "kfold" and bundle["folds"] == 3 and bundle["groups"] == "speaker"
    assert [f["fold"] for f in bundle["models"]["knn@mel_mean"]["folds"]] == [0, 1, 2]
    for entry in bundle["models"]["logreg@vgg16"]["folds"]:  # validation speakers in every fold
        assert entry["n_valid"] > 0 and entry["n_train"] + entry["n_valid"] + entry["n_test"] <= len(usable)

    assert evaluation["headline"] == "oof" and set(evaluation["auc"]["weak"]) == {"oof"}
    head = evaluation["auc"]["weak"]["oof"]["logreg@vgg16"]
    assert head["auc"] > 0.8 and head["n"] == len(usable) and head["n_groups"] == 10
    assert head["low"] <= head["auc"] <= head["high"]
    assert [e["fold"] for e in evaluation["per_fold"]["weak"]["knn@mel_mean"]] == [0, 1, 2]
    paired = evaluation["paired"]["logreg@vgg16"]
    assert paired["vs_duration"]["other"] == "duration" and paired["vs_duration"]["low"] > 0
    assert paired["vs_best"]["other"] == "knn@mel_mean"
    assert set(roc) == {"oof"} and list(roc["oof"].columns) == ["model", "fpr", "tpr"]
    assert set(evaluation["auc"]) == {"weak", "gold_has0", "gold_non0"}
    assert evaluation["data"]["speakers"] == 10 and evaluation["data"]["kind"] == "demo"

    metrics = small_metrics(evaluation)
    assert len(metrics) < 40 and all(isinstance(v, (int, float)) for v in metrics.values())
    assert metrics["auc.logreg@vgg16.weak"] == head["auc"] and "auc.logreg@vgg16.gold" in metrics
    assert metrics["clips"] == len(usable) and metrics["speakers"] == 10
    md = render_markdown(evaluation_blocks(evaluation, figures={}), relative_to=tmp_path)
    assert "3-fold cross-validation, stratified by label and grouped by speaker" in md
    assert "| fold0 |" in md and "out of fold AUC [95% CI]" in md and "AUC per fold" in md

    again, *_ = kfold_run(setup, tmp_path / "again")  # deterministic for a seed
    assert again["auc"] == evaluation["auc"] and again["paired"] == evaluation["paired"]

    dataset.metas["vgg16"] = {**dataset.metas["vgg16"], "weights_fingerprint": "other"}
    with pytest.raises(DataError, match="weights_fingerprint"):  # out-of-fold scores of other features
        evaluate_models(tmp_path / "models", dataset, config=EvaluateConfig(n_boot=10, folds=3))


def test_report_renders_both_formats(tmp_path):
    png = tmp_path / "fig.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    metrics = fake_metrics({HEAD: (0.6, 0.5, 0.7)}, weights="random")
    blocks = evaluation_blocks(metrics, figures={"a figure": png})
    md = render_markdown(blocks, relative_to=tmp_path)
    page = render_html(blocks)
    assert "> **WARNING: Backbones: RANDOM weights (NOT transfer learning): VGG16.**" in md
    assert "![a figure](fig.png)" in md
    assert 'class="warn"' in page and "data:image/png;base64," in page and "<strong>" in page
    assert "| dense head on VGG16 | `dense_head@vgg16` |" in md


@pytest.mark.slow
def test_split_train_evaluate_report_end_to_end(tmp_path, monkeypatch):
    from pipelines import evaluate as evaluate_stage
    from pipelines import split as split_stage
    from pipelines import train as train_stage

    paths = build_setup(tmp_path / "data")
    params = {
        "split": {"train": 0.8, "valid": 0.1, "test": 0.1, "seed": 0, "mode": "grouped"},
        "train": {"seed": 0, "sample_weight": "confidence", **FAST},
        "evaluate": {"protocol": "kfold", "folds": 3, "n_boot": 200, "min_speakers": 2},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    stores = ["--features", str(paths["vgg16"].parent)]
    split_stage.main(
        ["--segments", str(paths["segments"]), "--labels", str(paths["labels"]), "--out", "split"]
    )
    common = [
        "--labels",
        str(paths["labels"]),
        "--split",
        "split/split.parquet",
        "--clips",
        str(paths["clips"]),
    ]
    train_stage.main([*common, *stores, "--out", "models"])
    evaluate_stage.main(
        [*common, *stores, "--models", "models", "--segments", str(paths["segments"])]
        + ["--corpus", str(paths["corpus"]), "--out", "reports"]
    )

    manifest = read_bundle("models")
    assert list(manifest["models"]) == list(DEFAULT_MODELS)  # every backbone's store is there
    assert (
        manifest["clip"]["length"] == 112_000 and manifest["features"]["vgg16"]["meta"]["weights"] == "random"
    )
    head = manifest["models"][HEAD]
    assert head["kind"] == "dense_head" and head["stores"] == ["vgg16"] and len(head["folds"]) == 3
    assert head["feature_identity"]["vgg16"]["weights_fingerprint"] == "abc123"
    combo = manifest["models"]["logreg@yamnet+egemaps"]
    assert combo["stores"] == ["yamnet", "egemaps"] and combo["fitted"]["n_features_in"] == 16 + 88
    assert set(combo["feature_identity"]) == {"yamnet", "egemaps"}
    for name in ("logreg@vgg16", "logreg@yamnet", "logreg@egemaps", "logreg@yamnet+egemaps"):
        fitted = manifest["models"][name]["fitted"]
        assert (
            fitted["C"] in (0.01, 1.0) and fitted["C_selection"] == "inner_cv" and fitted["inner_folds"] == 3
        )
    assert manifest["groups"] == "speaker" and manifest["protocol"] == "kfold"
    assert manifest["models"][KNN]["sample_weight"] == "none"
    assert manifest["models"]["random_forest@mel_mean"]["sample_weight"] == "confidence"
    assert (Path("models") / HEAD / "model.keras").is_file()
    assert sorted(p.name for p in (Path("models") / "logreg@yamnet").iterdir()) == [
        "model.json",
        "weights.json",
    ]
    assert type(load_model("models", "dense_head@yamnet")).__name__ == "DenseHead"

    metrics = json.loads(Path("reports/metrics.json").read_text())
    assert len(metrics) < 40 and all(isinstance(v, (int, float)) for v in metrics.values())
    assert set(metrics) == {f"auc.{m}.{t}" for m in DEFAULT_MODELS for t in ("weak", "gold")} | {
        "clips",
        "speakers",
    }
    evaluation = json.loads(Path("reports/evaluation.json").read_text())
    assert set(evaluation["auc"]) == {"weak", "gold_has0", "gold_non0"}
    for target in evaluation["auc"].values():
        assert set(target) == {"oof"} and set(target["oof"]) == set(DEFAULT_MODELS)
    oof = evaluation["auc"]["weak"]["oof"]
    assert oof[HEAD]["auc"] > 0.8 and oof["logreg@yamnet"]["auc"] > 0.8
    assert [e["auc"] for e in evaluation["per_fold"]["weak"]["prior"]] == [0.5, 0.5, 0.5]
    for estimate in oof.values():
        assert estimate["low"] <= estimate["auc"] <= estimate["high"] and estimate["n_groups"] == 10
    assert metrics["clips"] == oof[KNN]["n"] and metrics["speakers"] == 10
    assert (
        evaluation["models"]["logreg@yamnet"]["fit"]["C"]
        == manifest["models"]["logreg@yamnet"]["fitted"]["C"]
    )
    roc = pd.read_csv("reports/plots/roc_oof.csv")
    assert list(roc.columns) == ["model", "fpr", "tpr"] and set(roc["model"]) == set(DEFAULT_MODELS)
    assert sorted(p.name for p in Path("reports/plots").iterdir()) == ["roc_oof.csv"]

    md = Path("reports/report.md").read_text()
    page = Path("reports/report.html").read_text()
    banner = (
        "Backbones: Pretrained: YAMNet (AudioSet). RANDOM weights (NOT transfer learning): VGG16. "
        "No learned weights: eGeMAPS, averaged mels."
    )
    assert f"> **WARNING: {banner}**" in md and "NOT transfer learning" in page
    for name in DEFAULT_MODELS:  # every row names its backbone
        assert f"| {display_name(name)} | `{name}` |" in md
    assert "| logistic regression on YAMNet + eGeMAPS | `logreg@yamnet+egemaps` | C = " in md
    assert "(inner CV: 3 folds grouped by speaker (" in md
    assert "| duration only |" in md and "| class prior |" in md
    assert "The class-prior baseline scores 0.500 in every fold" in md
    assert "No comparison with the original study" in md and "The original study beside ours" not in md
    assert "prosody control FAILED" in md and "**FAILED**: " in md  # the planted signal is heard
    repeats = evaluation["data"]["repeated_text"]["oof"]  # every synthetic transcript is "words"
    assert repeats["text_in_train"] == repeats["clips"] == oof[KNN]["n"]
    assert page.count("data:image/png;base64,") == 6 and 'src="roc.png"' not in page
    for name in (
        "roc",
        "scores",
        *(f"diagnostics/{n}" for n in ("confusion", "calibration", "auc_by_group")),
    ):
        image = matplotlib.image.imread(f"reports/{name}.png")[..., :3]
        red = (np.abs(image - np.array([0xCC, 0, 0]) / 255).max(axis=-1) < 0.02).mean(axis=1)
        assert red[:3].min() > 0.9, f"{name}.png lacks the random-backbone warning"  # VGG16 is random
    assert Path("reports/diagnostics/learning_curves.png").is_file()
    for heading in ("Confusion at P(positive) > 0.5", "Calibration", "Per-speaker AUC", "Provenance"):
        assert f"## {heading}" in md
    assert "## Learning curves of the dense networks" in md and "## Weak labels against gold" in md
    assert set(evaluation["provenance"]) >= {"git", "packages", "params", "date_utc"}


@pytest.mark.slow
def test_cli_holdout_split_then_train_and_baselines_are_deterministic(tmp_path, monkeypatch):
    from weaklabel.cli import main

    paths = build_setup(tmp_path / "data", n_videos=20)
    params = {
        "train": {
            "models": ["random_forest", "knn", "duration", "prior"],
            **{"random_forest": FAST["random_forest"]},
        },
        "evaluate": {"n_boot": 100, "protocol": "holdout"},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    segments = ["--segments", str(paths["segments"])]
    tables = ["--labels", str(paths["labels"]), "--clips", str(paths["clips"])]
    tables += ["--features", str(tmp_path / "data" / "features")]
    args = [*tables, "--split", "split.parquet"]
    assert main(["split", *segments, "--labels", str(paths["labels"]), "--out", "."]) == 0
    split = pd.read_parquet("split.parquet")
    assert set(split["split"]) == {"train", "valid", "test"} and (split["fold"] == -1).all()
    assert main(["train", *args, "--out", "models_a"]) == 0
    assert main(["train", *args, "--out", "models_b"]) == 0
    assert not Path("models_a/oof.parquet").exists()
    evaluate = ["evaluate", *segments, *args, "--corpus", str(paths["corpus"])]
    assert main([*evaluate, "--models", "models_a", "--out", "rep_a"]) == 0
    assert main([*evaluate, "--models", "models_b", "--out", "rep_b"]) == 0
    a = json.loads(Path("rep_a/evaluation.json").read_text())
    b = json.loads(Path("rep_b/evaluation.json").read_text())
    assert a["auc"] == b["auc"] and a["paired"] == b["paired"]
    assert a["headline"] == "test" and set(a["auc"]["weak"]) == {"valid", "test"} and a["per_fold"] == {}
    assert sorted(p.name for p in Path("rep_a/plots").iterdir()) == ["roc_test.csv", "roc_valid.csv"]
    assert json.loads(Path("rep_a/metrics.json").read_text()) == json.loads(
        Path("rep_b/metrics.json").read_text()
    )
    # A split the models were not trained on is refused.
    split.loc[split.index[:20], "split"] = "test"
    split.to_parquet("other.parquet")
    assert (
        main(
            [
                "evaluate",
                *segments,
                *tables,
                "--split",
                "other.parquet",
                "--models",
                "models_a",
                "--out",
                "rep_c",
            ]
        )
        == 2
    )


def test_train_refuses_a_train_split_without_usable_rows(setup, tmp_path):
    labels = pd.read_parquet(setup["labels"]).assign(label=np.int8(ABSTAIN))
    write_table(labels, tmp_path / "labels.parquet", schema=LABELS_SCHEMA)
    split = make_split(pd.read_parquet(setup["segments"]), config=SplitConfig())
    split.to_parquet(tmp_path / "split.parquet")
    with pytest.raises(DataError, match="no usable training rows"):
        train_from_paths(
            labels=tmp_path / "labels.parquet",
            split=tmp_path / "split.parquet",
            clips=setup["clips"],
            stores={},
            out=tmp_path / "models",
            config=TrainConfig(models=["duration"]),
        )


def test_verdict_negative_control_below_chance_names_a_flipped_duration():
    metrics = control_metrics(
        {HEAD: (0.47, 0.34, 0.56), MEL: (0.37, 0.25, 0.46), "duration": (0.35, 0.26, 0.44)},
        weights="random",
    )
    text = " ".join(verdict(metrics))
    assert (
        "negative control FAILED" in text
        and "dense net on averaged mels: 0.370 [0.250, 0.460] lies below chance" in text
    )
    assert "below chance too: sentence length relates to the class one way in training" in text


def test_control_judges_the_family_of_audio_models_by_simultaneous_intervals():
    metrics = control_metrics({HEAD: (0.57, 0.505, 0.63), KNN: (0.50, 0.44, 0.56)})
    assert control_check(metrics)[0] is False  # one 95% interval each: a marginal miss fails
    metrics["simultaneous"] = {
        "level": 0.975,
        "models": {
            HEAD: {"auc": 0.57, "low": 0.49, "high": 0.65},
            KNN: {"auc": 0.5, "low": 0.43, "high": 0.57},
        },
    }
    assert control_check(metrics) == (True, [])
    metrics["simultaneous"]["models"][KNN] = {"auc": 0.6, "low": 0.52, "high": 0.68}
    assert control_check(metrics) == (False, ["KNN on averaged mels: 0.600 [0.520, 0.680] lies above chance"])
