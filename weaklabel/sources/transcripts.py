"""Parse CMU-MOSEI segmented transcripts: one ``video___segment___start___end___text`` per line.

Parsing never raises on a bad line: every non-blank line becomes either a :class:`TranscriptLine`
or a :class:`LineReject` with a reason code, so ``lines == parsed + rejected`` always holds.

Reason codes decided here (see :data:`REASONS`):

- ``non_utf8``: the line is not valid UTF-8 and either ``non_utf8="reject"`` was asked for, or the
  bad bytes sit in the video, segment or time fields. With the default ``non_utf8="replace"``,
  bad bytes *in the text* are decoded as U+FFFD and the line is kept (flagged
  ``replaced_bytes``): sentiment survives one lost character, and real transcripts hold stray
  Latin-1 bytes.
- ``malformed_line``: fewer than five ``___``-separated fields, or an empty video/segment field.
- ``bad_time``: a start or end that is not a finite number.
- ``unsafe_video_id``: a video id that would leave the audio folder when used as a file name
  (``../x``, ``/abs``, ``a/b``, ``C:x``, control characters).

Lines end in LF, CRLF or a lone CR (old Mac files), in any mix. Text may itself contain ``___``: a
line is split at most four times, so the rest is text.

A file in which no line is a transcript line (a stray binary, a linked system file) is still
counted line by line, but its rejects carry no content: the details say only why each line was
rejected, so that nothing of a file that is not a transcript is copied into a rejects table.
Value checks (order of the times, zero length, empty text) are in :func:`segment_problem`;
times outside the audio (negative starts, ends past the file) are judged by ``weaklabel.sources.mosei``,
which knows the audio's length.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from weaklabel.errors import ParameterError

log = logging.getLogger(__name__)

#: Field separator of the MOSEI transcript lines.
SEPARATOR = "___"

#: How non-UTF-8 bytes are handled: ``replace`` keeps the line (U+FFFD in the text), ``reject`` drops it.
NON_UTF8_MODES = ("replace", "reject")

#: Every reason code a transcript line or segment can be rejected with, and what it means.
REASONS: dict[str, str] = {
    "non_utf8": "bytes that are not UTF-8 (in an id or time field, or non_utf8='reject')",
    "malformed_line": "fewer than 5 '___'-separated fields, or an empty video or segment field",
    "bad_time": "start or end is not a finite number",
    "unsafe_video_id": "video id would escape the corpus folder as a path",
    "reversed_time": "end before start",
    "zero_length": "end equals start (no audio to cut)",
    "empty_text": "no text after the times",
}

_UNSAFE_CHARS = frozenset("/\\:\x00")
_NEWLINE = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"
_REPLACEMENT = "\ufffd"


@dataclass(frozen=True)
class TranscriptLine:
    """One well-formed transcript line.

    Attributes
    ----------
    video, segment
        Ids as written (surrounding whitespace removed).
    start, end
        Seconds, finite (not yet checked for order or sign: see :func:`segment_problem`).
    text
        The rest of the line after the fourth separator, stripped; may contain ``___``.
    line_no
        1-based line number in its file.
    replaced_bytes
        True when non-UTF-8 bytes in the text were replaced by U+FFFD.
    """

    video: str
    segment: str
    start: float
    end: float
    text: str
    line_no: int = 0
    replaced_bytes: bool = False

    @property
    def segment_id(self) -> str:
        """``"{video}___{segment}"``, the key used by every table."""
        return f"{self.video}{SEPARATOR}{self.segment}"

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start


@dataclass(frozen=True)
class LineReject:
    """A line that is not a usable segment.

    Attributes
    ----------
    line_no
        1-based line number in its file.
    reason
        A code from :data:`REASONS`.
    detail
        What was found, for a person reading the rejects table.
    key
        The segment id when the line got that far, else ``"line N"``.
    """

    line_no: int
    reason: str
    detail: str
    key: str


@dataclass(frozen=True)
class ParsedTranscript:
    """All lines of one transcript file: ``n_lines == len(lines) + len(rejects)``.

    Attributes
    ----------
    lines
        The well-formed lines, in file order.
    rejects
        The other non-blank lines, in file order.
    n_lines
        Non-blank lines read.
    n_blank
        Blank (empty or whitespace-only) lines skipped; they hold no record.
    withheld
        True when no line is a transcript line: the rejects' details then hold no content.
    """

    lines: list[TranscriptLine]
    rejects: list[LineReject]
    n_lines: int
    n_blank: int
    withheld: bool = False


def is_safe_video_id(video: str) -> bool:
    """Whether ``video`` can name a file inside a folder without escaping it.

    Parameters
    ----------
    video
        A video id as read from a transcript.

    Returns
    -------
    bool
        False for empty ids, ``.`` and ``..``, ids holding a path separator, a drive colon,
        NUL or another control character; True otherwise (YouTube ids such as ``-3g5yACwYnA``
        or ``_dI--eQ6qVU`` are safe).

    Examples
    --------
    >>> is_safe_video_id("--qXJuDtHPw"), is_safe_video_id("../x"), is_safe_video_id("/etc/passwd")
    (True, False, False)
    """
    if not video or video in {".", ".."}:
        return False
    return not any(ch in _UNSAFE_CHARS or ord(ch) < 32 or ord(ch) == 127 for ch in video)


def _decode(raw: bytes, non_utf8: str) -> tuple[str | None, bool]:
    """Text of ``raw`` and whether bytes were replaced; ``None`` when the line must be rejected."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        if non_utf8 == "reject":
            return None, True
        return raw.decode("utf-8", errors="replace"), True


def parse_line(
    raw: bytes | str, *, line_no: int = 0, non_utf8: str = "replace"
) -> TranscriptLine | LineReject:
    """Parse one transcript line, never raising on bad content.

    Parameters
    ----------
    raw
        The line without its newline; bytes are decoded as UTF-8 (a trailing carriage return is dropped).
    line_no
        1-based line number, recorded in the result.
    non_utf8
        ``"replace"`` or ``"reject"``: see the module docstring.

    Returns
    -------
    TranscriptLine or LineReject
        The parsed line, or a reject with reason ``non_utf8``, ``malformed_line``, ``bad_time``
        or ``unsafe_video_id``.

    Raises
    ------
    ParameterError
        If ``non_utf8`` is not one of :data:`NON_UTF8_MODES`.

    Examples
    --------
    >>> parse_line("v1___0___1.5___3.0___so ___ good").text
    'so ___ good'
    >>> parse_line("v1___0___x___3.0___hi").reason
    'bad_time'
    """
    if non_utf8 not in NON_UTF8_MODES:
        raise ParameterError(f"non_utf8 must be one of {NON_UTF8_MODES}, got {non_utf8!r}")
    key = f"line {line_no}"
    replaced = False
    if isinstance(raw, bytes):
        text, replaced = _decode(raw, non_utf8)
        if text is None:
            return LineReject(line_no, "non_utf8", f"line {line_no} is not valid UTF-8: {raw[:80]!r}", key)
    else:
        text = raw
    text = text.rstrip("\r\n")
    fields = text.split(SEPARATOR, 4)
    if len(fields) < 5:
        return LineReject(
            line_no,
            "malformed_line",
            f"line {line_no} has {len(fields)} '___'-separated field(s), expected 5 "
            f"(video___segment___start___end___text): {text[:80]!r}",
            key,
        )
    video, segment, start_s, end_s, body = (field.strip() for field in fields)
    if replaced and any(_REPLACEMENT in field for field in (video, segment, start_s, end_s)):
        return LineReject(
            line_no, "non_utf8", f"line {line_no} has non-UTF-8 bytes in its id or time fields", key
        )
    if not video or not segment:
        return LineReject(
            line_no,
            "malformed_line",
            f"line {line_no} has an empty video or segment field: {text[:80]!r}",
            key,
        )
    if not is_safe_video_id(video):
        return LineReject(
            line_no,
            "unsafe_video_id",
            f"line {line_no}: video id {video!r} would leave the corpus folder as a file name; "
            "ids must not hold '/', '\\', ':', control characters or be '.'/'..'",
            key,
        )
    key = f"{video}{SEPARATOR}{segment}"
    try:
        start, end = float(start_s), float(end_s)
    except ValueError:
        start = end = math.nan
    if not (math.isfinite(start) and math.isfinite(end)):
        return LineReject(
            line_no,
            "bad_time",
            f"line {line_no}: start {start_s!r} and end {end_s!r} must be finite numbers of seconds",
            key,
        )
    return TranscriptLine(video, segment, start, end, body, line_no=line_no, replaced_bytes=replaced)


def segment_problem(line: TranscriptLine, *, needs_audio: bool = True) -> tuple[str, str] | None:
    """The value check of a parsed line: signs and order of its times, and its text.

    Parameters
    ----------
    line
        A parsed line.
    needs_audio
        Whether audio will be cut for it. A zero-length segment has no audio to cut but still
        carries text (real transcripts have a few), so it is only a problem when audio is needed.

    Returns
    -------
    tuple of (str, str) or None
        ``(reason, detail)`` with reason ``reversed_time``, ``zero_length`` or ``empty_text``;
        ``None`` when the line is a usable segment. Negative times are not judged here (real
        MOSEI segments may start a fraction of a second before 0): see
        ``weaklabel.sources.mosei.fit_to_audio``.
    """
    where = f"line {line.line_no}"
    if line.end < line.start:
        return "reversed_time", f"{where}: end {line.end} s is before start {line.start} s"
    if needs_audio and line.end == line.start:
        return "zero_length", f"{where}: start and end are both {line.start} s, no audio to cut"
    if not line.text:
        return "empty_text", f"{where}: no text after the times"
    return None


def iter_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    r"""Yield ``(line_no, raw)`` for each line of ``data``, 1-based, a leading UTF-8 BOM removed.

    Lines end in LF, CRLF or a lone CR, as in Python's universal newlines. The newline that ends
    the last line does not start another (empty) line.

    Examples
    --------
    >>> [raw for _, raw in iter_lines(b"a\rb\r\nc\n")]
    [b'a', b'b', b'c']
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    pieces = _NEWLINE.split(data)
    if pieces and pieces[-1] == b"":
        pieces.pop()
    yield from enumerate(pieces, start=1)


def _withheld(reject: LineReject) -> LineReject:
    """``reject`` without any content of its line: for a file that holds no transcript line."""
    where = f"line {reject.line_no}"
    return LineReject(
        reject.line_no,
        reject.reason,
        f"{where}: {REASONS[reject.reason]}; content not shown, as no line of this file is a transcript line",
        where,
    )


def parse_transcript(data: bytes, *, non_utf8: str = "replace") -> ParsedTranscript:
    """Parse the bytes of one transcript file.

    Parameters
    ----------
    data
        The whole file; LF, CRLF or CR line ends; a UTF-8 BOM is ignored.
    non_utf8
        ``"replace"`` or ``"reject"``: see the module docstring.

    Returns
    -------
    ParsedTranscript
        Well-formed lines and rejects; blank lines are counted apart and hold no record. When no
        line is well formed the rejects' details and keys hold no content of the file (``withheld``).

    Raises
    ------
    ParameterError
        If ``non_utf8`` is not one of :data:`NON_UTF8_MODES`.
    """
    lines: list[TranscriptLine] = []
    rejects: list[LineReject] = []
    n_lines = n_blank = 0
    for number, raw in iter_lines(data):
        if not raw.strip():
            n_blank += 1
            continue
        n_lines += 1
        parsed = parse_line(raw, line_no=number, non_utf8=non_utf8)
        (lines if isinstance(parsed, TranscriptLine) else rejects).append(parsed)
    if n_lines != len(lines) + len(rejects):  # pragma: no cover - an invariant, not an input error
        raise AssertionError(f"{n_lines} lines read but {len(lines)} parsed + {len(rejects)} rejected")
    withheld = bool(rejects) and not lines
    if withheld:
        rejects = [_withheld(reject) for reject in rejects]
    return ParsedTranscript(lines, rejects, n_lines, n_blank, withheld)
