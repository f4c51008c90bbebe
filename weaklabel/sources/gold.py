"""Gold sentiment: read CMU-MOSEI labels (SDK HDF5 or CSV), match them to segments, binarize.

Two gold formats are read into one table of :data:`GOLD_COLUMNS`:

- the CMU Multimodal SDK's ``CMU_MOSEI_Labels.csd`` (HDF5): ``<root>/data/<video>/features``
  (n x 7: sentiment, happy, sad, anger, surprise, disgust, fear; only the first column is used)
  and ``<root>/data/<video>/intervals`` (n x 2, seconds). The root group's name varies between
  SDK releases, so it is found as the one top-level group holding ``data``. Segment numbers are
  the row order within the video; the SDK keeps no folds in the file, so ``split`` is null.
- a CSV with a header, columns found by alias (case-insensitive): video = ``video`` |
  ``video_id`` | ``file``; segment = ``segment`` | ``index`` (optional); ``start``; ``end``;
  sentiment = ``sentiment`` | ``label7``; optional ``split`` as 0/1/2/3 (0 train, 1 valid,
  2 test, 3 unused: the CMU standard folds) or names (train, valid/validation/val/dev, test,
  unused). "Unused" and unknown folds become null.

Bad gold rows (non-numeric or non-finite values, sentiment outside -3..+3, reversed intervals)
are not errors: they come back as rejects with a ``gold_*`` reason code. A slightly negative start
is kept (the MOSEI labels have 239 such first segments, down to -0.49 s): intervals are only keys.
Gold rows are matched to segments by video and interval (:func:`match_gold`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from weaklabel.errors import DataError, ParameterError
from weaklabel.tables import rejects_frame

log = logging.getLogger(__name__)

#: Modes of :func:`binarize_gold`.
BINARIZE_MODES = ("has0", "non0")


def binarize_gold(sentiment: np.ndarray, *, mode: str) -> np.ndarray:
    """Turn gold sentiment in -3..+3 into binary labels, the two ways the literature does.

    Parameters
    ----------
    sentiment
        Shape (n,), gold sentiment scores; NaN where unknown.
    mode
        ``"has0"``: 1.0 where ``sentiment >= 0``, else 0.0 (neutral counts as positive).
        ``"non0"``: 1.0 where ``> 0``, 0.0 where ``< 0``, NaN where ``== 0`` (neutral left out).

    Returns
    -------
    numpy.ndarray
        Shape (n,), float64: 1.0 positive, 0.0 negative, NaN where undefined (NaN in gives NaN out).

    Raises
    ------
    ParameterError
        If ``mode`` is not one of :data:`BINARIZE_MODES`.

    Examples
    --------
    >>> binarize_gold(np.array([-1.0, 0.0, 2.0, np.nan]), mode="non0")
    array([ 0., nan,  1., nan])
    """
    if mode not in BINARIZE_MODES:
        raise ParameterError(f"gold binarization mode must be one of {BINARIZE_MODES}, got {mode!r}")
    values = np.asarray(sentiment, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    known = ~np.isnan(values)
    if mode == "has0":
        out[known] = (values[known] >= 0).astype(np.float64)
    else:
        out[known & (values > 0)] = 1.0
        out[known & (values < 0)] = 0.0
    return out


#: Columns of a gold table: ``segment`` and ``split`` may be null.
GOLD_COLUMNS = ["video", "segment", "start", "end", "sentiment", "split"]

#: Reason codes for gold rows that cannot be used.
GOLD_REASONS: dict[str, str] = {
    "gold_bad_value": "video empty, or start, end or sentiment not a finite number",
    "gold_bad_time": "end before start",
    "gold_out_of_range": "sentiment outside -3..+3",
    "gold_malformed": "an HDF5 video entry that is not a group holding numeric features (n, >=1) "
    "and intervals (n, 2) datasets",
}

#: CSV column aliases, in order of preference.
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "video": ("video", "video_id", "file"),
    "segment": ("segment", "index"),
    "start": ("start",),
    "end": ("end",),
    "sentiment": ("sentiment", "label7"),
    "split": ("split",),
}

#: Fold names and CMU codes -> the split names used in every table (None: no fold).
SPLIT_NAMES: dict[str, str | None] = {
    "0": "train",
    "1": "valid",
    "2": "test",
    "3": None,
    "train": "train",
    "valid": "valid",
    "validation": "valid",
    "val": "valid",
    "dev": "valid",
    "test": "test",
    "unused": None,
}

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _empty_gold() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "video": pd.Series(dtype="string"),
            "segment": pd.Series(dtype="string"),
            "start": pd.Series(dtype="float64"),
            "end": pd.Series(dtype="float64"),
            "sentiment": pd.Series(dtype="float64"),
            "split": pd.Series(dtype="string"),
        }
    )


def normalize_split(values: pd.Series) -> pd.Series:
    """Map fold codes (0/1/2/3, also as ``"0.0"``) and names to ``train``/``valid``/``test``/null.

    Parameters
    ----------
    values
        Shape (n,), any dtype; empty or missing values give null.

    Returns
    -------
    pandas.Series
        Shape (n,), string dtype: ``train``, ``valid``, ``test`` or ``<NA>`` (unused, unknown, missing).
    """
    out = []
    for value in values.tolist():
        key = (
            ""
            if value is None or (isinstance(value, float) and np.isnan(value))
            else str(value).strip().lower()
        )
        try:
            key = str(int(float(key)))
        except ValueError:
            pass
        out.append(SPLIT_NAMES.get(key))
    return pd.Series(out, index=values.index, dtype="string")


def _validate(gold: pd.DataFrame, *, source: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a raw gold table into usable rows and rejects (``gold_*`` reasons)."""
    reasons = pd.Series("", index=gold.index, dtype=object)
    finite = np.isfinite(gold[["start", "end", "sentiment"]].to_numpy(dtype=np.float64)).all(axis=1)
    bad_value = ~finite | (gold["video"].fillna("").str.strip() == "").to_numpy()
    reasons[bad_value] = "gold_bad_value"
    bad_time = ~bad_value & (gold["end"] < gold["start"]).to_numpy()
    reasons[bad_time] = "gold_bad_time"
    out_of_range = ~bad_value & ~bad_time & (gold["sentiment"].abs() > 3).to_numpy()
    reasons[out_of_range] = "gold_out_of_range"
    bad = reasons != ""
    rows = []
    for position, row in zip(np.flatnonzero(bad.to_numpy()), gold[bad].itertuples(index=False), strict=True):
        rows.append(
            {
                "source": source,
                "key": f"{row.video}___{row.segment}" if pd.notna(row.segment) else f"row {position}",
                "reason": reasons.iloc[position],
                "detail": f"row {position}: start={row.start}, end={row.end}, sentiment={row.sentiment}; "
                f"{GOLD_REASONS[reasons.iloc[position]]}",
            }
        )
    return gold[~bad].reset_index(drop=True), rejects_frame(rows, stage="ingest")


def _describe_h5(item) -> str:
    """``float32 (n, 7)`` for a dataset, ``a Group`` for anything else."""
    shape = getattr(item, "shape", None)
    return f"{item.dtype} {shape}" if shape is not None else f"a {type(item).__name__}"


def _video_problem(data, video: str) -> str | None:
    """Why ``data[video]`` of a .csd is not a usable video group, or None (h5py objects, not read)."""
    import h5py

    group = data.get(video)
    if not isinstance(group, h5py.Group):
        return f"{video!r} is a {type(group).__name__}, expected a group holding features and intervals"
    found = {name: group.get(name) for name in ("features", "intervals")}
    kinds = {name: "missing" if item is None else _describe_h5(item) for name, item in found.items()}
    features, intervals = found["features"], found["intervals"]
    usable = (
        isinstance(features, h5py.Dataset)
        and isinstance(intervals, h5py.Dataset)
        and features.dtype.kind in "fiu"
        and intervals.dtype.kind in "fiu"
        and features.ndim == 2
        and features.shape[1] >= 1
        and intervals.shape == (features.shape[0], 2)
    )
    if usable:
        return None
    return (
        f"video group {video!r} has features {kinds['features']} and intervals {kinds['intervals']}; "
        "expected numeric datasets features (n, >=1) and intervals (n, 2)"
    )


def _find_root(handle) -> str:
    """Name of the group holding ``data`` in an SDK computational-sequence file ('' for the file root)."""
    import h5py

    if isinstance(handle.get("data"), h5py.Group):
        return ""
    roots = [name for name, item in handle.items() if isinstance(item, h5py.Group) and "data" in item]
    if len(roots) != 1:
        raise DataError(
            f"{handle.filename}: expected one top-level group holding 'data' (the SDK layout "
            f"<root>/data/<video>/features and intervals), found {roots or list(handle.keys())}; "
            "pass the SDK's CMU_MOSEI_Labels.csd or a labels CSV"
        )
    return roots[0]


def read_gold_csd(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read gold sentiment from the SDK's HDF5 computational sequence (``CMU_MOSEI_Labels.csd``).

    Parameters
    ----------
    path
        The ``.csd`` file.

    Returns
    -------
    gold : pandas.DataFrame
        Columns :data:`GOLD_COLUMNS`, one row per usable labelled interval; ``segment`` is the
        row number within the video (as a string), ``split`` is null.
    rejects : pandas.DataFrame
        Rejects table (stage ``ingest``) of unusable rows and malformed video groups.

    Raises
    ------
    DataError
        If the file cannot be opened or read as HDF5, or has no single group holding ``data``, or
        its ``data`` is not a group. A malformed *video* entry is a reject (``gold_malformed``).
    """
    import h5py

    path = Path(path)
    frames, bad = [], []
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataError(f"cannot open gold file {path} as HDF5: {error}; expected the SDK's .csd") from error
    try:
        with handle:
            root = _find_root(handle)
            data = handle[f"{root}/data" if root else "data"]
            if not isinstance(data, h5py.Group):
                raise DataError(
                    f"gold file {path}: {data.name} is a {type(data).__name__}, expected a group of video "
                    "groups (the SDK layout <root>/data/<video>/features and intervals)"
                )
            for video in data:
                problem = _video_problem(data, video)
                if problem is not None:
                    bad.append(
                        {"source": str(path), "key": video, "reason": "gold_malformed", "detail": problem}
                    )
                    continue
                feats = np.asarray(data[video]["features"][:, 0], dtype=np.float64)
                times = np.asarray(data[video]["intervals"][:], dtype=np.float64)
                frames.append(
                    pd.DataFrame(
                        {
                            "video": video,
                            "segment": [str(i) for i in range(len(feats))],
                            "start": times[:, 0],
                            "end": times[:, 1],
                            "sentiment": feats,
                            "split": None,
                        }
                    )
                )
    except (OSError, KeyError, ValueError, TypeError) as error:  # damaged inside: a truncated or corrupt file
        raise DataError(f"cannot read gold file {path} as the SDK's .csd: {error}") from error
    gold = pd.concat([_empty_gold(), *frames], ignore_index=True).astype(
        {"video": "string", "segment": "string", "split": "string"}
    )
    gold, rejects = _validate(gold, source=str(path))
    malformed = rejects_frame(bad, stage="ingest")
    rejects = pd.concat([malformed, rejects], ignore_index=True) if bad else rejects
    log.info("read %d gold rows from %s (%d rejected)", len(gold), path, len(rejects))
    return gold, rejects


def _pick(columns: dict[str, str], field: str, path: Path, *, required: bool) -> str | None:
    for alias in CSV_ALIASES[field]:
        if alias in columns:
            return columns[alias]
    if required:
        raise DataError(
            f"gold CSV {path} has no {field} column: found {sorted(columns.values())}, "
            f"expected one of {list(CSV_ALIASES[field])}"
        )
    return None


def read_gold_csv(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read gold sentiment from a CSV (MOSEI labels CSV, MOSI gold, the demo's ``gold.csv``).

    Parameters
    ----------
    path
        A CSV with a header; columns are found by :data:`CSV_ALIASES`, other columns are ignored.

    Returns
    -------
    gold : pandas.DataFrame
        Columns :data:`GOLD_COLUMNS`, one row per usable CSV row.
    rejects : pandas.DataFrame
        Rejects table (stage ``ingest``) of the rows that cannot be used.

    Raises
    ------
    DataError
        If the file cannot be read or a required column (video, start, end, sentiment) is absent.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise DataError(f"cannot read gold CSV {path}: {error}") from error
    columns = {str(name).strip().lower(): name for name in raw.columns}
    picked = {
        field: _pick(columns, field, path, required=field not in {"segment", "split"})
        for field in CSV_ALIASES
    }
    log.debug("gold CSV %s: columns %s", path, picked)
    gold = pd.DataFrame(
        {
            "video": raw[picked["video"]].str.strip().astype("string"),
            "segment": (
                raw[picked["segment"]].str.strip().astype("string")
                if picked["segment"]
                else pd.Series(pd.NA, index=raw.index, dtype="string")
            ),
            **{
                field: pd.to_numeric(raw[picked[field]].str.strip(), errors="coerce").astype("float64")
                for field in ("start", "end", "sentiment")
            },
            "split": (
                normalize_split(raw[picked["split"]])
                if picked["split"]
                else pd.Series(pd.NA, index=raw.index, dtype="string")
            ),
        }
    )
    gold, rejects = _validate(gold, source=str(path))
    log.info("read %d gold rows from %s (%d rejected)", len(gold), path, len(rejects))
    return gold, rejects


def read_gold(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a gold file, HDF5 (``.csd``) or CSV, chosen by its first bytes.

    Parameters
    ----------
    path
        ``CMU_MOSEI_Labels.csd`` or a labels CSV.

    Returns
    -------
    gold, rejects : pandas.DataFrame
        See :func:`read_gold_csd` and :func:`read_gold_csv`.

    Raises
    ------
    DataError
        If the file is missing or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"gold file {path} not found; set data.gold (or --gold) to CMU_MOSEI_Labels.csd or a labels CSV, "
            'or to "" for none'
        )
    with path.open("rb") as handle:
        head = handle.read(len(_HDF5_SIGNATURE))
    return read_gold_csd(path) if head == _HDF5_SIGNATURE else read_gold_csv(path)


def match_gold(
    segments: pd.DataFrame, gold: pd.DataFrame, *, tolerance_s: float
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Give each segment the gold row of the same video whose interval agrees with its own.

    A gold row matches a segment when both its start and its end lie within ``tolerance_s`` of
    the segment's; of several, the closest (smallest larger endpoint distance) wins. Intervals
    are the key, not segment numbers (transcripts and label files may number from 0 or from 1);
    the segment number only breaks exact ties (MOSI has segments with identical intervals), and
    remaining ties go to the first row in the gold file.

    Parameters
    ----------
    segments
        Shape (n, ...): ``video``, ``start``, ``end`` (seconds, as read from the transcript),
        optionally ``segment`` (used for ties).
    gold
        A gold table (:data:`GOLD_COLUMNS`), e.g. from :func:`read_gold`.
    tolerance_s
        Largest endpoint difference, seconds, >= 0.

    Returns
    -------
    segments : pandas.DataFrame
        A copy with ``gold_sentiment`` (float64, NaN when unmatched) and ``gold_split``
        (string, null when unmatched or the fold is unknown) set.
    summary : dict
        Counts: matched and unmatched segments, unmatched gold rows, gold rows matched by more
        than one segment, matched segments per split.

    Raises
    ------
    ParameterError
        If ``tolerance_s`` is negative.
    DataError
        If ``gold`` or ``segments`` lacks a column named above.
    """
    if not tolerance_s >= 0:
        raise ParameterError(f"ingest.gold_tolerance_s must be >= 0 s, got {tolerance_s}")
    for name, frame, needed in (
        ("gold", gold, GOLD_COLUMNS),
        ("segments", segments, ["video", "start", "end"]),
    ):
        missing = [column for column in needed if column not in frame.columns]
        if missing:
            raise DataError(
                f"{name} table lacks column(s) {missing}: found {list(frame.columns)}; "
                "read gold with weaklabel.sources.gold.read_gold"
            )
    out = segments.copy()
    sentiment = np.full(len(out), np.nan)
    split = np.full(len(out), None, dtype=object)
    used = np.zeros(len(gold), dtype=np.int64)
    by_video = gold.groupby("video", sort=False).indices
    gold_start, gold_end = gold["start"].to_numpy(np.float64), gold["end"].to_numpy(np.float64)
    gold_sentiment, gold_split = gold["sentiment"].to_numpy(np.float64), gold["split"].to_numpy(object)
    gold_segment = gold["segment"].astype("string").fillna("\x00gold").to_numpy(object)
    seg_segment = (
        out["segment"].astype("string").fillna("\x00segment").to_numpy(object)
        if "segment" in out.columns
        else np.full(len(out), "\x00segment", dtype=object)
    )
    seg_start, seg_end = out["start"].to_numpy(np.float64), out["end"].to_numpy(np.float64)
    for video, positions in out.groupby("video", sort=False).indices.items():
        candidates = by_video.get(video)
        if candidates is None:
            continue
        distance = np.maximum(
            np.abs(seg_start[positions, None] - gold_start[candidates][None, :]),
            np.abs(seg_end[positions, None] - gold_end[candidates][None, :]),
        )
        nearest = distance <= distance.min(axis=1, keepdims=True) + 1e-9
        same = seg_segment[positions, None] == gold_segment[candidates][None, :]
        best = np.where(nearest, np.where(same, 0, 1), 2).argmin(axis=1)
        ok = distance[np.arange(len(positions)), best] <= tolerance_s
        chosen = candidates[best[ok]]
        sentiment[positions[ok]] = gold_sentiment[chosen]
        split[positions[ok]] = gold_split[chosen]
        np.add.at(used, chosen, 1)
    out["gold_sentiment"] = sentiment
    out["gold_split"] = pd.Series(
        [None if value is None or value is pd.NA else str(value) for value in split],
        index=out.index,
        dtype="string",
    )
    matched = int(np.isfinite(sentiment).sum())
    summary: dict[str, object] = {
        "segments_with_gold": matched,
        "segments_without_gold": len(out) - matched,
        "gold_rows_unmatched": int((used == 0).sum()),
        "gold_rows_matched_twice": int((used > 1).sum()),
        "gold_split": {
            str(k): int(v) for k, v in out.loc[np.isfinite(sentiment), "gold_split"].value_counts().items()
        },
    }
    if summary["gold_rows_matched_twice"]:
        log.warning("%d gold rows matched more than one segment", summary["gold_rows_matched_twice"])
    return out, summary
