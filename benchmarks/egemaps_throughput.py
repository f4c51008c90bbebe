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

import pandas as pd

from weaklabel.audio.clips import ClipConfig, plan_clips
from weaklabel.features.extract import EmbedConfig, extract_features

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


def egemaps_row(result: dict) -> tuple[str, float, str]:
    """A ``(label, clips/s, note)`` row in the embed benchmark's table format."""
    note = (
        f"1 process {result['egemaps_serial_clips_s']:.2f}; un-padded {result['egemaps_mean_audio_s']:.1f} s "
        f"clips; pool start {result['egemaps_pool_start_s']:.1f} s; "
        f"MOSEI {result['egemaps_mosei_projection_min']:.1f} min"
    )
    return f"eGeMAPS ({result['egemaps_workers']} processes)", result["egemaps_clips_s"], note


def main() -> None:
    from embed_throughput import synthetic_corpus  # this folder is on sys.path when run as a script

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=192, help="clips in the synthetic corpus")
    parser.add_argument("--workers", type=int, default=2, help="eGeMAPS worker processes")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory(prefix="weaklabel-egemaps-bench-") as tmp:
        clips = plan_clips(synthetic_corpus(Path(tmp), args.clips), ClipConfig())
        result = {"clips": args.clips, **egemaps_throughput(clips, workers=args.workers)}
    label, value, note = egemaps_row(result)
    print(f"{args.clips} synthetic clips (7 s planned; eGeMAPS reads the un-padded audio)")
    print(f"{label:<27}{value:8.2f} clips/s  {note}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
