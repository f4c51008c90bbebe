"""Throughput of eGeMAPS extraction (openSMILE, worker processes), to print beside VGG16's.

Measures, on planned clips (:func:`weaklabel.audio.clips.plan_clips`), the clips/s of eGeMAPS
through the one extraction path (:func:`weaklabel.features.extract.extract_features` with
:class:`weaklabel.features.egemaps.EgemapsEmbedder` alone: producer threads read the clips, worker
processes compute the 88 functionals of their un-padded audio) with a warm pool of ``--workers``
processes, the same in one process, the time to start the pool, and the projected time for all
23,259 CMU-MOSEI segments.

Standalone, from the repo root (writes the embed benchmark's synthetic corpus into a temporary
folder)::

    python benchmarks/egemaps_throughput.py [--clips 192] [--workers 2]

From ``benchmarks/embed_throughput.py``, on the very clips VGG16 was timed on (same folder, so a
plain import works)::

    from egemaps_throughput import egemaps_row, egemaps_throughput
    result.update(egemaps_throughput(clips, workers=args.workers))   # inside the temp-dir block
    rows.append(egemaps_row(r))                                       # in _print, when present
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from weaklabel.audio.clips import ClipConfig, plan_clips
from weaklabel.features.extract import extract_features
from weaklabel.features.registry import EmbedConfig

MOSEI_SEGMENTS = 23_259


def _seconds(embedder, clips: pd.DataFrame, *, workers: int) -> float:
    """Wall seconds of the extraction path on ``clips``, into fresh stores (nothing resumed)."""
    with tempfile.TemporaryDirectory(prefix="weaklabel-egemaps-bench-") as out:
        started = time.perf_counter()
        extract_features(clips, out, config=EmbedConfig(workers=workers), embedders=[embedder], verbose=False)
        return time.perf_counter() - started


def egemaps_throughput(clips: pd.DataFrame, *, workers: int = 2, serial_clips: int = 32) -> dict:
    """Clips/s of eGeMAPS on planned clips, with a warm pool and in one process.

    Parameters
    ----------
    clips
        A clips table (``segment_id``, ``audio_path``, ``read_start``, ``read_seconds``).
    workers
        Worker processes of the pooled run.
    serial_clips
        Clips timed in one process (the first ones of ``clips``).

    Returns
    -------
    dict
        ``egemaps_clips_s`` (pooled, warm), ``egemaps_serial_clips_s``, ``egemaps_workers``,
        ``egemaps_pool_start_s`` (pool start and first clips), ``egemaps_mean_audio_s`` (un-padded
        seconds per clip), ``egemaps_mosei_projection_min``, ``egemaps_opensmile``.
    """
    from weaklabel.features.egemaps import EgemapsEmbedder

    serial_part = clips.iloc[:serial_clips]
    with EgemapsEmbedder(workers=1) as serial:
        _seconds(serial, serial_part.iloc[:2], workers=1)  # openSMILE loaded
        serial_rate = len(serial_part) / _seconds(serial, serial_part, workers=1)
        version = serial.meta["opensmile"]
    with EgemapsEmbedder(workers=workers) as pooled:
        pool_start = _seconds(pooled, clips.iloc[: 2 * workers], workers=workers)  # starts every worker
        rate = len(clips) / _seconds(pooled, clips, workers=workers)
    return {
        "egemaps_clips_s": round(rate, 2),
        "egemaps_serial_clips_s": round(serial_rate, 2),
        "egemaps_workers": workers,
        "egemaps_pool_start_s": round(pool_start, 2),
        "egemaps_mean_audio_s": round(float(clips["read_seconds"].mean()), 2),
        "egemaps_mosei_projection_min": round(MOSEI_SEGMENTS / rate / 60, 1),
        "egemaps_opensmile": version,
    }


def _echo(job: tuple[np.ndarray, int]) -> tuple[np.ndarray, str]:
    """What a worker returns, without the work: the round trip of a job through the pool."""
    return np.zeros(88, np.float32), ""


def profile_worker(clips: pd.DataFrame, *, workers: int = 2, chunksize: int = 4) -> dict:
    """Where one worker's time goes: openSMILE's native code, its Python wrappers, and the pool's IPC.

    The clips' un-padded audio is read first (in the stage, producer threads do that), then
    ``egemaps_signal`` runs on each under cProfile in this process: the time inside
    ``opensmile.core.lib`` (ctypes calls into the openSMILE library: configure, feed the audio,
    run, free) is native, the rest is Python (audinterface, opensmile's wrappers, pandas). IPC is
    the round trip of the same jobs through a warm ``spawn`` pool of ``workers`` processes with a
    function that does no work (pickling the audio, the pipe, the result back).

    Returns
    -------
    dict
        ``egemaps_profile_*``: per-clip milliseconds of decode, native, Python and IPC, the
        native share of the worker's time, and the clips profiled.
    """
    import cProfile
    import multiprocessing
    import pstats
    from concurrent.futures import ProcessPoolExecutor

    from weaklabel.audio.clips import load_clip
    from weaklabel.features.egemaps import _init_worker, egemaps_signal, unpadded

    started = time.perf_counter()
    audio = np.stack([load_clip(row) for row in clips.itertuples(index=False)])
    decode = time.perf_counter() - started
    samples = np.minimum(np.round(clips["read_seconds"] * 16_000), clips["length"] - clips["pad_left"])
    signals = unpadded(audio, pad_left=clips["pad_left"].to_numpy(), audio_samples=samples.to_numpy())
    egemaps_signal(signals[0])  # openSMILE loaded
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for signal in signals:
        egemaps_signal(signal)
    profiler.disable()
    total = time.perf_counter() - started
    stats = pstats.Stats(
        profiler
    ).stats  # (file, line, name) -> (calls, primitive, tottime, cumtime, callers)
    native = sum(v[2] for k, v in stats.items() if k[0].replace("\\", "/").endswith("opensmile/core/lib.py"))
    jobs = [(np.asarray(s, np.float32), 16_000) for s in signals]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker) as pool:
        list(pool.map(_echo, jobs[: 2 * workers], chunksize=chunksize))  # warm
        started = time.perf_counter()
        list(pool.map(_echo, jobs, chunksize=chunksize))
        ipc = time.perf_counter() - started
    n = len(signals)
    return {
        "egemaps_profile_clips": n,
        "egemaps_profile_decode_ms": round(1000 * decode / n, 2),
        "egemaps_profile_native_ms": round(1000 * native / n, 2),
        "egemaps_profile_python_ms": round(1000 * (total - native) / n, 2),
        "egemaps_profile_ipc_ms": round(1000 * ipc / n, 2),
        "egemaps_profile_native_share": round(native / (total + ipc), 3),
    }


def egemaps_row(result: dict) -> tuple[str, float, str]:
    """A ``(label, clips/s, note)`` row in the embed benchmark's table format."""
    note = (
        f"1 process {result['egemaps_serial_clips_s']:.2f}; un-padded {result['egemaps_mean_audio_s']:.1f} s "
        f"clips; pool start {result['egemaps_pool_start_s']:.1f} s; "
        f"MOSEI {result['egemaps_mosei_projection_min']:.1f} min"
    )
    return f"eGeMAPS ({result['egemaps_workers']} processes)", result["egemaps_clips_s"], note


def profile_line(r: dict) -> str:
    """One worker's time per clip, in words."""
    native, python, ipc = (r[f"egemaps_profile_{k}_ms"] for k in ("native", "python", "ipc"))
    return (
        f"one worker, ms per clip ({r['egemaps_profile_clips']} clips): openSMILE native {native:.1f}, "
        f"Python wrappers {python:.1f}, pool IPC {ipc:.2f} ({100 * r['egemaps_profile_native_share']:.0f} % "
        f"native); decode in the producers {r['egemaps_profile_decode_ms']:.1f}"
    )


def main() -> None:
    from embed_throughput import synthetic_corpus  # this folder is on sys.path when run as a script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=192, help="clips in the synthetic corpus")
    parser.add_argument("--workers", type=int, default=2, help="eGeMAPS worker processes")
    parser.add_argument("--profile", action="store_true", help="also profile one worker (see profile_worker)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="weaklabel-egemaps-bench-") as tmp:
        clips = plan_clips(synthetic_corpus(Path(tmp), args.clips), ClipConfig())
        result = {"clips": args.clips, **egemaps_throughput(clips, workers=args.workers)}
        if args.profile:
            result.update(profile_worker(clips.iloc[:48], workers=args.workers))
    label, value, note = egemaps_row(result)
    print(f"{args.clips} synthetic clips (7 s planned; eGeMAPS reads the un-padded audio)")
    print(f"{label:<27}{value:8.2f} clips/s  {note}")
    if args.profile:
        print(profile_line(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
