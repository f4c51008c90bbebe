"""The synthesized demo corpus: sentence files, espeak-ng wrapper, layout, timing, affect, determinism."""

from __future__ import annotations

import csv
import dataclasses
import filecmp
import json
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import tone
from weaklabel.config import from_mapping
from weaklabel.demo import (
    AFFECT,
    PROBE_VOICES,
    SPEAKERS,
    DemoConfig,
    affect_prosody,
    build_demo_corpus,
    load_probes,
    load_sentences,
    synthesize,
)
from weaklabel.demo import corpus as corpus_module
from weaklabel.demo.corpus import (
    AFFECT_INTENSITY,
    PAIR_TOLERANCE,
    deal_corpus,
    deal_sentences,
    pair_by_length,
    split_count,
)
from weaklabel.demo.speech import speech_bounds
from weaklabel.errors import DataError, MissingDependencyError, ParameterError
from weaklabel.labels.labellers import LabelConfig, label_texts

SR = 16_000
VIDEO_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*[A-Za-z0-9]")
#: Tests that run espeak-ng skip, saying how to install it, where it is absent (CI installs it).
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng not installed: sudo apt-get install espeak-ng"
)
TINY = DemoConfig(videos=2, seed=0, affect_strength=1.0, sentences_min=8, sentences_max=10, workers=2)


def _tiny(**overrides) -> DemoConfig:
    return dataclasses.replace(TINY, **overrides)


def _segments(root: Path) -> list[tuple[str, int, str, str, str]]:
    """Every transcript line of a corpus as (video, segment, start, end, text), in file order."""
    rows = []
    for path in sorted((root / "Transcript/Segmented/Combined").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            video, segment, start, end, text = line.split("___")
            assert video == path.stem
            rows.append((video, int(segment), start, end, text))
    return rows


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _median_f0(audio: np.ndarray) -> float:
    import librosa

    return float(np.median(librosa.yin(audio, fmin=60, fmax=500, sr=SR, frame_length=1024)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed: sudo apt-get install espeak-ng")
    root = tmp_path_factory.mktemp("demo") / "corpus"
    build_demo_corpus(root, config=TINY, progress=False)
    return root


# --- the shipped text -----------------------------------------------------------------------------


def test_sentence_files_have_enough_varied_sentences():
    sentences = load_sentences()
    assert {k: len(v) >= n for (k, v), n in zip(sentences.items(), (150, 150, 100), strict=True)} == {
        "positive": True,
        "negative": True,
        "neutral": True,
    }
    for polarity, rows in sentences.items():
        assert all(row.polarity == polarity and -3 <= row.sentiment <= 3 for row in rows)
        assert all("___" not in row.text and "\n" not in row.text for row in rows)
        words = [len(row.text.split()) for row in rows]
        assert min(words) <= 4 and max(words) >= 30  # about 1 s to about 15 s spoken
        assert len({row.text for row in rows}) == len(rows), f"duplicate {polarity} sentence"
    assert {row.sentiment for row in sentences["positive"]} == {1, 2, 3}
    assert {row.sentiment for row in sentences["negative"]} == {-1, -2, -3}


def test_default_weak_labels_agree_with_every_sentence_polarity():
    """With the default label settings every positive sentence is labelled 1, every negative 0 and
    every neutral abstains, so the length-matched pairs keep the weak labels balanced in each video
    (an abstaining half of a pair would tilt a speaker's label balance, which pooled out-of-fold
    scores turn into an AUC below chance even for a model that hears nothing)."""
    for polarity, rows in load_sentences().items():
        labels = label_texts([row.text for row in rows], config=LabelConfig())["label"].to_numpy()
        expected = {"positive": 1, "negative": 0, "neutral": -1}[polarity]
        wrong = [row.text for row, label in zip(rows, labels, strict=True) if label != expected]
        assert not wrong, f"{polarity} sentences the weak labeller disagrees with: {wrong}"


def test_probe_file_covers_seven_languages_and_both_polarities():
    probes = load_probes()
    assert set(PROBE_VOICES) == {"english", "french", "russian", "armenian", "german", "italian", "spanish"}
    for language in PROBE_VOICES:
        for polarity in ("positive", "negative"):
            assert sum(p.language == language and p.polarity == polarity for p in probes) >= 3


# --- speech.py --------------------------------------------------------------------------------------


@needs_espeak
def test_synthesize_returns_trimmed_16k_speech():
    audio = synthesize("What a lovely day.", voice="en+f3", pitch=60, rate=160)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.5 < audio.size / SR < 3.0
    assert np.abs(audio).max() <= 1.0
    head, tail = audio[: SR // 50], audio[-SR // 50 :]
    assert _rms(head) > 1e-3 and _rms(tail) > 1e-4  # starts and ends on speech, not on padding


@needs_espeak
def test_synthesize_prosody_arguments_change_the_voice():
    text = "The camera is excellent and the battery lasts all day."
    low = _median_f0(synthesize(text, voice="en-us", pitch=30))
    high = _median_f0(synthesize(text, voice="en-us", pitch=70))
    assert high > 1.2 * low
    slow = synthesize(text, voice="en-us", rate=120)
    fast = synthesize(text, voice="en-us", rate=220)
    assert slow.size > 1.4 * fast.size


@needs_espeak
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"text": "  "}, "non-empty"),
        ({"text": "hi", "pitch": 120}, "pitch must lie in 0..99"),
        ({"text": "hi", "rate": 20}, "rate must lie in 80..450"),
        ({"text": "hi", "pitch_range": -1}, "pitch_range"),
        ({"text": "hi", "voice": "xx-nope"}, "no voice 'xx-nope'"),
    ],
)
def test_synthesize_rejects_bad_arguments(kwargs, match):
    text = kwargs.pop("text")
    with pytest.raises(ParameterError, match=match):
        synthesize(text, **kwargs)


@needs_espeak
def test_synthesize_escapes_markup_characters():
    audio = synthesize("Tom & Jerry <3 > everything", voice="en-us")
    assert audio.size > SR // 2


def test_speech_bounds_finds_the_tone_inside_silence():
    audio = np.concatenate([np.zeros(SR // 2, np.float32), tone(1.0), np.zeros(SR // 4, np.float32)])
    start, end = speech_bounds(audio, SR)
    assert abs(start - SR // 2) <= SR // 100 and abs(end - (SR // 2 + SR)) <= SR // 100
    assert speech_bounds(np.zeros(100), SR) == (0, 0)


def test_missing_espeak_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on this PATH
    with pytest.raises(MissingDependencyError, match="apt-get install espeak-ng"):
        synthesize("hello")
    out = tmp_path / "corpus"
    with pytest.raises(MissingDependencyError, match="apt-get install espeak-ng"):
        build_demo_corpus(out, config=_tiny(videos=1))
    assert not out.exists()  # fails before writing anything


# --- config and prosody -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"videos": 0},
        {"affect_strength": 1.5},
        {"affect_strength": -0.1},
        {"sentences_min": 12, "sentences_max": 8},
        {"pause_min_s": 0.0},
        {"pause_min_s": 2.0, "pause_max_s": 1.0},
        {"noise_db": 0.0},
        {"workers": 0},
    ],
)
def test_config_rejects_bad_values(overrides):
    with pytest.raises(ParameterError, match="demo"):
        from_mapping(DemoConfig, overrides, section="demo")


def test_config_rejects_unknown_keys():
    with pytest.raises(ParameterError, match="demo.video"):
        from_mapping(DemoConfig, {"video": 3}, section="demo")


def test_affect_prosody_is_simulated_by_polarity_and_scaled_by_strength():
    speaker = SPEAKERS[0]
    own = {"pitch": speaker.pitch, "rate": speaker.rate, "amplitude": speaker.amplitude}
    for polarity in ("positive", "negative", "neutral"):
        none = affect_prosody(speaker, polarity, strength=0.0)
        assert {k: none[k] for k in own} == own and none["pitch_range"] == speaker.pitch_range
    assert affect_prosody(speaker, "neutral", strength=1.0) == affect_prosody(
        speaker, "neutral", strength=0.0
    )
    happy = affect_prosody(speaker, "positive", strength=1.0)
    sad = affect_prosody(speaker, "negative", strength=1.0)
    half = affect_prosody(speaker, "positive", strength=0.5)
    assert happy["pitch"] > half["pitch"] > speaker.pitch > sad["pitch"]
    assert happy["pitch_range"] > speaker.pitch_range > sad["pitch_range"]
    assert happy["rate"] > speaker.rate > sad["rate"]
    assert sad["amplitude"] > speaker.amplitude
    assert set(AFFECT) == {"positive", "negative"}
    # the per-sentence intensity is a further factor on the offsets: none at 0, double at 2
    assert affect_prosody(speaker, "positive", strength=1.0, intensity=0.0) == own | {
        "pitch_range": speaker.pitch_range
    }
    assert affect_prosody(speaker, "positive", strength=0.5, intensity=2.0) == happy
    assert AFFECT_INTENSITY[0] >= 0 and np.mean(AFFECT_INTENSITY) == 1.0
    with pytest.raises(ParameterError, match="polarity"):
        affect_prosody(speaker, "happy", strength=1.0)
    with pytest.raises(ParameterError, match="intensity"):
        affect_prosody(speaker, "positive", strength=1.0, intensity=-1.0)


def test_enough_distinct_speakers():
    assert len(SPEAKERS) >= 20  # a speaker-grouped 5-fold split gets 4 speakers a fold
    assert [s.name for s in SPEAKERS] == [f"spk{k:02d}" for k in range(len(SPEAKERS))]
    assert len({s.voice for s in SPEAKERS}) == len(SPEAKERS)
    assert all(s.voice.startswith("en") and "+" in s.voice for s in SPEAKERS)


def test_speakers_differ_more_than_the_default_affect_moves_one():
    """Between-speaker spread (standard deviation over speakers) >= every affect offset at the
    default strength, in each prosody parameter, so affect is not what sets a voice apart."""
    strength = DemoConfig().affect_strength
    assert 0 < strength < 1
    names = ("pitch", "rate", "pitch_range", "amplitude")
    own = {name: np.array([getattr(s, name) for s in SPEAKERS]) for name in names}
    spread = {
        "pitch": own["pitch"].std(),  # espeak-ng steps, as the offset
        **{name: own[name].std() / own[name].mean() for name in ("rate", "pitch_range", "amplitude")},
    }  # relative, as the offsets
    for name, value in spread.items():
        largest = max(abs(getattr(offset, name)) for offset in AFFECT.values()) * strength
        assert value >= largest, f"speakers' {name} spread {value:.3f} < affect offset {largest:.3f}"
    # and the four parameters are not tied to each other, so no one of them names a speaker group
    assert np.abs(np.corrcoef(np.stack(list(own.values())))[np.triu_indices(4, 1)]).max() < 0.6


def test_video_ids_look_real_and_are_safe_names():
    rng = np.random.default_rng(0)
    ids = [corpus_module._video_id(rng) for _ in range(2000)]
    assert all(len(v) == 11 and VIDEO_ID.fullmatch(v) for v in ids)
    assert all("/" not in v and "__" not in v and not v.startswith(("-", ".")) for v in ids)


# --- the corpus ---------------------------------------------------------------------------------------


def test_layout_is_the_mosei_raw_layout(tiny):
    wavs = sorted((tiny / "Audio/Full/WAV_16000").glob("*.wav"))
    txts = sorted((tiny / "Transcript/Segmented/Combined").glob("*.txt"))
    assert len(wavs) == 2 and [w.stem for w in wavs] == [t.stem for t in txts]
    for wav in wavs:
        info = sf.info(str(wav))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (SR, 1, "PCM_16", "WAV")
        assert VIDEO_ID.fullmatch(wav.stem)
    assert (tiny / "labels/gold.csv").is_file() and (tiny / "Probe/manifest.csv").is_file()
    summary = json.loads((tiny / "demo.json").read_text())
    assert summary["affect_strength"] == 1.0
    assert summary["config"] == dataclasses.asdict(TINY)
    counts = summary["counts"]
    assert counts["videos"] == 2 and counts["segments"] == len(_segments(tiny))
    assert counts["positive"] + counts["negative"] + counts["neutral"] == counts["segments"]
    assert "SIMULATED" in summary["corpus"]


def test_transcripts_parse_like_mosei_and_lie_inside_the_audio(tiny):
    rows = _segments(tiny)
    known = {s.text for rows_ in load_sentences().values() for s in rows_}
    by_video: dict[str, list] = {}
    for video, segment, start, end, text in rows:
        by_video.setdefault(video, []).append((segment, float(start), float(end)))
        assert f"{float(start):.10g}" == start and f"{float(end):.10g}" == end  # MOSEI number format
        assert text in known
    for video, segs in by_video.items():
        assert 8 <= len(segs) <= 10
        assert [s for s, _, _ in segs] == list(range(1, len(segs) + 1))  # numbered from 1, like MOSEI
        seconds = sf.info(str(tiny / "Audio/Full/WAV_16000" / f"{video}.wav")).duration
        previous_end = 0.0
        for _, start, end in segs:
            assert previous_end + TINY.pause_min_s - 1e-6 <= start < end <= seconds - TINY.pause_min_s + 1e-6
            assert 0.5 < end - start < 20
            previous_end = end


def test_timestamps_are_where_the_speech_is(tiny):
    noise_rms = 10 ** (TINY.noise_db / 20)
    window = SR // 20  # 50 ms
    for video in {row[0] for row in _segments(tiny)}:
        audio, _ = sf.read(str(tiny / "Audio/Full/WAV_16000" / f"{video}.wav"), dtype="float32")
        segs = [
            (round(float(s) * SR), round(float(e) * SR)) for v, _, s, e, _ in _segments(tiny) if v == video
        ]
        edges = [0] + [x for seg in segs for x in seg] + [audio.size]
        margin = SR // 50
        gaps = [audio[a + margin : b - margin] for a, b in zip(edges[::2], edges[1::2], strict=True)]
        gap_rms = max(_rms(g) for g in gaps)
        assert gap_rms < 1.2 * noise_rms  # the pauses hold only the faint background noise
        assert min(_rms(g) for g in gaps) > 0.5 * noise_rms  # ... and it is there
        for start, end in segs:
            assert _rms(audio[start:end]) > 10 * gap_rms  # speech inside every segment
            assert _rms(audio[start - window : start]) < 1.6 * gap_rms  # noise just before it
            assert _rms(audio[end : end + window]) < 1.6 * gap_rms  # and just after it
            assert _rms(audio[start : start + window]) > 1.5 * gap_rms  # speech right from the start


def test_gold_rows_match_transcript_rows(tiny):
    with open(tiny / "labels/gold.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["video", "segment", "start", "end", "sentiment"]
        gold = list(reader)
    grade = {s.text: s.sentiment for rows in load_sentences().values() for s in rows}
    rows = _segments(tiny)
    assert len(gold) == len(rows)
    by_key = {(g["video"], int(g["segment"])): g for g in gold}
    for video, segment, start, end, text in rows:
        g = by_key[video, segment]
        assert (g["start"], g["end"]) == (start, end)
        assert float(g["sentiment"]) == grade[text] and -3 <= float(g["sentiment"]) <= 3


def test_probe_manifest_files_exist_and_cover_languages(tiny):
    with open(tiny / "Probe/manifest.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["path", "language", "polarity", "text"]
        manifest = list(reader)
    assert len(manifest) == len(load_probes())
    assert {(m["language"], m["polarity"]) for m in manifest} == {
        (language, polarity) for language in PROBE_VOICES for polarity in ("positive", "negative")
    }
    for row in manifest:
        path = tiny / "Probe" / row["path"]
        assert not Path(row["path"]).is_absolute() and path.parent.name == row["language"]
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
        assert 1.0 < info.duration < 10.0
    assert len({row["path"] for row in manifest}) == len(manifest)
    assert sorted(p.name for p in (tiny / "Probe").iterdir() if p.is_dir()) == sorted(PROBE_VOICES)


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@needs_espeak
def test_same_seed_gives_byte_identical_files(tmp_path, tiny):
    config = _tiny(videos=1, workers=1)
    first, second = tmp_path / "a", tmp_path / "b"
    build_demo_corpus(first, config=config, progress=False)
    build_demo_corpus(second, config=dataclasses.replace(config, workers=3), progress=False)
    names = _files(first)
    assert names == _files(second)
    _, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    assert mismatch == ["demo.json"] and errors == []  # demo.json records the workers, nothing else differs
    summaries = [json.loads((root / "demo.json").read_text()) for root in (first, second)]
    for summary in summaries:
        summary["config"].pop("workers")
    assert summaries[0] == summaries[1]
    # video i depends on (seed, i) only: a one-video corpus is the first video of the two-video one
    video = next((first / "Audio/Full/WAV_16000").glob("*.wav")).name
    assert filecmp.cmp(first / "Audio/Full/WAV_16000" / video, tiny / "Audio/Full/WAV_16000" / video, False)
    other = tmp_path / "c"
    build_demo_corpus(other, config=dataclasses.replace(config, seed=1), progress=False)
    assert _files(other) != names  # another seed: other video ids, other audio


@needs_espeak
def test_affect_strength_changes_only_the_prosody(tmp_path, tiny):
    flat = tmp_path / "flat"
    build_demo_corpus(flat, config=_tiny(affect_strength=0.0), progress=False)
    rows_flat, rows_full = _segments(flat), _segments(tiny)
    assert [r[:2] + r[4:] for r in rows_flat] == [r[:2] + r[4:] for r in rows_full]  # same sentences
    grade = {s.text: s.sentiment for rows in load_sentences().values() for s in rows}

    def pitches(root, rows):
        out = []
        for video, _, start, end, text in rows:
            audio, _ = sf.read(
                str(root / "Audio/Full/WAV_16000" / f"{video}.wav"),
                start=round(float(start) * SR),
                stop=round(float(end) * SR),
                dtype="float32",
            )
            out.append((video, np.sign(grade[text]), _median_f0(audio), float(end) - float(start)))
        return out

    p0, p1 = pitches(flat, rows_flat), pitches(tiny, rows_full)
    shifts = {-1: [], 1: []}
    for (_, sign, f0_flat, d_flat), (_, _, f0_full, d_full) in zip(p0, p1, strict=True):
        if sign > 0:  # happy-like: higher pitch, faster (by a per-sentence intensity, maybe none)
            assert f0_full > 0.97 * f0_flat and d_full < d_flat + 0.01
        elif sign < 0:  # sad/angry-like: lower pitch, slower
            assert f0_full < 1.03 * f0_flat and d_full > d_flat - 0.01
        else:  # neutral sentences never get affect
            assert f0_full == pytest.approx(f0_flat, rel=0.02) and d_full == pytest.approx(d_flat, abs=1e-9)
        if sign:
            shifts[int(sign)].append(np.log(f0_full / f0_flat))
    assert np.mean(shifts[1]) > np.log(1.1) and np.mean(shifts[-1]) < np.log(0.92)  # on average, clearly

    def pos_over_neg(pitch_rows):
        ratios = []
        for video in {r[0] for r in pitch_rows}:
            pos = [f for v, s, f, _ in pitch_rows if v == video and s > 0]
            neg = [f for v, s, f, _ in pitch_rows if v == video and s < 0]
            assert pos and neg, "the tiny config should give each video both polarities"
            ratios.append(np.mean(pos) / np.mean(neg))
        return ratios

    assert all(abs(r - 1) < 0.1 for r in pos_over_neg(p0))  # no affect: pitch says nothing
    assert all(r > 1.25 for r in pos_over_neg(p1))  # full affect: positive clearly higher


@needs_espeak
def test_rebuild_replaces_an_earlier_demo_and_refuses_other_folders(tmp_path):
    out = tmp_path / "corpus"
    build_demo_corpus(out, config=_tiny(videos=2, workers=1), progress=False)
    build_demo_corpus(out, config=_tiny(videos=1, workers=1), progress=False)
    assert len(list((out / "Audio/Full/WAV_16000").glob("*.wav"))) == 1  # no stale videos left
    assert len(list((out / "Transcript/Segmented/Combined").glob("*.txt"))) == 1
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        build_demo_corpus(other, config=_tiny(videos=1))
    assert (other / "keep.txt").read_text() == "mine"
    (out / "demo.json").unlink()  # as if a run had been cut short: the marker still claims the folder
    build_demo_corpus(out, config=_tiny(videos=1, workers=1), progress=False)
    assert (out / "demo.json").is_file()


@needs_espeak
def test_cli_and_stage_script(tmp_path, monkeypatch):
    from pipelines import demo as stage
    from weaklabel.cli import main

    params = tmp_path / "params.yaml"
    params.write_text("demo:\n  videos: 3\n  sentences_min: 8\n  sentences_max: 8\n  workers: 1\n")
    assert main(["demo", "--out", str(tmp_path / "cli"), "--params", str(params), "--videos", "1"]) == 0
    assert json.loads((tmp_path / "cli/demo.json").read_text())["counts"]["segments"] == 8
    assert (
        main(["demo", "--out", str(tmp_path / "cli"), "--params", str(params), "--affect-strength", "2"]) == 2
    )
    monkeypatch.chdir(tmp_path)  # the stage reads params.yaml from the working directory
    params.write_text("demo:\n  videos: 1\n  sentences_min: 8\n  sentences_max: 8\n  affect_strength: 0.0\n")
    stage.main(["--out", "stage"])
    summary = json.loads((tmp_path / "stage/demo.json").read_text())
    assert summary["affect_strength"] == 0.0 and summary["counts"]["videos"] == 1


@needs_espeak
@pytest.mark.slow
def test_default_corpus_size_and_speed(tmp_path):
    began = time.perf_counter()
    summary = build_demo_corpus(tmp_path / "corpus", config=DemoConfig(), progress=False)
    elapsed = time.perf_counter() - began
    assert elapsed < 120, f"default demo corpus took {elapsed:.0f} s, expected under 2 minutes"
    counts = summary["counts"]
    assert counts["videos"] == 40 and 520 <= counts["segments"] <= 680
    assert min(counts["positive"], counts["negative"], counts["neutral"]) > 100
    assert counts["positive"] == counts["negative"] and counts["sentences_reused"] == 0
    assert len(summary["speakers"]) == 20 and {s["videos"] for s in summary["speakers"]} == {2}
    durations = [float(e) - float(s) for _, _, s, e, _ in _segments(tmp_path / "corpus")]
    assert 0.8 < min(durations) < 2.0 and 12.0 < max(durations) < 25.0


def test_sentences_are_dealt_once_before_any_is_reused():
    hands, reused = deal_sentences(50, [10, 12, 8, 15], rng=np.random.default_rng(0))
    flat = [i for hand in hands for i in hand]
    assert [len(h) for h in hands] == [10, 12, 8, 15] and reused == 0 and len(set(flat)) == 45
    hands, reused = deal_sentences(20, [8, 8, 8, 30], rng=np.random.default_rng(1))
    assert [len(h) for h in hands] == [8, 8, 8, 20]  # a video cannot read more than the pool
    assert all(len(set(h)) == len(h) for h in hands)  # never one sentence twice in a video
    assert reused == 44 - 20
    again, _ = deal_sentences(20, [8, 8, 8, 30], rng=np.random.default_rng(1))
    assert again == hands


def test_pairs_match_lengths_and_every_video_is_balanced():
    sentences = load_sentences()
    pairs = pair_by_length(sentences["positive"], sentences["negative"])
    assert len(pairs) >= 250  # enough for the default 40 videos without re-reading
    assert len({p for p, _ in pairs}) == len({n for _, n in pairs}) == len(pairs)
    for p, n in pairs:
        a, b = len(sentences["positive"][p].text), len(sentences["negative"][n].text)
        assert abs(a - b) <= PAIR_TOLERANCE * max(a, b)
    counts = [int(c) for c in np.random.default_rng(0).integers(10, 21, 40)]
    hands, reused = deal_corpus(sentences, counts, seed=0)
    assert reused == 0 and [len(h) for h in hands] == counts
    for hand in hands:  # as many positive as negative in every video, and some neutral
        polarity = [s.polarity for s in hand]
        assert polarity.count("positive") == polarity.count("negative") > 0 and "neutral" in polarity
    lengths = {
        polarity: np.array([len(s.text) for h in hands for s in h if s.polarity == polarity])
        for polarity in ("positive", "negative")
    }
    # the dealt sentences of both polarities are as long as each other (the pairs guarantee it)
    assert abs(lengths["positive"].mean() / lengths["negative"].mean() - 1) < PAIR_TOLERANCE / 2
    assert abs(np.median(lengths["positive"]) / np.median(lengths["negative"]) - 1) < PAIR_TOLERANCE
    assert [split_count(n) for n in (1, 2, 8, 9, 10, 20)] == [(0, 1), (1, 0), (3, 2), (3, 3), (4, 2), (7, 6)]
    again, _ = deal_corpus(sentences, counts[:5], seed=0)
    assert again == hands[:5]  # a smaller corpus reads what the first videos of a larger one read


@pytest.mark.parametrize("strength", [0.0, 0.7])
def test_prosody_ignores_polarity_exactly_at_strength_zero(tmp_path, strength):
    """The same video planned with every sentence's polarity flipped: at strength 0 every
    prosody value is identical (no draw depends on the label), above 0 the polar ones move."""
    sentences = load_sentences()
    hand = sentences["positive"][:4] + sentences["negative"][:4] + sentences["neutral"][:3]
    flipped = [dataclasses.replace(s, sentiment=-s.sentiment) for s in hand]
    config = DemoConfig(videos=1, affect_strength=strength)
    plans = [
        corpus_module._plan_video(3, config, tmp_path, np.random.default_rng([0, 0, 3]), "vid", chosen)
        for chosen in (hand, flipped)
    ]
    (_, speaker, read, recording), (_, _, read_flipped, recording_flipped) = plans
    assert speaker == SPEAKERS[3]
    assert [s.text for s in read] == [s.text for s in read_flipped]  # same reading order
    assert recording.pauses == recording_flipped.pauses
    same = [a == b for a, b in zip(recording.utterances, recording_flipped.utterances, strict=True)]
    if strength == 0:
        assert all(same)
    else:
        assert [ok for ok, s in zip(same, read, strict=True) if s.polarity == "neutral"] == [True] * 3
        assert not any(ok for ok, s in zip(same, read, strict=True) if s.polarity != "neutral")


def test_speakers_file_matches_transcripts_and_summary(tiny):
    with open(tiny / "speakers.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["video", "speaker"]
        rows = list(reader)
    videos = sorted(p.stem for p in (tiny / "Transcript/Segmented/Combined").glob("*.txt"))
    assert sorted(r["video"] for r in rows) == videos  # one row per video
    summary = json.loads((tiny / "demo.json").read_text())
    described = {s["name"]: s for s in summary["speakers"]}
    assert [r["speaker"] for r in rows] == [s.name for s in SPEAKERS[: len(rows)]]  # video i: speaker i
    assert set(described) == {r["speaker"] for r in rows}
    for name, speaker in described.items():
        assert speaker["videos"] == sum(r["speaker"] == name for r in rows)
        assert {k: v for k, v in speaker.items() if k != "videos"} == dataclasses.asdict(
            next(s for s in SPEAKERS if s.name == name)
        )


def test_spoken_words_independent_swaps_pairs_and_keeps_the_transcript():
    from weaklabel.demo import spoken_texts

    sentences = load_sentences()
    pos, neg = sentences["positive"][:50], sentences["negative"][:50]
    hand = [*pos, *neg, sentences["neutral"][0]]
    assert spoken_texts(hand, independent=False, rng=np.random.default_rng(0)) == [s.text for s in hand]
    spoken = spoken_texts(hand, independent=True, rng=np.random.default_rng(0))
    swapped = [spoken[k] != pos[k].text for k in range(50)]
    assert 10 < sum(swapped) < 40  # a fair coin per pair
    for k in range(50):  # a swap exchanges the two sentences of the pair, nothing else
        assert {spoken[k], spoken[50 + k]} == {pos[k].text, neg[k].text}
    assert spoken[-1] == hand[-1].text  # neutral sentences speak themselves
    with pytest.raises(ParameterError, match="demo.spoken_words"):
        DemoConfig(spoken_words="shuffled")
