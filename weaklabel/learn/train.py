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

All models train on the same rows: weakly labelled (not abstained) segments that have every
feature the chosen models read. Under the ``kfold`` protocol (the split has folds) every model is
fitted once per fold on the other folds' ``train`` rows, stopping early on their ``valid`` rows
(whole validation speakers), and scores its fold: every labelled clip is scored once, out of fold
(``oof.parquet``, :func:`out_of_fold`); then one final model per entry is fitted on every fold's
``train`` rows (early stopping on all validation speakers) and saved for the probe. Under
``holdout`` the ``train`` split trains and ``valid`` drives early stopping. Rows left out are
counted by reason (:func:`row_counts`), never dropped silently. Every ``fit`` gets the rows'
groups, the split's ``speaker`` column, for models that choose settings by an inner
cross-validation that must never split a speaker (``logreg``'s ``C``). A model whose
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
from weaklabel.learn.dataset import (
    DURATION,
    OOF_FILE,
    OOF_SCHEMA,
    Dataset,
    build_dataset,
    row_counts,
    split_fingerprint,
)
from weaklabel.learn.split import read_split, split_summary
from weaklabel.models.base import Model
from weaklabel.models.baselines import DurationModel, KNNModel, PriorModel, RandomForestModel
from weaklabel.models.bundle import PLUS, library_versions, model_name, parse_name, write_bundle
from weaklabel.models.head import DenseHead
from weaklabel.models.logreg import LogisticModel
from weaklabel.tables import read_table, write_table

log = logging.getLogger(__name__)

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


def _weights(dataset: Dataset, rows: np.ndarray, *, config: TrainConfig) -> np.ndarray | None:
    """Per-row training weights (label confidence, mean 1) under ``sample_weight: confidence``, else None."""
    if config.sample_weight != "confidence":
        return None
    weights = np.nan_to_num(dataset.frame["confidence"].to_numpy(dtype=np.float64)[rows], nan=1.0)
    return weights / weights.mean() if weights.sum() > 0 else None


def _fit(
    spec: ModelSpec,
    dataset: Dataset,
    train: np.ndarray,
    valid: np.ndarray,
    *,
    config: TrainConfig,
    verbose: bool,
) -> tuple[Model, bool]:
    """Fit one model on ``train`` (early stopping on ``valid``); returns it and whether rows were weighted."""
    if len(train) == 0:
        raise DataError(
            f"no usable training rows for {spec.name} (rows per split: {row_counts(dataset)}); "
            "check labels and features"
        )
    label = dataset.frame["label"].to_numpy()
    model = spec.kind.cls(**config.model_params(spec.name))
    if hasattr(model, "verbose"):
        model.verbose = verbose
    weights = _weights(dataset, train, config=config)
    model.fit(
        dataset.X(spec.features, train),
        label[train],
        X_val=dataset.X(spec.features, valid) if len(valid) else None,
        y_val=label[valid] if len(valid) else None,
        sample_weight=weights,
        groups=dataset.frame["speaker"].to_numpy()[train],
    )
    return model, weights is not None and model.supports_sample_weight


def _fitted(model: Model) -> dict[str, Any]:
    return {k: v for k, v in model.fitted_info().items() if k != "history"}


def out_of_fold(
    spec: ModelSpec, dataset: Dataset, *, config: TrainConfig, verbose: bool = False
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Fit ``spec`` once per fold, without that fold, and score the fold: every labelled clip once.

    Fold k's model trains on the ``train`` rows of the other folds and stops early on their
    ``valid`` rows (the validation speakers, :mod:`weaklabel.learn.split`); it scores every used
    row of fold k.

    Parameters
    ----------
    spec
        The model.
    dataset
        From :func:`build_dataset` on a ``kfold`` split.
    config
        The train config.
    verbose
        Progress bars inside the models that train for epochs.

    Returns
    -------
    scores : pandas.DataFrame
        Columns of :data:`OOF_SCHEMA`, one row per scored clip.
    folds : list of dict
        Per fold: ``fold``, ``n_train``, ``n_valid``, ``n_test`` and what ``fit`` chose.
    """
    frame = dataset.frame
    parts, facts = [], []
    for k in dataset.folds:
        train, valid = dataset.rows("train", exclude=k), dataset.rows("valid", exclude=k)
        test = dataset.rows(None, fold=k)
        model, _ = _fit(spec, dataset, train, valid, config=config, verbose=verbose)
        score = model.predict_proba(dataset.X(spec.features, test))[:, 1] if len(test) else np.zeros(0)
        parts.append(
            pd.DataFrame(
                {
                    "model": spec.name,
                    "segment_id": frame["segment_id"].to_numpy()[test],
                    "speaker": frame["speaker"].to_numpy()[test],
                    "fold": k,
                    "score": score.astype(np.float64),
                }
            )
        )
        facts.append(
            {"fold": k, "n_train": len(train), "n_valid": len(valid), "n_test": len(test)} | _fitted(model)
        )
        log.info("%s fold %d: %d train, %d valid, %d scored", spec.name, k, len(train), len(valid), len(test))
    return pd.concat(parts, ignore_index=True), facts


def train_models(
    dataset: Dataset,
    out: str | Path,
    *,
    config: TrainConfig,
    verbose: bool = False,
    skipped: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Fit every configured model on the shared split and save them with their index (``bundle.json``).

    Under ``kfold`` (the split has folds) each model is first fitted once per fold and scores that
    fold (:func:`out_of_fold`, written to ``<out>/oof.parquet``), then once more on every fold
    (validation speakers apart) as the final model the bundle keeps (for the probe). Under
    ``holdout`` the final model trains on ``train`` and stops early on ``valid``.

    Parameters
    ----------
    dataset
        From :func:`build_dataset` with every source the models read.
    out
        The models folder: ``<out>/<name>/`` per model (``<out>/logreg@yamnet/``),
        ``<out>/bundle.json`` and, under ``kfold``, ``<out>/oof.parquet``.
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
    counts = row_counts(dataset)
    kfold = dataset.protocol == "kfold"
    log.info(
        "%s: final models train on %d rows, validate on %d (rows per split: %s)",
        f"{len(dataset.folds)} folds" if kfold else "holdout",
        len(train),
        len(valid),
        counts,
    )
    if len(train) == 0:
        raise DataError(
            f"no usable training rows (rows of the train split: {counts.get('train')}); "
            "check labels and features"
        )
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
        "split": split_summary(frame, frame[["segment_id", "label"]]),
        "protocol": dataset.protocol,
        "folds": len(dataset.folds),
        "groups": "speaker",
        "models": {},
        "skipped": dict(skipped or {}),
    }
    oof = []
    for spec in config.specs():
        name = spec.name
        began = time.perf_counter()
        log.info("fitting %s (%s) on %s", name, spec.kind.cls.__name__, spec.features or "no features")
        folds = []
        if kfold:
            scores, folds = out_of_fold(spec, dataset, config=config, verbose=verbose)
            oof.append(scores)
        model, weighted = _fit(spec, dataset, train, valid, config=config, verbose=verbose)
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        model.save(folder)
        elapsed = time.perf_counter() - began
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
            "fitted": _fitted(model),
            "folds": folds,
            "n_train": len(train),
            "n_valid": len(valid),
            "train_classes": {"positive": int((y_train == 1).sum()), "negative": int((y_train == 0).sum())},
            "sample_weight": config.sample_weight if weighted else "none",
            "fit_seconds": round(elapsed, 2),
        }
        log.info("fitted %s in %.1f s", name, elapsed)
    oof_path = out / OOF_FILE
    if oof:
        write_table(pd.concat(oof, ignore_index=True), oof_path, schema=OOF_SCHEMA)
    elif oof_path.exists():
        oof_path.unlink()
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
