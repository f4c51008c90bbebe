"""What ``labels.source`` means for the ingest and label stages, for every shell that runs them.

``text`` (default)
    Ingest reads the corpus in the CMU-MOSEI raw layout (and its gold); labelling scores each
    segment's transcript (:func:`weaklabel.labels.labellers.label_segments`).
``manifest``
    Ingest reads a labelled manifest CSV instead and writes its per-file table beside the segments
    (:func:`weaklabel.sources.manifest_ingest.ingest_manifest`); labelling takes its gold labels.

The setting itself is :class:`weaklabel.sources.manifest_ingest.LabelSourceConfig`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from weaklabel.errors import ParameterError
from weaklabel.labels.labellers import LabelConfig, label_segments
from weaklabel.sources.manifest_ingest import LabelSourceConfig, ingest_manifest, labels_from_manifest
from weaklabel.sources.mosei import IngestConfig, ingest_corpus, write_ingest
from weaklabel.tables import check_keys, read_table


def ingest_source(
    source: LabelSourceConfig,
    *,
    corpus: str | Path,
    gold: str | Path | None,
    manifest: str | Path,
    out: str | Path,
    report: str | Path | None = None,
    config: IngestConfig,
    verbose: bool = False,
) -> dict[str, Any]:
    """Ingest the corpus or, with ``labels.source: manifest``, the manifest into ``out``.

    Parameters
    ----------
    source
        ``labels.source``.
    corpus, gold
        The corpus root and gold labels (``None`` or ``""``: none), read with ``source`` ``text``.
    manifest
        The manifest CSV, read with ``source`` ``manifest``.
    out
        The ingest folder (segments.parquet, rejects.parquet, ...).
    report
        The summary JSON; ``None`` writes ``out/ingest.json``.
    config
        Ingest settings for a corpus.
    verbose
        Show progress bars.

    Returns
    -------
    dict
        The summary written to ``report`` (``lines_read``, ``segments``, ``rejected``,
        ``rejects_by_reason``, ...).

    Raises
    ------
    DataError
        If the corpus or manifest cannot be read.
    """
    if source.source == "manifest":
        return ingest_manifest(manifest, out, report=report, verbose=verbose)
    result = ingest_corpus(corpus, config=config, gold=gold or None, verbose=verbose)
    write_ingest(result, out, report=report)
    return result.summary


def source_labels(
    source: LabelSourceConfig,
    segments: pd.DataFrame,
    *,
    manifest: str | Path | None,
    config: LabelConfig,
    verbose: bool = False,
) -> pd.DataFrame:
    """The labels of ``segments``: weak labels of their text, or the manifest's gold labels.

    Parameters
    ----------
    source
        ``labels.source``.
    segments
        Segments with ``segment_id`` and ``text``.
    manifest
        The per-file recordings table ingest wrote with ``source`` ``manifest`` (ingest's
        ``manifest.parquet``): its gold labels become the labels
        (:func:`weaklabel.sources.manifest_ingest.labels_from_manifest`). Only read, and then
        required, with that source.
    config
        Labelling settings for ``source`` ``text``.
    verbose
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        :data:`weaklabel.labels.labellers.LABELS_SCHEMA` columns.

    Raises
    ------
    ParameterError
        If ``source`` is ``manifest`` and ``manifest`` is None.
    DataError
        If ``manifest`` is needed and its file is missing or unreadable, or the table labelled has
        an empty or repeated ``segment_id`` (labels are joined to segments and features by it, so
        such a row would be merged or lost without a word: :func:`weaklabel.tables.check_keys`).
    """
    if source.source == "manifest":
        if manifest is None:
            raise ParameterError(
                "labels.source is manifest but no manifest table was given: pass ingest's "
                "manifest.parquet (data/ingest/manifest.parquet), which ingest writes with that source"
            )
        recordings = read_table(manifest)
        check_keys(recordings, source=manifest)
        return labels_from_manifest(recordings)
    check_keys(segments, source="the segments table")
    return label_segments(segments, config=config, verbose=verbose)
