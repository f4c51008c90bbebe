"""Labels from a manifest: gold-labelled audio files through the same clips/features/split/train stages.

``labels.source`` chooses where labels come from:

``text``
    Weak labels from transcripts (:mod:`weaklabel.labels.labellers`), the default.
``manifest``
    Gold labels from a manifest CSV: one row per audio file with ``path``, ``label`` (1, 0 or
    empty), ``group`` (the speaker) and ``corpus`` (:func:`weaklabel.sources.recordings.read_manifest`
    reads it; :func:`weaklabel.sources.recordings.ravdess_manifest` and
    :func:`weaklabel.sources.recordings.emodb_manifest` build one from those corpora's file names).

:func:`manifest_tables` turns a manifest into the tables the rest of the pipeline reads:

* a segments table (:data:`weaklabel.sources.mosei.SEGMENTS_SCHEMA`): one segment per file, ``start`` 0,
  ``end`` = ``duration`` = the file's length, ``video`` = the speaker, prefixed by the corpus unless
  it already starts with it (``emodb_03``), so that speakers of different corpora never merge and
  the grouped split keeps every speaker on one side,
  ``segment`` = the file's stem, ``text`` from the manifest when it has one;
* a labels table (:data:`weaklabel.labels.labellers.LABELS_SCHEMA`): ``label`` from the manifest,
  confidence 1,
  no lexicon scores; files without a label (neutral, calm, boredom, surprise...) stay, as
  :data:`~weaklabel.labels.labellers.ABSTAIN` with reason :data:`UNLABELLED`, as text abstentions do;
* a table of the manifest's own columns per segment (:data:`MANIFEST_SCHEMA`: corpus, speaker,
  emotion, language...), which cross-corpus evaluation groups by;
* rejects (:data:`weaklabel.tables.REJECTS_SCHEMA`, stage ``manifest``) for files that are missing,
  cannot be decoded, are empty, or appear twice; ``rows in = segments + rejects``.

Examples
--------
>>> from weaklabel.sources.recordings import emodb_manifest  # doctest: +SKIP
>>> tables = manifest_tables(emodb_manifest("data/emodb"))  # doctest: +SKIP
>>> tables.labels["label"].value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm.auto import tqdm

from weaklabel.audio.io import audio_info
from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.labellers import ABSTAIN, LABELS_SCHEMA
from weaklabel.sources.mosei import SEGMENTS_SCHEMA
from weaklabel.tables import rejects_frame, write_rejects, write_table

log = logging.getLogger(__name__)

STAGE = "manifest"
#: Values of ``labels.source``.
SOURCES = ("text", "manifest")
#: ``abstain_reason`` of a manifest file without a binary label (e.g. a neutral recording).
UNLABELLED = "unlabelled"
#: Reject reason codes.
REASONS = {
    "missing_file": "the manifest names a file that does not exist",
    "unreadable_audio": "the file's header cannot be decoded",
    "empty_audio": "the file holds no samples",
    "duplicate_path": "the file appears earlier in the manifest",
    "bad_label": "the label is neither 1, 0 nor empty",
}
#: Columns a manifest must have (``group`` may be called ``speaker``).
REQUIRED = ("path", "label", "group", "corpus")

#: Per-segment manifest columns, keyed like every other table.
MANIFEST_SCHEMA = pa.schema(
    [
        ("segment_id", pa.string()),
        ("path", pa.string()),  # the audio file, as resolved
        ("corpus", pa.string()),
        ("group", pa.string()),  # the speaker, as the manifest names it
        ("label", pa.int8()),  # 1, 0 or ABSTAIN
        ("language", pa.string()),
        ("polarity", pa.string()),
        ("emotion", pa.string()),
    ]
)


@dataclass(frozen=True)
class LabelSourceConfig:
    """Where labels come from (``labels.source``).

    Attributes
    ----------
    source
        ``text`` (weak labels from transcripts) or ``manifest`` (gold labels from a manifest CSV,
        whose path the stage receives as an argument, from ``dvc.yaml``).
    """

    source: str = "text"

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ParameterError(f"labels.source must be one of {', '.join(SOURCES)}, got {self.source!r}")


def split_source(section: dict | None) -> tuple[LabelSourceConfig, dict]:
    """Take ``source`` out of a ``labels`` params section.

    Parameters
    ----------
    section
        The ``labels`` mapping of params.yaml (may be ``None``).

    Returns
    -------
    source : LabelSourceConfig
        The label source.
    rest : dict
        The section without ``source``, for :func:`weaklabel.labels.analysis.label_configs`.

    Raises
    ------
    ParameterError
        If ``source`` is not one of :data:`SOURCES`.
    """
    rest = dict(section or {})
    return LabelSourceConfig(source=rest.pop("source", "text")), rest


@dataclass
class ManifestTables:
    """The tables a manifest becomes (see the module doc).

    Attributes
    ----------
    segments : pandas.DataFrame
        :data:`weaklabel.sources.mosei.SEGMENTS_SCHEMA` columns, one row per usable file.
    labels : pandas.DataFrame
        :data:`weaklabel.labels.labellers.LABELS_SCHEMA` columns, same rows and order.
    manifest : pandas.DataFrame
        :data:`MANIFEST_SCHEMA` columns, same rows and order.
    rejects : pandas.DataFrame
        :data:`weaklabel.tables.REJECTS_SCHEMA`; ``len(segments) + len(rejects)`` = manifest rows.
    """

    segments: pd.DataFrame
    labels: pd.DataFrame
    manifest: pd.DataFrame
    rejects: pd.DataFrame


def _key(text: object) -> str:
    """A segment-id-safe name: no ``___`` separator, no path separators or whitespace."""
    key = re.sub(r"[\s/\\]+", "-", str(text).strip())
    return re.sub(r"_{3,}", "__", key) or "x"


def normalise_manifest(manifest: pd.DataFrame, *, root: str | Path | None = None) -> pd.DataFrame:
    """Check a manifest's columns and bring them to one form.

    Parameters
    ----------
    manifest
        Rows with ``path``, ``label``, ``group`` (or ``speaker``) and ``corpus``; optional
        ``language``, ``polarity``, ``emotion``, ``text``.
    root
        Folder relative paths are resolved against (a CSV's own folder); ``None`` leaves them.

    Returns
    -------
    pandas.DataFrame
        Same rows and order; ``path`` as a string path, ``label`` as a nullable object column
        (1, 0 or None, or the raw value when it is not one of those), optional columns filled with
        None.

    Raises
    ------
    DataError
        If a required column is missing.
    """
    frame = manifest.copy()
    if "group" not in frame and "speaker" in frame:
        frame = frame.rename(columns={"speaker": "group"})
    missing = [c for c in REQUIRED if c not in frame]
    if missing:
        raise DataError(
            f"manifest lacks column(s) {missing} (found {list(frame.columns)}); expected "
            f"{', '.join(REQUIRED)} (group = speaker): build one with "
            "weaklabel.sources.recordings or add them"
        )
    for column in ("language", "polarity", "emotion", "text"):
        if column not in frame:
            frame[column] = None
    paths = []
    for value in frame["path"]:
        path = Path(str(value)).expanduser()
        if root is not None and not path.is_absolute():
            path = Path(root) / path
        paths.append(str(path))
    frame["path"] = paths
    frame["label"] = pd.Series([_label(v) for v in frame["label"]], index=frame.index, dtype=object)
    frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), "unknown").astype(str)
    frame["corpus"] = frame["corpus"].astype(object).where(frame["corpus"].notna(), "unknown").astype(str)
    return frame.reset_index(drop=True)


def _label(value: object) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(number) if number in (0.0, 1.0) else value


def manifest_tables(
    manifest: pd.DataFrame, *, root: str | Path | None = None, verbose: bool = False
) -> ManifestTables:
    """Turn a labelled manifest into segments, labels, manifest-columns and rejects tables.

    Only file headers are read (length, rate), never the audio itself.

    Parameters
    ----------
    manifest
        From :func:`weaklabel.sources.recordings.read_manifest` (or a scheme builder): ``path``,
        ``label`` (1/0/None), ``group`` (speaker), ``corpus``, and optionally ``language``,
        ``polarity``, ``emotion``, ``text``.
    root
        Folder relative paths are resolved against; ``None`` leaves them as they are.
    verbose
        Show a progress bar over the files.

    Returns
    -------
    ManifestTables
        ``segments``, ``labels``, ``manifest`` (same rows, manifest order) and ``rejects``.

    Raises
    ------
    DataError
        If a required column is missing, or no file is usable.
    """
    frame = normalise_manifest(manifest, root=root)
    seen: set[str] = set()
    used_ids: set[str] = set()
    rows, rejects = [], []
    for row in tqdm(frame.itertuples(index=False), total=len(frame), desc="manifest", disable=not verbose):
        reason, detail, info = None, "", None
        resolved = str(Path(row.path).resolve())
        if resolved in seen:
            reason = "duplicate_path"
        elif row.label is not None and row.label not in (0, 1):
            reason, detail = "bad_label", f"label {row.label!r}; expected 1, 0 or empty"
        elif not Path(row.path).is_file():
            reason = "missing_file"
        else:
            try:
                info = audio_info(row.path)
            except DataError as error:
                reason, detail = "unreadable_audio", str(error)
            else:
                if info.frames == 0:
                    reason = "empty_audio"
        seen.add(resolved)
        if reason is not None:
            rejects.append({"source": "manifest", "key": row.path, "reason": reason, "detail": detail})
            continue
        corpus, group = _key(row.corpus), _key(row.group)
        video = group if group.startswith(corpus) else f"{corpus}_{group}"
        segment = _key(Path(row.path).stem)
        segment_id, k = f"{video}___{segment}", 1
        while segment_id in used_ids:  # same stem in two folders of one speaker
            k += 1
            segment_id = f"{video}___{segment}-{k}"
        used_ids.add(segment_id)
        rows.append((segment_id, video, segment, row, info))
    rejects_table = rejects_frame(rejects, stage=STAGE)
    if not rows:
        raise DataError(
            f"none of the manifest's {len(frame)} files is usable "
            f"({rejects_table['reason'].value_counts().to_dict()}); check the paths and the folder"
        )
    if len(rejects_table):
        log.warning(
            "manifest: %d of %d files rejected: %s",
            len(rejects_table),
            len(frame),
            rejects_table["reason"].value_counts().to_dict(),
        )
    segments = pd.DataFrame(
        {
            "segment_id": [r[0] for r in rows],
            "video": [r[1] for r in rows],
            "segment": [r[2] for r in rows],
            "start": 0.0,
            "end": [r[4].seconds for r in rows],
            "duration": [r[4].seconds for r in rows],
            "text": [None if pd.isna(r[3].text) else str(r[3].text) for r in rows],
            "audio_path": [r[3].path for r in rows],
            "sample_rate": pd.array([r[4].sample_rate for r in rows], dtype="Int32"),
            "audio_seconds": [r[4].seconds for r in rows],
            "gold_sentiment": np.nan,
            "gold_split": None,
        }
    )[SEGMENTS_SCHEMA.names]
    label = np.array([ABSTAIN if r[3].label is None else int(r[3].label) for r in rows], dtype=np.int8)
    labelled = label != ABSTAIN
    labels = pd.DataFrame(
        {
            "segment_id": segments["segment_id"],
            "textblob": np.nan,
            "vader": np.nan,
            "combined": np.where(labelled, np.where(label == 1, 1.0, -1.0), np.nan),
            "label": label,
            "confidence": np.where(labelled, 1.0, np.nan),
            "abstain_reason": pd.array([None if ok else UNLABELLED for ok in labelled], dtype="string"),
        }
    )[LABELS_SCHEMA.names]
    columns = pd.DataFrame(
        {
            "segment_id": segments["segment_id"],
            "path": segments["audio_path"],
            "corpus": [str(r[3].corpus) for r in rows],
            "group": [str(r[3].group) for r in rows],
            "label": label,
            **{
                c: [None if pd.isna(getattr(r[3], c)) else str(getattr(r[3], c)) for r in rows]
                for c in ("language", "polarity", "emotion")
            },
        }
    )[MANIFEST_SCHEMA.names]
    log.info(
        "manifest: %d files -> %d segments (%d positive, %d negative, %d unlabelled), %d rejected",
        len(frame),
        len(segments),
        int((label == 1).sum()),
        int((label == 0).sum()),
        int((~labelled).sum()),
        len(rejects_table),
    )
    return ManifestTables(segments=segments, labels=labels, manifest=columns, rejects=rejects_table)


def write_manifest_tables(tables: ManifestTables, out: str | Path) -> dict[str, Path]:
    """Write ``segments.parquet``, ``labels.parquet``, ``manifest.parquet``, ``rejects.parquet`` to ``out``.

    Returns
    -------
    dict
        Table name -> written path.
    """
    out = Path(out)
    return {
        "segments": write_table(tables.segments, out / "segments.parquet", schema=SEGMENTS_SCHEMA),
        "labels": write_table(tables.labels, out / "labels.parquet", schema=LABELS_SCHEMA),
        "manifest": write_table(tables.manifest, out / "manifest.parquet", schema=MANIFEST_SCHEMA),
        "rejects": write_rejects(tables.rejects, out / "rejects.parquet"),
    }


def ingest_manifest(
    csv: str | Path, out: str | Path, *, report: str | Path | None = None, verbose: bool = False
) -> dict[str, Any]:
    """The ingest stage for ``labels.source: manifest``: a manifest CSV into the pipeline's tables.

    Writes :func:`write_manifest_tables`' four tables into ``out`` (``labels.parquet`` beside
    ``segments.parquet``, where the label stage takes it from) and a summary JSON shaped like
    :func:`weaklabel.sources.mosei.write_ingest`'s (``lines_read = segments + rejected``).

    Parameters
    ----------
    csv
        The manifest (:func:`weaklabel.sources.recordings.read_manifest`; relative paths start from
        its folder).
    out
        The ingest folder.
    report
        Where to write the summary JSON; ``None`` writes ``out/ingest.json``.
    verbose
        Show a progress bar over the files.

    Returns
    -------
    dict
        The summary: ``source``, ``manifest``, ``lines_read``, ``segments``, ``rejected``,
        ``rejects_by_reason``, ``labels`` (positive/negative/unlabelled counts).

    Raises
    ------
    DataError
        If the manifest is missing or malformed, or no file is usable.
    """
    from weaklabel.sources.recordings import read_manifest

    manifest = read_manifest(csv, duplicates="keep")  # repeats become duplicate_path rejects
    tables = manifest_tables(manifest, verbose=verbose)
    write_manifest_tables(tables, out)
    label = tables.labels["label"]
    summary = {
        "source": "manifest",
        "manifest": str(csv),
        "lines_read": len(manifest),
        "segments": len(tables.segments),
        "rejected": len(tables.rejects),
        "rejects_by_reason": {str(k): int(v) for k, v in tables.rejects["reason"].value_counts().items()},
        "labels": {
            "positive": int((label == 1).sum()),
            "negative": int((label == 0).sum()),
            "unlabelled": int((label == ABSTAIN).sum()),
        },
    }
    report = Path(report) if report is not None else Path(out) / "ingest.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
