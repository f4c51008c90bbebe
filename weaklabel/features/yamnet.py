"""YAMNet embeddings: a real AudioSet-pretrained audio backbone that works offline.

YAMNet (Google; Apache-2.0, see ``NOTICE``) is a MobileNet-v1 trained on AudioSet's 521 sound
classes. It hears 0.975 s of 16 kHz mono waveform at a time (15,600 samples: 96 log-mel frames of
10 ms, 64 bands 125-7500 Hz, computed inside the model) and its global-average-pooled last
convolution is the 1024-d embedding YAMNet users transfer from. weaklabel ships the model as
``weaklabel/features/assets/yamnet.tflite`` and refuses any file whose sha256 is not
:data:`YAMNET_SHA256`.

**Framing.** Each clip is embedded on its **real, un-padded audio** only (the ``pad_left`` /
``audio_samples`` slice of the fixed-length clip), so the silence a short segment is padded with
does not dilute it. That audio is cut into YAMNet's own frames: windows of :data:`WINDOW` samples
every :data:`HOP` samples (0.48 s), ``1 + (n - 15600) // 7680`` frames for ``n`` samples (13 for a
7 s clip). No frame holds padding: the last < 0.48 s that does not fill a whole window is left out
(YAMNet's own ``features.pad_waveform`` instead pads the end with zeros to complete one more hop,
so it would give 14 frames for 7 s, the last one 22 % silence). A clip shorter than one window is
zero-padded at the end to one window; such clips are counted (:attr:`YAMNetEmbedder.short_clips`,
and the ``"status"`` of each row is :data:`SHORT`). The clip vector is the mean of its frame
embeddings (``pooling="mean"``, 1024-d), or the mean and the standard deviation side by side
(``pooling="mean+std"``, 2048-d).

**Runtime.** The LiteRT interpreter (PyPI ``ai-edge-litert``, the successor of
``tf.lite.Interpreter``). The embedding is an intermediate tensor of the file, so at load time the
graph is rewritten in memory (the flatbuffer schema LiteRT ships) to output that tensor, and the
classifier head that only fed the class scores is dropped: the embedding is the very tensor the
unmodified file computes (bit for bit), without ``experimental_preserve_all_tensors`` (which keeps
every intermediate buffer alive and is slower). The graph has fixed internal shapes (XNNPACK cannot
resize it to a batch), so every call embeds one frame, and throughput comes from parallel
single-thread interpreters, one per worker thread (``invoke`` releases the GIL). A Keras rebuild of
the network would batch (and run on a GPU), but on a 2-core CPU a Keras twin of the network,
batched and without its mel front end, ran at 0.57 x the clips/s of two LiteRT interpreters with it
(12.3 vs 21.4 clips/s, 56 vs 36 CPU ms per 7 s clip, timed interleaved under the same load:
``benchmarks/yamnet_throughput.py --keras``).

Examples
--------
>>> import numpy as np
>>> with YAMNetEmbedder(threads=1) as embedder:  # doctest: +SKIP
...     out = embedder({"audio": np.zeros((2, 112_000), np.float32),
...                     "pad_left": np.array([0, 40_000]), "audio_samples": np.array([112_000, 8_000])})
>>> out["embedding"].shape, embedder.short_clips  # doctest: +SKIP
((2, 1024), 1)
"""

from __future__ import annotations

import hashlib
import logging
import math
import queue
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.audio.io import SAMPLE_RATE
from weaklabel.errors import DataError, MissingDependencyError, ParameterError
from weaklabel.features.egemaps import PooledEmbedder, pool_size, unpadded

log = logging.getLogger(__name__)

#: The packaged model files (``yamnet.tflite``, ``yamnet_class_map.csv``, ``NOTICE``, licence).
ASSETS = Path(__file__).resolve().parent / "assets"
#: The packaged YAMNet TensorFlow Lite model: the default ``weights``.
DEFAULT_WEIGHTS = ASSETS / "yamnet.tflite"
#: Index, AudioSet mid and display name of YAMNet's 521 classes (index 0 = Speech).
CLASS_MAP = ASSETS / "yamnet_class_map.csv"
#: Sha256 of the only YAMNet file accepted (the packaged one).
YAMNET_SHA256 = "469be6a3421cbc52cf97e9f2f966cba984198e8e7af9854d68b3e3ebb1e04194"
#: The 1024-d embedding tensor of the file (tensor 121).
EMBEDDING_TENSOR = "yamnet_frames/global_average_pooling2d/Mean"
#: Size of one frame embedding.
EMBEDDING_DIM = 1024
#: Samples of one YAMNet frame (0.975 s at 16 kHz: 96 STFT hops of 10 ms plus a 25 ms window).
WINDOW = 15_600
#: Samples between frames (0.48 s).
HOP = 7_680
#: ``pooling`` -> dimension of the clip vector.
POOLINGS = {"mean": EMBEDDING_DIM, "mean+std": 2 * EMBEDDING_DIM}
#: Per-row status: embedded from whole frames of real audio.
OK = ""
#: Per-row status: less real audio than one window, zero-padded to one window.
SHORT = "short_padded"
#: The dependency that provides the interpreter, as pyproject.toml pins it.
LITERT_REQUIREMENT = "ai-edge-litert>=2.3,<3"

#: Batch keys :meth:`YAMNetEmbedder.__call__` consumes (the others are passed through).
_INPUT_KEYS = ("audio", "mel", "pad_left", "audio_samples")


def _import_litert() -> tuple[Any, Any, Any]:
    """``(Interpreter, schema module, flatbuffers)``, or an error that says how to get them."""
    try:
        import flatbuffers
        from ai_edge_litert import schema_py_generated as schema
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        raise MissingDependencyError(
            f"the yamnet backbone needs the LiteRT interpreter, PyPI package ai-edge-litert, which was "
            f"not found ({error}); install it with `pip install '{LITERT_REQUIREMENT}'` (wheels for "
            "CPython 3.10-3.13 on Linux x86-64/aarch64, macOS arm64 and Windows x86-64; none for Intel "
            "macOS), or choose another backbone (vgg16, egemaps, mel_mean)"
        ) from error
    return Interpreter, schema, flatbuffers


def yamnet_available() -> bool:
    """Whether the LiteRT interpreter is installed (YAMNet rows are added to benchmarks then)."""
    try:
        _import_litert()
    except MissingDependencyError:
        return False
    return True


def read_weights(path: str | Path | None = None) -> tuple[bytes, str]:
    """Read a YAMNet model file and check that it is the one weaklabel ships.

    Parameters
    ----------
    path
        A copy of ``yamnet.tflite``; ``None`` for the packaged file (:data:`DEFAULT_WEIGHTS`).

    Returns
    -------
    content : bytes
        The file.
    sha256 : str
        Its sha256, :data:`YAMNET_SHA256`.

    Raises
    ------
    MissingDependencyError
        If the file does not exist.
    DataError
        If its sha256 is not :data:`YAMNET_SHA256` (naming the file, both hashes and the fix).
    """
    path = DEFAULT_WEIGHTS if path is None else Path(path)
    if not path.is_file():
        raise MissingDependencyError(
            f"YAMNet model file {path} not found; "
            + (
                "the weaklabel installation lacks its packaged model: reinstall weaklabel "
                "(`pip install --force-reinstall weaklabel`, in a checkout `pip install -e .`)"
                if path == DEFAULT_WEIGHTS
                else f"pass the path of a copy of yamnet.tflite (sha256 {YAMNET_SHA256}), or leave the "
                "weights unset to use the packaged one"
            )
        )
    content = path.read_bytes()
    found = hashlib.sha256(content).hexdigest()
    if found != YAMNET_SHA256:
        raise DataError(
            f"YAMNet model file {path} has sha256 {found}, expected {YAMNET_SHA256} (the yamnet.tflite "
            "weaklabel ships): it is damaged or another model; "
            + (
                "reinstall weaklabel to restore it (`pip install --force-reinstall weaklabel`, in a "
                "checkout `git checkout -- weaklabel/features/assets/yamnet.tflite`)"
                if path == DEFAULT_WEIGHTS
                else "point the weights at an intact copy, or leave them unset to use the packaged file"
            )
        )
    return content, found


def embedding_graph(content: bytes) -> tuple[bytes, int]:
    """Rewrite a YAMNet model to output its 1024-d embedding, without the classifier head.

    The graph's outputs become the :data:`EMBEDDING_TENSOR` alone and every operator that does not
    lead to it (the dense layer and sigmoid of the class scores) is removed; nothing else changes,
    so the tensor holds the same values as in the original graph.

    Parameters
    ----------
    content
        A YAMNet ``.tflite`` file (see :func:`read_weights`).

    Returns
    -------
    model : bytes
        The rewritten flatbuffer, for ``Interpreter(model_content=...)``.
    index : int
        The embedding tensor's index (121 in the packaged file).

    Raises
    ------
    DataError
        If the model has no ``[1, 1024]`` tensor named :data:`EMBEDDING_TENSOR`.
    MissingDependencyError
        If ai-edge-litert is not installed.
    """
    _, schema, flatbuffers = _import_litert()
    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    graph = model.subgraphs[0]
    names = [
        tensor.name.decode() if isinstance(tensor.name, bytes) else tensor.name for tensor in graph.tensors
    ]
    if EMBEDDING_TENSOR not in names:
        raise DataError(
            f"the model has no tensor {EMBEDDING_TENSOR!r}: it is not the YAMNet TensorFlow Lite model "
            "weaklabel ships; use the packaged yamnet.tflite"
        )
    index = names.index(EMBEDDING_TENSOR)
    shape = [int(s) for s in np.asarray(graph.tensors[index].shape).reshape(-1)]
    if shape != [1, EMBEDDING_DIM]:
        raise DataError(
            f"YAMNet tensor {EMBEDDING_TENSOR!r} has shape {shape}, expected [1, {EMBEDDING_DIM}]"
        )
    needed, kept = {index}, []
    for op in reversed(graph.operators):  # operators are stored in execution order
        if needed.intersection(int(t) for t in np.asarray(op.outputs).reshape(-1)):
            kept.append(op)
            needed.update(int(t) for t in np.asarray(op.inputs).reshape(-1) if t >= 0)
    graph.operators = kept[::-1]
    graph.outputs = np.array([index], dtype=np.int32)
    model.signatureDefs = None  # they name the removed class-score output
    builder = flatbuffers.Builder(len(content) + 4096)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), index


def frame_count(samples: int) -> int:
    """YAMNet frames of ``samples`` samples of audio: ``1 + (samples - 15600) // 7680``, at least 1."""
    return 1 if samples < WINDOW else 1 + (samples - WINDOW) // HOP


def frame_signal(audio: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cut one un-padded signal into YAMNet's frames.

    Parameters
    ----------
    audio
        Shape (n,), float, 16 kHz mono in [-1, 1]: the real audio only.

    Returns
    -------
    frames : numpy.ndarray
        Shape (:func:`frame_count` (n), 15600), float32: windows every 7680 samples (a read-only
        view of ``audio`` when it is float32); a signal shorter than one window is zero-padded at
        the end to one.
    short : bool
        Whether the signal was shorter than one window.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size < WINDOW:
        padded = np.zeros((1, WINDOW), np.float32)
        padded[0, : audio.size] = audio
        return padded, True
    return np.lib.stride_tricks.sliding_window_view(audio, WINDOW)[::HOP], False


def pool_frames(frame_embeddings: np.ndarray, *, pooling: str = "mean") -> np.ndarray:
    """A clip vector from its frame embeddings.

    Parameters
    ----------
    frame_embeddings
        Shape (frames, 1024).
    pooling
        ``"mean"`` (1024-d) or ``"mean+std"`` (the mean, then the standard deviation: 2048-d).

    Returns
    -------
    numpy.ndarray
        Shape (1024,) or (2048,), float32.
    """
    values = np.asarray(frame_embeddings, dtype=np.float64)
    mean = values.mean(axis=0)
    if pooling == "mean":
        return mean.astype(np.float32)
    return np.concatenate([mean, values.std(axis=0)]).astype(np.float32)


class YAMNetEmbedder(PooledEmbedder):
    """YAMNet embedding of a batch of clips, on their un-padded audio (callable class over a batch).

    Parameters
    ----------
    weights
        Path of a copy of ``yamnet.tflite`` (its sha256 must be :data:`YAMNET_SHA256`); ``None``
        (default) for the packaged file.
    pooling
        ``"mean"`` (default; 1024-d) or ``"mean+std"`` (2048-d) of the frame embeddings.
    threads
        Parallel interpreters, each single-threaded and run by its own worker thread; ``None``
        (default) for every core this process may use; ``1`` runs in the calling thread.
    sample_rate
        Rate of the clips, Hz: YAMNet takes 16 kHz only.

    Attributes
    ----------
    name : str
        ``"yamnet"``, the store's folder name.
    dim : int
        1024 or 2048 (``pooling``).
    meta : dict
        What makes the features: embedder, weights sha256 (``weights_fingerprint``), pooling,
        framing (``window_samples``, ``hop_samples``), sample rate, dim; provenance: the model file's
        name and sha256, ``weights: "audioset"``, the licence.
    clips_seen : int
        Clips embedded by :meth:`__call__` and :meth:`embed_signals` since construction.
    short_clips : int
        Of those, clips with less real audio than one window (zero-padded to one).
    frames_seen : int
        Frames run through the model since construction.

    Raises
    ------
    ParameterError
        On an unknown ``pooling``, ``threads`` < 1, or a ``sample_rate`` other than 16000.
    MissingDependencyError
        If ai-edge-litert is not installed, or the model file is missing.
    DataError
        If the model file's sha256 is not :data:`YAMNET_SHA256`.
    """

    name = "yamnet"

    def __init__(
        self,
        *,
        weights: str | Path | None = None,
        pooling: str = "mean",
        threads: int | None = None,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        if pooling not in POOLINGS:
            raise ParameterError(f"YAMNet pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        threads = pool_size(threads, what="YAMNet threads")
        if int(sample_rate) != SAMPLE_RATE:
            raise ParameterError(
                f"YAMNet takes {SAMPLE_RATE} Hz audio, but the clips are at {sample_rate} Hz: set "
                f"clips.sample_rate and mel.sample_rate to {SAMPLE_RATE}"
            )
        self._interpreter_class = _import_litert()[0]
        self.weights_path = DEFAULT_WEIGHTS if weights is None else Path(weights)
        content, self.weights_sha256 = read_weights(self.weights_path)
        self._model, self._output = embedding_graph(content)
        self.pooling, self.threads, self.sample_rate = pooling, threads, SAMPLE_RATE
        self.dim = POOLINGS[pooling]
        self.meta = self._meta()
        self.clips_seen = self.short_clips = self.frames_seen = 0
        self._lock = threading.Lock()
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pool: ThreadPoolExecutor | None = None
        self._idle.put(self._new_interpreter())  # fails here, not mid-run, if the model cannot load
        log.debug("YAMNet embedder ready: %d threads, pooling %s", threads, pooling)

    def _meta(self) -> dict[str, Any]:
        return {
            "embedder": self.name,
            "backbone": "YAMNet (MobileNet-v1 trained on AudioSet), TensorFlow Lite",
            "layer": EMBEDDING_TENSOR,
            "pooling": self.pooling,
            "dim": self.dim,
            "precision": "float32",
            "sample_rate": self.sample_rate,
            "window_samples": WINDOW,
            "hop_samples": HOP,
            "input": (
                "un-padded clip audio (pad_left/audio_samples slice); whole windows only, the tail "
                "under one hop dropped; a clip under one window zero-padded to one"
            ),
            "weights_fingerprint": self.weights_sha256,
            "weights": "audioset",
            "weights_file": self.weights_path.name,
            "weights_sha256": self.weights_sha256,
            "licence": "YAMNet: Apache-2.0, Google (see NOTICE)",
        }

    # ------------------------------------------------------------ resources
    def _new_interpreter(self) -> Any:
        interpreter = self._interpreter_class(model_content=self._model, num_threads=1)
        interpreter.allocate_tensors()
        self._input = interpreter.get_input_details()[0]["index"]
        return interpreter

    def _executor(self) -> ThreadPoolExecutor | None:
        if self.threads == 1:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="weaklabel-yamnet")
        return self._pool

    def close(self) -> None:
        """Stop the worker threads and free the interpreters (a later call makes new ones)."""
        super().close()
        self._idle = queue.SimpleQueue()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_pool", "_idle", "_lock", "_interpreter_class"):
            state.pop(key)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._interpreter_class = _import_litert()[0]
        self._lock, self._idle, self._pool = threading.Lock(), queue.SimpleQueue(), None

    # ------------------------------------------------------------- embedding
    def _run(self, windows: Sequence[np.ndarray], out: np.ndarray, lo: int, hi: int) -> None:
        """Embed ``windows[lo:hi]`` into ``out[lo:hi]`` with an interpreter no other thread holds."""
        try:
            interpreter = self._idle.get_nowait()
        except queue.Empty:
            interpreter = self._new_interpreter()
        try:
            for k in range(lo, hi):
                interpreter.set_tensor(self._input, windows[k].reshape(1, WINDOW))
                interpreter.invoke()
                out[k] = interpreter.get_tensor(self._output)[0]
        finally:
            self._idle.put(interpreter)

    def embed_frames(self, windows: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """The 1024-d YAMNet embedding of each frame.

        Parameters
        ----------
        windows
            Shape (k, 15600) float32, or a sequence of k such 1-D frames.

        Returns
        -------
        numpy.ndarray
            Shape (k, 1024), float32.

        Raises
        ------
        ParameterError
            If a frame is not 15600 samples long.
        """
        windows = [np.ascontiguousarray(w, dtype=np.float32) for w in windows]
        if any(w.size != WINDOW for w in windows):
            raise ParameterError(f"YAMNet frames must have {WINDOW} samples each")
        out = np.empty((len(windows), EMBEDDING_DIM), np.float32)
        executor = self._executor()
        if executor is None or len(windows) < 2:
            self._run(windows, out, 0, len(windows))
        else:  # a few tasks per thread, so a thread slowed by a busy core does not hold the batch
            size = max(1, math.ceil(len(windows) / (4 * self.threads)))
            tasks = [
                executor.submit(self._run, windows, out, lo, min(lo + size, len(windows)))
                for lo in range(0, len(windows), size)
            ]
            for task in tasks:
                task.result()
        return out

    def embed_signals(self, signals: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Clip vectors of un-padded signals of any lengths.

        Parameters
        ----------
        signals
            Each of shape (n_i,), float, 16 kHz mono in [-1, 1]: the real audio only.

        Returns
        -------
        embedding : numpy.ndarray
            Shape (len(signals), dim), float32.
        frames : numpy.ndarray
            Shape (len(signals),), int32: frames per signal.
        short : numpy.ndarray
            Shape (len(signals),), bool: signals zero-padded to one window.
        """
        cut = [frame_signal(signal) for signal in signals]
        counts = np.array([len(f) for f, _ in cut], dtype=np.int32)
        short = np.array([s for _, s in cut], dtype=bool)
        per_frame = self.embed_frames([window for f, _ in cut for window in f])
        ends = np.cumsum(counts)
        embedding = np.empty((len(cut), self.dim), np.float32)
        for row, (end, count) in enumerate(zip(ends, counts, strict=True)):
            embedding[row] = pool_frames(per_frame[end - count : end], pooling=self.pooling)
        with self._lock:
            self.clips_seen += len(cut)
            self.short_clips += int(short.sum())
            self.frames_seen += int(counts.sum())
        return embedding, counts, short

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Embed a batch of clips.

        Parameters
        ----------
        batch
            ``audio``: (n, samples) float32 fixed-length 16 kHz clips, or a sequence of n 1-D
            arrays of any lengths (taken as already un-padded). With fixed-length clips pass where
            the real audio lies, as the clips table has it: ``pad_left`` (n,) samples of silence
            before it and ``audio_samples`` (n,) samples of it; without them exact zeros at both
            ends are trimmed instead (see :func:`weaklabel.features.egemaps.unpadded`). A ``mel``
            is ignored.

        Returns
        -------
        dict
            ``embedding``: (n, dim) float32; ``frames``: (n,) int32 frames per clip; ``status``:
            (n,) str, :data:`OK` or :data:`SHORT`; plus the batch's other keys (e.g.
            ``segment_id``), passed through as Ray Data's ``map_batches`` likes.

        Raises
        ------
        ParameterError
            If ``audio`` is not 2-D (or a sequence of 1-D arrays), or the position arrays do not
            match it.
        """
        signals = unpadded(
            batch["audio"], pad_left=batch.get("pad_left"), audio_samples=batch.get("audio_samples")
        )
        embedding, counts, short = self.embed_signals(signals)
        if short.any():
            log.debug("YAMNet: %d of %d clips under one window, zero-padded to one", short.sum(), len(short))
        passed = {k: v for k, v in batch.items() if k not in _INPUT_KEYS}
        status = np.where(short, SHORT, OK).astype(object)
        return {**passed, "embedding": embedding, "frames": counts, "status": status}
