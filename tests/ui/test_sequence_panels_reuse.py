"""Sequence panels reuse what is unchanged and redraw what changed (issue 16; no timing asserts)."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui

from tests.ui.conftest import argb as _argb


def _pixels(widget) -> np.ndarray:
    return _argb(widget.grab().toImage())


def _trajectory(qtbot):
    from explorer.analysis.pca import fit_pca
    from explorer.ui.sequence.trajectory import TrajectoryPanel
    panel = TrajectoryPanel()
    qtbot.addWidget(panel)
    panel.resize(450, 320)
    panel.set_basis(fit_pca(np.random.default_rng(0).normal(size=(400, 8)), k=4))
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _walk(n: int, seed: int) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).normal(scale=0.3, size=(n, 4)), axis=0).astype(np.float32)


def test_trajectory_trail_draws_what_a_fresh_panel_draws(qtbot):
    """Keys typed one by one give the picture of a panel shown only the last frame; the dots,
    the orange cursor and the path are where the points map to."""
    from explorer.ui.sequence.trajectory import TRAIL
    walk, text = _walk(TRAIL + 5, 1), "def f(x):\n    return x + 1  # a comment " * 3
    typed = _trajectory(qtbot)
    typed.show_points(walk[:TRAIL], text[:TRAIL], first=0)
    _pixels(typed)
    for k in range(1, 6):                                    # five keys
        typed.show_points(walk[k:TRAIL + k], text[k:TRAIL + k], first=k)
    assert np.array_equal(typed.plot.trail_x, walk[5:, 0]) and np.array_equal(typed.plot.trail_y, walk[5:, 1])
    fresh = _trajectory(qtbot)
    fresh.show_points(walk[5:], text[5:TRAIL + 5], first=5)
    want = _pixels(fresh)
    assert np.array_equal(_pixels(typed), want)
    fresh.show_points(walk[4:TRAIL + 4], text[4:TRAIL + 4], first=4)    # negative control: a key earlier
    assert not np.array_equal(_pixels(fresh), want)
    # the cursor is the orange dot on the newest point; the newest dots are the trail's dark blue
    plot = typed.plot
    plot.labels = []                                         # (no label over the dots)
    plot.update()
    img = plot.grab().toImage()
    cx, cy = float(plot.px_x(walk[-1, 0])), float(plot.px_y(walk[-1, 1]))
    assert img.pixelColor(round(cx), round(cy)).name() == "#e07b00"
    dot = img.pixelColor(round(float(plot.px_x(walk[-2, 0]))), round(float(plot.px_y(walk[-2, 1]))))
    assert dot.blue() > dot.red() + 60                       # a blue dot (unless the cursor covers it)
    assert typed.plot.message() == "" and fresh.plot.message() == ""
    typed.show_points(walk[:0], "", first=0)                 # no text: the empty state says so
    assert typed.plot.message().startswith("No text yet") and len(typed.plot.trail_x) == 0


def test_trajectory_tooltip_names_the_character_under_the_mouse(qtbot):
    from explorer.ui.sequence.trajectory import TRAIL
    panel = _trajectory(qtbot)
    walk, text = _walk(TRAIL, 2), ("abcdefghij" * 6)[:TRAIL]
    panel.show_points(walk, text, first=100)
    tip = panel.plot.tooltip_at(float(walk[-1, 0]), float(walk[-1, 1]))
    assert tip is not None and "'j'" in tip and f"character {100 + TRAIL - 1}" in tip and "the cursor" in tip
    far = panel.plot.x_range()[0], panel.plot.y_range()[0]
    assert panel.plot.tooltip_at(*far) is None or "character" in panel.plot.tooltip_at(*far)


class _Paints:
    """Counts the paint events a widget receives."""

    def __init__(self, widget) -> None:
        from PySide6 import QtCore, QtWidgets

        counter = self
        self.n = 0

        class _Filter(QtCore.QObject):
            def eventFilter(self, obj, event):  # noqa: N802 (Qt)
                if event.type() == QtCore.QEvent.Type.Paint:
                    counter.n += 1
                return False

        self._filter = _Filter()
        for w in [widget, *widget.findChildren(QtWidgets.QWidget)]:
            w.installEventFilter(self._filter)


def _settle(qtbot) -> None:
    from PySide6 import QtWidgets
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    qtbot.wait(20)


def _steps(seed: int, char: str = "a"):
    from explorer.session.sequence_view import StepView
    rng = np.random.default_rng(seed)
    return [StepView(4, "(", rng.normal(size=8).astype(np.float32), rng.normal(size=24).astype(np.float32),
                     [("x", 0.5), ("y", 0.25)]),
            StepView(5, char, rng.normal(size=8).astype(np.float32), rng.normal(size=24).astype(np.float32),
                     [("\n", 0.7), (" ", 0.1)]), None]


def test_unrolled_repaints_only_when_its_steps_change(qtbot):
    from explorer.ui.sequence.unrolled import UnrolledPanel
    panel = UnrolledPanel()
    qtbot.addWidget(panel)
    panel.resize(410, 320)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_steps(_steps(0), 3, "LSTM")
    _settle(qtbot)
    paints = _Paints(panel)
    panel.show_steps(_steps(0), 3, "LSTM")                  # equal copies: nothing to repaint
    _settle(qtbot)
    assert paints.n == 0
    before = _pixels(panel)
    for changed in ((_steps(0, "b"), 3), (_steps(1), 3), (_steps(0), 5)):   # char, numbers, unit
        panel.show_steps(changed[0], changed[1], "LSTM")
        _settle(qtbot)
        assert paints.n >= 1
        assert not np.array_equal(_pixels(panel), before)
        paints.n = 0
        panel.show_steps(_steps(0), 3, "LSTM")
        _settle(qtbot)
        assert np.array_equal(_pixels(panel), before)


def test_unrolled_bars_are_the_rectangles_drawn_one_by_one(qtbot, monkeypatch):
    """The array-backed bars give the pixels of the former QRectF-list drawing."""
    from PySide6 import QtCore

    from explorer.ui.sequence import unrolled
    panel = unrolled.UnrolledPanel()
    qtbot.addWidget(panel)
    panel.resize(410, 320)
    panel.show()
    panel.show_steps(_steps(2), 6, "GRU")
    fast = _pixels(panel)

    def reference(self, p, jobs):
        for rect, v, unit in jobs:
            one_by_one(self, p, rect, v, unit)

    def one_by_one(self, p, rect, v, unit):
        v = np.asarray(v, float)[: self.MAX_BARS]
        scale = max(1.0, float(np.abs(v).max()))
        mid = rect.center().y()
        bw = rect.width() / len(v)
        hgt = (rect.height() / 2) * v / scale
        tops, heights = mid - np.maximum(hgt, 0), np.abs(hgt)
        lefts = rect.left() + np.arange(len(v)) * bw
        kind = np.where(v >= 0, 0, 1)
        if unit is not None and 0 <= unit < len(v):
            kind[unit] = 2
        p.save()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        for code, key in enumerate(("pos", "neg", "sel")):
            for i in np.flatnonzero(kind == code):
                p.setBrush(unrolled._BAR_COLOURS[key])
                p.drawRect(QtCore.QRectF(lefts[i], tops[i], max(bw - 0.5, 0.8), heights[i]))
        p.restore()
        p.setPen(QtGui.QPen(QtGui.QColor("#cccccc"), 1))
        p.drawLine(QtCore.QPointF(rect.left(), mid), QtCore.QPointF(rect.right(), mid))

    monkeypatch.setattr(unrolled.UnrolledPanel, "_bars", reference)
    slow = unrolled.UnrolledPanel()                          # a new panel: no card drawn before
    qtbot.addWidget(slow)
    slow.resize(410, 320)
    slow.show()
    slow.show_steps(_steps(2), 6, "GRU")
    assert np.array_equal(_pixels(slow), fast)
    slow.show_steps(_steps(3), 6, "GRU")                     # negative control: other numbers
    assert not np.array_equal(_pixels(slow), fast)


def _typed_steps(k: int):
    """The steps around the cursor after k keys at the end of a text: t-1, t, nothing after."""
    from explorer.session.sequence_view import StepView
    rng = np.random.default_rng(100)
    values = [(rng.normal(size=8).astype(np.float32), rng.normal(size=24).astype(np.float32)) for _ in range(12)]
    return [StepView(k + j, "abcdefghijkl"[k + j], values[k + j][0].copy(), values[k + j][1].copy(),
                     [("x", 0.1 * (k + j) % 1), ("y", 0.05)]) if j < 2 else None for j in range(3)]


def test_unrolled_reuses_the_card_of_a_step_that_moved_and_draws_what_a_fresh_panel_draws(qtbot, monkeypatch):
    from explorer.ui.sequence import unrolled
    typed = unrolled.UnrolledPanel()
    qtbot.addWidget(typed)
    typed.resize(410, 320)
    typed.show()
    drawn = []
    real = unrolled.UnrolledPanel._bars
    def spy(self, p, jobs):                                  # h(t)'s bars (a unit selected): a step's card
        if jobs[0][2] is not None:
            drawn.append(self)
        real(self, p, jobs)
    monkeypatch.setattr(unrolled.UnrolledPanel, "_bars", spy)
    typed.show_steps(_typed_steps(0), 2, "LSTM")
    _pixels(typed)
    assert drawn.count(typed) == 2                           # two new steps, two cards
    for k in range(1, 5):                                    # a key: step t is now t-1, one new card
        typed.show_steps(_typed_steps(k), 2, "LSTM")
        got = _pixels(typed)
        assert drawn.count(typed) == 2 + k
        fresh = unrolled.UnrolledPanel()
        qtbot.addWidget(fresh)
        fresh.resize(410, 320)
        fresh.show()
        fresh.show_steps(_typed_steps(k), 2, "LSTM")
        assert np.array_equal(got, _pixels(fresh))
    typed.show_steps(_typed_steps(4), 5, "LSTM")              # another unit: both cards drawn again
    _pixels(typed)
    assert drawn.count(typed) == 2 + 4 + 2


def test_a_key_at_the_end_repaints_the_unrolled_columns_that_changed_and_every_changed_pixel(qtbot):
    """Typing at the end moves t to t-1 and adds a new t; the "not typed yet" column stays: the
    repainted area leaves it out, yet covers every pixel that differs between the two frames."""
    from PySide6 import QtCore, QtGui, QtWidgets

    from explorer.ui.sequence import unrolled

    def render(steps) -> np.ndarray:
        fresh = unrolled.UnrolledPanel()
        qtbot.addWidget(fresh)
        fresh.resize(410, 320)
        fresh.show_steps(steps, 2, "LSTM")
        return _pixels(fresh)

    panel = unrolled.UnrolledPanel()
    qtbot.addWidget(panel)
    panel.resize(410, 320)
    panel.show()
    qtbot.waitExposed(panel)
    painted = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt)
            if obj is panel and event.type() == QtCore.QEvent.Type.Paint:
                painted.append(QtGui.QRegion(event.region()))
            return False

    spy = Spy()
    panel.installEventFilter(spy)
    panel.show_steps(_typed_steps(0), 2, "LSTM")
    _settle(qtbot)
    for k in range(1, 4):
        painted.clear()
        panel.show_steps(_typed_steps(k), 2, "LSTM")
        _settle(qtbot)
        assert painted
        region = QtGui.QRegion()
        for r in painted:
            region = region.united(r)
        assert not region.intersects(panel._column_rect(2))              # the "not typed yet" column
        diff = np.argwhere(render(_typed_steps(k - 1)) != render(_typed_steps(k)))
        assert len(diff)
        assert all(region.contains(QtCore.QPoint(int(x), int(y))) for y, x in diff)
        assert np.array_equal(_pixels(panel), render(_typed_steps(k)))
    painted.clear()
    panel.show_steps(_typed_steps(3), 5, "LSTM")                      # another unit: all of it
    _settle(qtbot)
    assert any(r.boundingRect() == panel.rect() for r in painted)
    panel.removeEventFilter(spy)
    QtWidgets.QApplication.processEvents()


def test_probability_strip_repaints_only_when_its_cells_change(qtbot):
    from explorer.ui.sequence.predictions import ProbStrip
    strip = ProbStrip()
    qtbot.addWidget(strip)
    strip.resize(400, 58)
    strip.show()
    qtbot.waitExposed(strip)
    probs, unknown = np.array([0.1, np.nan, 0.9]), np.array([False, True, False])
    strip.set_cells("ab(", probs, 2, unknown)
    _settle(qtbot)
    paints = _Paints(strip)
    strip.set_cells("ab(", probs.copy(), 2, unknown.copy())   # the same cells (NaN included)
    _settle(qtbot)
    assert paints.n == 0
    for args in (("ab)", probs, 2, unknown), ("ab(", np.array([0.1, np.nan, 0.2]), 2, unknown),
                 ("ab(", probs, 1, unknown), ("ab(", probs, 2, np.array([False, False, False]))):
        strip.set_cells(*args)
        _settle(qtbot)
        assert paints.n == 1
        paints.n = 0


def test_trail_labels_follow_the_typed_characters_in_their_slots(qtbot):
    from explorer.ui.sequence.trajectory import LABELS, TRAIL
    panel = _trajectory(qtbot)
    walk, text = _walk(TRAIL + 1, 4), ("abcdefghij" * 7)[:TRAIL + 1]
    panel.show_points(walk[:TRAIL], text[:TRAIL], first=0)
    before = panel.label_texts()
    assert sorted(before) == sorted(text[TRAIL - LABELS:TRAIL])
    drawn = _pixels(panel)
    panel.show_points(walk[1:], text[1:], first=1)          # one more key: one slot gets the new char
    after = panel.label_texts()
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert changed == [TRAIL % LABELS] and after[TRAIL % LABELS] == text[TRAIL]
    xs = [x for x, _, _, _ in panel.plot.labels]
    assert float(walk[TRAIL, 0]) in xs and float(walk[TRAIL - LABELS, 0]) not in xs   # the oldest left
    assert not np.array_equal(_pixels(panel), drawn)
    with_labels = _pixels(panel)
    panel.plot.labels = []                                  # the labels are what was drawn over the dots
    panel.plot.update()
    bare = _pixels(panel)
    assert (np.abs(with_labels.astype(np.int64) - bare.astype(np.int64)) > 0).sum() > 100


def _gates_panel(qtbot):
    from explorer.ui.sequence.gates import GatesPanel
    panel = GatesPanel()
    qtbot.addWidget(panel)
    panel.resize(530, 320)
    panel.set_model(("i", "f", "o", "c"), 16, 40, "LSTM")
    panel.show()
    return panel


def _gates(seed: int, n: int = 30) -> dict:
    rng = np.random.default_rng(seed)
    out = {name: rng.uniform(0, 1, (n, 16)).astype(np.float32) for name in "ifo"}
    out["c"] = rng.uniform(-3, 3, (n, 16)).astype(np.float32)
    out["i"][5, :4] = [0.0, 1.0, 1 / 12, 11 / 12]               # bin edges
    return out


def test_gate_histograms_count_each_band_like_the_per_band_loop(qtbot):
    from explorer.ui.sequence.gates import BINS, C_LEVEL
    panel = _gates_panel(qtbot)
    gates = _gates(0)
    panel.show_gates(gates, 0, 5, 3)
    want_h, want_x = [], []
    for name in ("i", "f", "o", "c"):                          # the former loop, band by band
        v = gates[name][5]
        v = (np.clip(v, -C_LEVEL, C_LEVEL) + C_LEVEL) / (2 * C_LEVEL) if name == "c" else v
        v = np.clip(v, 0.0, 1.0)
        counts = np.bincount(np.minimum((v * BINS).astype(np.intp), BINS - 1), minlength=BINS)
        want_h.append(counts / max(counts.max(), 1) * 16 * 0.95)
        want_x += [float(v[3])] * 2
    hist = panel.hist_plot
    assert np.array_equal(hist.heights, np.stack(want_h))
    assert np.array_equal(hist.marks[0], np.array(want_x))
    assert np.array_equal(hist.marks[1], np.array([panel._band(k) + d for k in range(4) for d in (0, 16)], float))
    assert len(hist.bar_rects()) == int((np.stack(want_h) > 0).sum())   # a bar per non-empty bin
    x, top, w, h = hist.bar_rects()[int(np.argmax(want_h[0] > 0))]     # band 0's first bar: its foot at the band's
    assert top + h == pytest.approx(float(hist.px_y(16)))              # bottom row, its height its count


@pytest.mark.parametrize("size", [(530, 320), (377, 211)])
def test_gate_bars_drawn_from_one_buffer_paint_one_rect_per_bin(qtbot, monkeypatch, size):
    """The bars handed to Qt as one block of records paint what one QRectF per non-empty bin
    and a 3-px flat-capped pen per mark paint (the straightforward drawing); the same reference
    half a pixel off does not (the control)."""
    from PySide6 import QtCore

    from explorer.ui.sequence.common import MUTED, SELECT
    from explorer.ui.sequence.gates import BINS
    panel = _gates_panel(qtbot)
    panel.resize(*size)
    hist = panel.hist_plot
    panel.show_gates(_gates(5), 0, 12, 4)
    qtbot.wait(1)
    got = _pixels(hist)

    def reference(p, shift=0.0):
        edges = np.linspace(0, 1, BINS + 1)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(QtGui.QColor(MUTED))
        for k in range(4):
            foot = panel._band(k) + 16
            for b in range(BINS):
                if hist.heights[k, b] > 0:
                    x0, x1 = float(hist.px_x(edges[b])), float(hist.px_x(edges[b] + 0.9 / BINS))
                    top, bottom = float(hist.px_y(foot - hist.heights[k, b])), float(hist.px_y(foot))
                    p.drawRect(QtCore.QRectF(x0 + shift, top, x1 - x0, bottom - top))
        pen = QtGui.QPen(QtGui.QColor(SELECT), 3)
        pen.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
        p.setPen(pen)
        sx, sy = hist.marks
        for i in range(0, len(sx), 2):
            p.drawLine(QtCore.QLineF(float(hist.px_x(sx[i])) + shift, float(hist.px_y(sy[i])),
                                     float(hist.px_x(sx[i + 1])) + shift, float(hist.px_y(sy[i + 1]))))

    assert len(hist.bar_rects()) > 20 and len(hist.marks[0]) == 8
    monkeypatch.setattr(hist, "paint_data", reference)
    assert np.array_equal(got, _pixels(hist))
    monkeypatch.setattr(hist, "paint_data", lambda p: reference(p, 0.5))
    assert not np.array_equal(got, _pixels(hist))


@pytest.mark.parametrize("inverted", [True, False])
def test_gate_marks_mapped_in_plain_floats_are_px_x_and_px_y_exactly(qtbot, inverted):
    """The marks' rectangles (x, y mapped without numpy) are px_x / px_y's, bit for bit, either
    way up; rectangles kept from before the y axis flipped are not (the control)."""
    panel = _gates_panel(qtbot)
    hist = panel.hist_plot
    panel.show_gates(_gates(6), 0, 9, 5)
    lo, hi = hist.y_range()
    hist.set_y_range(lo, hi, inverted=not inverted)
    stale = [(r.x(), r.y(), r.width(), r.height()) for r in hist.mark_rects()]
    hist.set_y_range(lo, hi, inverted=inverted)
    sx, sy = hist.marks
    xs, ys = hist.px_x(sx), hist.px_y(sy)
    want = [(float(xs[i]) - 1.5, float(min(ys[i], ys[i + 1])), 3.0, float(abs(ys[i + 1] - ys[i])))
            for i in range(0, len(sx), 2)]
    got = [(r.x(), r.y(), r.width(), r.height()) for r in hist.mark_rects()]
    assert len(got) == 4 and got == want
    assert stale != want


def test_gates_do_not_re_set_unchanged_bars(qtbot):
    panel = _gates_panel(qtbot)
    hist = panel.hist_plot
    gates = _gates(1)
    panel.show_gates(gates, 0, 5, 3)
    rects, marks = hist.bar_rects(), hist.marks
    panel.show_gates({k: v.copy() for k, v in gates.items()}, 0, 5, 3)   # the same frame again
    assert hist.bar_rects() is rects and hist.marks is marks
    panel.show_gates(gates, 0, 5, 7)                           # another unit: only its marks move
    assert hist.bar_rects() is rects and hist.marks is not marks
    before = hist.heights.copy()
    panel.show_gates(gates, 0, 6, 7)                           # another column: new counts
    assert hist.bar_rects() is not rects and not np.array_equal(hist.heights, before)
    panel.show_gates({k: v[:0] for k, v in gates.items()}, 0, 0, None)   # nothing typed: cleared
    assert not hist.heights.any() and len(hist.marks[0]) == 0 and len(hist.bar_rects()) == 0
    assert panel.time_plot.cursor_x is None


def test_prediction_bars_repaint_only_when_they_change(qtbot):
    from explorer.ui.sequence.predictions import PredictionsPanel
    panel = PredictionsPanel()
    qtbot.addWidget(panel)
    panel.resize(380, 160)
    panel.show()
    qtbot.waitExposed(panel)
    top = [("a", 0.5, 1), ("b", 0.25, 2)]
    panel.show_top(top, 2)
    _settle(qtbot)
    paints = _Paints(panel)
    panel.show_top(list(top), 2)                                 # the same bars: nothing to repaint
    _settle(qtbot)
    assert paints.n == 0
    assert panel.actual_row == 1
    green = _pixels(panel)
    paints.n = 0
    panel.show_top(top, 1)                                       # the actual character is now 'a'
    _settle(qtbot)
    assert paints.n == 1 and panel.actual_row == 0
    assert not np.array_equal(_pixels(panel), green)
    paints.n = 0
    panel.show_top([("a", 0.4, 1), ("b", 0.35, 2)], 1)            # new probabilities
    _settle(qtbot)
    assert paints.n == 1 and np.allclose(panel.widths, [0.4, 0.35, 0, 0, 0])


def _colour_at(widget, x: float, y: float) -> str:
    img = widget.grab().toImage()
    return img.pixelColor(round(x), round(y)).name()


def test_prediction_bars_are_drawn_where_their_probabilities_say(qtbot):
    """Each bar spans 0..p on the x axis at its row (the real next character green, the others
    blue), the clamped probabilities are orange outlines, the labels name the rows."""
    from explorer.ui.sequence.predictions import PredictionsPanel
    panel = PredictionsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 180)
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.message() == "no prediction yet"
    panel.show_top([("a", 0.6, 1), (" ", 0.3, 2), ("xyz", 0.1, 3)], 2, np.array([0.2, 0.7, 0.05]))
    assert panel.message() == "" and panel.labels == ["a", "\u2423", "xyz"]
    y0, y1 = float(panel.px_y(0.0)), float(panel.px_y(1.0))
    assert _colour_at(panel, panel.px_x(0.1), y0) == "#4a7fc1"            # inside bar 0 (blue)
    assert _colour_at(panel, panel.px_x(0.1), y1) == "#2e9e4f"            # bar 1 is the actual one
    assert _colour_at(panel, panel.px_x(0.45), y1) == "#ffffff"           # past bar 1's end
    assert _colour_at(panel, panel.px_x(0.5), y0) == "#4a7fc1"
    clamp_edge = _colour_at(panel, panel.px_x(0.7), y1)                   # the clamped outline of row 1
    assert clamp_edge == "#e08000"
    texts = [t for t, _ in panel.value_labels()]
    assert texts == ["60.0%", "30.0%", "10.0%"]
    xs = [x for _, x in panel.value_labels()]
    assert xs[0] > xs[1] > xs[2]                                          # right of the longer bar
    assert "a" in panel.tooltip_at(0.2, 0.0) and "60.0%" in panel.tooltip_at(0.2, 0.0)
    assert "real next character" in panel.tooltip_at(0.2, 1.0)
    assert panel.tooltip_at(0.2, 4.0) is None                             # an empty row
    panel.show_top([], None)
    assert panel.message() == "no prediction yet" and panel.labels == []


def test_fast_tick_axis_reuses_known_ticks_and_gives_fresh_specs(qtbot):
    """Labels moving along fixed positions (the memory axis while typing): the specs from the
    per-tick cache equal those of an axis that never saw a label before, and pyqtgraph's."""
    from explorer.ui.sequence.fastitems import FastTickAxis

    def specs(axis, ticks):
        axis.setTicks([ticks])
        picture = QtGui.QPicture()
        painter = QtGui.QPainter(picture)
        out = axis.generateDrawSpecs(painter)
        painter.end()
        return ([(a.x(), a.y(), b.x(), b.y()) for _, a, b in out[1]],
                [(r.getRect(), int(f), s) for r, f, s in out[2]])

    views = []

    def axis_in_view(cls):
        view = pg.GraphicsLayoutWidget()
        qtbot.addWidget(view)
        views.append(view)
        view.resize(400, 200)
        axis = cls("bottom")
        plot = view.addPlot(axisItems={"bottom": axis})
        axis.setStyle(tickFont=QtGui.QFont("DejaVu Sans Mono", 8))
        plot.setRange(xRange=(-59.6, 0.6), padding=0)
        view.show()
        qtbot.waitExposed(view)
        return axis

    text = "def f(x):\n    return x + 1  # comment\n" * 3
    seen, ref = axis_in_view(FastTickAxis), axis_in_view(pg.AxisItem)
    for k in range(12):                                       # twelve keys: the labels shift left
        ticks = [(float(-i), text[k + 40 - i]) for i in range(0, 40, 2)]
        got = specs(seen, ticks)
        assert got == specs(axis_in_view(FastTickAxis), ticks) == specs(ref, ticks)
    assert len(seen._ticks[1]) > 20                           # ticks were reused from the cache


def _shown(qtbot, widget, viewport=None):
    from PySide6 import QtWidgets
    widget.show()
    qtbot.waitExposed(widget)
    _settle(qtbot)
    if viewport is None:                     # a graphics view paints in its viewport, a painted panel itself
        viewport = widget.viewport() if isinstance(widget, QtWidgets.QAbstractScrollArea) else widget
    return _Paints(viewport)


def test_an_equal_frame_repaints_no_plot_and_a_changed_one_does(qtbot):
    """Heat map, gates, memory and trajectory given an equal frame (fresh arrays, same values)
    schedule no repaint; any change in their part of the frame repaints them."""
    from explorer.ui.sequence.heatmap import HiddenHeatmapPanel
    from explorer.ui.sequence.memory_panel import MemoryPanel
    rng = np.random.default_rng(3)
    h = rng.uniform(-1, 1, (30, 16)).astype(np.float32)
    heat = HiddenHeatmapPanel()
    qtbot.addWidget(heat)
    heat.set_units(16)
    heat.show_states(h, 0, 10, 2, "x" * 30)
    gates_panel, gates = _gates_panel(qtbot), _gates(5)
    gates_panel.show_gates(gates, 0, 5, 3)
    memory = MemoryPanel()
    qtbot.addWidget(memory)
    weights = rng.uniform(0, 1, 20)
    memory.show_memory(0, weights, "abcdefghijklmnopqrst", "u", True)
    traj = _trajectory(qtbot)
    walk = _walk(40, 6)
    traj.show_points(walk, "y" * 40, first=0)
    shows = {
        "heatmap": (heat, lambda a: heat.show_states(a, 0, 10, 2, "x" * 30), h),
        "gates": (gates_panel, lambda a: gates_panel.show_gates({**gates, "f": a}, 0, 5, 3), gates["f"]),
        "memory": (memory, lambda a: memory.show_memory(0, a, "abcdefghijklmnopqrst", "u", True), weights),
        "trajectory": (traj.plot, lambda a: traj.show_points(a, "y" * 40, first=0), walk),
    }
    for name, (view, show, values) in shows.items():
        paints = _shown(qtbot, view, None if hasattr(view, "viewport") else view)
        show(values.copy())                                   # equal values, a new array
        _settle(qtbot)
        assert paints.n == 0, name
        changed = values.copy()
        changed.flat[8] = -changed.flat[8] + 0.5             # one number changes (a shown one)
        show(changed)
        _settle(qtbot)
        assert paints.n >= 1, name


def test_probability_strip_cells_are_the_per_cell_bars_and_glyphs(qtbot):
    """The cells drawn as one gathered image: cell by cell the grey slot, a bar from the bottom
    as tall as P (at least 2 px; none for an unknown P) in P's colour, the white gap; the
    glyphs, the hatching and the cursor are drawn over it."""
    from explorer.ui.sequence.common import probability_colour
    from explorer.ui.sequence.predictions import ProbStrip
    strip = ProbStrip()
    qtbot.addWidget(strip)
    strip.resize(420, 58)
    strip.show()
    qtbot.waitExposed(strip)
    probs = np.array([0.0, 1.0, 0.5, np.nan, 0.123, 0.999, 0.004])
    chars = "ab\n d\tz"
    strip.set_cells(chars, probs, 2, np.zeros(len(chars), bool))
    cell, bar_h = strip.cell, strip.height() - 28
    img = strip.cells_image(len(chars), bar_h)
    got = _argb(img) & 0xFFFFFF
    assert got.shape == (bar_h, len(chars) * cell)
    for i, p in enumerate(probs):
        want = np.full((bar_h, cell), 0xF5F5F5)
        want[:, -1] = 0xFFFFFF
        if np.isfinite(p):
            k = round(p * 100)
            filled = int(np.rint(max(2.0, bar_h * k / 100)))
            want[bar_h - filled:, :-1] = probability_colour(k / 100).rgb() & 0xFFFFFF
        assert np.array_equal(got[:, i * cell:(i + 1) * cell], want), i
    shown = _argb(strip.grab().toImage()) & 0xFFFFFF
    left = 4 + 6 * cell                                     # the last cell, right of its glyph row
    assert np.array_equal(shown[4 + 18:4 + bar_h, left:left + cell], got[18:, 6 * cell:7 * cell])
    ink = shown[4:4 + 16, 4:4 + len(chars) * cell]          # the glyph row has dark ink
    assert (np.stack([(ink >> s) & 0xFF for s in (16, 8, 0)]).max(0) < 100).sum() > 20
    strip.set_cells(chars, probs[::-1].copy(), 2, np.zeros(len(chars), bool))   # negative control
    assert not np.array_equal(_argb(strip.cells_image(len(chars), bar_h)) & 0xFFFFFF, got)


def test_unrolled_draws_a_characters_input_box_once(qtbot, monkeypatch):
    """x(t) depends on the character alone: a character met again reuses its drawn box."""
    from explorer.session.sequence_view import StepView
    from explorer.ui.sequence import unrolled
    panel = unrolled.UnrolledPanel()
    qtbot.addWidget(panel)
    panel.resize(410, 320)
    panel.show()
    inputs = []
    real = unrolled.UnrolledPanel._bars
    monkeypatch.setattr(unrolled.UnrolledPanel, "_bars",
                        lambda self, p, jobs: (inputs.append(1) if len(jobs[0][1]) == 8 else None) or real(self, p, jobs))   # x: 8 numbers
    rng = np.random.default_rng(5)
    x_a, x_b = rng.normal(size=8).astype(np.float32), rng.normal(size=8).astype(np.float32)

    def step(t, c, x):
        return StepView(t, c, x.copy(), rng.normal(size=24).astype(np.float32), [("x", 0.5)])
    panel.show_steps([step(0, "a", x_a), step(1, "b", x_b), None], None, "GRU")
    first = _pixels(panel)
    assert len(inputs) == 2
    panel.show_steps([step(1, "b", x_b), step(2, "a", x_a), None], None, "GRU")   # 'a' again: no new x box
    _pixels(panel)
    assert len(inputs) == 2
    panel.show_steps([step(0, "a", x_a), step(1, "b", -x_b), None], None, "GRU")  # another x for 'b': drawn
    assert not np.array_equal(_pixels(panel), first) and len(inputs) == 3


def test_exported_panels_keep_their_labels_as_text_and_their_markers(qtbot, tmp_path):
    """An SVG export paints through another engine: the atlas' labels are written as text there
    (not fragments of the atlas), the trail's markers as their symbols."""
    import re

    from explorer.ui.sequence.predictions import PredictionsPanel
    from explorer.ui.widgets.export import save_svg
    panel = PredictionsPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 180)
    panel.show()
    panel.show_top([("q", 0.6, 1), ("xyz", 0.3, 2)], 2)
    svg = save_svg(panel, tmp_path / "p.svg").read_text()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "q" in [t.strip() for t in texts] and "xyz" in [t.strip() for t in texts]
    traj = _trajectory(qtbot)
    walk = _walk(30, 3)
    traj.show_points(walk, "abcdefghij" * 3, first=0)
    svg = save_svg(traj, tmp_path / "t.svg").read_text()
    assert "j" in [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]   # the newest point's label
    assert svg.count("<path") >= 30                                                   # dots and the cursor
