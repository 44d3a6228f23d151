"""Huge PNG files read strip by strip and scaled down on the way, in bounded memory.

Qt allocates the whole image before scaling it (its in-decoder downscaling does not apply
to this build's PNG reader), and refuses anything over its 256 MB allocation limit, so a
20000 x 20000 PNG would be "cannot decode". Here the pixel data is inflated as a stream
(``zlib``); each strip of rows goes to Qt's PNG decoder as a small *carrier* PNG with the
same bytes per pixel, so libpng undoes the row filters (which refer to the row above: the
previous strip's last row, already unfiltered, goes in front with filter 0). The raw
samples come back, become RGBA, and are box-averaged (alpha-weighted) into the output.
Memory stays at a few strips whatever the image size. Interlaced (Adam7) PNGs are not
handled here.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PySide6.QtGui import QImage

from explorer.errors import ExplorerError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRIP_PIXELS = 1 << 21           # pixels per strip (rows = STRIP_PIXELS // width)
READ_BYTES = 1 << 20
# bytes per pixel -> carrier (bit depth, colour type, Qt format it decodes to)
_CARRIERS = {1: (8, 0), 2: (16, 0), 3: (8, 2), 4: (8, 6), 6: (16, 2), 8: (16, 6)}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class PngError(ExplorerError, ValueError):
    """The PNG cannot be read this way; str(exc) is one sentence."""


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int
    depth: int
    color: int
    interlaced: bool

    @property
    def bits_per_pixel(self) -> int:
        return _CHANNELS[self.color] * self.depth

    @property
    def bpp(self) -> int:
        """Bytes per complete pixel as the row filters count them (at least 1)."""
        return max(1, self.bits_per_pixel // 8)

    @property
    def row_bytes(self) -> int:
        return (self.width * self.bits_per_pixel + 7) // 8


def png_header(path: str | os.PathLike[str]) -> PngHeader | None:
    """The IHDR of a PNG file, or None if the file is not a PNG."""
    with open(path, "rb") as fh:
        head = fh.read(33)
    if len(head) < 33 or head[:8] != SIGNATURE or head[12:16] != b"IHDR":
        return None
    w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
    if color not in _CHANNELS or depth not in (1, 2, 4, 8, 16) or w == 0 or h == 0:
        raise PngError(f"unsupported PNG header (bit depth {depth}, colour type {color}, {w}x{h})")
    return PngHeader(w, h, depth, color, bool(interlace))


def _chunks(fh: BinaryIO, extras: dict[bytes, bytes]) -> Iterator[bytes]:
    """Compressed image data in pieces of at most READ_BYTES; PLTE / tRNS go into extras."""
    fh.seek(8)
    while True:
        head = fh.read(8)
        if len(head) < 8:
            raise PngError("the PNG is truncated (no IEND chunk)")
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return
        if kind == b"IDAT":
            left = length
            while left > 0:
                piece = fh.read(min(READ_BYTES, left))
                if not piece:
                    raise PngError("the PNG is truncated inside its image data")
                left -= len(piece)
                yield piece
        elif kind in (b"PLTE", b"tRNS") and length <= 1024:
            extras[kind] = fh.read(length)
        else:
            fh.seek(length, os.SEEK_CUR)
        fh.seek(4, os.SEEK_CUR)                                   # CRC


def _strips(path: str | os.PathLike[str], hdr: PngHeader, rows: int,
            extras: dict[bytes, bytes]) -> Iterator[bytes]:
    """Filtered scanlines (filter byte + row_bytes each), ``rows`` at a time."""
    stride = 1 + hdr.row_bytes
    inflate = zlib.decompressobj()
    buf, left = bytearray(), hdr.height

    def inflated(data: bytes) -> bytes:
        try:
            return inflate.decompress(data, READ_BYTES * 4)
        except zlib.error as exc:
            raise PngError(f"the PNG's image data is damaged ({exc})") from None

    with open(path, "rb") as fh:
        pieces = _chunks(fh, extras)
        while left:
            if inflate.unconsumed_tail:             # input zlib held back (output cap)
                buf += inflated(inflate.unconsumed_tail)
            else:
                piece = next(pieces, None)
                more = inflated(piece) if piece is not None else inflate.flush()
                if piece is None and not more:
                    raise PngError(f"the PNG's image data ends {left:,} rows early")
                buf += more
            while left and len(buf) >= stride * min(rows, left):
                n = min(rows, left)
                yield bytes(buf[:stride * n])
                del buf[:stride * n]
                left -= n


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _unfilter(hdr: PngHeader, prev: bytes, filtered: bytes, n: int) -> np.ndarray:
    """n filtered scanlines (after the unfiltered row ``prev``) -> (n, row_bytes) uint8 raw,
    by Qt's PNG decoder reading a carrier PNG of the same bytes per pixel."""
    depth, color = _CARRIERS[hdr.bpp]
    width = hdr.row_bytes // hdr.bpp
    ihdr = struct.pack(">IIBBBBB", width, n + 1, depth, color, 0, 0, 0)
    png = (SIGNATURE + _chunk(b"IHDR", ihdr)
           + _chunk(b"IDAT", zlib.compress(b"\x00" + prev + filtered, 1)) + _chunk(b"IEND", b""))
    image = QImage.fromData(png, "PNG")  # type: ignore[arg-type]  # PySide6 6.11 wants str here, its stub says bytes
    if image.isNull() or image.height() != n + 1:
        raise PngError("the PNG's rows cannot be decoded")
    h, bpl = image.height(), image.bytesPerLine()
    mem = np.frombuffer(image.constBits(), np.uint8, count=h * bpl).reshape(h, bpl)[1:]
    fmt = image.format()
    if fmt == QImage.Format.Format_Grayscale8:
        raw = mem[:, :width].copy()              # the QImage owns mem: copy before it goes
    elif fmt == QImage.Format.Format_Grayscale16:
        raw = mem[:, :2 * width].view(np.uint16).astype(">u2").view(np.uint8)
    elif fmt in (QImage.Format.Format_RGB32, QImage.Format.Format_ARGB32):
        v = mem[:, :4 * width].view(np.uint32).reshape(n, width)
        parts = [(v >> 16) & 255, (v >> 8) & 255, v & 255] + ([v >> 24] if hdr.bpp == 4 else [])
        raw = np.stack(parts, axis=-1).astype(np.uint8)
    elif fmt in (QImage.Format.Format_RGBX64, QImage.Format.Format_RGBA64):
        v16 = mem[:, :8 * width].view(np.uint16).reshape(n, width, 4)[:, :, :hdr.bpp // 2]
        raw = v16.astype(">u2").view(np.uint8)
    else:
        raise PngError(f"unexpected decoder format {fmt}")
    return np.ascontiguousarray(raw).reshape(n, hdr.row_bytes)


def _pixels(hdr: PngHeader, raw: np.ndarray, extras: dict[bytes, bytes]) -> np.ndarray:
    """(n, row_bytes) raw samples -> (n, width, c) float32 in 0..255: c = 1 (opaque grey),
    3 (opaque RGB) or 4 (RGB premultiplied by alpha / 255, then alpha)."""
    n, w, d = raw.shape[0], hdr.width, hdr.depth
    if d < 8:
        shifts = np.arange(8 - d, -1, -d, dtype=np.uint8)
        samples = ((raw[:, :, None] >> shifts) & ((1 << d) - 1)).reshape(n, -1)[:, :w]
    elif d == 16:
        samples = raw.reshape(n, -1, 2)[:, :, 0]                # the high byte
    else:
        samples = raw
    samples = samples.reshape(n, w, _CHANNELS[hdr.color])
    trns = extras.get(b"tRNS", b"")
    if hdr.color == 3:
        pal = np.frombuffer(extras.get(b"PLTE", b""), np.uint8).reshape(-1, 3)
        if len(pal) == 0:
            raise PngError("the palette PNG has no palette")
        lut = np.full((256, 4), 255, np.float32)
        lut[:len(pal), :3] = pal
        lut[:len(trns), 3] = np.frombuffer(trns, np.uint8)
        lut[:, :3] *= lut[:, 3:] / 255.0
        return lut[samples[:, :, 0]] if trns else lut[samples[:, :, 0], :3]
    out = samples.astype(np.float32)
    if d < 8:
        out *= 255.0 / ((1 << d) - 1)
    if trns and hdr.color in (0, 2) and d <= 8:
        key = np.frombuffer(trns, ">u2").astype(samples.dtype)
        clear = np.all(samples == key, axis=-1)
        out = np.concatenate([out, np.full((n, w, 1), 255.0, np.float32)], axis=-1)
        out[clear] = 0.0
        return out if hdr.color == 2 else out[:, :, [0, 0, 0, 1]]
    if hdr.color == 4:
        out = out[:, :, [0, 0, 0, 1]]
    if hdr.color in (4, 6):
        out[:, :, :3] *= out[:, :, 3:] / 255.0
    return out


def read_big_png(path: str | os.PathLike[str], max_side: int) -> np.ndarray:
    """A PNG of any size -> (H', W', 4) uint8 RGBA, longer side max_side (box-averaged)."""
    hdr = png_header(path)
    if hdr is None:
        raise PngError("not a PNG file")
    if hdr.interlaced:
        raise PngError(f"the image is {hdr.width}x{hdr.height} and interlaced; save it "
                       "without interlacing, or smaller, to read it")
    k = max_side / max(hdr.width, hdr.height)
    ow, oh = max(1, round(hdr.width * k)), max(1, round(hdr.height * k))
    col_bin = np.arange(hdr.width) * ow // hdr.width
    col_start = np.searchsorted(col_bin, np.arange(ow))
    col_count = np.diff(np.r_[col_start, hdr.width]).astype(np.float32)
    acc = np.zeros((oh, ow, 4), np.float32)                      # sums of a*rgb and of a
    row_count = np.zeros(oh, np.float32)
    extras: dict[bytes, bytes] = {}
    rows = max(1, STRIP_PIXELS // hdr.width)
    prev, y = bytes(hdr.row_bytes), 0
    for filtered in _strips(path, hdr, rows, extras):
        n = len(filtered) // (1 + hdr.row_bytes)
        raw = _unfilter(hdr, prev, filtered, n)
        prev = raw[-1].tobytes()
        px = np.add.reduceat(_pixels(hdr, raw, extras), col_start, axis=1)   # (n, ow, c)
        cols = np.empty((n, ow, 4), np.float32)
        cols[:, :, :3] = px[:, :, :3] if px.shape[2] >= 3 else px[:, :, :1]
        cols[:, :, 3] = px[:, :, 3] if px.shape[2] == 4 else 255.0 * col_count
        row_bin = (y + np.arange(n)) * oh // hdr.height
        starts = np.flatnonzero(np.r_[True, row_bin[1:] != row_bin[:-1]])
        acc[row_bin[starts]] += np.add.reduceat(cols, starts, axis=0)
        row_count[row_bin[starts]] += np.diff(np.r_[starts, n])
        y += n
    alpha = acc[:, :, 3]                                         # in place from here on
    acc[:, :, :3] *= (255.0 / np.maximum(alpha, 1e-6))[:, :, None]
    alpha /= row_count[:, None]
    alpha /= col_count[None, :]
    np.rint(acc, out=acc)
    return np.clip(acc, 0, 255, out=acc).astype(np.uint8)
