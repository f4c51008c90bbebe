"""Throughput of the features stage against each model's own speed, and the CMU-MOSEI projection.

Runs on a fresh machine with no data and no internet: it writes a small synthetic corpus (WAV files
of noise, tones and chirps, at ``--rate``: 16 kHz like CMU-MOSEI's ``WAV_16000``, or another rate
so that every clip is resampled too) into a temporary folder, plans 7 s clips with
``weaklabel.audio.clips.plan_clips`` and then measures, in one process:

- VGG16 model only: the compiled function on random tensors of the clips' shape and batch size,
  interleaved with the end-to-end runs (each ratio uses the model-only runs either side of it);
- VGG16 end to end: ``extract_features`` (read slices, mel once, VGG16 and mel stores on disk);
- the naive way: ``librosa.load`` of each clip and one ``model.predict`` per clip;
- YAMNet (when ``ai-edge-litert`` is installed) on ``--yamnet-clips`` clips: model only (``--workers``
  single-thread LiteRT interpreters on the clips' frames, already cut: what any runner of the model
  pays) interleaved with end to end (``extract_features`` from the clips table of WAV files: header
  checks, decode and resample in producer threads, un-padding, framing, the model, pooling, the
  store on disk); targets: end to end >= 100 clips/s on 2 cores and >= 0.9 x model only;
- bfloat16 (``--bf16``; by default where ``embed.precision: auto`` resolves to it, i.e. the CPU has
  native bfloat16 or TensorFlow sees a GPU): speed-up, and the cosine of its VGG16 embeddings to
  float32's, checked >= 0.999;
- eGeMAPS (when the ``opensmile`` extra is installed): clips/s of its worker processes on the same
  clips (``benchmarks/egemaps_throughput.py``, which also profiles one worker with ``--profile``);
- the default backbones in one pass, as the features stage runs them (VGG16 at ``precision: auto``,
  YAMNet, eGeMAPS when installed, and the mel), and VGG16 + YAMNet alone: clips/s and the projected
  time for all 23,259 CMU-MOSEI segments.

Wall-clock figures are medians of ``--repeats`` rounds. CPU time per clip is also printed: on a
machine shared with other work, ``model CPU ms / end-to-end CPU ms`` is the ratio the wall clock
would show on an idle one. Absolute clips/s swing with the load of a shared machine: compare the
ratios of one run.

Usage: ``python benchmarks/embed_throughput.py [--clips 96] [--yamnet-clips 384] [--repeats 3]
[--rate 16000] [--bf16 auto|yes|no] [--json out.json]``. The weights default to ``random``
(throughput does not depend on their values; the cosine does: pass ``--weights imagenet`` where the
ImageNet file is available).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from weaklabel.audio.clips import ClipConfig, fix_length, load_clip, plan_clips
from weaklabel.audio.mel import MelConfig, log_mel, log_mel_batch, to_vgg_image
from weaklabel.features.extract import extract_features, peak_rss_mb
from weaklabel.features.mel_mean import MelMeanEmbedder
from weaklabel.features.registry import EmbedConfig, installed, make_embedders

MOSEI_SEGMENTS = 23_259
RATE = 16_000
#: The least cosine of bfloat16 VGG16 embeddings to float32 ones that passes.
COSINE_TARGET = 0.999

Speed = tuple[float, float]  # (clips/s, CPU ms per clip)


def synthetic_corpus(root: Path, n_clips: int, *, seed: int = 0, rate: int = RATE) -> pd.DataFrame:
    """Write WAV files of noise, tones and chirps at ``rate``; return a segments table of ``n_clips`` rows."""
    rng = np.random.default_rng(seed)
    rows, video = [], 0
    while len(rows) < n_clips:
        seconds = 60.0
        t = np.arange(int(seconds * rate)) / rate
        f0 = rng.uniform(100, 300)
        voiced = 0.2 * np.sin(2 * np.pi * (f0 * t + 20 * np.sin(2 * np.pi * 0.5 * t)))
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t) ** 2
        audio = (voiced * envelope + 0.02 * rng.normal(size=t.size)).astype(np.float32)
        path = root / f"video{video:04d}.wav"
        sf.write(path, audio, rate)
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


def timed(n_clips: int, func: Callable[[], object]) -> Speed:
    """(clips/s, CPU ms per clip) of ``func()``, which embeds ``n_clips`` clips."""
    cpu, started = _cpu_seconds(), time.perf_counter()
    func()
    return n_clips / (time.perf_counter() - started), 1000 * (_cpu_seconds() - cpu) / n_clips


def vgg16_model_only(embedder, n_clips: int, frames: int, rng: np.random.Generator) -> Speed:
    """The compiled VGG16 alone on random images of the clips' shape."""
    images = rng.normal(0, 50, size=(embedder.batch_size, embedder.mel_config.n_mels, frames, 3))
    images = images.astype(np.float32)
    embedder.embed_images(images)  # warm (traced already; touches the cache)
    n = max(1, n_clips // embedder.batch_size) * embedder.batch_size

    def run() -> None:
        for _ in range(n // embedder.batch_size):
            embedder.embed_images(images)

    return timed(n, run)


def end_to_end(clips: pd.DataFrame, out: Path, embedders: list, config: EmbedConfig) -> Speed:
    """A full ``extract_features`` run into fresh stores, the embedders built and warm."""
    summary = None

    def run() -> None:
        nonlocal summary
        summary = extract_features(clips, out, config=config, embedders=embedders, verbose=False)

    speed = timed(len(clips), run)
    assert summary is not None and summary.clips_computed == len(clips), "stores were resumed, not computed"
    return speed


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


def compare(model: Callable[[], Speed], e2e: Callable[[int], Speed], repeats: int) -> dict:
    """Interleave model-only and end-to-end runs; medians, and each ratio against the runs either side."""
    model_runs, e2e_runs = [model()], []
    for k in range(repeats):
        e2e_runs.append(e2e(k))
        model_runs.append(model())
    speeds, cpus = [m[0] for m in model_runs], [m[1] for m in model_runs]
    e2e_speeds, e2e_cpus = [e[0] for e in e2e_runs], [e[1] for e in e2e_runs]
    ratios = [e / ((a + b) / 2) for e, a, b in zip(e2e_speeds, speeds[:-1], speeds[1:], strict=True)]
    return {
        "model_only_clips_s": round(float(np.median(speeds)), 2),
        "model_only_runs": [round(x, 2) for x in speeds],
        "end_to_end_clips_s": round(float(np.median(e2e_speeds)), 2),
        "end_to_end_runs": [round(x, 2) for x in e2e_speeds],
        "ratio_e2e_to_model": round(float(np.median(ratios)), 3),
        "model_cpu_ms_per_clip": round(float(np.median(cpus)), 1),
        "end_to_end_cpu_ms_per_clip": round(float(np.median(e2e_cpus)), 1),
        "cpu_ratio": round(float(np.median(cpus) / np.median(e2e_cpus)), 3),
    }


def vgg16_compare(clips, root: Path, embedder, config, frames: int, repeats: int, rng) -> dict:
    """VGG16 (and the mel store) end to end against the model alone."""
    embedders = [embedder, MelMeanEmbedder(mel=embedder.mel_config)]
    return compare(
        lambda: vgg16_model_only(embedder, len(clips), frames, rng),
        lambda k: end_to_end(clips, root / f"{embedder.precision}-{k}", embedders, config),
        repeats,
    )


def yamnet_compare(clips: pd.DataFrame, root: Path, config: EmbedConfig, repeats: int) -> dict:
    """YAMNet end to end (from the clips table of WAV files) against its interpreters alone."""
    from yamnet_throughput import ModelOnly  # this folder is on sys.path as a script

    from weaklabel.features import yamnet as ym
    from weaklabel.features.egemaps import unpadded

    embedder = make_embedders(EmbedConfig(features=("yamnet",), workers=config.workers))[0]
    model = ModelOnly(threads=config.workers)
    batches = []  # the clips' frames, cut and contiguous: the model-only input
    for lo in range(0, len(clips), config.batch_size):
        part = clips.iloc[lo : lo + config.batch_size]
        audio = np.stack([load_clip(row) for row in part.itertuples(index=False)])
        samples = np.minimum(np.round(part["read_seconds"] * RATE), part["length"] - part["pad_left"])
        signals = unpadded(audio, pad_left=part["pad_left"].to_numpy(), audio_samples=samples.to_numpy())
        batches.append(np.ascontiguousarray(np.concatenate([ym.frame_signal(s)[0] for s in signals])))
    frames = sum(len(b) for b in batches)
    end_to_end(clips.iloc[: 2 * config.batch_size], root / "yamnet-warm", [embedder], config)

    def model_only() -> Speed:
        return timed(len(clips), lambda: [model(b) for b in batches])

    result = compare(
        model_only, lambda k: end_to_end(clips, root / f"yamnet-{k}", [embedder], config), repeats
    )
    embedder.close()
    return {"yamnet_clips": len(clips), "yamnet_frames_per_clip": round(frames / len(clips), 2)} | {
        f"yamnet_{key}": value for key, value in result.items()
    }


def default_runs(clips: pd.DataFrame, root: Path, args, vgg16) -> dict:
    """Clips/s of the default backbones in one pass, and of VGG16 + YAMNet alone; MOSEI projections."""
    from weaklabel.features.egemaps import EgemapsEmbedder
    from weaklabel.features.yamnet import YAMNetEmbedder, yamnet_available

    config = EmbedConfig(
        weights=args.weights, batch_size=args.batch_size, shard_size=64, workers=args.workers
    )
    sets = {"vgg16_yamnet": [vgg16] + ([YAMNetEmbedder(threads=args.workers)] if yamnet_available() else [])}
    names = installed(config.backbones)  # what the default run builds
    sets["default"] = [vgg16, *sets["vgg16_yamnet"][1:]]
    if "egemaps" in names:
        sets["default"].append(EgemapsEmbedder(workers=args.workers))
    result = {"default_backbones": names}
    for label, embedders in sets.items():
        embedders = [*embedders, MelMeanEmbedder(mel=vgg16.mel_config)]
        end_to_end(clips.iloc[: 2 * args.batch_size], root / f"{label}-warm", embedders, config)
        speed, cpu = end_to_end(clips, root / label, embedders, config)
        result |= {
            f"{label}_clips_s": round(speed, 2),
            f"{label}_cpu_ms_per_clip": round(cpu, 1),
            f"{label}_mosei_projection_min": round(MOSEI_SEGMENTS / speed / 60, 1),
        }
    for embedder in sets["default"][1:]:
        embedder.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=96, help="clips in the synthetic corpus (VGG16 runs)")
    parser.add_argument("--yamnet-clips", type=int, default=384, help="clips of the YAMNet runs")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved model-only/end-to-end rounds")
    parser.add_argument("--naive-clips", type=int, default=16, help="clips for the naive way")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--rate", type=int, default=RATE, help="sample rate of the WAV files (16000: no resampling)"
    )
    parser.add_argument("--weights", default="random", help="auto | imagenet | random | path.h5")
    parser.add_argument(
        "--bf16",
        choices=("auto", "yes", "no"),
        default="auto",
        help="measure bfloat16 VGG16: auto = where embed.precision auto resolves to it; yes = also emulated",
    )
    parser.add_argument("--no-egemaps", action="store_true", help="skip the eGeMAPS measurement")
    parser.add_argument("--no-default", action="store_true", help="skip the default-backbones runs")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from weaklabel.features.egemaps import egemaps_available
    from weaklabel.features.store import read_store
    from weaklabel.features.vgg16 import VGG16Embedder, resolve_precision
    from weaklabel.features.yamnet import yamnet_available

    rng = np.random.default_rng(0)
    mel = MelConfig()
    config = EmbedConfig(
        weights=args.weights, batch_size=args.batch_size, shard_size=64, workers=args.workers
    )
    auto = resolve_precision("auto")
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="weaklabel-bench-") as tmp:
        root = Path(tmp)
        corpus = synthetic_corpus(root, max(args.clips, args.yamnet_clips), rate=args.rate)
        every = plan_clips(corpus, ClipConfig())
        clips = every.iloc[: args.clips].reset_index(drop=True)
        frames = mel.n_frames(int(clips["length"].iloc[0]))
        f32 = VGG16Embedder(weights=args.weights, precision="float32", batch_size=args.batch_size, mel=mel)
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
            "file_rate": args.rate,
            "image": [mel.n_mels, frames, 3],
            "weights": f32.meta["weights"],
            "precision_auto": auto,
            **vgg16_compare(clips, root, f32, config, frames, args.repeats, rng),
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
        bf16 = None
        if args.bf16 == "yes" or (args.bf16 == "auto" and auto == "bfloat16"):
            bf16 = VGG16Embedder(
                weights=args.weights, precision="bfloat16", batch_size=args.batch_size, mel=mel
            )
            bf16.embed_images(np.zeros((1, mel.n_mels, frames, 3), np.float32))
            half = vgg16_compare(clips, root, bf16, config, frames, args.repeats, rng)
            cos = cosine(
                read_store(root / "float32-0" / "vgg16")[1], read_store(root / "bfloat16-0" / "vgg16")[1]
            )
            result.update({f"bf16_{key}": value for key, value in half.items()})
            result.update(
                {
                    "bf16_native": auto == "bfloat16",
                    "bf16_speedup_model": round(half["model_only_clips_s"] / result["model_only_clips_s"], 2),
                    "bf16_speedup_end_to_end": round(half["end_to_end_clips_s"] / e2e, 2),
                    "bf16_cosine_min": round(float(cos.min()), 5),
                    "bf16_cosine_mean": round(float(cos.mean()), 5),
                    "bf16_cosine_ok": bool(cos.min() >= COSINE_TARGET),
                    "bf16_mosei_projection_min": round(MOSEI_SEGMENTS / half["end_to_end_clips_s"] / 60, 1),
                }
            )
        if yamnet_available():
            result.update(yamnet_compare(every.iloc[: args.yamnet_clips], root, config, args.repeats))
        if not args.no_egemaps and egemaps_available():
            from egemaps_throughput import egemaps_throughput  # this folder is on sys.path as a script

            result.update(egemaps_throughput(clips, workers=args.workers))
        if not args.no_default:
            result.update(default_runs(clips, root, args, bf16 if auto == "bfloat16" and bf16 else f32))
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    _print(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    if result.get("bf16_cosine_ok") is False:
        raise SystemExit(f"bfloat16 VGG16 embeddings are below cosine {COSINE_TARGET} to float32")


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

    def ratio(prefix: str, name: str) -> str:
        verdict = "meets" if r[prefix + "ratio_e2e_to_model"] >= 0.9 else "is BELOW"
        return (
            f"  {name} end-to-end / model-only: {r[prefix + 'ratio_e2e_to_model']:.3f} wall ({verdict} the "
            f"0.9 target), {r[prefix + 'cpu_ratio']:.3f} by CPU time (the wall ratio on an idle machine)"
        )

    rows = block("", "VGG16 float32")
    rows.append(("naive (librosa + predict)", r["naive_clips_s"], f"ours x{r['speedup_vs_naive']:.2f}"))
    if "bf16_cosine_min" in r:
        rows += block("bf16_", "VGG16 bfloat16")
    if "yamnet_end_to_end_clips_s" in r:
        rows += block("yamnet_", "YAMNet")
    if "egemaps_clips_s" in r:
        from egemaps_throughput import egemaps_row

        rows.append(egemaps_row(r))
    for label in ("vgg16_yamnet", "default"):
        if f"{label}_clips_s" in r:
            name = (
                "VGG16+YAMNet+mel" if label == "vgg16_yamnet" else "+".join(r["default_backbones"]) + "+mel"
            )
            rows.append((name, r[f"{label}_clips_s"], f"{r[f'{label}_cpu_ms_per_clip']:.1f} CPU ms/clip"))
    print(
        f"machine: {r['cpu']} ({r['machine']}); load avg start {r['load_avg_start']}, end {r['load_avg_end']}"
    )
    setup = f"image {r['image']}, batch {r['batch_size']}, workers {r['workers']}, weights {r['weights']}"
    print(
        f"{r['clips']} synthetic 7 s clips ({r['file_rate']} Hz WAV) x {r['repeats']} rounds, {setup}; "
        f"precision auto -> {r['precision_auto']}; medians:"
    )
    for label, value, note in rows:
        print(f"  {label:<34}{value:8.2f} clips/s  {note}")
    print(ratio("", "VGG16 float32"))
    if "yamnet_ratio_e2e_to_model" in r:
        print(
            ratio("yamnet_", f"YAMNet ({r['yamnet_clips']} clips, {r['yamnet_frames_per_clip']} frames each)")
        )
        speed = r["yamnet_end_to_end_clips_s"]
        verdict = "meets" if speed >= 100 else "is BELOW"
        print(f"  YAMNet end to end: {speed:.1f} clips/s ({verdict} the 100 clips/s target)")
    if "bf16_cosine_min" in r:
        speed = f"model x{r['bf16_speedup_model']:.2f}, end to end x{r['bf16_speedup_end_to_end']:.2f}"
        native = "native" if r["bf16_native"] else "EMULATED on this CPU: its speed means nothing here"
        cos = f"min {r['bf16_cosine_min']:.5f}, mean {r['bf16_cosine_mean']:.5f}"
        verdict = "ok" if r["bf16_cosine_ok"] else "FAILS"
        print(f"  bfloat16 ({native}): {speed}; cosine to float32 {cos} ({verdict}: >= {COSINE_TARGET})")
    print(f"  peak RSS {r['peak_rss_mb']:.0f} MiB")
    print("  CMU-MOSEI, 23,259 segments (projections, not measured runs):")
    print(f"    VGG16 float32 alone: {r['mosei_projection_min']:.1f} min")
    if "bf16_mosei_projection_min" in r:
        print(f"    VGG16 bfloat16 alone: {r['bf16_mosei_projection_min']:.1f} min")
    if "yamnet_end_to_end_clips_s" in r:
        print(f"    YAMNet alone: {MOSEI_SEGMENTS / r['yamnet_end_to_end_clips_s'] / 60:.1f} min")
    if "egemaps_mosei_projection_min" in r:
        print(f"    eGeMAPS alone: {r['egemaps_mosei_projection_min']:.1f} min")
    if "vgg16_yamnet_mosei_projection_min" in r:
        print(
            f"    VGG16 ({r['precision_auto']}) + YAMNet + mel in one pass: "
            f"{r['vgg16_yamnet_mosei_projection_min']:.1f} min (target < 30)"
        )
        print(f"    the default backbones in one pass: {r['default_mosei_projection_min']:.1f} min")


if __name__ == "__main__":
    main()
