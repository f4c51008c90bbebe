"""The multilingual probe: score any folder of recordings with a trained model.

Each recording goes through the path its model's training clips went through:

1. **check**: a file whose path leaves the probed folder (a manifest row ``../x.wav``,
   ``/etc/passwd``, or a symbolic link pointing out; :func:`weaklabel.paths.outside_root`) is a
   reject (``outside_root``) and is never opened; every other file is streamed once, block by
   block (:func:`inspect_file`), to find its length and peak; missing, undecodable, empty, too
   short and silent files become rejects (:data:`REASONS`), the rest are scored;
2. **plan and embed**: the recordings go through the one extraction path
   (:func:`weaklabel.features.extract.extract_features`, as the features stage and cross-corpus
   evaluation do) with the ``centre`` window (:class:`weaklabel.audio.clips.ClipConfig`): each is
   cropped or zero-padded, centred, to the model's clip length at its sample rate, so reruns are
   identical; producer threads decode, resample, slice and compute log-mels while the model embeds
   the previous batch. The embedder has the **same class, layer, precision, mel parameters and
   weights** as the features the model was trained on: it is rebuilt from the model bundle
   (:func:`embedder_for`) and checked against it, weight fingerprint included
   (:func:`check_embedder`); a mismatch is refused. Batch size, shard size and producer threads
   are the ``embed`` section's (:class:`weaklabel.features.registry.EmbedConfig`);
3. **score**: ``predict_proba`` of the model on the embeddings gives P(positive);
4. **scale and rank** within each language (:func:`scale_within`): scores of one model sit close
   together, so each language's scores are min-max scaled to [0, 1] and ranked (1 = most positive);
5. **summarise** per language (:func:`summarise`): mean scaled score of positive and of negative
   recordings, whether positive > negative, and ROC AUC when both classes have at least 2 files.

Recordings without a polarity (unknown, or an emotion without valence such as neutral, calm,
boredom or surprise) are **scored and shown** (``polarity`` missing in ``probe.parquet``) and take
part in their language's scaling, but they are left out of the positive-vs-negative summary.

Counts conserve: files in the manifest = scored + rejected.

Examples
--------
>>> from weaklabel.sources.recordings import read_manifest
>>> trained = load_trained("models")  # doctest: +SKIP
>>> result = probe(read_manifest("data/demo/Probe/manifest.csv"), trained)  # doctest: +SKIP
>>> from weaklabel.report.probe import write_probe
>>> write_probe(result, "reports/probe")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import soundfile as sf
from tqdm.auto import tqdm

from weaklabel.audio.clips import ClipConfig
from weaklabel.audio.mel import MelConfig
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.extract import extract_features
from weaklabel.features.identity import check_identity, describe
from weaklabel.features.registry import EMBEDDERS, EmbedConfig, Embedder
from weaklabel.metrics import roc_auc
from weaklabel.models.bundle import load_model, read_bundle
from weaklabel.paths import REASON as OUTSIDE_ROOT
from weaklabel.paths import outside_root
from weaklabel.sources.recordings import NEGATIVE, POSITIVE, recordings_frame
from weaklabel.tables import rejects_frame

log = logging.getLogger(__name__)

STAGE = "probe"

#: Reject reason codes of ``probe_rejects.parquet`` (the extraction loop's own codes,
#: :data:`weaklabel.features.extract.REASONS`, may appear too, for files that changed under it).
REASONS: dict[str, str] = {
    OUTSIDE_ROOT: "the path leaves the probed folder ('../', an absolute path, a link out): never opened",
    "missing_file": "the file does not exist",
    "decode_error": "the file cannot be decoded as audio (damaged, not audio, or a format libsndfile lacks)",
    "empty": "the file holds no samples (0 bytes, or a header without audio)",
    "too_short": "the recording is shorter than probe.min_seconds",
    "silent": "the recording's peak is below probe.silence_dbfs (all zeros, or practically silent)",
}

#: Schema of ``probe.parquet``: one row per scored recording.
PROBE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),  # path relative to the probed folder
        ("path", pa.string()),  # absolute path
        ("language", pa.string()),
        ("polarity", pa.string()),  # positive, negative or null (unknown / no valence)
        ("label", pa.int8()),  # 1, 0 or null
        ("emotion", pa.string()),  # acted emotion, when the manifest has one
        ("group", pa.string()),  # speaker, when known
        ("text", pa.string()),
        ("seconds", pa.float64()),  # length of the recording
        ("score", pa.float64()),  # raw P(positive) from the model
        ("scaled", pa.float64()),  # score min-max scaled within its language; null when undefined
        ("rank", pa.int32()),  # within its language, 1 = highest score
    ]
)

#: Columns of the per-language summary (``probe_summary.csv`` and ``languages`` in the JSON).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "language",
    "files",
    "scored",
    "rejected",
    "positive",
    "negative",
    "no_polarity",
    "mean_scaled_positive",
    "mean_scaled_negative",
    "mean_score_positive",
    "mean_score_negative",
    "positive_higher",
    "auc",
    "note",
)


#: The models the probe takes when none is named, best first: the head on a pretrained backbone.
PREFERRED_MODELS = ("dense_head@yamnet", "dense_head@vgg16")


@dataclass(frozen=True)
class ProbeConfig:
    """How recordings are checked and scored (the ``probe`` section of params.yaml).

    Batch size, shard size and threads are the ``embed`` section's
    (:class:`weaklabel.features.registry.EmbedConfig`, passed to :func:`probe` beside this config);
    the backbone's settings come from the model bundle.

    Attributes
    ----------
    model
        Name of the model in ``models/bundle.json`` to score with (e.g. ``dense_head@yamnet``);
        ``""`` for the first of :data:`PREFERRED_MODELS` present, else the first model that reads
        audio features (see :func:`load_trained`).
    silence_dbfs
        A recording whose peak sample is at or below this level (dBFS) is rejected as ``silent``.
    min_seconds
        Recordings shorter than this are rejected as ``too_short``.
    weights
        Backbone weights for a model trained on a weights *file*: the path of that file (a VGG16
        ``.h5``, or a YAMNet model other than the packaged ``yamnet.tflite``). ``""`` rebuilds
        the weights the model bundle names (ImageNet, seeded random, the packaged YAMNet); any
        weights are checked against the bundle's fingerprint, and a mismatch is refused.
    """

    model: str = ""
    silence_dbfs: float = -60.0
    min_seconds: float = 0.1
    weights: str = ""

    def __post_init__(self) -> None:
        if not self.silence_dbfs < 0:
            raise ParameterError(f"probe.silence_dbfs must be < 0 dBFS (e.g. -60), got {self.silence_dbfs}")
        if not self.min_seconds >= 0:
            raise ParameterError(f"probe.min_seconds must be >= 0, got {self.min_seconds}")


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model and what its features were (from ``models/bundle.json``).

    Attributes
    ----------
    name
        The model's name in the bundle (``dense_head@yamnet``).
    model
        Has ``predict_proba(X)`` -> (n, 2) (P(negative), P(positive)).
    features
        Meta of the feature store the model was trained on (``embedder``, weights, fingerprint,
        layer, precision, ``mel``, ``dim``).
    length
        Clip length the model was trained on, samples.
    sample_rate
        Clip sample rate, Hz.
    """

    name: str
    model: Any
    features: Mapping[str, Any]
    length: int
    sample_rate: int

    @property
    def length_s(self) -> float:
        """Clip length in seconds."""
        return self.length / self.sample_rate


@dataclass
class ProbeResult:
    """What :func:`probe` found.

    Attributes
    ----------
    scores
        One row per scored recording, columns of :data:`PROBE_SCHEMA`, sorted by language and rank.
    summary
        One row per language, columns :data:`SUMMARY_COLUMNS`.
    rejects
        :data:`weaklabel.tables.REJECTS_SCHEMA`, stage ``probe``, key = the file.
    info
        Model, backbone, counts, overall numbers and timing (the JSON summary's top level).
    """

    scores: pd.DataFrame
    summary: pd.DataFrame
    rejects: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)


def load_trained(models_dir: str | Path, name: str | None = None) -> TrainedModel:
    """Load a trained model and the description of its features from a models folder.

    Parameters
    ----------
    models_dir
        Folder written by :func:`weaklabel.learn.train.train_models` (``bundle.json`` and a folder
        per model).
    name
        Model name; ``None`` takes the first of :data:`PREFERRED_MODELS` present, else the first
        model that reads a feature store.

    Returns
    -------
    TrainedModel
        The fitted model, its store's meta, and the clip length and rate.

    Raises
    ------
    DataError
        If the folder or model is missing, the model reads no audio features (``duration``,
        ``prior``), or the bundle lacks the store meta or clip format.
    """
    bundle = read_bundle(models_dir)
    models = bundle.get("models") or {}
    stores = bundle.get("features") or {}

    def audio_features(entry: Mapping[str, Any]) -> bool:
        meta = (stores.get(entry.get("features")) or {}).get("meta") or {}
        return "embedder" in meta  # a store an embedder made from audio (not duration, not the prior)

    if name is None:
        usable = [n for n, e in models.items() if audio_features(e)]
        if not usable:
            raise DataError(
                f"{models_dir} holds no model that reads audio features (models: "
                f"{', '.join(models) or 'none'}); train one on a feature store (e.g. dense_head@yamnet)"
            )
        name = next((n for n in PREFERRED_MODELS if n in usable), usable[0])
    entry = models.get(name)
    if entry is None:
        raise DataError(f"{models_dir} holds no model {name!r}; it holds {', '.join(models) or 'none'}")
    if not audio_features(entry):
        raise DataError(
            f"model {name!r} reads {entry.get('features') or 'no features'}, not a feature store computed "
            "from audio: the probe cannot feed it; choose a model such as dense_head@yamnet (--model)"
        )
    meta = dict(stores[entry["features"]]["meta"])
    clip = bundle.get("clip") or {}
    if "length" not in clip or "sample_rate" not in clip:
        raise DataError(
            f"{models_dir}/bundle.json does not record the clip length and sample rate the models were "
            "trained on (clip.length, clip.sample_rate): retrain, passing the clips table to the train stage"
        )
    model = load_model(models_dir, name)
    log.info("probe model %s (%s) reading %s features", name, type(model).__name__, entry["features"])
    return TrainedModel(
        name=name,
        model=model,
        features=meta,
        length=int(clip["length"]),
        sample_rate=int(clip["sample_rate"]),
    )


def _random_seed(meta: Mapping[str, Any]) -> int:
    sha = str(meta.get("weights_sha256", ""))
    try:
        return int(sha.split(":", 1)[1])
    except (IndexError, ValueError) as error:
        raise DataError(
            f"features were made with random weights but their seed is not recorded ({sha!r})"
        ) from error


def _vgg16_settings(meta: Mapping[str, Any], config: ProbeConfig) -> dict[str, Any]:
    """The ``embed`` settings that rebuild a VGG16 store's backbone: layer, precision, weights."""
    settings = {key: meta[key] for key in ("layer", "precision") if key in meta}
    kind = meta.get("weights")
    if config.weights:
        settings["weights"] = config.weights
    elif kind == "random":
        settings.update(weights="random", seed=_random_seed(meta))
    elif kind == "imagenet":
        settings["weights"] = "imagenet"
    elif kind == "file":
        raise ParameterError(
            f"the model's backbone weights came from the file {meta.get('weights_file')!r} (sha256 "
            f"{str(meta.get('weights_sha256'))[:16]}..): pass its path (probe.weights, or --weights)"
        )
    return settings


def _yamnet_settings(meta: Mapping[str, Any], config: ProbeConfig) -> dict[str, Any]:
    """The ``embed`` settings that rebuild a YAMNet store's embedder: pooling, and the model file.

    The model file is the packaged one when its sha256 is the store's, else ``config.weights``.
    """
    from weaklabel.features.yamnet import YAMNET_SHA256

    sha = str(meta.get("weights_sha256") or "")
    settings = {"yamnet_pooling": meta.get("pooling", "mean")}
    if sha == YAMNET_SHA256:
        return settings
    if not config.weights:
        raise ParameterError(
            f"the model's YAMNet features came from the model file {meta.get('weights_file')!r} with sha256 "
            f"{sha[:16]}.., not the yamnet.tflite weaklabel ships ({YAMNET_SHA256[:16]}..): pass the path of "
            "that file (probe.weights, or --weights)"
        )
    return {**settings, "yamnet_weights": config.weights}


def embedder_for(
    meta: Mapping[str, Any],
    *,
    config: ProbeConfig | None = None,
    embed: EmbedConfig | None = None,
    model: str = "",
) -> Embedder:
    """Rebuild the embedder that made a feature store, from the store's meta, and check it.

    Parameters
    ----------
    meta
        The store's meta as the model bundle records it (``embedder``, ``mel``; for VGG16
        ``layer``, ``precision``, ``weights``, ``weights_sha256``, ``weights_fingerprint``; for
        YAMNet ``pooling`` and ``weights_sha256``).
    config
        ``weights``: a file path, for a model trained on a weights file (VGG16), or on a YAMNet
        model file other than the packaged one.
    embed
        ``batch_size`` (the batch the backbone is built for) and ``workers`` (e.g. eGeMAPS
        processes); every setting that shapes the features comes from ``meta``.
    model
        Model name, for messages.

    Returns
    -------
    Embedder
        An embedder of :data:`weaklabel.features.registry.EMBEDDERS` computing the same features.

    Raises
    ------
    DataError
        If the embedder is unknown, or the rebuilt one differs from ``meta`` (see
        :func:`check_embedder`).
    ParameterError
        If the model was trained on a weights file and ``config.weights`` does not name one.
    MissingDependencyError
        If the weights cannot be had (ImageNet weights offline: the message names the file), or
        the embedder's package is not installed (opensmile, ai-edge-litert).
    """
    config = config if config is not None else ProbeConfig()
    embed = embed if embed is not None else EmbedConfig()
    name = meta.get("embedder")
    if name not in EMBEDDERS:
        raise DataError(
            f"the model's features come from embedder {name!r}, which cannot be rebuilt (known: "
            f"{', '.join(EMBEDDERS)}); probe a model trained on one of those"
        )
    mel = MelConfig(**meta["mel"]) if isinstance(meta.get("mel"), Mapping) else MelConfig()
    settings: dict[str, Any] = {"batch_size": embed.batch_size, "workers": embed.workers, "features": (name,)}
    if name == "vgg16":
        settings.update(_vgg16_settings(meta, config))
    elif name == "yamnet":
        settings.update(_yamnet_settings(meta, config))
    embedder = EMBEDDERS[name](EmbedConfig(**settings), mel)
    check_embedder(embedder, meta, model=model)
    return embedder


def check_embedder(embedder: Embedder, meta: Mapping[str, Any], *, model: str = "") -> None:
    """Refuse an embedder whose features differ from those a model was trained on.

    The two metas are compared by :func:`weaklabel.features.identity.check_identity` (embedder,
    layer, pooling, precision, dimension, mel parameters and, for VGG16, the fingerprint of the
    actual weight arrays, so other weights are caught whatever their file is called). An embedder
    with a ``check_frozen`` method is also checked to be frozen.

    Parameters
    ----------
    embedder
        The embedder about to compute the probe's features.
    meta
        The meta of the store the model was trained on.
    model
        Model name, for the message.

    Raises
    ------
    DataError
        Naming every setting that differs and what to do.
    """
    check_identity(meta, dict(getattr(embedder, "meta", {})), model=model, source="the probe's embedder")
    if hasattr(embedder, "check_frozen"):
        embedder.check_frozen()


def inspect_file(
    path: str | Path, *, min_seconds: float = 0.1, silence_dbfs: float = -60.0, block: int = 65_536
) -> tuple[str | None, str, float]:
    """Check that a recording can be scored, streaming it once (bounded memory).

    Parameters
    ----------
    path
        Any format libsndfile decodes (wav, flac, ogg, mp3, ...).
    min_seconds
        Shorter recordings are ``too_short``.
    silence_dbfs
        Recordings whose peak is at or below this level are ``silent``.
    block
        Frames decoded at a time.

    Returns
    -------
    reason : str or None
        A :data:`REASONS` code, or ``None`` when the file can be scored.
    detail : str
        What was found, for the rejects table.
    seconds : float
        Length of the decoded audio (0 when rejected before decoding).
    """
    path = Path(path)
    if not path.is_file():
        return "missing_file", f"{path} does not exist", 0.0
    if path.stat().st_size == 0:
        return "empty", "the file has 0 bytes", 0.0
    frames, peak = 0, 0.0
    try:
        with sf.SoundFile(str(path)) as handle:
            rate = handle.samplerate
            for chunk in handle.blocks(blocksize=block, dtype="float32", always_2d=True):
                if not np.isfinite(chunk).all():
                    return "decode_error", "the decoded audio holds NaN or inf samples", 0.0
                frames += chunk.shape[0]
                if chunk.size:
                    peak = max(peak, float(np.abs(chunk).max()))
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as error:
        return "decode_error", f"{type(error).__name__}: {error}", 0.0
    seconds = frames / rate
    if frames == 0:
        return "empty", "the file decodes to 0 samples", 0.0
    if seconds < min_seconds:
        return "too_short", f"{seconds:.3f} s < probe.min_seconds = {min_seconds} s", seconds
    level = 20 * np.log10(peak) if peak > 0 else -np.inf
    if level <= silence_dbfs:
        return "silent", f"peak {level:.1f} dBFS <= probe.silence_dbfs = {silence_dbfs} dBFS", seconds
    return None, "", seconds


def scale_within(scores: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min-max scale and rank scores within each group (language).

    Parameters
    ----------
    scores
        Shape (n,), finite.
    groups
        Shape (n,), the group of each score.

    Returns
    -------
    scaled : numpy.ndarray
        Shape (n,), float64 in [0, 1]: ``(s - min) / (max - min)`` over the group; NaN where the
        group's scores are all equal (a single file included), as the scale is then undefined.
    rank : numpy.ndarray
        Shape (n,), int32: 1 for the group's highest score (ties share the lowest rank).

    Examples
    --------
    >>> scale_within(np.array([0.2, 0.4, 0.3, 0.9]), np.array(["en", "en", "en", "fr"]))[0]
    array([0. , 1. , 0.5, nan])
    """
    frame = pd.DataFrame({"s": np.asarray(scores, dtype=np.float64), "g": np.asarray(groups)})
    by = frame.groupby("g", sort=False)["s"]
    low, high = by.transform("min").to_numpy(), by.transform("max").to_numpy()
    span = high - low
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(span > 0, (frame["s"].to_numpy() - low) / np.where(span > 0, span, 1.0), np.nan)
    rank = (
        by.rank(method="min", ascending=False).to_numpy().astype(np.int32)
        if len(frame)
        else np.zeros(0, np.int32)
    )
    return scaled, rank


def _mean(values: pd.Series) -> float | None:
    return float(values.mean()) if len(values) and values.notna().any() else None


def summarise(scores: pd.DataFrame, *, rejected: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Per-language summary of scored recordings.

    Parameters
    ----------
    scores
        Rows of :data:`PROBE_SCHEMA` (``language``, ``polarity``, ``score``, ``scaled``).
    rejected
        Rejected files per language, to report beside the scored ones.

    Returns
    -------
    pandas.DataFrame
        One row per language (sorted), columns :data:`SUMMARY_COLUMNS`: counts; mean scaled and
        raw score of positive and of negative files (None without such files); ``positive_higher``
        (mean scaled positive > mean scaled negative; None unless both classes are present);
        ``auc`` (ROC AUC of the raw scores, positive vs negative; None unless both classes have
        >= 2 files); ``note`` on anything undefined.
    """
    rejected = dict(rejected or {})
    rows = []
    for language in sorted(set(scores["language"].astype(str)) | set(rejected)):
        part = scores[scores["language"].astype(str) == language]
        pos, neg = part[part["polarity"] == POSITIVE], part[part["polarity"] == NEGATIVE]
        mean_pos, mean_neg = _mean(pos["scaled"]), _mean(neg["scaled"])
        notes = []
        higher = None
        if len(pos) and len(neg):
            if mean_pos is None or mean_neg is None:
                notes.append("scores all equal: scaled undefined")
            else:
                higher = bool(mean_pos > mean_neg)
        else:
            notes.append("needs positive and negative files to compare")
        auc = None
        if len(pos) >= 2 and len(neg) >= 2:
            both = pd.concat([pos, neg])
            auc = roc_auc((both["polarity"] == POSITIVE).to_numpy().astype(int), both["score"].to_numpy())
        elif len(pos) or len(neg):
            notes.append("AUC needs >= 2 positive and >= 2 negative files")
        rows.append(
            {
                "language": language,
                "files": len(part) + rejected.get(language, 0),
                "scored": len(part),
                "rejected": rejected.get(language, 0),
                "positive": len(pos),
                "negative": len(neg),
                "no_polarity": int(part["polarity"].isna().sum()),
                "mean_scaled_positive": mean_pos,
                "mean_scaled_negative": mean_neg,
                "mean_score_positive": _mean(pos["score"]),
                "mean_score_negative": _mean(neg["score"]),
                "positive_higher": higher,
                "auc": auc,
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def _inspect_all(
    paths: list[str], config: ProbeConfig, workers: int, verbose: bool, root: str | Path | None
) -> list[tuple[str | None, str, float]]:
    def check(path: str) -> tuple[str | None, str, float]:
        if root is not None and (escape := outside_root(path, root)) is not None:
            return OUTSIDE_ROOT, escape, 0.0  # before anything opens the file
        return inspect_file(path, min_seconds=config.min_seconds, silence_dbfs=config.silence_dbfs)

    with ThreadPoolExecutor(workers, thread_name_prefix="weaklabel-probe") as pool:
        return list(
            tqdm(pool.map(check, paths), total=len(paths), desc="check", unit="file", disable=not verbose)
        )


def _relative(paths: pd.Series, root: str | Path | None) -> list[str]:
    if root is None:
        if not len(paths):
            return []
        root = os.path.commonpath([str(Path(p).parent) for p in paths])
    out = []
    for path in paths:
        try:
            out.append(Path(path).resolve().relative_to(Path(root).resolve()).as_posix())
        except ValueError:
            out.append(str(path))
    return out


def probe(
    manifest: pd.DataFrame,
    trained: TrainedModel,
    *,
    config: ProbeConfig | None = None,
    embed: EmbedConfig | None = None,
    embedder: Embedder | None = None,
    root: str | Path | None = None,
    work_dir: str | Path | None = None,
    verbose: bool = True,
) -> ProbeResult:
    """Score every recording of a manifest with a trained model.

    Parameters
    ----------
    manifest
        From :mod:`weaklabel.sources.recordings` (columns
        :data:`weaklabel.sources.recordings.RECORDINGS_COLUMNS`;
        ``path`` required, the others may be missing; read with
        :func:`~weaklabel.sources.recordings.recordings_frame`).
    trained
        The model and its features' description (:func:`load_trained`).
    config
        File checks and weights; ``None`` for the defaults.
    embed
        The ``embed`` section: ``batch_size`` (unless ``embedder`` has its own), ``shard_size``,
        and ``workers`` (threads checking files, and producer threads of the extraction);
        ``None`` for the defaults.
    embedder
        A ready embedder; ``None`` rebuilds it from ``trained.features`` (:func:`embedder_for`).
        Either way it is checked against ``trained.features`` and a mismatch is refused.
    root
        The probed folder: every recording must stay inside it (links resolved), and a row that
        leaves it is rejected as ``outside_root`` without being opened; ``file`` in the output is
        relative to it. ``None`` checks nothing and takes the files' common folder for ``file``.
    work_dir
        Where the probe's feature store is written (kept, so a rerun resumes); ``None`` for a
        temporary folder removed afterwards.
    verbose
        Progress bars.

    Returns
    -------
    ProbeResult
        Scores, per-language summary, rejects and run info; ``len(scores) + len(rejects)`` equals
        the manifest's rows.

    Raises
    ------
    DataError
        If the manifest lacks ``path``, repeats a file or has a label or polarity that cannot be
        read, or the embedder does not reproduce the model's features (refused, with what differs).
    ParameterError
        If the model's clip rate differs from the embedder's mel rate, or weights are needed.
    MissingDependencyError
        If the backbone weights cannot be had.
    """
    started = time.perf_counter()
    config = config if config is not None else ProbeConfig()
    embed = embed if embed is not None else EmbedConfig()
    if "path" not in manifest.columns:
        raise DataError(f"manifest has columns {list(manifest.columns)}; expected at least 'path'")
    frame = recordings_frame(manifest)
    frame["path"] = [str(Path(p)) for p in frame["path"]]
    if frame["path"].duplicated().any():
        raise DataError(
            f"manifest lists {int(frame['path'].duplicated().sum())} file(s) twice; list each once"
        )
    frame["language"] = frame["language"].fillna("unknown")
    frame["key"] = [f"probe{i:07d}" for i in range(len(frame))]

    if embedder is None:
        embedder = embedder_for(trained.features, config=config, embed=embed, model=trained.name)
    else:
        check_embedder(embedder, trained.features, model=trained.name)
    mel = getattr(embedder, "mel_config", None) or MelConfig(**trained.features.get("mel", {}))
    if mel.sample_rate != trained.sample_rate:
        raise ParameterError(
            f"model {trained.name} was trained on {trained.sample_rate} Hz clips but its mel parameters "
            f"say {mel.sample_rate} Hz: the models folder is inconsistent; retrain"
        )

    checks = _inspect_all(frame["path"].tolist(), config, embed.workers, verbose, root)
    frame["reason"] = [c[0] for c in checks]
    frame["detail"] = [c[1] for c in checks]
    frame["seconds"] = [c[2] for c in checks]
    ok = frame[frame["reason"].isna()]
    for row in frame[frame["reason"].notna()].head(10).itertuples():
        log.warning("rejected %s (%s): %s", row.path, row.reason, row.detail)

    recordings = pd.DataFrame(
        {"segment_id": ok["key"], "audio_path": ok["path"], "start": 0.0, "duration": ok["seconds"]}
    )
    window = ClipConfig(length_s=trained.length_s, sample_rate=trained.sample_rate, window="centre")
    # batches of the size the backbone was built for
    settings = dataclasses.replace(embed, batch_size=int(getattr(embedder, "batch_size", embed.batch_size)))
    embed_started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="weaklabel-probe-") as tmp:
        out = Path(work_dir) if work_dir is not None else Path(tmp)
        run = extract_features(
            recordings, out, clips=window, config=settings, mel=mel, embedders=[embedder], verbose=verbose
        )
        features = run.features(embedder.name)
        loop_rejects = run.rejects_table()
    embed_seconds = time.perf_counter() - embed_started
    for r in loop_rejects.itertuples():
        frame.loc[frame["key"] == r.key, ["reason", "detail"]] = [r.reason, f"{r.detail} (extraction loop)"]

    scored = frame[frame["reason"].isna()].copy()
    X = features.loc[scored["key"]].to_numpy()
    proba = np.asarray(trained.model.predict_proba(X), dtype=np.float64) if len(scored) else np.zeros((0, 2))
    scored["score"] = proba[:, 1] if proba.ndim == 2 else proba
    scored["scaled"], scored["rank"] = scale_within(scored["score"].to_numpy(), scored["language"].to_numpy())
    scored["file"] = _relative(scored["path"], root)
    scored["label"] = scored["polarity"].map({POSITIVE: 1, NEGATIVE: 0}).astype("Int8")
    scores = scored.sort_values(["language", "rank", "file"], kind="stable")[PROBE_SCHEMA.names].reset_index(
        drop=True
    )

    bad = frame[frame["reason"].notna()]
    rejects = rejects_frame(
        (
            {"source": "probe", "key": r.path, "reason": r.reason, "detail": r.detail}
            for r in bad.itertuples()
        ),
        stage=STAGE,
    )
    summary = summarise(scores, rejected=bad["language"].astype(str).value_counts().to_dict())
    if len(scores) + len(rejects) != len(frame):  # pragma: no cover - a bug, not bad data
        raise DataError(f"probe lost files: {len(frame)} in, {len(scores)} scored, {len(rejects)} rejected")
    seconds = time.perf_counter() - started
    info = _info(trained, embedder, scores, summary, rejects, len(frame))
    info["timing"] = {
        "seconds": round(seconds, 3),
        "files_per_s": round(len(frame) / seconds, 3) if seconds > 0 else None,
        "embed_seconds": round(embed_seconds, 3),
        "embed_clips_per_s": run.clips_per_s if run.clips_computed else None,
    }
    log.info(
        "probe: %d files -> %d scored, %d rejected in %.1f s; %s",
        len(frame),
        len(scores),
        len(rejects),
        seconds,
        ", ".join(
            f"{r.language}: pos {r.mean_scaled_positive:.2f} vs neg {r.mean_scaled_negative:.2f}"
            for r in summary.itertuples()
            if pd.notna(r.mean_scaled_positive) and pd.notna(r.mean_scaled_negative)
        )
        or "no language with both polarities",
    )
    return ProbeResult(scores=scores, summary=summary, rejects=rejects, info=info)


def _info(
    trained: TrainedModel,
    embedder: Embedder,
    scores: pd.DataFrame,
    summary: pd.DataFrame,
    rejects: pd.DataFrame,
    files: int,
) -> dict[str, Any]:
    compared = summary[summary["positive_higher"].notna()]
    both = scores[scores["polarity"].isin([POSITIVE, NEGATIVE]) & scores["scaled"].notna()]
    pooled = None
    if (both["polarity"] == POSITIVE).sum() >= 2 and (both["polarity"] == NEGATIVE).sum() >= 2:
        pooled = roc_auc((both["polarity"] == POSITIVE).to_numpy().astype(int), both["scaled"].to_numpy())
    return {
        "model": trained.name,
        "model_class": type(trained.model).__name__,
        "features": trained.features.get("embedder"),
        "backbone": describe(trained.features),
        "weights": trained.features.get("weights"),
        "weights_fingerprint": trained.features.get("weights_fingerprint"),
        "clip_seconds": trained.length_s,
        "sample_rate": trained.sample_rate,
        "crop": "centred (deterministic); shorter recordings zero-padded on both sides",
        "files": files,
        "scored": len(scores),
        "rejected": len(rejects),
        "rejects_by_reason": {str(k): int(v) for k, v in rejects["reason"].value_counts().items()},
        "overall": {
            "positive": int((scores["polarity"] == POSITIVE).sum()),
            "negative": int((scores["polarity"] == NEGATIVE).sum()),
            "no_polarity": int(scores["polarity"].isna().sum()),
            "languages_compared": len(compared),
            "languages_positive_higher": int(compared["positive_higher"].astype(bool).sum()),
            "auc_scaled_pooled": pooled,
        },
        "embedder_dim": int(embedder.dim),
    }
