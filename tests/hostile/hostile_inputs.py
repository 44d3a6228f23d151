"""Hostile but fair inputs, generated on demand into a folder (nothing big is committed).

Each ``write_*`` function writes one file into ``folder`` and returns its path. Used by
tests/engine/test_model_file_limits.py and tests/cli/test_cli_mistakes.py; run
``python tests/hostile/hostile_inputs.py OUT_DIR`` to get them all for trying by hand.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

FORMAT = {"format": "cnn-rnn-explorer/model", "version": 1}


def _arch(layers: list[dict], meta: dict | None = None) -> np.ndarray:
    return np.array(json.dumps({**FORMAT, "layers": layers, "meta": meta or {}}))


# ----------------------------------------------------------------------------- model files
def write_linear_bomb(folder: Path, n: int = 10000) -> Path:
    """Under 1 KB: arch declares Linear(n, n) (100 M parameters for 10000) and holds no weights."""
    path = folder / f"linear_bomb_{n}.npz"
    np.savez(path, arch=_arch([{"type": "Linear", "in_features": n, "out_features": n}],
                              {"task": "digits"}))
    return path


def write_deep_brackets(folder: Path, depth: int = 100_000) -> Path:
    """arch is ``[[[[...]]]]`` nested ``depth`` deep (json.loads would recurse that deep)."""
    path = folder / "deep_brackets.npz"
    np.savez(path, arch=np.array("[" * depth + "]" * depth))
    return path


def write_deep_object(folder: Path, depth: int = 5_000) -> Path:
    """A well-formed model whose meta holds one value nested ``depth`` objects deep."""
    path = folder / "deep_meta.npz"
    text = json.dumps({**FORMAT, "layers": [{"type": "ReLU"}], "meta": {}})
    text = text[:-2] + '"x": ' + '{"a": ' * depth + "1" + "}" * depth + "}}"
    np.savez(path, arch=np.array(text))
    return path


def write_huge_integer(folder: Path) -> Path:
    """in_features is an integer of 6,000 digits (Python refuses to parse it)."""
    path = folder / "huge_int.npz"
    text = json.dumps({**FORMAT, "layers": [{"type": "Linear", "in_features": 7,
                                             "out_features": 2}], "meta": {}})
    np.savez(path, arch=np.array(text.replace('"in_features": 7', '"in_features": ' + "9" * 6000)))
    return path


def write_many_layers(folder: Path, n: int = 5_000) -> Path:
    path = folder / "many_layers.npz"
    np.savez(path, arch=_arch([{"type": "ReLU"}] * n))
    return path


def write_big_layer(folder: Path) -> Path:
    """Embedding(60000, 1000): 60 M parameters, over the per-layer limit (no weights held)."""
    path = folder / "big_layer.npz"
    np.savez(path, arch=_arch([{"type": "Embedding", "num_embeddings": 60000,
                                "embedding_dim": 1000}]))
    return path


def write_big_total(folder: Path) -> Path:
    """Three Linear(6400, 6250) layers: each 40 M parameters, 120 M together."""
    path = folder / "big_total.npz"
    layer = {"type": "Linear", "in_features": 6400, "out_features": 6250, "bias": False}
    np.savez(path, arch=_arch([layer, {"type": "ReLU"}, layer, layer]))
    return path


def write_lying_header(folder: Path) -> Path:
    """A small model whose weight entry's .npy header claims (100000, 100000) but holds 24 bytes."""
    path = folder / "lying_header.npz"
    arch = _arch([{"type": "Linear", "in_features": 3, "out_features": 2, "bias": False}])
    with zipfile.ZipFile(path, "w") as zf:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, arch)
        zf.writestr("arch.npy", buf.getvalue())
        head = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            head, {"descr": "<f4", "fortran_order": False, "shape": (100000, 100000)})
        zf.writestr("0.weight.npy", head.getvalue() + np.zeros(6, "<f4").tobytes())
    return path


def write_bad_config(folder: Path, value: object) -> Path:
    """Linear whose in_features is ``value`` (a bool, a negative number, a string ...)."""
    path = folder / f"bad_config_{type(value).__name__}.npz"
    np.savez(path, arch=_arch([{"type": "Linear", "in_features": value, "out_features": 2}]))
    return path


def write_legacy_meta(folder: Path) -> Path:
    """A toy text model saved the old way: meta values as Python reprs in strings."""
    path = folder / "legacy_meta.npz"
    rng = np.random.default_rng(0)
    layers = [{"type": "Embedding", "num_embeddings": 2, "embedding_dim": 2},
              {"type": "GRU", "input_size": 2, "hidden_size": 3, "bias": True, "batch_first": True},
              {"type": "Linear", "in_features": 3, "out_features": 2, "bias": True}]
    meta = {"task": "toy", "toy_task": "depth", "alphabet": "()", "hidden": "3", "embed": "2",
            "val_acc": "0.5", "cancelled": "False", "classes": "['0', '1']",
            "vocab": "{'kind': 'chars', 'chars': '()', 'unknown': False}",
            "description": "[1, 2]", "seed": "__import__('os').system('echo executed')"}
    shapes = {"0.weight": (2, 2), "1.weight_ih_l0": (9, 2), "1.weight_hh_l0": (9, 3),
              "1.bias_ih_l0": (9,), "1.bias_hh_l0": (9,), "2.weight": (2, 3), "2.bias": (2,)}
    params = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    np.savez(path, arch=_arch(layers, meta), **params)
    return path


# ----------------------------------------------------------------------------- other inputs
def write_blank_png(path: Path, width: int, height: int, bar: bool = True) -> Path:
    """A greyscale PNG, white with (if ``bar``) a black vertical bar in the middle half:
    a "1". Written row by row through zlib, so a 20000 x 20000 image is ~0.5 MB on disk
    and never exists in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    left, ink = width // 2 - width // 20, max(1, width // 10)
    white = b"\x00" + b"\xff" * width
    inked = b"\x00" + b"\xff" * left + b"\x00" * ink + b"\xff" * (width - left - ink)
    comp = zlib.compressobj(6)
    body = []
    for y in range(height):
        body.append(comp.compress(inked if bar and height // 4 <= y < 3 * height // 4 else white))
    body.append(comp.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(body))
                     + chunk(b"IEND", b""))
    return path


def write_truncated_mnist(folder: Path) -> Path:
    """A Keras-style mnist.npz cut in half (its zip directory is gone)."""
    full = folder / "full_mnist.npz"
    rng = np.random.default_rng(0)
    np.savez(full, x_train=rng.integers(0, 255, (50, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, 50))
    path = folder / "truncated_mnist.npz"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    full.unlink()
    return path


def write_garbage(path: Path, n: int = 4096, seed: int = 0) -> Path:
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_linear_bomb(folder), write_deep_brackets(folder), write_deep_object(folder),
            write_huge_integer(folder), write_many_layers(folder), write_big_layer(folder),
            write_big_total(folder), write_lying_header(folder), write_legacy_meta(folder),
            write_bad_config(folder, True), write_truncated_mnist(folder),
            write_garbage(folder / "garbage.npz"), write_blank_png(folder / "huge.png", 20000, 20000)]


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-out")):
        print(p, p.stat().st_size)
