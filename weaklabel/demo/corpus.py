"""The synthesized demo corpus: CMU-MOSEI raw layout, spoken by espeak-ng, with SIMULATED affect.

There is no CMU-MOSEI on a fresh machine, so the pipeline's default input is made here. Each video
is read by one of 20 "speakers" (:data:`SPEAKERS`: an espeak-ng English voice and variant with its
own pitch, rate, loudness and intonation range; video ``i`` by speaker ``i % 20``), reading
``sentences_min`` to ``sentences_max`` (10 to 20 by default) review/vlog sentences (positive,
negative and neutral, written for this project: ``positive.txt``, ``negative.txt``,
``neutral.txt`` beside this module) in shuffled order, with pauses between them and a little
background noise. A recording whose peak would exceed 0.95 is turned down as a whole, never
clipped. The transcript timestamps are the true sentence boundaries in the generated audio, to the
sample; ``speakers.csv`` says who reads each video.

Balance
-------
Every video reads as many positive as negative sentences, dealt as pairs of about the same length
(:func:`pair_by_length`), and a quarter neutral ones (:func:`split_count`); no sentence is read
twice until all have been (:func:`deal_sentences`). So at ``affect_strength`` 0 nothing in the
audio depends on the label: not the prosody, not the sentence duration, not the label balance of
a speaker or a video.

Simulated affect
----------------
A formant synthesizer has no emotions. The affect in this corpus is SIMULATED with prosody only,
following the textbook correlates of emotional speech: positive sentences are spoken like happy
speech (higher pitch, wider pitch range, faster), negative ones like sad/angry speech (lower pitch,
narrower range, slower, louder); see :data:`AFFECT`. The offsets are multiplied by
``affect_strength`` in [0, 1] and by a per-sentence intensity drawn from :data:`AFFECT_INTENSITY`
(mean 1, from none to double), on top of natural per-sentence jitter that ignores the label, and
the speakers differ from each other more than the affect moves one of them at the default
strength: affect is a tendency relative to the voice, not a fingerprint. 0 is the negative
control of the prosody: no simulated affect, but the words heard are still the transcript's, and
the words carry the sentiment, so a model that recognises words can score above chance (measured:
KNN on averaged mels 0.56 out of fold). With ``spoken_words: independent`` as well, each
length-matched pair's audio is swapped with probability 1/2 (:func:`spoken_texts`): the words
heard are independent of the label, and nothing in the audio depends on it (the full negative
control: every audio model should score at chance). Neutral sentences never get affect. Voice
quality, timing of individual words and everything else a human voice carries is not simulated,
so numbers measured on this corpus say whether the pipeline works, not how well a model hears real
emotion.

Layout written under ``out``::

    Audio/Full/WAV_16000/<video>.wav           16 kHz mono PCM_16, one speaker per video
    Transcript/Segmented/Combined/<video>.txt  video___segment___start___end___text (segments from 1)
    labels/gold.csv                            video,segment,start,end,sentiment (intended, -3..+3)
    speakers.csv                               video,speaker (speaker ids spk00..spk19)
    Probe/<language>/<polarity>_NN.wav         multilingual probe utterances (same simulated affect)
    Probe/manifest.csv                         path (relative to Probe/),language,polarity,text
    demo.json                                  config, counts, speakers, affect offsets, espeak-ng version

Everything is drawn from ``seed``: the same config gives byte-identical files. Video ``i`` depends
only on ``(seed, i)``, so a smaller corpus is a prefix of a larger one, and ``affect_strength``
changes the prosody only, never which sentences are read, in which order, or where the pauses fall.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from tqdm import tqdm

from weaklabel.audio.io import SAMPLE_RATE
from weaklabel.demo.speech import espeak_path, espeak_version, synthesize
from weaklabel.errors import DataError, ParameterError

log = logging.getLogger(__name__)

#: Sentence files shipped beside this module, by polarity.
SENTENCE_FILES: dict[str, str] = {
    "positive": "positive.txt",
    "negative": "negative.txt",
    "neutral": "neutral.txt",
}
#: Probe utterances shipped beside this module: ``language | polarity | text`` lines.
PROBE_FILE = "probe.txt"

#: Languages of the probe and the espeak-ng voice that speaks each.
PROBE_VOICES: dict[str, str] = {
    "english": "en-us",
    "french": "fr",
    "russian": "ru",
    "armenian": "hy",
    "german": "de",
    "italian": "it",
    "spanish": "es",
}
#: Variants cycled over the probe utterances of one language (male and female).
PROBE_VARIANTS: tuple[str, ...] = ("m3", "f3", "m1", "f2")

#: Highest sample magnitude written; a louder recording is turned down as a whole, never clipped.
_PEAK = 0.95

#: Silence before and after each probe utterance, seconds.
PROBE_PAUSE_S = 0.3

#: Sub-paths of the corpus root (the CMU-MOSEI raw layout).
AUDIO_DIR = Path("Audio/Full/WAV_16000")
TRANSCRIPT_DIR = Path("Transcript/Segmented/Combined")
GOLD_FILE = Path("labels/gold.csv")
#: Who reads each video: ``video,speaker`` (UTF-8 CSV with header), for speaker-grouped evaluation.
SPEAKERS_FILE = Path("speakers.csv")
PROBE_DIR = Path("Probe")
SUMMARY_FILE = Path("demo.json")
#: Written first, so a run cut short still marks the folder as a demo corpus that may be replaced.
MARKER_FILE = Path(".weaklabel-demo")

_VIDEO_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*[A-Za-z0-9]")
_ID_CHARS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


@dataclass(frozen=True)
class Sentence:
    """One sentence of the demo corpus.

    Attributes
    ----------
    text
        What is said.
    sentiment
        Intended sentiment on the CMU-MOSEI scale, an integer in -3..+3 (0 for neutral).
    """

    text: str
    sentiment: int

    @property
    def polarity(self) -> str:
        """``"positive"``, ``"negative"`` or ``"neutral"``, from the sign of :attr:`sentiment`."""
        return "positive" if self.sentiment > 0 else "negative" if self.sentiment < 0 else "neutral"


@dataclass(frozen=True)
class ProbeUtterance:
    """One probe utterance: a sentence in some language with a polarity."""

    language: str
    polarity: str
    text: str


@dataclass(frozen=True)
class Speaker:
    """A demo "speaker": an espeak-ng voice with its own prosody.

    Attributes
    ----------
    name
        Speaker id recorded in ``speakers.csv`` and ``demo.json``, e.g. ``"spk03"``.
    voice
        espeak-ng voice and variant, e.g. ``"en-us+f3"``.
    pitch
        Base pitch on espeak-ng's 0-99 scale.
    rate
        Speaking rate, words per minute.
    amplitude
        Loudness on espeak-ng's 0-200 scale.
    pitch_range
        Intonation range factor (1 = the voice's own).
    """

    name: str
    voice: str
    pitch: float
    rate: float
    amplitude: float = 100.0
    pitch_range: float = 1.0


#: The speakers; video ``i`` is read by ``SPEAKERS[i % len(SPEAKERS)]``. Their pitch (26-74), rate
#: (126-185 wpm), intonation range (0.5-1.8) and loudness (55-100) are spread and shuffled against each other
#: so that speakers differ at least as much as the simulated affect moves one speaker (at the default
#: ``affect_strength``): a model must hear affect relative to the voice, not recognise the voice.
SPEAKERS: tuple[Speaker, ...] = (
    Speaker("spk00", "en-us+m3", pitch=38, rate=150, amplitude=75, pitch_range=1.0),
    Speaker("spk01", "en-us+f3", pitch=62, rate=172, amplitude=60, pitch_range=1.45),
    Speaker("spk02", "en+f4", pitch=70, rate=140, amplitude=95, pitch_range=0.75),
    Speaker("spk03", "en-gb-scotland+m1", pitch=30, rate=165, amplitude=85, pitch_range=0.6),
    Speaker("spk04", "en-029+m7", pitch=45, rate=128, amplitude=55, pitch_range=1.65),
    Speaker("spk05", "en-gb-x-rp+f5", pitch=56, rate=182, amplitude=100, pitch_range=0.9),
    Speaker("spk06", "en-us+f2", pitch=74, rate=158, amplitude=70, pitch_range=1.3),
    Speaker("spk07", "en-gb-x-gbclan+m2", pitch=26, rate=135, amplitude=65, pitch_range=1.1),
    Speaker("spk08", "en-us-nyc+m4", pitch=50, rate=176, amplitude=90, pitch_range=0.5),
    Speaker("spk09", "en+m6", pitch=34, rate=145, amplitude=80, pitch_range=1.55),
    Speaker("spk10", "en+f1", pitch=66, rate=126, amplitude=85, pitch_range=0.65),
    Speaker("spk11", "en-us+m1", pitch=42, rate=185, amplitude=55, pitch_range=1.25),
    Speaker("spk12", "en+f2", pitch=58, rate=132, amplitude=70, pitch_range=1.8),
    Speaker("spk13", "en-gb-x-rp+m5", pitch=28, rate=154, amplitude=100, pitch_range=0.85),
    Speaker("spk14", "en-us+f5", pitch=72, rate=168, amplitude=65, pitch_range=1.05),
    Speaker("spk15", "en-gb-x-gbcwmd+m3", pitch=46, rate=138, amplitude=90, pitch_range=0.7),
    Speaker("spk16", "en+f3", pitch=64, rate=150, amplitude=60, pitch_range=0.55),
    Speaker("spk17", "en-029+f4", pitch=52, rate=162, amplitude=80, pitch_range=1.5),
    Speaker("spk18", "en+m2", pitch=36, rate=178, amplitude=95, pitch_range=1.15),
    Speaker("spk19", "en-us+m7", pitch=54, rate=130, amplitude=75, pitch_range=0.95),
)


@dataclass(frozen=True)
class Affect:
    """SIMULATED affect: prosody offsets for one polarity at ``affect_strength`` 1.

    Attributes
    ----------
    pitch
        Added to the base pitch (espeak-ng 0-99 scale; 10 steps is roughly 3 semitones).
    pitch_range
        Relative change of the intonation range (+0.6 = 60 % wider).
    rate
        Relative change of the speaking rate (-0.12 = 12 % slower).
    amplitude
        Relative change of loudness.
    """

    pitch: float
    pitch_range: float
    rate: float
    amplitude: float


#: Simulated affect by polarity: happy-like for positive, sad/angry-like for negative.
AFFECT: dict[str, Affect] = {
    "positive": Affect(pitch=14.0, pitch_range=0.45, rate=0.15, amplitude=0.0),
    "negative": Affect(pitch=-12.0, pitch_range=-0.35, rate=-0.12, amplitude=0.25),
}
#: Per-sentence affect intensity is drawn uniformly from this range (mean 1): some sentences carry
#: no affect, some twice the offsets of :data:`AFFECT`.
AFFECT_INTENSITY: tuple[float, float] = (0.0, 2.0)
#: A positive and a negative sentence are paired (and read in the same video) when their lengths
#: differ by at most this fraction: the polarities then have the same length distribution.
PAIR_TOLERANCE = 0.05
#: Natural sentence-to-sentence variation of every speaker, independent of polarity: standard
#: deviations (clipped at twice these) of the pitch steps added, the relative rate change and the
#: relative change of the intonation range.
PITCH_JITTER = 3.0
RATE_JITTER = 0.05
RANGE_JITTER = 0.1


@dataclass(frozen=True)
class DemoConfig:
    """Size and sound of the demo corpus (the ``demo`` section of ``params.yaml``).

    Attributes
    ----------
    videos
        Number of videos (one speaker each).
    seed
        Seed for everything drawn: video ids, speakers' sentences, pauses, jitter, noise.
    affect_strength
        Scale of the SIMULATED affect, 0..1: 0 = none (the audio carries no sentiment, only the
        words do: a negative control), 1 = the full offsets of :data:`AFFECT`. The default 0.7 keeps
        every audio model off the ceiling (README "The demo corpus" has the measured numbers).
    noise_db
        Background noise level, RMS in dB full scale (-50 is a quiet room; -120 is silence).
    pause_min_s, pause_max_s
        Pauses before, between and after sentences are drawn uniformly from this range, seconds.
    sentences_min, sentences_max
        Sentences per video are drawn uniformly from this range (inclusive).
    workers
        Recordings synthesized in parallel (threads, each driving espeak-ng child processes;
        1 = one at a time).
    spoken_words
        ``transcript`` (default): the audio speaks the transcript's sentence. ``independent``: the two
        sentences of each length-matched positive/negative pair swap their audio with probability
        1/2 (seeded per video), so the words heard are independent of the label the transcript
        gives; with ``affect_strength`` 0 nothing in the audio depends on the label (the full negative
        control). Transcripts, gold and timings keep the transcript's sentence.
    """

    videos: int = 40
    seed: int = 0
    affect_strength: float = 0.7
    noise_db: float = -50.0
    pause_min_s: float = 0.4
    pause_max_s: float = 1.2
    sentences_min: int = 10
    sentences_max: int = 20
    workers: int = 2
    spoken_words: str = "transcript"

    def __post_init__(self) -> None:
        if self.videos < 1:
            raise ParameterError(f"demo.videos must be >= 1, got {self.videos}")
        if not 0.0 <= self.affect_strength <= 1.0:
            raise ParameterError(
                f"demo.affect_strength must lie in 0..1 (0 = no simulated affect), got {self.affect_strength}"
            )
        if self.noise_db > -10:
            raise ParameterError(
                f"demo.noise_db is a faint background, expected <= -10 dBFS, got {self.noise_db}"
            )
        if not 0.05 <= self.pause_min_s <= self.pause_max_s:
            raise ParameterError(
                "demo pauses need 0.05 <= pause_min_s <= pause_max_s, "
                f"got {self.pause_min_s}, {self.pause_max_s}"
            )
        if not 1 <= self.sentences_min <= self.sentences_max:
            raise ParameterError(
                "demo needs 1 <= sentences_min <= sentences_max, "
                f"got {self.sentences_min}, {self.sentences_max}"
            )
        if self.workers < 1:
            raise ParameterError(f"demo.workers must be >= 1, got {self.workers}")
        if self.spoken_words not in SPOKEN_WORDS:
            raise ParameterError(
                f"demo.spoken_words must be one of {', '.join(SPOKEN_WORDS)}, got {self.spoken_words!r}"
            )


#: What the audio of a segment speaks (``demo.spoken_words``): the transcript's sentence, or one
#: whose polarity is independent of the transcript's (its length-matched pair's, half the time).
SPOKEN_WORDS = ("transcript", "independent")


def spoken_texts(hand: list[Sentence], *, independent: bool, rng: np.random.Generator) -> list[str]:
    """The text the audio speaks for each sentence of a video's hand (:func:`deal_corpus` order).

    Parameters
    ----------
    hand
        A video's sentences: its positive ones, then as many negative ones (``hand[k]`` and
        ``hand[n + k]`` a length-matched pair), then neutral ones.
    independent
        Swap each pair's two texts with probability 1/2, so the words spoken are independent of the
        label; False keeps every sentence's own text.
    rng
        Draws the swaps (one draw per pair, only when ``independent``).

    Returns
    -------
    list of str
        One text per sentence of ``hand``.
    """
    texts = [sentence.text for sentence in hand]
    if independent:
        pairs = sum(sentence.polarity == "positive" for sentence in hand)
        for k in np.flatnonzero(rng.random(pairs) < 0.5):
            texts[k], texts[pairs + k] = texts[pairs + k], texts[k]
    return texts


@dataclass(frozen=True)
class _Utterance:
    """One espeak-ng call: text and the prosody it is spoken with."""

    text: str
    voice: str
    pitch: float
    rate: float
    amplitude: float
    pitch_range: float


@dataclass(frozen=True)
class _Recording:
    """One WAV to render: utterances separated by pauses (len(pauses) == len(utterances) + 1)."""

    path: Path
    utterances: tuple[_Utterance, ...]
    pauses: tuple[float, ...]
    noise_seed: int
    noise_db: float


def _read_lines(name: str) -> Iterator[tuple[int, str]]:
    text = resources.files("weaklabel.demo").joinpath(name).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def load_sentences() -> dict[str, list[Sentence]]:
    """The demo sentences shipped with the package, by polarity.

    Returns
    -------
    dict of str to list of Sentence
        Keys ``"positive"``, ``"negative"``, ``"neutral"``, each in file order.

    Raises
    ------
    DataError
        If a line is not ``GRADE | text``, its grade is outside -3..+3 or has the wrong sign for
        its file, or its text contains ``___`` (the transcript field separator).
    """
    sentences: dict[str, list[Sentence]] = {}
    for polarity, name in SENTENCE_FILES.items():
        rows = []
        for number, line in _read_lines(name):
            grade, sep, text = line.partition(" | ")
            try:
                sentiment = int(grade)
            except ValueError:
                sentiment = None
            sentence = Sentence(text.strip(), sentiment) if sentiment is not None else None
            if not sep or sentence is None or not sentence.text or "___" in sentence.text:
                raise DataError(f"{name}:{number}: expected 'GRADE | text' without '___', found {line!r}")
            if not -3 <= sentiment <= 3 or sentence.polarity != polarity:
                raise DataError(
                    f"{name}:{number}: a {polarity} sentence needs a matching grade, found {grade}"
                )
            rows.append(sentence)
        sentences[polarity] = rows
    return sentences


def load_probes() -> list[ProbeUtterance]:
    """The multilingual probe utterances shipped with the package, in file order.

    Returns
    -------
    list of ProbeUtterance
        Utterances in the languages of :data:`PROBE_VOICES`, positive and negative.

    Raises
    ------
    DataError
        If a line is not ``language | polarity | text`` with a known language and polarity.
    """
    probes = []
    for number, line in _read_lines(PROBE_FILE):
        parts = [part.strip() for part in line.split(" | ")]
        if len(parts) != 3 or parts[0] not in PROBE_VOICES or parts[1] not in AFFECT or not parts[2]:
            raise DataError(
                f"{PROBE_FILE}:{number}: expected 'language | positive|negative | text' with a language "
                f"among {sorted(PROBE_VOICES)}, found {line!r}"
            )
        probes.append(ProbeUtterance(*parts))
    return probes


def affect_prosody(
    speaker: Speaker,
    polarity: str,
    *,
    strength: float,
    intensity: float = 1.0,
    pitch_jitter: float = 0.0,
    rate_jitter: float = 0.0,
    range_jitter: float = 0.0,
) -> dict[str, float]:
    """espeak-ng prosody for one sentence: speaker's own, plus jitter, plus SIMULATED affect.

    Parameters
    ----------
    speaker
        Whose voice.
    polarity
        ``"positive"``, ``"negative"`` or ``"neutral"`` (neutral gets no affect).
    strength
        ``affect_strength`` in 0..1, the scale on the offsets of :data:`AFFECT`.
    intensity
        How strongly this sentence carries its affect, a further factor on the offsets (the corpus
        draws it per sentence from :data:`AFFECT_INTENSITY`, mean 1): affect is a tendency that
        varies from sentence to sentence, not a constant offset.
    pitch_jitter, rate_jitter, range_jitter
        Natural sentence-to-sentence variation, the same for every polarity: pitch steps added,
        relative rate change, relative change of the intonation range.

    Returns
    -------
    dict of str to float
        ``pitch``, ``rate``, ``amplitude``, ``pitch_range``: keyword arguments of
        :func:`weaklabel.demo.speech.synthesize`, clipped to its valid ranges.

    Raises
    ------
    ParameterError
        If ``polarity`` is unknown, ``strength`` lies outside 0..1 or ``intensity`` is negative.
    """
    if polarity not in (*AFFECT, "neutral"):
        raise ParameterError(f"polarity must be positive, negative or neutral, got {polarity!r}")
    if not 0.0 <= strength <= 1.0:
        raise ParameterError(f"affect strength must lie in 0..1, got {strength}")
    if intensity < 0:
        raise ParameterError(f"affect intensity must be >= 0, got {intensity}")
    offset = AFFECT.get(polarity, Affect(0.0, 0.0, 0.0, 0.0))
    scale = strength * intensity
    return {
        "pitch": float(np.clip(speaker.pitch + pitch_jitter + scale * offset.pitch, 0, 99)),
        "rate": float(np.clip(speaker.rate * (1 + rate_jitter) * (1 + scale * offset.rate), 80, 450)),
        "amplitude": float(np.clip(speaker.amplitude * (1 + scale * offset.amplitude), 0, 200)),
        "pitch_range": float(
            np.clip(speaker.pitch_range * (1 + range_jitter) * (1 + scale * offset.pitch_range), 0, 4)
        ),
    }


def _video_id(rng: np.random.Generator) -> str:
    """An 11-character id like a YouTube one, safe as a file name and in ``___``-separated lines."""
    while True:
        candidate = "".join(rng.choice(_ID_CHARS, size=11))
        if _VIDEO_ID.fullmatch(candidate):
            return candidate


def _fmt(seconds: float) -> str:
    """Seconds as CMU-MOSEI writes them: up to 10 significant digits, no trailing zeros."""
    return f"{seconds:.10g}"


def deal_sentences(
    pool_size: int, counts: list[int], *, rng: np.random.Generator
) -> tuple[list[list[int]], int]:
    """Deal sentence indices to videos from one shuffled deck: no sentence is read twice until all are.

    A sentence read in two videos lets an audio model recognise it across a video-grouped split
    (and so its label, without hearing any affect), so sentences are dealt without replacement
    over the whole corpus; only when the deck runs out is it reshuffled, and every such re-read is
    counted. A video never reads one sentence twice.

    Parameters
    ----------
    pool_size
        Number of sentences to deal from (indices ``0 .. pool_size - 1``).
    counts
        Sentences wanted by each video (capped at ``pool_size``).
    rng
        Source of the shuffles.

    Returns
    -------
    hands : list of list of int
        Sentence indices of each video, in reading order.
    reused : int
        Dealt sentences that an earlier video had already read.
    """
    deck: list[int] = []
    seen: set[int] = set()
    hands, reused = [], 0
    for count in counts:
        hand: list[int] = []
        while len(hand) < min(count, pool_size):
            position = next((k for k, index in enumerate(deck) if index not in hand), None)
            if position is None:
                deck += rng.permutation(pool_size).tolist()
                continue
            index = deck.pop(position)
            reused += index in seen
            seen.add(index)
            hand.append(index)
        hands.append(hand)
    return hands, reused


def pair_by_length(
    positive: list[Sentence], negative: list[Sentence], *, tolerance: float = PAIR_TOLERANCE
) -> list[tuple[int, int]]:
    """Pair positive with negative sentences of the same length (characters) within ``tolerance``.

    Both lists are ranked by length and walked together, pairing the shortest unpaired sentences
    whose lengths differ by at most ``tolerance`` of the longer one (the most pairs such a
    tolerance allows); a sentence with no partner that close is left out. A video reads both
    sentences of each pair it is dealt, so every video (and every speaker) reads as many positive
    as negative sentences, of matched lengths: at ``affect_strength`` 0 neither the duration nor
    the share of a padded clip that is speech says anything about the label.

    Parameters
    ----------
    positive, negative
        The sentences.
    tolerance
        Largest relative length difference within a pair.

    Returns
    -------
    list of tuple of int
        ``(index into positive, index into negative)``, from the shortest pair to the longest.
    """

    def ranked(rows: list[Sentence]) -> list[int]:
        return sorted(range(len(rows)), key=lambda k: (len(rows[k].text), k))

    pos, neg = ranked(positive), ranked(negative)
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < len(pos) and j < len(neg):
        a, b = len(positive[pos[i]].text), len(negative[neg[j]].text)
        if abs(a - b) <= tolerance * max(a, b):
            pairs.append((pos[i], neg[j]))
            i, j = i + 1, j + 1
        elif a < b:
            i += 1
        else:
            j += 1
    return pairs


def split_count(count: int) -> tuple[int, int]:
    """How many length-matched positive/negative pairs and neutral sentences a video of ``count`` reads.

    A quarter of the sentences (rounded down) are neutral, the rest are pairs; an odd remainder
    gives one more neutral sentence, so the polarities stay balanced in every video.

    Returns
    -------
    tuple of int
        ``(pairs, neutral)`` with ``2 * pairs + neutral == count``.
    """
    pairs = (count - count // 4) // 2
    return pairs, count - 2 * pairs


def deal_corpus(
    sentences: dict[str, list[Sentence]], counts: list[int], *, seed: int
) -> tuple[list[list[Sentence]], int]:
    """The sentences each video reads: length-matched positive/negative pairs plus neutral ones.

    Each video's count is split by :func:`split_count`; pairs (:func:`pair_by_length`) and neutral
    sentences are dealt from their own decks by :func:`deal_sentences`, so video ``i``'s hand
    depends only on the counts of videos ``0..i`` (a smaller corpus is a prefix of a larger one).

    Parameters
    ----------
    sentences
        :func:`load_sentences`' result.
    counts
        Sentences wanted by each video.
    seed
        ``demo.seed``; the decks are shuffled from it.

    Returns
    -------
    hands : list of list of Sentence
        Each video's sentences: its positive ones, then the negative ones, then the neutral ones
        (the video shuffles its reading order itself).
    reused : int
        Dealt sentences that an earlier video had already read; a warning says how many.
    """
    pairs = pair_by_length(sentences["positive"], sentences["negative"])
    neutral = sentences["neutral"]
    splits = [split_count(count) for count in counts]
    pair_hands, pairs_reused = deal_sentences(
        len(pairs), [n for n, _ in splits], rng=np.random.default_rng([seed, 2])
    )
    neutral_hands, neutral_reused = deal_sentences(
        len(neutral), [n for _, n in splits], rng=np.random.default_rng([seed, 3])
    )
    hands = [
        [sentences["positive"][pairs[k][0]] for k in pair_hand]
        + [sentences["negative"][pairs[k][1]] for k in pair_hand]
        + [neutral[k] for k in neutral_hand]
        for pair_hand, neutral_hand in zip(pair_hands, neutral_hands, strict=True)
    ]
    reused = 2 * pairs_reused + neutral_reused
    if reused:
        log.warning(
            "demo: %d of %d segments re-read a sentence another video reads (%d pairs and %d neutral "
            "sentences available): an audio model can recognise those across the split; fewer videos "
            "avoid it",
            reused,
            sum(len(hand) for hand in hands),
            len(pairs),
            len(neutral),
        )
    return hands, reused


def _plan_video(
    index: int, config: DemoConfig, out: Path, rng: np.random.Generator, video: str, chosen: list[Sentence]
) -> tuple[str, Speaker, list[Sentence], _Recording]:
    speaker = SPEAKERS[index % len(SPEAKERS)]
    spoken = spoken_texts(
        chosen,
        independent=config.spoken_words == "independent",
        rng=np.random.default_rng([config.seed, 5, index]),  # its own stream: other draws stay as they were
    )
    order = rng.permutation(len(chosen))  # reading order: polarities mixed
    chosen, spoken = [chosen[k] for k in order], [spoken[k] for k in order]
    # drawn for every sentence whatever its polarity, so the draws never depend on the label
    intensity = rng.uniform(*AFFECT_INTENSITY, len(chosen))
    pitch_jitter = np.clip(rng.normal(0.0, PITCH_JITTER, len(chosen)), -2 * PITCH_JITTER, 2 * PITCH_JITTER)
    rate_jitter = np.clip(rng.normal(0.0, RATE_JITTER, len(chosen)), -2 * RATE_JITTER, 2 * RATE_JITTER)
    range_jitter = np.clip(rng.normal(0.0, RANGE_JITTER, len(chosen)), -2 * RANGE_JITTER, 2 * RANGE_JITTER)
    pauses = rng.uniform(config.pause_min_s, config.pause_max_s, len(chosen) + 1)
    noise_seed = int(rng.integers(2**32))
    utterances = tuple(
        _Utterance(
            text,
            speaker.voice,
            **affect_prosody(
                speaker,
                sentence.polarity,
                strength=config.affect_strength,
                intensity=float(level),
                pitch_jitter=float(pj),
                rate_jitter=float(rj),
                range_jitter=float(gj),
            ),
        )
        for sentence, text, level, pj, rj, gj in zip(
            chosen, spoken, intensity, pitch_jitter, rate_jitter, range_jitter, strict=True
        )
    )
    recording = _Recording(
        out / AUDIO_DIR / f"{video}.wav", utterances, tuple(map(float, pauses)), noise_seed, config.noise_db
    )
    return video, speaker, chosen, recording


def _plan_probes(config: DemoConfig, probes: list[ProbeUtterance], out: Path) -> tuple[list[dict], list]:
    rows, recordings = [], []
    seen: Counter[tuple[str, str]] = Counter()
    for index, probe in enumerate(probes):
        seen[probe.language, probe.polarity] += 1
        number = seen[probe.language, probe.polarity]
        variant = PROBE_VARIANTS[(number - 1 + (probe.polarity == "negative")) % len(PROBE_VARIANTS)]
        speaker = Speaker(
            f"{probe.language}_{variant}", f"{PROBE_VOICES[probe.language]}+{variant}", 50, 155, 75
        )
        utterance = _Utterance(
            probe.text,
            speaker.voice,
            **affect_prosody(speaker, probe.polarity, strength=config.affect_strength),
        )
        relative = f"{probe.language}/{probe.polarity}_{number:02d}.wav"
        noise_seed = int(np.random.default_rng([config.seed, 1, index]).integers(2**32))
        pauses = (PROBE_PAUSE_S, PROBE_PAUSE_S)
        recordings.append(
            _Recording(out / PROBE_DIR / relative, (utterance,), pauses, noise_seed, config.noise_db)
        )
        rows.append(
            {"path": relative, "language": probe.language, "polarity": probe.polarity, "text": probe.text}
        )
    return rows, recordings


def _noise(samples: int, *, seed: int, level_db: float) -> np.ndarray:
    """Soft background noise at ``level_db`` dBFS RMS: white noise through a 2-tap low-pass.

    Summing neighbouring samples tilts the spectrum down towards Nyquist (a hiss softer than white
    noise) at the cost of one addition per sample.
    """
    white = np.random.default_rng(seed).standard_normal(samples + 1, dtype=np.float32)
    hiss = white[1:] + white[:-1]
    rms = float(np.sqrt(np.mean(np.square(hiss, dtype=np.float64)))) if samples else 1.0
    return hiss * np.float32(10 ** (level_db / 20) / max(rms, 1e-12))


def _render(recording: _Recording) -> tuple[list[tuple[int, int]], int]:
    """Synthesize and write one recording; returns each utterance's (start, end) sample and the length."""
    pieces, bounds = [], []
    position = 0
    for utterance, pause in zip(recording.utterances, recording.pauses, strict=False):
        gap = np.zeros(int(round(pause * SAMPLE_RATE)), dtype=np.float32)
        speech = synthesize(
            utterance.text,
            voice=utterance.voice,
            pitch=utterance.pitch,
            rate=utterance.rate,
            amplitude=utterance.amplitude,
            pitch_range=utterance.pitch_range,
        )
        pieces += [gap, speech]
        bounds.append((position + gap.size, position + gap.size + speech.size))
        position += gap.size + speech.size
    pieces.append(np.zeros(int(round(recording.pauses[-1] * SAMPLE_RATE)), dtype=np.float32))
    audio = np.concatenate(pieces)
    audio += _noise(audio.size, seed=recording.noise_seed, level_db=recording.noise_db)
    peak = float(np.abs(audio).max())
    if peak > _PEAK:  # never clip: turn the whole recording down (relative loudness within it stays)
        audio *= _PEAK / peak
    recording.path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(recording.path), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    return bounds, int(audio.size)


def _render_all(recordings: list[_Recording], *, workers: int, progress: bool) -> list[tuple[list, int]]:
    """Render every recording, ``workers`` at a time, results in input order.

    A thread pool, not a process pool: the synthesis runs in espeak-ng child processes, and what
    stays in Python (soxr resampling, numpy, soundfile writes) releases the GIL, so threads use the
    cores as well as processes do (measured: 6.5 s vs 7.2 s for the default corpus on 2 cores)
    without pickling, process start-up, or the spawn/fork pitfalls of process pools.
    """
    bar = partial(tqdm, total=len(recordings), desc="demo", unit="wav", disable=not progress)
    if workers == 1:
        return list(bar(map(_render, recordings)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(bar(pool.map(_render, recordings)))


def _prepare(out: Path) -> None:
    """Make ``out`` ready: create it, or clear the files an earlier demo run wrote there."""
    if out.exists() and any(out.iterdir()):
        if not ((out / SUMMARY_FILE).exists() or (out / MARKER_FILE).exists()):
            raise DataError(
                f"{out} exists, is not empty and holds no {SUMMARY_FILE} (so it is not an earlier demo "
                "corpus); pass an empty or new folder"
            )
        for owned in (
            AUDIO_DIR.parts[0],
            TRANSCRIPT_DIR.parts[0],
            GOLD_FILE.parts[0],
            PROBE_DIR,
            SPEAKERS_FILE,
            SUMMARY_FILE,
        ):
            path = out / owned
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER_FILE).write_text(
        "written by weaklabel.demo.build_demo_corpus; the folder may be replaced\n"
    )


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build_demo_corpus(
    out: str | Path, *, config: DemoConfig | None = None, progress: bool = True
) -> dict[str, Any]:
    """Synthesize the demo corpus in the CMU-MOSEI raw layout under ``out``.

    The affect in the audio is SIMULATED with prosody (see the module docstring and
    :data:`AFFECT`), scaled by ``config.affect_strength``.

    Parameters
    ----------
    out
        Corpus root. Created if missing; if it holds an earlier demo corpus (a ``demo.json`` or
        the ``.weaklabel-demo`` marker of a run cut short), that corpus is replaced; any other
        non-empty folder is refused.
    config
        Size, seed and sound; ``None`` for the defaults (40 videos, about 600 segments).
    progress
        Show a tqdm bar over the recordings.

    Returns
    -------
    dict
        What ``demo.json`` holds (``affect_strength``, ``config``, ``counts``, ``audio_seconds``,
        ``speakers`` with their number of videos, ``affect``, ``affect_intensity``, ``espeak_ng``) plus
        ``out`` and ``elapsed_s``; ``speakers.csv`` beside it says which speaker reads each video.

    Raises
    ------
    MissingDependencyError
        If espeak-ng is not installed; the message says how to install it.
    DataError
        If ``out`` is a non-empty folder that is not a demo corpus, or the shipped sentence
        files are malformed.

    Examples
    --------
    >>> summary = build_demo_corpus("data/demo", config=DemoConfig(videos=6))  # doctest: +SKIP
    >>> summary["counts"]["videos"]  # doctest: +SKIP
    6
    """
    began = time.perf_counter()
    config = config or DemoConfig()
    espeak_path()  # fail before touching ``out`` when espeak-ng is missing
    out = Path(out)
    sentences = load_sentences()
    rngs = [np.random.default_rng([config.seed, 0, index]) for index in range(config.videos)]
    videos = [_video_id(rng) for rng in rngs]
    counts = [int(rng.integers(config.sentences_min, config.sentences_max + 1)) for rng in rngs]
    hands, reused = deal_corpus(sentences, counts, seed=config.seed)
    plans = [
        _plan_video(index, config, out, rng, video, hand)
        for index, (rng, video, hand) in enumerate(zip(rngs, videos, hands, strict=True))
    ]
    ids = [video for video, _, _, _ in plans]
    if len({video.lower() for video in ids}) != len(ids):  # astronomically unlikely; refuse, never overwrite
        raise DataError(f"two demo video ids collide for seed {config.seed}; choose another demo.seed")
    manifest, probe_recordings = _plan_probes(config, load_probes(), out)

    _prepare(out)
    log.info("synthesizing %d videos and %d probe utterances into %s", len(plans), len(manifest), out)
    rendered = _render_all(
        [recording for *_, recording in plans] + probe_recordings, workers=config.workers, progress=progress
    )

    gold, counts = [], Counter()
    audio_samples = 0
    for (video, _, chosen, _), (bounds, length) in zip(plans, rendered, strict=False):
        lines = []
        for segment, (sentence, (start, end)) in enumerate(zip(chosen, bounds, strict=True), start=1):
            start_s, end_s = _fmt(start / SAMPLE_RATE), _fmt(end / SAMPLE_RATE)
            lines.append(f"{video}___{segment}___{start_s}___{end_s}___{sentence.text}\n")
            gold.append(
                {
                    "video": video,
                    "segment": segment,
                    "start": start_s,
                    "end": end_s,
                    "sentiment": sentence.sentiment,
                }
            )
            counts[sentence.polarity] += 1
        path = out / TRANSCRIPT_DIR / f"{video}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines), encoding="utf-8")
        audio_samples += length
    _write_csv(out / GOLD_FILE, gold, ["video", "segment", "start", "end", "sentiment"])
    _write_csv(
        out / SPEAKERS_FILE,
        [{"video": video, "speaker": speaker.name} for video, speaker, _, _ in plans],
        ["video", "speaker"],
    )
    _write_csv(out / PROBE_DIR / "manifest.csv", manifest, ["path", "language", "polarity", "text"])

    probe_counts = Counter(f"{row['language']}/{row['polarity']}" for row in manifest)
    summary: dict[str, Any] = {
        "corpus": "weaklabel synthesized demo (CMU-MOSEI raw layout); affect is SIMULATED with prosody",
        "affect_strength": config.affect_strength,
        "spoken_words": config.spoken_words,
        "config": dataclasses.asdict(config),
        "counts": {
            "videos": len(plans),
            "segments": len(gold),
            "positive": counts["positive"],
            "negative": counts["negative"],
            "neutral": counts["neutral"],
            "sentences_available": {polarity: len(rows) for polarity, rows in sentences.items()},
            "pairs_available": len(pair_by_length(sentences["positive"], sentences["negative"])),
            "sentences_reused": reused,
            "probe_files": len(manifest),
            "probe": dict(sorted(probe_counts.items())),
        },
        "audio_seconds": round(audio_samples / SAMPLE_RATE, 3),
        "sample_rate": SAMPLE_RATE,
        "speakers": [
            {**dataclasses.asdict(speaker), "videos": sum(plan[1] == speaker for plan in plans)}
            for speaker in SPEAKERS[: min(len(plans), len(SPEAKERS))]
        ],
        "affect": {polarity: dataclasses.asdict(offset) for polarity, offset in AFFECT.items()},
        "affect_intensity": list(AFFECT_INTENSITY),
        "espeak_ng": espeak_version(),
    }
    (out / SUMMARY_FILE).write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    elapsed = time.perf_counter() - began
    log.info(
        "demo corpus: %d videos, %d segments (%d positive, %d negative, %d neutral), %.0f s of audio, "
        "%d probe files, in %.1f s",
        len(plans),
        len(gold),
        counts["positive"],
        counts["negative"],
        counts["neutral"],
        audio_samples / SAMPLE_RATE,
        len(manifest),
        elapsed,
    )
    return {**summary, "out": str(out), "elapsed_s": round(elapsed, 2)}
