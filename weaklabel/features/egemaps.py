"""openSMILE eGeMAPS functionals: a hand-crafted 88-d voice representation that needs no weights.

eGeMAPS v02 (Eyben et al. 2016, "The Geneva Minimalistic Acoustic Parameter Set") summarises a
recording by 88 statistics (functionals) of pitch, loudness, jitter, shimmer, formants, spectral
slope and their temporal dynamics. It is the standard paralinguistic baseline, and the
``opensmile`` PyPI package ships the openSMILE binary, so it runs offline.

Statistics over a 7 s window would be distorted by the silence a short clip is padded with
(loudness means drop, voiced-segment rates change), so eGeMAPS is always computed on the
**un-padded** audio: for a planned clip (:mod:`weaklabel.audio.clips`) that is the
``read_start``/``read_seconds`` slice of the source file, without ``pad_left`` or the tail pad.
:class:`EgemapsEmbedder` is an embedder of the one extraction path
(:func:`weaklabel.features.extract.extract_features`, for the features stage, the probe and
cross-corpus evaluation alike): each batch of fixed-length clips comes with where their real audio
lies (``pad_left`` and ``audio_samples``, see :meth:`EgemapsEmbedder.__call__`). With the ``full``
clip window (:class:`weaklabel.audio.clips.ClipConfig`) that is every sample of each recording.

Extraction runs in a pool of worker processes (one openSMILE instance each). The pool uses the
``spawn`` start method, so it is safe next to TensorFlow's threads in the parent. Workers die with
their parent: each watches it (:func:`exit_with_parent`) and exits within a second or so of the
parent's end, however it ended (``kill -9`` included), instead of living on at ~190 MB each.

**Speed.** A worker's time is almost all openSMILE's own extraction, native code that runs one
thread per instance: on a 2-vCPU VM, per 6 s clip, 96 % native (about 190 ms on a loaded machine,
about 24 ms per second of audio when quiet), 4 % Python wrappers (audinterface, pandas), under 1 %
pool IPC (``benchmarks/egemaps_throughput.py --profile``). So throughput grows with worker
processes up to the cores and not beyond (2 processes: x1.96 one process in the same run), and
there is no Python overhead worth removing. Tasks of ``chunksize`` 4 clips beat 1 (whose per-task
round trips cost more on a busy machine) and match 8.

openSMILE is licensed for research and non-commercial use only (audEERING Research License
Agreement); it is the optional ``opensmile`` extra: ``pip install weaklabel[opensmile]``.
Features extracted with it may not be used in a product without a commercial licence from
audEERING.

Examples
--------
>>> import numpy as np
>>> with EgemapsEmbedder(workers=1) as embedder:  # doctest: +SKIP
...     out = embedder({"audio": np.zeros((2, 16_000), np.float32)})
>>> out["embedding"].shape  # doctest: +SKIP
(2, 88)
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

import numpy as np
from tqdm.auto import tqdm

from weaklabel.audio.io import SAMPLE_RATE
from weaklabel.errors import MissingDependencyError, ParameterError

log = logging.getLogger(__name__)

#: Dimension of the eGeMAPSv02 functionals.
EGEMAPS_DIM = 88
#: What the ``opensmile`` extra is and how to get it (used in every missing-dependency message).
INSTALL_HINT = (
    "install the optional extra with `pip install weaklabel[opensmile]` (in a checkout: "
    "`pip install -e '.[opensmile]'`; openSMILE is licensed for research and non-commercial use "
    "only: see README, 'Licences')"
)
#: Per-clip status codes of :meth:`EgemapsEmbedder.__call__` (``""`` means computed).
OK = ""
#: Too little audio for openSMILE's windows (under ~0.1 s): it returns NaN.
TOO_SHORT = "too_short"

#: Batch keys :meth:`EgemapsEmbedder.__call__` consumes (the others are passed through).
_INPUT_KEYS = ("audio", "mel", "pad_left", "audio_samples")

_SMILE: Any = None  # one openSMILE instance per process, made lazily


def _import_opensmile() -> Any:
    """The ``opensmile`` module, or a :class:`MissingDependencyError` that says how to get it."""
    try:
        import opensmile
    except ImportError as error:
        raise MissingDependencyError(
            f"the egemaps backbone needs the openSMILE Python package, which was not found ({error}); "
            f"{INSTALL_HINT}; or choose another backbone (vgg16, mel_mean)"
        ) from error
    return opensmile


def egemaps_available() -> bool:
    """Whether the ``opensmile`` extra is installed (eGeMAPS rows are added to benchmarks then)."""
    try:
        _import_opensmile()
    except MissingDependencyError:
        return False
    return True


def _smile() -> Any:
    global _SMILE
    if _SMILE is None:
        opensmile = _import_opensmile()
        _SMILE = opensmile.Smile(
            feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals
        )
    return _SMILE


def egemaps_feature_names() -> list[str]:
    """The 88 eGeMAPSv02 functional names, in column order.

    Raises
    ------
    MissingDependencyError
        If the ``opensmile`` extra is not installed.
    """
    return list(_smile().feature_names)


def egemaps_signal(audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, str]:
    """eGeMAPSv02 functionals of one un-padded mono signal.

    Parameters
    ----------
    audio
        Shape (n,), float; the real audio only (no padding).
    sample_rate
        Rate of ``audio``, Hz.

    Returns
    -------
    features : numpy.ndarray
        Shape (88,), float32; all NaN when the signal is too short.
    status : str
        :data:`OK`, or :data:`TOO_SHORT` when openSMILE returned NaN.

    Raises
    ------
    MissingDependencyError
        If the ``opensmile`` extra is not installed.
    """
    audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Segment too short, filling with NaN."
        values = _smile().process_signal(audio, sample_rate).to_numpy(dtype=np.float32).reshape(-1)
    return values, (TOO_SHORT if np.isnan(values).any() else OK)


def _embed_array(job: tuple[np.ndarray, int]) -> tuple[np.ndarray, str]:
    audio, rate = job
    return egemaps_signal(audio, sample_rate=rate)


def exit_with_parent(parent: int, *, every: float = 1.0) -> threading.Thread:
    """End this process as soon as ``parent`` is no longer its parent (the parent died).

    A daemon thread compares ``os.getppid()`` with ``parent`` every ``every`` seconds and calls
    ``os._exit(1)`` once they differ: a worker of a pool must not outlive the process that started
    it (``kill -9`` of an embedding run left eGeMAPS workers behind). ``prctl(PR_SET_PDEATHSIG)``
    is not used: it fires when the *thread* that forked the worker exits, not the process.

    Parameters
    ----------
    parent
        The pid of the process that started this one, as that process saw it (``os.getpid()``
        there, passed along), so a parent that died before this call is caught too.
    every
        Seconds between checks.

    Returns
    -------
    threading.Thread
        The watching thread (started).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    thread = threading.Thread(target=watch, name="weaklabel-parent-watch", daemon=True)
    thread.start()
    return thread


def _init_worker(parent: int | None = None) -> None:
    """Initialise a pool worker: die with ``parent`` (default: the current parent), load openSMILE."""
    exit_with_parent(os.getppid() if parent is None else parent)
    _smile()


def default_workers() -> int:
    """CPU cores this process may use (the default pool size)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def pool_size(workers: int | None, *, what: str) -> int:
    """Workers of a pool: ``workers``, or :func:`default_workers` for None.

    Raises
    ------
    ParameterError
        If ``workers`` is not an integer >= 1; ``what`` names it in the message (``"eGeMAPS workers"``).
    """
    workers = default_workers() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"{what} must be an integer >= 1 (or None for all cores), got {workers!r}")
    return workers


class PooledEmbedder:
    """Base of an embedder that computes in a pool of workers, and of the pool's lifetime.

    The subclass starts the pool on first use and keeps it in ``_pool``; :meth:`close`, the end of
    a ``with`` block, or (without waiting) the embedder's collection stops it.
    """

    _pool: Executor | None = None

    def close(self) -> None:
        """Stop the workers (a later call starts new ones)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self: PooledT) -> PooledT:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not leave workers behind
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


PooledT = TypeVar("PooledT", bound=PooledEmbedder)


class EgemapsEmbedder(PooledEmbedder):
    """eGeMAPSv02 functionals of a batch of clips, computed on their un-padded audio.

    A callable class over a batch, like every embedder (README, "Design"), so a
    Ray Data ``map_batches`` adapter stays thin. The worker pool starts on first use and lives
    until :meth:`close` (or the end of a ``with`` block); a pickled embedder carries no pool.

    Parameters
    ----------
    workers
        Worker processes; ``None`` uses every core this process may run on; ``1`` computes in
        this process (no pool), or in one worker process once TensorFlow is loaded (openSMILE and
        TensorFlow corrupt each other's heap when openSMILE loads second). Worker processes
        re-import the main script (``spawn``): a script that imports TensorFlow at module level
        must import it inside its ``main`` instead, as weaklabel's own entry points do.
    sample_rate
        Rate of the audio given to :meth:`__call__`, Hz (clips are 16 kHz).
    chunksize
        Clips sent to a worker at a time.

    Attributes
    ----------
    name : str
        ``"egemaps"``, the store's folder name.
    dim : int
        88.
    meta : dict
        Recorded in the store's ``meta.json``: feature set, level, openSMILE version, input.

    Raises
    ------
    ParameterError
        If ``workers`` or ``chunksize`` is < 1.
    MissingDependencyError
        If the ``opensmile`` extra is not installed (``pip install weaklabel[opensmile]``).
    """

    name = "egemaps"
    dim = EGEMAPS_DIM
    #: Codes of the per-row ``status`` other than :data:`OK` (counted per store by the extraction run).
    status_codes = (TOO_SHORT,)

    def __init__(
        self, *, workers: int | None = None, sample_rate: int = SAMPLE_RATE, chunksize: int = 4
    ) -> None:
        workers = pool_size(workers, what="eGeMAPS workers")
        if chunksize < 1:
            raise ParameterError(f"eGeMAPS chunksize must be >= 1, got {chunksize}")
        self._opensmile = _import_opensmile()
        self.workers = workers
        self.sample_rate = int(sample_rate)
        self.chunksize = int(chunksize)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def meta(self) -> dict[str, Any]:
        """How the features are made, for the store's ``meta.json`` and the reports."""
        return {
            "embedder": self.name,
            "backbone": "openSMILE eGeMAPSv02 functionals",
            "feature_set": "eGeMAPSv02",
            "feature_level": "functionals",
            "opensmile": str(getattr(self._opensmile, "__version__", "unknown")),
            "weights": "none (hand-crafted acoustic features, no learned weights)",
            "input": "un-padded clip audio (read_start/read_seconds slice)",
            "sample_rate": self.sample_rate,
            "dim": self.dim,
            "licence": "openSMILE: audEERING research licence, research and non-commercial use only",
        }

    # ------------------------------------------------------------------ pool
    def _executor(self) -> Executor | None:
        # openSMILE's native library corrupts the heap of a process that has loaded TensorFlow
        # ("malloc(): invalid size"), so beside TensorFlow even one worker is a separate process.
        if self.workers == 1 and "tensorflow" not in sys.modules:
            return None
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
            )
            log.debug("eGeMAPS: started %d worker processes", self.workers)
        return self._pool

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_pool"] = None
        state["_opensmile"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._opensmile = _import_opensmile()

    # ------------------------------------------------------------- embedding
    def embed_signals(
        self, signals: Iterable[np.ndarray], *, verbose: bool = False
    ) -> tuple[np.ndarray, list[str]]:
        """Functionals of un-padded signals of any lengths.

        Parameters
        ----------
        signals
            Each of shape (n_i,), float, at :attr:`sample_rate`.
        verbose
            Show a progress bar.

        Returns
        -------
        features : numpy.ndarray
            Shape (len(signals), 88), float32; NaN rows where a signal was too short.
        status : list of str
            Per signal: :data:`OK` or :data:`TOO_SHORT`.
        """
        jobs = [(np.asarray(s, dtype=np.float32).reshape(-1), self.sample_rate) for s in signals]
        pool = self._executor()
        mapped = (
            map(_embed_array, jobs)
            if pool is None
            else pool.map(_embed_array, jobs, chunksize=self.chunksize)
        )
        results = list(tqdm(mapped, total=len(jobs), desc="eGeMAPS", unit="clip", disable=not verbose))
        return _stack(r[0] for r in results), [r[1] for r in results]

    def __call__(self, batch: dict[str, Any]) -> dict[str, np.ndarray]:
        """Functionals of a batch of clips.

        Parameters
        ----------
        batch
            ``audio``: (n, samples) float32 fixed-length clips at :attr:`sample_rate`, or a
            sequence of n 1-D arrays of any lengths (taken as already un-padded). With
            fixed-length clips, pass where the real audio lies, as the clips table has it:
            ``pad_left`` (n,) int, samples of silence before the audio, and ``audio_samples``
            (n,) int, samples of real audio (``round(read_seconds * sample_rate)``). Without
            them the clip is trimmed of exact zeros at both ends (what
            :func:`weaklabel.audio.clips.fix_length` pads with), which is right unless the recording
            itself starts or ends in digital silence.

        Returns
        -------
        dict
            ``embedding``: (n, 88) float32 (NaN rows for clips with too little audio);
            ``status``: (n,) str, :data:`OK` or :data:`TOO_SHORT`; plus the batch's other keys
            (e.g. ``segment_id``), passed through as Ray Data's ``map_batches`` likes.

        Raises
        ------
        ParameterError
            If ``audio`` is not 2-D (or a sequence of 1-D arrays), or the position arrays do
            not match it.
        """
        signals = unpadded(
            batch["audio"], pad_left=batch.get("pad_left"), audio_samples=batch.get("audio_samples")
        )
        features, status = self.embed_signals(signals)
        bad = sum(1 for s in status if s)
        if bad:
            log.warning("eGeMAPS: %d of %d clips had too little audio and got NaN features", bad, len(status))
        passed = {k: v for k, v in batch.items() if k not in _INPUT_KEYS}
        return {**passed, "embedding": features, "status": np.array(status, dtype=object)}


def _stack(rows: Iterable[np.ndarray]) -> np.ndarray:
    rows = list(rows)
    if not rows:
        return np.zeros((0, EGEMAPS_DIM), np.float32)
    return np.stack(rows).astype(np.float32, copy=False)


def unpadded(
    audio: np.ndarray | Sequence[np.ndarray],
    *,
    pad_left: np.ndarray | Sequence[int] | None = None,
    audio_samples: np.ndarray | Sequence[int] | None = None,
) -> list[np.ndarray]:
    """The real-audio part of each clip of a batch.

    Parameters
    ----------
    audio
        (n, samples) fixed-length clips, or a sequence of n 1-D arrays (returned as they are).
    pad_left
        (n,) samples of silence before each clip's audio (the clips table's ``pad_left``).
    audio_samples
        (n,) samples of real audio in each clip.

    Returns
    -------
    list of numpy.ndarray
        n 1-D float32 arrays. Without ``pad_left``/``audio_samples``, exact zeros at both ends
        are trimmed instead.

    Raises
    ------
    ParameterError
        If shapes disagree, or only one of ``pad_left``/``audio_samples`` is given.
    """
    if not isinstance(audio, np.ndarray) or audio.dtype == object:
        signals = [np.asarray(a, dtype=np.float32).reshape(-1) for a in audio]
        if pad_left is not None or audio_samples is not None:
            raise ParameterError(
                "pad_left/audio_samples apply to fixed-length (n, samples) clips, not ragged audio"
            )
        return signals
    if audio.ndim != 2:
        raise ParameterError(f"batch['audio'] must be (n, samples), got shape {audio.shape}")
    n, length = audio.shape
    if (pad_left is None) != (audio_samples is None):
        raise ParameterError(
            "pass both pad_left and audio_samples (where each clip's real audio lies), or neither"
        )
    if pad_left is None:
        return [_trim_zeros(row) for row in audio]
    starts = np.asarray(pad_left, dtype=np.int64).reshape(-1)
    counts = np.asarray(audio_samples, dtype=np.int64).reshape(-1)
    if starts.shape != (n,) or counts.shape != (n,):
        raise ParameterError(
            f"pad_left and audio_samples must have shape ({n},), got {starts.shape} and {counts.shape}"
        )
    if (starts < 0).any() or (counts < 0).any() or (starts + counts > length).any():
        raise ParameterError(f"pad_left + audio_samples must lie within the {length}-sample clips")
    return [
        np.asarray(row[s : s + c], dtype=np.float32) for row, s, c in zip(audio, starts, counts, strict=True)
    ]


def _trim_zeros(row: np.ndarray) -> np.ndarray:
    nonzero = np.flatnonzero(row)
    if not nonzero.size:
        return np.zeros(0, np.float32)
    return np.asarray(row[nonzero[0] : nonzero[-1] + 1], dtype=np.float32)
