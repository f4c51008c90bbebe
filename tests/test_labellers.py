from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from weaklabel.config import from_mapping
from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.labellers import (
    ABSTAIN,
    ABSTAIN_REASONS,
    DISAGREE,
    LABELLERS,
    LABELS_SCHEMA,
    NEUTRAL_BAND,
    TEXTBLOB,
    VADER,
    LabelConfig,
    combine_scores,
    label_segments,
    label_texts,
    vote,
    write_labels,
)
from weaklabel.labels.text import EMOJI_ONLY, EMPTY_TEXT, NO_TEXT, NO_WORDS, NON_ENGLISH, TOO_LONG
from weaklabel.sources.gold import binarize_gold
from weaklabel.tables import read_table

POSITIVE = "I loved it, it was a fantastic film and so much fun"
NEGATIVE = "It was terrible, boring and awful, I hated it"
NEUTRAL = "The film starts at eight and lasts two hours"


def segments_frame(texts: list[object], *, audio: bool = False) -> pd.DataFrame:
    """A segments table with the ingest columns; audio columns null (text-only mode) by default."""
    n = len(texts)
    return pd.DataFrame(
        {
            "segment_id": [f"vid{i // 3}___{i % 3}" for i in range(n)],
            "video": [f"vid{i // 3}" for i in range(n)],
            "segment": [str(i % 3) for i in range(n)],
            "start": np.arange(n, dtype=float),
            "end": np.arange(n, dtype=float) + 1,
            "duration": np.ones(n),
            "text": pd.Series(texts, dtype=object),
            "audio_path": pd.Series([f"a{i}.wav" if audio else None for i in range(n)], dtype="string"),
            "sample_rate": pd.array([16000 if audio else None] * n, dtype="Int32"),
            "audio_seconds": np.full(n, 10.0 if audio else np.nan),
            "gold_sentiment": np.full(n, np.nan),
            "gold_split": pd.Series([None] * n, dtype="string"),
        }
    )


def test_labellers_are_named_and_score_in_range():
    assert [lf.name for lf in LABELLERS] == ["textblob", "vader"]
    for lf in LABELLERS:
        scores = lf.score([POSITIVE, NEGATIVE, NEUTRAL, ""])
        assert scores.shape == (4,) and scores.dtype == np.float64
        assert np.all((scores >= -1) & (scores <= 1))
        assert scores[0] > 0.2 and scores[1] < -0.2 and scores[2] == 0 and scores[3] == 0
        assert "Labeller" in repr(lf)


def test_labeller_scores_non_strings_as_nan_and_empty_input():
    assert np.isnan(VADER.score([None])[0])
    assert TEXTBLOB.score([]).shape == (0,)


def test_textblob_labeller_matches_textblob_polarity():
    from textblob import TextBlob

    texts = [POSITIVE, NEGATIVE, NEUTRAL, "not good at all!!", "I DIDNT LIKE IT", "very very good"]
    expected = [TextBlob(t).sentiment.polarity for t in texts]
    np.testing.assert_allclose(TEXTBLOB.score(texts), expected)


def test_vader_boosts_capitals_only_in_mixed_case_text():
    # Measured, not guessed: VADER's ALL-CAPS boost needs a case difference within the text.
    upper, lower, mixed, digit = VADER.score(["IT IS GOOD", "it is good", "it is GOOD", "IT IS GOOD 0"])
    assert upper == pytest.approx(lower)
    assert mixed > lower
    assert digit > upper  # a digit token makes an ALL-CAPS text "mixed": every word is boosted


def test_config_defaults_and_from_mapping():
    config = LabelConfig()
    assert (config.threshold, config.combine, config.normalise) == (0.2, "mean", "uncaps")
    assert from_mapping(LabelConfig, {"combine": "agree"}, section="labels").combine == "agree"
    with pytest.raises(ParameterError, match="labels.thresh"):
        from_mapping(LabelConfig, {"thresh": 0.1}, section="labels")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("threshold", 1.5, r"labels.threshold must be in \[0, 1\)"),
        ("threshold", -0.1, r"labels.threshold must be in \[0, 1\)"),
        ("threshold", "0.2", "labels.threshold must be a number"),
        ("combine", "max", "labels.combine must be one of mean, vader, agree, got 'max'"),
        ("normalise", "upper", "unknown text normalisation 'upper'"),
        ("max_chars", 0, "labels.max_chars must be an integer >= 1"),
        ("expand_negations", "yes", "labels.expand_negations must be true or false"),
    ],
)
def test_config_validation(field, value, message):
    with pytest.raises(ParameterError, match=message):
        LabelConfig(**{field: value})


def test_vote_band_and_nan():
    votes = vote(np.array([0.5, -0.5, 0.2, -0.2, 0.19, 0.0, np.nan]), threshold=0.2)
    assert votes.dtype == np.int8
    assert votes.tolist() == [1, 0, 1, 0, ABSTAIN, ABSTAIN, ABSTAIN]
    assert vote(np.array([0.0, 0.01]), threshold=0.0).tolist() == [ABSTAIN, 1]


@pytest.mark.parametrize(
    ("combine", "labels", "reasons"),
    [
        ("mean", [1, ABSTAIN, 0, ABSTAIN, ABSTAIN], [None, NEUTRAL_BAND, None, NEUTRAL_BAND, None]),
        ("vader", [1, 1, 0, 0, ABSTAIN], [None, None, None, None, None]),
        ("agree", [1, ABSTAIN, 0, ABSTAIN, ABSTAIN], [None, NEUTRAL_BAND, None, DISAGREE, None]),
    ],
)
def test_combine_rules(combine, labels, reasons):
    textblob = np.array([0.6, 0.0, -0.4, 0.5, np.nan])
    vader = np.array([0.4, 0.3, -0.8, -0.5, np.nan])
    combined, label, reason = combine_scores(textblob, vader, combine=combine, threshold=0.2)
    assert label.dtype == np.int8
    assert label.tolist() == labels
    assert reason.tolist() == reasons
    expected = vader if combine == "vader" else (textblob + vader) / 2
    np.testing.assert_allclose(combined, expected)


def test_combine_rejects_unknown_rule():
    with pytest.raises(ParameterError, match="combine must be one of"):
        combine_scores(np.zeros(1), np.zeros(1), combine="max", threshold=0.2)


def test_label_segments_text_only_one_row_per_segment():
    texts = [POSITIVE, NEGATIVE, NEUTRAL]
    segments = segments_frame(texts)
    labels = label_segments(segments, config=LabelConfig())
    assert list(labels.columns) == LABELS_SCHEMA.names
    assert labels["segment_id"].tolist() == segments["segment_id"].tolist()
    assert labels["label"].tolist() == [1, 0, ABSTAIN]
    assert labels["abstain_reason"].isna().tolist() == [True, True, False]
    assert labels["abstain_reason"][2] == NEUTRAL_BAND
    np.testing.assert_allclose(labels["confidence"], np.abs(labels["combined"]))
    np.testing.assert_allclose(labels["combined"], (labels["textblob"] + labels["vader"]) / 2)


def test_bad_input_abstains_with_a_reason_and_no_row_is_dropped():
    texts = [
        POSITIVE,
        None,
        np.nan,
        "",
        "   ",
        "😀😀",
        "?!",
        "Das ist wirklich nicht gut, aber ich liebe es",
        "I loved it " * 400,
        NEUTRAL,
    ]
    labels = label_segments(segments_frame(texts), config=LabelConfig())
    assert len(labels) == len(texts)
    expected = [None, NO_TEXT, NO_TEXT, EMPTY_TEXT, EMPTY_TEXT, EMOJI_ONLY, NO_WORDS, NON_ENGLISH, TOO_LONG]
    expected.append(NEUTRAL_BAND)
    got = [None if pd.isna(r) else r for r in labels["abstain_reason"]]
    assert got == expected
    assert set(got) - {None} <= set(ABSTAIN_REASONS)
    unscored = labels.iloc[1:9]
    assert (unscored["label"] == ABSTAIN).all()
    assert unscored[["textblob", "vader", "combined", "confidence"]].isna().all().all()
    assert labels["label"].iloc[0] == 1


def test_every_labelled_row_has_no_reason_and_every_abstention_has_one(rng):
    words = ["good", "bad", "movie", "terrible", "great", "the", "was", "not", "okay", "fun"]
    texts = [" ".join(rng.choice(words, size=6)) for _ in range(300)]
    for combine in ("mean", "vader", "agree"):
        labels = label_segments(segments_frame(texts), config=LabelConfig(combine=combine))
        abstained = labels["label"] == ABSTAIN
        assert labels.loc[abstained, "abstain_reason"].notna().all()
        assert labels.loc[~abstained, "abstain_reason"].isna().all()
        assert set(labels["label"]) <= {ABSTAIN, 0, 1}


def test_threshold_widens_the_band(rng):
    words = ["good", "bad", "movie", "great", "awful", "the", "fine", "nice"]
    segments = segments_frame([" ".join(rng.choice(words, size=5)) for _ in range(200)])
    covered = [
        (label_segments(segments, config=LabelConfig(threshold=t))["label"] != ABSTAIN).sum()
        for t in (0.0, 0.2, 0.5)
    ]
    assert covered[0] >= covered[1] >= covered[2]


def test_label_segments_with_audio_columns_reads_no_audio():
    labels = label_segments(segments_frame([POSITIVE, NEGATIVE], audio=True), config=LabelConfig())
    assert labels["label"].tolist() == [1, 0]


def test_label_segments_needs_segment_id_and_text():
    with pytest.raises(DataError, match=r"lacks column\(s\) \['text'\].*run the ingest stage"):
        label_segments(pd.DataFrame({"segment_id": ["a"]}), config=LabelConfig())


def test_empty_segments_give_an_empty_table(tmp_path):
    labels = label_segments(segments_frame([]), config=LabelConfig())
    assert labels.empty and list(labels.columns) == LABELS_SCHEMA.names
    write_labels(labels, tmp_path / "labels.parquet")
    assert pq.read_schema(tmp_path / "labels.parquet").equals(LABELS_SCHEMA, check_metadata=False)


def test_write_labels_roundtrip_with_explicit_schema(tmp_path):
    labels = label_segments(segments_frame([POSITIVE, None, NEUTRAL]), config=LabelConfig())
    path = write_labels(labels, tmp_path / "out" / "labels.parquet")
    schema = pq.read_schema(path)
    assert schema.field("label").type == "int8"
    assert schema.equals(LABELS_SCHEMA, check_metadata=False)
    back = read_table(path)
    assert back["label"].tolist() == [1, ABSTAIN, ABSTAIN]
    assert back["abstain_reason"].isna().tolist() == [True, False, False]


def test_mosi_mean_score_auc_against_non0_gold(shared_data):
    from sklearn.metrics import roc_auc_score

    frame = pd.read_csv(shared_data / "mosi" / "mosi_segments_gold.csv")
    labels = label_texts(frame["text"].tolist(), config=LabelConfig(combine="mean"))
    gold = binarize_gold(frame["sentiment"].to_numpy(), mode="non0")
    keep = ~np.isnan(gold)
    assert len(frame) == 2199 and keep.sum() > 2000
    assert roc_auc_score(gold[keep], labels["combined"][keep]) >= 0.80
