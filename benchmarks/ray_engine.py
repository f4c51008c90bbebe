"""The ray engine against the local one: clips/s of ``extract_features`` on the same corpus, one machine.

Writes the synthetic corpus of ``embed_throughput.py`` (WAV files of voiced tones and noise, 7 s
clips planned with ``plan_clips``) into a temporary folder, starts a local Ray instance with this
machine's CPUs (the benchmark starts it; the features stage never does), builds the embedders once
(``--backbones``, default YAMNet and the averaged mel; VGG16 with random weights when named) and
then alternates, ``--repeats`` times, a local run and a ray run into fresh stores. Each ray run pays
what a run on a cluster pays: the Dataset plan, its CPU tasks (which also compute the averaged mel)
and the start of one actor pool per model backbone (the model shipped to and loaded in each actor).
Run it with the checkout first on ``PYTHONPATH`` (``PYTHONPATH=. python benchmarks/ray_engine.py``):
Ray's workers inherit it, so the driver and every worker import the weaklabel being measured.

Printed per engine: median clips/s (wall clock), CPU seconds per clip over this process and every
process it started (Ray's workers included, sampled every 0.1 s), and the ratio ray / local of each
round against the local runs either side (the target: >= 0.8 on one 2-core machine). Absolute
clips/s swing with the load of a shared machine; the ratios of one run are what to compare, and
the CPU-time ratio is what an idle machine's wall clock would show.

Usage: ``python benchmarks/ray_engine.py [--clips 256] [--repeats 2] [--backbones yamnet,mel_mean]
[--actors 1] [--cpus-per-actor 0.5] [--json out.json]`` (needs ``pip install 'weaklabel[ray]'``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil

from weaklabel.audio.clips import ClipConfig, plan_clips
from weaklabel.features.extract import extract_features
from weaklabel.features.ray_engine import EngineConfig, import_ray
from weaklabel.features.registry import EmbedConfig, make_embedders


class TreeCpu:
    """CPU seconds of this process and its descendants while in the ``with`` block (polled)."""

    def __init__(self, every: float = 0.1) -> None:
        self.every, self.first, self.last = every, {}, {}
        self._stop = threading.Event()

    def _poll(self) -> None:
        me = psutil.Process()
        for proc in [me, *me.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            self.last[proc.pid] = times.user + times.system

    def __enter__(self) -> TreeCpu:
        self._poll()
        self.first = dict(self.last)  # what each process had used before; later ones start at 0
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._poll()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._poll()
        self.seconds = sum(self.last[pid] - self.first.get(pid, 0.0) for pid in self.last)


def timed_run(n_clips: int, run: Callable[[], object]) -> tuple[float, float]:
    """(clips/s, CPU ms per clip over the process tree) of ``run()``."""
    with TreeCpu() as cpu:
        started = time.perf_counter()
        run()
        seconds = time.perf_counter() - started
    return n_clips / seconds, 1000 * cpu.seconds / n_clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=256, help="clips in the synthetic corpus")
    parser.add_argument("--repeats", type=int, default=2, help="rounds of one local and one ray run")
    parser.add_argument("--backbones", default="yamnet,mel_mean", help="embedders, comma-separated")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--shard-size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="local producer threads, YAMNet threads")
    parser.add_argument("--actors", type=int, default=1, help="features.actors")
    parser.add_argument("--cpus-per-actor", type=float, default=0.5, help="features.cpus_per_actor")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from embed_throughput import synthetic_corpus  # this folder is on sys.path when run as a script

    ray = import_ray()
    cpus = os.cpu_count() or 1
    names = tuple(args.backbones.split(","))
    config = EmbedConfig(
        features=names,
        weights="random",
        batch_size=args.batch_size,
        shard_size=args.shard_size,
        workers=args.workers,
    )
    engine = EngineConfig(engine="ray", actors=args.actors, cpus_per_actor=args.cpus_per_actor)
    with tempfile.TemporaryDirectory(prefix="wlray") as tmp:
        root = Path(tmp)
        clips = plan_clips(synthetic_corpus(root, args.clips), ClipConfig(length_s=7.0))
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, _temp_dir=str(root / "ray"))
        embedders = make_embedders(config)

        def run(name: str, **kwargs: object) -> Callable[[], object]:
            def go() -> None:
                summary = extract_features(
                    clips, root / name, config=config, embedders=embedders, verbose=False, **kwargs
                )
                assert summary.clips_computed == len(clips), "stores were resumed, not computed"

            return go

        small = clips.iloc[: 2 * args.batch_size]
        extract_features(small, root / "warm-local", config=config, embedders=embedders, verbose=False)
        extract_features(
            small, root / "warm-ray", config=config, embedders=embedders, engine=engine, verbose=False
        )
        local = [timed_run(len(clips), run("local-0"))]
        remote = []
        for k in range(args.repeats):
            remote.append(timed_run(len(clips), run(f"ray-{k}", engine=engine)))
            local.append(timed_run(len(clips), run(f"local-{k + 1}")))
        ray.shutdown()
    speeds, cpu = [s for s, _ in local], [c for _, c in local]
    ray_speeds, ray_cpu = [s for s, _ in remote], [c for _, c in remote]
    ratios = [r / ((a + b) / 2) for r, a, b in zip(ray_speeds, speeds[:-1], speeds[1:], strict=True)]
    result = {
        "machine": f"{platform.machine()}, {cpus} CPUs, load average {os.getloadavg()[0]:.1f} at the end",
        "clips": len(clips),
        "backbones": list(names),
        "batch_size": args.batch_size,
        "actors": args.actors,
        "cpus_per_actor": args.cpus_per_actor,
        "local_clips_s": round(float(np.median(speeds)), 2),
        "local_runs": [round(x, 2) for x in speeds],
        "ray_clips_s": round(float(np.median(ray_speeds)), 2),
        "ray_runs": [round(x, 2) for x in ray_speeds],
        "ratio_ray_to_local": round(float(np.median(ratios)), 3),
        "ratios": [round(x, 3) for x in ratios],
        "local_cpu_ms_per_clip": round(float(np.median(cpu)), 1),
        "ray_cpu_ms_per_clip": round(float(np.median(ray_cpu)), 1),
        "cpu_ratio_local_to_ray": round(float(np.median(cpu) / np.median(ray_cpu)), 3),
    }
    print(
        f"{len(clips)} clips, {', '.join(names)}, on {result['machine']}\n"
        f"local: {result['local_clips_s']} clips/s (runs {result['local_runs']}), "
        f"{result['local_cpu_ms_per_clip']} CPU ms/clip\n"
        f"ray:   {result['ray_clips_s']} clips/s (runs {result['ray_runs']}), "
        f"{result['ray_cpu_ms_per_clip']} CPU ms/clip (driver and workers)\n"
        f"ratio ray/local: {result['ratio_ray_to_local']} (rounds {result['ratios']}; target >= 0.8); "
        f"CPU-time ratio local/ray: {result['cpu_ratio_local_to_ray']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
