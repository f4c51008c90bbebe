import hashlib
import logging

import numpy as np
import pytest

from weaklabel.audio.mel import log_mel_batch, to_vgg_image
from weaklabel.errors import DataError, MissingDependencyError, ParameterError
from weaklabel.features import vgg16
from weaklabel.features.identity import check_identity
from weaklabel.features.identity import describe as describe_weights
from weaklabel.features.vgg16 import IMAGENET_FILE, VGG16Embedder

pytest.importorskip("tensorflow")

OFFLINE_URL = "http://127.0.0.1:9/" + IMAGENET_FILE  # the discard port: refused at once, like no network


@pytest.fixture(scope="module")
def embedder():
    return VGG16Embedder(weights="random", batch_size=2, seed=0)


@pytest.fixture(scope="module")
def audio():
    rng = np.random.default_rng(0)
    t = np.arange(16_000) / 16_000
    tones = [0.3 * np.sin(2 * np.pi * f * t) for f in (220.0, 880.0)]
    return np.stack([*tones, 0.1 * rng.normal(size=t.size)]).astype(np.float32)  # 3 clips of 1 s


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setattr(vgg16, "IMAGENET_URL", OFFLINE_URL)
    return tmp_path / "keras"


def test_shapes_meta_and_passthrough(embedder, audio):
    out = embedder({"audio": audio, "segment_id": np.array(["a", "b", "c"])})
    assert out["embedding"].shape == (3, 512) == (3, embedder.dim)
    assert out["embedding"].dtype == np.float32 and np.isfinite(out["embedding"]).all()
    assert out["segment_id"].tolist() == ["a", "b", "c"]
    meta = embedder.meta
    assert (
        meta["weights"] == "random" and meta["weights_sha256"] == "random:0" and not meta["weights_imagenet"]
    )
    assert meta["layer"] == "block5_pool" and meta["dim"] == 512 and meta["mel"]["n_mels"] == 128
    assert len(meta["weights_fingerprint"]) == 64
    assert "RANDOM" in describe_weights(meta) and "NOT transfer learning" in describe_weights(meta)


def test_fixed_size_batches_and_padding(embedder, audio):
    together = embedder({"audio": audio})["embedding"]  # 3 clips = one full batch of 2 + one padded
    alone = np.concatenate([embedder({"audio": audio[i : i + 1]})["embedding"] for i in range(3)])
    np.testing.assert_allclose(together, alone, rtol=1e-4, atol=1e-5)
    assert embedder({"audio": audio[:0]})["embedding"].shape == (0, 512)
    assert embedder._fn.experimental_get_tracing_count() == 1  # one shape: always (batch_size, 128, 32, 3)


def test_given_mel_is_used(embedder, audio):
    np.testing.assert_allclose(
        embedder({"mel": log_mel_batch(audio)})["embedding"],
        embedder({"audio": audio})["embedding"],
        rtol=1e-5,
    )


def test_image_matches_keras_preprocess_input(audio):
    from keras.applications.vgg16 import preprocess_input

    mel = log_mel_batch(audio)
    pixels = np.repeat(((mel + 80.0) * 255.0 / 80.0)[..., None], 3, axis=-1)
    np.testing.assert_allclose(to_vgg_image(mel), preprocess_input(pixels.copy()), atol=1e-3)


def test_random_weights_are_seeded(audio):
    first = VGG16Embedder(weights="random", layer="block3_conv3", batch_size=3, seed=7)
    again = VGG16Embedder(weights="random", layer="block3_conv3", batch_size=3, seed=7)
    other = VGG16Embedder(weights="random", layer="block3_conv3", batch_size=3, seed=8)
    assert first.dim == 256 and first.meta["weights_sha256"] == "random:7"
    np.testing.assert_array_equal(first({"audio": audio})["embedding"], again({"audio": audio})["embedding"])
    assert first.meta["weights_fingerprint"] == again.meta["weights_fingerprint"]
    assert other.meta["weights_fingerprint"] != first.meta["weights_fingerprint"]


def test_imagenet_offline_names_file_and_folder(offline):
    with pytest.raises(MissingDependencyError) as caught:
        VGG16Embedder(weights="imagenet", cache_dir=offline)
    message = str(caught.value)
    assert IMAGENET_FILE in message and str(offline / "models") in message
    assert "embed.weights" in message and "random" in message


def test_damaged_cached_imagenet_file(offline):
    (offline / "models").mkdir(parents=True)
    (offline / "models" / IMAGENET_FILE).write_bytes(b"not weights")
    with pytest.raises(MissingDependencyError, match="damaged or incomplete"):
        vgg16.resolve_weights("imagenet", cache_dir=offline)


def test_auto_falls_back_to_random_loudly(offline, caplog, audio):
    with caplog.at_level(logging.WARNING, logger="weaklabel.features.vgg16"):
        embedder = VGG16Embedder(weights="auto", layer="block3_conv3", cache_dir=offline, seed=3)
    assert "RANDOM" in caplog.text and IMAGENET_FILE in caplog.text
    assert embedder.meta["weights"] == "random" and embedder.meta["weights_requested"] == "auto"
    assert "imagenet unavailable" in describe_weights(embedder.meta)
    assert embedder({"audio": audio[:1]})["embedding"].shape == (1, 256)


def test_local_weights_files_load_identically(embedder, audio, tmp_path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    expected = embedder({"audio": audio})["embedding"]
    keras3 = tmp_path / "vgg16.weights.h5"
    embedder.backbone.save_weights(keras3)
    legacy = tmp_path / "vgg16_legacy.h5"  # the layout of Keras' ImageNet file
    with h5py.File(legacy, "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, embedder.backbone)
    for path in (keras3, legacy):
        loaded = VGG16Embedder(weights=str(path), batch_size=2)
        np.testing.assert_allclose(loaded({"audio": audio})["embedding"], expected, rtol=1e-5, atol=1e-6)
        assert loaded.meta["weights"] == "file" and loaded.meta["weights_file"] == path.name
        assert loaded.meta["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert loaded.meta["weights_fingerprint"] == embedder.meta["weights_fingerprint"]
        assert "NOT the Keras ImageNet file" in describe_weights(loaded.meta)


def test_weights_file_that_is_not_vgg16(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(DataError, match=IMAGENET_FILE):
        VGG16Embedder(weights=str(junk))


def test_bad_settings():
    with pytest.raises(ParameterError, match="block3_conv3"):
        VGG16Embedder(weights="random", layer="fc1")
    with pytest.raises(ParameterError, match="bfloat16"):
        VGG16Embedder(weights="random", precision="float16")
    with pytest.raises(ParameterError, match="batch_size"):
        VGG16Embedder(weights="random", batch_size=0)
    with pytest.raises(ParameterError, match="auto"):
        vgg16.resolve_weights("imagenette")
    with pytest.raises(MissingDependencyError, match="not found"):
        vgg16.resolve_weights("/nowhere/vgg16.h5")


def test_too_short_clip_is_explained(embedder):
    with pytest.raises(ParameterError, match=">= 32 frames"):
        embedder({"audio": np.zeros((1, 4000), np.float32)})


def test_backbone_is_frozen_and_checked(audio):
    embedder = VGG16Embedder(weights="random", layer="block3_conv3", batch_size=3)
    assert not embedder.model.trainable_weights and not embedder.backbone.trainable
    before = embedder({"audio": audio})["embedding"]
    embedder.check_frozen()
    check_identity(embedder.meta, embedder.meta)
    with pytest.raises(DataError, match="layer"):
        check_identity(embedder.meta, {**embedder.meta, "layer": "block5_pool"})
    kernel = embedder.model.get_layer("block1_conv1").kernel
    kernel.assign(kernel.numpy() * 1.01)  # what training an unfrozen backbone would do
    with pytest.raises(DataError, match="changed"):
        embedder.check_frozen()
    assert not np.allclose(embedder({"audio": audio})["embedding"], before)


@pytest.mark.slow
def test_bfloat16_agrees_with_float32(embedder, audio):
    fast = VGG16Embedder(weights="random", precision="bfloat16", batch_size=2, seed=0)
    assert fast.meta["precision"] == "bfloat16"
    assert fast.meta["weights_fingerprint"] == embedder.meta["weights_fingerprint"]  # same float32 weights
    a, b = embedder({"audio": audio})["embedding"], fast({"audio": audio})["embedding"]
    cosine = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert b.dtype == np.float32 and np.all(cosine >= 0.999), cosine


@pytest.mark.parametrize(
    ("flags", "gpu", "resolved"),
    [
        ({"avx2", "fma"}, False, "float32"),  # this kind of machine: bfloat16 would be emulated, slower
        ({"avx2", "avx512f", "avx512_bf16"}, False, "bfloat16"),
        ({"avx2", "amx_bf16", "amx_tile"}, False, "bfloat16"),
        ({"fp", "asimd", "bf16"}, False, "bfloat16"),  # Arm
        (set(), True, "bfloat16"),  # TensorFlow would run it on a GPU
    ],
)
def test_precision_auto_resolves_per_machine(monkeypatch, flags, gpu, resolved):
    monkeypatch.setattr(vgg16, "cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr(vgg16, "gpu_visible", lambda: gpu)
    assert vgg16.resolve_precision("auto") == resolved
    assert (
        vgg16.resolve_precision("float32") == "float32" and vgg16.resolve_precision("bfloat16") == "bfloat16"
    )
    with pytest.raises(ParameterError, match="embed.precision must be one of auto, float32, bfloat16"):
        vgg16.resolve_precision("float16")


def test_cpu_flags_read_this_machine():
    flags = vgg16.cpu_flags()
    assert isinstance(flags, frozenset) and (not flags or all(isinstance(f, str) and f for f in flags))


def test_the_store_records_the_resolved_precision_and_compares_it(monkeypatch, embedder):
    monkeypatch.setattr(vgg16, "cpu_flags", lambda: frozenset({"avx2"}))
    monkeypatch.setattr(vgg16, "gpu_visible", lambda: False)
    auto = VGG16Embedder(weights="random", batch_size=2, seed=0)  # precision="auto", the default
    assert auto.precision == "float32" and auto.meta["precision"] == "float32"
    assert auto.meta["precision_requested"] == "auto" and embedder.meta["precision_requested"] == "auto"
    asked = {**auto.meta, "precision_requested": "float32"}  # asked differently, same numbers: accepted
    check_identity(asked, auto.meta)
    with pytest.raises(DataError, match='precision: trained on "bfloat16", found "float32"'):
        check_identity({**auto.meta, "precision": "bfloat16"}, auto.meta)  # e.g. a model from a bf16 machine
