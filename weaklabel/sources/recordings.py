"""Recordings manifests: which audio file, which language, which polarity.

A recordings manifest (what this project means by "manifest") is a :class:`pandas.DataFrame` with
one row per recording and exactly the columns :data:`RECORDINGS_COLUMNS`, the names of the one
schema :data:`RECORDINGS_SCHEMA`:

``path``
    Absolute path of the recording (string).
``language``
    Language name, lower case (``"english"``, ``"german"``); the parent folder's name when nothing
    says otherwise.
``polarity``
    ``"positive"``, ``"negative"`` or missing (``<NA>``: unknown, or an emotion without a valence
    such as neutral, calm, boredom or surprise).
``label``
    ``1`` (positive), ``0`` (negative) or missing: ``polarity`` as a nullable ``Int8``. Label and
    polarity, in any of their spellings, are read by one parser, :func:`parse_label`.
``group``
    Speaker (or session) id, for grouped splits and per-speaker summaries; may be missing.
``corpus``
    Where the row comes from: ``"ravdess"``, ``"emodb"``, ``"manifest"`` or ``"folder"``.
``emotion``
    The acted emotion when the corpus has one (``"happy"``, ``"sad"``, ``"angry"``, ``"fearful"``,
    ``"disgust"``, ``"neutral"``, ``"calm"``, ``"boredom"``, ``"surprised"``); may be missing.
``text``
    What is said, when known; may be missing.

Builders: :func:`ravdess_manifest` and :func:`emodb_manifest` read the emotion from those corpora's
file names (each the :meth:`NamingScheme.manifest` of :data:`RAVDESS`, :data:`EMODB`);
:func:`read_manifest` reads a CSV (``path`` and optionally ``language``, ``polarity`` or ``label``,
``group`` or ``speaker``, ``corpus``, ``emotion``, ``text``); :func:`folder_manifest` lists a folder
(language = parent folder name, polarity unknown). All of them build their frame with
:func:`recordings_frame`. In gold-label mode the ingest stage keys the same columns by segment
(:data:`weaklabel.sources.manifest_ingest.SEGMENT_RECORDINGS_SCHEMA`).

Valence of acted emotions (:data:`VALENCE`), as ``../shared/data/README.md`` states it: positive =
happy; negative = sad, angry, fearful, disgust; neutral, calm, boredom and surprise have no valence
(polarity missing). Those rows are **kept** in the manifest, so a consumer decides what to do with
them (the probe scores them and shows them, but leaves them out of the positive-vs-negative summary).

A file whose name does not follow a corpus's naming scheme is kept too, with emotion and polarity
missing, and logged: builders never drop a recording silently.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from weaklabel.errors import DataError, ParameterError

log = logging.getLogger(__name__)

#: Arrow schema of a recordings manifest written to Parquet: the one definition of its columns.
RECORDINGS_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("language", pa.string()),
        ("polarity", pa.string()),
        ("label", pa.int8()),
        ("group", pa.string()),
        ("corpus", pa.string()),
        ("emotion", pa.string()),
        ("text", pa.string()),
    ]
)
#: Columns of every recordings manifest frame, in order.
RECORDINGS_COLUMNS: tuple[str, ...] = tuple(RECORDINGS_SCHEMA.names)
#: Other names a column may have in a manifest; the recordings column wins when both are present.
COLUMN_ALIASES: dict[str, str] = {"speaker": "group"}
#: pandas dtypes of a recordings manifest frame: nullable ``Int8`` for ``label``, ``string`` otherwise.
_DTYPES = {f.name: "Int8" if pa.types.is_integer(f.type) else "string" for f in RECORDINGS_SCHEMA}

POSITIVE = "positive"
NEGATIVE = "negative"

#: Emotion -> polarity; emotions without a valence map to ``None`` (kept, not scored as pos/neg).
VALENCE: dict[str, str | None] = {
    "happy": POSITIVE,
    "sad": NEGATIVE,
    "angry": NEGATIVE,
    "fearful": NEGATIVE,
    "disgust": NEGATIVE,
    "neutral": None,
    "calm": None,
    "boredom": None,
    "surprised": None,
    "pleasant_surprise": POSITIVE,  # TESS's "ps": a surprise with a valence
}

#: File suffixes :func:`folder_manifest` lists: what libsndfile decodes, and common formats it does
#: not (m4a, aac, wma, opus in mp4), so that those reach the probe's rejects instead of vanishing.
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".au", ".snd"}
    | {".caf", ".w64", ".rf64", ".sd2", ".voc", ".m4a", ".aac", ".wma", ".webm"}
)

#: RAVDESS emotion code (third field of ``MM-CC-EE-II-SS-RR-AA``) -> emotion.
RAVDESS_EMOTIONS: dict[str, str] = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
#: RAVDESS statement code (fifth field) -> sentence, from the corpus documentation.
RAVDESS_STATEMENTS: dict[str, str] = {
    "01": "Kids are talking by the door.",
    "02": "Dogs are sitting by the door.",
}

#: EmoDB emotion letter (index 5 of ``SSTTTEV``) -> emotion (German initials: Wut, Langeweile,
#: Ekel, Angst, Freude, Trauer, Neutral).
EMODB_EMOTIONS: dict[str, str] = {
    "W": "angry",
    "L": "boredom",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
#: EmoDB text code (indices 2-4) -> sentence, from the corpus documentation.
EMODB_TEXTS: dict[str, str] = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}

#: TESS emotion word -> emotion (``ps`` is pleasant surprise, which has a valence: positive).
TESS_EMOTIONS: dict[str, str] = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "pleasant_surprise",
    "sad": "sad",
}

#: Spellings :func:`parse_label` accepts in a ``polarity`` value (case-insensitive).
POLARITY_SPELLINGS: dict[str, str | None] = {
    "positive": POSITIVE,
    "pos": POSITIVE,
    "+": POSITIVE,
    "1": POSITIVE,
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "-": NEGATIVE,
    "0": NEGATIVE,
    "": None,
    "unknown": None,
    "none": None,
    "nan": None,
    "neutral": None,
}
#: Polarity of each label (1, 0 or None) and back.
POLARITIES: dict[int | None, str | None] = {1: POSITIVE, 0: NEGATIVE, None: None}
_LABELS = {polarity: label for label, polarity in POLARITIES.items()}


def _is_missing(value: object) -> bool:
    """None, NaN, ``<NA>`` or a blank string."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def rename_aliases(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each :data:`COLUMN_ALIASES` column renamed, unless its recordings column exists."""
    renames = {a: c for a, c in COLUMN_ALIASES.items() if a in frame.columns and c not in frame.columns}
    return frame.rename(columns=renames)


def parse_label(*, label: object = None, polarity: object = None) -> int | None:
    """The binary label of one recording from its ``label`` and/or ``polarity``, in any spelling.

    The one label parser: :func:`recordings_frame` (and so every builder of this module),
    :func:`weaklabel.sources.manifest_ingest.manifest_tables` and the probe read labels through it.

    Parameters
    ----------
    label
        1 or 0, as a number or text (``1``, ``0.0``, ``"1"``), or missing (None, NaN, ``<NA>``,
        blank).
    polarity
        A key of :data:`POLARITY_SPELLINGS`, case-insensitive (positive/pos/+/1, negative/neg/-/0,
        or empty/unknown/none/nan/neutral for no polarity), or missing.

    Returns
    -------
    int or None
        1 (positive), 0 (negative) or None (unknown, or an emotion without a valence).

    Raises
    ------
    DataError
        If ``label`` is not 1, 0 or missing, ``polarity`` is not a known spelling, or both are given
        and disagree.

    Examples
    --------
    >>> parse_label(polarity="Pos"), parse_label(label="0.0"), parse_label(label=1, polarity="+")
    (1, 0, 1)
    >>> print(parse_label(polarity="neutral"))
    None
    """
    from_label = None
    if not _is_missing(label):
        try:
            number = float(label)
        except (TypeError, ValueError):
            number = float("nan")
        if number not in (0.0, 1.0):
            raise DataError(f"label {label!r}: expected 1 (positive), 0 (negative) or empty")
        from_label = int(number)
    spelled = "" if _is_missing(polarity) else str(polarity).strip().lower()
    if spelled not in POLARITY_SPELLINGS:
        raise DataError(
            f"polarity {polarity!r}: expected positive/negative (or pos/neg, +/-, 1/0), "
            "or empty/unknown/neutral/none for no polarity"
        )
    from_polarity = _LABELS[POLARITY_SPELLINGS[spelled]]
    if from_label is not None and from_polarity is not None and from_label != from_polarity:
        raise DataError(
            f"label {label!r} and polarity {polarity!r} disagree: keep one of the two or make them agree"
        )
    return from_polarity if from_label is None else from_label


def recordings_frame(
    rows: Iterable[Mapping[str, Any]] | pd.DataFrame, *, source: str = "manifest"
) -> pd.DataFrame:
    """Build a recordings manifest from rows, reading each row's label with :func:`parse_label`.

    Parameters
    ----------
    rows
        Dicts (or a frame) with ``path`` and any of the other :data:`RECORDINGS_COLUMNS`
        (or their :data:`COLUMN_ALIASES`: ``speaker`` for ``group``). ``label`` and ``polarity`` may
        use any spelling :func:`parse_label` accepts and come out canonical and agreeing. Missing
        columns are null; other columns are dropped.
    source
        Where the rows come from (a CSV's path), for messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RECORDINGS_COLUMNS`, rows in order (index 0..n-1); strings as pandas
        ``string`` (missing = ``<NA>``), ``label`` as nullable ``Int8``.

    Raises
    ------
    DataError
        If a row's label or polarity cannot be read, or they disagree (the message counts those rows
        and names the first).
    """
    frame = rows.reset_index(drop=True) if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    frame = rename_aliases(frame).reindex(columns=list(RECORDINGS_COLUMNS))
    labels, problems = [], []
    for number, (label, polarity) in enumerate(zip(frame["label"], frame["polarity"], strict=True), 1):
        try:
            labels.append(parse_label(label=label, polarity=polarity))
        except DataError as error:
            labels.append(None)
            problems.append(f"data row {number}: {error}")
    if problems:
        raise DataError(
            f"{source}: {len(problems)} row(s) whose label or polarity cannot be read or disagree "
            f"(first, {problems[0]}); fix those rows"
        )
    frame["label"] = pd.array(labels, dtype="Int8")
    frame["polarity"] = [POLARITIES[label] for label in labels]
    return frame.astype(_DTYPES)


def _audio_files(folder: str | Path, extensions: Iterable[str]) -> tuple[Path, list[Path]]:
    """Audio files under ``folder`` (recursive, sorted, hidden files skipped); others are logged."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"recordings folder {folder} not found or not a folder; pass a folder of audio files")
    wanted = {e.lower() for e in extensions}
    files, other = [], []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        (files if path.suffix.lower() in wanted else other).append(path)
    if other:
        log.info(
            "%s: %d file(s) without an audio extension not listed (e.g. %s)",
            folder,
            len(other),
            ", ".join(p.name for p in other[:3]),
        )
    root = folder.resolve()  # links inside are kept as links: a consumer checks where they lead
    return root, [root / p.relative_to(folder) for p in files]


def _check_nonempty(folder: Path, rows: list[dict], what: str) -> None:
    if not rows:
        raise DataError(
            f"no audio files found under {folder} (looked for {', '.join(sorted(AUDIO_EXTENSIONS))}); "
            f"expected {what}"
        )


def folder_manifest(folder: str | Path, *, extensions: Iterable[str] = AUDIO_EXTENSIONS) -> pd.DataFrame:
    """List every audio file under ``folder``: language = parent folder name, polarity unknown.

    Parameters
    ----------
    folder
        Searched recursively; hidden files and folders are skipped.
    extensions
        File suffixes (lower case, with the dot) that count as audio; other files are logged and
        not listed. Undecodable files with an audio suffix are listed (a consumer rejects them).

    Returns
    -------
    pandas.DataFrame
        A recordings manifest (:data:`RECORDINGS_COLUMNS`), sorted by path, ``corpus`` = ``"folder"``; a file
        directly in ``folder`` has that folder's name as its language.

    Raises
    ------
    DataError
        If ``folder`` is missing or holds no audio file.

    Examples
    --------
    ``recordings/french/a.wav`` gets language ``"french"``:

    >>> folder_manifest("recordings")["language"].tolist()  # doctest: +SKIP
    ['french']
    """
    root, files = _audio_files(folder, extensions)
    rows = [{"path": str(p), "language": p.parent.name.lower(), "corpus": "folder"} for p in files]
    _check_nonempty(root, rows, "a folder of recordings, one sub-folder per language")
    return recordings_frame(rows)


@dataclass(frozen=True, eq=False)
class NamingScheme:
    """A corpus whose file names say each recording's emotion, speaker and text.

    Attributes
    ----------
    corpus
        The corpus's name: each row's ``corpus``, and the prefix of its ``group`` (``"emodb_03"``).
    pattern
        The naming pattern as messages show it (``"SSTTTEV"``).
    name
        Regular expression a file stem must match, with the groups ``emotion`` (a key of
        ``emotions``), ``speaker`` and ``text`` (a key of ``texts``).
    emotions
        Emotion code -> emotion (a key of :data:`VALENCE`); another code counts as unmatched.
    texts
        Text code -> what is said; an unknown code leaves ``text`` missing.
    language
        Language of every row unless the caller names another.
    """

    corpus: str
    pattern: str
    name: re.Pattern[str]
    emotions: Mapping[str, str]
    texts: Mapping[str, str]
    language: str

    def parse(self, stem: str) -> dict[str, str | None] | None:
        """``emotion``, ``polarity``, ``group`` and ``text`` of a file stem, or None if it does not match."""
        match = self.name.match(stem)
        if match is None or match["emotion"] not in self.emotions:
            return None
        emotion = self.emotions[match["emotion"]]
        return {
            "emotion": emotion,
            "polarity": VALENCE[emotion],
            "group": f"{self.corpus}_{match['speaker']}",
            "text": self.texts.get(match["text"]),
        }

    def manifest(self, folder: str | Path, *, language: str | None = None) -> pd.DataFrame:
        """Manifest of the corpus's recordings under ``folder``, from their file names.

        The audio files are those :func:`folder_manifest` lists; each file name gives the row's
        emotion, polarity (from :data:`VALENCE`; missing for an emotion without a valence), group
        and text.

        Parameters
        ----------
        folder
            Searched recursively (RAVDESS's ``Actor_NN`` sub-folders and EmoDB's ``wav/`` folder
            work as they are).
        language
            Language of every row; None for the scheme's :attr:`language`.

        Returns
        -------
        pandas.DataFrame
            A recordings manifest sorted by path, ``corpus`` = :attr:`corpus` and ``group`` =
            ``"<corpus>_<speaker>"``. Files that do not follow the scheme are kept with emotion and
            polarity missing (and a warning).

        Raises
        ------
        DataError
            As :func:`folder_manifest`: when ``folder`` holds no audio file, or is no folder.

        Examples
        --------
        >>> m = RAVDESS.manifest("../shared/data/ravdess")  # doctest: +SKIP
        >>> m.loc[0, ["emotion", "polarity", "group"]].tolist()  # doctest: +SKIP
        ['neutral', <NA>, 'ravdess_01']
        """
        root, files = _audio_files(folder, AUDIO_EXTENSIONS)
        language = self.language if language is None else language
        rows, unmatched = [], []
        for path in files:
            parsed = self.parse(path.stem)
            if parsed is None:
                unmatched.append(path.name)
                parsed = {}
            rows.append({"path": str(path), "language": language, "corpus": self.corpus, **parsed})
        _check_nonempty(root, rows, f"{self.corpus} recordings named {self.pattern}")
        if unmatched:
            log.warning(
                "%s: %d of %d file(s) do not follow the %s naming scheme %s (e.g. %s): kept with emotion "
                "and polarity unknown",
                root,
                len(unmatched),
                len(rows),
                self.corpus,
                self.pattern,
                ", ".join(unmatched[:3]),
            )
        return recordings_frame(rows)


#: RAVDESS: ``MM-CC-EE-II-SS-RR-AA.wav``: modality, vocal channel, emotion ``EE``
#: (:data:`RAVDESS_EMOTIONS`), intensity, statement ``SS`` (:data:`RAVDESS_STATEMENTS`), repetition,
#: actor ``AA``; English.
RAVDESS = NamingScheme(
    corpus="ravdess",
    pattern="MM-CC-EE-II-SS-RR-AA",
    name=re.compile(
        r"^(\d{2})-(\d{2})-(?P<emotion>\d{2})-(\d{2})-(?P<text>\d{2})-(\d{2})-(?P<speaker>\d{2})$"
    ),
    emotions=RAVDESS_EMOTIONS,
    texts=RAVDESS_STATEMENTS,
    language="english",
)
#: Berlin EmoDB: ``SSTTTEV.wav``: speaker ``SS``, text ``TTT`` (:data:`EMODB_TEXTS`), emotion letter
#: ``E`` (:data:`EMODB_EMOTIONS`), version ``V``; German.
EMODB = NamingScheme(
    corpus="emodb",
    pattern="SSTTTEV",
    name=re.compile(r"^(?P<speaker>\d{2})(?P<text>[ab]\d{2})(?P<emotion>[A-Z])([a-z])$"),
    emotions=EMODB_EMOTIONS,
    texts=EMODB_TEXTS,
    language="german",
)
#: Toronto Emotional Speech Set: ``SPK_word_emotion.wav``: speaker ``SPK`` (OAF, YAF), the target word
#: of "Say the word ...", emotion (:data:`TESS_EMOTIONS`); English.
TESS = NamingScheme(
    corpus="tess",
    pattern="SPK_word_emotion",
    name=re.compile(r"^(?P<speaker>[A-Za-z]+)_(?P<text>[A-Za-z]+)_(?P<emotion>[a-z]+)$"),
    emotions=TESS_EMOTIONS,
    texts={},
    language="english",
)
#: Manifest of RAVDESS recordings from their file names: :meth:`NamingScheme.manifest` of :data:`RAVDESS`.
ravdess_manifest = RAVDESS.manifest
#: Manifest of Berlin EmoDB recordings from their file names: :meth:`NamingScheme.manifest` of :data:`EMODB`.
emodb_manifest = EMODB.manifest

#: Naming schemes by name (``weaklabel probe --scheme``): folder -> manifest.
SCHEMES = {scheme.corpus: scheme.manifest for scheme in (RAVDESS, EMODB, TESS)}


def _absolute(path: Path) -> Path:
    """``path`` made absolute and ``..``-free, links *not* resolved (the containment check judges them)."""
    return Path(os.path.normpath(os.path.abspath(path)))


def _read_csv(csv: Path) -> pd.DataFrame:
    """A manifest CSV as strings, every way it can fail turned into a DataError naming it."""
    try:
        return pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"manifest {csv} is not UTF-8 text (byte {error.start}); save it as UTF-8") from error
    except pd.errors.EmptyDataError as error:
        raise DataError(f"manifest {csv} is empty; expected a header row with at least 'path'") from error
    except (pd.errors.ParserError, ValueError, OSError) as error:
        raise DataError(f"cannot read manifest {csv} as CSV: {str(error).strip()}") from error


def missing_columns(columns: Iterable[str], required: Iterable[str]) -> list[str]:
    """The ``required`` recordings columns that ``columns`` lacks, aliases counted.

    ``group`` may be written ``speaker`` (:data:`COLUMN_ALIASES`) and ``label`` may be ``polarity``.

    Examples
    --------
    >>> missing_columns(["path", "polarity", "speaker"], ["path", "label", "group", "corpus"])
    ['corpus']
    """
    present = set(columns) | {COLUMN_ALIASES[c] for c in columns if c in COLUMN_ALIASES}
    if "polarity" in present:
        present.add("label")
    return [column for column in required if column not in present]


def read_manifest(
    csv: str | Path,
    *,
    root: str | Path | None = None,
    duplicates: str = "error",
    required: Iterable[str] = ("path",),
) -> pd.DataFrame:
    """Read a manifest CSV: ``path`` and optionally ``language``, ``polarity``/``label``, ``text`` and more.

    Parameters
    ----------
    csv
        UTF-8 CSV with a header row (column names case-insensitive). ``path`` is required; relative
        paths are resolved against ``root``. Optional columns:

        - ``language``: missing (column or cell) means the file's parent folder name;
        - ``polarity``: positive/negative, pos/neg, +/-, 1/0, or empty/unknown/neutral/none for
          no polarity;
        - ``label``: 1, 0 or empty, an alternative to ``polarity`` (when both are given they must
          agree); both read by :func:`parse_label`;
        - ``group`` (or ``speaker``), ``corpus`` (default ``"manifest"``), ``emotion``, ``text``.

        Other columns are ignored.
    root
        Folder relative paths start from; ``None`` for the CSV's own folder.
    duplicates
        ``error``: a path listed twice is an error; ``keep``: keep every row, for a consumer that
        rejects the repeats row by row (:func:`weaklabel.sources.manifest_ingest.manifest_tables` does).
    required
        Columns the CSV must have (see :func:`missing_columns`): ``path`` at least; gold-label
        ingest asks for ``label`` (or ``polarity``), ``group`` (or ``speaker``) and ``corpus`` too,
        so that a missing column never becomes a silent default.

    Returns
    -------
    pandas.DataFrame
        A recordings manifest (:data:`RECORDINGS_COLUMNS`) in file order. Paths are absolute with
        ``..`` collapsed but links *not* resolved: a consumer checks that each stays inside its
        folder (:func:`weaklabel.paths.outside_root`), and a link must still look like one then.

    Raises
    ------
    DataError
        If the CSV is missing, empty, not UTF-8 or not CSV, lacks a ``required`` column, lists a
        path twice, or has a row whose label or polarity :func:`parse_label` cannot read or whose
        label contradicts its polarity. Paths that do not exist, or lead outside ``root``, are *not*
        an error (a consumer rejects them).

    Examples
    --------
    A ``manifest.csv`` such as the demo's ``Probe/manifest.csv``::

        path,language,polarity,text
        english/positive_01.wav,english,positive,I absolutely loved this film.
    """
    csv = Path(csv)
    if not csv.is_file():
        raise DataError(f"manifest {csv} not found; pass an existing CSV with a path column")
    table = _read_csv(csv)
    table.columns = [str(c).strip().lower() for c in table.columns]
    needed = list(dict.fromkeys(("path", *required)))
    missing = missing_columns(table.columns, needed)
    if missing:
        raise DataError(
            f"manifest {csv} lacks column(s) {missing}: found {list(table.columns)}; expected at least "
            f"{', '.join(map(repr, needed))} (label may be polarity, group may be speaker), and optionally "
            "language, polarity or label, text, group, corpus, emotion"
        )
    base = Path(root) if root is not None else csv.parent
    paths = [Path(p.strip()).expanduser() for p in table["path"]]
    paths = [_absolute(p if p.is_absolute() else base / p) for p in paths]
    if duplicates not in ("error", "keep"):
        raise ParameterError(f"duplicates must be 'error' or 'keep', got {duplicates!r}")
    duplicated = pd.Series([str(p) for p in paths]).duplicated()
    if duplicates == "error" and duplicated.any():
        raise DataError(
            f"manifest {csv} lists {int(duplicated.sum())} path(s) more than once "
            f"(e.g. {paths[int(duplicated.idxmax())]}); list each recording once"
        )

    cells = table.map(str.strip).replace("", None)
    cells["path"] = [str(path) for path in paths]
    parents = pd.Series([path.parent.name for path in paths], index=cells.index, dtype=object)
    cells["language"] = (cells["language"].fillna(parents) if "language" in cells else parents).str.lower()
    cells["corpus"] = cells["corpus"].fillna("manifest") if "corpus" in cells else "manifest"
    return recordings_frame(cells, source=str(csv))


def build_manifest(
    folder: str | Path, *, csv: str | Path | None = None, scheme: str | None = None
) -> pd.DataFrame:
    """The manifest of a folder of recordings: from a CSV, a naming scheme, or the folder itself.

    Parameters
    ----------
    folder
        The recordings.
    csv
        A manifest CSV (:func:`read_manifest`); its relative paths are resolved against ``folder``.
    scheme
        A key of :data:`SCHEMES` (``"ravdess"``, ``"emodb"``): emotions from the file names.

    Returns
    -------
    pandas.DataFrame
        A recordings manifest (:data:`RECORDINGS_COLUMNS`); :func:`folder_manifest` when neither ``csv`` nor
        ``scheme`` is given.

    Raises
    ------
    ParameterError
        If both ``csv`` and ``scheme`` are given, or ``scheme`` is unknown.
    DataError
        As the builder it calls.
    """
    if csv is not None and scheme:
        raise ParameterError("give a manifest CSV or a naming scheme, not both")
    if csv is not None:
        return read_manifest(csv, root=folder)
    if scheme:
        if scheme not in SCHEMES:
            raise ParameterError(f"unknown naming scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
        return SCHEMES[scheme](folder)
    return folder_manifest(folder)
