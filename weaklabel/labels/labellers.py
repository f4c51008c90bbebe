"""Weak labels from transcripts: two lexicon labellers, a combination rule and a neutral band.

Each labeller is a named object (in the style of snorkel's labelling functions) whose ``score``
maps texts to a continuous sentiment in [-1, 1]: :data:`TEXTBLOB` (the pattern lexicon's polarity,
what ``TextBlob(text).sentiment.polarity`` gives) and :data:`VADER` (VADER's compound score). The
combination rule (:attr:`LabelConfig.combine`) turns the two scores into one label:

``mean``
    The mean of the two scores; ``|mean| < threshold`` abstains, else its sign is the label.
``vader``
    VADER alone (what the original study did), with the same band.
``agree``
    Both scores outside the band with the same sign; the combined score is their mean.

Labels are 1 (positive), 0 (negative) or :data:`ABSTAIN`. No row is ever dropped: a segment whose
text cannot be scored, or whose score is not confident, abstains with a reason code
(:data:`ABSTAIN_REASONS`). Each segment is scored as one unit (one sentence, for CMU-MOSEI).

Examples
--------
>>> import pandas as pd
>>> segments = pd.DataFrame({"segment_id": ["a___1", "b___1"], "text": ["I LOVED IT", None]})
>>> label_segments(segments, config=LabelConfig())[["segment_id", "label", "abstain_reason"]]
  segment_id  label abstain_reason
0      a___1      1           <NA>
1      b___1     -1        no_text
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.text import TEXT_REASONS, check_normalisation, normalise, unusable_reasons
from weaklabel.tables import write_table

log = logging.getLogger(__name__)

#: The label of a segment no labeller is confident about (snorkel's convention).
ABSTAIN = -1
#: Reason: the combined score lies inside the neutral band (or is exactly 0).
NEUTRAL_BAND = "neutral_band"
#: Reason (``combine="agree"``): both labellers are confident, with opposite signs.
DISAGREE = "disagree"
#: Every ``abstain_reason`` a labels table can hold: the text reasons, then the score reasons.
ABSTAIN_REASONS = (*TEXT_REASONS, NEUTRAL_BAND, DISAGREE)
#: Ways of combining the two scores, see :attr:`LabelConfig.combine`.
COMBINE_MODES = ("mean", "vader", "agree")

LABELS_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("textblob", pa.float64()),  # TextBlob polarity in [-1, 1]; null when the text was unusable
        ("vader", pa.float64()),  # VADER compound in [-1, 1]; null when the text was unusable
        ("combined", pa.float64()),  # the combined score the band is applied to; null when unscored
        ("label", pa.int8()),  # 1 positive, 0 negative, ABSTAIN (-1)
        ("confidence", pa.float64()),  # |combined| in [0, 1]; null when unscored
        ("abstain_reason", pa.string()),  # one of ABSTAIN_REASONS; null when labelled
    ]
)

_CHUNK = 2048


class Labeller:
    """A named sentiment labeller over texts.

    Parameters
    ----------
    name
        Short name; also the labels table's column for its scores.
    loader
        Called once, on first use, to build the scorer of one string (so the lexicon is loaded
        once per process and the package imports stay light).
    description
        One line saying what the score is.

    Attributes
    ----------
    name : str
    description : str
    """

    def __init__(self, name: str, loader: Callable[[], Callable[[str], float]], description: str) -> None:
        self.name = name
        self.description = description
        self._loader = loader
        self._scorer: Callable[[str], float] | None = None

    def __repr__(self) -> str:
        return f"Labeller({self.name!r})"

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Score each text.

        Parameters
        ----------
        texts
            n strings, already normalised (:func:`weaklabel.labels.text.normalise`); anything that is
            not a string scores NaN.

        Returns
        -------
        numpy.ndarray
            Shape (n,), float64 in [-1, 1]; 0 where the lexicon finds no sentiment.
        """
        if self._scorer is None:
            self._scorer = self._loader()
        scorer = self._scorer
        out = np.array([scorer(t) if isinstance(t, str) else np.nan for t in texts], dtype=np.float64)
        return np.clip(out, -1.0, 1.0, out=out) if out.size else out


def _load_textblob() -> Callable[[str], float]:
    # The scorer PatternAnalyzer calls: the same polarity as TextBlob(text).sentiment.polarity,
    # without building a TextBlob per text. Importing textblob takes ~1 s (nltk): done on first use.
    from textblob.en import sentiment

    return lambda text: sentiment(text)[0]


def _load_vader() -> Callable[[str], float]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    return lambda text: analyser.polarity_scores(text)["compound"]


#: TextBlob polarity: the mean polarity of the pattern lexicon's adjectives, with modifiers.
TEXTBLOB = Labeller("textblob", _load_textblob, "TextBlob (pattern lexicon) polarity in [-1, 1]")
#: VADER compound: a normalised sum of valences with rules for negation, emphasis and "but".
VADER = Labeller("vader", _load_vader, "VADER compound score in [-1, 1]")
#: The labellers, in the labels table's column order.
LABELLERS = (TEXTBLOB, VADER)


@dataclass(frozen=True)
class LabelConfig:
    """How transcripts become weak labels.

    Attributes
    ----------
    threshold
        Half-width of the neutral band: ``|combined| < threshold`` abstains. The original study
        used 0.2. In [0, 1).
    combine
        ``mean`` (the mean of the two scores), ``vader`` (VADER alone) or ``agree`` (both outside
        the band with the same sign).
    normalise
        Text normalisation before scoring: ``none``, ``lower``, ``sentence`` or ``uncaps`` (see
        :mod:`weaklabel.labels.text`). ``uncaps`` lower-cases ALL-CAPS transcripts and keeps mixed case.
    expand_negations
        Write ``didnt``/``isn't`` as ``did not``/``is not`` first, so TextBlob sees the negation.
    max_chars
        Longer texts abstain (``too_long``): a segment transcript is a sentence or two.
    check_language
        Abstain (``non_english``) on text that looks like another language.
    """

    threshold: float = 0.2
    combine: str = "mean"
    normalise: str = "uncaps"
    expand_negations: bool = True
    max_chars: int = 2000
    check_language: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise ParameterError(f"labels.threshold must be a number in [0, 1), got {self.threshold!r}")
        if not 0 <= self.threshold < 1:
            raise ParameterError(
                f"labels.threshold must be in [0, 1) (scores lie in [-1, 1]), got {self.threshold}"
            )
        if self.combine not in COMBINE_MODES:
            raise ParameterError(
                f"labels.combine must be one of {', '.join(COMBINE_MODES)}, got {self.combine!r}"
            )
        check_normalisation(self.normalise)
        if isinstance(self.max_chars, bool) or not isinstance(self.max_chars, int) or self.max_chars < 1:
            raise ParameterError(f"labels.max_chars must be an integer >= 1, got {self.max_chars!r}")
        for name in ("expand_negations", "check_language"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"labels.{name} must be true or false, got {getattr(self, name)!r}")


def vote(scores: np.ndarray, *, threshold: float) -> np.ndarray:
    """One labeller's vote: its score through the neutral band.

    Parameters
    ----------
    scores
        Shape (n,), scores in [-1, 1]; NaN for unscored texts.
    threshold
        Half-width of the neutral band.

    Returns
    -------
    numpy.ndarray
        Shape (n,), int8: 1 where ``score >= threshold`` and ``score > 0``, 0 where
        ``score <= -threshold`` and ``score < 0``, else :data:`ABSTAIN` (NaN included).
    """
    scores = np.asarray(scores, dtype=np.float64)
    out = np.full(scores.shape, ABSTAIN, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        confident = (np.abs(scores) >= threshold) & (scores != 0)
        out[confident & (scores > 0)] = 1
        out[confident & (scores < 0)] = 0
    return out


def combine_scores(
    textblob: np.ndarray, vader: np.ndarray, *, combine: str, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine the two labellers' scores into a score, a label and a reason.

    Parameters
    ----------
    textblob, vader
        Shape (n,), scores in [-1, 1]; NaN where the text was not scored.
    combine
        One of :data:`COMBINE_MODES`.
    threshold
        Half-width of the neutral band.

    Returns
    -------
    combined : numpy.ndarray
        Shape (n,), float64: the mean of the two (``mean``, ``agree``) or VADER's (``vader``).
    label : numpy.ndarray
        Shape (n,), int8: 1, 0 or :data:`ABSTAIN`.
    reason : numpy.ndarray
        Shape (n,), object: :data:`NEUTRAL_BAND`, :data:`DISAGREE`, or ``None`` (labelled, or
        not scored: NaN scores abstain with reason ``None``, for the caller to name).

    Raises
    ------
    ParameterError
        If ``combine`` is unknown.
    """
    if combine not in COMBINE_MODES:
        raise ParameterError(f"combine must be one of {', '.join(COMBINE_MODES)}, got {combine!r}")
    textblob = np.asarray(textblob, dtype=np.float64)
    vader = np.asarray(vader, dtype=np.float64)
    combined = vader.copy() if combine == "vader" else (textblob + vader) / 2
    scored = ~np.isnan(combined)
    if combine == "agree":
        tb_vote, vd_vote = vote(textblob, threshold=threshold), vote(vader, threshold=threshold)
        both = (tb_vote != ABSTAIN) & (vd_vote != ABSTAIN)
        label = np.where(both & (tb_vote == vd_vote), tb_vote, ABSTAIN).astype(np.int8)
        disagree = both & (tb_vote != vd_vote)
    else:
        label = vote(combined, threshold=threshold)
        disagree = np.zeros(combined.shape, dtype=bool)
    reason = np.full(combined.shape, None, dtype=object)
    reason[scored & (label == ABSTAIN)] = NEUTRAL_BAND
    reason[disagree] = DISAGREE
    return combined, label, reason


def label_texts(texts: Sequence[object], *, config: LabelConfig, verbose: bool = False) -> pd.DataFrame:
    """Weak labels of transcripts.

    Parameters
    ----------
    texts
        n transcripts; ``None``, NaN, empty, emoji-only, non-English and overlong texts abstain.
    config
        Normalisation, combination rule, band.
    verbose
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        n rows in input order, the columns of :data:`LABELS_SCHEMA` but ``segment_id``.
    """
    texts = list(texts)
    n = len(texts)
    reasons = unusable_reasons(texts, max_chars=config.max_chars, check_language=config.check_language)
    usable = np.flatnonzero(pd.isna(reasons))
    scores = {labeller.name: np.full(n, np.nan) for labeller in LABELLERS}
    starts = range(0, usable.size, _CHUNK)
    for start in tqdm(starts, desc="labelling", unit="chunk", disable=not verbose or len(starts) < 2):
        rows = usable[start : start + _CHUNK]
        chunk = normalise([texts[i] for i in rows], mode=config.normalise, negations=config.expand_negations)
        for labeller in LABELLERS:
            scores[labeller.name][rows] = labeller.score(chunk)
    combined, label, band_reason = combine_scores(
        scores["textblob"], scores["vader"], combine=config.combine, threshold=config.threshold
    )
    reasons = np.where(pd.isna(reasons), band_reason, reasons)
    log.debug("labelled %d texts, %d scored", n, usable.size)
    return pd.DataFrame(
        {
            "textblob": scores["textblob"],
            "vader": scores["vader"],
            "combined": combined,
            "label": label,
            "confidence": np.abs(combined),
            "abstain_reason": pd.array(reasons, dtype="string"),
        }
    )


def label_segments(segments: pd.DataFrame, *, config: LabelConfig, verbose: bool = False) -> pd.DataFrame:
    """Weak labels of every segment, one row each (abstentions included, nothing dropped).

    Parameters
    ----------
    segments
        The ingest table (:data:`weaklabel.sources.mosei.SEGMENTS_SCHEMA`): needs ``segment_id`` and
        ``text``; audio columns may be null (text-only mode) and are not read.
    config, verbose
        As in :func:`label_texts`.

    Returns
    -------
    pandas.DataFrame
        ``len(segments)`` rows in the same order, columns of :data:`LABELS_SCHEMA`.

    Raises
    ------
    DataError
        If ``segment_id`` or ``text`` is missing.
    """
    missing = [c for c in ("segment_id", "text") if c not in segments.columns]
    if missing:
        raise DataError(
            f"segments table lacks column(s) {missing}, found {list(segments.columns)}; "
            "expected the ingest table (segment_id, text, ...): run the ingest stage first"
        )
    labels = label_texts(segments["text"].tolist(), config=config, verbose=verbose)
    labels.insert(0, "segment_id", segments["segment_id"].astype("string").to_numpy())
    counts = labels["abstain_reason"].value_counts(dropna=False)
    log.info(
        "labelled %d segments: %d positive, %d negative, %d abstained %s",
        len(labels),
        int((labels["label"] == 1).sum()),
        int((labels["label"] == 0).sum()),
        int((labels["label"] == ABSTAIN).sum()),
        {str(k): int(v) for k, v in counts.items() if not pd.isna(k)},
    )
    return labels


def write_labels(labels: pd.DataFrame, path: str | Path) -> Path:
    """Write a labels table (from :func:`label_segments`) to Parquet with :data:`LABELS_SCHEMA`."""
    return write_table(labels, path, schema=LABELS_SCHEMA)
