"""Model files: one ``.npz`` with key ``arch`` (JSON string) + float32 parameters named
like ``torch.nn.Sequential(...).state_dict()``. The only engine module touching the disk.

``load_model`` never unpickles (``allow_pickle=False``) and checks everything: the file
is a readable zip archive, ``arch`` is valid JSON of the right format and version, every
layer type is known, every parameter is present with exactly the expected shape, there
is no unknown key, and values are finite floats. Any failure raises ``ModelFileError``
with "<file>: <what is wrong>".
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import numpy as np

from explorer.atomic import atomic_write
from explorer.errors import ExplorerError

from .model import Model


class ModelFileError(ExplorerError):
    """A file is not a valid model file; str(exc) is one sentence naming the file."""


def save_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write model (arch JSON + float32 parameters) atomically (``explorer.atomic``)."""
    arrays: dict[str, Any] = {k: np.ascontiguousarray(v, dtype=np.float32)
                              for k, v in model.parameters().items()}
    arrays["arch"] = np.array(json.dumps(model.arch()))
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def load_model(path: str | os.PathLike[str]) -> Model:
    """path -> Model (float32, eval mode); ModelFileError("<file>: ...") if anything is off."""
    name = str(path)

    def fail(why: str) -> ModelFileError:
        return ModelFileError(f"{name}: {why}")

    if not os.path.exists(path):
        raise fail("no such file")
    if os.path.isdir(path):
        raise fail("is a folder, not a model file")
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    if not is_zip:
        raise fail("is not a model file (expected an .npz archive written by save_model "
                   "or numpy.savez)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: _read(npz, key, fail) for key in npz.files}
    except ModelFileError:
        raise
    except Exception as exc:  # a damaged central directory, unreadable member, ...
        raise fail(f"is damaged or truncated ({type(exc).__name__})") from None
    model = _build(arrays, fail)
    return model.eval()


def _read(npz: Any, key: str, fail: Any) -> np.ndarray:
    try:
        return npz[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise fail(f"entry {key!r} holds a pickled Python object, which is refused "
                       "(model files contain only numbers and the arch text)") from None
        raise fail(f"entry {key!r} is damaged or truncated") from None
    except Exception:
        raise fail(f"entry {key!r} is damaged or truncated") from None


def _parse_arch(arrays: dict[str, np.ndarray], fail: Any) -> dict[str, Any]:
    if "arch" not in arrays:
        raise fail("has no 'arch' entry describing the layers, so it is not a model file")
    raw = arrays.pop("arch")
    if raw.dtype.kind not in "US" or raw.size != 1:
        raise fail("'arch' must be a single JSON string")
    text = raw.item()
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        arch = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"'arch' is not valid JSON ({exc.msg} at character {exc.pos})") from None
    return arch


def _build(arrays: dict[str, np.ndarray], fail: Any) -> Model:
    arch = _parse_arch(arrays, fail)
    try:
        model = Model.from_arch(arch)
    except ValueError as exc:
        raise fail(f"bad architecture: {exc}") from None
    except MemoryError:
        raise fail("bad architecture: the layers are too large to build") from None
    expected = model.parameters()
    missing = [k for k in expected if k not in arrays]
    if missing:
        raise fail(f"parameter(s) missing: {', '.join(missing)}")
    extra = sorted(k for k in arrays if k not in expected)
    if extra:
        raise fail(f"unknown entr{'y' if len(extra) == 1 else 'ies'}: {', '.join(extra)} "
                   "(not a parameter of the layers in 'arch')")
    for key, param in expected.items():
        value = arrays[key]
        if value.shape != param.shape:
            raise fail(f"parameter {key!r} has shape {value.shape}, expected {param.shape}")
        if value.dtype.kind != "f":
            raise fail(f"parameter {key!r} has dtype {value.dtype}, expected floating point")
        if not np.all(np.isfinite(value)):
            raise fail(f"parameter {key!r} contains NaN or infinite values")
        param[...] = value
    return model
