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

A corpus is what the manifests' ``corpus`` column says, not which input a file came from: files of
one corpus from several manifests are one corpus (:func:`merge_inputs`; names that differ only in
case or surrounding spaces are one name), and the result says so (``emodb: merged from 2
inputs``), so leaving a corpus out never trains on the rest of it. Speakers are counted on the
evaluated (labelled, embedded) files. A corpus with fewer than :data:`MIN_TEST_SPEAKERS` speakers
is never tested: in ``loco`` it only trains the other corpora's cells, in ``within`` no speaker can
be left out; such cells get no table row but a line in ``untested`` with the reason (as do cells
whose test rows hold one class).

Every cell reports the ROC AUC with a bootstrap confidence interval that resamples **speakers**
(:func:`weaklabel.metrics.bootstrap_auc`), and beside it the **duration-only baseline** on the
same rows and folds: the train stage's ``duration`` model
(:class:`~weaklabel.models.baselines.DurationModel`, a logistic regression on the clip's speech
duration before padding, parameters ``train.duration``). A representation that does no better than
duration has learnt sentence length, not voice. :func:`mean_auc` averages the cells of each protocol
and backbone over held-out corpora twice: each corpus weighing the same, and each file.

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
from weaklabel.models.base import Model
from weaklabel.models.baselines import DurationModel
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
#: Fewest speakers (among its evaluated files) a corpus needs to be tested on; fewer: it only trains.
MIN_TEST_SPEAKERS = 2

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
        ("status", pa.string()),  # "ok", or "ok (k of n folds skipped: ...)" in within
    ]
)

#: Cells not evaluated, one row per (protocol, test corpus), and why (:attr:`CrossCorpusResult.untested`).
UNTESTED_COLUMNS = ("protocol", "test_corpus", "reason")
#: Means over held-out corpora per protocol and backbone (:func:`mean_auc`).
MEANS_COLUMNS = (
    "protocol",
    "backbone",
    "corpora",
    "files",
    "mean_auc",  # each corpus weighs the same
    "weighted_auc",  # each corpus weighs its test files
    "mean_duration_auc",
    "weighted_duration_auc",
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
        One row per evaluated (protocol, test corpus, backbone), columns of :data:`TABLE_SCHEMA`.
    untested : pandas.DataFrame
        The (protocol, test corpus) cells that were not evaluated, with the reason
        (:data:`UNTESTED_COLUMNS`): a corpus of fewer than :data:`MIN_TEST_SPEAKERS` speakers, no
        other corpus to train on, or test rows of one class.
    means : pandas.DataFrame
        :func:`mean_auc` of the table (:data:`MEANS_COLUMNS`).
    predictions : pandas.DataFrame
        Held-out scores, columns of :data:`PREDICTIONS_SCHEMA`.
    rejects : pandas.DataFrame
        Files not evaluated, with a reason (:data:`weaklabel.tables.REJECTS_SCHEMA`): unusable files
        (stage ``manifest``), clips the extraction could not read (stage ``features``), and files
        some backbone gave no finite features for (stage ``crosscorpus``, ``not_embedded``).
    counts : pandas.DataFrame
        Files per corpus: ``corpus``, ``speakers`` (among the evaluated files), ``files``
        (manifest rows), ``unlabelled``, ``rejected``, ``evaluated`` and its ``positive`` and
        ``negative``: ``files = unlabelled + rejected + evaluated``.
    notes : list of str
        What the reader must know about the corpora: inputs merged into one corpus, speaker groups
        with no labelled file, why files are unlabelled.
    meta : dict
        ``features``: embedder name -> its feature meta (weights, feature set...; the parts of a
        combination each); ``config``: this config with the bootstrap settings (``n_boot``,
        ``level``, ``seed``) and the logistic regression's parameters (``logreg``); ``clips``,
        ``embed``: the clip and embedding settings; ``backbones`` (combinations included).
    """

    table: pd.DataFrame
    untested: pd.DataFrame
    means: pd.DataFrame
    predictions: pd.DataFrame
    rejects: pd.DataFrame
    counts: pd.DataFrame
    notes: list[str] = field(default_factory=list)
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


def merge_inputs(inputs: Sequence[pd.DataFrame]) -> tuple[pd.DataFrame, list[str]]:
    """One manifest from several inputs, each file in the corpus its ``corpus`` column names.

    The folds follow the ``corpus`` column, never the input a file came from: the halves of one
    corpus given as two manifests are one corpus (leaving it out must not train on its other half).
    Names that differ only in case or surrounding spaces (``EmoDB``, ``emodb``) are one corpus,
    named as first spelt.

    Parameters
    ----------
    inputs
        Manifests (``path``, ``label``, ``group``, ``corpus``, ...), e.g. from :func:`load_manifest`.

    Returns
    -------
    manifest : pandas.DataFrame
        The inputs' rows in order, ``corpus`` spelt one way per corpus.
    notes : list of str
        One line per corpus that more than one input holds (``"emodb: merged from 2 inputs"``,
        with the spellings when they differ).

    Examples
    --------
    >>> a = pd.DataFrame({"path": ["a.wav"], "corpus": ["EmoDB"]})
    >>> b = pd.DataFrame({"path": ["b.wav"], "corpus": ["emodb "]})
    >>> manifest, notes = merge_inputs([a, b])
    >>> manifest["corpus"].tolist(), notes
    (['EmoDB', 'EmoDB'], ['EmoDB: merged from 2 inputs (spelt EmoDB, emodb)'])
    """
    names: dict[str, str] = {}  # case-folded name -> its first spelling
    spellings: dict[str, set[str]] = {}
    held: Counter[str] = Counter()  # corpus -> inputs holding it
    frames = []
    for frame in inputs:
        if "corpus" in frame:
            spelt = frame["corpus"].map(lambda v: v.strip() if isinstance(v, str) else v)
            keys = spelt.map(lambda v: v.casefold() if isinstance(v, str) else v)
            for key, name in zip(keys, spelt, strict=True):
                if isinstance(key, str):
                    names.setdefault(key, name)
                    spellings.setdefault(key, set()).add(name)
            frame = frame.assign(corpus=[names.get(k, v) for k, v in zip(keys, spelt, strict=True)])
            held.update({names[k] for k in set(keys) if isinstance(k, str)})
        frames.append(frame)
    notes = []
    for key, name in names.items():
        if held[name] > 1 or len(spellings[key]) > 1:
            spelt_as = f" (spelt {', '.join(sorted(spellings[key]))})" if len(spellings[key]) > 1 else ""
            inputs_text = f"merged from {held[name]} inputs" if held[name] > 1 else "one corpus"
            notes.append(f"{name}: {inputs_text}{spelt_as}")
    for note in notes:
        log.info("crosscorpus: %s", note)
    return pd.concat(frames, ignore_index=True), notes


def _check_params(model: type[Model], params: Mapping[str, Any], section: str) -> dict[str, Any]:
    """``params`` as a dict, or a ParameterError naming the keys ``model`` does not take."""
    params = dict(params or {})
    known = model().get_params()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ParameterError(
            f"{section}: unknown parameter(s) {', '.join(unknown)}; it takes {', '.join(known)}"
        )
    return params


# ---------------------------------------------------------------------------------- evaluation
def _count(n: int, noun: str) -> str:
    """``"1 speaker"``, ``"2 speakers"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _cells(rows: pd.DataFrame, protocol: str) -> list[tuple[str, list[str], list, str | None]]:
    """(test corpus, train corpora, [(train mask, test mask), ...], why untested or None) per cell."""
    corpora = sorted(rows["corpus"].unique())
    cells = []
    for corpus in corpora:
        in_corpus = (rows["corpus"] == corpus).to_numpy()
        speakers = sorted(rows.loc[in_corpus, "speaker"].unique())
        few = len(speakers) < MIN_TEST_SPEAKERS
        if protocol == "loco":
            others = [c for c in corpora if c != corpus]
            reason = (
                "no other corpus to train on"
                if not others
                else f"{_count(len(speakers), 'speaker')}: too few to test (it only trains)"
                if few
                else None
            )
            cells.append((corpus, others, [(~in_corpus, in_corpus)], reason))
            continue
        reason = f"{_count(len(speakers), 'speaker')}: leaving one speaker out needs >= {MIN_TEST_SPEAKERS}"
        folds = [
            (in_corpus & (rows["speaker"] != s).to_numpy(), in_corpus & (rows["speaker"] == s).to_numpy())
            for s in speakers
        ]
        cells.append((corpus, [corpus], folds, reason if few else None))
    return cells


def _fit_score(
    model: Model, X: np.ndarray, y: np.ndarray, groups: np.ndarray, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """Held-out P(positive) of ``model`` fitted on the training rows (inner folds grouped by ``groups``)."""
    return model.fit(X[train], y[train], groups=groups[train]).predict_proba(X[test])[:, 1]


def _chosen_C(fits: list[tuple[float, str]]) -> tuple[str | None, str | None]:
    """The ``C`` and ``C_selection`` cells of one row from its fits' (C, how)."""
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
    duration: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The table, the cells not evaluated (and why) and the held-out predictions."""
    y = rows["label"].to_numpy(dtype=np.int64)
    speakers = rows["speaker_key"].to_numpy()
    sources = {DURATION: rows[["duration"]].to_numpy(dtype=np.float64), **features}
    models = {DURATION: lambda: DurationModel(**duration)} | {
        name: (lambda: LogisticModel(**logreg)) for name in features
    }
    table, untested, predictions = [], [], []
    for protocol in config.protocols:
        for corpus, train_corpora, folds, reason in _cells(rows, protocol):
            if reason is not None:
                untested.append({"protocol": protocol, "test_corpus": corpus, "reason": reason})
                continue
            scores = {name: np.full(len(rows), np.nan) for name in sources}
            chosen: dict[str, list[tuple[float, str]]] = {name: [] for name in features}
            scored = np.zeros(len(rows), dtype=bool)
            skipped = 0
            for train, test in folds:
                if len(np.unique(y[train])) < 2:
                    skipped += 1
                    continue
                for name, X in sources.items():
                    model = models[name]()
                    scores[name][test] = _fit_score(model, X, y, speakers, train, test)
                    if name in chosen:
                        chosen[name].append((model.C_, model.C_note_))
                scored |= test
            test_y = y[scored]
            reason = (
                "the training rows of every fold hold one class"
                if not scored.any()
                else "the test rows hold one class: AUC undefined"
                if len(np.unique(test_y)) < 2
                else None
            )
            if reason is not None:
                untested.append({"protocol": protocol, "test_corpus": corpus, "reason": reason})
                continue
            status = (
                f"ok ({skipped} of {len(folds)} folds skipped: training rows lacked a class)"
                if skipped
                else "ok"
            )
            train_rows = folds[0][0] if protocol == "loco" else (rows["corpus"] == corpus).to_numpy()
            counts = {
                "protocol": protocol,
                "test_corpus": corpus,
                "train_corpora": ",".join(train_corpora),
                "n_train": int(train_rows.sum()),
                "n_train_speakers": int(len(np.unique(speakers[train_rows]))),
                "n_test": int(scored.sum()),
                "n_test_pos": int((test_y == 1).sum()),
                "n_test_neg": int((test_y == 0).sum()),
                "n_test_speakers": int(len(np.unique(speakers[scored]))),
            }
            estimates = {
                name: _estimate(test_y, values[scored], speakers[scored], config, evaluate)
                for name, values in scores.items()
            }
            for name in features:
                C, selection = _chosen_C(chosen[name])
                table.append(
                    {
                        **counts,
                        "backbone": name,
                        "features": " + ".join(
                            describe({"embedder": part, **metas.get(part, {})}) for part in name.split(PLUS)
                        ),
                        "auc": estimates[name][0],
                        "ci_low": estimates[name][1],
                        "ci_high": estimates[name][2],
                        "ci_unit": estimates[name][3],
                        "C": C,
                        "C_selection": selection,
                        "duration_auc": estimates[DURATION][0],
                        "duration_ci_low": estimates[DURATION][1],
                        "duration_ci_high": estimates[DURATION][2],
                        "status": status,
                    }
                )
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
    return table_frame, pd.DataFrame(untested, columns=list(UNTESTED_COLUMNS)), preds


def mean_auc(table: pd.DataFrame) -> pd.DataFrame:
    """Mean ROC AUC over held-out corpora per protocol and backbone: corpora equal, and files equal.

    The plain mean lets a 10-file corpus weigh as much as a 400-file one; the mean weighted by
    each cell's test files (``n_test``) lets the largest corpus dominate. Neither alone is the
    answer: read them together, and the rows.

    Parameters
    ----------
    table
        :attr:`CrossCorpusResult.table` (columns of :data:`TABLE_SCHEMA`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`MEANS_COLUMNS`, one row per protocol and backbone (in table order): the
        cells' count (``corpora``) and test files (``files``), the plain and weighted means of
        ``auc`` and of ``duration_auc``.

    Examples
    --------
    >>> t = pd.DataFrame({"protocol": ["loco"] * 2, "backbone": ["b"] * 2, "n_test": [10, 390],
    ...                   "auc": [1.0, 0.6], "duration_auc": [1.0, 0.5]})
    >>> mean_auc(t)[["mean_auc", "weighted_auc"]].round(2).values.tolist()
    [[0.8, 0.61]]
    """
    rows = []
    for (protocol, backbone), cells in table.groupby(["protocol", "backbone"], sort=False):
        weights = cells["n_test"].to_numpy(dtype=np.float64)
        rows.append(
            {
                "protocol": protocol,
                "backbone": backbone,
                "corpora": len(cells),
                "files": int(weights.sum()),
                "mean_auc": float(cells["auc"].mean()),
                "weighted_auc": float(np.average(cells["auc"], weights=weights)),
                "mean_duration_auc": float(cells["duration_auc"].mean()),
                "weighted_duration_auc": float(np.average(cells["duration_auc"], weights=weights)),
            }
        )
    return pd.DataFrame(rows, columns=list(MEANS_COLUMNS))


def settings_from_params(params: Params) -> dict[str, Any]:
    """The keyword arguments of :func:`crosscorpus` that a params file sets, each from its one section.

    Parameters
    ----------
    params
        A loaded params file (:func:`weaklabel.params.load_params`).

    Returns
    -------
    dict
        ``config`` (section ``crosscorpus``), ``logreg`` and ``duration`` (``train.logreg``,
        ``train.duration``), ``clips``, ``mel``, ``embed`` and ``evaluate`` (their sections), ready
        for ``crosscorpus(manifests, **settings)``.
    """
    from weaklabel.learn.train import TrainConfig

    train = params.section("train", TrainConfig)
    return {
        "config": params.section("crosscorpus", CrossCorpusConfig),
        "logreg": train.logreg,
        "duration": train.duration,
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
    duration: Mapping[str, Any] | None = None,
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
        Labelled manifests (``path``, ``label`` 1/0/None, ``group`` = speaker, ``corpus``), or one
        frame holding several: from :func:`load_manifest` or :mod:`weaklabel.sources.recordings`.
        Their ``corpus`` column decides the folds (:func:`merge_inputs`): several manifests of one
        corpus are one corpus.
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
    duration
        Parameters of the duration-only baseline (:class:`~weaklabel.models.baselines.DurationModel`:
        ``C``, ``class_weight``), the train stage's ``train.duration``; ``None`` for its defaults.
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
        The table (one row per evaluated protocol, test corpus and backbone, the duration baseline
        beside each), the cells not evaluated and why, the means over corpora, held-out
        predictions, rejects, counts per corpus, notes and the features' metadata.

    Raises
    ------
    ParameterError
        If a backbone is unknown or listed twice, or a ``logreg`` or ``duration`` parameter is
        unknown.
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
    models = {
        "logreg": _check_params(LogisticModel, logreg or {}, "train.logreg (logistic regression)"),
        "duration": _check_params(DurationModel, duration or {}, "train.duration (duration baseline)"),
    }
    frames = [manifests] if isinstance(manifests, pd.DataFrame) else list(manifests)
    if not frames:
        raise DataError("no manifest given: pass at least one labelled manifest")
    manifest, notes = merge_inputs(frames)
    with tempfile.TemporaryDirectory(prefix="weaklabel-crosscorpus-") as tmp:
        work = Path(work_dir) if work_dir is not None else Path(tmp)
        # the embedders named by backbones, with every other embedding setting as given
        embed = replace(embed, backbone=None, features=tuple(embedders))
        return _run(manifest, notes, backbones, config, models, clips, embed, mel, evaluate, work)


def _run(
    manifest: pd.DataFrame,
    notes: list[str],
    backbones: list[str],
    config: CrossCorpusConfig,
    models: dict[str, dict[str, Any]],
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
    table, untested, predictions = _evaluate(
        rows, matrices, metas, config, evaluate, models["logreg"], models["duration"]
    )
    rejects_table = _rejects(rejects)
    counts = _counts(manifest, info, rows, rejects_table)
    notes = [*notes, *_corpus_notes(info, rows)]
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
        "config": {
            **asdict(config),
            **bootstrap,
            "min_test_speakers": MIN_TEST_SPEAKERS,
            "logreg": {**LogisticModel().get_params(), **models["logreg"]},
            "duration": {**DurationModel().get_params(), **models["duration"]},
        },
        "clips": asdict(clips),
        "embed": asdict(embed),
        "backbones": backbones,
    }
    return CrossCorpusResult(
        table=table,
        untested=untested,
        means=mean_auc(table),
        predictions=predictions,
        rejects=rejects_table,
        counts=counts,
        notes=notes,
        meta=meta,
    )


def _counts(
    manifest: pd.DataFrame, info: pd.DataFrame, rows: pd.DataFrame, rejects: pd.DataFrame
) -> pd.DataFrame:
    """Files per corpus, ``files = unlabelled + rejected + evaluated`` (see :class:`CrossCorpusResult`)."""
    corpus_in = manifest["corpus"].astype(object).where(manifest["corpus"].notna(), "unknown").astype(str)
    corpus_of = info.set_index("segment_id")["corpus"]
    later = rejects.loc[rejects["stage"] != "manifest", "key"].map(corpus_of)  # features, not embedded
    counts = pd.DataFrame(
        {
            "speakers": rows.groupby("corpus")["speaker"].nunique(),
            "files": corpus_in.value_counts(),
            "unlabelled": info[info["label"] == ABSTAIN]["corpus"].value_counts(),
            # a manifest reject is a row in that did not become a recording
            "rejected": corpus_in.value_counts()
            .sub(info["corpus"].value_counts(), fill_value=0)
            .add(later.value_counts(), fill_value=0),
            "evaluated": rows["corpus"].value_counts(),
            "positive": rows.loc[rows["label"] == 1, "corpus"].value_counts(),
            "negative": rows.loc[rows["label"] == 0, "corpus"].value_counts(),
        }
    )
    counts = counts.fillna(0).astype(np.int64).rename_axis("corpus").sort_index().reset_index()
    return counts


def _corpus_notes(info: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Per corpus: speaker groups without an evaluated file, and why files are unlabelled."""
    notes = []
    for corpus, files in info.groupby("corpus"):
        silent = sorted(set(files["speaker"]) - set(rows.loc[rows["corpus"] == corpus, "speaker"]))
        if silent:
            files_of_silent = _count(int(files["speaker"].isin(silent).sum()), "file")
            notes.append(
                f"{corpus}: speaker group(s) {', '.join(silent)} have no evaluated file "
                f"({files_of_silent}): not counted among its speakers"
            )
        unlabelled = files[files["label"] == ABSTAIN]
        if len(unlabelled):
            why = unlabelled["emotion"].astype(object).where(unlabelled["emotion"].notna(), "none given")
            reasons = ", ".join(f"{name} {n}" for name, n in why.value_counts().items())
            notes.append(
                f"{corpus}: {_count(len(unlabelled), 'file')} unlabelled, not scored (emotion: {reasons})"
            )
    return notes


def _rejects(rows: list[dict[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=REJECTS_SCHEMA.names)
    frame["detail"] = frame["detail"].fillna("")
    return (
        frame.astype({name: "string" for name in REJECTS_SCHEMA.names})
        if len(frame)
        else rejects_frame([], stage=STAGE)
    )
