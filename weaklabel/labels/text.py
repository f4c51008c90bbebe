"""Transcript text before scoring: normalisation, and detection of text that cannot be scored.

Normalisation is a named setting, because it changes what the lexicon labellers see:

``none``
    The text as transcribed.
``lower``
    Lower-cased.
``sentence``
    Lower-cased, then the first letter of each sentence and the pronoun "I" upper-cased.
``uncaps``
    Lower-cased only when the text has no lower-case letter at all (a transcript written in
    ALL CAPS, like CMU-MOSI's); mixed-case text is kept, so a word a writer put in capitals for
    emphasis still gets VADER's emphasis boost.

VADER boosts an ALL-CAPS word only when the text mixes case, so a fully upper-case transcript gets
no boost, except where a digit token (CMU-MOSI writes numbers as ``0``) makes the text count as
mixed, and then *every* word is boosted. TextBlob lower-cases every word itself and is case-blind.
Independently, ``expand_negations`` writes negated contractions out in full (``DIDNT``, ``isn't``
-> ``did not``, ``is not``): TextBlob's pattern lexicon only negates on a separate ``not``/
``never``, while VADER negates either way.

Unusable text is not an error: :func:`unusable_reason` names why a text cannot be scored, with one
of the reason codes below, and the caller abstains with that reason.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable

import numpy as np

from weaklabel.errors import ParameterError

log = logging.getLogger(__name__)

#: Reason: the text is ``None``, NaN or not a string.
NO_TEXT = "no_text"
#: Reason: the text is empty or only whitespace (zero-width characters included).
EMPTY_TEXT = "empty_text"
#: Reason: the text has no letters but has emoji or other pictographic symbols.
EMOJI_ONLY = "emoji_only"
#: Reason: the text has no letters and no emoji (punctuation, digits).
NO_WORDS = "no_words"
#: Reason: the text looks like a language other than English (the lexicons are English).
NON_ENGLISH = "non_english"
#: Reason: the text is longer than the ``max_chars`` limit.
TOO_LONG = "too_long"
#: Every reason :func:`unusable_reason` can give, in the order it checks them.
TEXT_REASONS = (NO_TEXT, EMPTY_TEXT, TOO_LONG, EMOJI_ONLY, NO_WORDS, NON_ENGLISH)

_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")
_PRONOUN_I = re.compile(r"\bi\b(?=$|\s|[',.!?;:])")
_NEGATED = re.compile(
    r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should|must|might|need)n['\u2019]?t\b",
    re.IGNORECASE,
)
_CANT_WONT = re.compile(r"\b(ca|wo)n['\u2019]?t\b", re.IGNORECASE)
_INVISIBLE = re.compile(r"[\s\u200b-\u200f\u2060\ufeff]+")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_ASCII_WORD = re.compile(r"[a-z']+")

# Function words that give a language away. English words common in other languages ("a", "no",
# "me", "so", "also", "an", "on", "will") and words common in English transcripts ("um", "em",
# "met", "per", "plus", "die", "war", "hat", "bin", "den") are in neither set.
_ENGLISH_WORDS = frozenset(
    """the and is are was were in i you it that this to of for with my we they have has had not but be
    just like what he she his her do does did at or if there their them really very about would
    could should can all its it's i'm don't dont im from by as because think know one out up get
    your which who been then than when some more how him our us these those much well good movie
    go going thing things people want got kind something actually pretty great bad love""".split()
)
_FOREIGN_WORDS = frozenset(
    # German
    """der das und ist nicht ich ein eine einen zu mit sich auf für von dem sie wir auch aber wie
    sehr noch schon sind du dass nur oder wenn kann mir mich dich gut haben nein ja jetzt heute
    wirklich immer kein keine nichts hier warum weil bitte danke ganz mein meine es"""
    # French
    """ le la les des du et est une je tu il elle nous vous pas que qui dans pour avec sur ce
    mais très bien ne au aux sont suis ai était mon mes cette c'est j'ai leur ils elles ça oui
    merci aussi comme"""
    # Spanish
    """ el los las y una uno por para con muy pero más esta este está yo mi lo se del al sí
    también porque eso esto pues gracias hola bueno tengo tiene hay estoy qué cómo nada todo
    mucho donde"""
    # Italian
    """ il che di è sono molto questo questa della gli non ho anche sei mio grazie ciao perché
    cosa bene tutto"""
    # Portuguese
    """ não muito uma com os da você eu obrigado isso mas ele ela"""
    # Dutch
    """ het een ik niet dat zijn wat voor maar ook heel jij je wij zij dit deze naar goed geen
    nog wel""".split()
)


def _sentence_case(text: str) -> str:
    text = _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text.lower())
    return _PRONOUN_I.sub("I", text)


def _uncaps(text: str) -> str:
    return text.lower() if text == text.upper() else text


#: Normalisation name -> function of one string.
NORMALISATIONS: dict[str, Callable[[str], str]] = {
    "none": lambda text: text,
    "lower": str.lower,
    "sentence": _sentence_case,
    "uncaps": _uncaps,
}


def _not(match: re.Match[str]) -> str:
    stem = match.group(1)
    return f"{stem} {'NOT' if stem.isupper() else 'not'}"


def _cant_wont(match: re.Match[str]) -> str:
    stem = match.group(1)
    full = {"ca": "can", "wo": "will"}[stem.lower()]
    if stem.isupper():
        return f"{full.upper()} NOT"
    return f"{full.capitalize() if stem[0].isupper() else full} not"


def expand_negations(text: str) -> str:
    """Write negated contractions out in full, with or without the apostrophe.

    Parameters
    ----------
    text
        One text.

    Returns
    -------
    str
        ``text`` with ``isn't``/``isnt`` -> ``is not``, ``can't`` -> ``can not``, ``won't`` ->
        ``will not`` and so on; ALL-CAPS words stay in capitals.

    Examples
    --------
    >>> expand_negations("I DIDNT like it and it isn't good")
    'I DID NOT like it and it is not good'
    """
    return _NEGATED.sub(_not, _CANT_WONT.sub(_cant_wont, text))


def check_normalisation(name: str) -> str:
    """Return ``name`` if it is a known normalisation.

    Raises
    ------
    ParameterError
        If ``name`` is not a key of :data:`NORMALISATIONS`.
    """
    if name not in NORMALISATIONS:
        raise ParameterError(
            f"unknown text normalisation {name!r}; expected one of {', '.join(NORMALISATIONS)}"
        )
    return name


def normalise(texts: Iterable[str], *, mode: str, negations: bool = False) -> list[str]:
    """Normalise usable texts before scoring.

    Parameters
    ----------
    texts
        Strings (n of them); check them with :func:`unusable_reason` first.
    mode
        A key of :data:`NORMALISATIONS`: ``none``, ``lower``, ``sentence`` or ``uncaps``.
    negations
        Also apply :func:`expand_negations`.

    Returns
    -------
    list of str
        n normalised texts, runs of whitespace collapsed to one space and the ends stripped.

    Raises
    ------
    ParameterError
        If ``mode`` is unknown.

    Examples
    --------
    >>> normalise(["AND I LOVED IT", "It was GREAT"], mode="uncaps")
    ['and i loved it', 'It was GREAT']
    """
    case = NORMALISATIONS[check_normalisation(mode)]
    out = []
    for text in texts:
        text = case(" ".join(_INVISIBLE.split(text)).strip())
        out.append(expand_negations(text) if negations else text)
    return out


def looks_english(text: str) -> bool:
    """Whether ``text`` looks English enough for the English sentiment lexicons.

    A cheap heuristic, no model: text written mostly in a non-Latin script is not English; Latin
    text is not English when its words vote for another language (German, French, Spanish,
    Italian, Portuguese, Dutch function words, or letters with diacritics) more often than for
    English function words, by at least two votes (one for texts of one or two words). Text it
    cannot decide about counts as English: the lexicons then mostly find nothing and score 0.

    Parameters
    ----------
    text
        One text with at least one letter.

    Returns
    -------
    bool
        ``False`` when the text looks like another language.
    """
    letters = len(_LETTER.findall(text))
    if letters and len(_LATIN_LETTER.findall(text)) < 0.5 * letters:
        return False
    words = _WORD.findall(text.lower())
    english = foreign = 0
    for word in words:
        word = word.replace("\u2019", "'")
        if word in _ENGLISH_WORDS:
            english += 1
        elif word in _FOREIGN_WORDS or not _ASCII_WORD.fullmatch(word):
            foreign += 1
    needed = 1 if len(words) <= 2 else 2
    return not (foreign >= needed and foreign > english)


def unusable_reason(text: object, *, max_chars: int, check_language: bool = True) -> str | None:
    """Why ``text`` cannot be scored, or ``None`` when it can.

    Parameters
    ----------
    text
        One transcript: anything, ``None`` and NaN included.
    max_chars
        Texts longer than this (after stripping) are ``too_long``.
    check_language
        Run :func:`looks_english`; ``False`` scores every language (badly).

    Returns
    -------
    str or None
        One of :data:`TEXT_REASONS`, checked in that order, or ``None``.

    Examples
    --------
    >>> unusable_reason("   ", max_chars=2000), unusable_reason("I LOVED IT", max_chars=2000)
    ('empty_text', None)
    """
    if not isinstance(text, str):  # None, NaN, pd.NA, numbers
        return NO_TEXT
    stripped = _INVISIBLE.sub(" ", text).strip()
    if not stripped:
        return EMPTY_TEXT
    if len(stripped) > max_chars:
        return TOO_LONG
    if not _LETTER.search(stripped):
        has_symbol = any(unicodedata.category(char) in ("So", "Sk") for char in stripped)
        return EMOJI_ONLY if has_symbol else NO_WORDS
    if check_language and not looks_english(stripped):
        return NON_ENGLISH
    return None


def unusable_reasons(texts: Iterable[object], *, max_chars: int, check_language: bool = True) -> np.ndarray:
    """:func:`unusable_reason` of each text.

    Parameters
    ----------
    texts
        n transcripts, any values.
    max_chars, check_language
        As for :func:`unusable_reason`.

    Returns
    -------
    numpy.ndarray
        Shape (n,), dtype object: a reason code or ``None`` per text.

    Raises
    ------
    ParameterError
        If ``max_chars`` < 1.
    """
    if max_chars < 1:
        raise ParameterError(f"max_chars must be >= 1, got {max_chars}")
    reasons = [unusable_reason(t, max_chars=max_chars, check_language=check_language) for t in texts]
    return np.array(reasons, dtype=object)
