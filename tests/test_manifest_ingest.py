"""Gold-label mode: a recordings manifest becomes segments, recordings-by-segment and labels tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.audio.clips import ClipConfig, plan_clips
from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.labellers import ABSTAIN, LABELS_SCHEMA
from weaklabel.learn.split import SplitConfig, make_split
from weaklabel.sources.manifest_ingest import (
    SEGMENT_RECORDINGS_SCHEMA,
    UNLABELLED,
    LabelSourceConfig,
    labels_from_manifest,
    manifest_tables,
    split_source,
    write_manifest_tables,
)
from weaklabel.sources.mosei import SEGMENTS_SCHEMA
from weaklabel.sources.recordings import RECORDINGS_SCHEMA
from weaklabel.tables import REJECTS_SCHEMA, read_table


@pytest.fixture
def corpus(tmp_path):
    """Two corpora of tone files, three speakers each, plus every kind of bad row."""
    rows = []
    for corpus in ("alpha", "beta"):
        for speaker in range(3):
            for k in range(4):
                name = f"{corpus}_{speaker}_{k}.wav"
                sf.write(tmp_path / name, tone(1.0 + 0.5 * k, freq=200 + 40 * k), 16_000)
                label = [1, 0, None, 0][k]
                rows.append({"path": name, "label": label, "speaker": f"s{speaker}", "corpus": corpus})
    (tmp_path / "broken.wav").write_bytes(b"not audio at all")
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 16_000)
    rows += [
        {"path": "missing.wav", "label": 1, "speaker": "s0", "corpus": "alpha"},
        {"path": "broken.wav", "label": 0, "speaker": "s0", "corpus": "alpha"},
        {"path": "empty.wav", "label": 0, "speaker": "s0", "corpus": "alpha"},
        {"path": "alpha_0_0.wav", "label": 1, "speaker": "s0", "corpus": "alpha"},  # twice
        {"path": "alpha_0_1.wav", "label": 2, "speaker": "s0", "corpus": "alpha"},  # a bad label...
    ]
    return tmp_path, pd.DataFrame(rows)


def test_tables_conserve_rows_and_keep_schemas(corpus):
    root, manifest = corpus
    tables = manifest_tables(manifest, root=root)
    assert len(tables.segments) + len(tables.rejects) == len(manifest)
    assert sorted(tables.rejects["reason"]) == sorted(
        ["missing_file", "unreadable_audio", "empty_audio", "duplicate_path", "duplicate_path"]
    )  # ...which is caught as a duplicate first: each file counts once
    assert len(tables.segments) == 24 and tables.segments["segment_id"].is_unique
    assert list(tables.segments.columns) == SEGMENTS_SCHEMA.names
    assert list(tables.recordings.columns) == SEGMENT_RECORDINGS_SCHEMA.names
    assert SEGMENT_RECORDINGS_SCHEMA.names == ["segment_id", *RECORDINGS_SCHEMA.names]
    assert (tables.recordings["segment_id"] == tables.segments["segment_id"]).all()
    assert tables.recordings["polarity"].tolist()[:2] == ["positive", "negative"]  # read from the label
    seg = tables.segments.iloc[1]
    assert seg.start == 0 and seg.end == seg.duration == pytest.approx(1.5) and seg.sample_rate == 16_000
    assert seg.video == "alpha_s0" and seg.segment_id == "alpha_s0___alpha_0_1"
    paths = write_manifest_tables(tables, root / "out")
    assert sorted(p.name for p in (root / "out").iterdir()) == [
        "manifest.parquet",
        "rejects.parquet",
        "segments.parquet",
    ]
    assert len(read_table(paths["segments"])) == 24
    assert read_table(paths["rejects"]).columns.tolist() == REJECTS_SCHEMA.names
    back = read_table(paths["recordings"])
    assert (
        back["label"].isna().sum() == 6
        and back["segment_id"].tolist() == tables.segments["segment_id"].tolist()
    )


def test_labels_and_unlabelled_rows(corpus):
    root, manifest = corpus
    recordings = manifest_tables(manifest, root=root).recordings
    labels = labels_from_manifest(recordings)
    assert list(labels.columns) == LABELS_SCHEMA.names
    assert (labels["segment_id"] == recordings["segment_id"]).all()
    assert labels["label"].value_counts().to_dict() == {1: 6, 0: 12, ABSTAIN: 6}
    unlabelled = labels[labels["label"] == ABSTAIN]
    assert (unlabelled["abstain_reason"] == UNLABELLED).all() and unlabelled["confidence"].isna().all()
    labelled = labels[labels["label"] != ABSTAIN]
    assert labelled["abstain_reason"].isna().all() and (labelled["confidence"] == 1).all()
    assert (np.sign(labelled["combined"]) == np.where(labelled["label"] == 1, 1, -1)).all()


def test_bad_label_is_rejected_not_raised(tmp_path):
    for name in "abcde":
        sf.write(tmp_path / f"{name}.wav", tone(1.0), 16_000)
    manifest = pd.DataFrame(
        {
            "path": [f"{name}.wav" for name in "abcde"],
            "label": ["1", "maybe", None, 1, None],
            "polarity": [None, None, "happy", "negative", "neg"],
            "group": ["x"] * 5,
            "corpus": ["c"] * 5,
        }
    )
    tables = manifest_tables(manifest, root=tmp_path)
    assert tables.recordings["label"].tolist() == [1, 0]  # polarity alone is a label too
    assert tables.rejects["reason"].tolist() == ["bad_label"] * 3
    assert tables.rejects["detail"].str.contains("maybe|happy|disagree").all()


def test_polarity_stands_for_label_and_speaker_for_group(tmp_path):
    sf.write(tmp_path / "a.wav", tone(1.0), 16_000)
    manifest = pd.DataFrame({"path": ["a.wav"], "polarity": ["+"], "speaker": ["s1"], "corpus": ["c"]})
    recordings = manifest_tables(manifest, root=tmp_path).recordings
    assert recordings[["label", "polarity", "group"]].iloc[0].tolist() == [1, "positive", "s1"]


def test_same_stem_in_two_folders_stays_distinct(tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        sf.write(tmp_path / folder / "x.wav", tone(1.0), 16_000)
    manifest = pd.DataFrame(
        {"path": ["one/x.wav", "two/x.wav"], "label": [1, 0], "group": ["g", "g"], "corpus": ["c", "c"]}
    )
    ids = manifest_tables(manifest, root=tmp_path).segments["segment_id"].tolist()
    assert ids == ["c_g___x", "c_g___x-2"]


def test_missing_columns_and_nothing_usable(tmp_path):
    with pytest.raises(DataError, match="group"):
        manifest_tables(pd.DataFrame({"path": ["a.wav"], "label": [1], "corpus": ["c"]}))
    with pytest.raises(DataError, match="none of the manifest"):
        manifest_tables(
            pd.DataFrame({"path": ["nope.wav"], "label": [1], "group": ["g"], "corpus": ["c"]}), root=tmp_path
        )


def test_label_source_config():
    assert LabelSourceConfig().source == "text"
    source, rest = split_source({"source": "manifest", "threshold": 0.3})
    assert source.source == "manifest" and rest == {"threshold": 0.3}
    assert split_source(None)[0].source == "text"
    with pytest.raises(ParameterError, match="labels.source"):
        LabelSourceConfig(source="audio")


def test_tables_feed_clips_and_the_grouped_split(corpus):
    root, manifest = corpus
    tables = manifest_tables(manifest, root=root)
    clips = plan_clips(tables.segments, ClipConfig(length_s=7.0))
    assert len(clips) == len(tables.segments)
    assert np.allclose(clips["read_seconds"], tables.segments["duration"])  # short files: nothing cropped
    labels = labels_from_manifest(tables.recordings)
    split = make_split(tables.segments, labels, config=SplitConfig(train=0.5, valid=0.25, test=0.25))
    assert (split.groupby("video")["split"].nunique() == 1).all()  # no speaker crosses splits


def test_real_corpora(shared_data):
    from weaklabel.sources.recordings import emodb_manifest, ravdess_manifest

    manifest = pd.concat(
        [emodb_manifest(shared_data / "emodb"), ravdess_manifest(shared_data / "ravdess")], ignore_index=True
    )
    tables = manifest_tables(manifest)
    assert len(tables.segments) == 107 and tables.rejects.empty
    labels = labels_from_manifest(tables.recordings)
    assert labels["label"].value_counts().to_dict() == {0: 60, ABSTAIN: 34, 1: 13}
    assert set(tables.segments["video"]) == {"emodb_03", "emodb_09", "ravdess_01"}
    ravdess = tables.segments[tables.segments["video"] == "ravdess_01"]
    assert (ravdess["sample_rate"] == 48_000).all() and ravdess["duration"].between(3.0, 5.5).all()


def test_ingest_and_label_stages_read_a_manifest(corpus, monkeypatch):
    import json

    import yaml

    from pipelines import ingest, label

    root, manifest = corpus
    manifest = manifest[manifest["label"] != 2]  # a label read_manifest refuses for the whole file
    manifest.to_csv(root / "manifest.csv", index=False)
    (root / "params.yaml").write_text(
        yaml.safe_dump(
            {"data": {"manifest": "manifest.csv"}, "labels": {"source": "manifest", "threshold": 0.2}}
        )
    )
    monkeypatch.chdir(root)
    ingest.main(
        ["--in", "nowhere", "--manifest", "manifest.csv", "--out", "ingest", "--report", "ingest.json"]
    )
    summary = json.loads((root / "ingest.json").read_text())
    assert summary["source"] == "manifest"
    assert summary["lines_read"] == len(manifest) == summary["segments"] + summary["rejected"]
    assert summary["labels"] == {"positive": 6, "negative": 12, "unlabelled": 6}
    assert summary["rejects_by_reason"] == {
        "missing_file": 1,
        "unreadable_audio": 1,
        "empty_audio": 1,
        "duplicate_path": 1,
    }
    label.main(
        [
            "--in",
            "ingest/segments.parquet",
            "--out",
            "labels",
            "--report",
            "reports",
            "--manifest",
            "ingest/manifest.parquet",
        ]
    )
    labels = read_table(root / "labels" / "labels.parquet")
    assert labels["label"].value_counts().to_dict() == {0: 12, 1: 6, ABSTAIN: 6}
    assert (
        labels["segment_id"].tolist()
        == read_table(root / "ingest" / "segments.parquet")["segment_id"].tolist()
    )
    assert not (root / "ingest" / "labels.parquet").exists()  # labels are made once, by the label stage
    assert (root / "reports" / "metrics.json").is_file() and (root / "reports" / "scores.png").is_file()

    (root / "params.yaml").write_text(yaml.safe_dump({"labels": {"source": "manifest"}}))
    with pytest.raises(ParameterError, match="data.manifest is empty"):
        ingest.main(["--in", "nowhere", "--out", "ingest", "--report", "ingest.json"])
