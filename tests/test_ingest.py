from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.errors import DataError, ParameterError
from weaklabel.sources.mosei import (
    AUDIO_DIR,
    REASONS,
    SEGMENTS_SCHEMA,
    TRANSCRIPT_DIR,
    IngestConfig,
    corpus_facts,
    fit_to_audio,
    ingest_corpus,
    read_corpus_facts,
    write_ingest,
)
from weaklabel.tables import REJECTS_SCHEMA

#: Audio of the synthetic corpus: video -> (seconds, sample rate, channels).
AUDIO = {"v16k": (10.0, 16_000, 1), "v44": (6.0, 44_100, 2)}

#: Transcript lines of the synthetic corpus, each with the reason it must be rejected for (None: kept).
LINES: dict[str, list[tuple[bytes, str | None]]] = {
    "v16k": [
        (b"v16k___1___0.5___2.5___A good start.", None),
        (b"v16k___2___2.5___4.0___it has ___ inside", None),
        (b"v16k___3___4.0___4.0___zero length", "zero_length"),
        (b"v16k___4___5.0___4.5___reversed", "reversed_time"),
        (b"v16k___5___4.5___5.0___", "empty_text"),
        (b"v16k___6___-0.4___3.6___starts a little early", None),
        (b"v16k___7___-3.0___-1.0___wholly before", "negative_time"),
        (b"v16k___8___-3.0___1.0___mostly before", "negative_time"),
        (b"v16k___9___8.0___11.0___runs over a little", None),
        (b"v16k___10___9.0___13.0___mostly after", "past_audio_end"),
        (b"v16k___11___10.5___12.0___after", "after_audio_end"),
        (b"v16k___1___0.5___2.5___a duplicate id", "duplicate_segment"),
        (b"", None),  # blank: not a line
        (b"v16k___12___1.0", "malformed_line"),
        (b"v16k___13___one___2.0___bad time", "bad_time"),
        (b"v16k___14___5.0___6.0___caf\xe9 latin-1", None),
        (b"v16k\xff___15___5.0___6.0___bad id bytes", "non_utf8"),
        (b"../x___16___1.0___2.0___escape", "unsafe_video_id"),
        (b"/etc/passwd___17___1.0___2.0___absolute", "unsafe_video_id"),
        (b"other___18___1.0___2.0___wrong file", "video_mismatch"),
        (b"v16k___19___0.0___9.0___a long segment to crop", None),
        (b"   ", None),  # blank
    ],
    "v44": [(b"v44___0___1.0___5.0___stereo at 44.1 kHz", None), (b"v44___1___5.0___5.9___short", None)],
    "noaudio": [
        (b"noaudio___0___1.0___2.0___no audio here", "missing_audio"),
        (b"noaudio___1___3.0___3.0___zero length but text", "missing_audio"),
    ],
    "broken": [(b"broken___0___0.0___1.0___unreadable audio", "unreadable_audio")],
}


def write_corpus(root: Path, lines=LINES, audio=AUDIO) -> Path:
    """A tiny corpus in the CMU-MOSEI raw layout: WAVs, transcripts, an orphan WAV and a broken one."""
    (root / TRANSCRIPT_DIR).mkdir(parents=True)
    (root / AUDIO_DIR).mkdir(parents=True)
    for video, (seconds, rate, channels) in audio.items():
        sf.write(root / AUDIO_DIR / f"{video}.wav", tone(seconds, sample_rate=rate, channels=channels), rate)
    sf.write(root / AUDIO_DIR / "orphan.wav", tone(1.0), 16_000)
    (root / AUDIO_DIR / "broken.wav").write_bytes(b"RIFF not really a wav file")
    for video, items in lines.items():
        (root / TRANSCRIPT_DIR / f"{video}.txt").write_bytes(b"\n".join(raw for raw, _ in items) + b"\n")
    return root


def expected(lines=LINES) -> tuple[list[str | None], int]:
    """Reasons of the non-blank lines, and their count."""
    reasons = [reason for items in lines.values() for raw, reason in items if raw.strip()]
    return reasons, len(reasons)


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "corpus")


def test_every_case_is_kept_or_rejected_with_its_reason(corpus):
    result = ingest_corpus(corpus, config=IngestConfig())
    reasons, n_lines = expected()
    summary = result.summary
    assert summary["lines_read"] == n_lines == len(result.segments) + len(result.rejects)
    assert summary["blank_lines"] == 2
    assert len(result.segments) == reasons.count(None)
    got = result.rejects["reason"].value_counts().to_dict()
    want = pd.Series([r for r in reasons if r]).value_counts().to_dict()
    assert got == want
    assert set(got) <= set(REASONS)
    assert {k: v for k, v in summary["rejects_by_reason"].items() if v} == want
    assert (result.rejects["stage"] == "ingest").all()
    assert result.rejects["detail"].str.len().min() > 10
    by_key = dict(zip(result.rejects["key"], result.rejects["reason"], strict=True))
    assert by_key["v16k___10"] == "past_audio_end" and by_key["v16k___8"] == "negative_time"
    assert by_key["noaudio___0"] == "missing_audio"
    dup = result.rejects[result.rejects["reason"] == "duplicate_segment"]
    assert dup["source"].tolist() == ["Transcript/Segmented/Combined/v16k.txt"]
    assert "line 1" in dup["detail"].iloc[0]


def test_kept_segments_have_clipped_times_text_and_audio_columns(corpus):
    segments = ingest_corpus(corpus, config=IngestConfig()).segments.set_index("segment_id")
    assert list(segments.reset_index().columns) == SEGMENTS_SCHEMA.names
    assert segments.loc["v16k___6", ["start", "end"]].tolist() == [0.0, 3.6]  # clipped at 0
    assert segments.loc["v16k___9", ["start", "end"]].tolist() == [8.0, 10.0]  # clipped at the end
    assert segments.loc["v16k___9", "duration"] == pytest.approx(2.0)
    assert segments.loc["v16k___2", "text"] == "it has ___ inside"
    assert segments.loc["v16k___14", "text"] == "caf\ufffd latin-1"
    assert segments.loc["v16k___1", "text"] == "A good start."  # the first of the duplicates wins
    v44 = segments.loc["v44___0"]
    assert v44["sample_rate"] == 44_100 and v44["audio_seconds"] == pytest.approx(6.0)
    assert v44["audio_path"].endswith("Audio/Full/WAV_16000/v44.wav")
    assert Path(v44["audio_path"]).is_file()
    assert segments["gold_sentiment"].isna().all() and segments["gold_split"].isna().all()
    assert (segments["duration"] > 0).all()
    assert (segments["end"] <= segments["audio_seconds"]).all() and (segments["start"] >= 0).all()


def test_summary_counts(corpus):
    summary = ingest_corpus(corpus, config=IngestConfig()).summary
    assert summary["videos"] == 2 and summary["videos_with_audio"] == 2
    assert summary["videos_without_audio"] == 2  # noaudio (missing) and broken (unreadable)
    assert summary["audio_files_without_transcript"] == 1  # orphan.wav
    assert summary["clipped_start"] == 1 and summary["clipped_end"] == 1
    assert summary["non_utf8_replaced"] == 1
    assert summary["audio_hours"] == pytest.approx(16.0 / 3600)
    kept = [2.0, 1.5, 3.6, 2.0, 1.0, 9.0, 4.0, 0.9]
    assert summary["hours"] == pytest.approx(sum(kept) / 3600)
    json.dumps(summary)  # serialisable as the DVC metrics file


def test_text_only_keeps_segments_without_audio(corpus):
    result = ingest_corpus(corpus, config=IngestConfig(text_only=True))
    segments = result.segments.set_index("segment_id")
    for key in ["noaudio___0", "noaudio___1", "broken___0"]:
        assert segments.loc[key, ["audio_path", "sample_rate", "audio_seconds"]].isna().all()
    # no audio to cut, so a zero-length segment keeps its text; with audio it is still rejected
    assert segments.loc["noaudio___1", "duration"] == 0.0
    assert "v16k___3" not in segments.index
    assert "missing_audio" not in set(result.rejects["reason"])
    assert result.summary["segments_without_audio"] == 3
    assert result.summary["lines_read"] == len(result.segments) + len(result.rejects)


def test_non_utf8_reject_mode(corpus):
    result = ingest_corpus(corpus, config=IngestConfig(non_utf8="reject"))
    assert "v16k___14" not in set(result.segments["segment_id"])
    assert (result.rejects["reason"] == "non_utf8").sum() == 2
    assert result.summary["lines_read"] == len(result.segments) + len(result.rejects)


def test_min_inside_fraction_decides_clip_or_reject(corpus):
    strict = ingest_corpus(corpus, config=IngestConfig(min_inside_fraction=1.0))
    reasons = dict(zip(strict.rejects["key"], strict.rejects["reason"], strict=True))
    assert reasons["v16k___6"] == "negative_time" and reasons["v16k___9"] == "past_audio_end"
    loose = ingest_corpus(corpus, config=IngestConfig(min_inside_fraction=0.2))
    kept = loose.segments.set_index("segment_id")
    assert kept.loc["v16k___10", ["start", "end"]].tolist() == [9.0, 10.0]
    assert kept.loc["v16k___8", ["start", "end"]].tolist() == [0.0, 1.0]


def test_fit_to_audio():
    assert fit_to_audio(1.0, 2.0, audio_seconds=5.0, min_inside_fraction=0.5) == (1.0, 2.0, None)
    assert fit_to_audio(4.0, 6.0, audio_seconds=5.0, min_inside_fraction=0.5) == (4.0, 5.0, None)
    assert fit_to_audio(4.0, 7.0, audio_seconds=5.0, min_inside_fraction=0.5)[2][0] == "past_audio_end"
    assert fit_to_audio(5.0, 7.0, audio_seconds=5.0, min_inside_fraction=0.5)[2][0] == "after_audio_end"
    assert fit_to_audio(-2.0, 0.0, audio_seconds=5.0, min_inside_fraction=0.5)[2][0] == "negative_time"
    assert fit_to_audio(-1.0, 3.0, audio_seconds=np.inf, min_inside_fraction=0.5) == (0.0, 3.0, None)
    assert fit_to_audio(2.0, 2.0, audio_seconds=np.inf, min_inside_fraction=0.5) == (2.0, 2.0, None)


def test_audio_headers_are_read_once_per_video_and_samples_never(corpus, monkeypatch):
    import weaklabel.audio.io
    import weaklabel.sources.mosei

    calls = []
    real = weaklabel.sources.mosei.audio_info
    monkeypatch.setattr(
        weaklabel.sources.mosei, "audio_info", lambda path: calls.append(Path(path).stem) or real(path)
    )

    def no_samples(*args, **kwargs):
        raise AssertionError("ingest must not decode samples")

    for name in ("read", "buffer_read", "blocks"):  # the header may be opened, the samples never read
        monkeypatch.setattr(weaklabel.audio.io.sf.SoundFile, name, no_samples)
    monkeypatch.setattr(weaklabel.audio.io.sf, "read", no_samples)
    ingest_corpus(corpus, config=IngestConfig())
    assert sorted(calls) == ["broken", "v16k", "v44"]


def test_gold_is_matched_on_transcript_times(corpus):
    gold = pd.DataFrame(
        {
            "video": ["v16k", "v16k", "v44"],
            "segment": ["6", "9", "0"],
            "start": [-0.4, 8.0, 1.1],
            "end": [3.6, 11.0, 5.0],
            "sentiment": [2.0, -1.0, 0.4],
            "split": ["train", "test", None],
        }
    ).astype({"video": "string", "segment": "string", "split": "string"})
    result = ingest_corpus(corpus, config=IngestConfig(gold_tolerance_s=0.2), gold=gold)
    segments = result.segments.set_index("segment_id")
    # v16k___6 and ___9 were clipped, but gold matches the times the transcript gave
    assert segments.loc["v16k___6", "gold_sentiment"] == 2.0
    assert segments.loc["v16k___9", "gold_split"] == "test"
    assert segments.loc["v44___0", "gold_sentiment"] == 0.4 and pd.isna(segments.loc["v44___0", "gold_split"])
    assert result.summary["gold"]["segments_with_gold"] == 3


def test_gold_file_rejects_are_kept_apart(corpus, tmp_path):
    path = tmp_path / "gold.csv"
    path.write_text("video,segment,start,end,sentiment\nv16k,1,0.5,2.5,1.0\nv16k,2,2.5,4.0,9\n")
    result = ingest_corpus(corpus, config=IngestConfig(), gold=path)
    assert result.gold_rejects["reason"].tolist() == ["gold_out_of_range"]
    assert result.summary["lines_read"] == len(result.segments) + len(result.rejects)
    gold = result.summary["gold"]
    assert gold["rows_read"] == 2 and gold["rows_rejected"] == 1 and gold["segments_with_gold"] == 1


def test_write_ingest(corpus, tmp_path):
    result = ingest_corpus(corpus, config=IngestConfig(text_only=True))
    paths = write_ingest(result, tmp_path / "out", report=tmp_path / "reports" / "ingest.json")
    assert pq.read_schema(paths["segments"]).equals(SEGMENTS_SCHEMA, check_metadata=False)
    assert pq.read_schema(paths["rejects"]).equals(REJECTS_SCHEMA, check_metadata=False)
    table = pd.read_parquet(paths["segments"])
    assert table["audio_path"].isna().sum() == 3 and table["sample_rate"].isna().sum() == 3
    assert json.loads(paths["report"].read_text())["lines_read"] == result.summary["lines_read"]
    assert write_ingest(result, tmp_path / "out2")["report"] == tmp_path / "out2" / "ingest.json"


def test_speakers_come_from_speakers_csv_else_the_video(corpus):
    segments = ingest_corpus(corpus, config=IngestConfig()).segments
    assert (segments["speaker"] == segments["video"]).all()  # no speakers.csv: the video (approximation)
    (corpus / "speakers.csv").write_text("video,speaker\nv16k,anna\nv44, anna \n")
    segments = ingest_corpus(corpus, config=IngestConfig()).segments
    assert set(segments["speaker"]) == {"anna"}
    (corpus / "speakers.csv").write_text("video,speaker\nv16k,anna\n")  # v44 unlisted: its own speaker
    segments = ingest_corpus(corpus, config=IngestConfig()).segments
    assert set(segments["speaker"]) == {"anna", "v44"}
    for text, message in (
        ("video,who\nv16k,anna\n", r"lacks column\(s\) \['speaker'\]"),
        ("video,speaker\nv16k,\n", "line 2 has an empty video or speaker"),
        ("video,speaker\nv16k,anna\nv16k,bob\n", "gives video 'v16k' more than one speaker"),
    ):
        (corpus / "speakers.csv").write_text(text)
        with pytest.raises(DataError, match=message):
            ingest_corpus(corpus, config=IngestConfig())


def test_corpus_json_says_demo_or_mosei(corpus, tmp_path):
    result = ingest_corpus(corpus, config=IngestConfig())
    assert result.corpus == {"kind": "mosei", "speakers": "video"}
    paths = write_ingest(result, tmp_path / "out")
    assert read_corpus_facts(paths["corpus"]) == result.corpus
    (corpus / "demo.json").write_text(json.dumps({"corpus": "demo", "affect_strength": 0.0, "counts": {}}))
    (corpus / "speakers.csv").write_text("video,speaker\nv16k,anna\n")
    facts = corpus_facts(corpus)
    assert facts["kind"] == "demo" and facts["affect_strength"] == 0.0 and facts["speakers"] == "speakers.csv"
    assert read_corpus_facts(tmp_path / "absent.json")["kind"] == "mosei"
    (tmp_path / "bad.json").write_text('{"kind": "video"}')
    with pytest.raises(DataError, match="expected one of"):
        read_corpus_facts(tmp_path / "bad.json")
    (corpus / "demo.json").write_text("{not json")
    with pytest.raises(DataError, match="is not JSON"):
        corpus_facts(corpus)


def test_reruns_are_identical(corpus):
    first = ingest_corpus(corpus, config=IngestConfig())
    second = ingest_corpus(corpus, config=IngestConfig())
    pd.testing.assert_frame_equal(first.segments, second.segments)
    pd.testing.assert_frame_equal(first.rejects, second.rejects)


def test_corpus_without_transcripts_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="Transcript/Segmented/Combined"):
        ingest_corpus(tmp_path, config=IngestConfig())
    (tmp_path / TRANSCRIPT_DIR).mkdir(parents=True)
    with pytest.raises(DataError, match="no <video>.txt"):
        ingest_corpus(tmp_path, config=IngestConfig())


@pytest.mark.parametrize(
    "override",
    [
        {"min_inside_fraction": 0},
        {"min_inside_fraction": 1.5},
        {"gold_tolerance_s": -1},
        {"text_only": "yes"},
    ],
)
def test_config_validation(override):
    with pytest.raises(ParameterError, match="ingest."):
        IngestConfig(**override)


def test_cli_subcommand(corpus, tmp_path, monkeypatch, capsys):
    from weaklabel.cli import main

    monkeypatch.chdir(tmp_path)  # no params.yaml here: defaults
    assert main(["ingest", str(corpus), "--text-only", "--out", "out"]) == 0
    summary = json.loads((tmp_path / "reports" / "ingest.json").read_text())
    assert summary["text_only"] is True
    assert "rejected zero_length: 1" in capsys.readouterr().out
    (tmp_path / "params.yaml").write_text(f"data:\n  corpus: {corpus}\ningest:\n  min_inside_fraction: 1.0\n")
    assert main(["ingest", "--out", "out2", "--report", "out2/ingest.json"]) == 0  # CORPUS from data.corpus
    summary = json.loads((tmp_path / "out2" / "ingest.json").read_text())
    assert summary["rejects_by_reason"]["past_audio_end"] == 2


def test_pipeline_stage(corpus, tmp_path, monkeypatch):
    from pipelines import ingest as stage

    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text("ingest:\n  text_only: false\n")
    stage.main(["--in", str(corpus), "--gold", "", "--out", "data/ingest", "--report", "reports/ingest.json"])
    summary = json.loads((tmp_path / "reports" / "ingest.json").read_text())
    segments = pd.read_parquet(tmp_path / "data/ingest/segments.parquet")
    rejects = pd.read_parquet(tmp_path / "data/ingest/rejects.parquet")
    assert summary["lines_read"] == len(segments) + len(rejects)
    assert summary["gold"] is None


# --- real data -------------------------------------------------------------------------------------
def test_mosi_without_audio_is_all_missing_audio_and_fast(shared_data):
    began = time.perf_counter()
    result = ingest_corpus(shared_data / "mosi", config=IngestConfig())
    assert time.perf_counter() - began < 10
    assert result.summary["lines_read"] == 2_199 == len(result.rejects)
    assert result.segments.empty
    assert set(result.rejects["reason"]) == {"missing_audio"}
    assert result.summary["videos_without_audio"] == 93


def test_mosi_text_only_keeps_every_gold_sentiment(shared_data):
    gold_path = shared_data / "mosi" / "mosi_segments_gold.csv"
    result = ingest_corpus(shared_data / "mosi", config=IngestConfig(text_only=True), gold=gold_path)
    assert len(result.segments) == 2_199 and result.rejects.empty
    gold = pd.read_csv(gold_path, dtype={"video_id": str, "segment": str})
    merged = result.segments.merge(gold, left_on=["video", "segment"], right_on=["video_id", "segment"])
    assert len(merged) == 2_199
    np.testing.assert_array_equal(merged["gold_sentiment"], merged["sentiment"])
    assert result.summary["gold"]["gold_rows_unmatched"] == 0
    assert result.summary["gold"]["gold_rows_matched_twice"] == 0


def test_matches_the_mosei_labels_csv(shared_data, tmp_path):
    path = shared_data / "mosei_labels" / "CMU_MOSEI_Labels.csv"
    labels = pd.read_csv(path, dtype={"file": str})
    assert {"file", "index", "start", "end", "label7", "split"} <= set(labels.columns)
    # three videos: one whose first segment starts before 0 s, and two from other folds
    first_negative = labels.loc[labels["start"] < 0, "file"].iloc[0]
    videos = [first_negative, *labels.loc[labels["split"] == 2, "file"].unique()[:1]]
    videos += list(labels.loc[labels["split"] == 1, "file"].unique()[:1])
    rows = labels[labels["file"].isin(videos)]
    lines = {video: [] for video in videos}
    rng = np.random.default_rng(0)
    for row in rows.itertuples():
        jitter = rng.uniform(-0.05, 0.05, size=2)  # raw transcripts round times differently
        start, end = row.start + jitter[0], row.end + jitter[1]
        lines[row.file].append((f"{row.file}___{row.index}___{start}___{end}___words".encode(), None))
    lines[videos[0]].append((f"{videos[0]}___999___5000___5003___no gold here".encode(), None))
    root = write_corpus(tmp_path / "mosei", lines=lines, audio={})
    result = ingest_corpus(root, config=IngestConfig(text_only=True), gold=path)
    segments = result.segments.set_index("segment_id")
    assert len(segments) == len(rows) + 1
    want = rows.set_index(rows["file"] + "___" + rows["index"].astype(str))
    np.testing.assert_array_equal(segments.loc[want.index, "gold_sentiment"], want["label7"].astype(float))
    splits = want["split"].map({0: "train", 1: "valid", 2: "test", 3: None})
    assert segments.loc[want.index, "gold_split"].fillna("none").tolist() == splits.fillna("none").tolist()
    assert {"valid", "test"} <= set(segments["gold_split"].dropna())
    assert pd.isna(segments.loc[f"{videos[0]}___999", "gold_sentiment"])
    assert segments.loc[want.index, "start"].min() >= 0  # the negative start was clipped


def test_manifest_ingest_writes_speakers_and_corpus_json(tmp_path):
    from weaklabel.sources.manifest_ingest import ingest_manifest

    rows = ["path,label,group,corpus"]
    for i, speaker in enumerate(["03", "03", "08"]):
        sf.write(tmp_path / f"f{i}.wav", tone(1.0), 16_000)
        rows.append(f"f{i}.wav,{i % 2},{speaker},emodb")
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    ingest_manifest(tmp_path / "manifest.csv", tmp_path / "out")
    segments = pd.read_parquet(tmp_path / "out" / "segments.parquet")
    assert segments["speaker"].tolist() == ["emodb_03", "emodb_03", "emodb_08"]
    facts = read_corpus_facts(tmp_path / "out" / "corpus.json")
    assert facts == {"kind": "manifest", "speakers": "group", "corpora": ["emodb"]}
