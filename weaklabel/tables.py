"""Parquet tables with explicit schemas, and the rejects table every stage writes.

Every stage that drops rows keeps them: a rejects table has one row per dropped input with a
reason code, so that ``rows in = rows kept + rows rejected`` can be checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from weaklabel.errors import DataError

REJECTS_SCHEMA = pa.schema(
    [
        ("stage", pa.string()),
        ("source", pa.string()),
        ("key", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
    ]
)


def write_table(frame: pd.DataFrame, path: str | Path, *, schema: pa.Schema) -> Path:
    """Write ``frame`` to Parquet at ``path`` with exactly ``schema`` (columns in schema order).

    Parameters
    ----------
    frame
        The rows; it must hold every column of ``schema``, extra columns are an error.
    path
        Destination file; parent folders are created.
    schema
        The explicit Arrow schema.

    Returns
    -------
    Path
        The written path.

    Raises
    ------
    DataError
        If the frame's columns do not match the schema.
    """
    missing = [n for n in schema.names if n not in frame.columns]
    extra = [c for c in frame.columns if c not in schema.names]
    if missing or extra:
        raise DataError(f"table for {path} does not match its schema: missing {missing}, extra {extra}")
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a Parquet table written by :func:`write_table`.

    Raises
    ------
    DataError
        If the file does not exist (naming the stage that should have made it), or cannot be read
        as Parquet (truncated, corrupt, not Parquet, a folder).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"table {path} not found: run the stage that writes it first (see dvc.yaml)")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(
            f"cannot read table {path} as Parquet ({first}); re-run the stage that writes it (see dvc.yaml)"
        ) from error


def check_keys(frame: pd.DataFrame, *, source: str | Path, column: str = "segment_id") -> None:
    """Check that ``frame`` has a ``column`` of distinct, non-empty keys (every table's ``segment_id``).

    A key that is empty or repeated would silently merge or lose rows wherever tables are joined
    (labels onto segments, features onto labels), so a table holding one is refused as a whole.

    Parameters
    ----------
    frame
        The table.
    source
        Where it came from, for the message.
    column
        The key column.

    Raises
    ------
    DataError
        If ``column`` is absent, or holds missing, blank or repeated keys; the message counts them
        and names the first few.

    Examples
    --------
    >>> check_keys(pd.DataFrame({"segment_id": ["a___1", "a___1", ""]}), source="segments.parquet")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    weaklabel.errors.DataError: segments.parquet: 1 empty segment_id(s) (rows [2]) and 1 repeated ...
    """
    if column not in frame.columns:
        raise DataError(f"{source} has no {column} column: found {list(frame.columns)}")
    keys = frame[column].astype("string")
    empty = keys.isna() | (keys.str.strip() == "")
    repeated = keys[~empty & keys.duplicated(keep=False)].unique().tolist()
    if empty.any() or repeated:
        rows = [int(i) for i in np.flatnonzero(empty.to_numpy())[:5]]
        raise DataError(
            f"{source}: {int(empty.sum())} empty {column}(s) (rows {rows}) and {len(repeated)} repeated "
            f"({[str(k) for k in repeated[:5]]}); every row needs its own {column}: "
            "re-run ingest, or fix the table"
        )


def rejects_frame(rows: Iterable[Mapping[str, str]], *, stage: str) -> pd.DataFrame:
    """Build a rejects table from dicts with ``source``, ``key``, ``reason`` and ``detail``.

    Parameters
    ----------
    rows
        One mapping per rejected input; ``detail`` may be omitted.
    stage
        The stage that rejected them (``"ingest"``, ``"label"``, ...).

    Returns
    -------
    pandas.DataFrame
        Columns of :data:`REJECTS_SCHEMA`.
    """
    frame = pd.DataFrame(list(rows), columns=["source", "key", "reason", "detail"])
    frame["detail"] = frame["detail"].fillna("")
    frame.insert(0, "stage", stage)
    return frame.astype({name: "string" for name in REJECTS_SCHEMA.names})


def write_rejects(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a rejects table built by :func:`rejects_frame`."""
    return write_table(frame, path, schema=REJECTS_SCHEMA)
