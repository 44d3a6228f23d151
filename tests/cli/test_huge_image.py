"""Huge images are scaled while decoding, never refused for size: the strip-by-strip PNG
reader agrees with Qt's own decoder on every PNG kind, and a 20000 x 20000 PNG is
classified in a fresh process that stays far below the 1.6 GB a full decode would take."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
from PySide6.QtGui import QColor, QImage  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))

import hostile_inputs as hostile  # noqa: E402

from explorer import bigpng, imageio  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
F = QImage.Format
KINDS = {"gray8": F.Format_Grayscale8, "gray16": F.Format_Grayscale16, "rgb": F.Format_RGB32,
         "argb": F.Format_ARGB32, "rgbx64": F.Format_RGBX64, "rgba64": F.Format_RGBA64,
         "palette": F.Format_Indexed8, "mono": F.Format_Mono}


def _picture(kind: str, w: int = 37, h: int = 23) -> QImage:
    """Gradients, noise and stripes (so the PNG writer picks every row filter)."""
    rng = np.random.default_rng(len(kind))
    yy, xx = np.mgrid[0:h, 0:w]
    rgba = np.stack([xx * 255 // w, yy * 255 // h, (xx * yy) % 256,
                     np.where(rng.random((h, w)) < 0.3, 255, (xx * 7) % 256)], -1).astype(np.uint8)
    rgba[::5] = rng.integers(0, 256, rgba[::5].shape, dtype=np.uint8)
    src = QImage(rgba.tobytes(), w, h, 4 * w, F.Format_RGBA8888).copy()
    if kind == "palette":
        image = src.convertToFormat(F.Format_RGB32).convertToFormat(F.Format_Indexed8)
        image.setColor(3, QColor(10, 200, 30, 90).rgba())           # one see-through entry
        return image
    return src.convertToFormat(KINDS[kind])


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("strip_pixels", "read_bytes"), [(1, 7), (200, 1 << 20), (1 << 21, 7),
                                                         (1 << 21, 1 << 20)])
def test_strip_reader_matches_qt(tmp_path, monkeypatch, kind, strip_pixels, read_bytes):
    path = tmp_path / f"{kind}.png"
    assert _picture(kind).save(str(path))
    monkeypatch.setattr(bigpng, "STRIP_PIXELS", strip_pixels)        # 1: one row per strip
    monkeypatch.setattr(bigpng, "READ_BYTES", read_bytes)            # 7: zlib holds input back
    ours = bigpng.read_big_png(path, max_side=37)                    # no scaling: exact
    qt = imageio.qimage_to_rgba(QImage(str(path)))
    assert ours.shape == qt.shape == (23, 37, 4)
    assert np.abs(ours[..., 3].astype(int) - qt[..., 3]).max() <= 1
    opaque = qt[..., 3] >= 128                 # colour of see-through pixels is not defined
    assert np.abs(ours[opaque, :3].astype(int) - qt[opaque, :3]).max() <= 2


def test_strip_reader_averages_boxes(tmp_path):
    path = tmp_path / "checker.png"
    gray = np.kron(np.indices((8, 8)).sum(0) % 2 * 255, np.ones((2, 2))).astype(np.uint8)
    assert QImage(gray.tobytes(), 16, 16, 16, F.Format_Grayscale8).save(str(path))
    out = bigpng.read_big_png(path, max_side=8)
    np.testing.assert_array_equal(out[..., 0], gray[::2, ::2])
    halves = bigpng.read_big_png(path, max_side=4)          # 4x4 boxes of two colours: grey
    assert np.all(np.abs(halves[..., 0].astype(int) - 128) <= 1) and np.all(halves[..., 3] == 255)


def test_damaged_png_is_one_sentence(tmp_path):
    path = hostile.write_blank_png(tmp_path / "cut.png", 5000, 5000)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(imageio.ImageError, match="truncated|ends .* rows early"):
        imageio.read_image(path)


def test_twenty_thousand_pixel_png_is_classified(tmp_path):
    path = hostile.write_blank_png(tmp_path / "huge.png", 20000, 20000)
    assert path.stat().st_size < 2_000_000
    script = ("import runpy, sys\n"
              "def hwm_kb():  # own peak: ru_maxrss would also count the parent's RSS at fork\n"
              "    with open('/proc/self/status') as fh:\n"
              "        return next(int(l.split()[1]) for l in fh if l.startswith('VmHWM:'))\n"
              "sys.argv = ['cnn-rnn-explorer', 'classify', sys.argv[1], '--json']\n"
              "try:\n"
              "    runpy.run_module('explorer.cli', run_name='__main__')\n"
              "finally:\n"
              "    print('PEAK_MB', hwm_kb() // 1024,"
              " file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)[0]
    assert result["label"] == 1                      # a black bar on white: a "1"
    peak = int(done.stderr.split("PEAK_MB")[1])
    print(f"20000x20000 PNG classified; peak resident size {peak} MB")
    assert peak < 600                                # a full RGBA decode alone is 1,600 MB
