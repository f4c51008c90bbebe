from __future__ import annotations

import pytest

from weaklabel.errors import ParameterError
from weaklabel.sources.transcripts import (
    REASONS,
    LineReject,
    TranscriptLine,
    is_safe_video_id,
    parse_line,
    parse_transcript,
    segment_problem,
)


def test_parses_a_well_formed_line():
    line = parse_line(b"-3g5yACwYnA___2___4.84___14.052___It was really good.", line_no=7)
    assert isinstance(line, TranscriptLine)
    assert (line.video, line.segment, line.start, line.end) == ("-3g5yACwYnA", "2", 4.84, 14.052)
    assert line.text == "It was really good."
    assert line.segment_id == "-3g5yACwYnA___2"
    assert line.line_no == 7 and not line.replaced_bytes
    assert line.duration == pytest.approx(14.052 - 4.84)


def test_text_containing_the_separator_is_kept_whole():
    line = parse_line("v___0___1___2___so ___ good___ really___")
    assert line.text == "so ___ good___ really___"


def test_fields_are_stripped_and_crlf_dropped():
    line = parse_line(b" v1 ___ 3 ___ 1e0 ___ 2.5 ___  hello there  \r")
    assert (line.video, line.segment, line.start, line.end, line.text) == ("v1", "3", 1.0, 2.5, "hello there")


@pytest.mark.parametrize(
    "raw",
    [
        "v___0___1.0___2.0",
        "just some text",
        "v___0___1.0",
        "___0___1.0___2.0___text",
        "v______1.0___2.0___text",
    ],
)
def test_malformed_lines_are_rejected(raw):
    reject = parse_line(raw, line_no=3)
    assert isinstance(reject, LineReject)
    assert reject.reason == "malformed_line"
    assert reject.key == "line 3" and "line 3" in reject.detail


@pytest.mark.parametrize(
    "start,end", [("one", "2.0"), ("1.0", ""), ("nan", "2.0"), ("1.0", "inf"), ("1,5", "2")]
)
def test_non_numeric_or_non_finite_times_are_rejected(start, end):
    reject = parse_line(f"v___0___{start}___{end}___text")
    assert reject.reason == "bad_time"
    assert reject.key == "v___0"


@pytest.mark.parametrize("video", ["../x", "..", ".", "/etc/passwd", "a/b", "a\\b", "C:x", "v\x01", "v\x00x"])
def test_video_ids_that_escape_the_folder_are_rejected(video):
    assert not is_safe_video_id(video)
    reject = parse_line(f"{video}___0___1.0___2.0___text")
    assert reject.reason == "unsafe_video_id"


@pytest.mark.parametrize("video", ["--qXJuDtHPw", "_dI--eQ6qVU", "03bSnISJMiM", "v.1", "...x"])
def test_youtube_like_ids_are_safe(video):
    assert is_safe_video_id(video)


def test_non_utf8_text_is_replaced_and_kept_by_default():
    line = parse_line(b"v___0___1.0___2.0___caf\xe9 au lait")
    assert isinstance(line, TranscriptLine)
    assert line.text == "caf\ufffd au lait"
    assert line.replaced_bytes


def test_non_utf8_in_an_id_field_is_always_rejected():
    reject = parse_line(b"v\xff___0___1.0___2.0___text", line_no=2)
    assert reject.reason == "non_utf8"


def test_non_utf8_can_be_rejected():
    reject = parse_line(b"v___0___1.0___2.0___caf\xe9", non_utf8="reject")
    assert reject.reason == "non_utf8"
    assert parse_line(b"v___0___1.0___2.0___caf\xc3\xa9", non_utf8="reject").text == "caf\u00e9"


def test_unknown_non_utf8_mode_is_a_parameter_error():
    with pytest.raises(ParameterError, match="non_utf8"):
        parse_line(b"v___0___1___2___x", non_utf8="ignore")


def _line(start: float, end: float, text: str = "text") -> TranscriptLine:
    return TranscriptLine("v", "0", start, end, text, line_no=1)


def test_segment_problems():
    assert segment_problem(_line(2.0, 1.0))[0] == "reversed_time"
    assert segment_problem(_line(1.0, 1.0))[0] == "zero_length"
    assert segment_problem(_line(1.0, 1.0), needs_audio=False) is None
    assert segment_problem(_line(1.0, 2.0, ""))[0] == "empty_text"
    assert segment_problem(_line(1.0, 2.0)) is None
    # negative starts are judged against the audio by ingest, not here
    assert segment_problem(_line(-0.4, 2.0)) is None
    assert set(REASONS) >= {"non_utf8", "malformed_line", "bad_time", "unsafe_video_id", "zero_length"}


def test_parse_transcript_counts_conserve_and_skips_blank_lines():
    data = (
        b"\xef\xbb\xbfv___0___0.0___1.0___first\r\n"
        b"\r\n"
        b"v___1___1.0___2.0___second\n"
        b"   \n"
        b"v___2___oops\n"
        b"v___3___2.0___3.0___caf\xe9\n"
    )
    parsed = parse_transcript(data)
    assert parsed.n_lines == 4 and parsed.n_blank == 2
    assert [line.segment for line in parsed.lines] == ["0", "1", "3"]
    assert parsed.lines[0].video == "v"  # the BOM is not part of the id
    assert [line.line_no for line in parsed.lines] == [1, 3, 6]
    assert [(r.line_no, r.reason) for r in parsed.rejects] == [(5, "malformed_line")]
    assert parsed.n_lines == len(parsed.lines) + len(parsed.rejects)
