"""Cross-corpus evaluation on gold-labelled speech: does a representation carry valence across corpora.

Given labelled manifests of several corpora (e.g. the EmoDB and RAVDESS scheme builders of
:mod:`weaklabel.sources.recordings`), every backbone's features are scored with the pipeline's
logistic regression on z-scored features (:class:`~weaklabel.models.logreg.LogisticModel`, the
``logreg`` of the train stage, with the same parameters: ``train.logreg``). Its ``C`` is chosen
in every fit by an inner cross-validation on the training rows whose folds are grouped by speaker
(corpus and speaker), so no speaker is on both sides of an inner fold; with fewer than two training
speakers it falls back to a fixed ``C`` and says so. The chosen ``C`` is reported per cell (columns
``C`` and ``C_selection``; in the ``within`` protocol, one per held-out speaker). Two protocols:

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

Features follow the pipeline's own path: the manifest becomes segments
(:mod:`weaklabel.sources.manifest_ingest`), and every backbone's features come from the one
extraction path (:func:`weaklabel.features.extract.extract_features`, as in the features stage and
the probe), with the pipeline's own settings: the ``clips`` section's window (``random``, seeded, by
default), the ``mel`` and ``embed`` sections' parameters, and the ``evaluate`` section's bootstrap
(``n_boot``, ``level``, ``seed``). eGeMAPS reads the un-padded audio there, as in the features stage.
Any backbone of :data:`weaklabel.features.registry.EMBEDDERS` can be evaluated (``yamnet`` once it is
registered there), and any combination of them (``yamnet+egemaps``: the backbones' features side by
side, each extracted once). Every backbone is scored on the same rows (files every backbone could
embed, with finite features); the rest go to the rejects table.

A randomly initialised VGG16 is not transfer learning: which weights were used is in the table
(``features``), and the top of the markdown report says which backbones are pretrained (YAMNet:
AudioSet), which random and which hand-crafted.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from weaklabel.audio.clips import ClipConfig
from weaklabel.audio.mel import MelConfig
from weaklabel.errors import DataError, ParameterError
from weaklabel.features.extract import extract_features
from weaklabel.features.identity import describe
from weaklabel.features.registry import EMBEDDERS, EmbedConfig, installed
from weaklabel.labels.labellers import ABSTAIN
from weaklabel.learn.evaluate import EvaluateConfig
from weaklabel.metrics import bootstrap_auc
from weaklabel.models.bundle import PLUS
from weaklabel.models.logreg import LogisticModel
from weaklabel.params import Params
from weaklabel.sources import recordings as manifests
from weaklabel.sources.manifest_ingest import labels_from_manifest, manifest_tables
from weaklabel.tables import REJECTS_SCHEMA, rejects_frame

log = logging.getLogger(__name__)

STAGE = "crosscorpus"
#: Evaluation protocols, in table order.
PROTOCOLS = ("loco", "within")
#: Backbones that can be evaluated, in table order: every embedder of the extraction path.
BACKBONES = tuple(EMBEDDERS)
#: Name of the duration-only baseline's row in the heatmap.
DURATION = "duration"
#: Scheme shortcuts for manifest specs (``ravdess:DIR``), resolved by :func:`load_manifest`.
SCHEMES = tuple(manifests.SCHEMES)

TABLE_SCHEMA = pa.schema(
    [
        ("protocol", pa.string()),  # loco | within
        ("test_corpus", pa.string()),
        ("train_corpora", pa.string()),  # comma-separated
        ("backbone", pa.string()),  # egemaps | vgg16 | yamnet | mel_mean | a combination (yamnet+egemaps)
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
        (
            "C",
            pa.string(),
        ),  # chosen C of the logistic regression; within: each fold's, e.g. "0.01 (3x), 0.1 (1x)"
        ("C_selection", pa.string()),  # how: inner CV by speaker (folds) | fallback (why) | fixed
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
    """What only cross-corpus evaluation sets (the ``crosscorpus`` section of params.yaml).

    Clips, features and the bootstrap follow the pipeline's own sections, passed to
    :func:`crosscorpus` beside this config: ``clips`` (:class:`~weaklabel.audio.clips.ClipConfig`),
    ``mel``, ``embed`` (:class:`~weaklabel.features.registry.EmbedConfig`) and ``evaluate``
    (:class:`~weaklabel.learn.evaluate.EvaluateConfig`: ``n_boot``, ``level``, ``seed``).

    The logistic regression's parameters are the train stage's (``train.logreg``, passed to
    :func:`crosscorpus` as ``logreg``): one model, one set of settings.

    Attributes
    ----------
    protocols
        Any of ``loco`` (leave one corpus out) and ``within`` (within-corpus, leave one speaker
        out).
    min_ci_speakers
        Fewest test speakers for a speaker bootstrap; below it intervals resample files.
    """

    protocols: tuple[str, ...] = PROTOCOLS
    min_ci_speakers: int = 5

    def __post_init__(self) -> None:
        protocols = (self.protocols,) if isinstance(self.protocols, str) else tuple(self.protocols)
        object.__setattr__(self, "protocols", protocols)
        unknown = [p for p in protocols if p not in PROTOCOLS]
        if not protocols or unknown or len(set(protocols)) != len(protocols):
            raise ParameterError(
                f"crosscorpus.protocols must list distinct protocols out of {', '.join(PROTOCOLS)}, "
                f"got {list(protocols)}"
            )
        value = self.min_ci_speakers
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"crosscorpus.min_ci_speakers must be an integer >= 1, got {value!r}")


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
        (stage ``manifest``), clips the extraction could not read (stage ``features``), and files
        some backbone gave no finite features for (stage ``crosscorpus``, ``not_embedded``).
    counts : pandas.DataFrame
        Files per corpus: ``corpus``, ``speakers``, ``files``, ``positive``, ``negative``,
        ``unlabelled``, ``evaluated``.
    meta : dict
        ``features``: embedder name -> its feature meta (weights, feature set...; the parts of a
        combination each); ``config``: this config with the bootstrap settings (``n_boot``,
        ``level``, ``seed``) and the logistic regression's parameters (``logreg``); ``clips``,
        ``embed``: the clip and embedding settings; ``backbones`` (combinations included).
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


def default_backbones() -> list[str]:
    """Every backbone of :data:`BACKBONES` whose optional package is installed (a warning for each not)."""
    return installed(BACKBONES)


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
    X: np.ndarray, y: np.ndarray, groups: np.ndarray, train: np.ndarray, test: np.ndarray, logreg: Mapping
) -> tuple[np.ndarray, float, str]:
    """Held-out P(positive), the chosen C and how it was chosen (inner folds grouped by ``groups``)."""
    model = LogisticModel(**logreg).fit(X[train], y[train], groups=groups[train])
    return model.predict_proba(X[test])[:, 1], model.C_, model.C_note_


def _chosen_C(fits: list[tuple[float, str]]) -> tuple[str | None, str | None]:
    """The ``C`` and ``C_selection`` cells of one row from its fits' (C, how)."""
    if not fits:
        return None, None
    cs, hows = Counter(c for c, _ in fits), Counter(h for _, h in fits)
    if len(fits) == 1:
        return f"{fits[0][0]:g}", fits[0][1]
    c_text = ", ".join(f"{c:g} ({n}x)" for c, n in sorted(cs.items())) if len(cs) > 1 else f"{fits[0][0]:g}"
    return c_text, "; ".join(f"{how} ({n}x)" for how, n in hows.items())


def _estimate(
    y: np.ndarray,
    score: np.ndarray,
    speakers: np.ndarray,
    config: CrossCorpusConfig,
    evaluate: EvaluateConfig,
) -> tuple:
    n_speakers = len(np.unique(speakers))
    by_speaker = n_speakers >= config.min_ci_speakers
    est = bootstrap_auc(
        y,
        score,
        groups=speakers if by_speaker else None,
        n_boot=evaluate.n_boot,
        level=evaluate.level,
        seed=evaluate.seed,
    )
    return est.auc, est.low, est.high, "speaker" if by_speaker else "file"


def _evaluate(
    rows: pd.DataFrame,
    features: Mapping[str, np.ndarray],
    metas: Mapping[str, Mapping],
    config: CrossCorpusConfig,
    evaluate: EvaluateConfig,
    logreg: Mapping[str, Any],
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
            chosen: dict[str, list[tuple[float, str]]] = {name: [] for name in sources}
            scored = np.zeros(len(rows), dtype=bool)
            skipped = 0
            for train, test in folds:
                if len(np.unique(y[train])) < 2:
                    skipped += 1
                    continue
                for name, X in sources.items():
                    value, C, how = _fit_score(X, y, speakers, train, test, logreg)
                    scores.setdefault(name, np.full(len(rows), np.nan))[test] = value
                    chosen[name].append((C, how))
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
                _estimate(test_y, scores[DURATION][scored], speakers[scored], config, evaluate)
                if ok
                else (np.nan,) * 3 + (None,)
            )
            for name in features:
                est = (
                    _estimate(test_y, scores[name][scored], speakers[scored], config, evaluate)
                    if ok
                    else (np.nan,) * 3 + (None,)
                )
                C, selection = _chosen_C(chosen[name]) if ok else (None, None)
                table.append(
                    {
                        **base,
                        "backbone": name,
                        "features": " + ".join(
                            describe({"embedder": part, **metas.get(part, {})}) for part in name.split(PLUS)
                        ),
                        **counts,
                        "auc": est[0],
                        "ci_low": est[1],
                        "ci_high": est[2],
                        "ci_unit": est[3],
                        "C": C,
                        "C_selection": selection,
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


def settings_from_params(params: Params) -> dict[str, Any]:
    """The keyword arguments of :func:`crosscorpus` that a params file sets, each from its one section.

    Parameters
    ----------
    params
        A loaded params file (:func:`weaklabel.params.load_params`).

    Returns
    -------
    dict
        ``config`` (section ``crosscorpus``), ``logreg`` (``train.logreg``), ``clips``, ``mel``,
        ``embed`` and ``evaluate`` (their sections), ready for ``crosscorpus(manifests, **settings)``.
    """
    from weaklabel.learn.train import TrainConfig

    return {
        "config": params.section("crosscorpus", CrossCorpusConfig),
        "logreg": params.section("train", TrainConfig).logreg,
        "clips": params.section("clips", ClipConfig),
        "mel": params.section("mel", MelConfig),
        "embed": params.section("embed", EmbedConfig),
        "evaluate": params.section("evaluate", EvaluateConfig),
    }


def crosscorpus(
    manifests: pd.DataFrame | Sequence[pd.DataFrame],
    *,
    backbones: Sequence[str] = ("egemaps", "mel_mean"),
    config: CrossCorpusConfig | None = None,
    logreg: Mapping[str, Any] | None = None,
    clips: ClipConfig | None = None,
    embed: EmbedConfig | None = None,
    mel: MelConfig | None = None,
    evaluate: EvaluateConfig | None = None,
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
        Any embedders of :data:`weaklabel.features.registry.EMBEDDERS` (:data:`BACKBONES`), or
        combinations of them joined by ``+`` (``yamnet+egemaps``: their features side by side).
        ``egemaps`` needs the ``opensmile`` extra; ``vgg16`` uses ``embed.weights`` (``auto`` falls
        back to RANDOM weights offline, which the table says).
    config
        Protocols and the speaker-bootstrap threshold; ``None`` for the defaults.
    logreg
        Parameters of the logistic regression (:class:`~weaklabel.models.logreg.LogisticModel`:
        ``Cs``, ``folds``, ``fallback_C``, ``class_weight``, ``max_iter``), the train stage's
        ``train.logreg``; ``None`` for its defaults.
    clips
        Clip length, rate, seed and window policy (the ``clips`` section; ``random`` by default);
        ``None`` for the defaults.
    embed
        Embedding settings (the ``embed`` section: weights, layer, precision, batch size, shard
        size, threads and eGeMAPS processes, seed of random weights); its ``backbone`` and
        ``features`` are replaced by ``backbones``. ``None`` for the defaults.
    mel
        Mel parameters (the ``mel`` section); ``None`` for the defaults.
    evaluate
        Bootstrap settings (the ``evaluate`` section's ``n_boot``, ``level``, ``seed``); ``None``
        for the defaults.
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
        If a backbone is unknown or listed twice, or a ``logreg`` parameter is unknown.
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
    clips = clips if clips is not None else ClipConfig()
    embed = embed if embed is not None else EmbedConfig()
    evaluate = evaluate if evaluate is not None else EvaluateConfig()
    backbones = list(backbones)
    embedders = list(dict.fromkeys(part for b in backbones for part in b.split(PLUS)))
    unknown = [e for e in embedders if e not in EMBEDDERS]  # the registry itself, as extraction reads it
    repeated = any(len(set(b.split(PLUS))) != len(b.split(PLUS)) for b in backbones)
    if not backbones or unknown or repeated or len(set(backbones)) != len(backbones):
        raise ParameterError(
            f"backbones must be distinct names out of {', '.join(EMBEDDERS)}, or combinations of them "
            f"joined by + (e.g. yamnet+egemaps); got {backbones}"
        )
    logreg = dict(logreg or {})
    unknown = sorted(set(logreg) - set(LogisticModel().get_params()))
    if unknown:
        raise ParameterError(
            f"unknown logistic regression parameter(s) {', '.join(unknown)}; "
            f"it takes {', '.join(LogisticModel().get_params())}"
        )
    frames = [manifests] if isinstance(manifests, pd.DataFrame) else list(manifests)
    if not frames:
        raise DataError("no manifest given: pass at least one labelled manifest")
    manifest = pd.concat(frames, ignore_index=True)
    with tempfile.TemporaryDirectory(prefix="weaklabel-crosscorpus-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        # the embedders named by backbones, with every other embedding setting as given
        embed = replace(embed, backbone=None, features=tuple(embedders))
        return _run(manifest, backbones, config, logreg, clips, embed, mel, evaluate, work)


def _run(
    manifest: pd.DataFrame,
    backbones: list[str],
    config: CrossCorpusConfig,
    logreg: dict[str, Any],
    clips: ClipConfig,
    embed: EmbedConfig,
    mel: MelConfig | None,
    evaluate: EvaluateConfig,
    work: Path,
) -> CrossCorpusResult:
    tables = manifest_tables(manifest, verbose=True)
    rejects: list[dict[str, str]] = (
        tables.rejects.drop(columns="stage").assign(stage="manifest").to_dict("records")
    )
    info = tables.recordings.assign(label=labels_from_manifest(tables.recordings)["label"])
    info = info.rename(columns={"group": "speaker"})
    info["speaker_key"] = info["corpus"] + "/" + info["speaker"]
    labelled = info["label"] != ABSTAIN
    if not labelled.any():
        raise DataError(
            f"none of the {len(info)} usable files carries a label (1 or 0): "
            "check the manifests' label column"
        )

    # only labelled files are embedded: unlabelled ones cannot enter any evaluation
    todo = tables.segments[labelled.to_numpy()].reset_index(drop=True)
    run = extract_features(todo, work / "features", clips=clips, config=embed, mel=mel)
    if run.rejected:
        log.warning("features: %d clips could not be embedded (%s)", run.rejected, run.rejects_by_reason)
    rejects += run.rejects_table().to_dict("records")
    # a NaN row is a clip an embedder could not describe (eGeMAPS on too little audio): not embedded
    embedders = embed.features or ()
    features = {name: run.features(name).dropna() for name in embedders}
    metas = {name: run.meta[name] for name in embedders}
    duration = run.plan.set_index("segment_id")["read_seconds"]  # speech before padding, seconds
    rows = info[labelled].reset_index(drop=True)
    rows["duration"] = rows["segment_id"].map(duration)
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
                    "detail": f"no finite features from {', '.join(absent)}",
                }
            )
    if missing.size:
        log.warning(
            "%d labelled files lack features of some backbone and are left out of every cell", missing.size
        )
    rows = rows[rows["segment_id"].isin(common)].reset_index(drop=True)
    if rows.empty:
        raise DataError("no labelled file could be embedded by every backbone: see the rejects")
    ids = rows["segment_id"]
    matrices = {  # table rows in the order of backbones; a combination's parts side by side
        name: np.hstack([features[part].loc[ids].to_numpy(dtype=np.float64) for part in name.split(PLUS)])
        for name in backbones
    }
    table, predictions = _evaluate(rows, matrices, metas, config, evaluate, logreg)

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
    bootstrap = {"n_boot": evaluate.n_boot, "level": evaluate.level, "seed": evaluate.seed}
    meta = {
        "features": metas,
        "config": {**asdict(config), **bootstrap, "logreg": {**LogisticModel().get_params(), **logreg}},
        "clips": asdict(clips),
        "embed": asdict(embed),
        "backbones": backbones,
    }
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
