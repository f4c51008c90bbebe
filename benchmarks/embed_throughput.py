"""Throughput of the features stage against the model's own speed, the naive way and bfloat16.

Runs on a fresh machine with no data and no internet: it writes a small synthetic corpus (16 kHz
WAV files of noise, tones and chirps) into a temporary folder, plans 7 s clips with
``weaklabel.audio.clips.plan_clips`` and then measures, in one process:

- model only: the compiled VGG16 function on random tensors of the clips' shape and batch size,
  interleaved with the end-to-end runs (each ratio uses the model-only runs either side of it);
- end to end: ``extract_features`` (read slices, mel once, both stores, shards on disk);
- the naive way: ``librosa.load`` of each clip and one ``model.predict`` per clip;
- bfloat16: model-only speed-up and end-to-end, and cosine agreement with float32;
- eGeMAPS (when the ``opensmile`` extra is installed): clips/s of its worker processes on the same
  clips, printed next to VGG16's (``benchmarks/egemaps_throughput.py``);
- peak RSS, and the projected time for all 23,259 CMU-MOSEI segments.

Wall-clock figures are medians of ``--repeats`` rounds. CPU time per clip is also printed: on a
machine shared with other work, ``model CPU ms / end-to-end CPU ms`` is the ratio the wall clock
would show on an idle one.

Usage: ``python benchmarks/embed_throughput.py [--clips 96] [--repeats 3] [--json out.json]``.
The weights default to ``random`` (throughput does not depend on their values; the cosine does:
pass ``--weights imagenet`` where the ImageNet file is available).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from weaklabel.audio.clips import ClipConfig, fix_length, plan_clips
from weaklabel.audio.mel import MelConfig, log_mel, log_mel_batch, to_vgg_image
from weaklabel.features.extract import EmbedConfig, extract_features, peak_rss_mb
from weaklabel.features.mel_mean import MelMeanEmbedder

MOSEI_SEGMENTS = 23_259
RATE = 16_000


def synthetic_corpus(root: Path, n_clips: int, *, seed: int = 0) -> pd.DataFrame:
    """Write WAV files of noise, tones and chirps; return a segments table of ``n_clips`` rows."""
    rng = np.random.default_rng(seed)
    rows, video = [], 0
    while len(rows) < n_clips:
        seconds = 60.0
        t = np.arange(int(seconds * RATE)) / RATE
        f0 = rng.uniform(100, 300)
        voiced = 0.2 * np.sin(2 * np.pi * (f0 * t + 20 * np.sin(2 * np.pi * 0.5 * t)))
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t) ** 2
        audio = (voiced * envelope + 0.02 * rng.normal(size=t.size)).astype(np.float32)
        path = root / f"video{video:04d}.wav"
        sf.write(path, audio, RATE)
        start = 0.0
        while start < seconds - 3 and len(rows) < n_clips:
            duration = float(min(rng.uniform(3.0, 12.0), seconds - start))
            rows.append((f"video{video:04d}___{len(rows)}", str(path), start, duration))
            start += duration + 0.5
        video += 1
    return pd.DataFrame(rows, columns=["segment_id", "audio_path", "start", "duration"])


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def model_only(embedder, n_clips: int, frames: int, rng: np.random.Generator) -> tuple[float, float]:
    """(clips/s, CPU ms/clip) of the compiled model alone on random images of the clips' shape."""
    images = rng.normal(0, 50, size=(embedder.batch_size, embedder.mel_config.n_mels, frames, 3))
    images = images.astype(np.float32)
    embedder.embed_images(images)  # warm (traced already; touches the cache)
    n = max(1, n_clips // embedder.batch_size) * embedder.batch_size
    cpu, started = _cpu_seconds(), time.perf_counter()
    for _ in range(n // embedder.batch_size):
        embedder.embed_images(images)
    return n / (time.perf_counter() - started), 1000 * (_cpu_seconds() - cpu) / n


def end_to_end(clips: pd.DataFrame, out: Path, embedder, config: EmbedConfig) -> tuple[float, float]:
    """(clips/s, CPU ms/clip) of a full ``extract_features`` run (both stores), embedder built and warm."""
    cpu, started = _cpu_seconds(), time.perf_counter()
    summary = extract_features(
        clips,
        out,
        config=config,
        embedders=[embedder, MelMeanEmbedder(mel=embedder.mel_config)],
        verbose=False,
    )
    seconds = time.perf_counter() - started
    return summary.clips_computed / seconds, 1000 * (_cpu_seconds() - cpu) / summary.clips_computed


def naive(clips: pd.DataFrame, embedder, mel: MelConfig) -> float:
    """Clips/s of librosa.load per clip and one Keras predict per clip."""
    import librosa

    started = time.perf_counter()
    for row in clips.itertuples(index=False):
        audio, _ = librosa.load(row.audio_path, sr=RATE, offset=row.read_start, duration=row.read_seconds)
        audio = fix_length(audio, int(row.length), pad_left=int(row.pad_left))
        image = to_vgg_image(log_mel(audio, config=mel), top_db=mel.top_db)
        embedder.model.predict(image[None], verbose=0)
    return len(clips) / (time.perf_counter() - started)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def compare(clips, root: Path, embedder, config: EmbedConfig, frames: int, repeats: int, rng) -> dict:
    """Interleave model-only and end-to-end runs; medians resist other processes' load."""
    model, e2e, ratios, model_cpu, e2e_cpu = [], [], [], [], []
    for k in range(repeats):
        speed, cpu = model_only(embedder, len(clips), frames, rng)
        model.append(speed)
        model_cpu.append(cpu)
        speed, cpu = end_to_end(clips, root / f"{embedder.precision}-{k}", embedder, config)
        e2e.append(speed)
        e2e_cpu.append(cpu)
        ratios.append(speed / model[-1])
    speed, cpu = model_only(embedder, len(clips), frames, rng)
    model.append(speed)
    model_cpu.append(cpu)
    ratios = [e / ((a + b) / 2) for e, a, b in zip(e2e, model[:-1], model[1:], strict=True)]
    return {
        "model_only_clips_s": round(float(np.median(model)), 2),
        "model_only_runs": [round(x, 2) for x in model],
        "end_to_end_clips_s": round(float(np.median(e2e)), 2),
        "end_to_end_runs": [round(x, 2) for x in e2e],
        "ratio_e2e_to_model": round(float(np.median(ratios)), 3),
        "model_cpu_ms_per_clip": round(float(np.median(model_cpu)), 1),
        "end_to_end_cpu_ms_per_clip": round(float(np.median(e2e_cpu)), 1),
        "cpu_ratio": round(float(np.median(model_cpu) / np.median(e2e_cpu)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=96, help="clips in the synthetic corpus")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved model-only/end-to-end rounds")
    parser.add_argument("--naive-clips", type=int, default=16, help="clips for the naive way")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--weights", default="random", help="auto | imagenet | random | path.h5")
    parser.add_argument("--no-bf16", action="store_true", help="skip the bfloat16 measurements")
    parser.add_argument("--no-egemaps", action="store_true", help="skip the eGeMAPS measurement")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from weaklabel.features.egemaps import egemaps_available
    from weaklabel.features.store import read_store
    from weaklabel.features.vgg16 import VGG16Embedder

    rng = np.random.default_rng(0)
    mel = MelConfig()
    config = EmbedConfig(
        weights=args.weights, batch_size=args.batch_size, shard_size=64, workers=args.workers
    )
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="weaklabel-bench-") as tmp:
        root = Path(tmp)
        clips = plan_clips(synthetic_corpus(root, args.clips), ClipConfig())
        frames = mel.n_frames(int(clips["length"].iloc[0]))
        f32 = VGG16Embedder(weights=args.weights, batch_size=args.batch_size, mel=mel)
        f32.embed_images(np.zeros((1, mel.n_mels, frames, 3), np.float32))  # trace once
        log_mel_batch(
            np.zeros((2, int(clips["length"].iloc[0])), np.float32), config=mel
        )  # librosa's first call
        result = {
            "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
            "cpu": _cpu_name(),
            "load_avg_start": [round(x, 2) for x in load_start],
            "clips": args.clips,
            "repeats": args.repeats,
            "batch_size": args.batch_size,
            "workers": args.workers,
            "image": [mel.n_mels, frames, 3],
            "weights": f32.meta["weights"],
            **compare(clips, root, f32, config, frames, args.repeats, rng),
        }
        slow = naive(clips.iloc[: args.naive_clips], f32, mel)
        e2e = result["end_to_end_clips_s"]
        result.update(
            {
                "naive_clips_s": round(slow, 2),
                "speedup_vs_naive": round(e2e / slow, 2),
                "mosei_projection_min": round(MOSEI_SEGMENTS / e2e / 60, 1),
            }
        )
        if not args.no_bf16:
            bf16 = VGG16Embedder(
                weights=args.weights, precision="bfloat16", batch_size=args.batch_size, mel=mel
            )
            bf16.embed_images(np.zeros((1, mel.n_mels, frames, 3), np.float32))
            half = compare(clips, root, bf16, config, frames, args.repeats, rng)
            cos = cosine(
                read_store(root / "float32-0" / "vgg16")[1], read_store(root / "bfloat16-0" / "vgg16")[1]
            )
            result.update({f"bf16_{key}": value for key, value in half.items()})
            result.update(
                {
                    "bf16_speedup_model": round(half["model_only_clips_s"] / result["model_only_clips_s"], 2),
                    "bf16_speedup_end_to_end": round(half["end_to_end_clips_s"] / e2e, 2),
                    "bf16_cosine_min": round(float(cos.min()), 5),
                    "bf16_cosine_mean": round(float(cos.mean()), 5),
                    "bf16_mosei_projection_min": round(MOSEI_SEGMENTS / half["end_to_end_clips_s"] / 60, 1),
                }
            )
        if not args.no_egemaps and egemaps_available():
            from egemaps_throughput import egemaps_throughput  # this folder is on sys.path as a script

            result.update(egemaps_throughput(clips, workers=args.workers))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    _print(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _print(r: dict) -> None:
    def block(prefix: str, name: str) -> list[tuple[str, float, str]]:
        rows = []
        for label, key, cpu, runs in [
            ("model only", "model_only_clips_s", "model_cpu_ms_per_clip", "model_only_runs"),
            ("end to end", "end_to_end_clips_s", "end_to_end_cpu_ms_per_clip", "end_to_end_runs"),
        ]:
            note = f"{r[prefix + cpu]:.1f} CPU ms/clip; runs {r[prefix + runs]}"
            rows.append((f"{label} ({name})", r[prefix + key], note))
        return rows

    rows = block("", "float32")
    rows.append(("naive (librosa + predict)", r["naive_clips_s"], f"ours x{r['speedup_vs_naive']:.2f}"))
    if "bf16_cosine_min" in r:
        rows += block("bf16_", "bfloat16")
    if "egemaps_clips_s" in r:
        from egemaps_throughput import egemaps_row

        rows.append(egemaps_row(r))
    print(
        f"machine: {r['cpu']} ({r['machine']}); load avg start {r['load_avg_start']}, end {r['load_avg_end']}"
    )
    setup = f"image {r['image']}, batch {r['batch_size']}, workers {r['workers']}, weights {r['weights']}"
    print(f"{r['clips']} synthetic 7 s clips x {r['repeats']} rounds, {setup}; medians:")
    for label, value, note in rows:
        print(f"  {label:<27}{value:8.2f} clips/s  {note}")
    verdict = "meets" if r["ratio_e2e_to_model"] >= 0.9 else "is BELOW"
    print(
        f"  float32 end-to-end / model-only: {r['ratio_e2e_to_model']:.3f} wall ({verdict} the 0.9 target), "
        f"{r['cpu_ratio']:.3f} by CPU time (the wall ratio on an idle machine)"
    )
    if "bf16_cosine_min" in r:
        speed = f"model x{r['bf16_speedup_model']:.2f}, end to end x{r['bf16_speedup_end_to_end']:.2f}"
        ratio = f"{r['bf16_ratio_e2e_to_model']:.3f} wall, {r['bf16_cpu_ratio']:.3f} by CPU"
        cos = f"min {r['bf16_cosine_min']:.5f}, mean {r['bf16_cosine_mean']:.5f}"
        print(f"  bfloat16: {speed}; end-to-end / model-only {ratio}; cosine to float32 {cos}")
    print(f"  peak RSS {r['peak_rss_mb']:.0f} MiB")
    line = f"  CMU-MOSEI, 23,259 segments: {r['mosei_projection_min']:.1f} min (float32)"
    if "bf16_mosei_projection_min" in r:
        line += f", {r['bf16_mosei_projection_min']:.1f} min (bfloat16)"
    print(line)


if __name__ == "__main__":
    main()
