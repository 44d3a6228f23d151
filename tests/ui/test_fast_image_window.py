"""FastImageItem.set_window: a time window's image at a fixed width, whose key repaints only
the columns that changed; the heat map's painted region covers every pixel a key changes."""

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from explorer.ui.sequence.fastitems import FastImageItem
from explorer.ui.sequence.heatmap import HiddenHeatmapPanel


def _argb(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    a = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
    return a[:, :img.width()].copy()


def _item(cls=FastImageItem):
    item = cls(axisOrder="row-major", autoLevels=False, levels=(-1.0, 1.0))
    item.setColorMap(pg.colormap.get("CET-D1"))
    return item


def _pyqtgraphs(data: np.ndarray, width: int) -> np.ndarray:
    """pyqtgraph's own render of the window: the values, then NaN (transparent) columns."""
    full = np.full((data.shape[0], width), np.nan, np.float32)
    full[:, :data.shape[1]] = data
    item = _item(pg.ImageItem)
    item.setImage(full, levels=(-1.0, 1.0))
    item.render()
    return _argb(item.qimage)


def test_set_window_draws_pyqtgraphs_picture_and_marks_only_changed_columns(qtbot, monkeypatch):
    rng = np.random.default_rng(3)
    data = rng.uniform(-1.2, 1.2, (12, 30)).astype(np.float32)
    item = _item()
    marked = []
    real_update = pg.ImageItem.update                    # what reaches Qt (QGraphicsItem.update)

    def spy(self, *args):
        if self is item:
            marked.append(args[0] if args else "all")
        real_update(self, *args)
    monkeypatch.setattr(pg.ImageItem, "update", spy, raising=False)
    steps = [(data[:, :20], (0, 20)),       # first: every column
             (data[:, :21], (20, 21)),      # a key: its column
             (data[:, :24], (21, 24)),      # a paste of three
             (data[:, :22], (22, 24))]      # two deleted: they become empty
    edited = data[:, :22].copy()
    edited[5, 3] += 0.5
    steps.append((edited, (0, 22)))         # an earlier column changed: all of them
    for k, (image, (a, b)) in enumerate(steps):
        marked.clear()
        item.set_window(image, 30, (-1.0, 1.0))
        want = _pyqtgraphs(image, 30)
        got = _argb(item.qimage)
        n = image.shape[1]
        assert got.shape == (12, 30)
        assert np.array_equal(got[:, :n], want[:, :n])              # the values' colours exactly
        assert (got[:, n:] >> 24 == 0).all() and (want[:, n:] >> 24 == 0).all()   # both transparent
        if k == 0:                                                  # a new image: all of it
            assert "all" in marked
            continue
        rects = [r for r in marked if r != "all"]
        assert len(rects) == 1 and "all" not in marked, marked
        assert (rects[0].left(), rects[0].right()) == (a, b)       # item units = columns
    marked.clear()
    item.set_window(edited.copy(), 30, (-1.0, 1.0))                 # the same again: nothing to repaint
    assert marked == []
    item.setImage(data, levels=(-1.0, 1.0))                         # a whole image: as before
    item.render()
    assert np.array_equal(_argb(item.qimage), _pyqtgraphs(data, 30))     # 30 columns of values


def _viewport_pixels(panel):
    img = panel.viewport().grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.width(), 4)[..., :3].copy()


def _uncovered_after(qtbot, panel, h, start, step):
    """Show the next frame; the changed pixels outside what the viewport painted for it."""
    painted = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(QtGui.QRegion(event.region()))
            return False
    before = _viewport_pixels(panel)
    spy = Spy()
    panel.viewport().installEventFilter(spy)
    panel.show_states(h, start, step, None, "x" * len(h), (float(start), float(start + panel.window)))
    qtbot.wait(30)
    panel.viewport().removeEventFilter(spy)
    region = QtGui.QRegion()
    for r in painted:
        region += r
    ys, xs = np.nonzero(np.any(_viewport_pixels(panel) != before, axis=2))
    return len(ys), sum(not region.contains(QtCore.QPoint(int(x), int(y))) for y, x in zip(ys, xs))


def test_heat_map_repaints_every_pixel_a_frame_changes(qtbot, monkeypatch):
    panel = HiddenHeatmapPanel(window=60)
    qtbot.addWidget(panel)
    panel.resize(500, 220)
    panel.set_units(16)
    panel.show()
    qtbot.waitExposed(panel)
    h = np.random.default_rng(5).uniform(-1, 1, (60, 16)).astype(np.float32)
    panel.show_states(h[:40], 100, 139, None, "x" * 40, (100.0, 160.0))
    qtbot.wait(30)
    changed, missed = _uncovered_after(qtbot, panel, h[:41], 100, 140)         # a key at the end
    assert changed and not missed
    h2 = h[:41].copy()
    h2[10:] = -h2[10:]                                                           # an edit: later columns change
    changed, missed = _uncovered_after(qtbot, panel, h2, 100, 110)
    assert changed > 500 and not missed
    # negative control: without the columns' own repaint, an edit's columns stay stale
    real = FastImageItem.update
    monkeypatch.setattr(FastImageItem, "update", lambda self, *a: None if a else real(self))
    changed, missed = _uncovered_after(qtbot, panel, h[:41], 100, 110)
    assert missed > 100
