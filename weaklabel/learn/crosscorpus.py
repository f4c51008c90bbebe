"""Cross-corpus evaluation on gold-labelled speech: does a representation carry valence across corpora.

Given labelled manifests of several corpora (e.g. the EmoDB and RAVDESS scheme builders of
:mod:`weaklabel.sources.recordings`), every backbone's features are scored with a logistic regression on
z-scored features (:class:`~weaklabel.models.egemaps_lr.StandardizedLogistic`) under two protocols:

``loco`` (leave one corpus out)
    For each corpus: train on all the other corpora, test on it. Needs >= 2 corpora.
``within`` (within-corpus, speaker-grouped)
    For each corpus: leave one speaker out in turn, train on the corpus's other speakers, and
    pool the held-out scores into one ROC AUC. Needs >= 2 speakers in the corpus.

Every cell reports the ROC AUC with a bootstrap confidence interval that resamples **speakers**
(:func:`weaklabel.metrics.bootstrap_auc`), and beside it the **duration-only baseline** (the same
regression on the clip's speech duration before padding) on the same rows: a representation that
does no better than duration has learnt sentence length, not voice.

With fewer than ``min_ci_speakers`` test speakers a speaker bootstrap cannot estimate how much
results vary between speakers (one speaker gives a zero-width interval), so the interval resamples
files instead and the table says so (``ci_unit = "file"``): such intervals only cover sampling
noise within those speakers and are too narrow for any claim about new speakers.

Clips follow the pipeline's own path: the manifest becomes segments
(:mod:`weaklabel.sources.manifest_ingest`),
clips are planned (:func:`weaklabel.audio.clips.plan_clips`), ``vgg16`` and ``mel_mean`` features come
from the streaming extraction (:func:`weaklabel.features.extract.extract_features`) and ``egemaps``
from :class:`~weaklabel.features.egemaps.EgemapsEmbedder` on the un-padded audio. Every backbone is
scored on the same rows (files every backbone could embed); the rest go to the rejects table.

A randomly initialised VGG16 is not transfer learning: which weights were used is in the table
(``features``) and at the top of the markdown report.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from weaklabel.audio.clips import ClipConfig, plan_clips
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.identity import describe
from weaklabel.features.store import open_store, read_store
from weaklabel.labels.labellers import ABSTAIN
from weaklabel.metrics import bootstrap_auc
from weaklabel.models.egemaps_lr import StandardizedLogistic
from weaklabel.sources import recordings as manifests
from weaklabel.sources.manifest_ingest import labels_from_manifest, manifest_tables
from weaklabel.tables import REJECTS_SCHEMA, rejects_frame, write_rejects, write_table

log = logging.getLogger(__name__)

STAGE = "crosscorpus"
#: Evaluation protocols, in table order.
PROTOCOLS = ("loco", "within")
#: Backbones that can be evaluated, in table order.
BACKBONES = ("egemaps", "vgg16", "mel_mean")
#: Name of the duration-only baseline's row in the heatmap.
DURATION = "duration"
#: Scheme shortcuts for manifest specs (``ravdess:DIR``), resolved by :func:`load_manifest`.
SCHEMES = tuple(manifests.SCHEMES)

TABLE_SCHEMA = pa.schema(
    [
        ("protocol", pa.string()),  # loco | within
        ("test_corpus", pa.string()),
        ("train_corpora", pa.string()),  # comma-separated
        ("backbone", pa.string()),  # egemaps | vgg16 | mel_mean
        ("features", pa.string()),  # what made the features (VGG16 weights: imagenet or RANDOM)
        (
            "n_train",
            pa.int64(),
        ),  # loco: training rows; within: the corpus's rows (each fold leaves one speaker out)
        ("n_train_speakers", pa.int64()),
        ("n_test", pa.int64()),
        ("n_test_pos", pa.int64()),
        ("n_test_neg", pa.int64()),
        ("n_test_speakers", pa.int64()),
        ("auc", pa.float64()),  # null when the cell could not be evaluated (see status)
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("ci_unit", pa.string()),  # speaker | file (too few speakers to resample) | null
        ("duration_auc", pa.float64()),  # the duration-only baseline on the same rows
        ("duration_ci_low", pa.float64()),
        ("duration_ci_high", pa.float64()),
        ("status", pa.string()),  # "ok" or why the cell is empty
    ]
)

PREDICTIONS_SCHEMA = pa.schema(
    [
        ("protocol", pa.string()),
        ("test_corpus", pa.string()),
        ("backbone", pa.string()),  # a backbone or "duration"
        ("segment_id", pa.string()),
        ("corpus", pa.string()),
        ("speaker", pa.string()),
        ("label", pa.int8()),
        ("score", pa.float64()),  # held-out P(positive)
    ]
)


@dataclass(frozen=True)
class CrossCorpusConfig:
    """How the cross-corpus evaluation runs (the ``crosscorpus`` section of params.yaml).

    Attributes
    ----------
    protocols
        Any of ``loco`` (leave one corpus out) and ``within`` (within-corpus, leave one speaker
        out).
    C
        Inverse L2 regularisation of the logistic regression (scikit-learn's ``C``).
    n_boot
        Bootstrap replicates per confidence interval.
    level
        Confidence level of the intervals.
    min_ci_speakers
        Fewest test speakers for a speaker bootstrap; below it intervals resample files.
    seed
        Seed of the clip offsets, the bootstrap and random VGG16 weights.
    clip_length_s
        Clip length, seconds (as ``clips.length_s``); files are cropped/padded to it for the
        ``vgg16`` and ``mel_mean`` backbones (eGeMAPS reads the un-padded audio).
    weights
        VGG16 weights (as ``embed.weights``): ``auto``, ``imagenet``, ``random`` or a ``.h5`` path.
    layer
        VGG16 layer (as ``embed.layer``).
    batch_size
        Clips per VGG16 call.
    workers
        eGeMAPS worker processes; 0 uses every core this process may run on.
    """

    protocols: tuple[str, ...] = PROTOCOLS
    C: float = 1.0
    n_boot: int = 1000
    level: float = 0.95
    min_ci_speakers: int = 5
    seed: int = 0
    clip_length_s: float = 7.0
    weights: str = "auto"
    layer: str = "block5_pool"
    batch_size: int = 16
    workers: int = 0

    def __post_init__(self) -> None:
        protocols = (self.protocols,) if isinstance(self.protocols, str) else tuple(self.protocols)
        object.__setattr__(self, "protocols", protocols)
        unknown = [p for p in protocols if p not in PROTOCOLS]
        if not protocols or unknown or len(set(protocols)) != len(protocols):
            raise ParameterError(
                f"crosscorpus.protocols must list distinct protocols out of {', '.join(PROTOCOLS)}, "
                f"got {list(protocols)}"
            )
        if isinstance(self.C, bool) or not isinstance(self.C, (int, float)) or not self.C > 0:
            raise ParameterError(f"crosscorpus.C must be a number > 0, got {self.C!r}")
        for name in ("n_boot", "min_ci_speakers", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"crosscorpus.{name} must be an integer >= 1, got {value!r}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise ParameterError(
                f"crosscorpus.workers must be an integer >= 0 (0 = all cores), got {self.workers!r}"
            )
        if not 0 < self.level < 1:
            raise ParameterError(f"crosscorpus.level must lie in (0, 1), e.g. 0.95; got {self.level}")
        if not self.clip_length_s > 0:
            raise ParameterError(f"crosscorpus.clip_length_s must be > 0, got {self.clip_length_s}")


@dataclass
class CrossCorpusResult:
    """What :func:`crosscorpus` found.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (protocol, test corpus, backbone), columns of :data:`TABLE_SCHEMA`.
    predictions : pandas.DataFrame
        Held-out scores, columns of :data:`PREDICTIONS_SCHEMA`.
    rejects : pandas.DataFrame
        Files not evaluated, with a reason (:data:`weaklabel.tables.REJECTS_SCHEMA`): unusable files
        (stage ``manifest``), files a backbone could not embed (stage ``features``/``crosscorpus``).
    counts : pandas.DataFrame
        Files per corpus: ``corpus``, ``speakers``, ``files``, ``positive``, ``negative``,
        ``unlabelled``, ``evaluated``.
    meta : dict
        Backbone name -> its feature meta (weights, feature set...); ``config``.
    """

    table: pd.DataFrame
    predictions: pd.DataFrame
    rejects: pd.DataFrame
    counts: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------- manifests
def load_manifest(spec: str | Path, *, scheme: str | None = None) -> pd.DataFrame:
    """A labelled manifest from a spec: a CSV path, a folder with a scheme, or ``SCHEME:DIR``.

    Parameters
    ----------
    spec
        ``path/to/manifest.csv`` (read with :func:`weaklabel.sources.recordings.read_manifest`),
        ``ravdess:DIR`` or ``emodb:DIR`` (built from those corpora's file names with
        :func:`weaklabel.sources.recordings.ravdess_manifest` /
        :func:`~weaklabel.sources.recordings.emodb_manifest`),
        or a bare folder ``DIR`` when ``scheme`` is given.
    scheme
        Naming scheme of bare folders: ``ravdess`` or ``emodb``.

    Returns
    -------
    pandas.DataFrame
        The manifest (``path``, ``label``, ``group``, ``corpus``, ...).

    Raises
    ------
    ParameterError
        If the scheme is unknown, or a folder comes without a scheme.
    DataError
        If the file or folder does not exist.
    """
    text = str(spec)
    prefix, sep, rest = text.partition(":")
    if sep and prefix.lower() in SCHEMES:
        scheme, text = prefix.lower(), rest
    path = Path(text).expanduser()
    if not path.exists():
        raise DataError(f"manifest {spec} not found: expected a CSV file or a corpus folder")
    if path.is_dir():
        if scheme is None:
            raise ParameterError(
                f"{spec} is a folder: say how its files are named, e.g. ravdess:{spec} or emodb:{spec} "
                "(or --scheme), or pass a manifest CSV"
            )
        if scheme not in SCHEMES:
            raise ParameterError(f"unknown naming scheme {scheme!r}; expected one of {', '.join(SCHEMES)}")
        return manifests.SCHEMES[scheme](path)
    return manifests.read_manifest(path)


# ---------------------------------------------------------------------------------- features
def _egemaps_features(
    clips: pd.DataFrame, root: Path, config: CrossCorpusConfig
) -> tuple[pd.DataFrame, dict, list]:
    """Compute eGeMAPS of the un-padded clips, cached in a feature store under ``root``."""
    from weaklabel.features.egemaps import EgemapsEmbedder

    workers = None if config.workers == 0 else config.workers
    with EgemapsEmbedder(workers=workers) as embedder:
        meta = {**embedder.meta, "clips_seed": config.seed, "clip_length_s": config.clip_length_s}
        ids = clips["segment_id"].tolist()
        writer = open_store(root, ids=ids, meta=meta, shard_size=max(1, len(ids)))
        failures: list[dict[str, str]] = []
        if writer.pending_shards():
            features, failed = embedder.embed_clips(clips, verbose=True)
            writer.write_shard(0, features)
            failures = [
                {"source": STAGE, "key": r.segment_id, "reason": f"egemaps_{r.reason}", "detail": r.detail}
                for r in failed.itertuples(index=False)
            ]
            (root / "failures.json").write_text(json.dumps(failures))
        elif (root / "failures.json").exists():
            failures = json.loads((root / "failures.json").read_text())
        writer.finish()
    ids, features, meta = read_store(root)
    frame = pd.DataFrame(features, index=pd.Index(ids, name="segment_id"))
    bad = {f["key"] for f in failures}
    return frame.drop(index=[i for i in frame.index if i in bad]), meta, failures


def _store_features(
    clips: pd.DataFrame, names: Sequence[str], root: Path, config: CrossCorpusConfig
) -> tuple[dict[str, pd.DataFrame], dict[str, dict], list]:
    """``vgg16``/``mel_mean`` features through the pipeline's streaming extraction."""
    from weaklabel.features.extract import EmbedConfig, extract_features

    embed = EmbedConfig(
        weights=config.weights,
        layer=config.layer,
        batch_size=config.batch_size,
        seed=config.seed,
        features=tuple(names),
    )
    summary = extract_features(clips, root, config=embed)
    frames, metas = {}, {}
    for name in names:
        ids, features, meta = read_store(root / name)
        frames[name] = pd.DataFrame(features, index=pd.Index(ids, name="segment_id"))
        metas[name] = meta
    rejects = pd.read_parquet(root / "rejects.parquet").drop(columns="stage").to_dict("records")
    if summary.rejected:
        log.warning(
            "features: %d clips could not be embedded (%s)", summary.rejected, summary.rejects_by_reason
        )
    return frames, metas, rejects


# ---------------------------------------------------------------------------------- evaluation
def _folds(
    rows: pd.DataFrame, protocol: str
) -> list[tuple[str, list[str], list[tuple[np.ndarray, np.ndarray]], str]]:
    """(test corpus, train corpora, [(train mask, test mask), ...], status) per protocol cell."""
    corpora = sorted(rows["corpus"].unique())
    cells = []
    for corpus in corpora:
        in_corpus = (rows["corpus"] == corpus).to_numpy()
        if protocol == "loco":
            others = [c for c in corpora if c != corpus]
            status = "ok" if others else "needs >= 2 corpora"
            cells.append((corpus, others, [(~in_corpus, in_corpus)] if others else [], status))
            continue
        speakers = sorted(rows.loc[in_corpus, "speaker"].unique())
        if len(speakers) < 2:
            cells.append((corpus, [corpus], [], f"needs >= 2 speakers, found {len(speakers)}"))
            continue
        folds = [
            (in_corpus & (rows["speaker"] != s).to_numpy(), in_corpus & (rows["speaker"] == s).to_numpy())
            for s in speakers
        ]
        cells.append((corpus, [corpus], folds, "ok"))
    return cells


def _fit_score(
    X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, C: float
) -> np.ndarray | None:
    if len(np.unique(y[train])) < 2:
        return None
    model = StandardizedLogistic(C=C).fit(X[train], y[train])
    return model.predict_proba(X[test])[:, 1]


def _estimate(y: np.ndarray, score: np.ndarray, speakers: np.ndarray, config: CrossCorpusConfig) -> tuple:
    n_speakers = len(np.unique(speakers))
    by_speaker = n_speakers >= config.min_ci_speakers
    est = bootstrap_auc(
        y,
        score,
        groups=speakers if by_speaker else None,
        n_boot=config.n_boot,
        level=config.level,
        seed=config.seed,
    )
    return est.auc, est.low, est.high, "speaker" if by_speaker else "file"


def _evaluate(
    rows: pd.DataFrame,
    features: Mapping[str, np.ndarray],
    metas: Mapping[str, Mapping],
    config: CrossCorpusConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    y = rows["label"].to_numpy(dtype=np.int64)
    speakers = rows["speaker_key"].to_numpy()
    duration = rows[["duration"]].to_numpy(dtype=np.float64)
    table, predictions = [], []
    for protocol in config.protocols:
        for corpus, train_corpora, folds, status in _folds(rows, protocol):
            in_corpus = (rows["corpus"] == corpus).to_numpy()
            base = {
                "protocol": protocol,
                "test_corpus": corpus,
                "train_corpora": ",".join(train_corpora),
            }
            sources = {DURATION: duration, **features}
            scores: dict[str, np.ndarray] = {}
            scored = np.zeros(len(rows), dtype=bool)
            skipped = 0
            for train, test in folds:
                fold_scores = {name: _fit_score(X, y, train, test, config.C) for name, X in sources.items()}
                if any(v is None for v in fold_scores.values()):
                    skipped += 1
                    continue
                for name, value in fold_scores.items():
                    scores.setdefault(name, np.full(len(rows), np.nan))[test] = value
                scored |= test
            test_y = y[scored]
            if status == "ok" and not folds:
                status = "no folds"
            elif status == "ok" and not scored.any():
                status = "training rows lack a class"
            elif status == "ok" and len(np.unique(test_y)) < 2:
                status = "test rows hold one class: AUC undefined"
            elif status == "ok" and skipped:
                status = f"ok ({skipped} of {len(folds)} folds skipped: training rows lacked a class)"
            train_rows = folds[0][0] if protocol == "loco" and folds else in_corpus
            counts = {
                "n_train": int(train_rows.sum()) if protocol == "loco" else int(in_corpus.sum()),
                "n_train_speakers": int(len(np.unique(speakers[train_rows]))),
                "n_test": int(scored.sum()),
                "n_test_pos": int((test_y == 1).sum()),
                "n_test_neg": int((test_y == 0).sum()),
                "n_test_speakers": int(len(np.unique(speakers[scored]))),
            }
            ok = status.startswith("ok")
            duration_est = (
                _estimate(test_y, scores[DURATION][scored], speakers[scored], config)
                if ok
                else (np.nan,) * 3 + (None,)
            )
            for name in features:
                est = (
                    _estimate(test_y, scores[name][scored], speakers[scored], config)
                    if ok
                    else (np.nan,) * 3 + (None,)
                )
                table.append(
                    {
                        **base,
                        "backbone": name,
                        "features": describe({"embedder": name, **metas.get(name, {})}),
                        **counts,
                        "auc": est[0],
                        "ci_low": est[1],
                        "ci_high": est[2],
                        "ci_unit": est[3],
                        "duration_auc": duration_est[0],
                        "duration_ci_low": duration_est[1],
                        "duration_ci_high": duration_est[2],
                        "status": status,
                    }
                )
            if ok:
                for name, values in scores.items():
                    predictions.append(
                        pd.DataFrame(
                            {
                                "protocol": protocol,
                                "test_corpus": corpus,
                                "backbone": name,
                                "segment_id": rows.loc[scored, "segment_id"].to_numpy(),
                                "corpus": rows.loc[scored, "corpus"].to_numpy(),
                                "speaker": rows.loc[scored, "speaker"].to_numpy(),
                                "label": y[scored].astype(np.int8),
                                "score": values[scored],
                            }
                        )
                    )
    table_frame = pd.DataFrame(table, columns=TABLE_SCHEMA.names)
    for column in ("auc", "ci_low", "ci_high", "duration_auc", "duration_ci_low", "duration_ci_high"):
        table_frame[column] = table_frame[column].astype(np.float64)
    preds = (
        pd.concat(predictions, ignore_index=True)
        if predictions
        else pd.DataFrame({n: pd.Series(dtype=object) for n in PREDICTIONS_SCHEMA.names})
    )
    return table_frame, preds


def crosscorpus(
    manifests: pd.DataFrame | Sequence[pd.DataFrame],
    *,
    backbones: Sequence[str] = ("egemaps", "mel_mean"),
    config: CrossCorpusConfig | None = None,
    work_dir: str | Path | None = None,
) -> CrossCorpusResult:
    """Leave-one-corpus-out and within-corpus speaker-grouped ROC AUC per backbone.

    Parameters
    ----------
    manifests
        One labelled manifest per corpus, or one frame holding several (``path``, ``label``
        1/0/None, ``group`` = speaker, ``corpus``): from :func:`load_manifest` or
        :mod:`weaklabel.sources.recordings`.
    backbones
        Any of :data:`BACKBONES`. ``egemaps`` needs the ``opensmile`` extra; ``vgg16`` uses
        ``config.weights`` (``auto`` falls back to RANDOM weights offline, which the table says).
    config
        Protocols, regression, bootstrap and feature settings; ``None`` for the defaults.
    work_dir
        Folder for the segments/clips tables and the feature stores (re-runs reuse the stores);
        ``None`` uses a temporary folder, removed afterwards.

    Returns
    -------
    CrossCorpusResult
        The table (one row per protocol, test corpus and backbone, the duration baseline beside
        each), held-out predictions, rejects, counts per corpus and the features' metadata.

    Raises
    ------
    ParameterError
        If a backbone is unknown or listed twice.
    DataError
        If no file is usable or no file carries a label.
    MissingDependencyError
        If ``egemaps`` is asked for without the ``opensmile`` extra, or ``vgg16`` with weights
        that cannot be had.

    Examples
    --------
    >>> from weaklabel.sources.recordings import emodb_manifest, ravdess_manifest  # doctest: +SKIP
    >>> result = crosscorpus([emodb_manifest("emodb"), ravdess_manifest("ravdess")])  # doctest: +SKIP
    >>> result.table[["protocol", "test_corpus", "backbone", "auc", "duration_auc"]]  # doctest: +SKIP
    """
    config = config if config is not None else CrossCorpusConfig()
    backbones = list(backbones)
    unknown = [b for b in backbones if b not in BACKBONES]
    if not backbones or unknown or len(set(backbones)) != len(backbones):
        raise ParameterError(
            f"backbones must be distinct names out of {', '.join(BACKBONES)}, got {backbones}"
        )
    frames = [manifests] if isinstance(manifests, pd.DataFrame) else list(manifests)
    if not frames:
        raise DataError("no manifest given: pass at least one labelled manifest")
    manifest = pd.concat(frames, ignore_index=True)
    with tempfile.TemporaryDirectory(prefix="weaklabel-crosscorpus-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        return _run(manifest, backbones, config, work)


def _run(
    manifest: pd.DataFrame, backbones: list[str], config: CrossCorpusConfig, work: Path
) -> CrossCorpusResult:
    tables = manifest_tables(manifest, verbose=True)
    rejects: list[dict[str, str]] = (
        tables.rejects.drop(columns="stage").assign(stage="manifest").to_dict("records")
    )
    clip_config = ClipConfig(length_s=config.clip_length_s, seed=config.seed)
    clips = plan_clips(tables.segments, clip_config)
    info = tables.recordings.assign(label=labels_from_manifest(tables.recordings)["label"])
    info = info.merge(clips[["segment_id", "read_seconds"]], on="segment_id", how="left")
    info = info.rename(columns={"group": "speaker", "read_seconds": "duration"})
    info["speaker_key"] = info["corpus"] + "/" + info["speaker"]
    labelled = info["label"] != ABSTAIN
    if not labelled.any():
        raise DataError(
            f"none of the {len(info)} usable files carries a label (1 or 0): "
            "check the manifests' label column"
        )

    features: dict[str, pd.DataFrame] = {}
    metas: dict[str, dict] = {}
    # only labelled files are embedded: unlabelled ones cannot enter any evaluation
    todo = clips[labelled.to_numpy()].reset_index(drop=True)
    store_names = [b for b in backbones if b != "egemaps"]
    if store_names:
        frames, store_metas, store_rejects = _store_features(todo, store_names, work / "features", config)
        features.update(frames)
        metas.update(store_metas)
        rejects += [{**r, "stage": "features"} for r in store_rejects]
    if "egemaps" in backbones:
        frame, meta, failures = _egemaps_features(todo, work / "features" / "egemaps", config)
        features["egemaps"], metas["egemaps"] = frame, meta
        rejects += [{**r, "stage": STAGE} for r in failures]

    features = {name: features[name] for name in backbones}  # table rows in the order asked for
    rows = info[labelled].reset_index(drop=True)
    common = set(rows["segment_id"])
    for frame in features.values():
        common &= set(frame.index)
    missing = rows.loc[~rows["segment_id"].isin(common), "segment_id"]
    already = {r["key"] for r in rejects}
    for segment_id in missing:
        if segment_id not in already:
            absent = [name for name, frame in features.items() if segment_id not in frame.index]
            rejects.append(
                {
                    "stage": STAGE,
                    "source": STAGE,
                    "key": segment_id,
                    "reason": "not_embedded",
                    "detail": f"no features from {', '.join(absent)}",
                }
            )
    if missing.size:
        log.warning(
            "%d labelled files lack features of some backbone and are left out of every cell", missing.size
        )
    rows = rows[rows["segment_id"].isin(common)].reset_index(drop=True)
    if rows.empty:
        raise DataError("no labelled file could be embedded by every backbone: see the rejects")
    matrices = {
        name: frame.loc[rows["segment_id"]].to_numpy(dtype=np.float64) for name, frame in features.items()
    }
    table, predictions = _evaluate(rows, matrices, metas, config)

    counts = (
        info.assign(
            positive=info["label"] == 1,
            negative=info["label"] == 0,
            unlabelled=info["label"] == ABSTAIN,
            evaluated=info["segment_id"].isin(set(rows["segment_id"])),
        )
        .groupby("corpus")
        .agg(
            speakers=("speaker", "nunique"),
            files=("segment_id", "size"),
            positive=("positive", "sum"),
            negative=("negative", "sum"),
            unlabelled=("unlabelled", "sum"),
            evaluated=("evaluated", "sum"),
        )
        .reset_index()
    )
    rejects_table = _rejects(rejects)
    log.info(
        "crosscorpus: %d files in, %d evaluated, %d unlabelled, %d rejected",
        len(manifest),
        len(rows),
        int((~labelled).sum()),
        len(rejects_table),
    )
    meta = {"features": metas, "config": asdict(config), "backbones": backbones}
    return CrossCorpusResult(
        table=table, predictions=predictions, rejects=rejects_table, counts=counts, meta=meta
    )


def _rejects(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=REJECTS_SCHEMA.names)
    frame["detail"] = frame["detail"].fillna("")
    return (
        frame.astype({name: "string" for name in REJECTS_SCHEMA.names})
        if len(frame)
        else rejects_frame([], stage=STAGE)
    )


# ---------------------------------------------------------------------------------- reports
def _fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def _cell(auc: float, low: float, high: float) -> str:
    return "n/a" if pd.isna(auc) else f"{auc:.2f} [{_fmt(low)}, {_fmt(high)}]"


def to_markdown(result: CrossCorpusResult) -> str:
    """The result as a markdown report: what was compared, the table, means, and caveats.

    Returns
    -------
    str
        Markdown text.
    """
    table, counts, config = result.table, result.counts, result.meta.get("config", {})
    level = int(round(100 * float(config.get("level", 0.95))))
    lines = ["# Cross-corpus evaluation", ""]
    lines += ["Features:", ""]
    for name in result.meta.get("backbones", []):
        if name in result.meta.get("features", {}):
            lines.append(f"- `{name}`: {describe({'embedder': name, **result.meta['features'][name]})}")
    vgg = result.meta.get("features", {}).get("vgg16")
    if vgg and vgg.get("weights") == "random":
        lines += [
            "",
            "**VGG16 WEIGHTS ARE RANDOM: its rows are NOT transfer learning, only a noise reference.**",
        ]
    lines += [
        "",
        "Files per corpus (label 1 = positive valence, 0 = negative; unlabelled files are not scored):",
        "",
    ]
    lines.append("| corpus | speakers | files | positive | negative | unlabelled | evaluated |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in counts.itertuples(index=False):
        lines.append(
            f"| {row.corpus} | {row.speakers} | {row.files} | {row.positive} | {row.negative} | "
            f"{row.unlabelled} | {row.evaluated} |"
        )
    lines += [
        "",
        f"ROC AUC of a logistic regression on z-scored features (training statistics only), {level}% "
        "bootstrap interval; `duration` is the same regression on the clip's speech duration alone, on "
        "the same rows. `loco`: train on the other corpora, test on this one; `within`: leave one speaker "
        "out within the corpus, held-out scores pooled.",
        "",
        "| protocol | test corpus | trained on | backbone | n test (+/-) | speakers | ROC AUC | duration AUC "
        "| CI by | status |",
        "| --- | --- | --- | --- | --- | ---: | --- | --- | --- | --- |",
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.protocol} | {row.test_corpus} | {row.train_corpora} | {row.backbone} | "
            f"{row.n_test} ({row.n_test_pos}/{row.n_test_neg}) | {row.n_test_speakers} | "
            f"{_cell(row.auc, row.ci_low, row.ci_high)} | "
            f"{_cell(row.duration_auc, row.duration_ci_low, row.duration_ci_high)} | "
            f"{'' if pd.isna(row.ci_unit) else row.ci_unit} | "
            f"{row.status} |"
        )
    means = table.dropna(subset=["auc"]).groupby(["protocol", "backbone"], sort=False)
    if len(means):
        lines += ["", "Mean ROC AUC over held-out corpora (each corpus weighs the same):", ""]
        lines += [
            "| protocol | backbone | corpora | mean AUC | mean duration AUC |",
            "| --- | --- | ---: | --- | --- |",
        ]
        for (protocol, backbone), group in means:
            lines.append(
                f"| {protocol} | {backbone} | {len(group)} | {group['auc'].mean():.2f} | "
                f"{group['duration_auc'].mean():.2f} |"
            )
    lines += ["", "Caveats:", ""]
    widths = (table["ci_high"] - table["ci_low"]).dropna()
    if len(widths):
        lines.append(
            f"- Interval widths range from {widths.min():.2f} to {widths.max():.2f} AUC: "
            "with this few files and speakers, differences smaller than that are not evidence."
        )
    if (table["ci_unit"] == "file").any():
        lines.append(
            f"- Rows with CI by `file` have fewer than {config.get('min_ci_speakers', 5)} test speakers: "
            "their intervals resample files, ignore how much results vary between speakers, and are "
            "too narrow."
        )
    beaten = table.dropna(subset=["auc", "duration_auc"])
    beaten = beaten[beaten["auc"] <= beaten["duration_auc"]]
    if len(beaten):
        cells = ", ".join(
            f"{r.backbone} ({r.protocol} {r.test_corpus})" for r in beaten.itertuples(index=False)
        )
        lines.append(f"- Duration alone scores at least as well as: {cells}.")
    empty = table[~table["status"].str.startswith("ok")]
    for row in empty.drop_duplicates(["protocol", "test_corpus"]).itertuples(index=False):
        lines.append(f"- {row.protocol} {row.test_corpus}: not evaluated ({row.status}).")
    if len(result.rejects):
        by_reason = result.rejects["reason"].value_counts().to_dict()
        lines.append(f"- {len(result.rejects)} files rejected: {by_reason} (see rejects.parquet).")
    return "\n".join(lines) + "\n"


def plot_heatmap(result: CrossCorpusResult, path: str | Path) -> Path:
    """A heatmap PNG: rows = backbones and the duration baseline, columns = protocol/test corpus.

    Each cell shows the ROC AUC and its interval; 0.5 (chance) is white, red above, blue below;
    cells that could not be evaluated are grey with ``n/a``.

    Returns
    -------
    Path
        The written PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result.table
    columns = list(dict.fromkeys(zip(table["protocol"], table["test_corpus"], strict=True)))
    backbones = list(dict.fromkeys(table["backbone"]))
    names = [*backbones, DURATION]
    values = np.full((len(names), len(columns)), np.nan)
    labels = [["n/a"] * len(columns) for _ in names]
    for j, (protocol, corpus) in enumerate(columns):
        cell = table[(table["protocol"] == protocol) & (table["test_corpus"] == corpus)]
        for i, name in enumerate(backbones):
            row = cell[cell["backbone"] == name]
            if len(row) and not pd.isna(row["auc"].iloc[0]):
                r = row.iloc[0]
                values[i, j] = r["auc"]
                labels[i][j] = f"{r['auc']:.2f}\n[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
        if len(cell) and not pd.isna(cell["duration_auc"].iloc[0]):
            r = cell.iloc[0]
            values[-1, j] = r["duration_auc"]
            labels[-1][j] = (
                f"{r['duration_auc']:.2f}\n[{_fmt(r['duration_ci_low'])}, {_fmt(r['duration_ci_high'])}]"
            )
    figure, axes = plt.subplots(figsize=(2.0 + 1.9 * len(columns), 1.2 + 0.9 * len(names)))
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="#dddddd")
    image = axes.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(len(names)):
        for j in range(len(columns)):
            axes.text(j, i, labels[i][j], ha="center", va="center", fontsize=8)
    axes.set_xticks(range(len(columns)), [f"{p}\n{c}" for p, c in columns], fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=9)
    axes.set_title("ROC AUC by protocol and held-out corpus (0.5 = chance)", fontsize=10)
    figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02, label="ROC AUC")
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def write_crosscorpus(result: CrossCorpusResult, out: str | Path) -> dict[str, Path]:
    """Write the table (Parquet, CSV, markdown), heatmap, predictions, rejects and meta to ``out``.

    Returns
    -------
    dict
        Output name -> path: ``table`` (crosscorpus.parquet), ``csv``, ``markdown``, ``heatmap``,
        ``predictions``, ``rejects``, ``meta``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "table": write_table(result.table, out / "crosscorpus.parquet", schema=TABLE_SCHEMA),
        "predictions": write_table(
            result.predictions, out / "predictions.parquet", schema=PREDICTIONS_SCHEMA
        ),
        "rejects": write_rejects(result.rejects, out / "rejects.parquet"),
    }
    result.table.to_csv(out / "crosscorpus.csv", index=False)
    paths["csv"] = out / "crosscorpus.csv"
    (out / "crosscorpus.md").write_text(to_markdown(result))
    paths["markdown"] = out / "crosscorpus.md"
    paths["heatmap"] = plot_heatmap(result, out / "heatmap.png")
    meta = {**result.meta, "counts": result.counts.to_dict("records")}
    (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    paths["meta"] = out / "meta.json"
    return paths
