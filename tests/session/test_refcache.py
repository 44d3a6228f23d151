"""The disk cache of a text model's reference states (start-up time, issue 16): a hit gives
exactly the states a fresh computation gives; anything wrong with the cache means computing
again, never an error; only model files (sessions with a basis key) are cached."""

import numpy as np
import pytest

from explorer.session import refcache
from explorer.session.sequence import SequenceSession, random_model, reference_states


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _session(seed=0, key="model.npz:16:LSTM"):
    s = SequenceSession(random_model("LSTM", hidden=16, embed=8, seed=seed), name="code model")
    s.basis_key = key
    return s


def test_a_cache_hit_equals_the_fresh_computation_exactly(cache):
    fresh = reference_states(_session(key=None))            # no key: computed, nothing written
    assert not cache.exists() or not list(cache.glob("*.npy"))
    first = reference_states(_session())                     # computed and written
    assert len(list(cache.glob("*.npy"))) == 1
    again = reference_states(_session())                     # read back
    assert again.dtype == np.float32 and np.array_equal(again, fresh) and np.array_equal(first, fresh)


def test_the_key_follows_the_weights_meta_and_settings():
    a, b = random_model("LSTM", hidden=16, embed=8, seed=0), random_model("LSTM", hidden=16, embed=8, seed=0)
    assert refcache.cache_key(a, corpus="code") == refcache.cache_key(b, corpus="code")
    name = next(k for k in b.parameters() if "weight_hh" in k)
    b.parameters()[name][0, 0] += 1e-3
    assert refcache.cache_key(a, corpus="code") != refcache.cache_key(b, corpus="code")
    assert refcache.cache_key(a, corpus="code") != refcache.cache_key(a, corpus="prose")
    c = random_model("LSTM", hidden=16, embed=8, seed=0)
    c.meta["corpus"] = "prose"
    assert refcache.cache_key(a, corpus="code") != refcache.cache_key(c, corpus="code")


@pytest.mark.parametrize("damage", ["random bytes", "truncated", "wrong width", "nan", "int dtype", "folder"])
def test_a_damaged_cache_is_computed_again(cache, damage):
    fresh = reference_states(_session(key=None))
    reference_states(_session())
    (path,) = cache.glob("*.npy")
    good = path.read_bytes()
    if damage == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(300))
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "wrong width":
        np.save(path, np.zeros((10, 7), np.float32))
    elif damage == "nan":
        np.save(path, np.full_like(fresh, np.nan))
    elif damage == "int dtype":
        np.save(path, fresh.astype(np.int32))
    else:
        path.unlink()
        path.mkdir()
    assert refcache.load(path.stem, 16) is None
    again = reference_states(_session())
    assert np.array_equal(again, fresh)
    if damage != "folder":                                   # rewritten, and good again
        assert np.array_equal(refcache.load(path.stem, 16), fresh)


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EXPLORER_CACHE_DIR", str(blocker / "cache"))
    assert refcache.store("k", np.ones((3, 4), np.float32)) is False
    fresh = reference_states(_session(key=None))
    assert np.array_equal(reference_states(_session()), fresh)


def test_the_cache_keeps_the_newest_files_only(cache, monkeypatch):
    monkeypatch.setattr(refcache, "KEEP", 3)
    import os
    for i in range(5):
        assert refcache.store(f"k{i}", np.full((2, 4), i, np.float32))
        os.utime(cache / f"k{i}.npy", (1000 + i, 1000 + i))
    refcache.store("k5", np.full((2, 4), 5, np.float32))
    assert sorted(p.stem for p in cache.glob("*.npy")) == ["k3", "k4", "k5"]
