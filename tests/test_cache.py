import numpy as np

from impact_bench.cache import EmbeddingCache


def test_store_lookup_and_key_isolation(tmp_path):
    c1 = EmbeddingCache(tmp_path, {"encoder": "a", "config": 1})
    c1.store(["h1", "h2"], np.ones((2, 3), np.float32))
    assert set(EmbeddingCache(tmp_path, {"encoder": "a", "config": 1}).lookup(["h1", "h2", "h3"])) == {"h1", "h2"}
    assert EmbeddingCache(tmp_path, {"encoder": "a", "config": 2}).lookup(["h1"]) == {}
    assert (tmp_path / c1.key / "meta.json").exists()
    assert not list((tmp_path / c1.key).glob("*.tmp"))


def test_damaged_shard_is_only_a_miss(tmp_path):
    c = EmbeddingCache(tmp_path, {"k": 1})
    c.store(["a"], np.zeros((1, 2), np.float32))
    (tmp_path / c.key / "shard-broken.npz").write_bytes(b"not a zip")
    assert set(EmbeddingCache(tmp_path, {"k": 1}).lookup(["a"])) == {"a"}
