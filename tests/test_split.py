from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklabel.errors import DataError, ParameterError
from weaklabel.learn.split import (
    SPLIT_SCHEMA,
    SPLITS,
    SplitConfig,
    assign_groups,
    make_split,
    read_split,
    split_summary,
    write_split,
)


def corpus(n_videos: int = 60, *, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments of videos of 3..30 segments and weak labels (45% positive, 25% negative, 30% abstain)."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(n_videos):
        for s in range(int(rng.integers(3, 31))):
            rows.append(
                (f"vid{v:03d}___{s}", f"vid{v:03d}", int(rng.choice([1, 0, -1], p=[0.45, 0.25, 0.3])))
            )
    frame = pd.DataFrame(rows, columns=["segment_id", "video", "label"])
    return frame[["segment_id", "video"]], frame[["segment_id", "label"]]


@pytest.mark.parametrize(
    "params",
    [
        {"train": 0.7, "valid": 0.1, "test": 0.1},
        {"train": 0.9, "valid": 0.1, "test": 0.0},
        {"valid": -0.1, "train": 1.0},
        {"mode": "random"},
        {"seed": 1.5},
    ],
)
def test_config_rejects_bad_values(params):
    with pytest.raises(ParameterError):
        SplitConfig(**params)


def test_no_video_crosses_splits_and_every_segment_is_kept():
    segments, labels = corpus()
    split = make_split(segments, labels, config=SplitConfig(seed=3))
    assert list(split["segment_id"]) == list(segments["segment_id"])
    assert set(split["split"]) == set(SPLITS)
    assert (split.groupby("video")["split"].nunique() == 1).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_proportions_follow_the_fractions(seed):
    segments, labels = corpus(seed=seed)
    split = make_split(segments, labels, config=SplitConfig(seed=seed))
    shares = split["split"].value_counts(normalize=True)
    assert shares["train"] == pytest.approx(0.8, abs=0.03)
    assert shares["valid"] == pytest.approx(0.1, abs=0.03)
    assert shares["test"] == pytest.approx(0.1, abs=0.03)


def test_stratified_by_label_as_far_as_grouping_allows():
    segments, labels = corpus(n_videos=80)
    split = make_split(segments, labels, config=SplitConfig(seed=0))
    summary = split_summary(split, labels)
    overall = (labels["label"] == 1).mean()
    for name in SPLITS:
        entry = summary[name]
        labelled = entry["positive"] + entry["negative"] + entry["abstain"]
        assert labelled == entry["segments"]
        assert entry["positive"] / entry["segments"] == pytest.approx(overall, abs=0.05)


def test_seeded_same_seed_same_split_other_seed_other_split():
    segments, labels = corpus()
    a = make_split(segments, labels, config=SplitConfig(seed=7))
    b = make_split(segments, labels, config=SplitConfig(seed=7))
    c = make_split(segments, labels, config=SplitConfig(seed=8))
    pd.testing.assert_frame_equal(a, b)
    assert not a["split"].equals(c["split"])


def test_standard_mode_uses_gold_folds_and_places_the_rest():
    segments, labels = corpus(n_videos=40)
    folds = {f"vid{v:03d}": SPLITS[v % 3] for v in range(30)}  # videos 30..39 have no fold
    segments = segments.assign(gold_split=segments["video"].map(folds).astype("string"))
    split = make_split(segments, labels, config=SplitConfig(mode="standard"))
    by_video = split.groupby("video")["split"].first()
    for video, fold in folds.items():
        assert by_video[video] == fold
    assert by_video.notna().all()
    assert (split.groupby("video")["split"].nunique() == 1).all()


def test_standard_mode_without_folds_says_what_to_do():
    segments, labels = corpus(n_videos=10)
    with pytest.raises(ParameterError, match="split.mode: grouped"):
        make_split(segments.assign(gold_split=None), labels, config=SplitConfig(mode="standard"))


def test_every_split_gets_a_group_even_with_few_groups():
    groups = assign_groups(np.array([[50.0], [3.0], [2.0]]), fractions=np.array([0.8, 0.1, 0.1]), seed=0)
    assert sorted(groups.tolist()) == [0, 1, 2]
    with pytest.raises(DataError, match="2 group"):
        assign_groups(np.array([[5.0], [5.0]]), fractions=np.array([0.8, 0.1, 0.1]), seed=0)


def test_without_labels_and_empty_input():
    segments, _ = corpus(n_videos=20)
    split = make_split(segments, config=SplitConfig())
    assert set(split["split"]) == set(SPLITS)
    empty = make_split(segments.iloc[:0], config=SplitConfig())
    assert list(empty.columns) == SPLIT_SCHEMA.names and empty.empty


def test_bad_input_tables():
    segments, labels = corpus(n_videos=5)
    with pytest.raises(DataError, match="lacks"):
        make_split(segments.drop(columns="video"), config=SplitConfig())
    with pytest.raises(DataError, match="repeat"):
        make_split(pd.concat([segments, segments.iloc[:1]]), config=SplitConfig())


def test_round_trip_and_read_checks(tmp_path):
    segments, labels = corpus(n_videos=20)
    split = make_split(segments, labels, config=SplitConfig())
    path = write_split(split, tmp_path / "split.parquet")
    back = read_split(path)
    assert back.astype(str).equals(split.astype(str))
    old = split[["segment_id", "video", "split"]]  # written before speakers and folds: still read
    old.to_parquet(tmp_path / "old.parquet")
    back = read_split(tmp_path / "old.parquet")
    assert (back["speaker"] == back["video"]).all() and (back["fold"] == -1).all()
    broken = split.copy()
    broken.loc[0, "split"] = "test" if broken.loc[0, "split"] != "test" else "train"
    write_split(broken, tmp_path / "broken.parquet")
    with pytest.raises(DataError, match="more than one split"):
        read_split(tmp_path / "broken.parquet")


def test_standard_mode_on_the_real_mosei_folds(shared_data):
    from weaklabel.sources.gold import read_gold

    gold, _ = read_gold(shared_data / "mosei_labels" / "CMU_MOSEI_Labels.csv")
    segments = pd.DataFrame(
        {
            "segment_id": gold["video"] + "___" + gold["segment"],
            "video": gold["video"],
            "gold_split": gold["split"],
        }
    ).drop_duplicates("segment_id")
    split = make_split(segments, config=SplitConfig(mode="standard"))
    assert (split.groupby("video")["split"].nunique() == 1).all()
    folds = segments.dropna(subset=["gold_split"]).groupby("video")["gold_split"].first()
    by_video = split.groupby("video")["split"].first()
    assert (by_video[folds.index] == folds).all()
    assert split["split"].notna().all()  # videos of the unused fold 3 are placed too
