from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from weaklabel.errors import DataError, ParameterError
from weaklabel.sources.gold import (
    GOLD_COLUMNS,
    binarize_gold,
    match_gold,
    normalize_split,
    read_gold,
    read_gold_csd,
    read_gold_csv,
)


# --- binarize_gold ---------------------------------------------------------------------------------
def test_binarize_has0_counts_neutral_as_positive():
    out = binarize_gold(np.array([-3.0, -0.2, 0.0, 0.4, 3.0, np.nan]), mode="has0")
    np.testing.assert_array_equal(out, [0.0, 0.0, 1.0, 1.0, 1.0, np.nan])
    assert out.dtype == np.float64


def test_binarize_non0_leaves_neutral_out():
    out = binarize_gold([-3, -0.2, 0, 0.4, 3, np.nan], mode="non0")
    np.testing.assert_array_equal(out, [0.0, 0.0, np.nan, 1.0, 1.0, np.nan])


def test_binarize_unknown_mode():
    with pytest.raises(ParameterError, match="has0"):
        binarize_gold(np.zeros(2), mode="binary")


# --- CSV -------------------------------------------------------------------------------------------
def test_reads_the_mosei_labels_csv_form(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(
        ",file,index,start,end,label2a,label2b,label6,label7,split\n"
        "0,--qXJuDtHPw,0,23.199,30.325,1,1,0,1,1\n"
        "1,-3g5yACwYnA,0,-0.45,4.84,1,1,0,-2,0\n"
        "2,-3g5yACwYnA,1,4.84,14.052,1,0,0,0,2\n"
        "3,-3g5yACwYnA,2,14.052,20.0,1,0,0,3,3\n"
    )
    gold, rejects = read_gold_csv(path)
    assert list(gold.columns) == GOLD_COLUMNS
    assert gold["video"].tolist() == ["--qXJuDtHPw", "-3g5yACwYnA", "-3g5yACwYnA", "-3g5yACwYnA"]
    assert gold["segment"].tolist() == ["0", "0", "1", "2"]
    assert gold["sentiment"].tolist() == [1.0, -2.0, 0.0, 3.0]
    assert gold["split"].tolist() == ["valid", "train", "test", pd.NA]
    assert gold["start"].iloc[1] == -0.45  # a slightly negative start is a real MOSEI label, kept
    assert rejects.empty


def test_reads_mosi_and_demo_csv_forms_with_names_and_case(tmp_path):
    mosi = tmp_path / "mosi.csv"
    mosi.write_text(
        "Video_ID,Segment,Start,End,Text,Sentiment\n_dI--eQ6qVU,1,27.87,32.92,AND I LOVED IT,2.4\n"
    )
    demo = tmp_path / "demo.csv"
    demo.write_text(
        "video,segment,start,end,sentiment,split\nd1,0,0.5,2.0,-1.5,validation\nd1,1,2,3,0.0,dev\n"
    )
    gold, _ = read_gold_csv(mosi)
    assert gold.loc[0, ["video", "segment", "sentiment"]].tolist() == ["_dI--eQ6qVU", "1", 2.4]
    assert gold["split"].isna().all()
    gold, _ = read_gold_csv(demo)
    assert gold["split"].tolist() == ["valid", "valid"]


def test_sentiment_is_preferred_to_label7(tmp_path):
    path = tmp_path / "both.csv"
    path.write_text("file,start,end,label7,sentiment\nv,0,1,1,0.6\n")
    gold, _ = read_gold_csv(path)
    assert gold["sentiment"].tolist() == [0.6]
    assert gold["segment"].isna().all()


def test_missing_required_column_names_the_aliases(tmp_path):
    path = tmp_path / "no_sentiment.csv"
    path.write_text("file,start,end,label2a\nv,0,1,1\n")
    with pytest.raises(DataError, match=r"sentiment.*label7"):
        read_gold_csv(path)


def test_bad_gold_rows_become_rejects(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "video,segment,start,end,sentiment\n"
        "v,0,0,1,1.5\n"  # good
        "v,1,1,2,positive\n"  # not a number
        "v,2,2,3,3.5\n"  # out of range
        "v,3,4,3,1\n"  # reversed
        ",4,5,6,1\n"  # no video
        "v,5,6,7,nan\n"  # not finite
    )
    gold, rejects = read_gold_csv(path)
    assert gold["segment"].tolist() == ["0"]
    assert dict(zip(rejects["key"], rejects["reason"], strict=True)) == {
        "v___1": "gold_bad_value",
        "v___2": "gold_out_of_range",
        "v___3": "gold_bad_time",
        "___4": "gold_bad_value",
        "v___5": "gold_bad_value",
    }
    assert (rejects["stage"] == "ingest").all() and (rejects["source"] == str(path)).all()
    assert len(gold) + len(rejects) == 6


def test_normalize_split():
    values = pd.Series(
        [0, "1", 2.0, "3", "0.0", "Train", "validation", "dev", "test", "unused", "", None, "x"]
    )
    assert normalize_split(values).tolist() == [
        "train",
        "valid",
        "test",
        pd.NA,
        "train",
        "train",
        "valid",
        "valid",
        "test",
        pd.NA,
        pd.NA,
        pd.NA,
        pd.NA,
    ]


# --- HDF5 (.csd) -----------------------------------------------------------------------------------
def write_csd(path, videos: dict[str, tuple[np.ndarray, np.ndarray]], *, root: str = "All Labels") -> None:
    """The SDK computational-sequence layout: <root>/data/<video>/{features,intervals}, <root>/metadata."""
    with h5py.File(path, "w") as handle:
        group = handle.create_group(root)
        group.create_group("metadata").attrs["root name"] = root
        data = group.create_group("data")
        for video, (features, intervals) in videos.items():
            item = data.create_group(video)
            if features is not None:
                item.create_dataset("features", data=features)
            if intervals is not None:
                item.create_dataset("intervals", data=intervals)


def test_reads_the_sdk_csd_layout(tmp_path):
    features = np.zeros((3, 7), dtype=np.float32)
    features[:, 0] = [1.0, -2.333, 0.0]
    features[:, 1] = 9.0  # happy: not sentiment
    intervals = np.array([[0.5, 2.0], [2.0, 4.25], [4.25, 6.0]])
    path = tmp_path / "CMU_MOSEI_Labels.csd"
    write_csd(
        path,
        {
            "-3g5yACwYnA": (features, intervals),
            "zz": (np.array([[3.5, 0, 0, 0, 0, 0, 0]], dtype=np.float32), np.array([[1.0, 2.0]])),
            "broken": (np.zeros((2, 7)), None),
        },
    )
    gold, rejects = read_gold_csd(path)
    assert list(gold.columns) == GOLD_COLUMNS
    assert gold["video"].tolist() == ["-3g5yACwYnA"] * 3
    assert gold["segment"].tolist() == ["0", "1", "2"]
    np.testing.assert_allclose(gold["sentiment"], [1.0, -2.333, 0.0], rtol=1e-6)
    np.testing.assert_allclose(gold[["start", "end"]].to_numpy(), intervals)
    assert gold["split"].isna().all()
    assert sorted(zip(rejects["key"], rejects["reason"], strict=True)) == [
        ("broken", "gold_malformed"),
        ("zz___0", "gold_out_of_range"),
    ]
    # read_gold sniffs HDF5 by content, whatever the suffix
    assert read_gold(path)[0].equals(gold)
    renamed = tmp_path / "labels.bin"
    path.rename(renamed)
    assert len(read_gold(renamed)[0]) == 3


def test_csd_root_group_is_found_whatever_its_name(tmp_path):
    path = tmp_path / "other.csd"
    write_csd(path, {"v": (np.ones((1, 1)), np.array([[0.0, 1.0]]))}, root="Opinion Segment Labels")
    gold, _ = read_gold_csd(path)
    assert gold["sentiment"].tolist() == [1.0]


def test_csd_with_two_roots_is_a_data_error(tmp_path):
    path = tmp_path / "two.csd"
    with h5py.File(path, "w") as handle:
        handle.create_group("a/data")
        handle.create_group("b/data")
    with pytest.raises(DataError, match="one top-level group"):
        read_gold_csd(path)


def test_missing_gold_file(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_gold(tmp_path / "nope.csv")


# --- matching --------------------------------------------------------------------------------------
def _gold(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=GOLD_COLUMNS)
    return frame.astype({"video": "string", "segment": "string", "split": "string"})


def test_match_by_video_and_interval_within_tolerance():
    gold = _gold(
        [
            ("a", "0", 0.0, 2.0, 1.0, "train"),
            ("a", "1", 2.0, 5.0, -1.0, "train"),
            ("b", "0", 0.0, 2.0, 3.0, "test"),
            ("c", "0", 0.0, 2.0, 2.0, None),
        ]
    )
    segments = pd.DataFrame(
        {
            "video": ["a", "a", "a", "b", "z"],
            "segment": ["1", "2", "3", "1", "1"],  # numbered from 1: numbers are not the key
            "start": [0.1, 2.2, 7.0, 0.0, 0.0],
            "end": [2.05, 4.9, 8.0, 2.4, 2.0],
        }
    )
    matched, summary = match_gold(segments, gold, tolerance_s=0.25)
    assert matched["gold_sentiment"].tolist()[:2] == [1.0, -1.0]
    assert np.isnan(
        matched["gold_sentiment"].tolist()[2:]
    ).all()  # no interval; b's end is 0.4 off; z unknown
    assert matched["gold_split"].tolist() == ["train", "train", pd.NA, pd.NA, pd.NA]
    assert summary["segments_with_gold"] == 2 and summary["segments_without_gold"] == 3
    assert summary["gold_rows_unmatched"] == 2 and summary["gold_split"] == {"train": 2}
    matched, _ = match_gold(segments, gold, tolerance_s=0.5)
    assert matched["gold_sentiment"].iloc[3] == 3.0


def test_nearest_wins_and_segment_breaks_exact_ties():
    gold = _gold(
        [
            ("a", "24", 88.32, 90.65, -1.0, None),
            ("a", "25", 88.32, 90.65, -0.6, None),  # MOSI has such twins
            ("a", "26", 88.40, 90.70, 2.0, None),
        ]
    )
    segments = pd.DataFrame({"video": ["a", "a", "a"], "segment": ["25", "24", "x"], "start": [88.32] * 3})
    segments["end"] = 90.65
    matched, summary = match_gold(segments, gold, tolerance_s=0.5)
    assert matched["gold_sentiment"].tolist() == [-0.6, -1.0, -1.0]
    assert summary["gold_rows_matched_twice"] == 1


def test_gold_table_without_its_columns_is_a_data_error():
    segments = pd.DataFrame({"video": ["a"], "start": [0.0], "end": [1.0]})
    with pytest.raises(DataError, match=r"lacks column\(s\) \['segment', 'split'\]"):
        match_gold(
            segments,
            pd.DataFrame({"video": ["a"], "start": [0.0], "end": [1.0], "sentiment": [1.0]}),
            tolerance_s=0.1,
        )


def test_negative_tolerance_is_a_parameter_error():
    with pytest.raises(ParameterError, match="gold_tolerance_s"):
        match_gold(pd.DataFrame(columns=["video", "start", "end"]), _gold([]), tolerance_s=-1)


# --- real data -------------------------------------------------------------------------------------
def test_real_mosei_labels_csv(shared_data):
    path = shared_data / "mosei_labels" / "CMU_MOSEI_Labels.csv"
    gold, rejects = read_gold(path)
    raw = pd.read_csv(path)
    assert len(gold) + len(rejects) == len(raw) == 23_259
    assert rejects.empty  # 239 first segments start a little before 0 s: kept, not rejected
    expected = raw["split"].map({0: "train", 1: "valid", 2: "test"})
    assert gold["split"].value_counts().to_dict() == expected.value_counts().to_dict()
    np.testing.assert_array_equal(gold["sentiment"], raw["label7"].astype(float))


def test_real_mosi_gold_csv(shared_data):
    gold, rejects = read_gold(shared_data / "mosi" / "mosi_segments_gold.csv")
    assert len(gold) == 2_199 and rejects.empty
    assert gold["sentiment"].between(-3, 3).all()
