"""The one path from recordings to features: every planned clip through every embedder, into stores.

:func:`extract_features` is the single extraction path: the features stage (``weaklabel features``),
the probe (:mod:`weaklabel.learn.probe`) and cross-corpus evaluation
(:mod:`weaklabel.learn.crosscorpus`) all call it. It takes either a clips table already planned (the
clips stage's ``clips.parquet``) or a recordings table (segments, or whole files with ``start`` 0)
together with a :class:`~weaklabel.audio.clips.ClipConfig`, whose ``window`` policy (``random``
seeded, ``centre``, ``full`` un-padded) plans the clips (:func:`weaklabel.audio.clips.plan_clips`).
What it returns (:class:`ExtractSummary`) gives each backbone's features as a frame indexed by
``segment_id`` (:meth:`ExtractSummary.features`), their metas, the plan and the rejects.

One pass over the clips fills all stores (``vgg16``, ``yamnet``, ``egemaps`` and ``mel_mean`` by
default) and computes each clip's log-mel once. A pool of producer threads reads the clips
(:func:`weaklabel.audio.clips.load_clip`, only the planned slice of each file) and computes the
log-mels of whole batches while the main thread runs the model on the previous batch, so decoding
and mel cost little model time. Every batch also says where each clip's real audio lies
(``pad_left``, ``audio_samples``), so an embedder that must not see the padding (eGeMAPS, YAMNet)
reads the un-padded audio. An embedder may flag clips (a per-row ``status``, e.g. YAMNet's
``short_padded`` for a clip under one 0.975 s window): the counts are kept with each shard and
reported per store (:attr:`ExtractSummary.clip_status`). Features are written shard by shard
(:mod:`weaklabel.features.store`): memory stays bounded whatever the corpus size, and an
interrupted run resumes at the next unfinished shard.

The loop knows nothing about any backbone: which backbones exist, their settings (``embed``) and
how each is built live in :mod:`weaklabel.features.registry` (:data:`~weaklabel.features.registry.EMBEDDERS`).

Clips that cannot be read are not errors: they go to ``rejects.parquet`` beside the stores, with a
reason code (:data:`REASONS`), and ``clips = kept + rejected``.

With ``engine`` ``ray`` (:class:`~weaklabel.features.ray_engine.EngineConfig`, params ``features``)
the pass over the pending shards runs on a Ray cluster instead of the local threads
(:class:`~weaklabel.features.ray_engine.RayPass`); batches are read by the same
:func:`decode_batch` and shards written by the same :func:`shard_features`, so the stores are the same.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import sys
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from weaklabel.audio.clips import BAD_WINDOW, CLIPS_SCHEMA, ClipConfig, clip_problem, load_clip, plan_clips
from weaklabel.audio.io import audio_info
from weaklabel.audio.mel import MelConfig, log_mel_batch
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.ray_engine import EngineConfig, RayPass
from weaklabel.features.registry import EmbedConfig, Embedder, make_embedders
from weaklabel.features.store import StoreWriter, move_stores, open_store, read_store, reopen_stores
from weaklabel.tables import read_table, rejects_frame, write_rejects

log = logging.getLogger(__name__)

STAGE = "features"
#: Reason codes of ``rejects.parquet``.
REASONS = {
    "no_audio": "the clip has no audio path (text-only segment)",
    "missing_audio": "the audio file does not exist",
    "unreadable_audio": "the audio file's header cannot be decoded",
    "empty_clip": "the clip plans 0 s of audio",
    BAD_WINDOW: "the clips table's window is impossible (not finite, negative, padding beyond the clip)",
    "slice_out_of_range": "the planned slice starts after the end of the file",
    "decode_failed": "the file's header is fine but the planned slice cannot be decoded",
}


@dataclass
class ExtractSummary:
    """What an :func:`extract_features` run did, and the way to its features.

    Attributes
    ----------
    clips, kept, rejected
        Rows in the clips table, rows in the stores, rows in ``rejects.parquet``
        (``clips == kept + rejected``).
    rejects_by_reason
        Reason code -> count.
    stores
        Embedder name -> store folder.
    meta
        Embedder name -> the store's meta.
    complete
        Whether every store is finished (``index.parquet`` written); ``False`` after a run stopped
        by ``max_shards``.
    clip_status
        Embedder name -> status code -> clips of its store flagged so (e.g. ``{"yamnet":
        {"short_padded": 3}}``: clips under one YAMNet window, zero-padded to one), over every
        shard on disk, resumed ones included; for the embedders that flag clips (``status_codes``
        or a ``"status"`` output). ``None`` for a store whose shards predate these counts.
    shards, shards_computed, clips_computed
        Shards per store, shards computed in this run, clips embedded in this run.
    seconds, clips_per_s
        Wall time of this run, and ``clips_computed / seconds``.
    peak_rss_mb
        Peak resident memory of the process so far, MiB.
    root
        The stores' folder (``out_root``); not part of :meth:`to_dict`.
    plan
        The clips table the run embedded (given, or planned from recordings); not part of
        :meth:`to_dict`.
    notes
        Anything the caller should know (e.g. an unfinished run).
    """

    clips: int
    kept: int
    rejected: int
    rejects_by_reason: dict[str, int]
    stores: dict[str, str]
    meta: dict[str, dict[str, Any]]
    complete: bool
    clip_status: dict[str, dict[str, int] | None]
    shards: int
    shards_computed: int
    clips_computed: int
    seconds: float
    clips_per_s: float
    peak_rss_mb: float
    root: Path = field(repr=False)
    plan: pd.DataFrame = field(repr=False)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the counts and settings, for ``summary.json`` (without ``root`` and ``plan``)."""
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.repr}

    def features(self, name: str) -> pd.DataFrame:
        """One backbone's features, read from its store.

        Parameters
        ----------
        name
            An embedder of this run (a key of :attr:`stores`).

        Returns
        -------
        pandas.DataFrame
            Shape (kept, dim), float32, indexed by ``segment_id`` in plan order (rejected clips
            absent). An embedder may mark a clip it cannot describe with a NaN row (eGeMAPS on
            under ~0.1 s of audio); such rows are kept, as in the store.

        Raises
        ------
        ParameterError
            If this run made no store ``name``.
        DataError
            If the store is unfinished (a run stopped by ``max_shards``).
        """
        if name not in self.stores:
            raise ParameterError(
                f"this run made no {name!r} features; it made {', '.join(self.stores) or 'none'}: "
                "name the backbone in embed.backbones (or pass it in embedders)"
            )
        ids, X, _ = read_store(self.stores[name])
        return pd.DataFrame(X, index=pd.Index(ids, name="segment_id"))

    def rejects_table(self) -> pd.DataFrame:
        """The run's ``rejects.parquet`` (:data:`weaklabel.tables.REJECTS_SCHEMA`, stage ``features``)."""
        return read_table(self.root / "rejects.parquet")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (current RSS where the peak is unknown)."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    except ImportError:  # pragma: no cover - Windows
        import psutil

        return psutil.Process().memory_info().rss / (1024 * 1024)


def clips_digest(clips: pd.DataFrame) -> str:
    """Sha256 of a clips table's content: stores made from another plan are not resumed."""
    hashed = pd.util.hash_pandas_object(clips[CLIPS_SCHEMA.names].reset_index(drop=True), index=False)
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()


def check_clips(clips: pd.DataFrame) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Split a clips table into the clips that can be read and rejects, from file headers only.

    Parameters
    ----------
    clips
        Rows of :data:`weaklabel.audio.clips.CLIPS_SCHEMA`.

    Returns
    -------
    kept : pandas.DataFrame
        The readable rows, in order, index reset.
    rejects : list of dict
        ``source``, ``key``, ``reason`` (a :data:`REASONS` code), ``detail`` per rejected row.
    """
    headers: dict[str, Any] = {}
    keep, rejects = [], []
    for pos, clip in enumerate(clips.itertuples(index=False)):
        path = clip.audio_path
        reason, detail = None, ""
        if path is None or pd.isna(path) or str(path) == "":
            reason = "no_audio"
        elif (problem := clip_problem(clip)) is not None:
            reason, detail = problem
        elif clip.read_seconds <= 0:
            reason, detail = "empty_clip", f"read_seconds={clip.read_seconds}"
        else:
            if path not in headers:
                try:
                    headers[path] = audio_info(path)
                except DataError as error:
                    headers[path] = error
            info = headers[path]
            if isinstance(info, DataError):
                reason = "missing_audio" if not Path(path).exists() else "unreadable_audio"
                detail = str(info)
            elif clip.read_start >= info.seconds:
                reason = "slice_out_of_range"
                detail = f"read_start={clip.read_start:.3f} s, file is {info.seconds:.3f} s"
        if reason is None:
            keep.append(pos)
        else:
            rejects.append({"source": str(path), "key": clip.segment_id, "reason": reason, "detail": detail})
    return clips.iloc[keep].reset_index(drop=True), rejects


def _plan(recordings: pd.DataFrame, clips: ClipConfig) -> pd.DataFrame:
    """The clips table of a recordings table, checked to be one."""
    planned = [name for name in ("read_start", "read_seconds", "pad_left") if name in recordings.columns]
    if planned:
        raise ParameterError(
            f"the table is already a clips plan (it has {planned}) but a ClipConfig was given too: "
            "pass clips=None to embed that plan, or a recordings table (segment_id, audio_path, start, "
            "duration) to plan it anew"
        )
    missing = [name for name in ("segment_id", "audio_path", "start", "duration") if name not in recordings]
    if missing:
        raise DataError(
            f"recordings table lacks columns {missing}; expected segment_id, audio_path, start and "
            "duration (seconds), e.g. the ingest stage's segments.parquet"
        )
    return plan_clips(recordings, clips)


def _validate(clips: pd.DataFrame, mel: MelConfig) -> None:
    missing = [name for name in CLIPS_SCHEMA.names if name not in clips.columns]
    if missing:
        raise DataError(
            f"clips table lacks columns {missing}; expected those of weaklabel.audio.clips.CLIPS_SCHEMA"
        )
    rates = sorted(set(clips["sample_rate"].astype(int)))
    if rates and rates != [mel.sample_rate]:
        raise ParameterError(
            f"clips are planned at {rates} Hz but mel.sample_rate is {mel.sample_rate}: "
            "set clips.sample_rate and mel.sample_rate to the same rate"
        )
    lengths = sorted(set(clips["length"].astype(int)))
    if len(lengths) > 1:
        raise DataError(f"clips must all have one length to be batched, found lengths {lengths[:5]} samples")


def decode_batch(
    rows: Sequence[Any], *, length: int, mel: MelConfig | None
) -> tuple[dict[str, np.ndarray], list[tuple[int, str]]]:
    """Read a batch of planned clips: audio, where its real audio lies, and the log-mel if asked.

    Both engines build their batches here (the ray engine in its CPU tasks).

    Parameters
    ----------
    rows
        Clips (rows of :data:`weaklabel.audio.clips.CLIPS_SCHEMA`, e.g. from ``itertuples``).
    length
        Samples per clip.
    mel
        The log-mel parameters, or ``None`` for no ``"mel"``.

    Returns
    -------
    batch : dict
        ``"audio"`` (n, length) float32 (zeros for a clip that failed), ``"pad_left"`` and
        ``"audio_samples"`` (n,) int64, and ``"mel"`` (n, n_mels, frames) when ``mel`` is given
        and no clip failed.
    failures : list of (int, str)
        Position in ``rows`` and ``"ErrorType: message"`` of each clip that could not be read.
    """
    audio = np.zeros((len(rows), length), dtype=np.float32)
    failures = []
    for pos, row in enumerate(rows):
        try:
            audio[pos] = load_clip(row)
        except (DataError, OSError, ValueError, RuntimeError) as error:
            failures.append((pos, f"{type(error).__name__}: {error}"))
    pad_left = np.array([row.pad_left for row in rows], dtype=np.int64)
    samples = np.array([round(row.read_seconds * row.sample_rate) for row in rows], dtype=np.int64)
    batch = {"audio": audio, "pad_left": pad_left, "audio_samples": np.minimum(samples, length - pad_left)}
    if mel is not None and not failures:
        batch["mel"] = log_mel_batch(audio, config=mel)
    return batch, failures


class _Pass:
    """One pass over the pending shards; stops at the first batch with an unreadable clip."""

    def __init__(self, kept, writers, embedders, *, config, mel, bar):
        self.rows = list(kept.itertuples(index=False))
        self.length = int(kept["length"].iloc[0]) if len(kept) else 0
        self.writers, self.embedders, self.config, self.mel, self.bar = writers, embedders, config, mel, bar
        self.use_mel = [getattr(e, "mel_config", None) == mel for e in embedders]

    def _prepare(self, lo: int, hi: int) -> tuple[dict[str, np.ndarray], list[tuple[int, str]]]:
        """The batch of rows ``lo:hi`` (:func:`decode_batch`); failures at their position in the pass."""
        mel = self.mel if any(self.use_mel) else None
        batch, failures = decode_batch(self.rows[lo:hi], length=self.length, mel=mel)
        return batch, [(lo + row, detail) for row, detail in failures]

    def run(
        self, todo: Sequence[int], need: Mapping[str, set[int]]
    ) -> tuple[int, int, list[tuple[int, str]]]:
        """Compute the shards ``todo``; returns (shards written, clips embedded, failures)."""
        size, n = self.config.shard_size, len(self.rows)
        tasks = deque(
            (shard, lo, min(lo + self.config.batch_size, (shard + 1) * size, n))
            for shard in todo
            for lo in range(shard * size, min((shard + 1) * size, n), self.config.batch_size)
        )
        window: deque[tuple[tuple[int, int, int], Future]] = deque()
        outs: dict[str, list[Mapping[str, np.ndarray]]] = {e.name: [] for e in self.embedders}
        shards = clips = 0
        with ThreadPoolExecutor(self.config.workers, thread_name_prefix="weaklabel-embed") as pool:
            prefetch = 2 * self.config.workers

            def fill() -> None:
                while tasks and len(window) < prefetch:
                    task = tasks.popleft()
                    window.append((task, pool.submit(self._prepare, task[1], task[2])))

            fill()
            while window:
                (shard, lo, hi), future = window.popleft()
                batch, failures = future.result()
                if failures:
                    for _, pending in window:
                        pending.cancel()
                    return shards, clips, failures
                fill()  # the producers read ahead while the model runs on this batch
                for embedder, use_mel in zip(self.embedders, self.use_mel, strict=True):
                    if shard in need[embedder.name]:
                        given = batch if use_mel else {k: v for k, v in batch.items() if k != "mel"}
                        outs[embedder.name].append(embedder(given))
                clips += hi - lo
                self.bar.update(hi - lo)
                if hi == min((shard + 1) * size, n):
                    for embedder in self.embedders:
                        name = embedder.name
                        if shard in need[name]:
                            features, status = shard_features(embedder, outs[name])
                            self.writers[name].write_shard(shard, features, status=status)
                        outs[name] = []
                    shards += 1
        return shards, clips, []


def shard_features(
    embedder: Embedder, outs: Sequence[Mapping[str, np.ndarray]]
) -> tuple[np.ndarray, dict[str, int] | None]:
    """A shard's features and flagged-clip counts from the embedder's outputs over its rows, in order.

    Parameters
    ----------
    embedder
        The embedder that made ``outs``.
    outs
        Its outputs (``"embedding"`` (n, dim)[, ``"status"`` (n,)]) over the shard's rows, in order.

    Returns
    -------
    features : numpy.ndarray
        (rows, dim) float32.
    status : dict or None
        Status code -> clips flagged so (``{}`` for none); ``None`` for an embedder that flags no
        clips (no ``status_codes``, no ``"status"`` output): as :meth:`StoreWriter.write_shard` takes it.
    """
    counts: Counter[str] | None = Counter() if getattr(embedder, "status_codes", None) else None
    for out in outs:
        if "status" in out:
            counts = counts if counts is not None else Counter()
            counts.update(str(code) for code in out["status"] if code)
    features = np.concatenate([np.asarray(out["embedding"], np.float32) for out in outs])
    return features, None if counts is None else dict(counts)


def _clip_status(embedder: Embedder, writer: StoreWriter) -> dict[str, int] | None:
    """Status code -> clips of the store flagged so, zeros for the embedder's declared codes."""
    counts = writer.status_counts()
    if counts is None:
        return None
    return {**dict.fromkeys(getattr(embedder, "status_codes", ()), 0), **counts}


def extract_features(
    recordings: pd.DataFrame,
    out_root: str | Path,
    *,
    clips: ClipConfig | None = None,
    config: EmbedConfig | None = None,
    mel: MelConfig | None = None,
    embedders: Sequence[Embedder] | None = None,
    max_shards: int | None = None,
    checkpoint: str | Path | None = None,
    engine: EngineConfig | None = None,
    verbose: bool = True,
) -> ExtractSummary:
    """Features of recordings for every embedder: the one extraction path, into ``out_root/<name>/``.

    Parameters
    ----------
    recordings
        With ``clips=None``: a clips table already planned (:data:`weaklabel.audio.clips.CLIPS_SCHEMA`,
        one clip of a common length per row), embedded as it is. With ``clips``: a recordings
        table, ``segment_id``, ``audio_path``, ``start``, ``duration`` (seconds; a whole file is
        ``start`` 0, ``duration`` its length), planned with ``clips`` first.
    out_root
        Folder of the stores; ``rejects.parquet`` is written there too. A later call with the
        same plan and settings resumes (or reuses) them.
    clips
        How to plan ``recordings`` (:func:`weaklabel.audio.clips.plan_clips`): clip length, rate,
        seed and window policy (``random``, ``centre``, ``full``); ``None`` when ``recordings``
        is already a clips table.
    config
        Batch, shard and producer settings, and the embedders to build
        (``config.embedder_names``: ``backbones`` and the averaged mel) when ``embedders`` is not
        given. ``None`` for the defaults.
    mel
        Mel parameters: the log-mel computed once per clip for every embedder whose
        ``mel_config`` equals them. ``None`` for the defaults.
    embedders
        Ready embedders (see :class:`Embedder`); ``None`` builds ``config.embedder_names``.
    max_shards
        Compute at most this many shards, then stop with the stores unfinished (a later call
        resumes); ``None`` for all.
    checkpoint
        A folder of its own where the stores are built shard by shard, and resumed after an
        interruption, before they move into ``out_root`` once complete; ``None`` builds them in
        ``out_root`` itself. The features stage checkpoints outside its DVC output so that the
        output is an ordinary one that DVC's run-cache can restore.
    engine
        Where the pass runs (the ``features`` section): ``local`` threads (the default, ``None``)
        or a Ray cluster (:mod:`weaklabel.features.ray_engine`); the stores are the same.
    verbose
        Show a tqdm progress bar.

    Returns
    -------
    ExtractSummary
        Counts, store folders and metas, throughput and peak RSS, the plan, and each backbone's
        features (:meth:`ExtractSummary.features`) and the rejects
        (:meth:`ExtractSummary.rejects_table`) read back on demand.

    Raises
    ------
    DataError
        If the clips table (or, with ``clips``, the recordings table) lacks columns, or the clips
        mix lengths.
    ParameterError
        If the clips' sample rate differs from ``mel.sample_rate``, ``max_shards`` < 0,
        ``clips`` is given with a table that is already planned, or no Ray cluster answers at
        ``engine.address``.
    MissingDependencyError
        If an embedder cannot be built (e.g. ``embed.weights: imagenet`` offline), or
        ``engine.engine`` is ``ray`` without the ``ray`` extra.

    Examples
    --------
    The features stage, on the clips stage's plan:

    >>> config = EmbedConfig(backbones=("vgg16", "yamnet"), weights="random")
    >>> summary = extract_features(clips_table, "data/features", config=config)  # doctest: +SKIP
    >>> summary.features("vgg16").shape  # doctest: +SKIP
    (600, 512)

    Whole recordings, every sample seen, eGeMAPS and the averaged mel:

    >>> files = pd.DataFrame({"segment_id": ["a"], "audio_path": ["a.wav"], "start": 0.0, "duration": [3.2]})
    >>> config, whole = EmbedConfig(backbones=("egemaps",)), ClipConfig(window="full")
    >>> summary = extract_features(files, "work", clips=whole, config=config)  # doctest: +SKIP
    """
    started = time.perf_counter()
    config = config if config is not None else EmbedConfig()
    mel = mel if mel is not None else MelConfig()
    if max_shards is not None and max_shards < 0:
        raise ParameterError(f"max_shards must be >= 0 or None, got {max_shards}")
    plan = recordings if clips is None else _plan(recordings, clips)
    _validate(plan, mel)
    out_root = Path(out_root)
    owned = embedders is None
    embedders = make_embedders(config, mel=mel) if embedders is None else list(embedders)
    work_root = out_root if checkpoint is None else Path(checkpoint)
    if work_root != out_root:
        reopen_stores(out_root, work_root, names=[e.name for e in embedders])
    try:
        summary = _extract(
            plan,
            work_root,
            embedders,
            config=config,
            mel=mel,
            max_shards=max_shards,
            engine=engine if engine is not None else EngineConfig(),
            verbose=verbose,
            started=started,
        )
    finally:
        for embedder in embedders if owned else ():
            if hasattr(embedder, "close"):
                embedder.close()  # e.g. eGeMAPS worker processes
    if work_root == out_root or not summary.complete:
        return summary
    stores = move_stores(work_root, out_root, names=summary.stores)
    return replace(summary, stores={name: str(path) for name, path in stores.items()}, root=out_root)


def _extract(
    clips: pd.DataFrame,
    out_root: Path,
    embedders: list[Embedder],
    *,
    config: EmbedConfig,
    mel: MelConfig,
    max_shards: int | None,
    engine: EngineConfig,
    verbose: bool,
    started: float,
) -> ExtractSummary:
    """The body of :func:`extract_features`, with the embedders built."""
    names = [e.name for e in embedders]
    if len(set(names)) != len(names):
        raise ParameterError(f"embedders need distinct names (their store folders), got {names}")
    plan = {"sha256": clips_digest(clips), "rows": len(clips)}
    metas = {e.name: {**e.meta, "clips": plan} for e in embedders}
    kept, rejects = check_clips(clips)
    for reject in rejects[:10]:
        log.warning("clip %s rejected (%s): %s", reject["key"], reject["reason"], reject["detail"])
    if len(rejects) > 10:
        log.warning("... %d clips rejected in all (see rejects.parquet)", len(rejects))
    budget = max_shards
    shards_done = clips_done = 0
    with tqdm(total=len(kept), unit="clip", desc="embed", disable=not verbose) as bar:
        while True:
            ids = kept["segment_id"].tolist()
            writers: dict[str, StoreWriter] = {
                name: open_store(out_root / name, ids=ids, meta=metas[name], shard_size=config.shard_size)
                for name in names
            }
            need = {name: set(writer.pending_shards()) for name, writer in writers.items()}
            todo = sorted(set().union(*need.values()))[:budget]
            bar.reset(
                total=sum(min(len(ids), (s + 1) * config.shard_size) - s * config.shard_size for s in todo)
            )
            if engine.engine == "ray":
                run = RayPass(kept, writers, embedders, config=config, mel=mel, engine=engine, bar=bar)
            else:
                run = _Pass(kept, writers, embedders, config=config, mel=mel, bar=bar)
            shards, done, failures = run.run(todo, need)
            shards_done, clips_done = shards_done + shards, clips_done + done
            budget = None if budget is None else budget - shards
            if not failures:
                break
            for pos, detail in failures:
                clip = run.rows[pos]
                log.warning("clip %s rejected (decode_failed): %s", clip.segment_id, detail)
                rejects.append(
                    {
                        "source": str(clip.audio_path),
                        "key": clip.segment_id,
                        "reason": "decode_failed",
                        "detail": detail,
                    }
                )
            kept = kept.drop(index=[pos for pos, _ in failures]).reset_index(drop=True)
    complete = all(not writer.pending_shards() for writer in writers.values())
    if complete:
        for writer in writers.values():
            writer.finish()
    out_root.mkdir(parents=True, exist_ok=True)
    rejects_table = rejects_frame(rejects, stage=STAGE)
    write_rejects(rejects_table, out_root / "rejects.parquet")
    seconds = time.perf_counter() - started
    summary = ExtractSummary(
        clips=len(clips),
        kept=len(kept),
        rejected=len(rejects),
        rejects_by_reason={k: int(v) for k, v in rejects_table["reason"].value_counts().items()},
        stores={name: str(out_root / name) for name in names},
        meta=json.loads(json.dumps(metas)),
        complete=complete,
        clip_status={
            e.name: _clip_status(e, writers[e.name])
            for e in embedders
            if getattr(e, "status_codes", None) or writers[e.name].has_status()
        },
        shards=next(iter(writers.values())).n_shards if writers else 0,
        shards_computed=shards_done,
        clips_computed=clips_done,
        seconds=round(seconds, 3),
        clips_per_s=round(clips_done / seconds, 3) if seconds > 0 else 0.0,
        peak_rss_mb=round(peak_rss_mb(), 1),
        root=out_root,
        plan=clips,
    )
    if not complete:
        summary.notes.append(f"stopped after {shards_done} shards (max_shards): run again to finish")
    log.info(
        "features: %d clips -> %d kept, %d rejected; %d shards computed (%d clips, %.1f clips/s)%s; "
        "peak RSS %.0f MiB",
        summary.clips,
        summary.kept,
        summary.rejected,
        shards_done,
        clips_done,
        summary.clips_per_s,
        "" if complete else ", UNFINISHED",
        summary.peak_rss_mb,
    )
    return summary
