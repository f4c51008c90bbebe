"""Feature extraction on Ray Data: the same pass as the local engine, spread over a Ray cluster.

With ``features.engine: ray`` (:class:`EngineConfig`), :func:`weaklabel.features.extract.extract_features`
hands the clips of its pending shards to :class:`RayPass` instead of its local thread pool. The
clips become a Ray Dataset (one block per ``embed.batch_size`` clips); CPU tasks read each clip's
planned slice and compute the log-mels (``map_batches`` over
:func:`weaklabel.features.extract.decode_batch`, the local engine's own code) and, in the same
task, the :data:`TASK_EMBEDDERS` (the averaged mel); each model backbone then runs in its own pool
of ``actors`` actors (one model copy each; a GPU each for the GPU backbones where the cluster has
GPUs), which Ray streams batches through with back-pressure. The driver
gathers the embeddings by clip position and writes every finished shard with the same
:class:`~weaklabel.features.store.StoreWriter`, metas and flagged-clip counts as the local engine,
so the stores, their identity and every later stage are unchanged; shards already on disk are
never handed to Ray, so a rerun resumes.

Faults: Ray retries a CPU task whose worker dies, and Ray Data restarts a killed actor and re-runs
the batch it held (its actor pools set ``max_restarts`` and ``max_task_retries`` to -1, without
limit); rows are keyed by their position, so a re-run batch can neither lose nor duplicate a row.

Nothing here starts a Ray instance: :func:`connect` joins the one at ``features.address`` (``auto``:
``RAY_ADDRESS``, else the cluster ``ray start --head`` started on this node), or uses the one the
process already joined (``ray.init`` by the caller: tests, notebooks). Ray is an optional
dependency (the ``ray`` extra), imported only here and only when the engine runs.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from weaklabel import errors
from weaklabel.audio.mel import MelConfig, log_mel_batch
from weaklabel.errors import DataError, MissingDependencyError, ParameterError, WeakLabelError
from weaklabel.features.registry import EMBEDDERS, EmbedConfig, Embedder
from weaklabel.features.store import StoreWriter

log = logging.getLogger(__name__)

#: The engines of ``features.engine``.
ENGINES = ("local", "ray")
#: What to install for the ray engine.
RAY_REQUIREMENT = "pip install 'weaklabel[ray]'"
#: Embedders whose model runs on a GPU when the actor has one (TensorFlow); YAMNet (LiteRT),
#: eGeMAPS and the averaged mel run on CPUs.
GPU_EMBEDDERS = frozenset({"vgg16"})
#: Embedders cheap enough to run inside the CPU tasks, on the mels those tasks have just computed:
#: an actor pool of their own would cost a process and a copy of every batch's audio and mels.
TASK_EMBEDDERS = frozenset({"mel_mean"})


@dataclass(frozen=True)
class EngineConfig:
    """Which engine extracts features, and how the ray engine uses a cluster (section ``features``).

    Attributes
    ----------
    engine
        ``local`` (threads in this process) or ``ray`` (a Ray cluster; needs the ``ray`` extra).
    address
        The Ray cluster to join: ``auto`` (``RAY_ADDRESS`` when set, else the cluster that
        ``ray start --head`` started on this node) or ``ray://HEAD:10001`` (Ray Client). Nothing
        starts a cluster: when none is reachable the run stops and says how to start one. Ignored
        when the process has already joined one (``ray.init`` by the caller).
    actors
        Actors per backbone, each holding one copy of its model.
    cpus_per_actor
        CPUs Ray reserves for each actor (a fraction shares a core with the mel tasks).
    gpus_per_actor
        GPUs per actor of a GPU backbone (:data:`GPU_EMBEDDERS`); ``None``: 1 when the cluster has
        GPUs, else 0.
    """

    engine: str = "local"
    address: str = "auto"
    actors: int = 1
    cpus_per_actor: float = 1.0
    gpus_per_actor: float | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ParameterError(f"features.engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if not self.address:
            raise ParameterError(
                "features.address is empty; expected auto (RAY_ADDRESS or the cluster of `ray start "
                "--head` on this node) or ray://HEAD:10001"
            )
        if self.actors < 1:
            raise ParameterError(f"features.actors must be >= 1, got {self.actors}")
        for name in ("cpus_per_actor", "gpus_per_actor"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ParameterError(f"features.{name} must be >= 0, got {value}")


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a :class:`MissingDependencyError` naming the extra."""
    try:
        import ray
        import ray.data  # noqa: F401  (ray without the data extra lacks its dependencies)
    except ImportError as error:
        raise MissingDependencyError(
            f"features.engine ray needs Ray Data, which was not found ({error}); {RAY_REQUIREMENT}, "
            "or set features.engine: local"
        ) from error
    return ray


def connect(engine: EngineConfig) -> Any:
    """Join the Ray cluster at ``engine.address`` (unless this process has joined one); returns ``ray``.

    Raises
    ------
    MissingDependencyError
        If Ray Data is not installed.
    ParameterError
        If no cluster answers at ``engine.address``; the message says how to start one.
    """
    ray = import_ray()
    if not ray.is_initialized():
        try:
            ray.init(address=engine.address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise ParameterError(
                f"no Ray cluster reachable at features.address={engine.address!r} "
                f"({str(error).splitlines()[0]}): start one with `ray start --head` (or `ray up`), "
                "or set features.address to ray://HEAD:10001 (with token auth, also RAY_AUTH_MODE=token "
                "and the cluster's token), or features.engine: local"
            ) from error
    return ray


def _raise_named(text: str) -> None:
    """Raise the weaklabel error an actor reported as ``"ClassName: message"``."""
    name, _, message = text.partition(": ")
    cls = getattr(errors, name, None)
    raise (cls if isinstance(cls, type) and issubclass(cls, WeakLabelError) else WeakLabelError)(message)


def _embed(
    batch: Mapping[str, np.ndarray], embedders: Sequence[tuple[Embedder, bool]], *, drop: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """``batch`` less the columns ``drop``, plus the columns of each embedder's output.

    They are ``<name>__embedding``, ``__status``, ``__flags`` and ``__fatal``. Each embedder (paired
    with whether it reads the batch's ``"mel"``) embeds the readable clips (``error`` empty; an
    unreadable clip's shard is not written). A weaklabel error it raises travels as ``__fatal``
    (``"ClassName: message"``), which the driver raises again: Ray would turn it into a traceback
    of the worker.
    """
    n = len(batch["pos"])
    ok = batch["error"] == ""
    rows = slice(None) if ok.all() else ok  # a view, not a copy, of a batch read whole
    out = {key: values for key, values in batch.items() if key not in drop}
    for embedder, use_mel in embedders:
        embedding = np.zeros((n, embedder.dim), np.float32)
        status, flags, fatal = np.full(n, "", dtype=object), False, ""
        if ok.any():
            keys = ("audio", "pad_left", "audio_samples", *(("mel",) if use_mel else ()))
            try:
                got = embedder({key: batch[key][rows] for key in keys})
            except WeakLabelError as error:
                fatal = f"{type(error).__name__}: {error}"
            else:
                embedding[rows] = np.asarray(got["embedding"], np.float32)
                if "status" in got:
                    status[rows], flags = np.asarray(got["status"]).astype(str), True
        out[f"{embedder.name}__embedding"] = embedding
        out[f"{embedder.name}__status"] = status
        out[f"{embedder.name}__flags"] = np.full(n, flags)
        out[f"{embedder.name}__fatal"] = np.full(n, fatal, dtype=object)
    return out


def _decode(
    batch: pd.DataFrame,
    *,
    length: int,
    mel: MelConfig | None,
    embedders: Sequence[tuple[Embedder, bool]],
    drop: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """A CPU task: a block of clips read, their log-mels, and the :data:`TASK_EMBEDDERS`' columns.

    Unreadable clips are named in ``error``; ``drop`` names the columns no actor reads.
    """
    from weaklabel.features.extract import decode_batch

    decoded, failures = decode_batch(list(batch.itertuples(index=False)), length=length, mel=mel)
    if mel is not None and "mel" not in decoded:  # every block has the same columns
        decoded["mel"] = log_mel_batch(decoded["audio"], config=mel)
    error = np.full(len(batch), "", dtype=object)
    for row, detail in failures:
        error[row] = detail
    return _embed({"pos": batch["pos"].to_numpy(np.int64), "error": error, **decoded}, embedders, drop=drop)


class _EmbedActor:
    """An actor holding one embedder: adds its columns to each batch (:func:`_embed`).

    ``drop`` names the input columns no later actor reads (the audio after the last one): they are
    not copied into the blocks that follow.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        recipe: tuple[EmbedConfig, MelConfig, str, dict[str, Any]] | None = None,
        use_mel: bool,
        drop: tuple[str, ...],
    ) -> None:
        if embedder is None and recipe is not None:  # built here, as the registry builds it
            config, mel, name, meta = recipe
            embedder = EMBEDDERS[name](config, mel)
            differ = sorted(k for k in {*meta, *embedder.meta} if embedder.meta.get(k) != meta.get(k))
            if differ:
                raise DataError(
                    f"the {name} embedder built on a Ray worker differs from the driver's in {differ}: "
                    "install the same weaklabel, packages and weights files on every node"
                )
        self.embedders, self.drop = [(embedder, use_mel)], drop

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return _embed(batch, self.embedders, drop=self.drop)


class RayPass:
    """One pass over the pending shards on Ray: the ray engine's counterpart of the local pass.

    Parameters
    ----------
    kept
        The readable clips (:data:`weaklabel.audio.clips.CLIPS_SCHEMA`), in store order.
    writers
        Embedder name -> its store.
    embedders
        The embedders, shipped (pickled) to their actors.
    config
        Batch and shard sizes.
    mel
        The log-mel computed once per clip for the embedders whose ``mel_config`` equals it.
    engine
        The cluster and actor settings.
    bar
        A tqdm bar, advanced per clip embedded.
    """

    def __init__(
        self,
        kept: pd.DataFrame,
        writers: Mapping[str, StoreWriter],
        embedders: Sequence[Embedder],
        *,
        config: EmbedConfig,
        mel: MelConfig,
        engine: EngineConfig,
        bar: Any,
    ) -> None:
        self.kept, self.rows = kept, list(kept.itertuples(index=False))
        self.writers, self.embedders, self.config, self.mel = writers, list(embedders), config, mel
        self.engine, self.bar = engine, bar
        self.use_mel = {e.name: getattr(e, "mel_config", None) == mel for e in self.embedders}

    def _shipment(self, ray: Any, embedder: Embedder) -> dict[str, Any]:
        """How an embedder reaches its actors: itself (pickled), or else the registry's recipe.

        A traced VGG16 cannot be pickled: its actors build it as the registry does, and check that
        it has the same meta (identity and provenance) as the driver's.

        Raises
        ------
        ParameterError
            If the embedder can neither be pickled nor be built by the registry.
        """
        try:
            ray.cloudpickle.dumps(embedder)
            return {"embedder": embedder}
        except (TypeError, AttributeError, pickle.PicklingError) as error:
            if embedder.name not in EMBEDDERS:
                raise ParameterError(
                    f"the {embedder.name} embedder cannot be sent to Ray workers ({error}) and is not in "
                    "the registry: make it picklable, or use features.engine: local"
                ) from error
            return {"recipe": (self.config, self.mel, embedder.name, embedder.meta)}

    def _drop(self, later: Sequence[Embedder]) -> tuple[str, ...]:
        """The decoded columns that none of the embedders ``later`` reads."""
        drop = () if any(self.use_mel[e.name] for e in later) else ("mel",)
        return drop + (() if later else ("audio", "pad_left", "audio_samples"))

    def _dataset(self, ray: Any, todo: Sequence[int], embedders: Sequence[Embedder]) -> Any:
        """The clips of the shards ``todo`` through the CPU tasks and one actor pool per other embedder.

        The :data:`TASK_EMBEDDERS` run in the CPU tasks; each stage drops the columns no later one
        reads, so the blocks that reach the driver hold only ``pos``, ``error`` and the embedders'
        columns.
        """
        size, batch = self.config.shard_size, self.config.batch_size
        positions = np.concatenate([np.arange(s * size, min((s + 1) * size, len(self.rows))) for s in todo])
        table = self.kept.iloc[positions].assign(pos=positions).reset_index(drop=True)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the run's own tqdm bar counts the clips
        shipped = {e.name: self._shipment(ray, e) for e in embedders}
        in_task = [e for e in embedders if e.name in TASK_EMBEDDERS and "embedder" in shipped[e.name]]
        actors = [e for e in embedders if e not in in_task]
        # from_items builds the blocks here; from_pandas would run a Ray task per block for its metadata
        items = ray.data.from_items(table.to_dict("records"), override_num_blocks=-(-len(table) // batch))
        dataset = items.map_batches(
            _decode,
            batch_format="pandas",
            batch_size=batch,
            fn_kwargs={
                "length": int(self.kept["length"].iloc[0]),
                "mel": self.mel if any(self.use_mel[e.name] for e in embedders) else None,
                "embedders": [(e, self.use_mel[e.name]) for e in in_task],
                "drop": self._drop(actors),
            },
            num_cpus=1,
        )
        gpus = self.engine.gpus_per_actor
        if gpus is None:
            gpus = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
        for k, embedder in enumerate(actors):
            dataset = dataset.map_batches(
                _EmbedActor,
                fn_constructor_kwargs={
                    **shipped[embedder.name],
                    "use_mel": self.use_mel[embedder.name],
                    "drop": self._drop(actors[k + 1 :]),
                },
                batch_format="numpy",
                batch_size=batch,
                compute=ray.data.ActorPoolStrategy(size=self.engine.actors),
                num_cpus=self.engine.cpus_per_actor,
                num_gpus=gpus if embedder.name in GPU_EMBEDDERS else 0.0,
            )
        return dataset

    def run(
        self, todo: Sequence[int], need: Mapping[str, set[int]]
    ) -> tuple[int, int, list[tuple[int, str]]]:
        """Compute the shards ``todo``; returns (shards written, clips embedded, failures).

        Unlike the local pass, every batch is embedded; a shard with an unreadable clip is not
        written, and the failures ((position in ``kept``, detail)) are returned together.
        """
        from weaklabel.features.extract import shard_features

        if not todo:
            return 0, 0, []
        ray = connect(self.engine)
        embedders = [e for e in self.embedders if need[e.name] & set(todo)]
        size, n = self.config.shard_size, len(self.rows)
        rows: dict[int, dict[int, dict[str, Any]]] = {shard: {} for shard in todo}
        failures: list[tuple[int, str]] = []
        failed: set[int] = set()
        shards = clips = 0
        finished: set[int] = set()  # a batch Ray re-ran after a fault may arrive twice
        for batch in self._dataset(ray, todo, embedders).iter_batches(batch_size=None, batch_format="numpy"):
            for embedder in embedders:
                if fatal := next((text for text in batch[f"{embedder.name}__fatal"] if text), None):
                    _raise_named(fatal)
            for i, pos in enumerate(batch["pos"].tolist()):
                shard = pos // size
                if shard in finished or pos in rows[shard]:
                    continue
                clips += 1
                if batch["error"][i]:
                    failures.append((pos, str(batch["error"][i])))
                    failed.add(shard)
                rows[shard][pos] = {column: values[i] for column, values in batch.items()}
            self.bar.update(len(batch["pos"]))
            for shard in [s for s in rows if len(rows[s]) == min(n, (s + 1) * size) - s * size]:
                finished.add(shard)
                done = rows.pop(shard)
                got = [done[pos] for pos in sorted(done)]
                if shard in failed:
                    continue
                for embedder in embedders:
                    if shard in need[embedder.name]:
                        name = embedder.name
                        out = {"embedding": np.stack([row[f"{name}__embedding"] for row in got])}
                        if any(row[f"{name}__flags"] for row in got):
                            out["status"] = np.array([row[f"{name}__status"] for row in got])
                        features, status = shard_features(embedder, [out])
                        self.writers[name].write_shard(shard, features, status=status)
                shards += 1
        return shards, clips - len(failures), sorted(failures)
