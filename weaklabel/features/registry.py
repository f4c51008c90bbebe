"""Which backbones exist and how each is built: the embedder interface, ``embed`` settings, registry.

An embedder is any callable class over a batch (:class:`Embedder`); :data:`EMBEDDERS` maps the names
in ``embed.backbones`` to factories ``(EmbedConfig, MelConfig) -> Embedder``. A new backbone is one
module implementing :class:`Embedder` and one line in :data:`EMBEDDERS`: the features stage, the
probe and cross-corpus evaluation, which all run :func:`weaklabel.features.extract.extract_features`,
then offer it unchanged. ``embed.backbones`` lists the backbones to run (default
:data:`DEFAULT_BACKBONES`: ``vgg16``, ``yamnet``, ``egemaps``); the time-averaged mel the baselines
read always comes along (:data:`ALWAYS`). Backbones whose package is optional (:data:`OPTIONAL`) and
not installed are left out with a warning when they come from the default list, and fail when a
list of one's own names them (:func:`installed`, :func:`make_embedders`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import InitVar, dataclass
from typing import Any, Protocol

import numpy as np

from weaklabel.audio.mel import MelConfig
from weaklabel.errors import ParameterError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the extraction loop (and a Ray Data ``map_batches`` adapter) needs of an embedder.

    Attributes
    ----------
    name : str
        Store folder name, e.g. ``"vgg16"``.
    dim : int
        Embedding size.
    meta : dict
        JSON-serialisable description of how the features are made (goes to ``meta.json``).
    mel_config : MelConfig or None
        Optional: when it equals the run's mel parameters, batches carry a precomputed
        ``"mel"`` (n, n_mels, frames) so that it is computed once for all embedders.
    status_codes : tuple of str
        Optional: the codes the per-row ``"status"`` it returns may hold besides ``""`` (e.g.
        YAMNet's ``short_padded``); the run counts the clips given each, zeros included
        (:attr:`ExtractSummary.clip_status`).
    """

    name: str
    dim: int
    meta: dict[str, Any]

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``{"audio": (n, samples)[, "mel": ...]} -> {"embedding": (n, dim) float32[, "status": (n,)]}``."""
        ...


#: The backbones of a default run (params ``embed.backbones``), the order stores are filled in.
#: With exactly these (in any order), an :data:`OPTIONAL` one whose package is missing is left out
#: with a warning; the time-averaged mel (:data:`ALWAYS`) comes along.
DEFAULT_BACKBONES: tuple[str, ...] = ("vgg16", "yamnet", "egemaps")
#: The embedder every ``backbones`` list brings along: the mel baselines (``dense_mel``...) read it.
ALWAYS = "mel_mean"
#: The removed ``embed.backbone`` values -> the ``embed.backbones`` list that replaces each.
_BACKBONE_LISTS = {"vgg16": ["vgg16"], "egemaps": ["egemaps"], "both": ["vgg16", "egemaps"]}


def _backbone_removed(value: object) -> ParameterError:
    """The error for a params file that still says ``embed.backbone``: what to write instead."""
    listed = _BACKBONE_LISTS.get(str(value))
    instead = (
        f"backbones: [{', '.join(listed)}]"
        if listed
        else f"backbones: [...] with names out of {', '.join(n for n in EMBEDDERS if n != ALWAYS)}"
    )
    return ParameterError(
        f"embed.backbone was replaced by the list embed.backbones: instead of `backbone: {value}` write "
        f"`{instead}` in the embed section of params.yaml (the time-averaged mel always comes along; "
        f"the default, [{', '.join(DEFAULT_BACKBONES)}], adds the AudioSet-pretrained YAMNet)"
    )


@dataclass(frozen=True)
class EmbedConfig:
    """How features are extracted (the ``embed`` section of params.yaml).

    Attributes
    ----------
    backbones
        Backbones to embed with, names of :data:`EMBEDDERS`, each filling ``<out>/<name>/``:
        ``vgg16`` (log-mel images through VGG16), ``yamnet`` (AudioSet-pretrained YAMNet on the
        un-padded audio), ``egemaps`` (openSMILE eGeMAPS functionals); the time-averaged mel
        (``mel_mean``) always comes along. Default :data:`DEFAULT_BACKBONES`. With exactly the
        default backbones, an :data:`OPTIONAL` one whose package is not installed (``egemaps``
        without the ``opensmile`` extra, ``yamnet`` without ``ai-edge-litert``) is left out with a
        warning; any other list that names it fails, saying how to install it.
    weights
        VGG16 weights: ``auto`` (ImageNet when available, else random with a warning),
        ``imagenet``, ``random`` (smoke tests only) or the path of a ``.h5`` file.
    layer
        VGG16 layer, globally average-pooled: ``block5_pool`` (512-d) or ``block3_conv3`` (256-d).
    precision
        VGG16 compute precision: ``auto`` (default: ``bfloat16`` where the CPU has native bfloat16
        instructions or TensorFlow sees a GPU, else ``float32``; the store records the resolved
        one), ``float32`` or ``bfloat16`` (Keras mixed precision). YAMNet and eGeMAPS run float32.
    yamnet_pooling
        YAMNet clip vector from its 0.48 s frame embeddings: ``mean`` (1024-d) or ``mean+std``
        (2048-d).
    yamnet_weights
        A copy of YAMNet's ``yamnet.tflite`` (its sha256 is checked); ``""`` for the packaged file.
    batch_size
        Clips per model call (the last batch of a shard is zero-padded).
    shard_size
        Clips per store shard: the unit of memory and of resumption.
    workers
        Producer threads that read clips and compute mels while the model runs; also the
        eGeMAPS worker processes and the YAMNet interpreters (one thread each).
    seed
        Seed of random weights.
    features
        For library callers that need an exact set (cross-corpus evaluation, the probe): the
        embedders to run, names of :data:`EMBEDDERS`, nothing added and nothing left out;
        ``None`` (the default) runs ``backbones`` and :data:`ALWAYS`.
    backbone
        Removed: any value raises a :class:`~weaklabel.errors.ParameterError` that says which
        ``backbones`` list to write instead.
    """

    backbones: tuple[str, ...] = DEFAULT_BACKBONES
    weights: str = "auto"
    layer: str = "block5_pool"
    precision: str = "auto"
    yamnet_pooling: str = "mean"
    yamnet_weights: str = ""
    batch_size: int = 16
    shard_size: int = 512
    workers: int = 2
    seed: int = 0
    features: tuple[str, ...] | None = None
    backbone: InitVar[str | None] = None

    def __post_init__(self, backbone: str | None) -> None:
        if backbone is not None:
            raise _backbone_removed(backbone)
        object.__setattr__(self, "backbones", _names("embed.backbones", self.backbones))
        if self.features is not None:
            object.__setattr__(self, "features", _names("embed.features", self.features))
        for name in ("batch_size", "shard_size", "workers"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"embed.{name} must be >= 1, got {getattr(self, name)}")
        from weaklabel.features.vgg16 import PRECISIONS  # light: TensorFlow loads with a model only
        from weaklabel.features.yamnet import POOLINGS

        if self.precision not in PRECISIONS:
            raise ParameterError(
                f"embed.precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if self.yamnet_pooling not in POOLINGS:
            raise ParameterError(
                f"embed.yamnet_pooling must be one of {', '.join(POOLINGS)}, got {self.yamnet_pooling!r}"
            )

    @property
    def embedder_names(self) -> tuple[str, ...]:
        """The embedders a run builds: ``features`` when given, else ``backbones`` and :data:`ALWAYS`."""
        if self.features is not None:
            return self.features
        return self.backbones if ALWAYS in self.backbones else (*self.backbones, ALWAYS)

    @property
    def optional_may_be_missing(self) -> bool:
        """Whether an :data:`OPTIONAL` embedder without its package is left out (with a warning).

        True for the default backbones (in any order), as params.yaml ships them; a list of one's
        own, or ``features``, means every name in it was asked for.
        """
        return self.features is None and set(self.backbones) == set(DEFAULT_BACKBONES)


def _names(key: str, names: object) -> tuple[str, ...]:
    """``names`` as a tuple of distinct embedder names, or a ParameterError naming ``key``."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        example = f"[{names}]" if isinstance(names, str) else f"[{', '.join(DEFAULT_BACKBONES)}]"
        raise ParameterError(f"{key} must be a list of embedder names, got {names!r}; e.g. {example}")
    names = tuple(names)
    unknown = [name for name in names if name not in EMBEDDERS]
    if not names or unknown or len(set(names)) != len(names):
        raise ParameterError(
            f"{key} must list distinct embedders out of {', '.join(EMBEDDERS)}, got {list(names)}"
        )
    return names


def _vgg16(config: EmbedConfig, mel: MelConfig) -> Embedder:
    from weaklabel.features.vgg16 import VGG16Embedder

    return VGG16Embedder(
        weights=config.weights,
        layer=config.layer,
        precision=config.precision,
        batch_size=config.batch_size,
        seed=config.seed,
        mel=mel,
    )


def _yamnet(config: EmbedConfig, mel: MelConfig) -> Embedder:
    from weaklabel.features.yamnet import YAMNetEmbedder

    return YAMNetEmbedder(
        weights=config.yamnet_weights or None,
        pooling=config.yamnet_pooling,
        threads=config.workers,
        sample_rate=mel.sample_rate,
    )


def _mel_mean(config: EmbedConfig, mel: MelConfig) -> Embedder:
    from weaklabel.features.mel_mean import MelMeanEmbedder

    return MelMeanEmbedder(mel=mel)


def _egemaps(config: EmbedConfig, mel: MelConfig) -> Embedder:
    from weaklabel.features.egemaps import EgemapsEmbedder

    return EgemapsEmbedder(workers=config.workers, sample_rate=mel.sample_rate)


def _opensmile_missing() -> str | None:
    from weaklabel.features.egemaps import INSTALL_HINT, egemaps_available

    return None if egemaps_available() else f"the opensmile package is not installed; {INSTALL_HINT}"


def _litert_missing() -> str | None:
    from weaklabel.features.yamnet import LITERT_REQUIREMENT, yamnet_available

    return (
        None
        if yamnet_available()
        else f"the LiteRT interpreter is not installed; `pip install '{LITERT_REQUIREMENT}'`"
    )


#: Embedder name -> factory ``(EmbedConfig, MelConfig) -> Embedder``; add new backbones here. The
#: order is the order reports list backbones in (e.g. the rows of the cross-corpus table).
EMBEDDERS: dict[str, Callable[[EmbedConfig, MelConfig], Embedder]] = {
    "egemaps": _egemaps,
    "yamnet": _yamnet,
    "vgg16": _vgg16,
    "mel_mean": _mel_mean,
}
#: Embedders that need a package weaklabel may run without -> what is missing (``None`` when
#: installed). The default backbones leave such an embedder out with a warning; named in a list of
#: one's own, it fails.
OPTIONAL: dict[str, Callable[[], str | None]] = {"egemaps": _opensmile_missing, "yamnet": _litert_missing}


def installed(names: Sequence[str]) -> list[str]:
    """``names`` without the :data:`OPTIONAL` embedders whose package is missing, each with a warning.

    Parameters
    ----------
    names
        Embedder names (of :data:`EMBEDDERS`).

    Returns
    -------
    list of str
        The names whose packages are installed, in order.
    """
    kept = []
    for name in names:
        missing = OPTIONAL[name]() if name in OPTIONAL else None
        if missing:
            log.warning("backbone %s left out: %s", name, missing)
        else:
            kept.append(name)
    return kept


def make_embedders(config: EmbedConfig | None = None, *, mel: MelConfig | None = None) -> list[Embedder]:
    """Build the embedders of ``config.embedder_names`` (``config.backbones`` and the averaged mel).

    With the default backbones, an :data:`OPTIONAL` embedder whose package is not installed is
    left out with a warning (the other backbones still run); named in a list of one's own, or in
    ``config.features``, it fails.

    Raises
    ------
    MissingDependencyError
        If an embedder's package, model or weights cannot be had (e.g. ImageNet weights offline),
        saying how to get them.
    """
    config = config if config is not None else EmbedConfig()
    mel = mel if mel is not None else MelConfig()
    names = config.embedder_names
    names = installed(names) if config.optional_may_be_missing else names
    return [EMBEDDERS[name](config, mel) for name in names]
