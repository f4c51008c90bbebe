"""Throughput of the YAMNet embedder: model only vs end to end, on 7 s clips, in one run.

Times three ways of embedding the same clips, batch by batch in alternating order (so that all
three see the same load on a shared machine), and prints clips/s, process CPU ms per clip and the
ratios end to end / model only (the target is >= 0.9):

- **model only**: ``--threads`` single-thread LiteRT interpreters of the embedding graph, one per
  thread, each invoking on its share of the batch's frames, already cut and contiguous: the floor of
  what any runner of this model pays;
- **end to end**: :class:`weaklabel.features.yamnet.YAMNetEmbedder` on batch dicts of fixed-length
  7 s clips (``audio``, ``pad_left``, ``audio_samples``; ``--batch-size`` clips) to embeddings:
  un-padding, framing, the thread pool, the model and the pooling;
- for reference, the unmodified model read with ``experimental_preserve_all_tensors=True``.

``--keras`` adds a Keras twin of YAMNet's MobileNet-v1 (random weights, the same layer shapes;
log-mel patches in, no mel front end) run by TensorFlow on all of a batch's frames in one call: what
a batchable rebuild could reach on this CPU at best.

Absolute clips/s swing with load on a shared machine: compare the numbers of one run. Needs no data
and no internet (synthetic tones and noise). From the repo root::

    python benchmarks/yamnet_throughput.py [--clips 128] [--threads 2] [--repeats 2] [--keras]
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import warnings

import numpy as np

from weaklabel.features import yamnet as ym

RATE = 16_000
CLIP = 7 * RATE


def synthetic_clips(n: int, seed: int = 0) -> np.ndarray:
    """(n, 112000) float32 7 s clips: a tone with a random pitch and noise, |x| < 1."""
    rng = np.random.default_rng(seed)
    t = np.arange(CLIP) / RATE
    pitch = rng.uniform(100, 400, size=(n, 1))
    return (0.3 * np.sin(2 * np.pi * pitch * t) + 0.05 * rng.normal(size=(n, CLIP))).astype(np.float32)


class ModelOnly:
    """``threads`` single-thread interpreters, each invoking on its contiguous share of the frames."""

    def __init__(self, *, threads: int, preserve_all: bool = False) -> None:
        from ai_edge_litert.interpreter import Interpreter

        if preserve_all:  # the unmodified model, every intermediate tensor kept
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                self.interpreters = [
                    Interpreter(
                        model_path=str(ym.DEFAULT_WEIGHTS),
                        num_threads=1,
                        experimental_preserve_all_tensors=True,
                    )
                    for _ in range(threads)
                ]
            self.output = 121
        else:
            model, self.output = ym.embedding_graph(ym.read_weights()[0])
            self.interpreters = [Interpreter(model_content=model, num_threads=1) for _ in range(threads)]
        for interpreter in self.interpreters:
            interpreter.allocate_tensors()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(k, 15600) contiguous frames -> (k, 1024) embeddings."""
        out = np.empty((len(frames), ym.EMBEDDING_DIM), np.float32)

        def work(interpreter, rows) -> None:
            for k in rows:
                interpreter.set_tensor(0, frames[k : k + 1])
                interpreter.invoke()
                out[k] = interpreter.get_tensor(self.output)[0]

        shares = np.array_split(np.arange(len(frames)), len(self.interpreters))
        workers = [
            threading.Thread(target=work, args=pair) for pair in zip(self.interpreters, shares, strict=True)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return out


def timed(func, *args) -> tuple[float, float]:
    """(wall s, process CPU s) of ``func(*args)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    func(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def batch_dict(audio: np.ndarray) -> dict[str, np.ndarray]:
    """A batch of fixed-length clips holding 7 s of real audio each, as the extraction loop makes it."""
    n = len(audio)
    return {"audio": audio, "pad_left": np.zeros(n, np.int64), "audio_samples": np.full(n, CLIP, np.int64)}


def keras_twin() -> object:
    """A Keras YAMNet twin (random weights): (k, 96, 64, 1) log-mel patches -> (k, 1024), compiled."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    layers = keras.layers
    x = inputs = keras.Input((96, 64, 1))
    x = layers.Conv2D(32, 3, 2, padding="same", use_bias=False)(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    blocks = [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512)] + [(1, 512)] * 5
    for stride, channels in [*blocks, (2, 1024), (1, 1024)]:
        x = layers.DepthwiseConv2D(3, stride, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        x = layers.Conv2D(channels, 1, use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    run = tf.function(lambda batch: model(batch, training=False))
    return lambda patches: run(patches).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=128, help="7 s clips per round")
    parser.add_argument("--threads", type=int, default=2, help="interpreters (one per thread)")
    parser.add_argument("--repeats", type=int, default=2, help="rounds over the clips")
    parser.add_argument("--batch-size", type=int, default=16, help="clips per embedder call")
    parser.add_argument("--keras", action="store_true", help="also time a batched Keras twin")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()

    clips = synthetic_clips(args.clips)
    per_clip = ym.frame_count(CLIP)
    batches = [clips[lo : lo + args.batch_size] for lo in range(0, len(clips), args.batch_size)]
    frames = [np.ascontiguousarray(np.concatenate([ym.frame_signal(c)[0] for c in b])) for b in batches]
    kinds = ("model_only", "end_to_end", "preserve_all_tensors") + (("keras_twin",) if args.keras else ())
    wall = dict.fromkeys(kinds, 0.0)
    cpu = dict.fromkeys(kinds, 0.0)
    load_before = os.getloadavg()
    with ym.YAMNetEmbedder(threads=args.threads) as embedder:
        model, reference = ModelOnly(threads=args.threads), ModelOnly(threads=args.threads, preserve_all=True)
        run = {
            "model_only": lambda k: model(frames[k]),
            "end_to_end": lambda k: embedder(batch_dict(batches[k])),
            "preserve_all_tensors": lambda k: reference(frames[k]),
        }
        if args.keras:
            twin = keras_twin()
            patches = np.random.default_rng(0).random((len(frames[0]), 96, 64, 1), dtype=np.float32)
            run["keras_twin"] = lambda k: twin(patches[: len(frames[k])])
        for kind in kinds:  # warm: threads, interpreters
            run[kind](0)
        # Batch by batch, in an order that alternates, so that every kind sees the same load.
        for step in range(args.repeats * len(batches)):
            k = step % len(batches)
            for kind in kinds if step % 2 == 0 else kinds[::-1]:
                seconds, cpu_seconds = timed(run[kind], k)
                wall[kind] += seconds
                cpu[kind] += cpu_seconds
    n = args.repeats * len(clips)
    result = {
        "clips": n,
        "frames_per_clip": per_clip,
        "threads": args.threads,
        "batch_size": args.batch_size,
        **{f"{kind}_clips_s": round(n / wall[kind], 1) for kind in kinds},
        **{f"{kind}_cpu_ms_per_clip": round(1000 * cpu[kind] / n, 2) for kind in kinds},
        "ratio": round(wall["model_only"] / wall["end_to_end"], 3),
        "ratio_cpu": round(cpu["model_only"] / cpu["end_to_end"], 3),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    print(
        f"YAMNet on {n} x 7 s clips ({per_clip} frames each), {args.threads} threads, {os.cpu_count()} CPUs"
    )
    print("                                        clips/s   CPU ms/clip")
    for label, kind in (
        ("model only (embedding graph)", "model_only"),
        ("end to end (batch -> embeddings)", "end_to_end"),
        ("model only, preserve_all_tensors", "preserve_all_tensors"),
        ("Keras twin, batched, no mel front end", "keras_twin"),
    ):
        if kind not in kinds:
            continue
        print(f"  {label:36s} {result[f'{kind}_clips_s']:8.1f}   {result[f'{kind}_cpu_ms_per_clip']:8.2f}")
    print(f"  ratio end to end / model only        {result['ratio']:8.3f}   {result['ratio_cpu']:8.3f} (CPU)")
    print(f"  load average before {load_before[0]:.2f}, after {result['loadavg_after'][0]:.2f}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
