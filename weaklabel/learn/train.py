"""Fit every model on the one shared split, save them, and say what each needs (``models/bundle.json``).

A model is a **kind** (its class and its parameters, ``train.<kind>`` in params.yaml) and the
**features** it reads, named ``KIND@FEATURES`` (:func:`weaklabel.models.bundle.model_name`), so the
backbone shows in every row of the bundle, the metrics and the report. ``train.models`` lists them:

============== ====================== ========================================================
kind           features (default)     model
============== ====================== ========================================================
dense_head     a store (``vgg16``)    :class:`~weaklabel.models.head.DenseHead` on frozen embeddings
logreg         a store (none: give    :class:`~weaklabel.models.logreg.LogisticModel`, z-scored, ``C``
               one)                   chosen by an inner CV grouped by speaker
dense_mel      a store (``mel_mean``) :class:`~weaklabel.models.head.DenseHead` with its own params
random_forest  a store (``mel_mean``) :class:`~weaklabel.models.baselines.RandomForestModel`
knn            a store (``mel_mean``) :class:`~weaklabel.models.baselines.KNNModel`
duration       duration (clips'       :class:`~weaklabel.models.baselines.DurationModel`
               ``read_seconds``)
prior          nothing                :class:`~weaklabel.models.baselines.PriorModel`
============== ====================== ========================================================

E.g. ``dense_head@vgg16``, ``dense_head@yamnet``, ``logreg@yamnet``, ``logreg@egemaps``,
``knn@mel_mean``, ``duration``, ``prior``; a bare kind reads its default features
(``dense_head`` is ``dense_head@vgg16``). FEATURES may combine stores with ``+``:
``logreg@yamnet+egemaps`` reads both stores' features side by side, row-aligned by segment (a row
missing in either store counts as featureless, ``no_<store>``). The parameters stay per kind:
``dense_head@vgg16`` and ``dense_head@yamnet`` both take ``train.dense_head``.

All models train on the same rows: weakly labelled (not abstained) segments of the ``train`` split
that have every feature the chosen models read; ``valid`` rows drive early stopping. Rows left out
are counted by reason (:func:`row_counts`), never dropped silently. Every ``fit`` gets the rows'
groups, the split's ``video`` column (the speaker where known), for models that choose settings by
an inner cross-validation that must never split a speaker (``logreg``'s ``C``). A model whose
feature store was not made (``egemaps`` without the ``opensmile`` extra, or a backbone the
features stage left out) is skipped, with the reason in the bundle's ``skipped`` and in the report
(:func:`available_models`).

The bundle records, for each model, its kind, the feature stores it reads and each store's
identity (backbone, weights, fingerprint, layer, precision, dim, mel parameters), what ``fit``
chose (``logreg``'s ``C``, a dense head's best epoch), the versions of the libraries the models were
saved with (``versions``, warned about when they differ at load), and the clip length and sample rate, so that
a later user (the probe) can compute matching features and refuse a model whose backbone differs
(:func:`weaklabel.features.identity.check_identity`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from weaklabel import __version__
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.identity import backbone_name, feature_identity
from weaklabel.features.store import read_store
from weaklabel.labels.labellers import ABSTAIN
from weaklabel.learn.split import SPLITS, read_split, split_summary
from weaklabel.models.base import Model
from weaklabel.models.baselines import DurationModel, KNNModel, PriorModel, RandomForestModel
from weaklabel.models.bundle import PLUS, library_versions, model_name, parse_name, write_bundle
from weaklabel.models.head import DenseHead
from weaklabel.models.logreg import LogisticModel
from weaklabel.tables import read_table

log = logging.getLogger(__name__)

#: Feature source of the duration baseline: the clips table's ``read_seconds`` column.
DURATION = "duration"
#: Reasons a row of the split is not used to train or score against weak labels, in priority order.
ROW_REASONS = ("no_label", "abstained")


#: What a kind of model reads: any feature store (or a combination), the duration, or nothing.
READS = ("store", DURATION, "nothing")


@dataclass(frozen=True)
class ModelKind:
    """A kind of model: its class, its parameters' section, what it reads.

    Attributes
    ----------
    name
        Key in params (``train.<name>``) and the part of a model name before ``@``.
    cls
        The model class.
    reads
        ``store`` (a feature store or a combination, named after ``@``), ``duration`` or
        ``nothing`` (:data:`READS`).
    default_features
        Features of a bare ``name`` in ``train.models``; None when they must be given.
    description
        What it is, for the report (``"... on <backbone>"`` follows for store readers).
    """

    name: str
    cls: type[Model]
    reads: str
    default_features: str | None
    description: str


#: Every kind of model, by name.
MODEL_KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind("dense_head", DenseHead, "store", "vgg16", "dense head on frozen embeddings"),
        ModelKind(
            "logreg",
            LogisticModel,
            "store",
            None,
            "logistic regression on z-scored features, C by grouped CV",
        ),
        ModelKind("dense_mel", DenseHead, "store", "mel_mean", "dense net (the study's mel baseline)"),
        ModelKind("random_forest", RandomForestModel, "store", "mel_mean", "RandomForest"),
        ModelKind("knn", KNNModel, "store", "mel_mean", "KNN on standardised features"),
        ModelKind(
            "duration", DurationModel, DURATION, DURATION, "logistic regression on speech duration only"
        ),
        ModelKind("prior", PriorModel, "nothing", None, "training class prior (AUC 0.5 by construction)"),
    )
}
#: The models trained by default: the dense head and the logistic regression per backbone, the
#: averaged-mel baselines, duration and the prior.
DEFAULT_MODELS = (
    "dense_head@vgg16",
    "logreg@vgg16",
    "dense_head@yamnet",
    "logreg@yamnet",
    "logreg@egemaps",
    "logreg@yamnet+egemaps",
    "dense_mel@mel_mean",
    "random_forest@mel_mean",
    "knn@mel_mean",
    "duration",
    "prior",
)
#: A store name: lower-case letters, digits and underscores.
_STORE_NAME = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class ModelSpec:
    """One model to train: a kind and the features it reads.

    Attributes
    ----------
    name
        ``KIND@FEATURES`` (or the kind alone for ``duration`` and ``prior``): the key in the
        bundle, the metrics and the report, and the model's folder.
    kind
        Its :class:`ModelKind`.
    features
        What it reads: a store, stores joined by ``+``, :data:`DURATION`, or None.
    """

    name: str
    kind: ModelKind
    features: str | None

    @property
    def stores(self) -> tuple[str, ...]:
        """The feature stores it reads (the parts of a combination), none for duration and prior."""
        return tuple(self.features.split(PLUS)) if self.kind.reads == "store" and self.features else ()

    @property
    def audio(self) -> bool:
        """Whether it hears the audio (the negative control concerns these)."""
        return self.kind.reads == "store"

    @property
    def description(self) -> str:
        """One line for the report."""
        if self.kind.reads != "store":
            return self.kind.description
        return f"{self.kind.description}, on {backbone_name(self.features or '')}"


def parse_model(entry: str) -> ModelSpec:
    """The model an entry of ``train.models`` names.

    Parameters
    ----------
    entry
        ``KIND@FEATURES`` (``logreg@yamnet``, ``logreg@yamnet+egemaps``), or a bare kind that has
        default features (``dense_head``, ``knn``, ``duration``, ``prior``).

    Returns
    -------
    ModelSpec
        With the canonical name (``dense_head`` becomes ``dense_head@vgg16``).

    Raises
    ------
    ParameterError
        If the kind is unknown, the features are missing, malformed or repeated, or given to a
        kind that reads no store.

    Examples
    --------
    >>> parse_model("dense_head").name, parse_model("logreg@yamnet+egemaps").stores
    ('dense_head@vgg16', ('yamnet', 'egemaps'))
    """
    if not isinstance(entry, str):
        raise ParameterError(f"train.models entries must be text such as logreg@yamnet, got {entry!r}")
    name, features = parse_name(entry.strip())
    kind = MODEL_KINDS.get(name)
    if kind is None:
        raise ParameterError(
            f"train.models entry {entry!r}: unknown kind {name!r}; kinds are {', '.join(MODEL_KINDS)} "
            "(write KIND@FEATURES, e.g. logreg@yamnet)"
        )
    if kind.reads != "store":
        if features is not None:
            raise ParameterError(f"train.models entry {entry!r}: {name} reads no feature store; write {name}")
        return ModelSpec(name, kind, kind.default_features)
    features = features if features is not None else kind.default_features
    if features is None:
        raise ParameterError(
            f"train.models entry {entry!r}: say which features {name} reads, e.g. {name}@yamnet or "
            f"{name}@yamnet+egemaps"
        )
    parts = features.split(PLUS)
    if not all(_STORE_NAME.fullmatch(part) for part in parts) or len(set(parts)) != len(parts):
        raise ParameterError(
            f"train.models entry {entry!r}: features must be distinct store names (lower-case letters, "
            "digits, _) joined by +, e.g. yamnet+egemaps"
        )
    return ModelSpec(model_name(name, features), kind, features)


#: Sample weighting modes, see :attr:`TrainConfig.sample_weight`.
SAMPLE_WEIGHTS = ("none", "confidence")


@dataclass(frozen=True)
class TrainConfig:
    """What to train (the ``train`` section of params.yaml).

    Attributes
    ----------
    models
        Entries ``KIND@FEATURES`` (:func:`parse_model`), in training order; kept as canonical
        names (``dense_head`` becomes ``dense_head@vgg16``).
    seed
        Seed given to every model that takes one (unless its own params set ``seed``).
    sample_weight
        ``none``, or ``confidence``: weight each training row by its label confidence
        (``|combined|``), normalised to mean 1, for every model that can weight rows (not KNN).
    epochs
        When set, the ``epochs`` of every model that trains for epochs (the dense nets), over
        their own settings: one knob for quick runs. None keeps each model's own.
    dense_head, logreg, dense_mel, random_forest, knn, duration
        Parameters of each kind's class (``__init__`` keywords), e.g. ``dense_head.hidden``,
        ``logreg.Cs``; shared by every model of that kind, whatever it reads.
    """

    models: tuple[str, ...] = DEFAULT_MODELS
    seed: int = 0
    sample_weight: str = "none"
    epochs: int | None = None
    dense_head: Mapping[str, Any] = field(default_factory=dict)
    logreg: Mapping[str, Any] = field(default_factory=dict)
    dense_mel: Mapping[str, Any] = field(default_factory=dict)
    random_forest: Mapping[str, Any] = field(default_factory=dict)
    knn: Mapping[str, Any] = field(default_factory=dict)
    duration: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        entries = (self.models,) if isinstance(self.models, str) else tuple(self.models or ())
        if not entries:
            raise ParameterError("train.models lists no model; e.g. [dense_head@vgg16, logreg@yamnet, prior]")
        names = [parse_model(entry).name for entry in entries]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ParameterError(f"train.models names {', '.join(repeated)} more than once")
        object.__setattr__(self, "models", tuple(names))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ParameterError(f"train.seed must be an integer, got {self.seed!r}")
        if self.sample_weight not in SAMPLE_WEIGHTS:
            raise ParameterError(
                f"train.sample_weight must be one of {SAMPLE_WEIGHTS}, got {self.sample_weight!r}"
            )
        if self.epochs is not None and (
            isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1
        ):
            raise ParameterError(f"train.epochs must be an integer >= 1 or null, got {self.epochs!r}")
        for kind in MODEL_KINDS.values():
            if kind.name == "prior":
                continue
            params = getattr(self, kind.name) or {}
            if not isinstance(params, Mapping):
                raise ParameterError(
                    f"train.{kind.name} must be a mapping of model parameters, got {params!r}"
                )
            known = set(kind.cls().get_params())
            extra = sorted(set(params) - known)
            if extra:
                raise ParameterError(
                    f"unknown parameter(s) {', '.join(f'train.{kind.name}.{k}' for k in extra)}; "
                    f"{kind.cls.__name__} takes {', '.join(sorted(known)) or 'none'}"
                )
            try:  # values too, now: a bad one must not wait for the models trained before it
                kind.cls(
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
                )._validate_params()
            except ParameterError as error:
                raise ParameterError(f"train.{kind.name}.{error}") from error
            object.__setattr__(self, kind.name, MappingProxyType(dict(params)))

    def specs(self) -> list[ModelSpec]:
        """The models to train, in order."""
        return [parse_model(name) for name in self.models]

    def model_params(self, name: str) -> dict[str, Any]:
        """Keyword arguments for a model's class: its kind's params, plus ``seed`` when it takes one.

        Parameters
        ----------
        name
            A model name (``dense_head@yamnet``) or a kind (``dense_head``).

        Returns
        -------
        dict
            The params of its kind (lists as tuples); ``epochs`` (when set) replaces the kind's own
            for every kind that takes ``epochs``.
        """
        kind = MODEL_KINDS[parse_name(name)[0]]
        params = dict(getattr(self, kind.name, None) or {})
        known = kind.cls().get_params()
        if "seed" in known:
            params.setdefault("seed", self.seed)
        if self.epochs is not None and "epochs" in known:
            params["epochs"] = self.epochs
        return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}

    def sources(self) -> list[str]:
        """Feature sources the chosen models read (stores, combinations, :data:`DURATION`), in order."""
        return list(dict.fromkeys(spec.features for spec in self.specs() if spec.features))


@dataclass
class Dataset:
    """The rows of the split, with labels, gold, durations and features aligned to them.

    Attributes
    ----------
    frame
        One row per split row: ``segment_id``, ``video``, ``split``, ``label`` (int, ABSTAIN for
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

    def rows(self, split: str, *, labelled: bool = True) -> np.ndarray:
        """Positions of usable rows of ``split``: with all features, and (``labelled``) a weak label."""
        frame = self.frame
        ok = frame["has_features"].to_numpy() & (frame["split"] == split).to_numpy()
        if labelled:
            ok &= (frame["reason"] == "used").to_numpy()
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
        The split table (``segment_id``, ``video``, ``split``).
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
    """SHA-256 of the sorted ``segment_id, split`` pairs: equal for equal splits, whatever the row order."""
    pairs = sorted(zip(split["segment_id"].astype(str), split["split"].astype(str), strict=True))
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
        "scored": s}}``; ``scored`` counts rows with all features (labelled or not), the rows
        scored against gold.
    """
    frame = dataset.frame
    reasons = ["used", *ROW_REASONS, *(f"no_{s}" for s in dataset.features)]
    out: dict[str, dict[str, int]] = {}
    for name in SPLITS:
        rows = frame[frame["split"] == name]
        entry = {"segments": len(rows)}
        entry.update({reason: int((rows["reason"] == reason).sum()) for reason in reasons})
        entry["scored"] = int(rows["has_features"].sum())
        out[name] = entry
    return out


def train_models(
    dataset: Dataset,
    out: str | Path,
    *,
    config: TrainConfig,
    verbose: bool = False,
    skipped: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Fit every configured model on the shared split and save them with their index (``bundle.json``).

    Parameters
    ----------
    dataset
        From :func:`build_dataset` with every source the models read.
    out
        The models folder: ``<out>/<name>/`` per model (``<out>/logreg@yamnet/``) and
        ``<out>/bundle.json``.
    config
        Which models, their parameters, seed and sample weighting.
    verbose
        Progress bars inside the models that train for epochs.
    skipped
        Models left out by :func:`available_models`, name -> reason (recorded in the bundle).

    Returns
    -------
    dict
        The manifest (also written to ``bundle.json``, :mod:`weaklabel.models.bundle`).

    Raises
    ------
    DataError
        If the train split has no usable rows of a class, or a model fails on the data.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train, valid = dataset.rows("train"), dataset.rows("valid")
    frame = dataset.frame
    y_train = frame["label"].to_numpy()[train]
    y_valid = frame["label"].to_numpy()[valid]
    counts = row_counts(dataset)
    log.info("training on %d rows, validating on %d (rows per split: %s)", len(train), len(valid), counts)
    if len(train) == 0:
        raise DataError(
            f"no usable training rows (rows of the train split: {counts['train']}); check labels and features"
        )
    weights = None
    if config.sample_weight == "confidence":
        weights = np.nan_to_num(frame["confidence"].to_numpy(dtype=np.float64)[train], nan=1.0)
        weights = weights / weights.mean() if weights.sum() > 0 else None

    bundle: dict[str, Any] = {
        "format": 1,
        "weaklabel": __version__,
        "versions": library_versions(),
        "seed": config.seed,
        "sample_weight": config.sample_weight,
        "clip": dataset.clip,
        "mel": next(
            (m["mel"] for m in dataset.metas.values() if isinstance(m, Mapping) and "mel" in m), None
        ),
        "features": {
            source: {"meta": dataset.metas[source], "dim": int(dataset.features[source].shape[1])}
            for source in dataset.features
        },
        "rows": counts,
        "split_fingerprint": split_fingerprint(frame),
        "split": split_summary(frame[["segment_id", "video", "split"]], frame[["segment_id", "label"]]),
        "groups": "video",
        "models": {},
        "skipped": dict(skipped or {}),
    }
    groups = frame["video"].to_numpy()[train]
    for spec in config.specs():
        name = spec.name
        model = spec.kind.cls(**config.model_params(name))
        if hasattr(model, "verbose"):
            model.verbose = verbose
        began = time.perf_counter()
        log.info("fitting %s (%s) on %s", name, type(model).__name__, spec.features or "no features")
        model.fit(
            dataset.X(spec.features, train),
            y_train,
            X_val=dataset.X(spec.features, valid),
            y_val=y_valid,
            sample_weight=weights,
            groups=groups,
        )
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        model.save(folder)
        elapsed = time.perf_counter() - began
        fitted = {k: v for k, v in model.fitted_info().items() if k != "history"}
        bundle["models"][name] = {
            "name": name,
            "kind": spec.kind.name,
            "class": f"{type(model).__module__}:{type(model).__qualname__}",
            "path": name,
            "features": spec.features,
            "stores": list(spec.stores),
            "audio": spec.audio,
            "description": spec.description,
            "feature_identity": {store: feature_identity(dataset.metas[store]) for store in spec.stores},
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in model.get_params().items()},
            "fitted": fitted,
            "n_train": len(train),
            "n_valid": len(valid),
            "train_classes": {"positive": int((y_train == 1).sum()), "negative": int((y_train == 0).sum())},
            "sample_weight": config.sample_weight
            if weights is not None and model.supports_sample_weight
            else "none",
            "fit_seconds": round(elapsed, 2),
        }
        log.info("fitted %s in %.1f s", name, elapsed)
    write_bundle(bundle, out)
    return bundle


def train_from_paths(
    *,
    labels: str | Path,
    split: str | Path,
    clips: str | Path | None,
    stores: Mapping[str, str | Path],
    out: str | Path,
    config: TrainConfig,
    verbose: bool = False,
) -> dict[str, Any]:
    """Read the tables and stores, then :func:`train_models` (what the train stage runs).

    Parameters
    ----------
    labels, split, clips
        ``labels.parquet``, ``split.parquet`` and ``clips.parquet`` (clips may be None when no
        chosen model reads duration; it then records no clip format).
    stores
        Store name -> folder, for every store the chosen models read (extra ones are ignored).
    out
        The models folder.
    config
        The train config.
    verbose
        Progress bars while training.

    Returns
    -------
    dict
        The bundle.

    Raises
    ------
    DataError, ParameterError
        If an input is missing or malformed, or a model's store is not given.
    """
    config, skipped = available_models(config, stores)
    sources = config.sources()
    dataset = build_dataset(
        read_split(split),
        read_table(labels),
        stores=stores,
        clips=read_table(clips) if clips is not None else None,
        sources=sources,
    )
    return train_models(dataset, out, config=config, verbose=verbose, skipped=skipped)


def available_models(
    config: TrainConfig, stores: Mapping[str, str | Path]
) -> tuple[TrainConfig, dict[str, str]]:
    """Leave out the models whose feature store was not made, saying why.

    Parameters
    ----------
    config
        The train config.
    stores
        Store name -> folder; a folder that does not exist counts as absent.

    Returns
    -------
    config : TrainConfig
        ``config`` with only the models that can be trained.
    skipped : dict
        Model name -> reason (which stores are missing, how to make them), for the bundle and the
        report.

    Raises
    ------
    DataError
        If no chosen model can be trained.
    """
    present = {name for name, path in stores.items() if Path(path).is_dir()}
    skipped = {}
    for spec in config.specs():
        absent = [store for store in spec.stores if store not in present]
        if absent:
            hints = [
                "install the opensmile extra and have the features stage make egemaps (embed section)"
                if store == "egemaps"
                else f"have the features stage make the {store} store (embed section)"
                for store in absent
            ]
            skipped[spec.name] = (
                f"no {' or '.join(absent)} feature store (stores: {', '.join(sorted(present)) or 'none'}); "
                + "; ".join(hints)
            )
            log.warning("not training %s: %s", spec.name, skipped[spec.name])
    kept = tuple(name for name in config.models if name not in skipped)
    if not kept:
        raise DataError(f"no model of train.models can be trained: {skipped}")
    return replace(config, models=kept), skipped
