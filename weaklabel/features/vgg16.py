"""Frozen VGG16 embeddings of log-mel spectrogram images.

:class:`VGG16Embedder` is a callable class over a batch (the shape Ray Data's ``map_batches``
wants): ``embedder({"audio": (n, samples)}) -> {"embedding": (n, dim)}``. It turns each clip into
a log-mel image (:mod:`weaklabel.audio.mel`), runs the ImageNet VGG16 convolutional base up to ``layer``
and averages that layer's feature maps over time and frequency (global average pooling).

Weights (``weights``):

``"imagenet"``
    Keras' own ImageNet file :data:`IMAGENET_FILE`, taken from the Keras cache
    (``~/.keras/models``, or ``$KERAS_HOME/models``) when it is there, else downloaded by Keras
    into that cache. Offline and absent: :class:`~weaklabel.errors.MissingDependencyError` naming
    the file and the folder to put it in.
``"/path/to/file.h5"``
    A local copy of those weights (legacy ``.h5``) or any VGG16-notop weights Keras can load
    (``.weights.h5``).
``"random"``
    Seeded random weights (Glorot-uniform kernels, zero biases): smoke tests only, never
    transfer learning.
``"auto"``
    ``"imagenet"`` when it can be had, else ``"random"`` with a loud WARNING.

What was used is recorded in :attr:`VGG16Embedder.meta` (and so in the feature store): the weights
kind, the file's sha256 (``"random:<seed>"`` for random weights), whether the file is the verified
ImageNet file, and a fingerprint of the actual weight arrays, so that a random backbone can never
pass for transfer learning and a later stage can check the backbone is the same and unchanged
(:meth:`VGG16Embedder.check_frozen`; the one-line description is
:func:`weaklabel.features.identity.describe`).

TensorFlow and Keras are imported only when an embedder is built.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from weaklabel.audio.mel import MelConfig, batch_mel, to_vgg_image
from weaklabel.errors import (
    DataError,
    MissingDependencyError,
    ParameterError,
    import_keras,
    import_tensorflow,
)
from weaklabel.features.identity import describe

log = logging.getLogger(__name__)

#: The Keras file of ImageNet VGG16 weights without the classifier ("notop").
IMAGENET_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
#: Where Keras downloads it from.
IMAGENET_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/vgg16/{IMAGENET_FILE}"
#: Its md5, as Keras checks it.
IMAGENET_MD5 = "6d6bbae143d832006294945121d1f1fc"

#: Layers of the VGG16 convolutional base an embedding can be cut at, with their channel count.
LAYERS: dict[str, int] = {
    **{f"block{b}_conv{c}": ch for b, ch, n in [(1, 64, 2), (2, 128, 2)] for c in range(1, n + 1)},
    **{f"block{b}_conv{c}": ch for b, ch in [(3, 256), (4, 512), (5, 512)] for c in (1, 2, 3)},
    **{f"block{b}_pool": ch for b, ch in [(1, 64), (2, 128), (3, 256), (4, 512), (5, 512)]},
}
#: Weight settings other than a file path.
WEIGHT_KEYWORDS = ("imagenet", "random", "auto")
#: ``precision`` settings: ``auto`` resolves per machine (:func:`resolve_precision`).
PRECISIONS = ("auto", "float32", "bfloat16")
#: CPU flags (``/proc/cpuinfo``) of native bfloat16 arithmetic: x86 AVX512-BF16 and AMX, Arm BF16.
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


@dataclass(frozen=True)
class WeightsSource:
    """Where the backbone's weights come from (see :func:`resolve_weights`).

    Attributes
    ----------
    kind
        ``"imagenet"``, ``"file"`` or ``"random"``.
    requested
        The ``weights`` setting that led here (``"auto"`` may end in ``"random"``).
    path
        The weights file, ``None`` for random weights.
    sha256
        The file's sha256, or ``"random:<seed>"``.
    imagenet
        Whether the file is the ImageNet file Keras publishes (its md5 matches).
    """

    kind: str
    requested: str
    path: Path | None
    sha256: str
    imagenet: bool


def _hashes(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5()  # md5: only to compare with Keras' published hash
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
            md5.update(block)
    return sha.hexdigest(), md5.hexdigest()


def keras_cache_dirs(cache_dir: str | Path | None = None) -> list[Path]:
    """The folders Keras looks in for its model files, first the one it downloads to.

    Parameters
    ----------
    cache_dir
        Keras' ``cache_dir`` (the folder holding ``models/``); ``None`` for Keras' default,
        ``~/.keras`` (``$KERAS_HOME`` when set), then ``/tmp/.keras``, its fallback when the
        home folder is read-only.

    Returns
    -------
    list of Path
        Candidate ``.../models`` folders.
    """
    if cache_dir is not None:
        return [Path(cache_dir).expanduser() / "models"]
    try:
        from keras.src.backend.config import keras_home

        home = Path(keras_home())
    except ImportError:  # pragma: no cover - other Keras layouts
        home = Path.home() / ".keras"
    return list(dict.fromkeys([home / "models", Path("/tmp/.keras/models")]))


def _missing_imagenet(folder: Path, reason: str) -> MissingDependencyError:
    target = folder / IMAGENET_FILE
    return MissingDependencyError(
        f"VGG16 ImageNet weights are not available: {IMAGENET_FILE} is not in {folder} and could not "
        f"be downloaded from {IMAGENET_URL} ({reason}). To fix: on a machine with internet, download "
        f"that URL and copy the file to {target} (Keras' cache; KERAS_HOME moves it), or set "
        f"embed.weights to the path of a local copy (embed.weights: /path/to/{IMAGENET_FILE}). "
        "embed.weights: auto falls back to random weights with a warning, and embed.weights: random "
        "gives seeded random weights for smoke tests: neither is transfer learning."
    )


def _imagenet(cache_dir: str | Path | None) -> WeightsSource:
    folders = keras_cache_dirs(cache_dir)
    for folder in folders:
        path = folder / IMAGENET_FILE
        if path.is_file():
            sha, md5 = _hashes(path)
            if md5 != IMAGENET_MD5:
                raise MissingDependencyError(
                    f"{path} is damaged or incomplete: md5 {md5}, expected {IMAGENET_MD5}. "
                    f"Delete it and place a fresh copy of {IMAGENET_URL} there."
                )
            log.info("VGG16 ImageNet weights: %s (sha256 %s)", path, sha)
            return WeightsSource("imagenet", "imagenet", path, sha, True)
    try:  # a quick probe first, so that an offline run fails in seconds, not after TCP retries
        urllib.request.urlopen(urllib.request.Request(IMAGENET_URL, method="HEAD"), timeout=10).close()
    except OSError as error:
        raise _missing_imagenet(folders[0], f"offline? {error}") from error
    keras = import_keras()

    log.info("downloading VGG16 ImageNet weights into the Keras cache: %s", IMAGENET_URL)
    try:
        path = Path(
            keras.utils.get_file(
                IMAGENET_FILE,
                IMAGENET_URL,
                cache_subdir="models",
                file_hash=IMAGENET_MD5,
                cache_dir=None if cache_dir is None else str(cache_dir),
            )
        )
    except Exception as error:  # Keras wraps network errors in a bare Exception
        raise _missing_imagenet(folders[0], str(error)) from error
    return WeightsSource("imagenet", "imagenet", path, _hashes(path)[0], True)


def resolve_weights(
    weights: str = "auto", *, seed: int = 0, cache_dir: str | Path | None = None
) -> WeightsSource:
    """Find the weights a ``weights`` setting names, downloading ImageNet weights if need be.

    Parameters
    ----------
    weights
        ``"imagenet"``, ``"auto"``, ``"random"`` or the path of a ``.h5`` weights file.
    seed
        Seed of random weights.
    cache_dir
        Keras' cache folder (holding ``models/``); ``None`` for Keras' default ``~/.keras``.

    Returns
    -------
    WeightsSource
        What will be loaded.

    Raises
    ------
    MissingDependencyError
        ``"imagenet"`` offline without the cached file (the message names the file, the folder and
        the alternatives), a damaged cached file, or a weights path that does not exist.
    ParameterError
        If ``weights`` is neither a keyword nor a ``.h5`` path.
    """
    if weights == "random":
        return WeightsSource("random", "random", None, f"random:{seed}", False)
    if weights == "imagenet":
        return _imagenet(cache_dir)
    if weights == "auto":
        try:
            return _imagenet(cache_dir)
        except MissingDependencyError as error:
            log.warning(
                "\n%s\nVGG16 WEIGHTS ARE RANDOM (seed %d), NOT IMAGENET: these embeddings are NOT transfer "
                "learning and any model trained on them is a smoke test only.\n%s\n%s",
                "!" * 100,
                seed,
                error,
                "!" * 100,
            )
            return WeightsSource("random", "auto", None, f"random:{seed}", False)
    path = Path(weights).expanduser()
    if path.suffix not in (".h5", ".hdf5"):
        raise ParameterError(
            f"embed.weights must be one of {', '.join(WEIGHT_KEYWORDS)} or the path of a .h5 weights "
            f"file, got {weights!r}"
        )
    if not path.is_file():
        raise MissingDependencyError(
            f"VGG16 weights file {path} not found; place it there (e.g. Keras' {IMAGENET_FILE}) or set "
            "embed.weights to imagenet, auto or random"
        )
    sha, md5 = _hashes(path)  # the file is known by name and hash, not by where it lies
    return WeightsSource("file", "file", path, sha, md5 == IMAGENET_MD5)


def cpu_flags() -> frozenset[str]:
    """The first CPU's feature flags (``flags`` on x86, ``Features`` on Arm); empty where unreadable."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU (it would run the model there)."""
    tf = import_tensorflow()

    return bool(tf.config.list_physical_devices("GPU"))


def resolve_precision(precision: str = "auto") -> str:
    """The compute precision a ``precision`` setting means on this machine.

    Parameters
    ----------
    precision
        ``"auto"``, ``"float32"`` or ``"bfloat16"``.

    Returns
    -------
    str
        ``"float32"`` or ``"bfloat16"``: ``auto`` is ``bfloat16`` where the CPU has native bfloat16
        instructions (:data:`BF16_FLAGS`) or TensorFlow sees a GPU, else ``float32`` (emulated
        bfloat16 is slower than float32 on a CPU without them).

    Raises
    ------
    ParameterError
        If ``precision`` is not one of :data:`PRECISIONS` (the message lists them).
    """
    if precision not in PRECISIONS:
        raise ParameterError(f"embed.precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bfloat16" if BF16_FLAGS & cpu_flags() or gpu_visible() else "float32"


def weights_fingerprint(model: Any) -> str:
    """Sha256 of a Keras model's weight arrays (layer names, shapes and float32 values).

    Two models with this fingerprint compute the same function (up to precision); a change to any
    weight, e.g. by training a backbone that should be frozen, changes it.
    """
    digest = hashlib.sha256()
    for layer in model.layers:
        for k, weight in enumerate(layer.weights):
            value = np.ascontiguousarray(np.asarray(weight.numpy(), dtype=np.float32))
            digest.update(f"{layer.name}/{k}:{value.shape};".encode())
            digest.update(value.tobytes())
    return digest.hexdigest()


@contextlib.contextmanager
def _dtype_policy(policy: str) -> Iterator[None]:
    """Build layers under a Keras dtype policy (the policy is thread-local state in Keras 3)."""
    keras = import_keras()

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _random_init(model: Any, seed: int) -> None:
    """Seeded Glorot-uniform kernels and zero biases, independent of Keras' global seed."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for weight in layer.weights:
            shape = tuple(weight.shape)
            if len(shape) == 4:  # (kh, kw, in, out)
                fan_in, fan_out = shape[0] * shape[1] * shape[2], shape[0] * shape[1] * shape[3]
                limit = np.sqrt(6.0 / (fan_in + fan_out))
                weight.assign(rng.uniform(-limit, limit, size=shape).astype(np.float32))
            else:
                weight.assign(np.zeros(shape, dtype=np.float32))


class VGG16Embedder:
    """Frozen VGG16 embedding of a batch of clips (callable class over a batch dict).

    Parameters
    ----------
    weights
        ``"auto"`` (default), ``"imagenet"``, ``"random"`` or a ``.h5`` path: see the module doc.
    layer
        Layer to cut at, globally average-pooled: ``"block5_pool"`` (default, 512-d, the same as
        ``VGG16(include_top=False, pooling="avg")``) or ``"block3_conv3"`` (256-d, where the
        original study cut), or any key of :data:`LAYERS`.
    precision
        ``"auto"`` (default: ``"bfloat16"`` on a CPU with native bfloat16 or a GPU, else
        ``"float32"``; see :func:`resolve_precision`), ``"float32"`` or ``"bfloat16"`` (Keras
        mixed precision: bfloat16 compute, float32 weights; fast on CPUs with AMX/AVX512-BF16).
    batch_size
        Clips per model call: every call sees exactly this many (the last batch is zero-padded),
        so the compiled function is traced once per clip length.
    seed
        Seed of random weights.
    mel
        Mel parameters of the input image; ``None`` for the defaults.
    cache_dir
        Keras' cache folder (holding ``models/``); ``None`` for Keras' default ``~/.keras``.

    Attributes
    ----------
    name : str
        ``"vgg16"``: the store folder name.
    dim : int
        Embedding size (channels of ``layer``).
    meta : dict
        What made the embeddings: weights kind, file and sha256, fingerprint of the weight arrays,
        layer, pooling, precision (the resolved one; ``precision_requested`` says what was asked),
        mel parameters, image mapping, dim.
    precision : str
        The compute precision, ``"float32"`` or ``"bfloat16"`` (``"auto"`` resolved).
    mel_config : MelConfig
        Mel parameters; a batch may carry ``"mel"`` computed with them.
    model : keras.Model
        The frozen model from image to pooled embedding.
    backbone : keras.Model
        The whole VGG16 convolutional base the weights were loaded into.
    weights_source : WeightsSource
        The resolved weights.

    Raises
    ------
    ParameterError
        On an unknown layer or precision, ``batch_size`` < 1, or ``mel.n_mels`` too small for
        ``layer``.
    MissingDependencyError
        When the requested weights cannot be had (see :func:`resolve_weights`).
    DataError
        If a weights file does not fit the VGG16 convolutional base.

    Examples
    --------
    >>> embed = VGG16Embedder(weights="random", batch_size=2)  # doctest: +SKIP
    >>> embed({"audio": np.zeros((3, 112_000), np.float32)})["embedding"].shape  # doctest: +SKIP
    (3, 512)
    """

    name = "vgg16"

    def __init__(
        self,
        *,
        weights: str = "auto",
        layer: str = "block5_pool",
        precision: str = "auto",
        batch_size: int = 16,
        seed: int = 0,
        mel: MelConfig | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        if layer not in LAYERS:
            raise ParameterError(
                f"embed.layer must be a VGG16 conv or pool layer ({', '.join(LAYERS)}), got {layer!r}"
            )
        if batch_size < 1:
            raise ParameterError(f"embed.batch_size must be >= 1, got {batch_size}")
        mel = mel if mel is not None else MelConfig()
        self.min_frames = 2 ** self._pools_before(layer)
        if mel.n_mels < self.min_frames:
            raise ParameterError(
                f"VGG16 cut at {layer} needs images >= {self.min_frames} pixels high, but mel.n_mels is "
                f"{mel.n_mels}; raise mel.n_mels or cut at an earlier layer"
            )
        self.layer, self.batch_size, self.seed = layer, batch_size, seed
        self.precision_requested, self.precision = precision, resolve_precision(precision)  # checks it
        self.mel_config = mel
        self.dim = LAYERS[layer]
        self.weights_source = resolve_weights(weights, seed=seed, cache_dir=cache_dir)
        self.backbone, self.model = self._build()
        self._fingerprint = weights_fingerprint(self.model)
        self.meta = self._meta()
        tf = import_tensorflow()

        model = self.model
        self._fn = tf.function(lambda images: tf.cast(model(images, training=False), tf.float32))
        log.info("VGG16 embedder ready: %s", describe(self.meta))

    @staticmethod
    def _pools_before(layer: str) -> int:
        block = int(layer[len("block")])
        return block if layer.endswith("_pool") else block - 1

    def _build(self) -> tuple[Any, Any]:
        keras = import_keras()

        policy = "mixed_bfloat16" if self.precision == "bfloat16" else "float32"
        with _dtype_policy(policy):
            backbone = keras.applications.VGG16(
                include_top=False, weights=None, input_shape=(self.mel_config.n_mels, None, 3)
            )
            pooled = keras.layers.GlobalAveragePooling2D(name="global_average")(
                backbone.get_layer(self.layer).output
            )
        model = keras.Model(backbone.input, pooled, name=f"vgg16_{self.layer}_avg")
        source = self.weights_source
        if source.path is None:
            _random_init(backbone, self.seed)
        else:
            try:
                backbone.load_weights(str(source.path))
            except (ValueError, OSError, KeyError) as error:
                raise DataError(
                    f"cannot load VGG16 weights from {source.path}: {error}; expected VGG16 notop weights "
                    f"such as Keras' {IMAGENET_FILE}"
                ) from error
        backbone.trainable = False
        model.trainable = False
        return backbone, model

    def _meta(self) -> dict[str, Any]:
        source = self.weights_source
        return {
            "embedder": self.name,
            "backbone": "keras.applications.VGG16(include_top=False)",
            "layer": self.layer,
            "pooling": "global_average",
            "dim": self.dim,
            "weights": source.kind,
            "weights_requested": source.requested,
            "weights_file": None if source.path is None else source.path.name,
            "weights_sha256": source.sha256,
            "weights_imagenet": source.imagenet,
            "weights_fingerprint": self._fingerprint,
            "precision": self.precision,
            "precision_requested": self.precision_requested,
            "mel": self.mel_config.to_dict(),
            "image": (
                "log-mel dB [-top_db, 0] -> 0..255, 3 identical channels, "
                "vgg16.preprocess_input (BGR mean subtraction); native size, row 0 = lowest mel band"
            ),
        }

    def images(self, batch: Mapping[str, np.ndarray]) -> np.ndarray:
        """The (n, n_mels, frames, 3) float32 VGG16 input images of ``batch`` (see ``__call__``)."""
        return to_vgg_image(batch_mel(batch, config=self.mel_config), top_db=self.mel_config.top_db)

    def embed_images(self, images: np.ndarray) -> np.ndarray:
        """Run the frozen model on (n, n_mels, frames, 3) images, in zero-padded fixed-size batches.

        Returns
        -------
        numpy.ndarray
            (n, dim) float32.

        Raises
        ------
        ParameterError
            If the images are too narrow for ``layer`` (clip too short).
        """
        images = np.asarray(images, dtype=np.float32)
        n = images.shape[0]
        out = np.empty((n, self.dim), dtype=np.float32)
        if n and images.shape[2] < self.min_frames:
            hop = self.mel_config.hop_length
            raise ParameterError(
                f"clips of {images.shape[2]} frames are too short for VGG16 cut at {self.layer}: it needs "
                f">= {self.min_frames} frames (>= {(self.min_frames - 1) * hop} samples at hop {hop}); "
                "lengthen clips.length_s"
            )
        size = self.batch_size
        for start in range(0, n, size):
            chunk = images[start : start + size]
            rows = chunk.shape[0]
            if rows < size:
                chunk = np.concatenate([chunk, np.zeros((size - rows, *chunk.shape[1:]), np.float32)])
            out[start : start + rows] = self._fn(chunk).numpy()[:rows]
        return out

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Embed a batch.

        Parameters
        ----------
        batch
            ``"audio"``: (n, samples) float32 mono at ``mel_config.sample_rate``; optionally
            ``"mel"``: (n, n_mels, frames) log-mels made with ``mel_config`` (then ``"audio"`` is not
            read). Other keys (e.g. ``"segment_id"``) are passed through, as Ray Data's
            ``map_batches`` likes.

        Returns
        -------
        dict
            ``"embedding"``: (n, dim) float32, plus the passed-through keys.

        Raises
        ------
        ParameterError
            If the batch has no usable ``"audio"``/``"mel"``, or its clips are too short.
        """
        passed = {k: v for k, v in batch.items() if k not in ("audio", "mel")}
        return {**passed, "embedding": self.embed_images(self.images(batch))}

    def check_frozen(self) -> None:
        """Check that no weight changed since the embedder was built, and none is trainable.

        Raises
        ------
        DataError
            If a weight changed (the backbone was trained or edited) or is trainable.
        """
        if self.model.trainable_weights:
            raise DataError(
                f"VGG16 backbone has {len(self.model.trainable_weights)} trainable weights; it must be frozen"
            )
        now = weights_fingerprint(self.model)
        if now != self._fingerprint:
            raise DataError(
                f"VGG16 backbone weights changed since they were loaded (fingerprint {now[:12]}, "
                f"expected {self._fingerprint[:12]}): the backbone must stay frozen; rebuild the embedder"
            )
