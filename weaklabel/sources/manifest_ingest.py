"""Gold-label mode: a recordings manifest through the same clips/features/split/train stages.

``labels.source`` chooses where labels come from:

``text``
    Weak labels from transcripts (:mod:`weaklabel.labels.labellers`), the default.
``manifest``
    Gold labels from a recordings manifest (:mod:`weaklabel.sources.recordings`): one row per audio
    file with ``path``, ``label`` (1, 0 or empty) or ``polarity``, ``group`` (the speaker; or
    ``speaker``) and ``corpus``; ``language``, ``emotion`` and ``text`` are optional.
    :func:`weaklabel.sources.recordings.read_manifest` reads one from a CSV;
    :func:`weaklabel.sources.recordings.ravdess_manifest` and
    :func:`weaklabel.sources.recordings.emodb_manifest` build one from those corpora's file names.

The ingest stage (:func:`ingest_manifest`) turns the manifest into, with :func:`manifest_tables`:

* a segments table (:data:`weaklabel.sources.mosei.SEGMENTS_SCHEMA`): one segment per file, ``start`` 0,
  ``end`` = ``duration`` = the file's length, ``video`` and ``speaker`` = the group (speaker),
  prefixed by the corpus unless it already starts with it (``emodb_03``), so that speakers of
  different corpora never merge and the split, the folds and the bootstraps keep every speaker on
  one side,
  ``segment`` = the file's stem, ``text`` from the manifest when it has one;
* the recordings manifest keyed by segment (``manifest.parquet``, :data:`SEGMENT_RECORDINGS_SCHEMA`:
  ``segment_id`` and the columns of :data:`weaklabel.sources.recordings.RECORDINGS_SCHEMA`), each
  label read once, by :func:`weaklabel.sources.recordings.parse_label`; cross-corpus evaluation
  groups by its corpus and speaker columns;
* ``corpus.json`` (``kind: manifest``), which the evaluation report reads to speak of recordings,
  speakers and gold labels;
* rejects (:data:`weaklabel.tables.REJECTS_SCHEMA`, stage ``manifest``) for files that are missing,
  lead outside the manifest's folder (a ``../`` or absolute path, or a link: never opened), cannot
  be decoded, are empty, appear twice, have no group (speaker) or carry a label that cannot be read;
  ``rows in = segments + rejects``.

A manifest must *have* the columns :data:`REQUIRED` (``label`` may be ``polarity``, ``group`` may be
``speaker``): a missing column is an error, never a silent default.

The label stage makes the labels table (:data:`weaklabel.labels.labellers.LABELS_SCHEMA`) from the
recordings by segment with :func:`labels_from_manifest`: ``label`` from the manifest, confidence 1,
no lexicon scores; files without a label (neutral, calm, boredom, surprise...) stay, as
:data:`~weaklabel.labels.labellers.ABSTAIN` with reason :data:`UNLABELLED`, as text abstentions do.

Examples
--------
>>> from weaklabel.sources.recordings import emodb_manifest  # doctest: +SKIP
>>> tables = manifest_tables(emodb_manifest("data/emodb"))  # doctest: +SKIP
>>> labels_from_manifest(tables.recordings)["label"].value_counts()  # doctest: +SKIP
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

from weaklabel.audio.io import AudioInfo, audio_info
from weaklabel.errors import DataError, ParameterError
from weaklabel.labels.labellers import ABSTAIN, LABELS_SCHEMA
from weaklabel.paths import REASON as OUTSIDE_ROOT
from weaklabel.paths import outside_root
from weaklabel.sources.mosei import SEGMENTS_SCHEMA, write_corpus_facts
from weaklabel.sources.recordings import (
    RECORDINGS_SCHEMA,
    missing_columns,
    parse_label,
    read_manifest,
    recordings_frame,
    rename_aliases,
)
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
    OUTSIDE_ROOT: "the path leads outside the manifest's folder ('../', absolute, or a link): not opened",
    "missing_group": "the row has no group (speaker), which the grouped split and reports need",
    "unreadable_audio": "the file's header cannot be decoded",
    "empty_audio": "the file holds no samples",
    "duplicate_path": "the file appears earlier in the manifest",
    "bad_label": "the label or polarity cannot be read (parse_label), or they disagree",
}
#: Columns a manifest must have: ``group`` may be called ``speaker``, ``label`` may be ``polarity``.
REQUIRED = ("path", "label", "group", "corpus")

#: The recordings manifest keyed by segment (``manifest.parquet``): ``segment_id``, then the
#: recordings columns (``path`` as read; ``corpus`` "unknown" where a frame leaves it missing).
SEGMENT_RECORDINGS_SCHEMA = pa.schema([pa.field("segment_id", pa.string()), *RECORDINGS_SCHEMA])


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
    """The tables a manifest becomes at ingest (see the module doc).

    Attributes
    ----------
    segments : pandas.DataFrame
        :data:`weaklabel.sources.mosei.SEGMENTS_SCHEMA` columns, one row per usable file.
    recordings : pandas.DataFrame
        :data:`SEGMENT_RECORDINGS_SCHEMA` columns, same rows and order.
    rejects : pandas.DataFrame
        :data:`weaklabel.tables.REJECTS_SCHEMA`; ``len(segments) + len(rejects)`` = manifest rows.
    """

    segments: pd.DataFrame
    recordings: pd.DataFrame
    rejects: pd.DataFrame


def _key(text: object) -> str:
    """A segment-id-safe name: no ``___`` separator, no path separators or whitespace."""
    key = re.sub(r"[\s/\\]+", "-", str(text).strip())
    return re.sub(r"_{3,}", "__", key) or "x"


def _rows(manifest: pd.DataFrame, root: str | Path | None) -> list[dict[str, Any]]:
    """The manifest's rows as dicts: columns checked, paths joined to ``root``, speaker and corpus filled."""
    frame = rename_aliases(manifest)
    missing = missing_columns(frame.columns, REQUIRED)
    if missing:
        raise DataError(
            f"manifest lacks column(s) {missing} (found {list(frame.columns)}); expected "
            f"{', '.join(REQUIRED)} (group = speaker, label or polarity): build one with "
            "weaklabel.sources.recordings or add them"
        )
    frame = frame.reindex(columns=list(RECORDINGS_SCHEMA.names))
    frame["corpus"] = frame["corpus"].astype(object).where(frame["corpus"].notna(), "unknown").astype(str)
    rows = frame.to_dict("records")
    for row in rows:
        path = Path(str(row["path"])).expanduser()
        row["path"] = str(Path(root) / path if root is not None and not path.is_absolute() else path)
    return rows


def _reject_reason(row: dict[str, Any], root: str | Path | None) -> tuple[str | None, str, AudioInfo | None]:
    """Why a manifest row cannot be a segment (None if it can), a detail, and its audio header."""
    if root is not None and (escape := outside_root(row["path"], root)) is not None:
        return OUTSIDE_ROOT, escape, None  # before anything opens the file
    try:
        parse_label(label=row["label"], polarity=row["polarity"])
    except DataError as error:
        return "bad_label", str(error), None
    if pd.isna(row["group"]) or not str(row["group"]).strip():
        return "missing_group", "no group (speaker) in this row; the grouped split needs one", None
    if not Path(row["path"]).is_file():
        return "missing_file", "", None
    try:
        info = audio_info(row["path"])
    except DataError as error:
        return "unreadable_audio", str(error), None
    return ("empty_audio" if info.frames == 0 else None), "", info


def _label_counts(label: pd.Series) -> dict[str, int]:
    """Positive, negative and unlabelled counts of a recordings ``label`` column (1, 0, missing)."""
    return {
        "positive": int((label == 1).sum()),
        "negative": int((label == 0).sum()),
        "unlabelled": int(label.isna().sum()),
    }


def manifest_tables(
    manifest: pd.DataFrame, *, root: str | Path | None = None, verbose: bool = False
) -> ManifestTables:
    """Turn a labelled recordings manifest into segments, recordings-by-segment and rejects tables.

    Only file headers are read (length, rate), never the audio itself.

    Parameters
    ----------
    manifest
        From :func:`weaklabel.sources.recordings.read_manifest` (or a scheme builder), or any frame
        with ``path``, ``label`` and/or ``polarity`` (any spelling
        :func:`weaklabel.sources.recordings.parse_label` reads), ``group`` (or ``speaker``),
        ``corpus``, and optionally ``language``, ``emotion``, ``text``.
    root
        Folder relative paths are resolved against, and that every path must stay inside (links
        resolved; a row leaving it is rejected as ``outside_root`` without being opened); ``None``
        leaves paths as they are and checks nothing.
    verbose
        Show a progress bar over the files.

    Returns
    -------
    ManifestTables
        ``segments``, ``recordings`` (same rows, manifest order) and ``rejects``.

    Raises
    ------
    DataError
        If a required column is missing, or no file is usable.
    """
    rows = _rows(manifest, root)
    seen: set[str] = set()
    used_ids: set[str] = set()
    kept, rejects = [], []
    for row in tqdm(rows, desc="manifest", disable=not verbose):
        resolved = str(Path(row["path"]).resolve())
        reason, detail, info = ("duplicate_path", "", None) if resolved in seen else _reject_reason(row, root)
        seen.add(resolved)
        if reason is not None:
            rejects.append({"source": "manifest", "key": row["path"], "reason": reason, "detail": detail})
            continue
        corpus, group = _key(row["corpus"]), _key(row["group"])
        video = group if group.startswith(corpus) else f"{corpus}_{group}"
        segment = _key(Path(row["path"]).stem)
        segment_id, k = f"{video}___{segment}", 1
        while segment_id in used_ids:  # same stem in two folders of one speaker
            k += 1
            segment_id = f"{video}___{segment}-{k}"
        used_ids.add(segment_id)
        kept.append((segment_id, video, segment, row, info))
    rejects_table = rejects_frame(rejects, stage=STAGE)
    if not kept:
        raise DataError(
            f"none of the manifest's {len(rows)} files is usable "
            f"({rejects_table['reason'].value_counts().to_dict()}); check the paths and the folder"
        )
    if len(rejects_table):
        log.warning(
            "manifest: %d of %d files rejected: %s",
            len(rejects_table),
            len(rows),
            rejects_table["reason"].value_counts().to_dict(),
        )
    segments = pd.DataFrame(
        {
            "segment_id": [r[0] for r in kept],
            "video": [r[1] for r in kept],
            "speaker": [r[1] for r in kept],
            "segment": [r[2] for r in kept],
            "start": 0.0,
            "end": [r[4].seconds for r in kept],
            "duration": [r[4].seconds for r in kept],
            "text": [None if pd.isna(r[3]["text"]) else str(r[3]["text"]) for r in kept],
            "audio_path": [r[3]["path"] for r in kept],
            "sample_rate": pd.array([r[4].sample_rate for r in kept], dtype="Int32"),
            "audio_seconds": [r[4].seconds for r in kept],
            "gold_sentiment": np.nan,
            "gold_split": None,
        }
    )[SEGMENTS_SCHEMA.names]
    recordings = recordings_frame([r[3] for r in kept])
    recordings.insert(0, "segment_id", segments["segment_id"])
    log.info(
        "manifest: %d files -> %d segments %s, %d rejected",
        len(rows),
        len(segments),
        _label_counts(recordings["label"]),
        len(rejects_table),
    )
    return ManifestTables(segments=segments, recordings=recordings, rejects=rejects_table)


def labels_from_manifest(recordings: pd.DataFrame) -> pd.DataFrame:
    """The labels table of gold-labelled segments: the label stage in manifest mode.

    Parameters
    ----------
    recordings
        The recordings manifest keyed by segment (:data:`SEGMENT_RECORDINGS_SCHEMA`, ingest's
        ``manifest.parquet``); ``label`` 1, 0 or missing.

    Returns
    -------
    pandas.DataFrame
        :data:`weaklabel.labels.labellers.LABELS_SCHEMA` columns, same rows and order: ``label`` as
        given (missing = :data:`~weaklabel.labels.labellers.ABSTAIN`, reason :data:`UNLABELLED`),
        ``combined`` +1/-1 and ``confidence`` 1 when labelled, no lexicon scores.
    """
    label = recordings["label"].astype("Int8").fillna(ABSTAIN).to_numpy(dtype=np.int8)
    labelled = label != ABSTAIN
    return pd.DataFrame(
        {
            "segment_id": recordings["segment_id"],
            "textblob": np.nan,
            "vader": np.nan,
            "combined": np.where(labelled, np.where(label == 1, 1.0, -1.0), np.nan),
            "label": label,
            "confidence": np.where(labelled, 1.0, np.nan),
            "abstain_reason": pd.array([None if ok else UNLABELLED for ok in labelled], dtype="string"),
        }
    )[LABELS_SCHEMA.names]


def write_manifest_tables(tables: ManifestTables, out: str | Path) -> dict[str, Path]:
    """Write ``segments.parquet``, ``manifest.parquet`` (the recordings by segment) and ``rejects.parquet``.

    Returns
    -------
    dict
        Table name -> written path.
    """
    out = Path(out)
    return {
        "segments": write_table(tables.segments, out / "segments.parquet", schema=SEGMENTS_SCHEMA),
        "recordings": write_table(
            tables.recordings, out / "manifest.parquet", schema=SEGMENT_RECORDINGS_SCHEMA
        ),
        "rejects": write_rejects(tables.rejects, out / "rejects.parquet"),
    }


def ingest_manifest(
    csv: str | Path, out: str | Path, *, report: str | Path | None = None, verbose: bool = False
) -> dict[str, Any]:
    """The ingest stage for ``labels.source: manifest``: a manifest CSV into the pipeline's tables.

    Writes :func:`write_manifest_tables`' three tables into ``out`` (``manifest.parquet`` beside
    ``segments.parquet``: the label stage makes the labels from it with
    :func:`labels_from_manifest`) and a summary JSON shaped like
    :func:`weaklabel.sources.mosei.write_ingest`'s (``lines_read = segments + rejected``).

    Parameters
    ----------
    csv
        The manifest (:func:`weaklabel.sources.recordings.read_manifest`): columns :data:`REQUIRED`
        at least; relative paths start from its folder, and every path must stay inside it.
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
    manifest = read_manifest(csv, duplicates="keep", required=REQUIRED)  # repeats: duplicate_path rejects
    tables = manifest_tables(manifest, root=Path(csv).parent, verbose=verbose)
    write_manifest_tables(tables, out)
    write_corpus_facts(
        {
            "kind": "manifest",
            "speakers": "group",
            "corpora": sorted(set(tables.recordings["corpus"].dropna().astype(str))),
        },
        out,
    )
    summary = {
        "source": "manifest",
        "manifest": str(csv),
        "lines_read": len(manifest),
        "segments": len(tables.segments),
        "rejected": len(tables.rejects),
        "rejects_by_reason": {str(k): int(v) for k, v in tables.rejects["reason"].value_counts().items()},
        "labels": _label_counts(tables.recordings["label"]),
    }
    report = Path(report) if report is not None else Path(out) / "ingest.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(summary, indent=2) + "\n")
    return summary
