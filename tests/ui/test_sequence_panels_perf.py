"""The Sequence Lab's fast paths draw what the slow ones drew (no timing assertions here)."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import FastImageItem, FastTickAxis, cache_scroll_bars
from explorer.ui.sequence.predictions import PredictionsPanel, ProbStrip
from explorer.ui.sequence.textcolour import PosMap, TextColourer
from explorer.ui.sequence.unrolled import StepView, UnrolledPanel


def _pixels(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, :img.width()].astype(int)


def _specs(qtbot, cls, orientation: str, ticks: list) -> tuple:
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(400, 300)
    axis = cls(orientation)
    plot = view.addPlot(axisItems={orientation: axis})
    axis.setStyle(tickFont=QtGui.QFont("DejaVu Sans Mono", 8))
    if orientation == "bottom":
        plot.setRange(xRange=(-59.6, 0.6), padding=0)
    else:
        plot.invertY(True)
        plot.setRange(yRange=(-0.6, 4.6), padding=0)
    axis.setTicks([ticks])
    with qtbot.waitExposed(view):
        view.show()
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    specs = axis.generateDrawSpecs(painter)
    painter.end()
    return specs


@pytest.mark.parametrize("orientation", ["bottom", "left"])
def test_fast_tick_axis_places_ticks_and_labels_like_pyqtgraph(qtbot, orientation):
    if orientation == "bottom":
        ticks = [(float(-i), c) for i, c in zip(range(0, 60, 2), "abcdefghijklmnopqrstuvwxyz0123")]
    else:
        ticks = [(i, s) for i, s in enumerate(["a", "\u2423", "\u23ce", "(", "xyz"])]
    want = _specs(qtbot, pg.AxisItem, orientation, ticks)
    got = _specs(qtbot, FastTickAxis, orientation, ticks)
    assert (got[0][1], got[0][2]) == (QtCore.QPointF(want[0][1]), QtCore.QPointF(want[0][2]))
    assert [(QtCore.QPointF(a), QtCore.QPointF(b)) for _, a, b in want[1]] == [(a, b) for _, a, b in got[1]]
    assert [(r, int(f), s) for r, f, s in want[2]] == [(r, int(f), s) for r, f, s in got[2]]
    assert len(got[2]) == len(ticks)


def test_cached_scroll_bar_draws_the_base_styles_pixels(qtbot):
    edit = QtWidgets.QPlainTextEdit("line\n" * 300)
    qtbot.addWidget(edit)
    edit.resize(300, 400)
    with qtbot.waitExposed(edit):
        edit.show()
    bar = edit.verticalScrollBar()
    before = _pixels(bar.grab().toImage())
    cache_scroll_bars(edit)
    after = _pixels(bar.grab().toImage())
    assert np.abs(before - after).max() <= 3                # premultiplied-alpha rounding at most
    style = bar.style()
    bar.grab()
    assert len(style._pixmaps) == 1                          # same state: the pixmap is reused
    bar.setValue(bar.maximum())
    moved = _pixels(bar.grab().toImage())
    assert len(style._pixmaps) == 2 and np.abs(moved - after).max() > 20   # the handle moved


def test_colouring_reuses_unchanged_runs_and_matches_a_fresh_colourer(qtbot):
    edit = QtWidgets.QPlainTextEdit()
    qtbot.addWidget(edit)
    edit.resize(400, 300)
    edit.show()
    rng = np.random.default_rng(3)
    text = "abc def ghi\n" * 20
    values = rng.uniform(-1, 1, len(text) + 1)
    edit.setPlainText(text)
    colourer = TextColourer(edit)
    unknown = np.zeros(len(text) + 1, bool)
    colourer.apply(values[:len(text)], unknown, 0, PosMap(text))
    first = list(colourer.last)
    edit.moveCursor(QtGui.QTextCursor.MoveOperation.End)
    edit.insertPlainText("z")
    colourer.apply(values, unknown, 0, PosMap(text + "z"))
    assert colourer.last[0] is first[0]                      # typing at the end rebuilt only the tail

    def spans(sels):
        return [(s.cursor.selectionStart(), s.cursor.selectionEnd(), s.format.background().color().rgba())
                for s in sels]

    fresh = TextColourer(edit)
    fresh.apply(values, unknown, 0, PosMap(text + "z"))
    assert spans(colourer.last) == spans(fresh.last) and spans(edit.extraSelections()) == spans(fresh.last)


def test_cached_panels_still_show_their_numbers(qtbot):
    unrolled = UnrolledPanel()
    qtbot.addWidget(unrolled)
    unrolled.resize(400, 300)
    unrolled.show()
    blank = _pixels(unrolled.grab().toImage())
    h = np.linspace(-1, 1, 16, dtype=np.float32)
    unrolled.show_steps([None, StepView(0, "a", h[:4], h, [("b", 0.6)]), None], 3, "LSTM")
    drawn = _pixels(unrolled.grab().toImage())
    unrolled.show_steps([None, StepView(0, "a", h[:4], -h, [("b", 0.6)]), None], 3, "LSTM")
    flipped = _pixels(unrolled.grab().toImage())
    assert (np.abs(drawn - blank).max(axis=2) > 0).sum() > 200          # the frame and bars appeared
    assert (np.abs(flipped - drawn).max(axis=2) > 0).sum() > 50         # new numbers, new bars

    strip = ProbStrip()
    qtbot.addWidget(strip)
    strip.resize(400, 58)
    strip.show()
    strip.set_cells("ab", np.array([0.0, 1.0]), 1, np.zeros(2, bool))
    img = _pixels(strip.grab().toImage())
    x0, x1 = 4 + strip.cell // 2, 4 + strip.cell + strip.cell // 2
    low, high = img[4 + (strip.height() - 28) - 1, x0], img[10 + 16, x1]    # bottom of bar 0, top of bar 1
    assert low[2] > low[1] and high[1] > high[2]                         # red for P=0, green for P=1

    preds = PredictionsPanel()
    qtbot.addWidget(preds)
    preds.show_top([("a", 0.5, 1), ("b", 0.25, 2)], 2)
    assert [t.text() for t in preds.values] == ["50.0%", "25.0%", "", "", ""]
    assert preds.values[0].x() > preds.values[1].x()                     # right of the longer bar


def test_fast_image_item_draws_the_same_cells(qtbot):
    rng = np.random.default_rng(5)
    data = rng.uniform(-1, 1, (24, 30)).astype(np.float32)
    shots, formats = [], []
    for cls in (pg.ImageItem, FastImageItem):
        view = pg.GraphicsLayoutWidget()
        qtbot.addWidget(view)
        view.resize(300, 200)
        plot = view.addPlot()
        item = cls(axisOrder="row-major", autoLevels=False, levels=(-1.0, 1.0))
        item.setColorMap(pg.colormap.get("CET-D1"))
        plot.addItem(item)
        item.setImage(data, levels=(-1.0, 1.0))
        plot.setRange(xRange=(0, 30), yRange=(0, 24), padding=0)
        with qtbot.waitExposed(view):
            view.show()
        shots.append(_pixels(view.grab().toImage()))
        formats.append(item.qimage.format())
    assert formats[1] == QtGui.QImage.Format.Format_ARGB32_Premultiplied
    assert np.abs(shots[0] - shots[1]).max() <= 1
