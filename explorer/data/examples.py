"""The user's own digit examples: an image folder that the app, the CLI and people share.

Layout (DESIGN.md): ``<root>/<label>/<name>.png`` — 280 x 280, dark ink on white, 8-bit
greyscale — and, when the example was drawn in the app, ``<name>.json`` beside it with the
pen strokes (``{"canvas": 280, "strokes": [[[x, y], ...], ...]}``). ``ExampleStore`` saves,
lists, loads, deletes, re-labels, imports and exports them; ``load_examples`` turns a folder
into network inputs. Qt-free: PNG files are written by a minimal encoder (zlib) and read by
a minimal decoder (non-interlaced 8/16-bit grey, grey+alpha, RGB, RGBA, 8-bit palette);
other formats need a ``read_image(path) -> array`` passed in (the app's and CLI's reader).
Every write goes through ``explorer.atomic``.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

import numpy as np

from explorer.atomic import atomic_write_bytes, atomic_write_text
from explorer.data.preprocess import (
    EmptyDrawing,
    as_polylines,
    image_to_gray,
    preprocess_strokes,
    render_strokes,
    resize,
    to_mnist,
)
from explorer.errors import ExplorerError

__all__ = ["EXAMPLES_DIRNAME", "SIDE", "Example", "ExampleError", "ExampleSet", "ExampleStore",
           "encode_png", "decode_png", "example_input", "ink_of", "load_examples", "IMAGE_SUFFIXES"]

EXAMPLES_DIRNAME = "my_digits"
SIDE = 280                      # stored image side, px
PEN = 18.0                      # canvas pen width used when an image is rendered from strokes
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".webp", ".tif", ".tiff")
ImageReader = Callable[[Path], np.ndarray]


class ExampleError(ExplorerError, ValueError):
    """An example folder or file that cannot be used; one readable sentence."""


# -- PNG --------------------------------------------------------------------------------
def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(gray: np.ndarray) -> bytes:
    """gray: (H, W) uint8 (or float in [0, 1]) -> the bytes of an 8-bit greyscale PNG."""
    g = np.asarray(gray)
    if g.ndim != 2:
        raise ValueError(f"expected a (H, W) grey image, got {g.shape}")
    if g.dtype != np.uint8:
        g = np.clip(np.rint(g * 255.0), 0, 255).astype(np.uint8)
    h, w = g.shape
    raw = np.hstack([np.zeros((h, 1), np.uint8), g]).tobytes()     # filter 0 on every row
    head = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", head) + _chunk(b"IDAT", zlib.compress(raw, 6))
            + _chunk(b"IEND", b""))


def _unfilter(data: bytes, h: int, stride: int, bpp: int) -> np.ndarray:
    """Undo PNG's per-row filters -> (h, stride) uint8."""
    rows = np.frombuffer(data, np.uint8)[:h * (stride + 1)].reshape(h, stride + 1)
    out = np.zeros((h, stride), np.uint8)
    prev = np.zeros(stride, np.int32)
    for r in range(h):
        f, line = rows[r, 0], rows[r, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        elif f in (1, 3, 4):
            cur = line.copy()
            for i in range(stride):
                a = int(cur[i - bpp]) if i >= bpp else 0
                b = int(prev[i])
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) >> 1
                else:
                    c = int(prev[i - bpp]) if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 255
        else:
            raise ExampleError(f"the PNG has an unknown row filter {f}")
        out[r] = cur
        prev = cur
    return out


def decode_png(blob: bytes) -> np.ndarray:
    """PNG bytes -> (H, W) grey, (H, W, 2|3|4) uint8 (alpha kept). Raises ExampleError."""
    if blob[:8] != b"\x89PNG\r\n\x1a\n":
        raise ExampleError("not a PNG file")
    pos, head, idat, palette = 8, None, [], None
    while pos + 8 <= len(blob):
        n, kind = struct.unpack(">I4s", blob[pos:pos + 8])
        data = blob[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", data)
        elif kind == b"PLTE":
            palette = np.frombuffer(data, np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            break
    if head is None or not idat:
        raise ExampleError("the PNG file is damaged (no header or no image data)")
    w, h, depth, ctype, _, _, interlace = head
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(ctype)
    if channels is None or interlace or depth not in (8, 16) or (ctype == 3 and depth != 8):
        raise ExampleError("this kind of PNG (interlaced or under 8 bits) needs the app's image reader")
    nbytes = depth // 8
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error:
        raise ExampleError("the PNG file is damaged (bad compressed data)") from None
    img = _unfilter(raw, h, w * channels * nbytes, channels * nbytes)
    img = img.reshape(h, w, channels * nbytes)[:, :, ::nbytes]       # 16-bit: high bytes
    if ctype == 3:
        if palette is None:
            raise ExampleError("the PNG file is damaged (palette missing)")
        return np.asarray(palette[np.minimum(img[:, :, 0], len(palette) - 1)])
    return np.asarray(img[:, :, 0] if channels == 1 else img)


def _read_png_file(path: Path) -> np.ndarray:
    if path.suffix.lower() != ".png":
        raise ExampleError(f"{path.name}: only PNG files can be read without the app's image reader")
    return decode_png(path.read_bytes())


# -- examples ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """One kept digit: ``label`` 0-9 and its image path; strokes, if any, in ``strokes_path``."""

    label: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def strokes_path(self) -> Path:
        return self.path.with_suffix(".json")

    def has_strokes(self) -> bool:
        return self.strokes_path.is_file()

    def strokes(self) -> list[np.ndarray] | None:
        """The pen strokes (list of (K, 2) canvas (x, y)), or None if there are none."""
        if not self.has_strokes():
            return None
        try:
            data = json.loads(self.strokes_path.read_text("utf-8"))
            return as_polylines(data["strokes"])
        except (ValueError, KeyError, TypeError):
            return None


def _label_of(folder: Path) -> int | None:
    return int(folder.name) if folder.name in {str(d) for d in range(10)} else None


def _square_gray(ink: np.ndarray, side: int = SIDE) -> np.ndarray:
    """(H, W) ink-high float -> (side, side) uint8 dark ink on white, aspect kept (padded)."""
    h, w = ink.shape
    n = max(h, w)
    box = np.zeros((n, n), np.float32)
    box[(n - h) // 2:(n - h) // 2 + h, (n - w) // 2:(n - w) // 2 + w] = ink
    sq = np.clip(resize(box, side, side), 0.0, 1.0) if n != side else box
    return np.clip(np.rint((1.0 - sq) * 255.0), 0, 255).astype(np.uint8)


def ink_of(image: np.ndarray) -> np.ndarray:
    """Any image array -> (H, W) float32 ink-high in [0, 1] (light backgrounds inverted)."""
    gray = image_to_gray(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 1.0 - gray if float(border.mean()) > 0.5 else gray


class ExampleStore:
    """The examples under ``root`` (``<root>/<label>/<name>.png`` + ``.json``).

    ``read_image`` (path -> array) reads non-PNG files on import; the default reads PNG only.
    """

    def __init__(self, root: str | os.PathLike[str], read_image: ImageReader | None = None) -> None:
        self.root = Path(root)
        self.read_image = read_image or _read_png_file

    def _new_path(self, label: int, name: str | None = None) -> Path:
        folder = self.root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        stem = name or time.strftime("ex-%Y%m%d-%H%M%S")
        path, k = folder / f"{stem}.png", 1
        while path.exists():
            k += 1
            path = folder / f"{stem}-{k}.png"
        return path

    def save(self, label: int, strokes: builtins.list[Any] | None = None, image: np.ndarray | None = None,
             name: str | None = None) -> Example:
        """Keep a drawing as an example of ``label``. ``image``: (H, W) ink-high in [0, 1]
        (e.g. the canvas at 280 x 280); without it the strokes are rendered with the canvas
        pen. Raises ExampleError for a bad label, EmptyDrawing if there is no ink."""
        label = _check_label(label)
        lines = as_polylines(strokes) if strokes is not None else []
        if image is None:
            if not lines:
                raise EmptyDrawing()
            image = render_strokes(lines, SIDE, PEN, supersample=2)
        ink = np.asarray(image, np.float32)
        if not (ink > 0.1).any():
            raise EmptyDrawing()
        path = self._new_path(label, name)
        atomic_write_bytes(path, encode_png(_square_gray(ink)))
        if lines:
            data = {"canvas": SIDE, "label": label,
                    "strokes": [np.round(p, 2).tolist() for p in lines]}
            atomic_write_text(path.with_suffix(".json"), json.dumps(data))
        return Example(label, path)

    def list(self, label: int | None = None) -> list[Example]:
        """Every example (sorted by label, then name), or those of one ``label``."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in sorted(self.root.iterdir()):
            lab = _label_of(folder)
            if lab is None or not folder.is_dir() or (label is not None and lab != label):
                continue
            out += [Example(lab, p) for p in sorted(folder.iterdir())
                    if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
        return out

    def counts(self) -> builtins.list[int]:
        """Examples per digit 0-9."""
        c = [0] * 10
        for ex in self.list():
            c[ex.label] += 1
        return c

    def delete(self, example: Example) -> None:
        for p in (example.path, example.strokes_path):
            if p.exists():
                p.unlink()

    def relabel(self, example: Example, label: int) -> Example:
        """Move an example (image and strokes) to another digit's folder."""
        label = _check_label(label)
        if label == example.label:
            return example
        new = self._new_path(label, example.name)
        os.replace(example.path, new)
        if example.strokes_path.exists():
            os.replace(example.strokes_path, new.with_suffix(".json"))
        return Example(label, new)

    def load_gray(self, example: Example) -> np.ndarray:
        """(H, W) float32 ink-high image of an example."""
        return ink_of(self.read_image(example.path))

    def import_folder(self, src: str | os.PathLike[str]) -> builtins.list[Example]:
        """Copy every image of a ``<label>/<image>`` folder in (as 280 x 280 PNGs, strokes kept).

        Raises ExampleError if the folder holds no such images; unreadable files are skipped.
        """
        src = Path(src)
        found = ExampleStore(src, self.read_image).list()
        if not found:
            raise ExampleError(f"{src} has no digit images in sub-folders named 0 to 9")
        out = []
        for ex in found:
            try:
                ink = ink_of(self.read_image(ex.path))
            except (ExplorerError, OSError, ValueError):
                continue
            new = self._new_path(ex.label, ex.name)
            atomic_write_bytes(new, encode_png(_square_gray(ink)))
            if ex.has_strokes():
                shutil.copyfile(ex.strokes_path, new.with_suffix(".json"))
            out.append(Example(ex.label, new))
        return out

    def export(self, dest: str | os.PathLike[str]) -> int:
        """Copy every example (and strokes) to ``dest/<label>/`` -> number of examples."""
        dest = Path(dest)
        n = 0
        for ex in self.list():
            folder = dest / str(ex.label)
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ex.path, folder / ex.path.name)
            if ex.has_strokes():
                shutil.copyfile(ex.strokes_path, folder / ex.strokes_path.name)
            n += 1
        return n


def _check_label(label: object) -> int:
    try:
        lab = int(str(label).strip())
    except (TypeError, ValueError):
        lab = -1
    if not 0 <= lab <= 9 or str(label).strip() not in {str(d) for d in range(10)}:
        raise ExampleError(f"a digit example needs a label from 0 to 9, got {label!r}")
    return lab


@dataclass
class ExampleSet:
    """Examples as network inputs: x (N, 1, 28, 28) float32, y (N,) int64, strokes or None."""

    x: np.ndarray
    y: np.ndarray
    strokes: list[list[np.ndarray] | None]
    names: list[str]
    skipped: list[tuple[str, str]] = dataclass_field(default_factory=list)   # (path, why) not used

    def __len__(self) -> int:
        return len(self.y)


def example_input(store: ExampleStore, ex: Example) -> np.ndarray:
    """One example as the Digit Lab sees it -> (1, 28, 28) float32: its strokes through
    ``preprocess_strokes`` when kept, else its image through ``to_mnist``."""
    lines = ex.strokes()
    return preprocess_strokes(lines) if lines else to_mnist(store.read_image(ex.path))


def load_examples(root: str | os.PathLike[str], read_image: ImageReader | None = None) -> ExampleSet:
    """Every example under ``root`` -> inputs as the Digit Lab sees them: through the
    strokes (``preprocess_strokes``) when they are there, else the image (``to_mnist``).
    Raises ExampleError when there are none."""
    root = Path(root)
    if not root.is_dir():
        raise ExampleError(f"{root} is not a folder of examples")
    store = ExampleStore(root, read_image)
    xs, ys, strokes, names = [], [], [], []
    skipped = unused_entries(root)
    for ex in store.list():
        lines = ex.strokes()
        try:
            x = example_input(store, ex)
        except (ExplorerError, OSError, ValueError) as exc:
            skipped.append((str(ex.path), f"unreadable ({exc})"))
            continue
        xs.append(x)
        ys.append(ex.label)
        strokes.append(lines or None)
        names.append(f"{ex.label}/{ex.path.name}")
    if not xs:
        raise ExampleError(f"{root} has no readable digit images in sub-folders named 0 to 9")
    return ExampleSet(np.stack(xs).astype(np.float32), np.array(ys, np.int64), strokes, names,
                      sorted(skipped))


def unused_entries(root: Path) -> list[tuple[str, str]]:
    """What under ``root`` is not an example and so is not used: (path, why) — folders not
    named 0 to 9, and files in the label folders that are not images (hidden files and the
    strokes kept beside an image are not counted)."""
    out = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if _label_of(entry) is None or not entry.is_dir():
            why = "not a folder named 0 to 9" if entry.is_dir() else "a file beside the label folders"
            out.append((str(entry), why))
            continue
        for f in sorted(entry.iterdir()):
            if f.name.startswith(".") or f.suffix.lower() in IMAGE_SUFFIXES:
                continue
            if f.suffix.lower() == ".json" and any(f.with_suffix(s).exists() for s in IMAGE_SUFFIXES):
                continue
            out.append((str(f), "a folder, not an image" if f.is_dir() else
                        f"not an image ({', '.join(sorted(IMAGE_SUFFIXES))})"))
    return out
