import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.errors import DataError, ParameterError
from weaklabel.sources.recordings import (
    EMODB_EMOTIONS,
    RAVDESS_EMOTIONS,
    RECORDINGS_COLUMNS,
    RECORDINGS_SCHEMA,
    SCHEMES,
    TESS_EMOTIONS,
    VALENCE,
    build_manifest,
    emodb_manifest,
    folder_manifest,
    parse_label,
    ravdess_manifest,
    read_manifest,
    recordings_frame,
)
from weaklabel.tables import read_table, write_table


def write_wav(path, seconds=0.2):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds), 16_000)
    return path


def test_valence_follows_the_data_readme():
    assert [e for e, p in VALENCE.items() if p == "positive"] == ["happy", "pleasant_surprise"]
    assert sorted(e for e, p in VALENCE.items() if p == "negative") == ["angry", "disgust", "fearful", "sad"]
    assert sorted(e for e, p in VALENCE.items() if p is None) == ["boredom", "calm", "neutral", "surprised"]
    assert set(RAVDESS_EMOTIONS.values()) <= set(VALENCE) and set(EMODB_EMOTIONS.values()) <= set(VALENCE)
    assert set(TESS_EMOTIONS.values()) <= set(VALENCE)


def test_ravdess_on_real_files(shared_data):
    folder = shared_data / "ravdess"
    manifest = ravdess_manifest(folder)
    files = sorted(folder.glob("*.wav"))
    assert list(manifest.columns) == list(RECORDINGS_COLUMNS) and len(manifest) == len(files)
    for row, path in zip(manifest.itertuples(), files, strict=True):
        fields = path.stem.split("-")
        emotion = RAVDESS_EMOTIONS[fields[2]]
        assert row.path == str(path.resolve()) and row.emotion == emotion
        assert (row.polarity if pd.notna(row.polarity) else None) == VALENCE[emotion]
        assert row.group == f"ravdess_{fields[6]}" and row.language == "english" and row.corpus == "ravdess"
    codes = [p.stem.split("-")[2] for p in files]
    assert (manifest["polarity"] == "positive").sum() == codes.count("03")
    assert (manifest["polarity"] == "negative").sum() == sum(codes.count(c) for c in ("04", "05", "06", "07"))
    assert manifest["polarity"].isna().sum() == sum(codes.count(c) for c in ("01", "02", "08"))
    assert manifest["label"].dropna().isin([0, 1]).all()
    assert ((manifest["label"] == 1) == (manifest["polarity"] == "positive")).all()


def test_emodb_on_real_files(shared_data):
    folder = shared_data / "emodb"
    manifest = emodb_manifest(folder)
    files = sorted(folder.glob("*.wav"))
    assert len(manifest) == len(files) > 0
    letters = [p.stem[5] for p in files]
    expected = [VALENCE[EMODB_EMOTIONS[letter]] for letter in letters]
    got = [p if pd.notna(p) else None for p in manifest["polarity"]]
    assert got == expected
    assert set(manifest["group"]) == {f"emodb_{p.stem[:2]}" for p in files}
    assert manifest["language"].eq("german").all() and manifest["text"].notna().all()
    assert (manifest["emotion"] == "happy").sum() == letters.count("F")


def test_tess_on_real_files(shared_data):
    """Positive = happy and pleasant surprise, negative = sad, angry, fear, disgust, neutral unlabelled."""
    manifest = SCHEMES["tess"](shared_data / "tess")
    words = [Path(p).stem.rsplit("_", 1)[-1] for p in manifest["path"]]
    assert len(manifest) == len(list((shared_data / "tess").glob("*.wav"))) == 560
    assert (manifest["label"] == 1).sum() == words.count("happy") + words.count("ps")
    assert (manifest["label"] == 0).sum() == sum(words.count(w) for w in ("sad", "angry", "fear", "disgust"))
    assert manifest["label"].isna().sum() == words.count("neutral")
    assert manifest["language"].eq("english").all() and manifest["corpus"].eq("tess").all()
    assert set(manifest.loc[manifest["label"].notna(), "group"]) == {"tess_OAF", "tess_YAF"}


def test_scheme_builders_keep_unmatched_files(tmp_path, caplog):
    write_wav(tmp_path / "03a01Fa.wav")
    write_wav(tmp_path / "03a01Nc.wav")
    write_wav(tmp_path / "holiday.wav")
    (tmp_path / "notes.txt").write_text("not audio")
    with caplog.at_level(logging.WARNING, logger="weaklabel.sources.recordings"):
        manifest = emodb_manifest(tmp_path)
    assert len(manifest) == 3 and "holiday.wav" in caplog.text
    by_name = manifest.set_index(manifest["path"].str.rsplit("/", n=1).str[-1])
    assert by_name.loc["03a01Fa.wav", "polarity"] == "positive" and by_name.loc["03a01Fa.wav", "label"] == 1
    assert (
        pd.isna(by_name.loc["03a01Nc.wav", "polarity"]) and by_name.loc["03a01Nc.wav", "emotion"] == "neutral"
    )
    assert pd.isna(by_name.loc["holiday.wav", "emotion"]) and pd.isna(by_name.loc["holiday.wav", "polarity"])
    write_wav(tmp_path / "Actor_02" / "03-01-05-02-02-01-02.wav")
    ravdess = ravdess_manifest(tmp_path)
    row = ravdess[ravdess["emotion"].notna()].iloc[0]
    assert (row.emotion, row.polarity, row.group) == ("angry", "negative", "ravdess_02")
    assert row.text == "Dogs are sitting by the door."


def test_folder_manifest_language_from_parent(tmp_path):
    write_wav(tmp_path / "French" / "a.wav")
    write_wav(tmp_path / "russian" / "b.flac")
    write_wav(tmp_path / "russian" / ".hidden.wav")
    (tmp_path / "russian" / "manifest.csv").write_text("path\n")
    manifest = folder_manifest(tmp_path)
    assert manifest["language"].tolist() == ["french", "russian"]
    assert manifest["polarity"].isna().all() and manifest["label"].isna().all()
    assert manifest["corpus"].eq("folder").all()
    with pytest.raises(DataError, match="no audio files"):
        folder_manifest(tmp_path / "French" / "..", extensions={".mp3"})
    with pytest.raises(DataError, match="not found"):
        folder_manifest(tmp_path / "missing")


def test_read_manifest_resolves_and_normalises(tmp_path):
    write_wav(tmp_path / "english" / "p.wav")
    csv = tmp_path / "manifest.csv"
    csv.write_text(
        "Path,Language,Polarity,Text,speaker\n"
        "english/p.wav,English,Positive,I loved it,s1\n"
        "english/n.wav,,neg,I hated it,s2\n"
        f"{tmp_path / 'x.wav'},armenian,,,\n"
        "other/u.wav,french,unknown,,\n",
        encoding="utf-8",
    )
    manifest = read_manifest(csv)
    assert manifest["path"].tolist() == [
        str(tmp_path / "english" / "p.wav"),
        str(tmp_path / "english" / "n.wav"),
        str(tmp_path / "x.wav"),
        str(tmp_path / "other" / "u.wav"),
    ]
    assert manifest["language"].tolist() == ["english", "english", "armenian", "french"]
    assert (
        manifest["polarity"].tolist()[:2] == ["positive", "negative"]
        and manifest["polarity"][2:].isna().all()
    )
    assert manifest["label"].tolist()[:2] == [1, 0] and manifest["group"].tolist()[:2] == ["s1", "s2"]
    moved = read_manifest(csv, root=tmp_path / "english")
    assert moved["path"][0] == str(tmp_path / "english" / "english" / "p.wav")


def test_read_manifest_label_column_and_errors(tmp_path):
    csv = tmp_path / "m.csv"
    csv.write_text("path,label,group,corpus\na.wav,1,s1,mine\nb.wav,0,s1,mine\nc.wav,,s2,mine\n")
    manifest = read_manifest(csv)
    assert manifest["polarity"].tolist()[:2] == ["positive", "negative"] and pd.isna(manifest["polarity"][2])
    assert manifest["corpus"].eq("mine").all()
    for text, match in [
        ("path,polarity\na.wav,happy\n", "data row 1: polarity 'happy'"),
        ("path,label\na.wav,1\nb.wav,2\n", "data row 2: label '2'"),
        ("path,label,polarity\na.wav,1,negative\n", "disagree"),
        ("path\na.wav\na.wav\n", "more than once"),
        ("file,polarity\na.wav,positive\n", "at least 'path'"),
    ]:
        csv.write_text(text)
        with pytest.raises(DataError, match=match):
            read_manifest(csv)
    with pytest.raises(DataError, match="not found"):
        read_manifest(tmp_path / "none.csv")


def test_build_manifest_dispatch(tmp_path):
    write_wav(tmp_path / "03a01Wa.wav")
    assert build_manifest(tmp_path, scheme="emodb")["polarity"].tolist() == ["negative"]
    assert build_manifest(tmp_path)["corpus"].tolist() == ["folder"]
    csv = tmp_path / "elsewhere" / "m.csv"
    csv.parent.mkdir()
    csv.write_text("path,polarity\n03a01Wa.wav,+\n")
    assert build_manifest(tmp_path, csv=csv)["path"][0] == str(tmp_path / "03a01Wa.wav")
    with pytest.raises(ParameterError, match="not both"):
        build_manifest(tmp_path, csv=csv, scheme="emodb")
    with pytest.raises(ParameterError, match="unknown naming scheme"):
        build_manifest(tmp_path, scheme="iemocap")


def test_recordings_frame_schema_round_trip(tmp_path):
    frame = recordings_frame([{"path": "/a.wav", "polarity": "positive"}, {"path": "/b.wav"}])
    assert frame["label"].dtype == "Int8" and frame["label"].tolist()[0] == 1 and pd.isna(frame["label"][1])
    assert list(frame.columns) == list(RECORDINGS_COLUMNS) == RECORDINGS_SCHEMA.names
    path = write_table(frame, tmp_path / "m.parquet", schema=RECORDINGS_SCHEMA)
    back = read_table(path)
    assert back["path"].tolist() == ["/a.wav", "/b.wav"] and np.isnan(back["label"].astype(float)[1])
    with pytest.raises(DataError, match=r"1 row\(s\).*polarity 'happy'"):
        recordings_frame([{"path": "/a.wav", "polarity": "happy"}])


def test_recordings_frame_reads_labels_speakers_and_spellings():
    frame = recordings_frame(
        pd.DataFrame(
            {
                "path": ["/a.wav", "/b.wav", "/c.wav", "/d.wav"],
                "label": [1, None, "0.0", np.nan],
                "polarity": [None, "NEG", "", "neutral"],
                "speaker": ["s1", "s1", "s2", None],
                "other": [1, 2, 3, 4],
            },
            index=[7, 8, 9, 10],
        )
    )
    assert frame["label"].tolist()[:3] == [1, 0, 0] and pd.isna(frame["label"][3])
    assert frame["polarity"].tolist()[:3] == ["positive", "negative", "negative"]
    assert pd.isna(frame["polarity"][3])
    assert frame["group"].tolist()[:3] == ["s1", "s1", "s2"] and "other" not in frame.columns
    assert frame.index.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("label", "polarity", "expected"),
    [
        (1, None, 1),
        ("0", None, 0),
        (" 1.0 ", "", 1),
        (np.int8(0), "negative", 0),
        (pd.NA, "Pos", 1),
        (None, "+", 1),
        (float("nan"), "-", 0),
        ("", "1", 1),
        (None, "unknown", None),
        (None, "NaN", None),
        (None, None, None),
    ],
)
def test_parse_label_spellings(label, polarity, expected):
    assert parse_label(label=label, polarity=polarity) == expected


@pytest.mark.parametrize(
    ("label", "polarity", "match"),
    [
        (2, None, "label 2: expected 1"),
        ("maybe", None, "label 'maybe'"),
        ("nan", None, "label 'nan'"),
        (None, "happy", "polarity 'happy': expected positive/negative"),
        (1, "negative", "disagree"),
        ("0", "pos", "disagree"),
    ],
)
def test_parse_label_refuses_and_says_why(label, polarity, match):
    with pytest.raises(DataError, match=match):
        parse_label(label=label, polarity=polarity)
