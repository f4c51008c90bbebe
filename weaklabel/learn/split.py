"""The split every model reads, grouped by speaker: k folds (the default protocol) or train/valid/test.

Segments are grouped by **speaker** (the segments' ``speaker`` column: the demo's and a manifest's
speakers, ``speakers.csv`` for a CMU-MOSEI-layout corpus, else the video, an approximation since a
MOSEI speaker can own several videos). All of a speaker's segments land on one side of every
split and fold: a model is never scored on a voice it was trained on. The original study split
segments at random, which put the same speaker in train and test.

Two protocols (``evaluate.protocol``, :data:`PROTOCOLS`):

``kfold`` (the default; :func:`make_split` with ``folds=k``)
    The weakly labelled (not abstained) segments get a ``fold`` 0..k-1 from sklearn's
    ``StratifiedGroupKFold`` (stratified by weak label, grouped by speaker, shuffled with
    ``split.seed``); abstained and unlabelled segments get -1. Every labelled clip is scored once,
    out of fold. The ``split`` column marks the validation speakers (``valid``): within each fold,
    a share ``split.valid / (split.train + split.valid)`` of its speakers, chosen as below, so
    that the training part of every fold holds validation speakers for early stopping (those of
    the other folds) and the final model (trained on every fold) holds them all. All others are
    ``train``.
``holdout`` (``folds=None``)
    ``train``/``valid``/``test`` as fractions of segments, ``fold`` -1 everywhere.
    ``mode: grouped`` assigns whole speakers so that each split's size and mix of positive,
    negative and abstained weak labels come as close to the target fractions as the grouping
    allows: speakers are visited largest first (ties in a seeded random order) and each goes to
    the split whose remaining need for its labels is largest (least squares against the targets,
    each class weighted by its total, :func:`assign_groups`). ``mode: standard`` uses the folds
    that came with the gold labels (``gold_split``, the CMU standard folds) and places speakers
    without a fold the grouped way.

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
from collections.abc import Mapping
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
#: Evaluation protocols (``evaluate.protocol``): k speaker-grouped folds, or one train/valid/test split.
PROTOCOLS = ("kfold", "holdout")
#: The default protocol and number of folds (``evaluate.protocol``, ``evaluate.folds``).
DEFAULT_PROTOCOL, DEFAULT_FOLDS = "kfold", 5
#: Fold of a segment outside the folds (abstained, unlabelled, or the holdout protocol).
NO_FOLD = -1
#: Ways of splitting, see :class:`SplitConfig`.
SPLIT_MODES = ("grouped", "standard")
#: Weak-label classes the split is stratified by (``label`` 1, 0 and ABSTAIN = -1).
CLASS_NAMES = {1: "positive", 0: "negative", -1: "abstain"}

SPLIT_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("video", pa.string()),
        ("speaker", pa.string()),  # the group: no speaker on two sides of a split or fold
        ("split", pa.string()),  # train | valid | test (kfold: train | valid, the validation speakers)
        ("fold", pa.int32()),  # kfold: 0..k-1 for weakly labelled segments, else -1
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
        Under ``kfold`` only ``valid / (train + valid)`` counts: the share of each fold's
        speakers kept for validation.
    seed
        Seed of the folds' shuffle and of the order in which equally large speakers are placed.
    mode
        Holdout only. ``grouped``: whole speakers assigned to reach the fractions, stratified by
        weak label. ``standard``: each speaker's gold fold (``gold_split``, the CMU standard
        folds); speakers without one are placed the grouped way.
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

    @property
    def valid_share(self) -> float:
        """Share of a fold's speakers kept for validation under ``kfold``: ``valid / (train + valid)``."""
        return self.valid / (self.train + self.valid)


def check_protocol(protocol: str, folds: int) -> int | None:
    """The number of folds ``protocol`` asks for: ``folds`` under ``kfold``, None under ``holdout``.

    Raises
    ------
    ParameterError
        If ``protocol`` is not one of :data:`PROTOCOLS` or ``folds`` is not an integer >= 2.
    """
    if protocol not in PROTOCOLS:
        raise ParameterError(f"evaluate.protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ParameterError(
            f"evaluate.folds must be an integer >= 2 (e.g. 5; 3 for quick runs), got {folds!r}"
        )
    return folds if protocol == "kfold" else None


def folds_from(evaluate: Mapping[str, Any] | None) -> int | None:
    """The folds the ``evaluate`` params section asks for (:func:`check_protocol`), its defaults filling gaps.

    The split stage reads only these two keys of ``evaluate``, so that it does not depend on the
    evaluation's code.
    """
    evaluate = evaluate or {}
    return check_protocol(evaluate.get("protocol", DEFAULT_PROTOCOL), evaluate.get("folds", DEFAULT_FOLDS))


def speakers_of(segments: pd.DataFrame) -> pd.Series:
    """Each segment's speaker: the ``speaker`` column, or the ``video`` where there is none."""
    video = segments["video"].astype("string")
    if "speaker" not in segments.columns:
        return video
    return segments["speaker"].astype("string").fillna(video)


def _class_counts(speaker: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-speaker counts of positive, negative and abstained segments (n_speakers, 3), and the speakers."""
    codes, speakers = pd.factorize(pd.Series(speaker), sort=False)
    counts = np.zeros((len(speakers), len(CLASS_NAMES)), dtype=np.float64)
    for column, value in enumerate(CLASS_NAMES):
        np.add.at(counts[:, column], codes[label == value], 1)
    return counts, np.asarray(speakers)


def _labels_of(segments: pd.DataFrame, labels: pd.DataFrame | None) -> np.ndarray:
    """Each segment's weak label (1, 0, -1 for abstained or unlabelled), shape (n,)."""
    if labels is None:
        return np.full(len(segments), -1, dtype=np.int64)
    label = labels.drop_duplicates("segment_id").set_index("segment_id")["label"]
    return label.reindex(segments["segment_id"]).fillna(-1).astype(np.int64).to_numpy()


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
                f"cannot fill every split: {n_groups} group(s) (speakers) for {int((~closed).sum())} "
                "non-empty splits; add videos or use fewer splits"
            )
        donor = min(donors, key=lambda g: (sizes[g], -per_split[out[g]]))
        out[donor] = split
    return out


def _standard_folds(segments: pd.DataFrame, speakers: np.ndarray) -> np.ndarray:
    """Each speaker's gold fold as a split index, -1 where it has none."""
    if "gold_split" not in segments.columns or segments["gold_split"].isna().all():
        raise ParameterError(
            "split.mode is 'standard' but no segment carries a gold fold (gold_split is empty): "
            "give ingest a gold file with a split column (CMU standard folds), or set split.mode: grouped"
        )
    folds = pd.DataFrame({"video": speakers_of(segments), "gold_split": segments["gold_split"]}).dropna()
    unknown = sorted(set(folds["gold_split"]) - set(SPLITS))
    if unknown:
        raise DataError(f"gold_split holds {unknown}; expected only {', '.join(SPLITS)} (or null)")
    per_video = folds.groupby("video")["gold_split"].agg(lambda s: s.value_counts().index[0])
    mixed = folds.groupby("video")["gold_split"].nunique()
    if (mixed > 1).any():
        log.warning(
            "%d speaker(s) have segments in more than one gold fold; each goes to its most common fold",
            int((mixed > 1).sum()),
        )
    index = {name: k for k, name in enumerate(SPLITS)}
    return np.array([index.get(per_video.get(speaker), -1) for speaker in speakers], dtype=np.int64)


def make_folds(speaker: np.ndarray, label: np.ndarray, *, folds: int, seed: int) -> np.ndarray:
    """Stratified speaker-grouped folds over the weakly labelled segments.

    Parameters
    ----------
    speaker
        Shape (n,): each segment's speaker.
    label
        Shape (n,): weak label 1, 0, or -1 (abstained or unlabelled: no fold).
    folds
        k, >= 2.
    seed
        ``random_state`` of ``sklearn.model_selection.StratifiedGroupKFold(shuffle=True)``.

    Returns
    -------
    numpy.ndarray
        Shape (n,), int: the fold 0..k-1 of each labelled segment, :data:`NO_FOLD` for the rest.
        No speaker lies in two folds.

    Raises
    ------
    DataError
        If the labelled segments hold fewer speakers than folds, or lack a class.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    out = np.full(len(label), NO_FOLD, dtype=np.int64)
    rows = np.flatnonzero(label >= 0)
    n_speakers = len(np.unique(speaker[rows]))
    if n_speakers < folds:
        raise DataError(
            f"{n_speakers} speaker(s) have weakly labelled segments, fewer than evaluate.folds = {folds}: "
            "lower evaluate.folds, add speakers, or set evaluate.protocol: holdout"
        )
    if len(np.unique(label[rows])) < 2:
        raise DataError(
            f"the weakly labelled segments hold one class only ({np.unique(label[rows]).tolist()}); "
            "folds need positives and negatives: check the labels"
        )
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(cv.split(np.zeros(len(rows)), label[rows], groups=speaker[rows])):
        out[rows[test]] = k
    return out


def _validation_speakers(
    speaker: np.ndarray, label: np.ndarray, fold: np.ndarray, *, config: SplitConfig
) -> set:
    """Speakers kept for validation: a share ``config.valid_share`` of each fold's, stratified by label.

    A fold of one speaker contributes none (it could not keep one for training).
    """
    chosen: set = set()
    for k in np.unique(fold[fold >= 0]):
        rows = fold == k
        counts, speakers = _class_counts(speaker[rows], label[rows])
        if len(speakers) < 2:
            continue
        share = config.valid_share
        groups = assign_groups(counts, fractions=np.array([1 - share, share]), seed=config.seed + int(k))
        chosen.update(speakers[groups == 1].tolist())
    return chosen


def make_split(
    segments: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    *,
    config: SplitConfig,
    folds: int | None = None,
) -> pd.DataFrame:
    """Assign every segment to a split (and, with ``folds``, a fold), whole speakers at a time.

    Parameters
    ----------
    segments
        Shape (n, ...): ``segment_id``, ``video``, ``speaker`` (the video where absent), and for
        ``mode: standard`` ``gold_split``.
    labels
        The labels table (``segment_id``, ``label``) to stratify by; segments without a label
        row count as abstained. ``None`` stratifies by size only (holdout only).
    config
        Fractions, seed and mode.
    folds
        The ``kfold`` protocol's k (:func:`check_protocol`); None for ``holdout``.

    Returns
    -------
    pandas.DataFrame
        Shape (n, 5), columns of :data:`SPLIT_SCHEMA`, in the order of ``segments``. Every
        segment is kept, labelled or not.

    Raises
    ------
    DataError
        If columns are missing, segment ids repeat, or there are too few speakers.
    ParameterError
        If ``mode`` is ``standard`` and no segment carries a gold fold (holdout).
    """
    missing = [c for c in ("segment_id", "video") if c not in segments.columns]
    if missing:
        raise DataError(f"segments table lacks {missing}; expected ingest's segments.parquet")
    if segments["segment_id"].duplicated().any():
        raise DataError("segment ids repeat in the segments table; expected one row per segment")
    if labels is not None and "label" not in labels.columns:
        raise DataError(f"labels table lacks 'label' (found {list(labels.columns)}); pass labels.parquet")
    if segments.empty:
        empty = {name: pd.Series(dtype="string") for name in SPLIT_SCHEMA.names}
        return pd.DataFrame(empty | {"fold": pd.Series(dtype="int32")})
    speaker = speakers_of(segments).to_numpy()
    label = _labels_of(segments, labels)
    if folds is not None:
        if config.mode == "standard":
            log.warning("split.mode standard applies to the holdout protocol only; the folds are grouped")
        fold = make_folds(speaker, label, folds=folds, seed=config.seed)
        valid = _validation_speakers(speaker, label, fold, config=config)
        split = np.where(pd.Series(speaker).isin(valid).to_numpy(), "valid", "train")
    else:
        counts, speakers = _class_counts(speaker, label)
        fixed = _standard_folds(segments, speakers) if config.mode == "standard" else None
        if fixed is not None:
            log.info(
                "standard folds for %d of %d speakers; the other %d are placed by grouping",
                int((fixed >= 0).sum()),
                len(speakers),
                int((fixed < 0).sum()),
            )
        groups = assign_groups(counts, fractions=config.fractions, seed=config.seed, fixed=fixed)
        split_of = dict(zip(speakers, np.array(SPLITS)[groups], strict=True))
        split = pd.Series(speaker).map(split_of).to_numpy()
        fold = np.full(len(speaker), NO_FOLD, dtype=np.int64)
    out = pd.DataFrame(
        {
            "segment_id": segments["segment_id"].astype("string").to_numpy(),
            "video": segments["video"].astype("string").to_numpy(),
            "speaker": pd.array(speaker, dtype="string"),
            "split": pd.array(split, dtype="string"),
            "fold": fold.astype(np.int32),
        }
    )
    log.info(
        "split %d segments of %d speakers (%s): %s",
        len(out),
        out["speaker"].nunique(),
        f"{folds} folds" if folds is not None else "holdout",
        out["split"].value_counts().to_dict()
        | ({"folds": out["fold"].value_counts().sort_index().to_dict()} if folds else {}),
    )
    return out


def protocol_of(split: pd.DataFrame) -> str:
    """``kfold`` when any segment of the split table has a fold, else ``holdout``."""
    return "kfold" if "fold" in split.columns and (split["fold"] >= 0).any() else "holdout"


def split_summary(split: pd.DataFrame, labels: pd.DataFrame | None = None) -> dict[str, Any]:
    """Speakers, videos, segments and weak-label classes per split (and per fold under ``kfold``).

    Parameters
    ----------
    split
        A split table (:data:`SPLIT_SCHEMA`; ``speaker`` and ``fold`` may be absent).
    labels
        The labels table; ``None`` leaves the class counts out.

    Returns
    -------
    dict
        ``{name: {"speakers": int, "videos": int, "segments": int, "positive": int,
        "negative": int, "abstain": int}}`` for each split present of :data:`SPLITS` and, under
        ``kfold``, each fold (``fold0``, ...) (classes only with ``labels``).
    """
    columns = [c for c in ("segment_id", "video", "split", "fold") if c in split.columns]
    frame = split[columns].assign(speaker=speakers_of(split))
    if labels is not None:
        frame = frame.merge(labels[["segment_id", "label"]], on="segment_id", how="left")
    parts = {name: frame["split"] == name for name in SPLITS if (frame["split"] == name).any()}
    if protocol_of(split) == "kfold":
        parts |= {
            f"fold{k}": frame["fold"] == k for k in sorted(frame.loc[frame["fold"] >= 0, "fold"].unique())
        }
    out: dict[str, Any] = {}
    for name, where in parts.items():
        rows = frame[where]
        entry = {
            "speakers": int(rows["speaker"].nunique()),
            "videos": int(rows["video"].nunique()),
            "segments": len(rows),
        }
        if labels is not None:
            label = rows["label"].fillna(-1).astype(int)
            entry.update({cls: int((label == value).sum()) for value, cls in CLASS_NAMES.items()})
        out[name] = entry
    return out


def write_split(split: pd.DataFrame, path: str | Path) -> Path:
    """Write a split table (from :func:`make_split`) to Parquet with :data:`SPLIT_SCHEMA`."""
    return write_table(split, path, schema=SPLIT_SCHEMA)


def read_split(path: str | Path) -> pd.DataFrame:
    """Read and check a split table; one without ``speaker`` (or ``fold``) gets the video (or -1).

    Raises
    ------
    DataError
        If it is missing, lacks a column, names an unknown split, or a speaker crosses splits or folds.
    """
    split = read_table(path)
    missing = [c for c in ("segment_id", "video", "split") if c not in split.columns]
    if missing:
        raise DataError(f"split table {path} lacks {missing}; rebuild it with the split stage")
    split["speaker"] = speakers_of(split)
    if "fold" not in split.columns:
        split["fold"] = NO_FOLD
    unknown = sorted(set(split["split"].dropna()) - set(SPLITS))
    if unknown or split["split"].isna().any():
        raise DataError(
            f"split table {path} holds splits {unknown or ['null']}; expected {', '.join(SPLITS)}"
        )
    for column in ("split", "fold"):
        rows = split[split["fold"] >= 0] if column == "fold" else split
        crossing = rows.groupby("speaker")[column].nunique()
        if (crossing > 1).any():
            raise DataError(
                f"split table {path}: {int((crossing > 1).sum())} speaker(s) lie in more than one {column}; "
                "rebuild it with the split stage"
            )
    return split[SPLIT_SCHEMA.names]
