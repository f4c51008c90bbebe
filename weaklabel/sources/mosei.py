"""Ingest a corpus in the CMU-MOSEI raw layout into one table of segments.

A corpus root holds ``Audio/Full/WAV_16000/<video>.wav`` and
``Transcript/Segmented/Combined/<video>.txt`` (lines ``video___segment___start___end___text``).
:func:`ingest_corpus` reads every transcript, checks every line against its video's audio (the
header only, read once per video; samples are never loaded here) and returns the kept segments,
one reject per dropped line with a reason code (:data:`REASONS`), and a summary. Counts conserve:
``lines_read + transcript_files_rejected == len(segments) + len(rejects)``, blank lines aside (a
transcript file that is not read at all is one reject).

Containment (:mod:`weaklabel.paths`): a transcript or an audio file whose path, links resolved,
leaves the corpus root is never read. Such a transcript is one reject (``outside_root``, key = the
file); lines whose audio leaves the root are rejected as ``outside_root`` too.

Checks, in order (the first that fails names the reason):

1. the line itself (:mod:`weaklabel.sources.transcripts`): ``non_utf8``, ``malformed_line``,
   ``unsafe_video_id``, ``bad_time``; then ``video_mismatch`` (the line names another video than
   its file);
2. the video's audio: ``missing_audio`` or ``unreadable_audio``. In text-only mode these
   segments are kept with null audio columns (text and gold need no audio);
3. the segment: ``reversed_time``, ``zero_length`` (only when audio is to be cut), ``empty_text``,
   ``duplicate_segment`` (the first usable line of a segment id wins);
4. the segment against the audio's extent ``[0, audio end]``: a segment partly outside is clipped
   to it when at least ``min_inside_fraction`` of it lies inside, else rejected as
   ``negative_time`` (most of it before 0) or ``past_audio_end`` (most of it after the end); one
   wholly outside is ``negative_time`` or ``after_audio_end``.

Gold sentiment, when given, is matched on the transcript's own times (before clipping).
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from weaklabel.audio.io import AudioInfo, audio_info
from weaklabel.errors import DataError, ParameterError, WeakLabelError
from weaklabel.paths import REASON as OUTSIDE_ROOT
from weaklabel.paths import outside_root
from weaklabel.sources import transcripts
from weaklabel.sources.gold import match_gold, read_gold
from weaklabel.tables import REJECTS_SCHEMA, rejects_frame, write_rejects, write_table

log = logging.getLogger(__name__)

#: Where the layout keeps transcripts and audio, relative to the corpus root.
TRANSCRIPT_DIR = Path("Transcript") / "Segmented" / "Combined"
AUDIO_DIR = Path("Audio") / "Full" / "WAV_16000"
AUDIO_SUFFIX = ".wav"
#: Optional file at the corpus root naming each video's speaker (columns ``video,speaker``).
SPEAKERS_FILE = "speakers.csv"
#: Summary the demo stage writes at its corpus root; its presence makes the corpus the demo.
DEMO_SUMMARY = "demo.json"
#: What ``corpus.json`` says a corpus is (:func:`corpus_facts`).
CORPUS_KINDS = ("demo", "mosei", "manifest")

SEGMENTS_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),  # "{video}___{segment}"
        ("video", pa.string()),
        ("speaker", pa.string()),  # who speaks: speakers.csv's speaker, else the video (an approximation)
        ("segment", pa.string()),
        ("start", pa.float64()),  # seconds, after clipping to the audio
        ("end", pa.float64()),
        ("duration", pa.float64()),
        ("text", pa.string()),
        ("audio_path", pa.string()),  # null in text-only mode when the audio is missing
        ("sample_rate", pa.int32()),  # native rate of the audio file; null without audio
        ("audio_seconds", pa.float64()),  # length of the whole audio file; null without audio
        ("gold_sentiment", pa.float64()),  # -3..+3; null without gold
        ("gold_split", pa.string()),  # train/valid/test; null when unknown
    ]
)

#: Every reason a transcript line can be rejected with at ingest, and what it means.
REASONS: dict[str, str] = {
    **transcripts.REASONS,
    "video_mismatch": "the line names another video than its transcript file",
    OUTSIDE_ROOT: "the transcript or the audio is a link (or path) leading outside the corpus root: not read",
    "unreadable_transcript": "the transcript cannot be read (a dangling link, no permission): one reject",
    "missing_audio": "no Audio/Full/WAV_16000/<video>.wav (kept with null audio in text-only mode)",
    "unreadable_audio": "the audio file's header cannot be read (kept with null audio in text-only mode)",
    "duplicate_segment": "a segment id already taken by an earlier usable line",
    "negative_time": "too little of the segment lies after 0 s (ingest.min_inside_fraction)",
    "after_audio_end": "the segment starts at or after the end of the audio",
    "past_audio_end": "too little of the segment lies before the audio's end (ingest.min_inside_fraction)",
}


@dataclass(frozen=True)
class IngestConfig:
    """How a corpus is ingested (the ``ingest`` section of params.yaml).

    Attributes
    ----------
    min_inside_fraction
        A segment running past the audio's end (or starting before 0) is clipped to the audio
        when at least this fraction of it lies inside, else rejected. In (0, 1].
    gold_tolerance_s
        A gold row matches a segment of its video when both interval ends agree within this
        many seconds. >= 0.
    text_only
        Keep segments whose audio is missing (audio columns null) instead of rejecting them.
    non_utf8
        ``"replace"``: non-UTF-8 bytes in the text become U+FFFD and the segment is kept;
        ``"reject"``: such lines are rejected (``non_utf8``).
    """

    min_inside_fraction: float = 0.5
    gold_tolerance_s: float = 0.5
    text_only: bool = False
    non_utf8: str = "replace"

    def __post_init__(self) -> None:
        if not 0 < self.min_inside_fraction <= 1:
            raise ParameterError(
                f"ingest.min_inside_fraction must be in (0, 1], got {self.min_inside_fraction}"
            )
        if not self.gold_tolerance_s >= 0:
            raise ParameterError(f"ingest.gold_tolerance_s must be >= 0 s, got {self.gold_tolerance_s}")
        if not isinstance(self.text_only, bool):
            raise ParameterError(f"ingest.text_only must be true or false, got {self.text_only!r}")
        if self.non_utf8 not in transcripts.NON_UTF8_MODES:
            raise ParameterError(
                f"ingest.non_utf8 must be one of {transcripts.NON_UTF8_MODES}, got {self.non_utf8!r}"
            )


def _empty_rejects() -> pd.DataFrame:
    return rejects_frame([], stage="ingest")


@dataclass(frozen=True)
class IngestResult:
    """What :func:`ingest_corpus` returns.

    Attributes
    ----------
    segments
        Kept segments, columns of :data:`SEGMENTS_SCHEMA`.
    rejects
        One row per rejected transcript line (:data:`weaklabel.tables.REJECTS_SCHEMA`).
    summary
        Counts (lines, segments, rejects by reason, videos, hours, gold matching).
    gold_rejects
        Unusable rows of the gold file (``gold_*`` reasons), kept apart so that ``rejects``
        conserves transcript lines.
    corpus
        What the corpus is (:func:`corpus_facts`), written as ``corpus.json``.
    """

    segments: pd.DataFrame
    rejects: pd.DataFrame
    summary: dict
    gold_rejects: pd.DataFrame = field(default_factory=_empty_rejects)
    corpus: dict = field(default_factory=lambda: {"kind": "mosei"})


def fit_to_audio(
    start: float, end: float, *, audio_seconds: float, min_inside_fraction: float
) -> tuple[float, float, tuple[str, str] | None]:
    """Clip a segment to the audio's extent ``[0, audio_seconds]``, or say why it cannot be.

    Parameters
    ----------
    start, end
        The segment, seconds, ``end >= start``.
    audio_seconds
        Length of the audio; ``math.inf`` when there is none (text-only).
    min_inside_fraction
        Smallest fraction of the segment that must lie inside for it to be clipped and kept.

    Returns
    -------
    start, end : float
        The clipped segment (unchanged when it lies inside).
    problem : tuple of (str, str) or None
        ``(reason, detail)`` when rejected: ``negative_time``, ``after_audio_end`` or
        ``past_audio_end``; else ``None``.

    Examples
    --------
    >>> fit_to_audio(-0.4, 3.6, audio_seconds=10.0, min_inside_fraction=0.5)
    (0.0, 3.6, None)
    >>> fit_to_audio(9.0, 13.0, audio_seconds=10.0, min_inside_fraction=0.5)[2][0]
    'past_audio_end'
    """
    if start >= 0 and end <= audio_seconds:
        return start, end, None
    lo, hi = max(start, 0.0), min(end, audio_seconds)
    if end <= 0:
        return start, end, ("negative_time", f"segment {start}..{end} s ends before the audio starts at 0 s")
    if start >= audio_seconds:
        return (
            start,
            end,
            (
                "after_audio_end",
                f"segment {start}..{end} s starts at or after the audio's end, {audio_seconds} s",
            ),
        )
    inside = (hi - lo) / (end - start)
    if inside < min_inside_fraction:
        reason = "negative_time" if (lo - start) >= (end - hi) else "past_audio_end"
        return (
            start,
            end,
            (
                reason,
                f"only {inside:.0%} of segment {start}..{end} s lies inside the audio "
                f"(0..{audio_seconds} s); "
                f"ingest.min_inside_fraction is {min_inside_fraction}",
            ),
        )
    return lo, hi, None


def audio_path_for(root: str | Path, video: str) -> Path:
    """Where the layout keeps ``video``'s audio under corpus ``root``."""
    return Path(root) / AUDIO_DIR / f"{video}{AUDIO_SUFFIX}"


def transcript_files(root: str | Path) -> list[Path]:
    """The transcript files of corpus ``root``, sorted by name.

    Raises
    ------
    DataError
        If ``root`` has no ``Transcript/Segmented/Combined`` folder or it holds no ``.txt`` file.
    """
    folder = Path(root) / TRANSCRIPT_DIR
    if not folder.is_dir():
        raise DataError(
            f"corpus {root} has no {TRANSCRIPT_DIR.as_posix()} folder; expected the CMU-MOSEI raw layout "
            f"(<root>/{TRANSCRIPT_DIR.as_posix()}/<video>.txt, <root>/{AUDIO_DIR.as_posix()}/<video>.wav): "
            "point data.corpus (or the CORPUS argument) at such a folder, or run `weaklabel demo` to make one"
        )
    # Links are listed even when dangling or leading elsewhere: ingest rejects them, never skips them.
    files = sorted(p for p in folder.iterdir() if p.suffix == ".txt" and (p.is_file() or p.is_symlink()))
    if not files:
        raise DataError(f"{folder} holds no <video>.txt transcripts; expected the CMU-MOSEI raw layout")
    return files


class _AudioIndex:
    """Reads each video's audio header once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, tuple[AudioInfo | None, tuple[str, str] | None]] = {}

    def get(self, video: str) -> tuple[AudioInfo | None, tuple[str, str] | None]:
        if video not in self.cache:
            path = audio_path_for(self.root, video)
            escape = outside_root(path, self.root)
            if escape is not None:
                self.cache[video] = (None, (OUTSIDE_ROOT, f"audio {escape}"))
            elif not path.is_file():
                self.cache[video] = (
                    None,
                    ("missing_audio", f"no audio file {path.relative_to(self.root).as_posix()}"),
                )
            else:
                try:
                    self.cache[video] = (audio_info(path), None)
                except DataError as error:
                    self.cache[video] = (None, ("unreadable_audio", str(error)))
        return self.cache[video]


def _segments_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "segment_id",
            "video",
            "segment",
            "raw_start",
            "raw_end",
            "start",
            "end",
            "text",
            "audio_path",
            "sample_rate",
            "audio_seconds",
        ],
    )
    return frame.astype(
        {
            "segment_id": "string",
            "video": "string",
            "segment": "string",
            "raw_start": "float64",
            "raw_end": "float64",
            "start": "float64",
            "end": "float64",
            "text": "string",
            "audio_path": "string",
            "sample_rate": "Int32",
            "audio_seconds": "float64",
        }
    )


def ingest_corpus(
    root: str | Path,
    *,
    config: IngestConfig,
    gold: str | Path | pd.DataFrame | None = None,
    verbose: bool = False,
) -> IngestResult:
    """Read a corpus in the CMU-MOSEI raw layout into segments, rejects and a summary.

    Parameters
    ----------
    root
        The corpus root (``Transcript/Segmented/Combined``, ``Audio/Full/WAV_16000``).
    config
        Clipping, gold tolerance, text-only and non-UTF-8 handling.
    gold
        A gold file (``CMU_MOSEI_Labels.csd`` or a labels CSV, see :mod:`weaklabel.sources.gold`), an
        already-read gold table, or ``None`` (or ``""``) for none.
    verbose
        Show a progress bar over transcript files.

    Returns
    -------
    IngestResult
        ``segments`` (n, 12) with :data:`SEGMENTS_SCHEMA` columns in transcript order,
        ``rejects`` with one row per dropped line, ``summary`` and ``gold_rejects``.

    Raises
    ------
    DataError
        If the corpus has no transcripts folder or files, or the gold file is missing or
        unreadable. A transcript that cannot be read, or leads outside the corpus, is a reject.

    Examples
    --------
    >>> result = ingest_corpus("data/demo", config=IngestConfig())  # doctest: +SKIP
    >>> result.summary["lines_read"] == len(result.segments) + len(result.rejects)  # doctest: +SKIP
    True
    """
    root = Path(root)
    files = transcript_files(root)
    gold_table, gold_rejects, gold_summary = None, _empty_rejects(), None
    if isinstance(gold, pd.DataFrame):
        gold_table, gold_summary = gold, {"path": None, "rows_read": len(gold), "rows_rejected": 0}
    elif gold is not None and str(gold) != "":
        gold_table, gold_rejects = read_gold(gold)
        gold_summary = {
            "path": str(gold),
            "rows_read": len(gold_table) + len(gold_rejects),
            "rows_rejected": len(gold_rejects),
        }

    audio = _AudioIndex(root)
    rows: list[dict] = []
    rejects: list[dict] = []
    seen: dict[str, str] = {}
    counts = Counter()
    for path in tqdm(files, desc="ingest", unit="file", disable=not verbose):
        source = path.relative_to(root).as_posix()
        escape = outside_root(path, root)
        if escape is not None:
            counts["transcript_files_rejected"] += 1
            rejects.append(
                {"source": source, "key": source, "reason": OUTSIDE_ROOT, "detail": f"transcript {escape}"}
            )
            continue
        try:
            parsed = transcripts.parse_transcript(path.read_bytes(), non_utf8=config.non_utf8)
        except OSError as error:  # a dangling link, no permission: this file, not the run
            counts["transcript_files_rejected"] += 1
            rejects.append(
                {
                    "source": source,
                    "key": source,
                    "reason": "unreadable_transcript",
                    "detail": f"cannot read transcript {source}: {error.strerror or error}",
                }
            )
            continue
        counts["lines_read"] += parsed.n_lines
        counts["blank_lines"] += parsed.n_blank
        rejects.extend(
            {"source": source, "key": r.key, "reason": r.reason, "detail": r.detail} for r in parsed.rejects
        )
        for line in parsed.lines:
            problem = _check(line, path.stem, audio, seen, config)
            if isinstance(problem, tuple):
                rejects.append(
                    {"source": source, "key": line.segment_id, "reason": problem[0], "detail": problem[1]}
                )
                continue
            info: AudioInfo | None = problem
            start, end, _ = fit_to_audio(
                line.start,
                line.end,
                audio_seconds=info.seconds if info else math.inf,
                min_inside_fraction=config.min_inside_fraction,
            )
            counts["clipped_start"] += start != line.start
            counts["clipped_end"] += end != line.end
            counts["non_utf8_replaced"] += line.replaced_bytes
            seen[line.segment_id] = f"{source} line {line.line_no}"
            rows.append(
                {
                    "segment_id": line.segment_id,
                    "video": line.video,
                    "segment": line.segment,
                    "raw_start": line.start,
                    "raw_end": line.end,
                    "start": start,
                    "end": end,
                    "text": line.text,
                    "audio_path": audio_path_for(root, line.video).as_posix() if info else None,
                    "sample_rate": info.sample_rate if info else None,
                    "audio_seconds": info.seconds if info else None,
                }
            )

    frame = _segments_frame(rows)
    if gold_table is not None:
        matched, match_summary = match_gold(
            frame[["video", "segment", "raw_start", "raw_end"]].rename(
                columns={"raw_start": "start", "raw_end": "end"}
            ),
            gold_table,
            tolerance_s=config.gold_tolerance_s,
        )
        frame["gold_sentiment"] = matched["gold_sentiment"].to_numpy()
        frame["gold_split"] = matched["gold_split"].array
        gold_summary.update(match_summary)
    else:
        frame["gold_sentiment"] = pd.Series(float("nan"), index=frame.index, dtype="float64")
        frame["gold_split"] = pd.Series(pd.NA, index=frame.index, dtype="string")
    frame["duration"] = frame["end"] - frame["start"]
    speakers = read_speakers(root)
    frame["speaker"] = (
        frame["video"] if speakers is None else frame["video"].map(speakers).fillna(frame["video"])
    )
    segments = frame[SEGMENTS_SCHEMA.names].reset_index(drop=True)
    reject_table = rejects_frame(rejects, stage="ingest")

    read = counts["lines_read"] + counts["transcript_files_rejected"]
    if read != len(segments) + len(reject_table):  # pragma: no cover - a bug, not bad data
        raise WeakLabelError(
            f"internal error: {counts['lines_read']} lines read and {counts['transcript_files_rejected']} "
            f"files rejected but {len(segments)} segments + {len(reject_table)} rejects; please report it"
        )
    summary = _summary(root, files, segments, reject_table, counts, audio, config, gold_summary)
    log.info(
        "ingested %s: %d lines -> %d segments of %d videos (%.2f h), %d rejected %s",
        root,
        summary["lines_read"],
        summary["segments"],
        summary["videos"],
        summary["hours"],
        summary["rejected"],
        {k: v for k, v in summary["rejects_by_reason"].items() if v},
    )
    return IngestResult(segments, reject_table, summary, gold_rejects, corpus_facts(root))


def read_speakers(root: str | Path) -> dict[str, str] | None:
    """Each video's speaker from ``<root>/speakers.csv`` (columns ``video,speaker``), or None without one.

    Without the file every video counts as its own speaker: an approximation, since in CMU-MOSEI
    one speaker can own several videos (the split and the bootstraps then group less than they should).
    Videos the file does not list are their own speaker too.

    Raises
    ------
    DataError
        If the file is unreadable, lacks a column, has an empty cell, or gives a video two speakers.
    """
    path = Path(root) / SPEAKERS_FILE
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise DataError(
            f"{path} is not a readable UTF-8 CSV ({str(error).splitlines()[0]}); "
            "expected columns video,speaker"
        ) from error
    missing = [c for c in ("video", "speaker") if c not in table.columns]
    if missing:
        raise DataError(
            f"{path} lacks column(s) {missing} (found {list(table.columns)}); expected video,speaker"
        )
    table = table[["video", "speaker"]].apply(lambda column: column.str.strip())
    empty = table[(table["video"] == "") | (table["speaker"] == "")]
    if len(empty):
        raise DataError(
            f"{path} line {int(empty.index[0]) + 2} has an empty video or speaker; fill it or drop the line"
        )
    twice = table.drop_duplicates().groupby("video")["speaker"].nunique()
    if (twice > 1).any():
        raise DataError(
            f"{path} gives video {twice[twice > 1].index[0]!r} more than one speaker; "
            "expected one line per video"
        )
    return dict(zip(table["video"], table["speaker"], strict=True))


def corpus_facts(root: str | Path) -> dict[str, Any]:
    """What a CMU-MOSEI-layout corpus is, for ``corpus.json``: the demo or (presumably) CMU-MOSEI.

    Parameters
    ----------
    root
        The corpus root.

    Returns
    -------
    dict
        ``kind`` (``demo`` when the demo stage's ``demo.json`` lies at the root, else ``mosei``),
        ``speakers`` (``speakers.csv`` or ``video``: what the groups are), and for the demo its
        ``corpus`` name, ``affect_strength``, ``spoken_words`` and ``counts``.

    Raises
    ------
    DataError
        If ``demo.json`` exists but is not JSON.
    """
    root = Path(root)
    facts: dict[str, Any] = {
        "kind": "mosei",
        "speakers": SPEAKERS_FILE if (root / SPEAKERS_FILE).is_file() else "video",
    }
    demo = root / DEMO_SUMMARY
    if demo.is_file():
        try:
            summary = json.loads(demo.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DataError(
                f"{demo} is not JSON ({error}); rebuild the demo corpus (dvc repro demo)"
            ) from error
        facts.update(
            kind="demo",
            corpus=summary.get("corpus", "weaklabel demo corpus"),
            affect_strength=summary.get("affect_strength"),
            spoken_words=summary.get("spoken_words", "transcript"),
            counts=summary.get("counts", {}),
        )
    return facts


def _check(
    line: transcripts.TranscriptLine,
    file_video: str,
    audio: _AudioIndex,
    seen: dict[str, str],
    config: IngestConfig,
) -> AudioInfo | None | tuple[str, str]:
    """The line's audio info (None in text-only mode without audio), or ``(reason, detail)``."""
    if line.video != file_video:
        return (
            "video_mismatch",
            f"line {line.line_no} names video {line.video!r} but sits in {file_video}.txt; "
            "each transcript file must hold only its own video's lines",
        )
    info, audio_problem = audio.get(line.video)
    if audio_problem is not None and not config.text_only:
        reason, detail = audio_problem
        return reason, f"{detail}; pass --text-only (ingest.text_only: true) to keep segments without audio"
    problem = transcripts.segment_problem(line, needs_audio=info is not None)
    if problem is not None:
        return problem
    if line.segment_id in seen:
        return (
            "duplicate_segment",
            f"line {line.line_no}: segment id {line.segment_id} already read at {seen[line.segment_id]}",
        )
    _, _, fit_problem = fit_to_audio(
        line.start,
        line.end,
        audio_seconds=info.seconds if info else math.inf,
        min_inside_fraction=config.min_inside_fraction,
    )
    return fit_problem if fit_problem is not None else info


def _summary(
    root: Path,
    files: list[Path],
    segments: pd.DataFrame,
    rejects: pd.DataFrame,
    counts: Counter,
    audio: _AudioIndex,
    config: IngestConfig,
    gold_summary: dict | None,
) -> dict:
    by_reason = {reason: 0 for reason in REASONS}
    by_reason.update({str(k): int(v) for k, v in rejects["reason"].value_counts().items()})
    kept_videos = set(segments["video"].dropna())
    # Sorted and summed exactly: a sum over a set would change in its last digit with PYTHONHASHSEED.
    with_audio = sorted(v for v, (info, _) in audio.cache.items() if info is not None and v in kept_videos)
    audio_dir = root / AUDIO_DIR
    audio_stems = {p.stem for p in audio_dir.glob(f"*{AUDIO_SUFFIX}")} if audio_dir.is_dir() else set()
    transcript_stems = {p.stem for p in files}
    return {
        "corpus": str(root),
        "text_only": config.text_only,
        "transcript_files": len(files),
        "transcript_files_rejected": int(counts["transcript_files_rejected"]),
        "lines_read": int(counts["lines_read"]),
        "blank_lines": int(counts["blank_lines"]),
        "segments": len(segments),
        "rejected": len(rejects),
        "rejects_by_reason": by_reason,
        "videos": len(kept_videos),
        "videos_with_audio": len(with_audio),
        "videos_without_audio": sum(1 for info, _ in audio.cache.values() if info is None),
        "audio_files_without_transcript": len(audio_stems - transcript_stems),
        "segments_without_audio": int(segments["audio_path"].isna().sum()),
        "hours": float(segments["duration"].sum() / 3600),
        "audio_hours": math.fsum(audio.cache[v][0].seconds for v in with_audio) / 3600,
        "clipped_start": int(counts["clipped_start"]),
        "clipped_end": int(counts["clipped_end"]),
        "non_utf8_replaced": int(counts["non_utf8_replaced"]),
        "gold": gold_summary,
    }


def write_ingest(
    result: IngestResult, out: str | Path, *, report: str | Path | None = None
) -> dict[str, Path]:
    """Write an ingest result: segments, rejects and gold rejects (Parquet), and ``corpus.json``.

    Parameters
    ----------
    result
        From :func:`ingest_corpus`.
    out
        Output folder (created).
    report
        Where to write the summary as JSON; ``None`` writes ``out/ingest.json``.

    Returns
    -------
    dict of str to Path
        ``segments``, ``rejects``, ``gold_rejects``, ``corpus`` and ``report`` paths.
    """
    out = Path(out)
    report = Path(report) if report is not None else out / "ingest.json"
    paths = {
        "segments": write_table(result.segments, out / "segments.parquet", schema=SEGMENTS_SCHEMA),
        "rejects": write_rejects(result.rejects, out / "rejects.parquet"),
        "gold_rejects": write_table(result.gold_rejects, out / "gold_rejects.parquet", schema=REJECTS_SCHEMA),
    }
    paths["corpus"] = write_corpus_facts(result.corpus, out)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result.summary, indent=2) + "\n")
    paths["report"] = report
    return paths


def write_corpus_facts(facts: dict[str, Any], out: str | Path) -> Path:
    """Write ``out/corpus.json`` (:func:`corpus_facts`), which evaluate reads to word its report."""
    path = Path(out) / "corpus.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(facts, indent=2) + "\n")
    return path


def read_corpus_facts(path: str | Path | None) -> dict[str, Any]:
    """Read ``corpus.json``; ``{"kind": "mosei"}`` and a warning when ``path`` is None or absent.

    Raises
    ------
    DataError
        If the file is not JSON or names an unknown kind.
    """
    if path is None or not Path(path).is_file():
        log.warning("no corpus.json (%s): the corpus is taken for a CMU-MOSEI-layout corpus", path)
        return {"kind": "mosei", "speakers": "video"}
    try:
        facts = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{path} is not JSON ({error}); re-run the ingest stage") from error
    if not isinstance(facts, dict) or facts.get("kind") not in CORPUS_KINDS:
        raise DataError(
            f"{path} names corpus kind {facts!r:.80}; expected one of {CORPUS_KINDS}; re-run ingest"
        )
    return facts
