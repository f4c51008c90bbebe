from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import tone
from tests.test_ingest import write_corpus
from weaklabel.audio.clips import (
    CLIPS_SCHEMA,
    WINDOWS,
    ClipConfig,
    clip_window,
    fix_length,
    load_clip,
    plan_clips,
    plan_clips_or_reject,
)
from weaklabel.errors import ParameterError
from weaklabel.sources.mosei import IngestConfig, ingest_corpus

RATE = 16_000


@pytest.fixture
def ramp_wav(tmp_path):
    """30 s at 16 kHz whose every sample is distinct (float WAV: stored exactly)."""
    ramp = (np.arange(30 * RATE, dtype=np.float64) / (30 * RATE)).astype(np.float32)
    path = tmp_path / "ramp.wav"
    sf.write(path, ramp, RATE, subtype="FLOAT")
    return path, ramp


def _segments(path, spans: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = [(key, str(path), start, end - start) for key, (start, end) in spans.items()]
    return pd.DataFrame(rows, columns=["segment_id", "audio_path", "start", "duration"])


SPANS = {"long": (2.0, 12.5), "short": (14.0, 17.25), "exact": (20.0, 27.0), "tiny": (28.0, 28.1)}


def test_config_validation_and_length():
    assert ClipConfig().length == 7 * RATE
    assert ClipConfig(length_s=0.5, sample_rate=8_000).length == 4_000
    with pytest.raises(ParameterError, match="clips.length_s"):
        ClipConfig(length_s=0)
    with pytest.raises(ParameterError, match="clips.sample_rate"):
        ClipConfig(sample_rate=-1)
    assert ClipConfig().window == "random" and WINDOWS == ("random", "centre", "full")
    with pytest.raises(ParameterError, match="clips.window must be one of random, centre, full"):
        ClipConfig(window="middle")


def test_random_window_keeps_the_plans_made_before_windows_were_a_setting():
    """Offsets of the seeded random window, as plans recorded them before it became a setting."""
    segments = _segments("r.wav", SPANS)
    recorded = {
        0: [(4.7071875, 2.7071875, 0), (14.0, 0.0, 57215), (20.0, 0.0, 0), (28.0, 0.0, 75055)],
        3: [(5.0859375, 3.0859375, 0), (14.0, 0.0, 25913), (20.0, 0.0, 0), (28.0, 0.0, 31405)],
    }
    for seed, rows in recorded.items():
        plan = plan_clips(segments, ClipConfig(seed=seed, window="random"))
        assert list(zip(plan["read_start"], plan["crop_offset"], plan["pad_left"], strict=True)) == rows
        assert plan["read_seconds"].tolist() == [7.0, 3.25, 7.0, 0.1]
        pd.testing.assert_frame_equal(plan, plan_clips(segments, ClipConfig(seed=seed)))  # the default


def test_centre_window_crops_and_pads_in_the_middle(ramp_wav):
    path, ramp = ramp_wav
    segments = _segments(path, SPANS)
    plan = plan_clips(segments, ClipConfig(window="centre", seed=1)).set_index("segment_id")
    pd.testing.assert_frame_equal(
        plan.reset_index(), plan_clips(segments, ClipConfig(window="centre", seed=2))
    )  # no seed in it
    length = 7 * RATE
    for key, (start, end) in SPANS.items():
        n = round((end - start) * RATE)
        crop, pad = clip_window(n, length, rng=None)
        clip = plan.loc[key]
        assert (clip["crop_offset"], clip["pad_left"]) == (crop / RATE, pad)
        assert clip["read_start"] == start + crop / RATE and clip["read_seconds"] == min(n, length) / RATE
    long = load_clip(plan.loc["long"])  # 10.5 s: 1.75 s cut off each end
    first = round(3.75 * RATE)
    np.testing.assert_array_equal(long, ramp[first : first + length])
    short = load_clip(plan.loc["short"])  # 3.25 s: 1.875 s of silence on each side
    pad = (length - round(3.25 * RATE)) // 2
    assert not short[:pad].any() and not short[-pad:].any() and short[pad] == ramp[14 * RATE]


def test_full_window_holds_every_sample_unpadded_at_the_start(ramp_wav):
    path, ramp = ramp_wav
    segments = _segments(path, SPANS)
    plan = plan_clips(segments, ClipConfig(window="full", length_s=1.0))  # length_s does not cut
    longest = round(10.5 * RATE)
    assert (plan["length"] == longest).all() and (plan["pad_left"] == 0).all()
    assert (plan["crop_offset"] == 0).all() and plan["read_start"].tolist() == [2.0, 14.0, 20.0, 28.0]
    assert plan["read_seconds"].tolist() == pytest.approx([10.5, 3.25, 7.0, 0.1])
    for clip, (start, end) in zip(plan.itertuples(index=False), SPANS.values(), strict=True):
        audio, n = load_clip(clip), round((end - start) * RATE)
        np.testing.assert_array_equal(audio[:n], ramp[round(start * RATE) : round(start * RATE) + n])
        assert audio.shape == (longest,) and not audio[n:].any()
    assert plan_clips(segments.iloc[:0], ClipConfig(window="full")).empty


def test_every_clip_has_exactly_the_length(ramp_wav):
    path, _ = ramp_wav
    config = ClipConfig()
    plan = plan_clips(_segments(path, SPANS), config)
    assert list(plan.columns) == CLIPS_SCHEMA.names
    for clip in plan.itertuples(index=False):
        audio = load_clip(clip)
        assert audio.shape == (config.length,) and audio.dtype == np.float32


def test_offsets_are_recorded_and_within_bounds(ramp_wav):
    path, _ = ramp_wav
    config = ClipConfig()
    plan = plan_clips(_segments(path, SPANS), config).set_index("segment_id")
    for key, (start, end) in SPANS.items():
        clip = plan.loc[key]
        duration = end - start
        assert clip["read_start"] >= start - 1e-9
        assert clip["read_start"] + clip["read_seconds"] <= end + 1 / RATE
        assert clip["read_seconds"] == pytest.approx(min(duration, 7.0), abs=1 / RATE)
        assert clip["read_start"] == pytest.approx(start + clip["crop_offset"])
        if duration > 7.0:  # cropped: no padding, offset within the slack
            assert clip["pad_left"] == 0 and 0 <= clip["crop_offset"] <= duration - 7.0 + 1e-9
        else:  # padded: no crop, the audio fits after the left padding
            assert clip["crop_offset"] == 0
            assert 0 <= clip["pad_left"] <= config.length - round(duration * RATE)
    assert plan.loc["exact", ["crop_offset", "pad_left"]].tolist() == [0.0, 0]


def test_offsets_are_random_across_segments_and_seeds(ramp_wav):
    path, _ = ramp_wav
    spans = {f"s{i}": (0.0, 3.0) for i in range(20)} | {f"l{i}": (0.0, 20.0) for i in range(20)}
    plan = plan_clips(_segments(path, spans), ClipConfig())
    assert plan["pad_left"].iloc[:20].nunique() > 10
    assert plan["crop_offset"].iloc[20:].nunique() > 10
    other = plan_clips(_segments(path, spans), ClipConfig(seed=1))
    assert not np.array_equal(plan["pad_left"], other["pad_left"])


def test_reruns_are_identical_and_independent_of_other_segments(ramp_wav):
    path, _ = ramp_wav
    segments = _segments(path, SPANS)
    first = plan_clips(segments, ClipConfig(seed=3))
    pd.testing.assert_frame_equal(first, plan_clips(segments, ClipConfig(seed=3)))
    # a clip keeps its offset whatever other segments are planned with it, in any order
    alone = plan_clips(segments[segments["segment_id"] == "long"], ClipConfig(seed=3))
    shuffled = plan_clips(segments.iloc[::-1], ClipConfig(seed=3)).set_index("segment_id")
    pd.testing.assert_series_equal(alone.iloc[0], first.iloc[0], check_names=False)
    pd.testing.assert_frame_equal(shuffled.loc[first["segment_id"]].reset_index(), first)


def test_load_clip_reads_the_right_samples(ramp_wav):
    path, ramp = ramp_wav
    plan = plan_clips(_segments(path, SPANS), ClipConfig(seed=7)).set_index("segment_id")
    # cropped: a contiguous 7 s run of the source starting crop_offset into the segment
    long = plan.loc["long"]
    first = round(2.0 * RATE) + round(long["crop_offset"] * RATE)
    np.testing.assert_array_equal(load_clip(long), ramp[first : first + 7 * RATE])
    # padded: zeros, then the whole segment, then zeros
    short = plan.loc["short"]
    clip = load_clip(short)
    n, pad = round(3.25 * RATE), int(short["pad_left"])
    np.testing.assert_array_equal(clip[pad : pad + n], ramp[14 * RATE : 14 * RATE + n])
    assert not clip[:pad].any() and not clip[pad + n :].any()


def test_centred_mode():
    assert clip_window(10, 6, rng=None) == (2, 0)  # crop 2 off the start, 2 off the end
    assert clip_window(4, 10, rng=None) == (0, 3)  # pad 3 before, 3 after
    assert clip_window(7, 7, rng=None) == (0, 0)
    audio = np.arange(1, 5, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(audio, 8, pad_left=2), [0, 0, 1, 2, 3, 4, 0, 0])
    np.testing.assert_array_equal(fix_length(np.arange(10.0), 6, crop_start=2), np.arange(2.0, 8.0))
    rng = np.random.default_rng(0)
    for _ in range(50):
        crop, pad = clip_window(5, 12, rng=rng)
        assert crop == 0 and 0 <= pad <= 7


def test_stereo_44k_source_is_resampled_and_downmixed(tmp_path):
    path = tmp_path / "stereo.wav"
    left = tone(8.0, sample_rate=44_100, freq=440.0)
    sf.write(path, np.stack([left, 0.5 * left], axis=1), 44_100, subtype="FLOAT")
    plan = plan_clips(_segments(path, {"s": (1.0, 4.0)}), ClipConfig())
    clip = load_clip(plan.iloc[0])
    assert clip.shape == (7 * RATE,)
    pad = int(plan["pad_left"].iloc[0])
    speech = clip[pad + 800 : pad + 3 * RATE - 800]
    assert np.abs(speech).max() == pytest.approx(0.375, rel=0.02)  # mean of 0.5 and 0.25
    spectrum = np.abs(np.fft.rfft(speech))
    assert np.fft.rfftfreq(speech.size, 1 / RATE)[spectrum.argmax()] == pytest.approx(440, abs=2)


def test_segments_without_audio_become_rejects(tmp_path):
    corpus = write_corpus(tmp_path / "corpus")
    segments = ingest_corpus(corpus, config=IngestConfig(text_only=True)).segments
    clips, rejects = plan_clips_or_reject(segments, ClipConfig())
    assert len(clips) + len(rejects) == len(segments)
    assert set(rejects["reason"]) == {"no_audio"} and (rejects["stage"] == "clips").all()
    assert sorted(rejects["key"]) == ["broken___0", "noaudio___0", "noaudio___1"]
    assert clips["audio_path"].notna().all()
    # through the ingest table: 44.1 kHz stereo and 16 kHz mono sources alike give 7 s at 16 kHz
    for clip in clips.itertuples(index=False):
        assert load_clip(clip).shape == (7 * RATE,)


def test_pipeline_stage(tmp_path, monkeypatch):
    from pipelines import clips as stage
    from weaklabel.sources.mosei import write_ingest

    corpus = write_corpus(tmp_path / "corpus")
    result = ingest_corpus(corpus, config=IngestConfig(text_only=True))
    write_ingest(result, tmp_path / "data/ingest")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "params.yaml").write_text(
        "clips:\n  length_s: 2.0\n  seed: 5\n  sample_rate: 8000\nmel:\n  sample_rate: 8000\n  fmax: 4000.0\n"
    )
    out, rejects = tmp_path / "data/clips/clips.parquet", tmp_path / "data/clips/rejects.parquet"
    stage.main(["--in", "data/ingest/segments.parquet", "--out", str(out), "--rejects", str(rejects)])
    clips = pd.read_parquet(out)
    assert len(clips) + len(pd.read_parquet(rejects)) == len(result.segments)
    assert (clips["length"] == 16_000).all() and (clips["sample_rate"] == 8_000).all()
    assert load_clip(clips.iloc[0]).shape == (16_000,)
