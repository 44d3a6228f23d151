"""The trajectory, the predictions and their glyphs placed once per frame and blitted: the same
pixels and the same data as drawing them each paint (no timing asserts)."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from tests.ui.conftest import argb as _argb


def _pixels(widget) -> np.ndarray:
    return _argb(widget.grab().toImage())


def _trajectory(qtbot, size=(450, 320)):
    from explorer.analysis.pca import fit_pca
    from explorer.ui.sequence.trajectory import TrajectoryPanel
    panel = TrajectoryPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.set_basis(fit_pca(np.random.default_rng(0).normal(size=(400, 8)), k=4))
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _walk(n: int, seed: int) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).normal(scale=0.3, size=(n, 4)), axis=0).astype(np.float32)


def _labels_one_by_one(points: np.ndarray, chars: str, first: int, pair=(0, 1)) -> list[tuple]:
    """The trail's labels as a loop over its label slots: slot (character index) % LABELS holds
    the newest LABELS characters, listed in slot order, each faded by its age."""
    from explorer.ui.sequence.common import char_label
    from explorer.ui.sequence.trajectory import FADE_STEPS, LABELS, TRAIL
    first += max(len(points) - TRAIL, 0)
    p = points[-TRAIL:][:, list(pair)].astype(float)
    chars = chars[-len(p):]
    slots: list = [None] * LABELS
    for j in range(len(p) - min(LABELS, len(p)), len(p)):
        age = len(p) - 1 - j
        opacity = 0.25 + 0.75 * np.ceil(FADE_STEPS * (LABELS - age) / LABELS) / FADE_STEPS
        slots[(first + j) % LABELS] = (float(p[j, 0]), float(p[j, 1]), char_label(chars[j]), float(opacity))
    return [s for s in slots if s is not None]


@pytest.mark.parametrize("n,first", [(1, 0), (5, 3), (23, 1), (24, 0), (24, 7), (25, 23), (60, 0), (60, 13),
                                     (60, 47), (75, 5)])
def test_trail_labels_are_the_slots_in_slot_order(qtbot, n, first):
    """Made without a loop over the slots: the same labels (position, text, fade) in the same
    stacking order as the slot-by-slot reference, for trails shorter and longer than the labels."""
    panel = _trajectory(qtbot)
    walk, text = _walk(n, n + first), ("ab c\nd\te(f)" * 8)[:n]
    panel.show_points(walk, text, first=first)
    want = _labels_one_by_one(walk, text, first)
    assert panel.plot.labels == want
    from explorer.ui.sequence.common import char_label
    from explorer.ui.sequence.trajectory import LABELS, TRAIL
    start = first + max(n - TRAIL, 0)                           # the character index of the trail's first point
    m = min(n, TRAIL)
    slots = [""] * LABELS
    for j in range(m - min(LABELS, m), m):
        slots[(start + j) % LABELS] = char_label(text[n - m + j])
    assert panel.label_texts() == slots
    # negative control: oldest first is another stacking order exactly when the slots wrap past 0
    n_lab = min(LABELS, m)
    by_age = sorted(want, key=lambda lab: [float(v) for v in walk[-m:, 0]].index(lab[0]))
    wraps = (start + m - n_lab) % LABELS + n_lab > LABELS
    assert (by_age != want) == wraps


def test_the_trail_placed_once_draws_what_drawing_each_item_draws(qtbot):
    """The frame's fragments (dots, cursor, labels) and segments blitted from reused buffers give
    the pixels of drawing the path, each dot and each label through the sprites' and the atlas'
    per-call draw; buffers reused for a shorter and a longer trail keep no stale record."""
    from explorer.ui.sequence.trajectory import TRAIL
    panel = _trajectory(qtbot)
    plot = panel.plot
    walk, text = _walk(TRAIL + 30, 5), ("def f(x):\n    return x + 1  # c " * 4)[:TRAIL + 30]
    assert len(plot.trail_x) == 0 and plot.labels == []        # (nothing shown yet)
    bare = plot.grab().toImage()                                # the static layer and the axes
    inner = plot.data_rect().toAlignedRect().adjusted(2, 2, -2, -2)   # (the axis lines are drawn over the data)

    def drawn_item_by_item() -> np.ndarray:
        ref = QtGui.QImage(bare)
        p = QtGui.QPainter(ref)
        p.setClipRect(plot.data_rect())
        n = len(plot.trail_x)
        px, py = plot.px_x(plot.trail_x), plot.px_y(plot.trail_y)
        p.setPen(QtGui.QPen(QtGui.QColor(60, 60, 90, 110), 1))
        p.drawLines([QtCore.QLineF(px[i], py[i], px[i + 1], py[i + 1]) for i in range(n - 1)])
        # the k-th newest dot in the k-th newest style (styles 2...: oldest to newest), the cursor (1) last
        styles = np.append(np.arange(2 + TRAIL - n, 2 + TRAIL), 1)
        plot.sprites.draw(p, np.append(px, px[-1]), np.append(py, py[-1]), styles)
        if plot.labels:
            lx, ly, texts, opacity = (list(c) for c in zip(*plot.labels, strict=True))
            plot.glyphs.draw(p, plot.px_x(np.array(lx)) + 5.2, plot.px_y(np.array(ly)) - 3.2, texts,
                             opacity=np.array(opacity), anchor=(-0.15, 0.9))
        p.end()
        return _argb(ref)[inner.top():inner.bottom(), inner.left():inner.right()]

    for k, m in ((0, TRAIL), (3, 10), (10, TRAIL), (30, TRAIL), (31, 2)):   # grow, shrink, grow again
        panel.show_points(walk[k:k + m], text[k:k + m], first=k)
        got = _pixels(plot)[inner.top():inner.bottom(), inner.left():inner.right()]
        assert np.array_equal(got, drawn_item_by_item()), (k, m)
    plot.labels = [(0.1, 0.2, "Q", 0.5), (-0.3, 0.25, "U+0007", 1.0)]   # labels set directly, off the trail
    plot.update()
    got = _pixels(plot)[inner.top():inner.bottom(), inner.left():inner.right()]
    assert np.array_equal(got, drawn_item_by_item())
    fresh = _trajectory(qtbot)
    fresh.show_points(walk[31:34], text[31:34], first=31)
    panel.show_points(walk[31:34], text[31:34], first=31)
    assert np.array_equal(_pixels(fresh.plot), _pixels(plot))
    fresh.show_points(walk[30:33], text[30:33], first=30)      # negative control: a key earlier
    assert not np.array_equal(_pixels(fresh.plot), _pixels(plot))


def test_layers_over_the_path_are_blended_where_they_have_ink(qtbot):
    """A layer over the path that draws nothing leaves the picture as without it; one that draws
    two marks far apart shows both (the blended part covers all of its ink) over the path, and
    every other pixel stays as without it."""
    panel = _trajectory(qtbot)
    plot = panel.plot
    panel.show_points(_walk(40, 7), "abcdefghij" * 4, first=0)
    plot.labels = []
    plot.update()
    bare = _pixels(plot)
    plot.over.append(lambda p: None)
    plot.invalidate()
    assert np.array_equal(_pixels(plot), bare)
    r = plot.data_rect()
    marks = [QtCore.QRectF(r.left() + 3, r.top() + 3, 5, 4), QtCore.QRectF(r.right() - 12, r.bottom() - 9, 6, 5)]

    def layer(p: QtGui.QPainter) -> None:
        for m in marks:
            p.fillRect(m, QtGui.QColor(200, 0, 160))
    plot.over[:] = [layer]
    plot.invalidate()
    got = _pixels(plot)
    inside = np.zeros(got.shape, bool)
    for m in marks:
        a = m.toRect()
        inside[a.top():a.bottom() + 1, a.left():a.right() + 1] = True
        assert (got[inside] & 0xFFFFFF == 0xC800A0).all()
    assert np.array_equal(got[~inside], bare[~inside])
    assert not np.array_equal(got, bare)


def _predictions(qtbot, size=(420, 170)):
    from explorer.ui.sequence.predictions import PredictionsPanel
    panel = PredictionsPanel()
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


FRAMES = [([("a", 0.6, 1), (" ", 0.3, 2), ("xyz", 0.1, 3)], 2, np.array([0.2, 0.7, 0.05])),
          ([("a", 0.61, 1), (" ", 0.29, 2), ("xyz", 0.1, 3)], 2, np.array([0.2, 0.7, 0.05])),
          ([("\n", 0.958, 5), ("T", 0.004, 6), ("S", 0.004, 7), ("R", 0.003, 8), ("M", 0.002, 9)], 6, None),
          ([("\n", 0.957, 5), ("T", 0.004, 6), ("S", 0.004, 7), ("R", 0.003, 8), ("M", 0.002, 9)], None, None),
          ([("e", 1.0, 1)], 1, np.array([0.999])),
          ([], None, None),
          ([("q", 0.25, 4), ("(", 0.25, 3)], 3, None)]


def test_predictions_fed_frame_by_frame_draw_what_a_fresh_panel_draws(qtbot):
    """Bars, outlines, percentages and labels placed once per change: after each frame the panel
    looks as one shown only that frame, and shows its numbers."""
    panel = _predictions(qtbot)
    previous = None
    for top, actual, clamped in FRAMES:
        panel.show_top(top, actual, clamped)
        fresh = _predictions(qtbot)
        fresh.show_top(top, actual, clamped)
        want = _pixels(fresh)
        assert np.array_equal(_pixels(panel), want)
        assert [t for t, _ in panel.value_labels()] == [f"{100 * p:.1f}%" for _, p, _ in top]
        if previous is not None:                                 # negative control: the frame before
            assert not np.array_equal(previous, want)
        previous = want
    panel.resize(360, 150)                                       # a new size places everything again
    fresh = _predictions(qtbot, (360, 150))
    fresh.show_top(*FRAMES[-1])
    assert np.array_equal(_pixels(panel), _pixels(fresh))


def test_placed_runs_and_labels_draw_what_the_atlas_draws_call_by_call(qtbot):
    """GlyphAtlas.place / place_runs (kept records, reused buffers) blit the pixels of draw /
    draw_runs; a run laid out before and one met for the first time alike."""
    from explorer.ui.sequence.glyphs import Fragments, GlyphAtlas
    atlas = GlyphAtlas(QtGui.QFont("DejaVu Sans", 9), QtGui.QColor(20, 20, 40), warm=list("0123456789.%"))

    def paint(fn) -> np.ndarray:
        img = QtGui.QImage(300, 120, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(img)
        fn(p)
        p.end()
        return _argb(img)

    out = Fragments()
    cases = [([10.3, 80.0, 150.5], [20.0, 50.4, 90.0], ["95.8%", "0.4%", "100.0%"], (0.0, 0.5)),
             ([5.0, 200.2], [30.0, 31.0], ["95.8%", "Q7%"], (1.0, 0.5)),
             ([40.0], [60.0], ["12.3%"], (0.5, 0.0))]
    for xs, ys, texts, anchor in cases:
        want = paint(lambda p, xs=xs, ys=ys, texts=texts, anchor=anchor: atlas.draw_runs(p, xs, ys, texts, anchor=anchor))
        got = paint(lambda p, xs=xs, ys=ys, texts=texts, anchor=anchor:
                    atlas.place_runs(xs, ys, texts, anchor, 1.0, out).blit(p))
        assert np.array_equal(got, want), texts
    xs, ys, texts = [30.0, 60.0, 90.0, 120.5], [40.0, 40.0, 70.2, 70.0], ["a", "\u2423", "xyz", "a"]
    opacity = [1.0, 0.5, 0.75, 0.25]
    want = paint(lambda p: atlas.draw(p, xs, ys, texts, opacity=opacity, anchor=(-0.15, 0.9)))
    assert np.array_equal(paint(lambda p: atlas.place(xs, ys, texts, opacity, (-0.15, 0.9), 1.0, out).blit(p)), want)
    other = paint(lambda p: atlas.place(xs, ys, texts[::-1], opacity, (-0.15, 0.9), 1.0, out).blit(p))
    assert not np.array_equal(other, want)                       # negative control: other labels


def _screen(widget) -> np.ndarray:
    """What the window shows (its backing store), painted only where it was updated."""
    return _argb(widget.screen().grabWindow(widget.winId()).toImage())


class _Regions:
    """The regions a widget's paint events cover."""

    def __init__(self, widget) -> None:
        from PySide6 import QtCore
        regions = self.regions = []

        class _Filter(QtCore.QObject):
            def eventFilter(self, obj, event):  # noqa: N802 (Qt)
                if event.type() == QtCore.QEvent.Type.Paint:
                    regions.append(QtGui.QRegion(event.region()))
                return False

        self._filter = _Filter()
        widget.installEventFilter(self._filter)

    def united(self) -> QtGui.QRegion:
        out = QtGui.QRegion()
        for r in self.regions:
            out = out.united(r)
        self.regions.clear()
        return out


def _settle(qtbot) -> None:
    from PySide6 import QtWidgets
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    qtbot.wait(10)


def _covers(region: QtGui.QRegion, a: np.ndarray, b: np.ndarray) -> bool:
    return all(region.contains(QtCore.QPoint(int(x), int(y))) for y, x in np.argwhere(a != b))


def test_a_key_repaints_the_plot_area_and_the_window_shows_a_fresh_panels_picture(qtbot):
    """Keys typed one by one repaint the trajectory's plot area only (not its title and axis
    labels), which holds every pixel that changed: the window then shows what a fresh panel shown
    only the last frame draws; a new pair of components repaints all of it."""
    from explorer.ui.sequence.trajectory import TRAIL
    walk, text = _walk(TRAIL + 6, 11), ("for i in range(10):\n    print(i) " * 4)[:TRAIL + 6]
    panel = _trajectory(qtbot)
    panel.show_points(walk[:TRAIL], text[:TRAIL], first=0)
    _settle(qtbot)
    spy = _Regions(panel.plot)
    shown = _screen(panel)
    for k in range(1, 6):
        panel.show_points(walk[k:TRAIL + k], text[k:TRAIL + k], first=k)
        _settle(qtbot)
        region = spy.united()
        assert not region.isEmpty() and region.boundingRect() != panel.plot.rect()
        assert not region.contains(QtCore.QPoint(panel.plot.width() // 2, 2))          # the title
        now = _screen(panel)
        offset = panel.plot.mapTo(panel, QtCore.QPoint(0, 0))
        h, w = panel.plot.height(), panel.plot.width()
        assert _covers(region, shown[offset.y():offset.y() + h, offset.x():offset.x() + w],
                       now[offset.y():offset.y() + h, offset.x():offset.x() + w])
        shown = now
    fresh = _trajectory(qtbot)
    fresh.show_points(walk[5:TRAIL + 5], text[5:TRAIL + 5], first=5)
    _settle(qtbot)
    assert np.array_equal(_screen(panel), _screen(fresh)) and np.array_equal(_screen(panel), _pixels(panel))
    fresh.show_points(walk[4:TRAIL + 4], text[4:TRAIL + 4], first=4)                   # negative control
    _settle(qtbot)
    assert not np.array_equal(_screen(panel), _screen(fresh))
    panel.combo.setCurrentIndex(1)                                                       # another pair: all of it
    _settle(qtbot)
    assert spy.united().boundingRect() == panel.plot.rect()
    (x0, x1), (y0, y1) = panel.view_range()
    corners = np.zeros((TRAIL + 2, 4), np.float32)             # a zigzag out to the plot area's corners
    corners[:, 1] = np.linspace(x0, x1, TRAIL + 2)
    corners[:, 2] = np.where(np.arange(TRAIL + 2) % 2, y0, y1)
    for k, change in enumerate((lambda w: w.resize(520, 380), lambda w: w.plot.set_title(""))):   # new layouts
        change(panel)
        _settle(qtbot)
        panel.show_points(corners[k:TRAIL + k], text[k:TRAIL + k], first=k)
        _settle(qtbot)
        fresh = _trajectory(qtbot, (520, 380))
        fresh.combo.setCurrentIndex(1)
        if k:
            fresh.plot.set_title("")
        fresh.show_points(corners[k:TRAIL + k], text[k:TRAIL + k], first=k)
        _settle(qtbot)
        assert np.array_equal(_screen(panel), _screen(fresh)), k


def test_new_bars_repaint_their_rows_and_the_window_shows_a_fresh_panels_picture(qtbot):
    """New probabilities repaint the rows (bars, percentages, labels), not the title and the
    probability axis; the window shows what a fresh panel draws; emptying it says so."""
    panel = _predictions(qtbot)
    _settle(qtbot)
    spy = _Regions(panel)
    partial = 0
    for top, actual, clamped in FRAMES:
        before, had_bars = _screen(panel), bool(panel.labels)
        panel.show_top(top, actual, clamped)
        _settle(qtbot)
        region = spy.united()
        fresh = _predictions(qtbot)
        fresh.show_top(top, actual, clamped)
        _settle(qtbot)
        assert np.array_equal(_screen(panel), _screen(fresh))
        assert _covers(region, before, _screen(panel))
        if top and had_bars:                                     # (no message came or went)
            assert not region.contains(QtCore.QPoint(panel.width() // 2, panel.height() - 3))   # the axis label
            assert not region.contains(QtCore.QPoint(panel.width() // 2, 3))                    # the title
            partial += 1
    assert partial >= 4 and panel.message() == ""
    changes = (lambda w: w.resize(360, 230), lambda w: w.set_title(""), lambda w: w.show_axes(False, False))
    for k, change in enumerate(changes):                                  # a new layout, then new bars
        change(panel)
        _settle(qtbot)
        top = [("k", 0.5 - 0.1 * k, 1), ("z", 0.2, 2), ("(", 0.1 + 0.05 * k, 3), ("#", 0.1, 4), ("\n", 0.1, 5)]
        panel.show_top(top, 5)
        _settle(qtbot)
        fresh = _predictions(qtbot, (360, 230))                            # laid out so from the start
        for done in changes[1:k + 1]:
            done(fresh)
        fresh.show_top(top, 5)
        _settle(qtbot)
        assert np.array_equal(_screen(panel), _screen(fresh)), k
    panel.show_top([], None)
    _settle(qtbot)
    assert panel.message() == "no prediction yet" and spy.united().boundingRect() == panel.rect()


def test_new_cells_repaint_the_strips_band_and_the_window_shows_a_fresh_strips_picture(qtbot):
    """A key repaints the cells' band (not the caption and the legend); the window shows what a
    fresh strip draws, hatching and cursor included; a new caption repaints all of it."""
    from explorer.ui.sequence.predictions import ProbStrip

    def strip_() -> ProbStrip:
        s = ProbStrip()
        qtbot.addWidget(s)
        s.resize(420, 58)
        s.show()
        qtbot.waitExposed(s)
        return s

    text = "def f(x):\n\treturn x + 1  # \u00e9t\u00e9 " * 3
    probs = np.abs(np.sin(np.arange(len(text)) * 0.7))
    unknown = np.array([c == "\u00e9" for c in text])
    probs[unknown] = np.nan
    strip = strip_()
    _settle(qtbot)
    spy = _Regions(strip)
    n = strip.capacity()
    for end in range(n - 3, n + 8):
        before = _screen(strip)
        args = (text[max(end - n, 0):end], probs[max(end - n, 0):end], min(end, n) - 1, unknown[max(end - n, 0):end])
        strip.set_cells(*args)
        _settle(qtbot)
        region = spy.united()
        fresh = strip_()
        fresh.set_cells(*args)
        _settle(qtbot)
        assert np.array_equal(_screen(strip), _screen(fresh))
        assert _covers(region, before, _screen(strip))
        if end > n - 3:
            assert not region.contains(QtCore.QPoint(8, strip.height() - 8))          # the caption
    strip.title = "P(right answer)"
    strip.set_cells("ab", np.array([0.5, 0.25]), 1, np.zeros(2, bool))
    _settle(qtbot)
    fresh = strip_()
    fresh.title = "P(right answer)"
    fresh.set_cells("ab", np.array([0.5, 0.25]), 1, np.zeros(2, bool))
    _settle(qtbot)
    assert np.array_equal(_screen(strip), _screen(fresh))


def test_expected_runs_laid_out_in_one_go_are_the_runs_laid_out_one_by_one(qtbot):
    """Every percentage laid out at once (vectorized) gives each text the records the per-text
    layout gives, and the same pixels; a text not expected is still laid out on its own."""
    from explorer.ui.sequence.glyphs import GlyphAtlas
    font, colour = QtGui.QFont("DejaVu Sans", 9), QtGui.QColor(20, 20, 40)
    bulk, single = GlyphAtlas(font, colour), GlyphAtlas(font, colour)
    texts = [f"{k / 10:.1f}%" for k in range(1001)]
    bulk.expect_runs(texts, (0.0, 0.5))
    for chosen in (["95.8%", "0.4%", "100.0%"], ["0.0%", "7.1%"], ["33.3%", "nope", "4.2%"]):
        xs, ys = [10.0 + 50 * i for i in range(len(chosen))], [20.5] * len(chosen)
        a = bulk.place_runs(xs, ys, chosen, (0.0, 0.5))
        b = single.place_runs(xs, ys, chosen, (0.0, 0.5))
        assert a.n == b.n == sum(len(t) for t in chosen)
        placed = [0, 1, 4, 5, 6, 7, 8, 9]                         # (2, 3: where each atlas keeps the glyph)
        assert np.array_equal(a.records[:a.n, placed], b.records[:b.n, placed]), chosen
        assert np.array_equal(_blitted(a), _blitted(b))
    other = _blitted(single.place_runs([10.0], [20.5], ["95.9%"], (0.0, 0.5)))
    assert not np.array_equal(other, _blitted(bulk.place_runs([10.0], [20.5], ["95.8%"], (0.0, 0.5))))   # control


def _blitted(fragments) -> np.ndarray:
    img = QtGui.QImage(200, 40, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(QtGui.QColor("white"))
    p = QtGui.QPainter(img)
    fragments.blit(p)
    p.end()
    return _argb(img)


@pytest.mark.parametrize("cursor", [0, 1, 6, 12, 13])
def test_the_strips_cursor_outline_blitted_is_the_outline_stroked(qtbot, monkeypatch, cursor):
    """The cursor's outline stroked once and blitted gives the pixels of stroking it with its
    2 px pen at the cursor's cell, over bars, hatching and glyphs alike; another cell differs."""
    from explorer.ui.sequence import predictions
    strip = predictions.ProbStrip()
    qtbot.addWidget(strip)
    strip.resize(420, 58)
    strip.show()
    qtbot.waitExposed(strip)
    chars = "W@_|(\u00e9)x\tM" + "yq%"[:3] + "j"
    probs = np.linspace(0.0, 1.0, len(chars))
    unknown = np.array([c == "\u00e9" for c in chars])
    probs[unknown] = np.nan
    strip.set_cells(chars, probs, cursor, unknown)
    blitted = _pixels(strip)
    monkeypatch.setattr(predictions, "on_screen", lambda p: False)   # the path of vector devices: a stroke
    strip.update()
    stroked = _pixels(strip)
    assert np.array_equal(blitted, stroked)
    strip.set_cells(chars, probs, (cursor + 3) % len(chars), unknown)   # negative control: another cell
    assert not np.array_equal(_pixels(strip), stroked)
