"""Sequence panels reuse what is unchanged and redraw what changed (issue 16; no timing asserts)."""

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from explorer.ui.sequence.common import FastImageItem


def _argb(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    a = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return a[:, :img.width()].copy()


def _rendered(cls: type, data: np.ndarray, item: pg.ImageItem | None = None) -> tuple[pg.ImageItem, np.ndarray]:
    if item is None:
        item = cls(axisOrder="row-major", autoLevels=False, levels=(-1.0, 1.0))
        item.setColorMap(pg.colormap.get("CET-D1"))
    item.setImage(data, levels=(-1.0, 1.0))
    item.render()
    return item, _argb(item.qimage)


def test_fast_image_render_gives_pyqtgraphs_colours_exactly(qtbot):
    """Cell for cell the colour pyqtgraph's own LUT render gives, the levels' edges and clipping included."""
    rng = np.random.default_rng(7)
    data = rng.uniform(-1.3, 1.3, (40, 300)).astype(np.float32)
    data[0, :9] = [-1.0, 1.0, 0.0, -1e-7, 1e-7, 2 / 256 - 1, np.nextafter(np.float32(1), np.float32(0)), 5.0, -5.0]
    data[1, :257] = np.arange(257) / 128.0 - 1.0            # every LUT boundary
    _, want = _rendered(pg.ImageItem, data)
    fast, got = _rendered(FastImageItem, data)
    assert fast.qimage.format() == QtGui.QImage.Format.Format_ARGB32_Premultiplied
    assert want.shape == (40, 300) and len(np.unique(want)) > 200
    assert np.array_equal(got, want)
    # new values into the same item: its reused pixel buffer holds the new colours
    _, got2 = _rendered(FastImageItem, -data, fast)
    _, want2 = _rendered(pg.ImageItem, -data)
    assert np.array_equal(got2, want2) and not np.array_equal(got2, got)
