from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weaklabel.errors import ParameterError
from weaklabel.labels.text import (
    EMOJI_ONLY,
    EMPTY_TEXT,
    NO_TEXT,
    NO_WORDS,
    NON_ENGLISH,
    NORMALISATIONS,
    TEXT_REASONS,
    TOO_LONG,
    expand_negations,
    looks_english,
    normalise,
    unusable_reason,
    unusable_reasons,
)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("none", ["AND I LOVED IT", "It was GREAT. i think so"]),
        ("lower", ["and i loved it", "it was great. i think so"]),
        ("sentence", ["And I loved it", "It was great. I think so"]),
        ("uncaps", ["and i loved it", "It was GREAT. i think so"]),
    ],
)
def test_normalise_modes(mode, expected):
    assert normalise(["AND I LOVED IT", "It was GREAT. i think so"], mode=mode) == expected


def test_normalise_collapses_whitespace_and_invisible_characters():
    assert normalise(["  so \t\n good\u200b now  "], mode="none") == ["so good now"]


def test_every_normalisation_is_listed():
    assert set(NORMALISATIONS) == {"none", "lower", "sentence", "uncaps"}


def test_unknown_normalisation_says_what_is_expected():
    with pytest.raises(ParameterError, match="'shout'.*none, lower, sentence, uncaps"):
        normalise(["x"], mode="shout")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I DIDNT LIKE IT", "I DID NOT LIKE IT"),
        ("it isn't good", "it is not good"),
        ("it isn\u2019t good", "it is not good"),
        ("you CANT miss it", "you CAN NOT miss it"),
        ("I can't and won't", "I can not and will not"),
        ("Wont work", "Will not work"),
        ("they wouldnt have", "they would not have"),
        ("a dont-care attitude and a cantilever", "a do not-care attitude and a cantilever"),
    ],
)
def test_expand_negations(text, expected):
    assert expand_negations(text) == expected


def test_normalise_with_negations():
    assert normalise(["I DIDNT LIKE IT"], mode="uncaps", negations=True) == ["i did not like it"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, NO_TEXT),
        (np.nan, NO_TEXT),
        (pd.NA, NO_TEXT),
        (3.5, NO_TEXT),
        ("", EMPTY_TEXT),
        ("   \t\n ", EMPTY_TEXT),
        ("\u200b\ufeff", EMPTY_TEXT),
        ("😀😀🎉", EMOJI_ONLY),
        ("❤️ 👍", EMOJI_ONLY),
        ("...!?", NO_WORDS),
        ("0 000 0", NO_WORDS),
        ("Das ist wirklich nicht gut", NON_ENGLISH),
        ("C'est très bien, j'adore ce film", NON_ENGLISH),
        ("Me encanta esta película, es muy buena", NON_ENGLISH),
        ("Questo film è molto bello", NON_ENGLISH),
        ("Ik vind het niet leuk", NON_ENGLISH),
        ("Это очень хороший фильм", NON_ENGLISH),
        ("这部电影很好", NON_ENGLISH),
        ("great " * 500, TOO_LONG),
    ],
)
def test_unusable_text_gets_a_reason(text, reason):
    assert unusable_reason(text, max_chars=2000) == reason


@pytest.mark.parametrize(
    "text",
    [
        "AND I LOVED IT",
        "I love this café",
        "la la land was great",
        "Die Hard is a movie I like",
        "it was great 😀",
        "ok",
        "THE 0 MOVIE",
    ],
)
def test_english_text_is_usable(text):
    assert unusable_reason(text, max_chars=2000) is None


def test_language_check_can_be_switched_off():
    assert unusable_reason("Das ist nicht gut", max_chars=2000, check_language=False) is None
    assert not looks_english("Das ist nicht gut")


def test_length_limit_counts_the_stripped_text():
    assert unusable_reason("  " + "a" * 10 + "  ", max_chars=10) is None
    assert unusable_reason("a" * 11, max_chars=10) == TOO_LONG


def test_unusable_reasons_vector():
    reasons = unusable_reasons(["good", None, " "], max_chars=100)
    assert reasons.shape == (3,)
    assert list(reasons) == [None, NO_TEXT, EMPTY_TEXT]
    assert set(TEXT_REASONS) >= {NO_TEXT, EMPTY_TEXT, EMOJI_ONLY, NO_WORDS, NON_ENGLISH, TOO_LONG}


def test_unusable_reasons_rejects_bad_limit():
    with pytest.raises(ParameterError, match="max_chars must be >= 1, got 0"):
        unusable_reasons(["x"], max_chars=0)


def test_mosi_transcripts_are_all_usable_english(shared_data):
    frame = pd.read_csv(shared_data / "mosi" / "mosi_segments_gold.csv")
    reasons = unusable_reasons(frame["text"], max_chars=2000)
    assert pd.isna(reasons).mean() > 0.99
