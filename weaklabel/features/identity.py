"""Feature identity: when two feature stores are interchangeable, and how to say what made them.

Every embedder records a ``meta`` (written to its store's ``meta.json``, copied into the trained
models' ``bundle.json``). Its keys fall in two kinds:

- **identity**: what the numbers *are* (embedder, layer, pooling, precision, dimension, mel
  parameters, the fingerprint of the actual weight arrays, the feature set and its version...;
  the precision is the one the features were computed in, ``auto`` resolved).
  Two stores with the same identity hold interchangeable features; a model refuses features of
  another identity (:func:`check_identity`).
- **provenance** (:data:`PROVENANCE_KEYS`): where they came from (the clip plan, the shard size,
  which weights and precision were asked for, the weights file's name and hash). These are
  reported, never compared: ``weights: auto`` that resolved to the same weights, or the ImageNet
  file under another name, gives the same features, and the weights *fingerprint* (an identity
  key) catches any real difference in the arrays.

:func:`describe` is the one line that names a backbone and its weights, used by every log and
report (loudly when the weights are random); :func:`weights_kind` says whether a backbone's weights
were learnt (``pretrained``: ImageNet, AudioSet, a weights file), drawn at random (``random``: not
transfer learning), or whether there are none (``none``: hand-crafted eGeMAPS, averaged mels), and
:func:`weights_banner` says it of every backbone of a report in one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from weaklabel.errors import DataError

#: Keys of a store's meta that say where the features came from, not what they are.
PROVENANCE_KEYS = frozenset(
    {
        "clips",
        "shard_size",
        "weights",
        "weights_requested",
        "weights_file",
        "weights_sha256",
        "weights_imagenet",
        "precision_requested",
        "licence",
    }
)


def feature_identity(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a store's (or embedder's) meta that identify its features.

    Parameters
    ----------
    meta
        A store's ``meta.json`` or an embedder's ``meta``.

    Returns
    -------
    dict
        ``meta`` without :data:`PROVENANCE_KEYS`, keys sorted.
    """
    return {key: meta[key] for key in sorted(meta) if key not in PROVENANCE_KEYS}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def check_identity(
    trained: Mapping[str, Any], found: Mapping[str, Any], *, model: str = "", source: str = ""
) -> None:
    """Refuse features whose identity differs from those a model was trained on.

    Parameters
    ----------
    trained
        The meta (or :func:`feature_identity`) of the features the model was trained on.
    found
        The meta of the store or embedder about to feed it.
    model
        Model name, for the message.
    source
        Where ``found`` comes from (a store folder, "this embedder"), for the message.

    Raises
    ------
    DataError
        Naming every identity key that differs, both values, and the fix.

    Examples
    --------
    >>> check_identity({"embedder": "vgg16", "dim": 512}, {"embedder": "vgg16", "dim": 512, "clips": 1})
    """
    expected, actual = feature_identity(trained), feature_identity(found)
    differ = [
        key
        for key in sorted(set(expected) | set(actual))
        if json.dumps(expected.get(key), sort_keys=True, default=str)
        != json.dumps(actual.get(key), sort_keys=True, default=str)
    ]
    if differ:
        detail = "; ".join(
            f"{key}: trained on {_short(expected.get(key))}, found {_short(actual.get(key))}"
            for key in differ
        )
        raise DataError(
            f"model {model or '(unnamed)'} was trained on features that {source or 'these features'} do "
            f"not reproduce ({detail}): compute the features with the backbone, weights and mel settings "
            "the model was trained on (a weights file: --weights PATH), or retrain the model on these"
        )


def is_random(meta: Mapping[str, Any]) -> bool:
    """Whether the features come from a network with random (untrained) weights."""
    return meta.get("weights") == "random"


#: Display names of the backbones (store names); others are shown as they are.
BACKBONE_NAMES = {"vgg16": "VGG16", "yamnet": "YAMNet", "egemaps": "eGeMAPS", "mel_mean": "averaged mels"}
#: What :func:`weights_kind` answers.
WEIGHT_KINDS = ("pretrained", "random", "none")
#: Pretraining data of known ``weights`` values of a meta.
PRETRAINED_ON = {"imagenet": "ImageNet", "audioset": "AudioSet"}


def backbone_name(name: str) -> str:
    """Display name of a store, or of a combination of stores (``yamnet+egemaps``).

    Examples
    --------
    >>> backbone_name("yamnet+egemaps")
    'YAMNet + eGeMAPS'
    """
    return " + ".join(BACKBONE_NAMES.get(part, part) for part in name.split("+"))


def weights_kind(meta: Mapping[str, Any]) -> str:
    """Whether a backbone's weights are ``pretrained``, ``random``, or ``none`` (hand-crafted).

    Parameters
    ----------
    meta
        What made the features: its ``weights`` (``"audioset"``, ``"imagenet"``, ``"file"``,
        ``"random"``, or a note on hand-crafted features) and ``weights_imagenet``.

    Returns
    -------
    kind : str
        One of :data:`WEIGHT_KINDS`: ``random`` for a network with untrained weights;
        ``pretrained`` for learnt weights (ImageNet, AudioSet, a weights file); ``none`` for
        features without learnt weights (eGeMAPS, averaged mels).

    Examples
    --------
    >>> weights_kind({"embedder": "yamnet", "weights": "audioset"})
    'pretrained'
    >>> weights_kind({"embedder": "mel_mean"})
    'none'
    """
    weights = str(meta.get("weights") or "")
    if is_random(meta):
        return "random"
    if weights in PRETRAINED_ON or weights == "file" or meta.get("weights_imagenet"):
        return "pretrained"
    return "none"


def pretrained_on(meta: Mapping[str, Any]) -> str | None:
    """What pretrained weights learnt from (``AudioSet``, ``ImageNet``, ``weights file NAME``); else None."""
    if weights_kind(meta) != "pretrained":
        return None
    weights = str(meta.get("weights") or "")
    if weights in PRETRAINED_ON:
        return PRETRAINED_ON[weights]
    return "ImageNet" if meta.get("weights_imagenet") else f"weights file {meta.get('weights_file')}"


def weights_banner(metas: Mapping[str, Mapping[str, Any]]) -> str:
    """One line saying which backbones are pretrained, which random and which hand-crafted.

    Parameters
    ----------
    metas
        Store name -> its meta, for every backbone a report covers.

    Returns
    -------
    str
        E.g. ``"Pretrained: YAMNet (AudioSet). RANDOM weights (NOT transfer learning): VGG16.
        No learned weights: eGeMAPS, averaged mels."``; kinds with no backbone are left out.

    Examples
    --------
    >>> weights_banner({"yamnet": {"weights": "audioset"}, "vgg16": {"weights": "random"}})
    'Pretrained: YAMNet (AudioSet). RANDOM weights (NOT transfer learning): VGG16.'
    """
    by_kind: dict[str, list[str]] = {kind: [] for kind in WEIGHT_KINDS}
    for name, meta in metas.items():
        kind = weights_kind(meta)
        source = pretrained_on(meta)
        by_kind[kind].append(backbone_name(name) + (f" ({source})" if source else ""))
    titles = {
        "pretrained": "Pretrained",
        "random": "RANDOM weights (NOT transfer learning)",
        "none": "No learned weights",
    }
    return " ".join(f"{titles[kind]}: {', '.join(names)}." for kind, names in by_kind.items() if names)


def describe(meta: Mapping[str, Any]) -> str:
    """One line saying what made a store's features, for logs and the top of every report.

    Parameters
    ----------
    meta
        A store's ``meta.json`` (or an embedder's ``meta``).

    Returns
    -------
    str
        E.g. ``"VGG16 block5_pool avg (512-d), ImageNet weights (sha256 1f3a..), float32"``; random
        weights read ``"... RANDOM VGG16 weights (random:0): NOT transfer learning, smoke test only"``.

    Examples
    --------
    >>> describe({"embedder": "mel_mean", "dim": 128})
    'time-averaged log-mel (128-d) of the padded clip'
    """
    name = meta.get("embedder")
    if name == "vgg16":
        return _describe_vgg16(meta)
    if name == "egemaps":
        return f"openSMILE {meta.get('opensmile', '?')} eGeMAPSv02 functionals (88-d), un-padded audio"
    if name == "yamnet":
        sha = str(meta.get("weights_sha256") or "")
        return (
            f"YAMNet (AudioSet-pretrained MobileNet-v1) {meta.get('pooling', 'mean')} of 0.975 s frame "
            f"embeddings ({meta.get('dim', '?')}-d), un-padded audio"
            + (f" ({meta.get('weights_file')}, sha256 {sha[:16]}..)" if sha else "")
        )
    if name == "mel_mean":
        return f"time-averaged log-mel ({meta.get('dim', '?')}-d) of the padded clip"
    return f"{name} features ({meta.get('dim')}-d)"


def _describe_vgg16(meta: Mapping[str, Any]) -> str:
    head = f"VGG16 {meta.get('layer')} avg ({meta.get('dim')}-d)"
    sha, precision, name = (
        str(meta.get("weights_sha256", "")),
        meta.get("precision"),
        meta.get("weights_file"),
    )
    if is_random(meta):
        why = (
            " (imagenet unavailable, embed.weights: auto)" if meta.get("weights_requested") == "auto" else ""
        )
        return (
            f"{head}, RANDOM VGG16 weights ({sha}){why}: NOT transfer learning, smoke test only, {precision}"
        )
    if meta.get("weights_imagenet"):
        return f"{head}, ImageNet weights ({name}, sha256 {sha[:16]}..), {precision}"
    return f"{head}, weights from {name} (sha256 {sha[:16]}..; NOT the Keras ImageNet file), {precision}"
