"""Cross-corpus evaluation: protocols, corpora and speakers, CIs by speaker, the duration baseline, means,
outputs, CLI, real data."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.audio.clips import ClipConfig
from weaklabel.audio.io import read_slice
from weaklabel.cli import main
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.egemaps import egemaps_available
from weaklabel.features.mel_mean import MelMeanEmbedder
from weaklabel.features.registry import EmbedConfig
from weaklabel.features.store import read_store
from weaklabel.learn.crosscorpus import (
    MEANS_COLUMNS,
    PREDICTIONS_SCHEMA,
    TABLE_SCHEMA,
    UNTESTED_COLUMNS,
    CrossCorpusConfig,
    crosscorpus,
    load_manifest,
    mean_auc,
    merge_inputs,
)
from weaklabel.learn.evaluate import EvaluateConfig
from weaklabel.learn.probe import TrainedModel, probe
from weaklabel.models.baselines import DurationModel
from weaklabel.models.logreg import LogisticModel
from weaklabel.report.crosscorpus import plot_heatmap, to_markdown, write_crosscorpus
from weaklabel.sources.manifest_ingest import manifest_tables
from weaklabel.tables import read_table

FAST = CrossCorpusConfig(min_ci_speakers=3)
BOOT = EvaluateConfig(n_boot=200)


def write_corpus(root, rng, *, corpora=("alpha", "beta"), speakers=3, per_class=3):
    """Tone corpora where valence is pitch (positive high, negative low) and duration is random."""
    rows = []
    for corpus in corpora:
        for s in range(speakers):
            for label in (1, 0):
                for k in range(per_class):
                    name = f"{corpus}_{s}_{label}_{k}.wav"
                    freq = (420.0 if label else 180.0) + rng.uniform(-20, 20)
                    audio = tone(rng.uniform(1.0, 3.0), freq=freq) + 0.01 * rng.normal(size=1)
                    sf.write(root / name, audio.astype(np.float32), 16_000)
                    rows.append(
                        {"path": str(root / name), "label": label, "group": f"s{s}", "corpus": corpus}
                    )
            name = f"{corpus}_{s}_neutral.wav"
            sf.write(root / name, tone(2.0, freq=300.0), 16_000)
            rows.append({"path": str(root / name), "label": None, "group": f"s{s}", "corpus": corpus})
    return pd.DataFrame(rows)


def assert_counts_add_up(result, manifest):
    """Every manifest row is evaluated, unlabelled or rejected, in its corpus, and nothing twice."""
    counts = result.counts
    assert (counts["files"] == counts["unlabelled"] + counts["rejected"] + counts["evaluated"]).all()
    assert (counts["evaluated"] == counts["positive"] + counts["negative"]).all()
    assert counts["files"].sum() == len(manifest) and counts["rejected"].sum() == len(result.rejects)


def add_file(manifest, path, *, corpus, label=1, speaker="s0"):
    """Append one file to a manifest, in place."""
    manifest.loc[len(manifest)] = {"path": str(path), "label": label, "group": speaker, "corpus": corpus}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpora")
    manifest = write_corpus(root, np.random.default_rng(0))
    result = crosscorpus(manifest, backbones=["mel_mean"], config=FAST, evaluate=BOOT, work_dir=root / "work")
    return root, manifest, result


def test_config_validation():
    assert CrossCorpusConfig(protocols=["loco"]).protocols == ("loco",)
    with pytest.raises(ParameterError, match="protocols"):
        CrossCorpusConfig(protocols=("loso",))
    with pytest.raises(ParameterError, match="min_ci_speakers"):
        CrossCorpusConfig(min_ci_speakers=0)
    for backbones in (["resnet"], ["mel_mean+resnet"], ["mel_mean+mel_mean"], ["mel_mean", "mel_mean"]):
        with pytest.raises(ParameterError, match="backbones"):
            crosscorpus(pd.DataFrame(), backbones=backbones)
    with pytest.raises(ParameterError, match=r"train\.logreg.*unknown parameter\(s\) C;"):
        crosscorpus(pd.DataFrame(), backbones=["mel_mean"], logreg={"C": 1.0})
    with pytest.raises(ParameterError, match=r"train\.duration.*unknown parameter\(s\) Cs; it takes C"):
        crosscorpus(pd.DataFrame(), backbones=["mel_mean"], duration={"Cs": [1.0]})


def test_table_has_every_cell_with_the_duration_baseline(synthetic):
    _, manifest, result = synthetic
    table = result.table
    assert list(table.columns) == TABLE_SCHEMA.names
    assert table[["protocol", "test_corpus"]].values.tolist() == [
        ["loco", "alpha"],
        ["loco", "beta"],
        ["within", "alpha"],
        ["within", "beta"],
    ]
    assert (table["status"] == "ok").all()
    # pitch carries the label: the mel features find it; duration is random and does not
    assert (table["auc"] > 0.9).all()
    assert (table["duration_auc"] < 0.85).all()
    assert ((table["ci_low"] <= table["auc"]) & (table["auc"] <= table["ci_high"])).all()
    assert (table["ci_unit"] == "speaker").all() and (table["n_test_speakers"] == 3).all()
    loco = table.iloc[0]
    assert loco.train_corpora == "beta" and loco.n_train == 18 and loco.n_test == 18
    # C: chosen in every fit by an inner CV grouped by speaker (3 training speakers: 3 folds)
    assert float(loco.C) in LogisticModel().Cs
    assert loco.C_selection == "inner CV: 3 folds grouped by speaker (3 speakers)"
    within = table.iloc[2]  # one fit per held-out speaker, each on the 2 others
    assert within.C_selection.startswith("inner CV: 2 folds grouped by speaker (2 speakers) (3x)")
    assert (loco.n_test_pos, loco.n_test_neg) == (9, 9)
    counts = result.counts.set_index("corpus")
    assert counts.loc["alpha", "unlabelled"] == 3 and counts.loc["alpha", "evaluated"] == 18
    assert counts.loc["alpha", "speakers"] == 3
    assert_counts_add_up(result, manifest)
    assert result.untested.empty and list(result.untested.columns) == list(UNTESTED_COLUMNS)
    assert result.notes == [
        f"{corpus}: 3 files unlabelled, not scored (emotion: none given 3)" for corpus in ("alpha", "beta")
    ]


def test_predictions_are_held_out(synthetic):
    _, _, result = synthetic
    preds = result.predictions
    assert list(preds.columns) == PREDICTIONS_SCHEMA.names
    assert set(preds["backbone"]) == {"mel_mean", "duration"}
    within = preds[(preds["protocol"] == "within") & (preds["backbone"] == "mel_mean")]
    assert within.groupby("test_corpus")["segment_id"].nunique().tolist() == [18, 18]  # each file once
    loco = preds[(preds["protocol"] == "loco") & (preds["test_corpus"] == "alpha")]
    assert set(loco["corpus"]) == {"alpha"}


def test_outputs(synthetic, tmp_path):
    _, _, result = synthetic
    paths = write_crosscorpus(result, tmp_path)
    assert len(read_table(paths["table"])) == 4 and len(pd.read_csv(paths["csv"])) == 4
    assert paths["heatmap"].read_bytes()[:4] == b"\x89PNG"
    text = paths["markdown"].read_text()
    assert "duration" in text and "Mean ROC AUC" in text and "| loco | alpha | beta | mel_mean |" in text
    assert "**Backbones: No learned weights: averaged mels.**" in text
    assert "| C | C chosen by |" in text and "inner CV: 3 folds grouped by speaker (3 speakers) |" in text


def test_few_speakers_and_one_corpus(tmp_path, rng):
    manifest = write_corpus(tmp_path, rng, corpora=("solo",), speakers=1, per_class=3)
    add_file(manifest, tmp_path / "gone.wav", corpus="solo")  # no such file
    result = crosscorpus(
        manifest, backbones=["mel_mean"], config=FAST, evaluate=BOOT, work_dir=tmp_path / "work"
    )
    assert result.table.empty and result.means.empty and result.predictions.empty
    assert result.untested.values.tolist() == [
        ["loco", "solo", "no other corpus to train on"],
        ["within", "solo", "1 speaker: leaving one speaker out needs >= 2"],
    ]
    assert result.rejects["reason"].tolist() == ["missing_file"]
    assert result.counts.loc[0, ["files", "unlabelled", "rejected", "evaluated"]].tolist() == [8, 1, 1, 6]
    assert_counts_add_up(result, manifest)
    paths = write_crosscorpus(result, tmp_path / "report")  # nothing evaluated still makes a report
    text = paths["markdown"].read_text()
    assert "- within solo: 1 speaker: leaving one speaker out needs >= 2" in text and "0 (0/0)" not in text
    assert paths["heatmap"].read_bytes()[:4] == b"\x89PNG" and len(read_table(paths["table"])) == 0


def test_one_corpus_from_two_manifests_is_one_corpus(synthetic):
    """Two halves of one corpus (spelt two ways) must not become two corpora that train on each other."""
    root, manifest, _ = synthetic
    alpha, beta = manifest[manifest["corpus"] == "alpha"], manifest[manifest["corpus"] == "beta"]
    halves = [alpha[alpha["group"] == "s0"], alpha[alpha["group"] != "s0"].assign(corpus=" Alpha"), beta]
    result = crosscorpus(
        halves,
        backbones=["mel_mean"],
        config=CrossCorpusConfig(protocols=("loco",), min_ci_speakers=3),
        evaluate=BOOT,
        work_dir=root / "work",
    )
    assert result.table[["test_corpus", "train_corpora", "n_test", "n_test_speakers"]].values.tolist() == [
        ["alpha", "beta", 18, 3],
        ["beta", "alpha", 18, 3],
    ]
    assert result.notes[0] == "alpha: merged from 2 inputs (spelt Alpha, alpha)"
    assert result.counts["corpus"].tolist() == ["alpha", "beta"]
    assert "- alpha: merged from 2 inputs" in to_markdown(result)


def test_merge_inputs_names_each_corpus_once():
    first = pd.DataFrame({"path": ["a.wav", "b.wav"], "corpus": ["EmoDB", "tess"]})
    second = pd.DataFrame({"path": ["c.wav"], "corpus": ["emodb "]})
    merged, notes = merge_inputs([first, second, pd.DataFrame({"path": ["d.wav"], "corpus": ["TESS"]})])
    assert merged["corpus"].tolist() == ["EmoDB", "tess", "EmoDB", "tess"]
    assert notes == [
        "EmoDB: merged from 2 inputs (spelt EmoDB, emodb)",
        "tess: merged from 2 inputs (spelt TESS, tess)",
    ]
    assert merge_inputs([first])[1] == []  # one input per corpus: nothing to say


def test_a_one_speaker_corpus_only_trains(synthetic, tmp_path):
    """It trains the other corpora's loco cells, gets no test row of its own, and the means skip it."""
    root, manifest, _ = synthetic
    solo = write_corpus(tmp_path, np.random.default_rng(1), corpora=("solo",), speakers=1, per_class=2)
    both = pd.concat([manifest, solo], ignore_index=True)
    result = crosscorpus(both, backbones=["mel_mean"], config=FAST, evaluate=BOOT, work_dir=tmp_path / "work")
    table = result.table.set_index(["protocol", "test_corpus"])
    assert sorted(table.index) == [
        ("loco", "alpha"),
        ("loco", "beta"),
        ("within", "alpha"),
        ("within", "beta"),
    ]
    assert table.loc[("loco", "alpha"), "train_corpora"] == "beta,solo"
    assert (
        table.loc[("loco", "alpha"), "n_train_speakers"] == 4
        and table.loc[("loco", "alpha"), "n_train"] == 22
    )
    assert result.untested.values.tolist() == [
        ["loco", "solo", "1 speaker: too few to test (it only trains)"],
        ["within", "solo", "1 speaker: leaving one speaker out needs >= 2"],
    ]
    assert (result.means["corpora"] == 2).all() and not (result.predictions["test_corpus"] == "solo").any()
    text = to_markdown(result)
    assert "- loco solo: 1 speaker: too few to test (it only trains)" in text and "0 (0/0)" not in text
    assert_counts_add_up(result, both)


def test_a_speaker_group_without_labels_is_not_a_speaker(synthetic, tmp_path):
    """As TESS's OA_bite_neutral.wav: one unlabelled file whose name makes a group of its own."""
    root, manifest, _ = synthetic
    extra = manifest.copy()
    sf.write(tmp_path / "stray.wav", tone(1.5), 16_000)
    add_file(extra, tmp_path / "stray.wav", corpus="alpha", label=None, speaker="s9")
    result = crosscorpus(
        extra,
        backbones=["mel_mean"],
        config=CrossCorpusConfig(protocols=("within",), min_ci_speakers=3),
        evaluate=BOOT,
        work_dir=root / "work",
    )
    counts = result.counts.set_index("corpus")
    assert counts.loc["alpha", ["speakers", "files", "unlabelled", "evaluated"]].tolist() == [3, 22, 4, 18]
    assert "alpha: speaker group(s) s9 have no evaluated file (1 file): not counted among its speakers" in (
        result.notes
    )
    assert result.table.set_index("test_corpus").loc["alpha", "n_test_speakers"] == 3
    assert_counts_add_up(result, extra)


def test_means_both_unweighted_and_weighted_by_files():
    table = pd.DataFrame(
        {
            "protocol": ["loco", "loco", "loco", "within"],
            "backbone": ["b", "b", "c", "b"],
            "n_test": [10, 390, 10, 50],
            "auc": [1.0, 0.6, 0.7, 0.5],
            "duration_auc": [1.0, 0.5, 1.0, 0.55],
        }
    )
    means = mean_auc(table)
    assert list(means.columns) == list(MEANS_COLUMNS)
    b = means.iloc[0]
    assert (b.protocol, b.backbone, b.corpora, b.files) == ("loco", "b", 2, 400)
    assert b.mean_auc == pytest.approx(0.8) and b.weighted_auc == pytest.approx((10 + 0.6 * 390) / 400)
    assert b.mean_duration_auc == pytest.approx(0.75)
    assert b.weighted_duration_auc == pytest.approx((10 + 0.5 * 390) / 400)
    assert means[["protocol", "backbone", "corpora"]].values.tolist()[1:] == [
        ["loco", "c", 1],
        ["within", "b", 1],
    ]


def test_duration_baseline_is_the_duration_model_on_the_same_folds(synthetic):
    """The duration column is train.duration's DurationModel, fitted on the cell's training rows."""
    root, manifest, _ = synthetic
    settings = {"C": 0.3, "class_weight": None}
    result = crosscorpus(
        manifest,
        backbones=["mel_mean"],
        config=CrossCorpusConfig(protocols=("loco",), min_ci_speakers=3),
        duration=settings,
        evaluate=BOOT,
        work_dir=root / "work",
    )
    assert result.meta["config"]["duration"] == settings
    seconds = {p: sf.info(p).duration for p in manifest["path"]}  # every tone is shorter than a clip
    ids = manifest_tables(manifest, verbose=False).recordings.set_index("segment_id")["path"]
    labelled = manifest[manifest["label"].notna()]
    train = labelled[labelled["corpus"] == "beta"]
    model = DurationModel(**settings).fit(
        train["path"].map(seconds).to_numpy()[:, None], train["label"].to_numpy(dtype=np.int64)
    )
    preds = result.predictions
    held = preds[(preds["backbone"] == "duration") & (preds["test_corpus"] == "alpha")]
    expected = model.predict_proba(held["segment_id"].map(ids).map(seconds).to_numpy()[:, None])[:, 1]
    np.testing.assert_allclose(held["score"].to_numpy(), expected, rtol=1e-6)


def test_file_bootstrap_below_min_speakers(synthetic):
    root, manifest, _ = synthetic
    config = CrossCorpusConfig(min_ci_speakers=5, protocols=("loco",))
    result = crosscorpus(
        manifest,
        backbones=["mel_mean"],
        config=config,
        evaluate=EvaluateConfig(n_boot=100),
        work_dir=root / "work",
    )
    assert (result.table["ci_unit"] == "file").all()
    assert "too narrow" in to_markdown(result)


def test_load_manifest_specs(tmp_path):
    folder = tmp_path / "emo"
    folder.mkdir()
    sf.write(folder / "03a01Fa.wav", tone(1.0), 16_000)
    sf.write(folder / "03a01Wa.wav", tone(1.0), 16_000)
    assert load_manifest(f"emodb:{folder}")["label"].tolist() == [1, 0]
    assert load_manifest(folder, scheme="emodb")["corpus"].tolist() == ["emodb", "emodb"]
    with pytest.raises(ParameterError, match="emodb:"):
        load_manifest(folder)
    with pytest.raises(DataError, match="not found"):
        load_manifest(tmp_path / "nothing.csv")
    (tmp_path / "m.csv").write_text("path,label,speaker,corpus\nemo/03a01Fa.wav,1,a,x\n")
    manifest = load_manifest(tmp_path / "m.csv")
    assert manifest[["label", "group", "corpus"]].values.tolist() == [[1, "a", "x"]]


def test_cli(tmp_path, rng):
    manifest = write_corpus(tmp_path, rng, speakers=2, per_class=2)
    manifest.rename(columns={"group": "speaker"}).to_csv(tmp_path / "manifest.csv", index=False)
    (tmp_path / "params.yaml").write_text("crosscorpus:\n  protocols: [loco]\nevaluate:\n  n_boot: 50\n")
    out = tmp_path / "report"
    code = main(
        [
            "crosscorpus",
            str(tmp_path / "manifest.csv"),
            "--backbone",
            "mel_mean",
            "--out",
            str(out),
            "--params",
            str(tmp_path / "params.yaml"),
        ]
    )
    assert code == 0
    table = read_table(out / "crosscorpus.parquet")
    assert table["protocol"].unique().tolist() == ["loco"] and len(table) == 2
    assert (out / "heatmap.png").exists() and (out / "work" / "features" / "mel_mean").is_dir()


class FixedScore:
    """A stand-in model: the probe needs predict_proba only."""

    def predict_proba(self, X):
        return np.tile([0.5, 0.5], (len(X), 1))


def test_probe_and_crosscorpus_share_one_extraction_path(tmp_path, rng):
    """The same recordings, window and backbone give the same features through either caller."""
    manifest = write_corpus(tmp_path, rng, speakers=2, per_class=2)
    window = ClipConfig(length_s=1.0, window="centre")
    crosscorpus(
        manifest, backbones=["mel_mean"], config=FAST, clips=window, evaluate=BOOT, work_dir=tmp_path / "xc"
    )
    trained = TrainedModel("m", FixedScore(), MelMeanEmbedder().meta, window.length, window.sample_rate)
    probe(manifest.assign(language="x"), trained, work_dir=tmp_path / "probe", verbose=False)

    xc_ids, xc_x, xc_meta = read_store(tmp_path / "xc" / "features" / "mel_mean")
    probe_ids, probe_x, probe_meta = read_store(tmp_path / "probe" / "mel_mean")
    path_of = manifest_tables(manifest, verbose=False).recordings.set_index("segment_id")["path"]
    probe_rows = dict(zip(manifest["path"], probe_x, strict=True))
    assert len(probe_ids) == len(manifest) and len(xc_ids) == int(manifest["label"].notna().sum())
    for segment_id, row in zip(xc_ids, xc_x, strict=True):  # crosscorpus embeds the labelled files only
        np.testing.assert_array_equal(row, probe_rows[path_of[segment_id]])
    assert {k: v for k, v in xc_meta.items() if k != "clips"} == {
        k: v for k, v in probe_meta.items() if k != "clips"
    }


class Loudness:
    """A new backbone: the RMS level of each clip's real audio, in a few lines."""

    name, dim, meta = "loudness", 1, {"embedder": "loudness", "dim": 1}

    def __call__(self, batch):
        parts = zip(batch["audio"], batch["pad_left"], batch["audio_samples"], strict=True)
        rms = [np.sqrt(np.mean(a[p : p + n] ** 2)) for a, p, n in parts]
        return {"embedding": np.asarray(rms, np.float32)[:, None]}


def test_a_combination_concatenates_backbones_extracted_once(tmp_path, rng, monkeypatch):
    from weaklabel.features import registry

    monkeypatch.setitem(registry.EMBEDDERS, "loudness", lambda config, mel: Loudness())
    manifest = write_corpus(tmp_path, rng, speakers=2, per_class=2)
    result = crosscorpus(
        manifest,
        backbones=["mel_mean", "loudness+mel_mean"],
        config=FAST,
        evaluate=BOOT,
        work_dir=tmp_path / "xc",
    )
    assert result.table["backbone"].tolist()[:2] == ["mel_mean", "loudness+mel_mean"]
    assert sorted(p.name for p in (tmp_path / "xc" / "features").iterdir() if p.is_dir()) == [
        "loudness",
        "mel_mean",
    ]
    combo = result.table[result.table["backbone"] == "loudness+mel_mean"].iloc[0]
    assert combo.features.startswith("loudness features (1-d) + time-averaged log-mel")
    assert combo.auc > 0.9 and combo.C_selection.startswith("inner CV")
    assert set(result.meta["features"]) == {"loudness", "mel_mean"}
    assert result.meta["backbones"] == ["mel_mean", "loudness+mel_mean"]
    assert "`loudness+mel_mean`: the features of loudness and mel_mean side by side" in to_markdown(result)


def test_a_new_backbone_is_one_registry_line(tmp_path, rng, monkeypatch):
    from weaklabel.features import registry

    monkeypatch.setitem(registry.EMBEDDERS, "loudness", lambda config, mel: Loudness())
    manifest = write_corpus(tmp_path, rng, speakers=2, per_class=2)
    result = crosscorpus(
        manifest, backbones=["loudness", "mel_mean"], config=FAST, evaluate=BOOT, work_dir=tmp_path / "xc"
    )
    assert result.table["backbone"].tolist()[:2] == ["loudness", "mel_mean"]
    assert result.table["auc"].notna().all() and result.meta["features"]["loudness"]["embedder"] == "loudness"
    trained = TrainedModel("m", FixedScore(), Loudness.meta, 16_000, 16_000)
    scored = probe(manifest.assign(language="x"), trained, verbose=False)
    assert len(scored.scores) == len(manifest) and scored.info["features"] == "loudness"


@pytest.mark.skipif(not egemaps_available(), reason="the opensmile extra is not installed: no eGeMAPS")
def test_egemaps_goes_through_the_extraction_loop_on_unpadded_audio(tmp_path, rng):
    from weaklabel.features.egemaps import EgemapsEmbedder

    manifest = write_corpus(tmp_path, rng, speakers=2, per_class=2)
    sf.write(tmp_path / "blip.wav", tone(0.02), 16_000)  # too little audio for eGeMAPS: NaN features
    add_file(manifest, tmp_path / "blip.wav", corpus="alpha")
    result = crosscorpus(
        manifest, backbones=["egemaps", "mel_mean"], config=FAST, evaluate=BOOT, work_dir=tmp_path / "work"
    )
    assert result.rejects[["key", "reason", "stage"]].values.tolist() == [
        ["alpha_s0___blip", "not_embedded", "crosscorpus"]
    ]
    assert "egemaps" in result.rejects["detail"].iloc[0]
    assert (
        result.table["backbone"].tolist()[:2] == ["egemaps", "mel_mean"] and result.table["auc"].notna().all()
    )
    ids, stored, meta = read_store(tmp_path / "work" / "features" / "egemaps")
    assert meta["clips"]["rows"] == len(ids) == int(manifest["label"].notna().sum())
    path_of = manifest_tables(manifest, verbose=False).recordings.set_index("segment_id")["path"]
    with EgemapsEmbedder(workers=1) as embedder:  # each file whole (all < 7 s), without the padding
        direct, _ = embedder.embed_signals([read_slice(path_of[i]) for i in ids[:3]])
    np.testing.assert_array_equal(stored[:3], direct)


@pytest.mark.slow
def test_real_corpora_merged_halves_one_actor_and_a_stray_tess_file(shared_data, tmp_path):
    """EmoDB given as two manifests, RAVDESS's one actor, TESS's OA_bite_neutral.wav (about 1 min)."""
    emodb = load_manifest(f"emodb:{shared_data / 'emodb'}")
    manifests = [
        emodb.iloc[: len(emodb) // 2],  # as if EmoDB came as two CSV files
        emodb.iloc[len(emodb) // 2 :],
        load_manifest(f"ravdess:{shared_data / 'ravdess'}"),
        load_manifest(f"tess:{shared_data / 'tess'}"),
    ]
    result = crosscorpus(
        manifests, backbones=["mel_mean"], evaluate=EvaluateConfig(n_boot=200), work_dir=tmp_path
    )
    columns = ["speakers", "files", "unlabelled", "rejected", "evaluated", "positive", "negative"]
    counts = result.counts.set_index("corpus")[columns]
    assert counts.loc["emodb"].tolist() == [2, 92, 29, 0, 63, 11, 52]
    assert counts.loc["ravdess"].tolist() == [1, 15, 5, 0, 10, 2, 8]
    # OA_bite_neutral.wav: unlabelled (neutral), and its group "OA" is no third TESS speaker
    assert counts.loc["tess"].tolist() == [2, 560, 80, 0, 480, 160, 320]
    assert result.notes[0] == "emodb: merged from 2 inputs"
    assert (
        "tess: speaker group(s) tess_OA have no evaluated file (1 file): not counted among its speakers"
        in (result.notes)
    )
    assert "tess: 80 files unlabelled, not scored (emotion: neutral 80)" in result.notes
    assert_counts_add_up(result, pd.concat(manifests))
    # RAVDESS (1 actor) only trains; EmoDB held out trains on RAVDESS and TESS, never on its other half
    assert result.untested.values.tolist() == [
        ["loco", "ravdess", "1 speaker: too few to test (it only trains)"],
        ["within", "ravdess", "1 speaker: leaving one speaker out needs >= 2"],
    ]
    table = result.table.set_index(["protocol", "test_corpus"])
    assert sorted(table.index) == [
        ("loco", "emodb"),
        ("loco", "tess"),
        ("within", "emodb"),
        ("within", "tess"),
    ]
    loco = table.loc[("loco", "emodb")]
    assert (loco.train_corpora, loco.n_train, loco.n_train_speakers) == ("ravdess,tess", 490, 3)
    assert (loco.n_test, loco.n_test_speakers, loco.ci_unit) == (63, 2, "file")
    assert table["auc"].between(0, 1).all() and table["duration_auc"].between(0, 1).all()
    means = result.means.set_index("protocol")
    assert means.loc["loco", ["corpora", "files"]].tolist() == [2, 543]
    expected = np.average(
        [table.loc[("loco", "emodb"), "auc"], table.loc[("loco", "tess"), "auc"]], weights=[63, 480]
    )
    assert means.loc["loco", "weighted_auc"] == pytest.approx(expected)
    text = write_crosscorpus(result, tmp_path / "report")["markdown"].read_text()
    assert "0 (0/0)" not in text and "- loco ravdess: 1 speaker: too few to test" in text


@pytest.mark.slow
def test_real_yamnet_beats_random_vgg16_with_tess_held_out(shared_data, tmp_path):
    """Leave-one-corpus-out, TESS as the test corpus, trained on EmoDB + RAVDESS (about 3 min on 2 cores)."""
    from weaklabel.features.yamnet import yamnet_available

    if not yamnet_available():
        pytest.skip("ai-edge-litert is not installed: YAMNet cannot run")
    manifests = [
        load_manifest(f"emodb:{shared_data / 'emodb'}"),
        load_manifest(f"ravdess:{shared_data / 'ravdess'}"),
        load_manifest(f"tess:{shared_data / 'tess'}"),
    ]
    result = crosscorpus(
        manifests,
        backbones=["yamnet", "vgg16"],
        config=CrossCorpusConfig(protocols=("loco",)),
        clips=ClipConfig(length_s=5.5, window="centre"),  # every file whole (the longest is 5.3 s)
        embed=EmbedConfig(weights="random", workers=2),
        evaluate=EvaluateConfig(n_boot=500),
        work_dir=tmp_path,
    )
    table = result.table.set_index(["test_corpus", "backbone"])
    tess = table.loc["tess"]
    for backbone, row in tess.iterrows():
        print(
            f"\nTESS held out, trained on {row.train_corpora} ({row.n_train} files, {row.n_train_speakers} "
            f"speakers): {backbone} ROC AUC {row.auc:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] on "
            f"{row.n_test} files; C = {row.C} ({row.C_selection}); duration alone {row.duration_auc:.3f}"
        )
    assert tess.loc["yamnet", "n_test"] == 480 and tess.loc["yamnet", "n_train_speakers"] == 3
    assert result.untested.values.tolist() == [
        ["loco", "ravdess", "1 speaker: too few to test (it only trains)"]
    ]
    assert tess.loc["yamnet", "C_selection"] == "inner CV: 3 folds grouped by speaker (3 speakers)"
    assert tess.loc["yamnet", "auc"] >= 0.75  # measured outside the project: about 0.80
    assert tess.loc["yamnet", "auc"] > tess.loc["vgg16", "auc"]
    text = to_markdown(result)
    assert "Pretrained: YAMNet (AudioSet). RANDOM weights (NOT transfer learning): VGG16." in text


def test_heatmap_carries_the_random_backbone_warning_in_the_image(synthetic):
    _, _, result = synthetic
    assert not plot_heatmap(result).texts  # averaged mels have no weights to warn about
    features = {"vgg16": {"embedder": "vgg16", "weights": "random"}}
    figure = plot_heatmap(dataclasses.replace(result, meta={**result.meta, "features": features}))
    texts = [" ".join(t.get_text().split()) for t in figure.texts]
    assert any("RANDOM weights (NOT transfer learning)" in t for t in texts)
