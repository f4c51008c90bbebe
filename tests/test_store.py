import numpy as np
import pytest

from weaklabel.errors import DataError, ParameterError
from weaklabel.features.store import list_stores, open_store, read_meta, read_store, remove_stale_stores

IDS = [f"v___{i}" for i in range(7)]


def fill(writer, features):
    for shard in writer.pending_shards():
        rows = [IDS.index(i) for i in writer.shard_ids(shard)]
        writer.write_shard(shard, features[rows])
    return writer.finish()


def test_round_trip_over_shards(tmp_path, rng):
    features = rng.normal(size=(7, 4)).astype(np.float32)
    fill(open_store(tmp_path, ids=IDS, meta={"backbone": "x"}, shard_size=3), features)
    ids, back, meta = read_store(tmp_path)
    assert ids.tolist() == IDS
    np.testing.assert_array_equal(back, features)
    assert meta == {"backbone": "x", "shard_size": 3}
    assert sorted(p.name for p in tmp_path.glob("shard-*.npy") if ".ids" not in p.name) == [
        "shard-00000.npy",
        "shard-00001.npy",
        "shard-00002.npy",
    ]


def test_resume_skips_finished_shards(tmp_path, rng):
    features = rng.normal(size=(7, 4)).astype(np.float32)
    first = open_store(tmp_path, ids=IDS, meta={"backbone": "x"}, shard_size=3)
    first.write_shard(0, features[:3])
    again = open_store(tmp_path, ids=IDS, meta={"backbone": "x"}, shard_size=3)
    assert again.pending_shards() == [1, 2]
    fill(again, features)
    np.testing.assert_array_equal(read_store(tmp_path)[1], features)


def test_other_meta_starts_over(tmp_path, rng):
    features = rng.normal(size=(7, 4)).astype(np.float32)
    fill(open_store(tmp_path, ids=IDS, meta={"weights": "random"}, shard_size=3), features)
    writer = open_store(tmp_path, ids=IDS, meta={"weights": "imagenet"}, shard_size=3)
    assert writer.pending_shards() == [0, 1, 2]
    with pytest.raises(DataError, match="index.parquet"):
        read_store(tmp_path)


def test_unfinished_store_cannot_be_finished(tmp_path):
    writer = open_store(tmp_path, ids=IDS, meta={}, shard_size=3)
    with pytest.raises(DataError, match="incomplete"):
        writer.finish()


def test_shape_and_id_checks(tmp_path):
    writer = open_store(tmp_path, ids=IDS, meta={}, shard_size=3)
    with pytest.raises(DataError, match=r"\(3, dim\)"):
        writer.write_shard(0, np.zeros((2, 4)))
    with pytest.raises(ParameterError, match="unique"):
        open_store(tmp_path, ids=["a", "a"], meta={})
    with pytest.raises(ParameterError, match="shard_size"):
        open_store(tmp_path, ids=IDS, meta={}, shard_size=0)
    with pytest.raises(DataError, match="features stage"):
        read_meta(tmp_path / "nothing")


def test_list_stores_and_remove_the_stale_ones(tmp_path):
    assert list_stores(tmp_path / "missing") == {}
    for name in ("vgg16", "mel_mean", "egemaps"):
        open_store(tmp_path / name, ids=IDS, meta={"backbone": name}, shard_size=3)
    (tmp_path / "notes").mkdir()  # a folder without meta.json: listed, never removed
    (tmp_path / "rejects.parquet").write_bytes(b"")
    assert list(list_stores(tmp_path)) == ["egemaps", "mel_mean", "notes", "vgg16"]
    assert remove_stale_stores(tmp_path, keep={"vgg16": "x", "mel_mean": "y"}) == [tmp_path / "egemaps"]
    assert list_stores(tmp_path) == {n: tmp_path / n for n in ("mel_mean", "notes", "vgg16")}
    assert (tmp_path / "rejects.parquet").exists()
