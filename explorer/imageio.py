"""Read image files (PNG, JPEG, BMP, ...) into numpy through Qt's ``QImageReader``.

Only ``PySide6.QtGui`` is used: no ``QApplication`` is needed, and no extra dependency.
Huge images are scaled down while decoding (longer side at most ``MAX_SIDE``), which is
plenty for a digit that ends up 20 px tall: ``QImageReader.setScaledSize`` for the formats
whose decoder scales (JPEG), and for a PNG over ``BIG_PIXELS`` pixels a strip-by-strip
decoder (``bigpng``) whose memory does not grow with the image, so a 20000 x 20000 PNG is
read rather than refused. Problems raise ``ImageError`` with a short human sentence (the
file name is added by the caller).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageReader

from explorer.bigpng import PngError, png_header, read_big_png
from explorer.errors import ExplorerError

__all__ = ["BIG_PIXELS", "MAX_SIDE", "ImageError", "read_image", "write_gray_png"]

MAX_SIDE = 1024
BIG_PIXELS = 1 << 24        # PNGs with more pixels than this go through bigpng


class ImageError(ExplorerError, ValueError):
    """A file cannot be read as an image; ``str(exc)`` says why in one sentence."""


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ImageError("no such file")
    if path.is_dir():
        raise ImageError("is a folder, not an image file")
    if not os.access(path, os.R_OK):
        raise ImageError("permission denied")
    if path.stat().st_size == 0:
        raise ImageError("the file is empty (0 bytes)")


def read_image(path: str | os.PathLike[str], max_side: int = MAX_SIDE) -> np.ndarray:
    """Image file -> (H, W, 4) uint8 RGBA (straight alpha), longer side <= ``max_side``.

    Applies the file's orientation tag (EXIF). Raises ImageError if the file is missing,
    empty, not an image Qt can decode, or has zero width or height.
    """
    path = Path(path)
    _check_file(path)
    try:
        png = png_header(path)
        if png is not None and png.width * png.height > BIG_PIXELS and not png.interlaced:
            return read_big_png(path, max_side)
    except PngError as exc:
        raise ImageError(str(exc)) from None
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    if not reader.canRead():
        raise ImageError("not an image Qt can read (supported: PNG, JPEG, BMP, GIF, ...)")
    size = reader.size()
    if size.isValid() and (size.width() <= 0 or size.height() <= 0):
        raise ImageError(f"the image has zero size ({size.width()}x{size.height()})")
    if size.isValid() and max(size.width(), size.height()) > max_side:
        k = max_side / max(size.width(), size.height())
        reader.setScaledSize(QSize(max(1, round(size.width() * k)),
                                   max(1, round(size.height() * k))))
    image = reader.read()
    if image.isNull():
        why = reader.errorString() or "unknown error"
        if size.isValid() and size.width() * size.height() * 4 > QImageReader.allocationLimit() * 2**20:
            raise ImageError(f"the image is {size.width()}x{size.height()}, too large for "
                             f"Qt's {bytes(reader.format().data()).decode() or 'image'} decoder "
                             "to scale; save it as a PNG or JPEG to read it")
        raise ImageError(f"cannot decode the image ({why})")
    if image.width() <= 0 or image.height() <= 0:
        raise ImageError("the image has zero size")
    return qimage_to_rgba(image)


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """QImage (any format) -> (H, W, 4) uint8 RGBA copy."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
    buf = np.frombuffer(rgba.constBits(), np.uint8, count=h * stride)
    return buf.reshape(h, stride)[:, :w * 4].reshape(h, w, 4).copy()


def write_gray_png(path: str | os.PathLike[str], gray: np.ndarray) -> None:
    """gray: (H, W) uint8 or float in [0, 1] -> an 8-bit greyscale image file (format by suffix)."""
    g = np.asarray(gray)
    if g.dtype != np.uint8:
        g = np.clip(np.rint(g * 255.0), 0, 255).astype(np.uint8)
    g = np.ascontiguousarray(g)
    h, w = g.shape
    image = QImage(g.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    if not image.save(str(path)):
        raise ImageError(f"cannot write {path}")
