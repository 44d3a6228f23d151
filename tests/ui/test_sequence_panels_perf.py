"""The Sequence Lab's fast paths draw what the slow ones drew (no timing assertions here)."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import cache_scroll_bars
from explorer.ui.sequence.fastitems import FastTickAxis
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


def _editor(qtbot, text: str) -> QtWidgets.QPlainTextEdit:
    from explorer.ui.sequence.editor import SequenceEditor
    edit = SequenceEditor()
    qtbot.addWidget(edit)
    edit.resize(420, 300)
    edit.setCursorWidth(0)                     # no caret in the pictures
    edit.setPlainText(text)
    edit.show()
    return edit


def test_painted_colours_equal_qt_selections_pixel_for_pixel(qtbot, monkeypatch):
    """The runs painted under the text give the pixels Qt's ExtraSelections gave (wrapped
    lines, trailing spaces, tabs, empty lines, an emoji), away from the glyphs' edges."""
    text = ("def f(x):\n    return 'caf\u00e9' + x  # wraps " + "w" * 60
            + "\n\tz = [1, 2]   \n\nabcdefgh\n  a = b  \n\U0001F600 ok\n") * 4
    rng = np.random.default_rng(1)
    values = rng.uniform(-1, 1, len(text))
    values[5:9] = np.nan
    unknown = np.zeros(len(text), bool)
    unknown[[3, 4, 30, 31, 60]] = True
    ours, ref = _editor(qtbot, text), _editor(qtbot, text)
    colourer = TextColourer(ours)
    colourer.apply(values, unknown, 0, PosMap(text))
    sels = []
    for a, b, colour in colourer.spans():              # the same runs as Qt selections
        sel = QtWidgets.QTextEdit.ExtraSelection()
        cur = QtGui.QTextCursor(ref.document())
        cur.setPosition(a)
        cur.setPosition(b, QtGui.QTextCursor.MoveMode.KeepAnchor)
        sel.cursor, sel.format = cur, QtGui.QTextCharFormat()
        sel.format.setBackground(colour)
        sels.append(sel)
    ref.setExtraSelections(sels)
    assert len(sels) > 100
    even = []                                          # lines on the monospace fast path
    real = TextColourer._even_rects
    monkeypatch.setattr(TextColourer, "_even_rects", staticmethod(lambda *a: even.append(1) or real(*a)))
    got, want = _pixels(ours.viewport().grab().toImage()), _pixels(ref.viewport().grab().toImage())
    assert len(even) >= 4
    dark = (got[..., :3].min(-1) < 200) | (want[..., :3].min(-1) < 200)
    near = dark.copy()                                 # within 2 px of a glyph
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near |= np.roll(np.roll(dark, dy, 0), dx, 1)
    differ = np.abs(got - want).max(-1) > 10
    assert (~near).mean() > 0.5 and not (differ & ~near).any()
    # a negative control: one run fewer is seen (the longest)
    runs = colourer._runs
    colourer._runs = np.delete(runs, np.argmax(runs[:, 1] - runs[:, 0]), axis=0)
    fewer = _pixels(ours.viewport().grab().toImage())
    assert (np.abs(fewer - want).max(-1) > 10).sum() > 50


def test_colour_runs_follow_edits_until_the_next_frame(qtbot):
    text = "abc def ghi\n" * 20
    edit = _editor(qtbot, text)
    values = np.random.default_rng(3).uniform(-1, 1, len(text))
    colourer = TextColourer(edit)
    colourer.apply(values, np.zeros(len(text), bool), 0, PosMap(text))
    before = [(a, b, c.rgba()) for a, b, c in colourer.spans()]
    cur = edit.textCursor()
    cur.setPosition(14)
    cur.insertText("XY")
    shift = [(a + 2 * (a >= 14), b + 2 * (b >= 14), c) for a, b, c in before]
    assert [(a, b, c.rgba()) for a, b, c in colourer.spans()] == shift
    cur.setPosition(20)
    cur.setPosition(30, QtGui.QTextCursor.MoveMode.KeepAnchor)
    cur.removeSelectedText()                           # runs inside the removal vanish or shrink

    def cut(p):
        return p if p < 20 else (20 if p < 30 else p - 10)
    want = [(cut(a), cut(b), c) for a, b, c in shift if cut(b) > cut(a)]
    assert [(a, b, c.rgba()) for a, b, c in colourer.spans()] == want and len(want) < len(shift)
    fresh = TextColourer(edit)                         # and a new frame colours from scratch
    text2 = edit.toPlainText()
    fresh.apply(values[:len(text2)], np.zeros(len(text2), bool), 0, PosMap(text2))
    colourer.apply(values[:len(text2)], np.zeros(len(text2), bool), 0, PosMap(text2))
    assert [(a, b) for a, b, _ in colourer.spans()] == [(a, b) for a, b, _ in fresh.spans()]


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
    assert [t for t, _ in preds.value_labels()] == ["50.0%", "25.0%"]
    assert preds.value_labels()[0][1] > preds.value_labels()[1][1]       # right of the longer bar


def test_a_changed_tail_repaints_its_lines_only(qtbot):
    text = "abc def ghi\n" * 12
    edit = _editor(qtbot, text)
    values = np.random.default_rng(4).uniform(-1, 1, len(text))
    colourer = TextColourer(edit)
    colourer.apply(values, np.zeros(len(text), bool), 0, PosMap(text))
    qtbot.waitExposed(edit)
    painted = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt)
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(QtGui.QRegion(event.region()))
            return False

    spy = Spy()
    edit.viewport().installEventFilter(spy)
    QtWidgets.QApplication.processEvents()
    painted.clear()
    changed = values.copy()
    changed[-20:] = -changed[-20:]                     # the last two lines change colour
    colourer.apply(changed, np.zeros(len(text), bool), 0, PosMap(text))
    qtbot.waitUntil(lambda: bool(painted))
    region = QtGui.QRegion()
    for r in painted:
        region = region.united(r)
    offset = edit.contentOffset()
    doc = edit.document()

    def line_rect(pos):
        return edit.blockBoundingGeometry(doc.findBlock(pos)).translated(offset).toAlignedRect()
    assert all(region.contains(line_rect(p)) for p in (len(text) - 20, len(text) - 12, len(text) - 2))
    assert not region.intersects(line_rect(0))          # the first line, unchanged, is not repainted
