"""One train/validation/test split, grouped by video, that every model reads.

A video is one speaker in CMU-MOSEI (and in the demo corpus), so all of a video's segments go to the
same split: a model must never be tested on a voice it was trained on. The original study split
segments at random, which put the same speaker in train and test.

``mode: grouped`` (the default) assigns whole videos to splits so that each split's size and its
mix of positive, negative and abstained weak labels come as close to the target fractions as the
grouping allows. Videos are visited largest first (ties in a seeded random order) and each goes to
the split whose remaining need for that video's labels is largest (least squares against the
targets, each class weighted by its total). ``mode: standard`` uses the folds that came with the
gold labels (``gold_split``, the CMU standard folds) and places videos without a fold the grouped
way.

Examples
--------
>>> import pandas as pd
>>> segments = pd.DataFrame({"segment_id": [f"v{i}___1" for i in range(10)],
...                          "video": [f"v{i}" for i in range(10)]})
>>> split = make_split(segments, config=SplitConfig(seed=0))
>>> split.groupby("split").size().to_dict()
{'test': 1, 'train': 8, 'valid': 1}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from weaklabel.errors import DataError, ParameterError
from weaklabel.tables import read_table, write_table

log = logging.getLogger(__name__)

#: Split names, in table order.
SPLITS = ("train", "valid", "test")
#: Ways of splitting, see :class:`SplitConfig`.
SPLIT_MODES = ("grouped", "standard")
#: Weak-label classes the split is stratified by (``label`` 1, 0 and ABSTAIN = -1).
CLASS_NAMES = {1: "positive", 0: "negative", -1: "abstain"}

SPLIT_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("video", pa.string()),
        ("split", pa.string()),  # train | valid | test
    ]
)


@dataclass(frozen=True)
class SplitConfig:
    """How segments are split (the ``split`` section of params.yaml).

    Attributes
    ----------
    train, valid, test
        Target fractions of segments, each in [0, 1], summing to 1. ``valid`` and ``test`` may
        not be 0: early stopping and the report need both.
    seed
        Seed of the random order in which equally large videos are placed.
    mode
        ``grouped``: whole videos assigned to reach the fractions, stratified by weak label.
        ``standard``: each video's gold fold (``gold_split``, the CMU standard folds); videos
        without one are placed the grouped way.
    """

    train: float = 0.8
    valid: float = 0.1
    test: float = 0.1
    seed: int = 0
    mode: str = "grouped"

    def __post_init__(self) -> None:
        for name in SPLITS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ParameterError(f"split.{name} must be a fraction in [0, 1], got {value!r}")
        if self.valid == 0 or self.test == 0:
            raise ParameterError(
                f"split.valid and split.test must be > 0 (got {self.valid}, {self.test}): "
                "early stopping needs a validation set and the report a test set"
            )
        total = self.train + self.valid + self.test
        if abs(total - 1) > 1e-6:
            raise ParameterError(
                f"split.train + split.valid + split.test must be 1, got {total:g}; e.g. 0.8, 0.1, 0.1"
            )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ParameterError(f"split.seed must be an integer, got {self.seed!r}")
        if self.mode not in SPLIT_MODES:
            raise ParameterError(f"split.mode must be one of {', '.join(SPLIT_MODES)}, got {self.mode!r}")

    @property
    def fractions(self) -> np.ndarray:
        """Target fractions in :data:`SPLITS` order, shape (3,)."""
        return np.array([self.train, self.valid, self.test], dtype=np.float64)


def _class_counts(segments: pd.DataFrame, labels: pd.DataFrame | None) -> tuple[np.ndarray, pd.DataFrame]:
    """Per-video counts of positive, negative and abstained segments, and the videos' table."""
    frame = segments[["segment_id", "video"]].copy()
    if labels is not None:
        frame = frame.merge(labels[["segment_id", "label"]], on="segment_id", how="left")
    else:
        frame["label"] = -1
    label = frame["label"].fillna(-1).astype(int)
    videos = pd.DataFrame({"video": frame["video"].drop_duplicates().to_numpy()})
    codes = pd.Categorical(frame["video"], categories=videos["video"]).codes
    counts = np.zeros((len(videos), len(CLASS_NAMES)), dtype=np.float64)
    for column, value in enumerate(CLASS_NAMES):
        np.add.at(counts[:, column], codes[(label == value).to_numpy()], 1)
    return counts, videos


def assign_groups(
    counts: np.ndarray,
    *,
    fractions: np.ndarray,
    seed: int,
    fixed: np.ndarray | None = None,
) -> np.ndarray:
    """Assign groups to splits so that each split's class counts approach ``fractions`` of the total.

    Parameters
    ----------
    counts
        Shape (n_groups, n_classes): how many members of each class every group holds.
    fractions
        Shape (n_splits,): target fraction of every class per split, summing to 1.
    seed
        Seed of the random order among groups of equal size.
    fixed
        Shape (n_groups,): a split index for groups already placed, -1 for those to place.

    Returns
    -------
    numpy.ndarray
        Shape (n_groups,), int: the split index of each group. Every split with a fraction > 0
        gets at least one group.

    Raises
    ------
    DataError
        If there are fewer groups to place than splits to fill.
    """
    counts = np.asarray(counts, dtype=np.float64)
    fractions = np.asarray(fractions, dtype=np.float64)
    n_groups = len(counts)
    out = np.full(n_groups, -1) if fixed is None else np.asarray(fixed, dtype=np.int64).copy()
    totals = counts.sum(axis=0)
    target = fractions[:, None] * totals[None, :]
    scale = 1.0 / np.maximum(totals, 1.0)
    assigned = np.zeros_like(target)
    for group in np.flatnonzero(out >= 0):
        assigned[out[group]] += counts[group]
    free = np.flatnonzero(out < 0)
    rng = np.random.default_rng(seed)
    shuffled = free[rng.permutation(len(free))]
    order = shuffled[np.argsort(-counts[shuffled].sum(axis=1), kind="stable")]
    closed = fractions <= 0
    for group in order:
        v = counts[group]
        # Increase of the weighted squared distance to the targets if the group joins split s.
        cost = ((2 * (assigned - target) + v) * v * scale).sum(axis=1)
        cost[closed] = np.inf
        split = int(np.argmin(cost))
        out[group] = split
        assigned[split] += v
    # Every open split needs a group; move the smallest free group of the most crowded split.
    for split in np.flatnonzero(~closed):
        if (out == split).any():
            continue
        sizes = counts.sum(axis=1)
        per_split = np.bincount(out, minlength=len(fractions))
        donors = [g for g in free if per_split[out[g]] > 1]
        if not donors:
            raise DataError(
                f"cannot fill every split: {n_groups} group(s) (videos) for {int((~closed).sum())} "
                "non-empty splits; add videos or use fewer splits"
            )
        donor = min(donors, key=lambda g: (sizes[g], -per_split[out[g]]))
        out[donor] = split
    return out


def _standard_folds(segments: pd.DataFrame, videos: pd.DataFrame) -> np.ndarray:
    """Each video's gold fold as a split index, -1 where it has none."""
    if "gold_split" not in segments.columns or segments["gold_split"].isna().all():
        raise ParameterError(
            "split.mode is 'standard' but no segment carries a gold fold (gold_split is empty): "
            "give ingest a gold file with a split column (CMU standard folds), or set split.mode: grouped"
        )
    folds = segments[["video", "gold_split"]].dropna()
    unknown = sorted(set(folds["gold_split"]) - set(SPLITS))
    if unknown:
        raise DataError(f"gold_split holds {unknown}; expected only {', '.join(SPLITS)} (or null)")
    per_video = folds.groupby("video")["gold_split"].agg(lambda s: s.value_counts().index[0])
    mixed = folds.groupby("video")["gold_split"].nunique()
    if (mixed > 1).any():
        log.warning(
            "%d video(s) have segments in more than one gold fold; each goes to its most common fold",
            int((mixed > 1).sum()),
        )
    index = {name: k for k, name in enumerate(SPLITS)}
    return np.array([index.get(per_video.get(video), -1) for video in videos["video"]], dtype=np.int64)


def make_split(
    segments: pd.DataFrame, labels: pd.DataFrame | None = None, *, config: SplitConfig
) -> pd.DataFrame:
    """Assign every segment to ``train``, ``valid`` or ``test``, whole videos at a time.

    Parameters
    ----------
    segments
        Shape (n, ...): ``segment_id``, ``video``, and for ``mode: standard`` ``gold_split``.
    labels
        The labels table (``segment_id``, ``label``) to stratify by; segments without a label
        row count as abstained. ``None`` stratifies by size only.
    config
        Fractions, seed and mode.

    Returns
    -------
    pandas.DataFrame
        Shape (n, 3), columns of :data:`SPLIT_SCHEMA`, in the order of ``segments``. Every
        segment is kept, labelled or not.

    Raises
    ------
    DataError
        If columns are missing, segment ids repeat, or there are too few videos.
    ParameterError
        If ``mode`` is ``standard`` and no segment carries a gold fold.
    """
    missing = [c for c in ("segment_id", "video") if c not in segments.columns]
    if missing:
        raise DataError(f"segments table lacks {missing}; expected ingest's segments.parquet")
    if segments["segment_id"].duplicated().any():
        raise DataError("segment ids repeat in the segments table; expected one row per segment")
    if labels is not None and "label" not in labels.columns:
        raise DataError(f"labels table lacks 'label' (found {list(labels.columns)}); pass labels.parquet")
    if segments.empty:
        return pd.DataFrame({name: pd.Series(dtype="string") for name in SPLIT_SCHEMA.names})
    counts, videos = _class_counts(segments, labels)
    fixed = _standard_folds(segments, videos) if config.mode == "standard" else None
    if fixed is not None:
        log.info(
            "standard folds for %d of %d videos; the other %d are placed by grouping",
            int((fixed >= 0).sum()),
            len(videos),
            int((fixed < 0).sum()),
        )
    groups = assign_groups(counts, fractions=config.fractions, seed=config.seed, fixed=fixed)
    split_of = dict(zip(videos["video"], np.array(SPLITS)[groups], strict=True))
    out = pd.DataFrame(
        {
            "segment_id": segments["segment_id"].astype("string").to_numpy(),
            "video": segments["video"].astype("string").to_numpy(),
            "split": segments["video"].map(split_of).astype("string").to_numpy(),
        }
    )
    log.info(
        "split %d segments of %d videos: %s", len(out), len(videos), out["split"].value_counts().to_dict()
    )
    return out


def split_summary(split: pd.DataFrame, labels: pd.DataFrame | None = None) -> dict[str, Any]:
    """Videos, segments and weak-label classes per split.

    Parameters
    ----------
    split
        A split table (:data:`SPLIT_SCHEMA`).
    labels
        The labels table; ``None`` leaves the class counts out.

    Returns
    -------
    dict
        ``{split: {"videos": int, "segments": int, "positive": int, "negative": int,
        "abstain": int}}`` for each of :data:`SPLITS` (classes only with ``labels``).
    """
    frame = split
    if labels is not None:
        frame = split.merge(labels[["segment_id", "label"]], on="segment_id", how="left")
    out: dict[str, Any] = {}
    for name in SPLITS:
        rows = frame[frame["split"] == name]
        entry = {"videos": int(rows["video"].nunique()), "segments": len(rows)}
        if labels is not None:
            label = rows["label"].fillna(-1).astype(int)
            entry.update({cls: int((label == value).sum()) for value, cls in CLASS_NAMES.items()})
        out[name] = entry
    return out


def write_split(split: pd.DataFrame, path: str | Path) -> Path:
    """Write a split table (from :func:`make_split`) to Parquet with :data:`SPLIT_SCHEMA`."""
    return write_table(split, path, schema=SPLIT_SCHEMA)


def read_split(path: str | Path) -> pd.DataFrame:
    """Read and check a split table.

    Raises
    ------
    DataError
        If it is missing, lacks a column, names an unknown split, or a video crosses splits.
    """
    split = read_table(path)
    missing = [c for c in SPLIT_SCHEMA.names if c not in split.columns]
    if missing:
        raise DataError(f"split table {path} lacks {missing}; rebuild it with the split stage")
    unknown = sorted(set(split["split"].dropna()) - set(SPLITS))
    if unknown or split["split"].isna().any():
        raise DataError(
            f"split table {path} holds splits {unknown or ['null']}; expected {', '.join(SPLITS)}"
        )
    crossing = split.groupby("video")["split"].nunique()
    if (crossing > 1).any():
        raise DataError(
            f"split table {path}: {int((crossing > 1).sum())} video(s) lie in more than one split; "
            "rebuild it with the split stage"
        )
    return split
