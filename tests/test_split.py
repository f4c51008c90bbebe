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


def speaker_corpus(n_videos: int = 60, n_speakers: int = 20, *, seed: int = 0):
    """:func:`corpus` with a speaker column: video v is read by speaker v % n_speakers."""
    segments, labels = corpus(n_videos, seed=seed)
    segments = segments.assign(
        speaker="spk" + (segments["video"].str[3:].astype(int) % n_speakers).astype(str)
    )
    return segments, labels


def test_folds_are_speaker_disjoint_stratified_and_cover_every_labelled_clip():
    segments, labels = speaker_corpus()
    split = make_split(segments, labels, config=SplitConfig(seed=1), folds=5)
    label = labels.set_index("segment_id")["label"].reindex(split["segment_id"]).to_numpy()
    assert list(split.columns) == SPLIT_SCHEMA.names
    assert ((split["fold"] >= 0) == (label >= 0)).all()  # labelled clips get a fold, abstained -1
    assert sorted(split.loc[split["fold"] >= 0, "fold"].unique()) == [0, 1, 2, 3, 4]
    assert (split[split["fold"] >= 0].groupby("speaker")["fold"].nunique() == 1).all()
    assert (split.groupby("speaker")["split"].nunique() == 1).all()  # validation speakers whole
    assert set(split["split"]) == {"train", "valid"}
    positive = pd.Series(label[label >= 0] == 1).groupby(split.loc[label >= 0, "fold"].to_numpy()).mean()
    assert positive.max() - positive.min() < 0.12  # stratified as far as speakers allow
    for k in range(5):  # every fold's training part keeps validation speakers
        rest = split[(split["fold"] >= 0) & (split["fold"] != k)]
        assert (rest["split"] == "valid").any() and (rest["split"] == "train").any()
    assert 0.05 < (split["split"] == "valid").mean() < 0.25
    again = make_split(segments, labels, config=SplitConfig(seed=1), folds=5)
    other = make_split(segments, labels, config=SplitConfig(seed=2), folds=5)
    assert again.equals(split) and not other["fold"].equals(split["fold"])


def test_holdout_groups_by_speaker_not_video():
    segments, labels = speaker_corpus(n_speakers=12)
    split = make_split(segments, labels, config=SplitConfig(seed=0))
    assert (split.groupby("speaker")["split"].nunique() == 1).all()
    assert (split["fold"] == -1).all() and split_summary(split, labels)["test"]["speakers"] >= 1


def test_folds_need_enough_speakers_and_both_classes():
    segments, labels = speaker_corpus(n_videos=12, n_speakers=3)
    with pytest.raises(DataError, match="fewer than evaluate.folds = 5"):
        make_split(segments, labels, config=SplitConfig(), folds=5)
    with pytest.raises(DataError, match="one class only"):
        make_split(segments, labels.assign(label=1), config=SplitConfig(), folds=2)


def test_protocol_parameters():
    from weaklabel.learn.split import check_protocol, folds_from

    assert folds_from(None) == 5 and folds_from({"folds": 3}) == 3
    assert folds_from({"protocol": "holdout", "folds": 3}) is None
    with pytest.raises(ParameterError, match="evaluate.protocol"):
        check_protocol("loso", 5)
    with pytest.raises(ParameterError, match="evaluate.folds"):
        check_protocol("kfold", 1)


def test_read_split_refuses_a_speaker_in_two_folds(tmp_path):
    segments, labels = speaker_corpus()
    split = make_split(segments, labels, config=SplitConfig(), folds=3)
    row = split.index[split["fold"] >= 0][0]
    split.loc[row, "fold"] = (split.loc[row, "fold"] + 1) % 3
    write_split(split, tmp_path / "split.parquet")
    with pytest.raises(DataError, match="more than one fold"):
        read_split(tmp_path / "split.parquet")
