"""The rows every model trains and is scored on: labels, split and features aligned by ``segment_id``.

:func:`build_dataset` joins the split, the labels and the feature stores (and the clips' speech
duration for the duration baseline) into one :class:`Dataset`; rows a model cannot use are counted
by reason (:data:`ROW_REASONS`, ``no_<store>``), never dropped silently (:func:`row_counts`).
:func:`split_fingerprint` identifies the split the models were trained on, so evaluate refuses
another.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from weaklabel.errors import DataError, ParameterError
from weaklabel.features.store import read_store
from weaklabel.labels.labellers import ABSTAIN
from weaklabel.learn.split import SPLITS, protocol_of, speakers_of
from weaklabel.models.bundle import PLUS
from weaklabel.tables import read_table

log = logging.getLogger(__name__)

#: Feature source of the duration baseline: the clips table's ``read_seconds`` column.
DURATION = "duration"
#: The out-of-fold scores the train stage writes under ``kfold`` (``<models>/oof.parquet``).
OOF_FILE = "oof.parquet"
OOF_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("segment_id", pa.string()),
        ("speaker", pa.string()),
        ("fold", pa.int32()),
        ("score", pa.float64()),  # P(positive) from the model fitted without this fold
    ]
)
#: Reasons a row of the split is not used to train or score against weak labels, in priority order.
ROW_REASONS = ("no_label", "abstained")


@dataclass
class Dataset:
    """The rows of the split, with labels, gold, durations and features aligned to them.

    Attributes
    ----------
    frame
        One row per split row: ``segment_id``, ``video``, ``speaker``, ``split``, ``fold`` (-1
        outside the folds), ``label`` (int, ABSTAIN for
        abstained or unlabelled), ``confidence``, ``gold_sentiment`` (NaN when unknown),
        ``reason`` (why the row is not used against weak labels: ``no_label``, ``abstained``,
        ``no_<source>``, or ``used``) and ``has_features`` (every source present).
    features
        Store name (or :data:`DURATION`) -> (n, d) float32, rows aligned to ``frame``; NaN rows
        where missing. A combination (``yamnet+egemaps``) is not stored: :meth:`X` joins its parts.
    metas
        Store name -> its meta (``{"column": "read_seconds"}`` for :data:`DURATION`).
    clip
        Clip length (``length``, ``length_s``) and ``sample_rate`` from the clips table, or {}.
    """

    frame: pd.DataFrame
    features: dict[str, np.ndarray]
    metas: dict[str, dict[str, Any]]
    clip: dict[str, Any]

    @property
    def protocol(self) -> str:
        """``kfold`` when the split has folds, else ``holdout`` (:func:`~.split.protocol_of`)."""
        return protocol_of(self.frame)

    @property
    def folds(self) -> list[int]:
        """The folds of the split, in order (empty under ``holdout``)."""
        return sorted(int(k) for k in self.frame.loc[self.frame["fold"] >= 0, "fold"].unique())

    def rows(
        self, split: str | None, *, labelled: bool = True, fold: int | None = None, exclude: int | None = None
    ) -> np.ndarray:
        """Positions of usable rows: with all features and (``labelled``) a weak label.

        Parameters
        ----------
        split
            Keep rows of this split only; None keeps every split.
        labelled
            Keep only rows whose weak label is used (not abstained, not missing).
        fold
            Keep rows of this fold only.
        exclude
            Leave out this fold and rows outside the folds (a fold's training part).
        """
        frame = self.frame
        ok = frame["has_features"].to_numpy().copy()
        if split is not None:
            ok &= (frame["split"] == split).to_numpy()
        if labelled:
            ok &= (frame["reason"] == "used").to_numpy()
        folds = frame["fold"].to_numpy()
        if fold is not None:
            ok &= folds == fold
        if exclude is not None:
            ok &= (folds >= 0) & (folds != exclude)
        return np.flatnonzero(ok)

    def X(self, source: str | None, rows: np.ndarray) -> np.ndarray:
        """Features of ``source`` for ``rows``, shape (len(rows), d); a zero column for None.

        A combination ``a+b`` gives the stores' columns side by side, (len(rows), d_a + d_b).
        """
        if source is None:
            return np.zeros((len(rows), 1), dtype=np.float32)
        return np.concatenate([self.features[part][rows] for part in source.split(PLUS)], axis=1)


def _align(ids: np.ndarray, X: np.ndarray, segment_ids: pd.Series, *, name: str) -> np.ndarray:
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids))
    if position.index.duplicated().any():
        raise DataError(
            f"feature store {name} holds repeated segment ids; rebuild it with the features stage"
        )
    where = position.reindex(segment_ids.to_numpy()).to_numpy()
    out = np.full((len(segment_ids), X.shape[1]), np.nan, dtype=np.float32)
    found = ~np.isnan(where)
    out[found] = X[where[found].astype(np.int64)]
    return out


def _clip_info(clips: pd.DataFrame) -> dict[str, Any]:
    info: dict[str, Any] = {}
    for column in ("length", "sample_rate"):
        values = sorted(clips[column].dropna().unique().tolist()) if column in clips.columns else []
        if len(values) > 1:
            log.warning("clips table holds several %s values %s; recording the first", column, values[:5])
        if values:
            info[column] = int(values[0])
    if "length" in info and "sample_rate" in info:
        info["length_s"] = info["length"] / info["sample_rate"]
    return info


def build_dataset(
    split: pd.DataFrame,
    labels: pd.DataFrame,
    *,
    stores: Mapping[str, str | Path],
    clips: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    sources: list[str] | None = None,
) -> Dataset:
    """Gather everything the models need, one row per row of the split.

    Parameters
    ----------
    split
        The split table (``segment_id``, ``video``, ``split``; ``speaker`` and ``fold`` when it
        has them, else the video and -1).
    labels
        The labels table (``segment_id``, ``label``, ``confidence``).
    stores
        Store name (``vgg16``, ``yamnet``, ``mel_mean``) -> feature store folder.
    clips
        The clips table (``segment_id``, ``read_seconds``, ``length``, ``sample_rate``); needed
        for the :data:`DURATION` source, and recorded as the clip format.
    segments
        The segments table, for ``gold_sentiment``; None means no gold.
    sources
        Feature sources to load (default: every store given, plus duration with ``clips``); a
        combination ``a+b`` loads both stores.

    Returns
    -------
    Dataset
        Rows aligned to ``split``.

    Raises
    ------
    ParameterError
        If a source has no store (or no clips table) to come from.
    DataError
        If a table lacks a column or a store is unreadable.
    """
    for name, table, columns in (
        ("split", split, ("segment_id", "video", "split")),
        ("labels", labels, ("segment_id", "label", "confidence")),
    ):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise DataError(f"{name} table lacks {missing}; expected the {name} stage's output")
    if sources is None:
        sources = [*stores, *([DURATION] if clips is not None else [])]
    sources = list(dict.fromkeys(part for source in sources for part in source.split(PLUS)))
    frame = split[["segment_id", "video", "split"]].reset_index(drop=True).copy()
    frame.insert(2, "speaker", speakers_of(split).to_numpy())
    frame["fold"] = split["fold"].to_numpy(dtype=np.int64) if "fold" in split.columns else -1
    lab = labels.drop_duplicates("segment_id").set_index("segment_id")
    frame["label"] = lab["label"].reindex(frame["segment_id"]).to_numpy()
    frame["confidence"] = lab["confidence"].reindex(frame["segment_id"]).to_numpy(dtype=np.float64)
    gold = np.full(len(frame), np.nan)
    if segments is not None and "gold_sentiment" in segments.columns:
        seg = segments.drop_duplicates("segment_id").set_index("segment_id")["gold_sentiment"]
        gold = seg.reindex(frame["segment_id"]).to_numpy(dtype=np.float64)
    frame["gold_sentiment"] = gold
    reason = np.where(frame["label"].isna(), "no_label", np.where(frame["label"] == ABSTAIN, "abstained", ""))
    frame["label"] = frame["label"].fillna(ABSTAIN).astype(np.int64)

    features: dict[str, np.ndarray] = {}
    metas: dict[str, dict[str, Any]] = {}
    clip: dict[str, Any] = {}
    if clips is not None:
        clip = _clip_info(clips)
    for source in sources:
        if source == DURATION:
            if clips is None:
                raise ParameterError("the duration baseline needs the clips table (read_seconds); pass clips")
            seconds = clips.drop_duplicates("segment_id").set_index("segment_id")["read_seconds"]
            values = seconds.reindex(frame["segment_id"]).to_numpy(dtype=np.float64)
            features[source] = values[:, None].astype(np.float32)
            metas[source] = {"table": "clips", "column": "read_seconds"}
        else:
            if source not in stores:
                raise ParameterError(
                    f"a model reads the {source!r} feature store but none was given "
                    f"(got {sorted(stores)}); pass --store {source}=PATH"
                )
            ids, X, meta = read_store(stores[source])
            features[source] = _align(ids, X, frame["segment_id"], name=source)
            metas[source] = meta
        missing = np.isnan(features[source]).any(axis=1)
        reason = np.where((reason == "") & missing, f"no_{source}", reason)
    has = np.ones(len(frame), dtype=bool)
    for values in features.values():
        has &= ~np.isnan(values).any(axis=1)
    frame["has_features"] = has
    frame["reason"] = np.where(reason == "", "used", reason)
    return Dataset(frame=frame, features=features, metas=metas, clip=clip)


def split_fingerprint(split: pd.DataFrame) -> str:
    """SHA-256 of the sorted ``segment_id, split`` pairs (and folds): equal for equal splits, any row order.

    A split without folds (or with none set) hashes as before folds existed.
    """
    ids, names = split["segment_id"].astype(str), split["split"].astype(str)
    if protocol_of(split) == "kfold":
        names = names + "\t" + split["fold"].astype(str)
    pairs = sorted(zip(ids, names, strict=True))
    return hashlib.sha256("\n".join(f"{a}\t{b}" for a, b in pairs).encode("utf-8")).hexdigest()


def row_counts(dataset: Dataset) -> dict[str, dict[str, int]]:
    """Rows per split by what happened to them; ``segments`` = ``used`` + every other count.

    Parameters
    ----------
    dataset
        From :func:`build_dataset`.

    Returns
    -------
    dict
        ``{split: {"segments": n, "used": k, "abstained": a, "no_label": b, "no_<source>": c,
        "scored": s}}`` for each split present (kfold: ``train`` and ``valid``, the validation
        speakers); ``scored`` counts rows with all features (labelled or not), the rows
        scored against gold.
    """
    frame = dataset.frame
    reasons = ["used", *ROW_REASONS, *(f"no_{s}" for s in dataset.features)]
    out: dict[str, dict[str, int]] = {}
    for name in (name for name in SPLITS if (frame["split"] == name).any()):
        rows = frame[frame["split"] == name]
        entry = {"segments": len(rows)}
        entry.update({reason: int((rows["reason"] == reason).sum()) for reason in reasons})
        entry["scored"] = int(rows["has_features"].sum())
        out[name] = entry
    return out


def read_oof(models_dir: str | Path) -> pd.DataFrame:
    """The out-of-fold scores (:data:`OOF_SCHEMA`) the train stage wrote under ``kfold``.

    Raises
    ------
    DataError
        If the models folder has none (the models were trained under ``holdout``, or before folds).
    """
    path = Path(models_dir) / OOF_FILE
    if not path.is_file():
        raise DataError(
            f"no out-of-fold scores in {models_dir} ({OOF_FILE}); the split has folds, so re-run the train "
            "stage (dvc repro train) to fit the models per fold"
        )
    scores = read_table(path)
    missing = [c for c in OOF_SCHEMA.names if c not in scores.columns]
    if missing:
        raise DataError(f"{path} lacks {missing}; re-run the train stage")
    return scores
