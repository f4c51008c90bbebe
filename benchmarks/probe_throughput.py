"""Throughput of the probe on a folder of short recordings against the embedder's own speed.

The issue's target: a folder of 1,000 short files scores at close to the embedder's throughput,
because the probe embeds through the shared extraction loop
(:func:`weaklabel.features.extract.extract_features`). Runs on a fresh machine with no data and
no internet; in one process it:

1. writes ``--files`` short recordings (``--seconds-min`` to ``--seconds-max`` s of a voiced-like
   signal: a harmonic tone with vibrato and a syllable envelope, in noise; seeded) into a
   temporary folder laid out as ``<language>/<file>`` over four language folders, in mixed
   formats (WAV, FLAC), sample rates (8, 16, 22.05 and 44.1 kHz) and channels (a quarter stereo),
   with a ``manifest.csv`` of polarities beside them;
2. trains a tiny ``dense_head`` through the train stage's API (:func:`weaklabel.learn.train.train_models`)
   on a handful of synthetic clips embedded with VGG16 (``--weights``, default seeded random), so
   that the probe has a models folder to score with;
3. times the probe end to end as ``weaklabel probe DIR --model MODELS`` runs it
   (:func:`weaklabel.sources.recordings.build_manifest`, :func:`weaklabel.learn.probe.load_trained`,
   :func:`weaklabel.learn.probe.probe`: embedder rebuilt from the model manifest and checked, every file
   checked by a full decode, planned, embedded, scored, scaled); ``write_probe`` is timed apart;
4. times the model alone on random tensors of the probe clips' shape and batch size, before and
   after the probe run (``model_only`` of ``benchmarks/embed_throughput.py``).

How to read the ratio: ``probe clips/s / model-only clips/s`` (model-only is the mean of the runs
either side of the probe run) is 1.0 when the probe costs no more than the model. The probe's total
includes fixed costs (rebuilding and fingerprinting VGG16, tracing its compiled function) that a
folder of 48 files cannot amortise and one of 1,000 can; the embed phase's own clips/s (the
extraction loop's figure) is printed beside it. On a VM whose cores are shared with other work the
wall clock is noisy: ``model CPU ms per clip / probe CPU ms per clip`` (process CPU time, threads
included) is the ratio the wall clock would show on an idle machine, as in ``embed_throughput.py``.
Peak RSS is the process's, setup (training) included.

Usage: ``python benchmarks/probe_throughput.py [--files 1000] [--batch-size 16] [--workers 2]
[--weights random] [--seconds-min 1] [--seconds-max 4] [--clip-seconds 7] [--keep]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf

from weaklabel.audio.clips import ClipConfig, plan_clips
from weaklabel.audio.mel import MelConfig
from weaklabel.features.extract import extract_features, peak_rss_mb
from weaklabel.features.registry import EmbedConfig

try:  # run as a script, benchmarks/ is on sys.path; run as a module from the repo root, it is not
    from embed_throughput import _cpu_name, _cpu_seconds, model_only
except ImportError:  # pragma: no cover
    from benchmarks.embed_throughput import _cpu_name, _cpu_seconds, model_only

log = logging.getLogger("probe_throughput")

LANGUAGES = ("english", "german", "spanish", "japanese")
#: Sample rates of the written files, Hz (the probe resamples each to the model's rate).
RATES = (8_000, 22_050, 44_100, 16_000)
FORMATS = ("wav", "flac")
TRAIN_RATE = 16_000


def voiced(seconds: float, sample_rate: int, *, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A stand-in for speech: a harmonic tone with vibrato and a syllable envelope, in noise.

    Parameters
    ----------
    seconds
        Length, s.
    sample_rate
        Rate, Hz; harmonics at or above Nyquist are left out.
    f0
        Fundamental, Hz.
    rng
        Draws the vibrato, syllable rate, harmonic phases and noise.

    Returns
    -------
    numpy.ndarray
        Shape (round(seconds * sample_rate),), float32, peak about 0.5.
    """
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    vibrato = 0.03 * f0 / 5.5 * np.sin(2 * np.pi * rng.uniform(4.5, 6.5) * t)  # +-3 % at ~5.5 Hz
    phase = 2 * np.pi * (f0 * t + vibrato)
    wave = np.zeros_like(t)
    for k in range(1, 13):
        if k * f0 >= sample_rate / 2:
            break
        wave += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k
    syllables = np.sin(np.pi * rng.uniform(3.0, 5.0) * t + rng.uniform(0, np.pi)) ** 2
    audio = 0.3 * wave * (0.2 + 0.8 * syllables) + 0.01 * rng.standard_normal(t.size)
    return (0.5 * audio / max(float(np.abs(audio).max()), 1e-9)).astype(np.float32)


def write_folder(root: Path, n_files: int, *, seconds: tuple[float, float], seed: int = 0) -> pd.DataFrame:
    """Write ``n_files`` short recordings as ``root/<language>/<file>`` and ``root/manifest.csv``.

    Parameters
    ----------
    root
        Folder to fill (created).
    n_files
        Recordings to write, spread evenly over :data:`LANGUAGES`.
    seconds
        (shortest, longest) length, s, drawn uniformly.
    seed
        Seed of everything drawn.

    Returns
    -------
    pandas.DataFrame
        The manifest rows written: ``path`` (relative to ``root``), ``language``, ``polarity``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_files):
        language = LANGUAGES[i % len(LANGUAGES)]
        rate, fmt = int(rng.choice(RATES)), str(rng.choice(FORMATS))
        channels = 2 if rng.random() < 0.25 else 1
        positive = rng.random() < 0.5
        f0 = rng.uniform(180, 280) if positive else rng.uniform(90, 170)
        mono = voiced(rng.uniform(*seconds), rate, f0=f0, rng=rng)
        audio = np.stack([mono, 0.8 * mono], axis=1) if channels == 2 else mono
        relative = f"{language}/{i:05d}_{rate}hz_{channels}ch.{fmt}"
        (root / language).mkdir(parents=True, exist_ok=True)
        sf.write(root / relative, audio, rate, subtype="PCM_16")
        rows.append((relative, language, "positive" if positive else "negative"))
    manifest = pd.DataFrame(rows, columns=["path", "language", "polarity"])
    manifest.to_csv(root / "manifest.csv", index=False)
    return manifest


def train_tiny_model(
    root: Path, *, weights: str, clip_seconds: float, batch_size: int, seed: int = 0
) -> Path:
    """A models folder holding a tiny ``dense_head`` on VGG16 features, made by the train stage's API.

    Parameters
    ----------
    root
        Working folder: ``audio/``, ``features/`` and ``models/`` are written under it.
    weights
        VGG16 weights (``embed.weights``): ``random``, ``imagenet``, ``auto`` or a ``.h5`` path.
    clip_seconds
        Clip length of the training clips, and so of the probe's clips (``clips.length_s``).
    batch_size
        Clips per VGG16 call while embedding the training clips.
    seed
        Seed of the audio, the random weights and the head.

    Returns
    -------
    Path
        The models folder (``bundle.json`` and ``dense_head/``).
    """
    from weaklabel.learn.dataset import build_dataset
    from weaklabel.learn.train import TrainConfig, train_models

    rng = np.random.default_rng(seed + 1)
    (root / "audio").mkdir(parents=True, exist_ok=True)
    segments, split, labels = [], [], []
    for video in range(4):  # 2 train, 1 valid, 1 test videos of 4 clips, both classes in each
        for segment in range(4):
            positive = segment % 2 == 0
            key, path = f"v{video}___{segment}", root / "audio" / f"v{video}_{segment}.wav"
            f0 = rng.uniform(180, 280) if positive else rng.uniform(90, 170)
            sf.write(path, voiced(2.0, TRAIN_RATE, f0=f0, rng=rng), TRAIN_RATE)
            segments.append((key, str(path), 0.0, 2.0))
            split.append((key, f"v{video}", ("train", "train", "valid", "test")[video]))
            labels.append((key, int(positive), 1.0))
    clips = plan_clips(
        pd.DataFrame(segments, columns=["segment_id", "audio_path", "start", "duration"]),
        ClipConfig(length_s=clip_seconds, sample_rate=TRAIN_RATE),
    )
    config = EmbedConfig(weights=weights, seed=seed, batch_size=batch_size, features=("vgg16",))
    extract_features(clips, root / "features", config=config, verbose=False)
    dataset = build_dataset(
        pd.DataFrame(split, columns=["segment_id", "video", "split"]),
        pd.DataFrame(labels, columns=["segment_id", "label", "confidence"]),
        stores={"vgg16": root / "features" / "vgg16"},
        clips=clips,
        sources=["vgg16"],
    )
    train = TrainConfig(models=("dense_head",), seed=seed, dense_head={"hidden": [8], "epochs": 3})
    train_models(dataset, root / "models", config=train)
    return root / "models"


def time_probe(folder: Path, models: Path, config: Any, embed: EmbedConfig) -> dict[str, Any]:
    """Run the probe as the CLI does and time it (wall and process CPU), then time ``write_probe``.

    Parameters
    ----------
    folder
        The recordings, with ``manifest.csv``.
    models
        The models folder.
    config
        A :class:`weaklabel.learn.probe.ProbeConfig`.
    embed
        Batch size, shard size and threads (the ``embed`` section).

    Returns
    -------
    dict
        ``seconds``, ``cpu_seconds``, ``write_seconds``, the :class:`weaklabel.learn.probe.ProbeResult`
        (``result``) and its ``info``.
    """
    from weaklabel.learn.probe import load_trained, probe
    from weaklabel.report.probe import write_probe
    from weaklabel.sources.recordings import build_manifest

    cpu, started = _cpu_seconds(), time.perf_counter()
    manifest = build_manifest(folder, csv=folder / "manifest.csv")
    trained = load_trained(models, config.model or None)
    result = probe(manifest, trained, config=config, embed=embed, root=folder, verbose=False)
    seconds, cpu_seconds = time.perf_counter() - started, _cpu_seconds() - cpu
    started = time.perf_counter()
    write_probe(result, folder.parent / "reports" / "probe")
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "write_seconds": time.perf_counter() - started,
        "result": result,
        "info": result.info,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="recordings in the synthetic folder")
    parser.add_argument(
        "--batch-size", type=int, default=16, help="clips per embedder call (embed.batch_size)"
    )
    parser.add_argument("--workers", type=int, default=2, help="check and producer threads (embed.workers)")
    parser.add_argument("--weights", default="random", help="auto | imagenet | random | path.h5")
    parser.add_argument("--seconds-min", type=float, default=1.0, help="shortest recording, s")
    parser.add_argument("--seconds-max", type=float, default=4.0, help="longest recording, s")
    parser.add_argument(
        "--clip-seconds", type=float, default=ClipConfig().length_s, help="model clip length (clips.length_s)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args()
    if args.files < 1 or not 0 < args.seconds_min <= args.seconds_max:
        parser.error("need --files >= 1 and 0 < --seconds-min <= --seconds-max")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from weaklabel.learn.probe import ProbeConfig, embedder_for, load_trained

    load_start = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="weaklabel-probe-bench-"))
    try:
        started = time.perf_counter()
        folder = tmp / "recordings"
        write_folder(folder, args.files, seconds=(args.seconds_min, args.seconds_max))
        write_seconds = time.perf_counter() - started
        log.info("wrote %d files in %.1f s; training a tiny dense_head", args.files, write_seconds)
        started = time.perf_counter()
        models = train_tiny_model(
            tmp / "train", weights=args.weights, clip_seconds=args.clip_seconds, batch_size=args.batch_size
        )
        train_seconds = time.perf_counter() - started
        weights_file = args.weights if args.weights not in ("auto", "imagenet", "random") else ""
        config = ProbeConfig(weights=weights_file)
        embed = EmbedConfig(batch_size=args.batch_size, workers=args.workers)

        # The model-only embedder: the same class, weights and settings as the probe will rebuild.
        trained = load_trained(models)
        embedder = embedder_for(trained.features, config=config, embed=embed, model=trained.name)
        mel: MelConfig = embedder.mel_config
        frames = mel.n_frames(trained.length)
        embedder.embed_images(np.zeros((1, mel.n_mels, frames, 3), np.float32))  # trace once
        rng = np.random.default_rng(0)
        n_model = max(args.files, 4 * args.batch_size)
        log.info("model only (%d clips), probe (%d files), model only", n_model, args.files)
        before = model_only(embedder, n_model, frames, rng)
        run = time_probe(folder, models, config, embed)
        after = model_only(embedder, n_model, frames, rng)
        kept = str(tmp) if args.keep else None
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    info, rejects = run["info"], run["result"].rejects
    model_speed = (before[0] + after[0]) / 2
    model_cpu = (before[1] + after[1]) / 2
    probe_speed = args.files / run["seconds"]
    probe_cpu = 1000 * run["cpu_seconds"] / args.files
    timing = info["timing"]
    _print(
        {
            "machine": f"{_cpu_name()} ({platform.machine()}, {len(os.sched_getaffinity(0))} cores)",
            "load_avg": [[round(x, 2) for x in load_start], [round(x, 2) for x in os.getloadavg()]],
            "files": args.files,
            "setup": (
                f"{args.seconds_min:g}-{args.seconds_max:g} s files, {len(LANGUAGES)} languages, "
                f"wav/flac, {'/'.join(f'{r / 1000:g}k' for r in RATES)} Hz, 1/4 stereo; "
                f"clip {trained.length_s:g} s, image {[mel.n_mels, frames, 3]}, batch {args.batch_size}, "
                f"workers {args.workers}, weights {trained.features.get('weights')}"
            ),
            "write_s": write_seconds,
            "train_s": train_seconds,
            "probe_clips_s": probe_speed,
            "probe_s": run["seconds"],
            "probe_cpu_s": run["cpu_seconds"],
            "probe_cpu_ms": probe_cpu,
            "embed_clips_s": timing.get("embed_clips_per_s"),
            "embed_s": timing.get("embed_seconds"),
            "write_probe_s": run["write_seconds"],
            "model_clips_s": model_speed,
            "model_runs": [round(before[0], 2), round(after[0], 2)],
            "model_cpu_ms": model_cpu,
            "ratio": probe_speed / model_speed,
            "embed_ratio": (timing.get("embed_clips_per_s") or 0.0) / model_speed,
            "cpu_ratio": model_cpu / probe_cpu,
            "scored": info["scored"],
            "rejected": len(rejects),
            "rejects_by_reason": info["rejects_by_reason"],
            "peak_rss_mb": peak_rss_mb(),
            "kept": kept,
        }
    )


def _print(r: dict[str, Any]) -> None:
    print(f"machine: {r['machine']}; load avg start {r['load_avg'][0]}, end {r['load_avg'][1]}")
    print(f"{r['files']} synthetic files ({r['setup']})")
    print(f"  setup: wrote files {r['write_s']:.1f} s, trained tiny dense_head {r['train_s']:.1f} s")
    fixed = r["probe_s"] - (r["embed_s"] or 0.0)
    print(
        f"  probe end to end     {r['probe_clips_s']:8.2f} clips/s  {r['probe_s']:.1f} s wall, "
        f"{r['probe_cpu_s']:.1f} s CPU ({r['probe_cpu_ms']:.1f} CPU ms/clip)"
    )
    embed = "n/a" if r["embed_clips_s"] is None else f"{r['embed_clips_s']:8.2f}"
    print(
        f"  probe embed phase    {embed} clips/s  {r['embed_s']} s; the rest (manifest, model load, "
        f"embedder rebuild and check, file checks, scoring) {fixed:.1f} s"
    )
    print(
        f"  model only           {r['model_clips_s']:8.2f} clips/s  {r['model_cpu_ms']:.1f} CPU ms/clip; "
        f"runs before/after {r['model_runs']}"
    )
    verdict = "meets" if r["ratio"] >= 0.9 else "is BELOW"
    print(
        f"  probe / model-only: {r['ratio']:.3f} wall ({verdict} 0.9), {r['cpu_ratio']:.3f} by CPU time "
        f"(the wall ratio on an idle machine); embed phase / model-only {r['embed_ratio']:.3f} wall"
    )
    by_reason = ", ".join(f"{k} {v}" for k, v in r["rejects_by_reason"].items()) or "none"
    print(
        f"  scored {r['scored']}, rejected {r['rejected']} ({by_reason}); "
        f"write_probe {r['write_probe_s']:.1f} s"
    )
    print(f"  peak RSS {r['peak_rss_mb']:.0f} MiB (process, setup included)")
    if r["kept"]:
        print(f"  kept {r['kept']} (recordings/, train/, reports/probe/)")


if __name__ == "__main__":
    main()
