"""Model files: one ``.npz`` with key ``arch`` (JSON string) + float32 parameters named
like ``torch.nn.Sequential(...).state_dict()``. The only engine module touching the disk.

``load_model`` never unpickles (``allow_pickle=False``) and checks everything *before*
allocating anything the file asks for: the file size, that it is a readable zip archive,
the size of every entry, the ``arch`` text (length, JSON nesting depth, format, version,
number of layers, known layer types), each parameter's shape computed from ``arch`` (no
layer is built for that) against the shape in the entry's ``.npy`` header, and the size
of every layer and of the whole model. Only then are the arrays read and the layers built,
and values are checked to be finite floats. Any failure raises ``ModelFileError`` with
"<file>: <what is wrong>".

``meta`` is stored as plain JSON values. Files written before that (``meta`` values held
as Python reprs, e.g. ``"hidden": "192"``) are read through ``legacy_meta``, which uses
only ``ast.literal_eval`` (never ``eval``) on the keys documented as non-strings.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import zipfile
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np

from explorer.atomic import atomic_write
from explorer.errors import ExplorerError

from .model import LAYER_TYPES, Model, check_header

__all__ = ["MAX_FILE_BYTES", "MAX_JSON_DEPTH", "MAX_LAYERS", "MAX_LAYER_PARAMS",
           "MAX_TOTAL_PARAMS", "ModelFileError", "expected_shapes", "json_depth",
           "jsonable_meta", "legacy_meta", "load_model", "save_model"]

MAX_FILE_BYTES = 512 * 2**20       # on disk, and all entries together once decompressed
MAX_ARCH_CHARS = 1 << 20           # the arch JSON text
MAX_JSON_DEPTH = 16                # nesting of [ and { in the arch JSON (a model needs 3-4)
MAX_LAYERS = 256
MAX_LAYER_PARAMS = 50_000_000      # one layer (200 MB of float32)
MAX_TOTAL_PARAMS = 100_000_000     # the whole model (400 MB of float32)
MAX_ENTRIES = 4 * MAX_LAYERS + 1

Fail = Callable[[str], "ModelFileError"]


class ModelFileError(ExplorerError):
    """A file is not a valid model file; str(exc) is one sentence naming the file."""


# ----------------------------------------------------------------------------- saving
def save_model(model: Model, path: str | os.PathLike[str]) -> None:
    """Write model (arch JSON + float32 parameters) atomically (``explorer.atomic``).

    ``meta`` must hold JSON values (numpy scalars and tuples are converted; NaN and
    infinities become null); anything else raises TypeError before the file is touched.
    """
    arch = model.arch()
    arch["meta"] = jsonable_meta(arch["meta"])
    text = json.dumps(arch, allow_nan=False)
    arrays: dict[str, Any] = {k: np.ascontiguousarray(v, dtype=np.float32)
                              for k, v in model.parameters().items()}
    arrays["arch"] = np.array(text)
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def jsonable_meta(value: Any, where: str = "meta") -> Any:
    """A copy of ``value`` made of JSON types only: numpy scalars -> numbers, tuples ->
    lists, non-finite floats -> None; TypeError naming the key for anything else."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: key {k!r} is not a string")
            out[k] = jsonable_meta(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple)):
        return [jsonable_meta(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    raise TypeError(f"{where} holds a {type(value).__name__}, which JSON cannot store")


# Keys whose value is not a string (resources/models/README.md lists every key). Files
# written before meta was plain JSON may hold these as Python reprs: "192", "{'kind': ...}".
_NON_STRING_META = {
    "vocab": dict, "classes": list, "hidden": int, "embed": int, "seed": int, "steps": int,
    "epochs": int, "n_train": int, "n_val": int, "batch_size": int, "seq_len": int,
    "train_length": int, "train_chars": int, "train_chars_cap": int, "valid_chars": int,
    "valid_files": int, "val_acc": float, "valid_bpc": float, "baseline_bpc": float,
    "final_train_bpc": float, "acc_train_length": float, "acc_double_length": float,
    "lr": float, "clip": float, "stroke_share": float, "train_seconds": float,
    "train_cpu_seconds": float, "cancelled": bool, "untrained": bool, "trained": bool,
}


def legacy_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """meta as written -> meta with JSON values: a documented non-string key that holds a
    string is parsed with ``ast.literal_eval`` (literals only, nothing is executed) and
    kept only if it gives the documented type; other strings stay as they are."""
    out = dict(meta)
    for key, kind in _NON_STRING_META.items():
        raw = out.get(key)
        if not isinstance(raw, str) or len(raw) > MAX_ARCH_CHARS:
            continue
        try:
            value = ast.literal_eval(raw.strip())
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            out[key] = jsonable_meta(value, key)
    return out


# ----------------------------------------------------------------------------- loading
def load_model(path: str | os.PathLike[str]) -> Model:
    """path -> Model (float32, eval mode); ModelFileError("<file>: ...") if anything is off."""
    name = str(path)

    def fail(why: str) -> ModelFileError:
        return ModelFileError(f"{name}: {why}")

    _check_file(path, fail)
    try:
        with zipfile.ZipFile(path) as zf:
            headers = _entry_headers(zf, fail)
            if "arch" not in headers:
                raise fail("has no 'arch' entry describing the layers, so it is not a model file")
            shape, dtype, _ = headers["arch"]
            if dtype.kind not in "US" or math.prod(shape) != 1:
                raise fail("'arch' must be a single JSON string")
            if dtype.itemsize > 4 * MAX_ARCH_CHARS:
                raise fail(f"'arch' is longer than an architecture needs ({MAX_ARCH_CHARS:,} "
                           "characters at most)")
            arch = _parse_arch(_read_entry(zf, "arch", headers, fail), fail)
            _check_against_arch(arch, headers, fail)
            arrays = {key: _read_entry(zf, key, headers, fail) for key in headers if key != "arch"}
    except ModelFileError:
        raise
    except MemoryError:
        raise fail("is too large to read into memory") from None
    except Exception as exc:  # a damaged central directory, unreadable member, ...
        raise fail(f"is damaged or truncated ({type(exc).__name__})") from None
    return _build(arch, arrays, fail).eval()


def _check_file(path: str | os.PathLike[str], fail: Fail) -> None:
    if not os.path.exists(path):
        raise fail("no such file")
    if os.path.isdir(path):
        raise fail("is a folder, not a model file")
    try:
        size = os.path.getsize(path)
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise fail(f"cannot be read ({exc.strerror or exc})") from None
    if size > MAX_FILE_BYTES:
        raise fail(f"is {size / 2**20:,.0f} MB, more than a model file may be "
                   f"({MAX_FILE_BYTES // 2**20} MB)")
    if not is_zip:
        raise fail("is not a model file (expected an .npz archive written by save_model "
                   "or numpy.savez)")


Headers = dict[str, tuple[tuple[int, ...], np.dtype, str]]


def _entry_headers(zf: zipfile.ZipFile, fail: Fail) -> Headers:
    """entry name (without .npy) -> (shape, dtype, member name) from its .npy header only."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise fail(f"holds {len(infos):,} entries, more than any model has")
    total = sum(info.file_size for info in infos)
    if total > MAX_FILE_BYTES:
        raise fail(f"unpacks to {total / 2**20:,.0f} MB, more than a model file may hold "
                   f"({MAX_FILE_BYTES // 2**20} MB)")
    headers = {}
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        with zf.open(info) as fh:
            try:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise ValueError(f"npy version {version}")
            except (ValueError, OSError, EOFError, SyntaxError):
                raise fail(f"entry {key!r} is not a numpy array (or is damaged)") from None
        if dtype.hasobject:
            raise fail(f"entry {key!r} holds a pickled Python object, which is refused "
                       "(model files contain only numbers and the arch text)")
        if math.prod(shape) * dtype.itemsize > info.file_size:
            raise fail(f"entry {key!r} is damaged or truncated")
        headers[key] = (tuple(shape), dtype, info.filename)
    return headers


def _read_entry(zf: zipfile.ZipFile, key: str, headers: Headers, fail: Fail) -> np.ndarray:
    try:
        with zf.open(headers[key][2]) as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise fail(f"entry {key!r} holds a pickled Python object, which is refused "
                       "(model files contain only numbers and the arch text)") from None
        raise fail(f"entry {key!r} is damaged or truncated") from None
    except (OSError, EOFError, zipfile.BadZipFile, RuntimeError):
        raise fail(f"entry {key!r} is damaged or truncated") from None


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """Deepest nesting of [ and { in a JSON text (brackets inside strings ignored), without
    recursion, so 100,000 nested brackets cost a scan rather than a RecursionError."""
    depth = deepest = 0
    for m in _BRACKETS.finditer(_STRING.sub('""', text)):
        depth += 1 if m.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _parse_arch(raw: np.ndarray, fail: Fail) -> dict[str, Any]:
    if raw.dtype.kind not in "US" or raw.size != 1:
        raise fail("'arch' must be a single JSON string")
    text = raw.item()
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if len(text) > MAX_ARCH_CHARS:
        raise fail(f"'arch' is {len(text):,} characters long, more than an architecture "
                   f"needs ({MAX_ARCH_CHARS:,})")
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise fail(f"'arch' nests brackets {depth:,} deep (at most {MAX_JSON_DEPTH} allowed)")
    try:
        arch = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(f"'arch' is not valid JSON ({exc.msg} at character {exc.pos})") from None
    except (ValueError, RecursionError) as exc:   # e.g. an integer of 5,000 digits
        raise fail(f"'arch' is not usable JSON ({str(exc)[:80]})") from None
    if isinstance(arch, dict) and isinstance(arch.get("meta"), dict):
        arch["meta"] = legacy_meta(arch["meta"])
    return cast("dict[str, Any]", arch)


# ----------------------------------------------------------------------------- shapes from arch
def _int(cfg: dict[str, Any], key: str, default: Any = None) -> int:
    value = cfg.get(key, default)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{key} must be a positive int, got {value!r}")
    return value


def _pair(cfg: dict[str, Any], key: str) -> tuple[int, int]:
    value = cfg.get(key)
    vals = value if isinstance(value, list) else [value, value]
    if len(vals) != 2:
        raise ValueError(f"{key} must be an int or a pair of ints, got {value!r}")
    return _int({key: vals[0]}, key), _int({key: vals[1]}, key)


def _bias(cfg: dict[str, Any], shape: tuple[int, ...], prefix: str = "") -> dict[str, tuple[int, ...]]:
    use = cfg.get("bias", True)
    if not isinstance(use, bool):
        raise ValueError(f"bias must be true or false, got {use!r}")
    if not use:
        return {}
    return {f"bias{prefix}": shape} if not prefix else {f"bias_ih{prefix}": shape,
                                                        f"bias_hh{prefix}": shape}


def _layer_shapes(kind: str, cfg: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """One layer's parameter name -> shape, from its arch entry alone (nothing allocated)."""
    if kind == "Linear":
        i, o = _int(cfg, "in_features"), _int(cfg, "out_features")
        return {"weight": (o, i), **_bias(cfg, (o,))}
    if kind in ("Conv2d", "Conv1d"):
        i, o = _int(cfg, "in_channels"), _int(cfg, "out_channels")
        k = _pair(cfg, "kernel_size") if kind == "Conv2d" else (_int(cfg, "kernel_size"),)
        return {"weight": (o, i, *k), **_bias(cfg, (o,))}
    if kind == "Embedding":
        return {"weight": (_int(cfg, "num_embeddings"), _int(cfg, "embedding_dim"))}
    if kind in ("RNN", "LSTM", "GRU"):
        i, h = _int(cfg, "input_size"), _int(cfg, "hidden_size")
        gh = {"RNN": 1, "LSTM": 4, "GRU": 3}[kind] * h
        return {"weight_ih_l0": (gh, i), "weight_hh_l0": (gh, h), **_bias(cfg, (gh,), "_l0")}
    if kind == "LayerNorm":
        shape = cfg.get("normalized_shape")
        d = _int({"normalized_shape": shape}, "normalized_shape")
        affine, bias = cfg.get("elementwise_affine", True), cfg.get("bias", True)
        if not isinstance(affine, bool) or not isinstance(bias, bool):
            raise ValueError("elementwise_affine and bias must be true or false")
        return {"weight": (d,), **({"bias": (d,)} if bias else {})} if affine else {}
    if kind == "LearnedPositions":
        return {"weight": (_int(cfg, "max_len"), _int(cfg, "d_model"))}
    if kind == "TransformerEncoderLayer":
        d, f = _int(cfg, "d_model"), _int(cfg, "dim_feedforward", 2048)
        return {"self_attn.in_proj_weight": (3 * d, d), "self_attn.in_proj_bias": (3 * d,),
                "self_attn.out_proj.weight": (d, d), "self_attn.out_proj.bias": (d,),
                "linear1.weight": (f, d), "linear1.bias": (f,), "linear2.weight": (d, f),
                "linear2.bias": (d,), "norm1.weight": (d,), "norm1.bias": (d,),
                "norm2.weight": (d,), "norm2.bias": (d,)}
    return {}  # every other layer type has no parameters (tests check this table)


def expected_shapes(arch: Any) -> list[dict[str, tuple[int, ...]]]:
    """arch JSON -> per layer, parameter name -> shape; ValueError says what is wrong."""
    check_header(arch)
    specs = arch.get("layers")
    if not isinstance(specs, list) or not specs:
        raise ValueError("'layers' must be a non-empty list")
    if len(specs) > MAX_LAYERS:
        raise ValueError(f"{len(specs):,} layers, more than the {MAX_LAYERS} allowed")
    shapes = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, dict) or "type" not in spec:
            raise ValueError(f"layer {i} is not an object with a 'type'")
        kind = spec["type"]
        if not isinstance(kind, str) or kind not in LAYER_TYPES:
            raise ValueError(f"layer {i} has unknown type {kind!r} "
                             f"(known: {', '.join(sorted(LAYER_TYPES))})")
        try:
            shapes.append(_layer_shapes(kind, spec))
        except ValueError as exc:
            raise ValueError(f"layer {i} ({kind}): {exc}") from None
    return shapes


def _check_against_arch(arch: Any, headers: Headers, fail: Fail) -> None:
    """Sizes and shapes from arch vs the entries' headers, before anything is allocated."""
    try:
        per_layer = expected_shapes(arch)
    except ValueError as exc:
        raise fail(f"bad architecture: {exc}") from None
    total = 0
    for i, shapes in enumerate(per_layer):
        n = sum(math.prod(s) for s in shapes.values())
        if n > MAX_LAYER_PARAMS:
            raise fail(f"layer {i} ({arch['layers'][i]['type']}) would have {n:,} parameters, "
                       f"more than the {MAX_LAYER_PARAMS:,} allowed")
        total += n
    if total > MAX_TOTAL_PARAMS:
        raise fail(f"the layers would have {total:,} parameters, more than the "
                   f"{MAX_TOTAL_PARAMS:,} allowed")
    expected = {f"{i}.{k}": s for i, shapes in enumerate(per_layer) for k, s in shapes.items()}
    params = {k: v for k, v in headers.items() if k != "arch"}
    missing = [k for k in expected if k not in params]
    if missing:
        raise fail(f"parameter(s) missing: {', '.join(missing)}")
    extra = sorted(k for k in params if k not in expected)
    if extra:
        raise fail(f"unknown entr{'y' if len(extra) == 1 else 'ies'}: {', '.join(extra)} "
                   "(not a parameter of the layers in 'arch')")
    for key, shape in expected.items():
        got, dtype, _ = params[key]
        if got != shape:
            raise fail(f"parameter {key!r} has shape {got}, expected {shape}")
        if dtype.kind != "f":
            raise fail(f"parameter {key!r} has dtype {dtype}, expected floating point")


def _build(arch: dict[str, Any], arrays: dict[str, np.ndarray], fail: Fail) -> Model:
    try:
        model = Model.from_arch(arch)
    except ValueError as exc:
        raise fail(f"bad architecture: {exc}") from None
    except MemoryError:
        raise fail("bad architecture: the layers are too large to build") from None
    expected = model.parameters()
    if set(expected) != set(arrays):   # the shape table above disagrees with a layer class
        raise fail("its parameters do not match the layers in 'arch'")
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
