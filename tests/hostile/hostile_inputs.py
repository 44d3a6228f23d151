"""Hostile but fair inputs, generated on demand into a folder (nothing big is committed).

Each ``write_*`` function writes one file into ``folder`` and returns its path (the session
writers: a list of (case name, path), each a variant of a good session file). Used by
tests/engine/test_model_file_limits.py, tests/cli/test_cli_mistakes.py and
tests/ui/test_hostile_sessions.py; run ``python tests/hostile/hostile_inputs.py OUT_DIR
[GOOD.cre]`` to get them all for trying by hand (the session variants need a saved session).
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


# ----------------------------------------------------------------------------- session files
# Values tried in every declared field of a session file (explorer.session.schema.SESSION).
# "1e999" is written as that raw token (json reads it as infinity).
BAD_VALUES: dict[str, object] = {
    "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "1e999": "@@1e999@@",
    "huge": 1e30, "huge_int": 10**30, "negative": -1, "negative_float": -0.5, "million": 1_000_000,
    "float_1e6": 1e6, "text": "x" * 300, "list": [1, 2], "object": {"a": 1}, "true": True, "null": None,
}


def session_fields() -> list[tuple[str, ...]]:
    """Every declared leaf field of a session's state, as a key path ('digits', 'pen_width')."""
    from explorer.session.schema import SESSION, Section

    out: list[tuple[str, ...]] = []

    def walk(section: Section, path: tuple[str, ...]) -> None:
        for key, f in section.fields:
            if isinstance(f, Section):
                walk(f, path + (key,))
            else:
                out.append(path + (key,))
    walk(SESSION, ())
    return out


def _doc_text(doc: dict) -> str:
    return json.dumps(doc, allow_nan=True).replace('"@@1e999@@"', "1e999")


def rewrite_session(good: Path, path: Path, json_text: str | None = None,
                    members: dict[str, bytes | None] | None = None) -> Path:
    """A copy of the session file ``good`` with session.json (and other entries) replaced;
    None in ``members`` drops an entry."""
    changes = dict(members or {})
    if json_text is not None:
        changes["session.json"] = json_text.encode("utf-8")
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = changes.pop(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in changes.items():
            if data is not None:
                zout.writestr(name, data)
    return path


def session_doc(good: Path) -> dict:
    with zipfile.ZipFile(good) as zf:
        return json.loads(zf.read("session.json"))


def write_field_sessions(good: Path, folder: Path) -> list[tuple[str, Path]]:
    """One file per (declared field, bad value): the good session with that one value changed."""
    base = session_doc(good)
    out = []
    for fpath in session_fields():
        for label, value in BAD_VALUES.items():
            doc = json.loads(json.dumps(base))
            node = doc["state"]
            for key in fpath[:-1]:
                if not isinstance(node.get(key), dict):
                    node[key] = {"layer": 0, "channel": 0, "row": 0, "col": 0} if key == "selection" else {}
                node = node[key]
            node[fpath[-1]] = value
            name = f"{'.'.join(fpath)}={label}"
            out.append((name, rewrite_session(good, folder / f"{name}.cre", _doc_text(doc))))
    return out


def write_structure_sessions(good: Path, folder: Path) -> list[tuple[str, Path]]:
    """Deep nesting, huge text, wrong shapes of the document itself, hostile members."""
    from explorer.session.schema import MAX_TEXT_CHARS
    base = session_doc(good)
    out = []

    def doc_with(**changes: object) -> str:
        doc = json.loads(json.dumps(base))
        doc.update(changes)
        return _doc_text(doc)

    deep = '{"x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    text = json.dumps(base)
    out.append(("deep_200000", rewrite_session(
        good, folder / "deep.cre", text[:-1] + ', "extra": ' + deep + "}")))
    out.append(("deep_40", rewrite_session(good, folder / "deep40.cre",
                                           text[:-1] + ', "extra": ' + "[" * 40 + "]" * 40 + "}")))
    state = json.loads(json.dumps(base["state"]))
    state.setdefault("sequence", {})["text"] = "a" * (MAX_TEXT_CHARS + 1)
    state["sequence"]["cursor"] = 0
    out.append(("text_too_long", rewrite_session(good, folder / "long.cre", doc_with(state=state))))
    state = json.loads(json.dumps(base["state"]))
    state["unknown_section"] = {"n": float("nan")}
    out.append(("nan_in_unknown_field", rewrite_session(good, folder / "nan_extra.cre", doc_with(state=state))))
    for label, state_value in (("state_list", [1]), ("state_text", "x"), ("state_null", None)):
        out.append((label, rewrite_session(good, folder / f"{label}.cre", doc_with(state=state_value))))
    for label, section in (("digits_list", []), ("sequence_text_only", "abc"), ("window_number", 3)):
        state = json.loads(json.dumps(base["state"]))
        state[label.split("_")[0]] = section
        out.append((label, rewrite_session(good, folder / f"{label}.cre", doc_with(state=state))))
    for label, section, key, value in (("channel_beyond_model", "digits", "selection", {
            "layer": 0, "channel": 5, "row": 0, "col": 0}), ("row_beyond_model", "digits", "selection", {
            "layer": 0, "channel": 0, "row": 500, "col": 0}), ("unit_beyond_model", "sequence", "unit", 1000),
            ("cursor_past_end", "sequence", "cursor", 10_000)):
        state = json.loads(json.dumps(base["state"]))
        state.setdefault(section, {})[key] = value
        out.append((label, rewrite_session(good, folder / f"{label}.cre", doc_with(state=state))))
    out.append(("models_not_object", rewrite_session(good, folder / "models.cre", doc_with(models=[1]))))
    out.append(("version_nan", rewrite_session(good, folder / "version.cre", doc_with(version=float("nan")))))
    out.append(("huge_integer", rewrite_session(
        good, folder / "hugeint.cre", text.replace('"version": 1', '"version": ' + "9" * 6000))))
    bad_drawing = io.BytesIO()
    meta = {"format": "cnn-rnn-explorer/drawing", "version": 1,
            "strokes": [{"points": [[10.0, 10.0], [50.0, 60.0]], "width": float("nan")}]}
    np.savez(bad_drawing, meta=np.array(json.dumps(meta)))
    out.append(("drawing_nan_width", rewrite_session(good, folder / "drawing_nan.cre",
                                                     members={"drawing.npz": bad_drawing.getvalue()})))
    out.append(("drawing_garbage", rewrite_session(good, folder / "drawing_garbage.cre",
                                                   members={"drawing.npz": b"PK\x03\x04" + b"\0" * 64})))
    return out


def write_truncated_sessions(good: Path, folder: Path, n: int = 24) -> list[tuple[str, Path]]:
    """The good file cut at ``n`` offsets spread over its length, and 1, 22 and 100 bytes short."""
    raw = good.read_bytes()
    cuts = sorted(set(np.linspace(0, len(raw) - 1, n).astype(int).tolist()
                      + [len(raw) - 1, len(raw) - 22, len(raw) - 100, 2]))
    out = []
    for cut in cuts:
        path = folder / f"cut_{cut}.cre"
        path.write_bytes(raw[:cut])
        out.append((f"truncated_at_{cut}", path))
    return out


def write_all(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_linear_bomb(folder), write_deep_brackets(folder), write_deep_object(folder),
            write_huge_integer(folder), write_many_layers(folder), write_big_layer(folder),
            write_big_total(folder), write_lying_header(folder), write_legacy_meta(folder),
            write_bad_config(folder, True), write_truncated_mnist(folder),
            write_garbage(folder / "garbage.npz"), write_blank_png(folder / "huge.png", 20000, 20000)]


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-out")
    for p in write_all(out):
        print(p, p.stat().st_size)
    if len(sys.argv) > 2:                     # a good session file: its hostile variants
        good = Path(sys.argv[2])
        for writer in (write_field_sessions, write_structure_sessions, write_truncated_sessions):
            for name, p in writer(good, out):
                print(name, p, p.stat().st_size)
