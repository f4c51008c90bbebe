"""A feature store: one matrix of per-clip features, written shard by shard.

Layout of a store folder::

    meta.json             what made the features (backbone, weights and their hash, params, dim)
    shard-00000.npy       float32 (rows, dim), one file per shard
    shard-00000.ids.npy   the segment ids of those rows, same order
    shard-00000.status.json  clips of the shard an embedder flagged, per code (e.g. YAMNet's
                          {"short_padded": 2}); only for embedders that flag clips
    index.parquet         segment_id, shard, row: written last, when every shard is done

Memory stays bounded: a writer holds one shard at a time. A run is resumable: shards already on
disk are skipped when the store is reopened with the same ``meta`` and ids; a different ``meta``
(other weights, other params) empties the store first, so stale features are never mixed in. A
store may be built in a checkpoint folder and moved to its final place once complete
(:func:`move_stores`), so that the final folder only ever holds finished stores.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from weaklabel.errors import DataError, ParameterError
from weaklabel.tables import read_table, write_table

log = logging.getLogger(__name__)

INDEX_SCHEMA = pa.schema([("segment_id", pa.string()), ("shard", pa.int32()), ("row", pa.int32())])


def _shard_stem(root: Path, shard: int) -> Path:
    return root / f"shard-{shard:05d}"


def _status_path(stem: Path) -> Path:
    return stem.with_name(stem.name + ".status.json")


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


class StoreWriter:
    """Writes a store shard by shard; build it with :func:`open_store`.

    Attributes
    ----------
    root : Path
        The store folder.
    ids : list of str
        Every segment id the store will hold, in order.
    shard_size : int
        Rows per shard (the last shard may be shorter).
    """

    def __init__(self, root: Path, ids: Sequence[str], shard_size: int) -> None:
        self.root = root
        self.ids = list(ids)
        self.shard_size = shard_size

    @property
    def n_shards(self) -> int:
        """Number of shards the store will have."""
        return -(-len(self.ids) // self.shard_size)

    def shard_ids(self, shard: int) -> list[str]:
        """Segment ids of ``shard``, in row order."""
        return self.ids[shard * self.shard_size : (shard + 1) * self.shard_size]

    def is_done(self, shard: int) -> bool:
        """Whether ``shard`` is already on disk with the expected ids."""
        stem = _shard_stem(self.root, shard)
        ids_path = stem.with_name(stem.name + ".ids.npy")
        if not (ids_path.exists() and stem.with_suffix(".npy").exists()):
            return False
        return np.load(ids_path, allow_pickle=False).tolist() == self.shard_ids(shard)

    def pending_shards(self) -> list[int]:
        """Shards still to compute (all of them on a fresh store)."""
        return [k for k in range(self.n_shards) if not self.is_done(k)]

    def write_shard(self, shard: int, features: np.ndarray, *, status: dict[str, int] | None = None) -> None:
        """Write the (rows, dim) features of ``shard`` atomically.

        Parameters
        ----------
        shard
            Shard number.
        features
            Shape (rows of the shard, dim).
        status
            Status code -> clips of the shard the embedder flagged so (``{}`` for none flagged);
            ``None`` for an embedder that flags no clips.

        Raises
        ------
        DataError
            If the row count does not match the shard's ids.
        """
        ids = self.shard_ids(shard)
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2 or features.shape[0] != len(ids):
            raise DataError(f"shard {shard} needs ({len(ids)}, dim) features, got shape {features.shape}")
        stem = _shard_stem(self.root, shard)
        if status is not None:  # before the features: a shard on disk has its counts
            tmp = _status_path(stem).with_suffix(".tmp")
            tmp.write_text(json.dumps({str(k): int(v) for k, v in sorted(status.items())}))
            os.replace(tmp, _status_path(stem))
        _save_atomic(stem.with_suffix(".npy"), features)
        _save_atomic(stem.with_name(stem.name + ".ids.npy"), np.array(ids, dtype=str))

    def has_status(self) -> bool:
        """Whether any shard on disk has flagged-clip counts (see :meth:`write_shard`)."""
        return any(_status_path(_shard_stem(self.root, k)).exists() for k in range(self.n_shards))

    def status_counts(self) -> dict[str, int] | None:
        """Status code -> flagged clips over the finished shards; ``None`` when one lacks its counts."""
        total: dict[str, int] = {}
        for shard in range(self.n_shards):
            if not self.is_done(shard):
                continue
            path = _status_path(_shard_stem(self.root, shard))
            if not path.exists():
                return None
            for code, count in json.loads(path.read_text()).items():
                total[code] = total.get(code, 0) + int(count)
        return total

    def finish(self) -> Path:
        """Write ``index.parquet`` once every shard is done; returns the store folder.

        Raises
        ------
        DataError
            If a shard is still missing.
        """
        pending = self.pending_shards()
        if pending:
            raise DataError(f"store {self.root} is incomplete: shards {pending[:5]} missing")
        shard = np.arange(len(self.ids)) // self.shard_size
        index = pd.DataFrame(
            {"segment_id": self.ids, "shard": shard, "row": np.arange(len(self.ids)) % self.shard_size}
        )
        write_table(index, self.root / "index.parquet", schema=INDEX_SCHEMA)
        return self.root


def open_store(
    root: str | Path, *, ids: Sequence[str], meta: dict[str, Any], shard_size: int = 1024
) -> StoreWriter:
    """Open (or resume) a store at ``root`` for the features of ``ids``.

    Parameters
    ----------
    root
        The store folder; created when missing.
    ids
        Segment ids, in the order rows will be written; must be unique.
    meta
        JSON-serialisable description of how the features are made. When the folder holds a
        store with different meta, its shards are deleted first.
    shard_size
        Rows per shard: bounds memory, and is the unit of resumption.

    Returns
    -------
    StoreWriter
        Call :meth:`StoreWriter.pending_shards`, :meth:`StoreWriter.write_shard` for each, then
        :meth:`StoreWriter.finish`.

    Raises
    ------
    ParameterError
        If ``shard_size`` < 1 or ``ids`` has duplicates.
    """
    if shard_size < 1:
        raise ParameterError(f"shard_size must be >= 1, got {shard_size}")
    if len(set(ids)) != len(ids):
        raise ParameterError("feature store ids must be unique segment ids")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "shard_size": shard_size}
    meta_path = root / "meta.json"
    if meta_path.exists() and json.loads(meta_path.read_text()) != json.loads(json.dumps(meta)):
        log.warning("store %s was made with other settings: starting it over", root)
        for stale in [*root.glob("shard-*"), root / "index.parquet"]:
            stale.unlink(missing_ok=True)
    (root / "index.parquet").unlink(missing_ok=True)
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    writer = StoreWriter(root, ids, shard_size)
    done = writer.n_shards - len(writer.pending_shards())
    if done:
        log.info("store %s: resuming, %d of %d shards already done", root, done, writer.n_shards)
    return writer


def read_meta(root: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of the store at ``root``.

    Raises
    ------
    DataError
        If there is no store there.
    """
    path = Path(root) / "meta.json"
    if not path.exists():
        raise DataError(f"no feature store at {root}: run the features stage (weaklabel embed) first")
    return json.loads(path.read_text())


def read_store(root: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Load a finished store.

    Returns
    -------
    ids : numpy.ndarray
        (n,) segment ids, str.
    features : numpy.ndarray
        (n, dim) float32.
    meta : dict
        The store's meta.

    Raises
    ------
    DataError
        If the store is missing or unfinished.
    """
    root = Path(root)
    meta = read_meta(root)
    index = read_table(root / "index.parquet")
    n_shards = int(index["shard"].max()) + 1 if len(index) else 0
    parts = [np.load(_shard_stem(root, k).with_suffix(".npy")) for k in range(n_shards)]
    features = np.concatenate(parts) if parts else np.zeros((0, int(meta.get("dim", 0))), np.float32)
    return index["segment_id"].to_numpy(dtype=str), features, meta


def list_stores(folder: str | Path) -> dict[str, Path]:
    """The feature stores in a folder, as the features stage writes them.

    Parameters
    ----------
    folder
        A folder whose sub-folders are stores (the features stage's ``--out``); may be missing.

    Returns
    -------
    dict
        Store name (the sub-folder's name) -> its folder, sorted by name, for every sub-folder;
        empty when ``folder`` is missing or not a folder.
    """
    folder = Path(folder)
    children = sorted(folder.iterdir()) if folder.is_dir() else []
    return {child.name: child for child in children if child.is_dir()}


def remove_stale_stores(folder: str | Path, *, keep: Collection[str]) -> list[Path]:
    """Delete the stores in ``folder`` that an earlier run made and this one did not.

    A features run writes one store per embedder; a store of another ``embed.backbone`` left in
    the same folder would otherwise be read by later stages as if this run had made it.

    Parameters
    ----------
    folder
        The folder of the stores.
    keep
        Names of this run's stores (:attr:`weaklabel.features.extract.ExtractSummary.stores`).

    Returns
    -------
    list of Path
        The store folders removed (sub-folders holding a ``meta.json``), sorted.
    """
    removed = [
        meta.parent for meta in sorted(Path(folder).glob("*/meta.json")) if meta.parent.name not in keep
    ]
    for root in removed:
        log.info("removing the store %s of an earlier embed.backbone", root)
        shutil.rmtree(root)
    return removed


def move_stores(src: str | Path, dst: str | Path, *, names: Collection[str]) -> dict[str, Path]:
    """Move finished stores (and ``rejects.parquet``) from a checkpoint folder to their final folder.

    Parameters
    ----------
    src
        The checkpoint folder the stores were built in; removed when nothing else is left in it.
    dst
        Their final folder; a store of the same name already there is replaced.
    names
        The stores to move (sub-folders of ``src``).

    Returns
    -------
    dict
        Store name -> its folder under ``dst``.

    Raises
    ------
    DataError
        If a store is missing or unfinished (no ``index.parquet``).
    """
    src, dst = Path(src), Path(dst)
    unfinished = [name for name in names if not (src / name / "index.parquet").is_file()]
    if unfinished:
        raise DataError(f"stores {unfinished} in {src} are not finished: run the extraction again to finish")
    dst.mkdir(parents=True, exist_ok=True)
    moved = {}
    for name in [*names, "rejects.parquet"]:
        if not (src / name).exists():
            continue
        target = dst / name
        if target.is_dir():
            shutil.rmtree(target)
        shutil.move(src / name, target)
        moved[name] = target
    remove_stale_stores(src, keep=())
    if not any(src.iterdir()):
        src.rmdir()
    log.info("moved finished stores %s from %s to %s", sorted(names), src, dst)
    return {name: moved[name] for name in names}


def reopen_stores(done: str | Path, work: str | Path, *, names: Collection[str]) -> list[str]:
    """Move finished stores back into the checkpoint folder, so that a new run reuses their shards.

    The counterpart of :func:`move_stores`: a run that builds its stores in ``work`` first takes
    back the finished stores of the same names from ``done`` (a store made with other settings is
    then emptied by :func:`open_store`), so running it twice computes nothing the second time.

    Parameters
    ----------
    done
        The final folder of the stores.
    work
        The checkpoint folder; a store already there (an unfinished run's) is kept, not replaced.
    names
        The stores of the run.

    Returns
    -------
    list of str
        The names of the stores moved back.
    """
    done, work = Path(done), Path(work)
    moved = []
    for name in names:
        if (done / name / "index.parquet").is_file() and not (work / name).exists():
            work.mkdir(parents=True, exist_ok=True)
            shutil.move(done / name, work / name)
            moved.append(name)
    return moved
