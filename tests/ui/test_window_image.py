"""The hand-painted Sequence Lab panels: WindowImage colours a time window's image as pyqtgraph
did and only the columns that changed; a panel fed key by key paints what a fresh panel
shown the last frame paints (fast == slow), and its repaint covers every pixel a key changes."""

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.painted_image import BACKGROUND, WindowImage, colour_table
from explorer.ui.widgets.style import ACCENT, DIVERGING, GATE_MAP
from tests.ui.conftest import argb as _argb

ONE = ((0, 12, -1.0, 1.0, DIVERGING),)


def _pyqtgraphs(data: np.ndarray, levels=(-1.0, 1.0), name=DIVERGING) -> np.ndarray:
    item = pg.ImageItem(axisOrder="row-major", autoLevels=False, levels=levels)
    item.setColorMap(pg.colormap.get(name))
    item.setImage(data, levels=levels)
    item.render()
    return _argb(item.qimage)


def test_window_image_gives_pyqtgraphs_colours_exactly(qtbot):
    """Cell for cell the colour pyqtgraph's own LUT render gave, the levels' edges and clipping included."""
    rng = np.random.default_rng(7)
    data = rng.uniform(-1.3, 1.3, (12, 300)).astype(np.float32)
    data[0, :9] = [-1.0, 1.0, 0.0, -1e-7, 1e-7, 2 / 256 - 1, np.nextafter(np.float32(1), np.float32(0)), 5.0, -5.0]
    data[1, :257] = np.arange(257) / 128.0 - 1.0            # every LUT boundary
    img = WindowImage()
    img.set_window(data[:, :280], 300, ONE)
    want = _pyqtgraphs(data[:, :280])
    assert len(np.unique(want)) > 200
    assert np.array_equal(img.pixels[:, :280], want)
    assert (img.pixels[:, 280:] == BACKGROUND).all()          # empty columns: white
    assert np.array_equal(_argb(img.qimage), img.pixels)      # the QImage shows the buffer


def test_set_window_colours_only_changed_columns_and_equals_a_fresh_image(qtbot):
    rng = np.random.default_rng(3)
    full = rng.uniform(-1.2, 1.2, (12, 60)).astype(np.float32)
    img = WindowImage()
    shared = None
    steps = [(full[:, :40], (0, 40), (0, 40)),      # first: every column
             (full[:, :41], (40, 41), (40, 41)),    # a key: its column
             (full[:, :49], (41, 49), (41, 49)),    # a paste of eight
             (full[:, :47], (47, 47), (47, 49))]    # two deleted: nothing to colour, two emptied
    edited = full[:, :47].copy()
    edited[5, 30] = -edited[5, 30]
    steps.append((edited, (30, 47), (30, 47)))     # an edit in column 30: from there on
    steps.append((edited.copy(), (47, 47), (0, 0)))  # the same values again: nothing
    for k, (values, coloured, changed) in enumerate(steps):
        got = img.set_window(np.ascontiguousarray(values), 60, ONE)
        assert img.recoloured == coloured and got == changed, k
        fresh = WindowImage()
        fresh.set_window(np.ascontiguousarray(values), 60, ONE)
        assert np.array_equal(img.pixels, fresh.pixels), k
        if shared is None:
            shared = img.qimage
        assert img.qimage is shared                 # coloured in place: the same QImage
        assert np.array_equal(_argb(shared), fresh.pixels)
    nan = edited.copy()
    nan[0, 10] = np.nan
    img.set_window(nan, 60, ONE)
    assert img.pixels[0, 10] == BACKGROUND and img.pixels[1, 10] != BACKGROUND


def test_bands_have_their_own_scales_and_the_gaps_stay_white(qtbot):
    rng = np.random.default_rng(4)
    values = np.zeros((11, 20), np.float32)
    values[:4] = rng.uniform(0, 1, (4, 20))
    values[7:] = rng.uniform(-3, 3, (4, 20))
    img = WindowImage()
    img.set_window(values, 30, ((0, 4, 0.0, 1.0, GATE_MAP), (7, 11, -2.0, 2.0, DIVERGING)))
    assert np.array_equal(img.pixels[:4, :20], _pyqtgraphs(values[:4], (0.0, 1.0), GATE_MAP))
    assert np.array_equal(img.pixels[7:, :20], _pyqtgraphs(values[7:], (-2.0, 2.0), DIVERGING))
    assert (img.pixels[4:7] == BACKGROUND).all()
    assert colour_table(GATE_MAP).shape == (256,)


def _grab(w) -> np.ndarray:
    return _argb(w.grab().toImage())


def _heatmap(qtbot, window=60):
    from explorer.ui.sequence.heatmap import HiddenHeatmapPanel
    panel = HiddenHeatmapPanel(window=window)
    qtbot.addWidget(panel)
    panel.resize(500, 220)
    panel.set_units(16)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_heat_map_fed_key_by_key_paints_what_a_fresh_one_paints(qtbot):
    h = np.random.default_rng(5).uniform(-1, 1, (60, 16)).astype(np.float32)
    fed, fresh = _heatmap(qtbot), _heatmap(qtbot)
    for n in range(30, 45):                                   # fifteen keys
        fed.show_states(h[:n], 100, 100 + n - 1, 3, "x" * n)
    edited = h[:44].copy()
    edited[20:] *= -1                                         # an edit: the later columns change
    fed.show_states(edited, 100, 120, 3, "x" * 44)
    fresh.show_states(edited, 100, 120, 3, "x" * 44)
    assert fed.image.recoloured == (20, 44)
    assert np.array_equal(_grab(fed), _grab(fresh))
    assert fresh.tooltip_at(101.5, 3.5).startswith("character #101 'x', unit 3: h = ")
    assert fresh.cell_at(99.0, 3.0) is None and fresh.cell_at(143.5, 15.5) == (143, 15)


@pytest.mark.parametrize("size", [(947, 228), (640, 171), (413, 300)])
def test_heat_map_paint_is_the_image_and_lines_mapped_one_by_one(qtbot, monkeypatch, size):
    """paint_data's rectangles worked out with the plot area read once are the pixels of the
    image blitted where x_px/y_px put it and its lines drawn by line_2px; a cursor one
    character over is not (the control)."""

    def one_by_one(self, p):
        x0, x1 = self.x_px(self.start), self.x_px(self.start + self.image.width)
        y0, y1 = self.y_px(0.0), self.y_px(float(self.n_units))
        self.image.draw(p, QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        r = self.data_rect()
        if self.cursor_x is not None:
            x = self.x_px(self.cursor_x)
            self.line_2px(p, QtCore.QPointF(x, r.top()), QtCore.QPointF(x, r.bottom()), self._cursor_colour)
        if self.unit_y is not None:
            y = self.y_px(self.unit_y)
            self.line_2px(p, QtCore.QPointF(r.left(), y), QtCore.QPointF(r.right(), y), self._unit_colour)

    h = np.random.default_rng(9).uniform(-1, 1, (200, 37)).astype(np.float32)
    fast, slow = _heatmap(qtbot), _heatmap(qtbot)
    for w in (fast, slow):
        w.set_units(37)
        w.resize(*size)
    monkeypatch.setattr(slow, "paint_data", lambda p: one_by_one(slow, p))
    for n, step, unit in [(120, 1919, 5), (121, 1920, 36), (200, 1990, 0), (200, 1999, None)]:
        for w in (fast, slow):
            w.show_states(h[:n], 1800, step, unit, "x" * n, (1800.0, 2000.0))
        assert np.array_equal(_grab(fast), _grab(slow))
    slow.show_states(h[:200], 1800, 1998, None, "x" * 200, (1800.0, 2000.0))
    assert not np.array_equal(_grab(fast), _grab(slow))


def test_the_heat_maps_cells_have_pyqtgraphs_colours_where_they_are_mapped(qtbot):
    """What the panel paints: at the centre of each cell, the colour pyqtgraph gave that value."""
    rng = np.random.default_rng(9)
    h = rng.uniform(-1.2, 1.2, (30, 16)).astype(np.float32)
    panel = _heatmap(qtbot)
    panel.show_states(h, 100, -1, None, "x" * 30, (100.0, 160.0))
    img = panel.grab().toImage()
    want = _pyqtgraphs(np.ascontiguousarray(h.T))
    for t in range(30):
        for u in range(16):
            x, y = round(float(panel.px_x(100 + t + 0.5))), round(float(panel.px_y(u + 0.5)))
            assert img.pixel(x, y) == want[u, t], (t, u)
    x = round(float(panel.px_x(145.5)))                        # right of the last character: empty
    assert img.pixelColor(x, round(float(panel.px_y(8.5)))).name() == "#ffffff"


def _repaint_misses(qtbot, panel, show, out=None) -> tuple[int, int]:
    """Show the next frame; (pixels that changed, of those the ones outside what was repainted);
    ``out`` (a list) receives the repainted region."""
    from PySide6 import QtWidgets
    painted = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(QtGui.QRegion(event.region()).translated(obj.mapTo(panel, QtCore.QPoint(0, 0))))
            return False
    before = _grab(panel)
    spy = Spy()
    widgets = [panel, *panel.findChildren(QtWidgets.QWidget)]
    for w in widgets:
        w.installEventFilter(spy)
    show()
    qtbot.wait(30)
    for w in widgets:
        w.removeEventFilter(spy)
    region = QtGui.QRegion()
    for r in painted:
        region += r
    if out is not None:
        out.append(region)
    ys, xs = np.nonzero(_grab(panel) != before)
    return len(ys), sum(not region.contains(QtCore.QPoint(int(x), int(y))) for y, x in zip(ys, xs))


def test_heat_map_repaints_every_pixel_a_frame_changes(qtbot, monkeypatch):
    panel = _heatmap(qtbot)
    h = np.random.default_rng(6).uniform(-1, 1, (60, 16)).astype(np.float32)
    edited = h[:42].copy()
    edited[30:, 3] *= -1
    view = (100.0, 160.0)
    panel.show_states(h[:40], 100, 139, None, "x" * 40, view)
    qtbot.wait(30)
    frames = [(h[:41], 140, None), (h[:42], 141, None),       # keys at the end: a column and the cursor
              (h[:42], 120, None),                            # the cursor moves back
              (edited, 120, None),                            # an edit: its columns
              (edited, 120, 4), (edited, 125, 4),             # a unit chosen; the cursor moves
              (h[:30], 129, 4)]                               # a deletion: the emptied columns
    for k, (states, step, unit) in enumerate(frames):
        regions = []
        changed, missed = _repaint_misses(qtbot, panel, lambda s=states, t=step, u=unit: panel.show_states(
            s, 100, t, u, "x" * len(s), view), regions)
        assert changed and not missed, k
        if k == 0:                                            # a key: a strip or two, not the panel
            box = regions[0].boundingRect()
            assert box.width() < panel.width() / 4 and box.height() < panel.height()
    # negative control: a panel that does not ask for its repaint leaves the key's pixels stale
    monkeypatch.setattr(panel, "update", lambda *a: None)
    changed, missed = _repaint_misses(qtbot, panel, lambda: panel.show_states(
        h[:31], 100, 130, 4, "x" * 31, view))
    assert changed and missed == changed


def test_gates_repaint_every_pixel_a_frame_changes(qtbot):
    from explorer.ui.sequence.gates import GatesPanel
    panel = GatesPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 320)
    panel.set_model(("i", "f", "o", "c"), 16, 60, "LSTM")
    panel.show()
    qtbot.waitExposed(panel)
    g = _gates(8, 50)
    panel.show_gates({k: v[:30] for k, v in g.items()}, 0, 29, 2, (0.0, 60.0))
    qtbot.wait(30)
    edited = {k: v[:32].copy() for k, v in g.items()}
    edited["f"][10:, 5] = 1 - edited["f"][10:, 5]
    for k, (gates, step, unit) in enumerate([({k: v[:31] for k, v in g.items()}, 30, 2),
                                             ({k: v[:32] for k, v in g.items()}, 31, 2),
                                             (edited, 31, 2), (edited, 15, 2), (edited, 15, 9)]):
        changed, missed = _repaint_misses(qtbot, panel, lambda a=gates, t=step, u=unit: panel.show_gates(
            a, 0, t, u, (0.0, 60.0)))
        assert changed and not missed, k


def _gates(seed, n):
    rng = np.random.default_rng(seed)
    out = {name: rng.uniform(0, 1, (n, 16)).astype(np.float32) for name in "ifo"}
    out["c"] = rng.uniform(-3, 3, (n, 16)).astype(np.float32)
    return out


def test_gates_fed_key_by_key_paint_what_fresh_gates_paint(qtbot):
    from explorer.ui.sequence.gates import GatesPanel
    panels = []
    for _ in range(2):
        p = GatesPanel()
        qtbot.addWidget(p)
        p.resize(600, 320)
        p.set_model(("i", "f", "o", "c"), 16, 60, "LSTM")
        p.show()
        qtbot.waitExposed(p)
        panels.append(p)
    fed, fresh = panels
    g = _gates(2, 50)
    for n in range(20, 31):
        fed.show_gates({k: v[:n] for k, v in g.items()}, 0, n - 1, 4)
    last = {k: v[:30] for k, v in g.items()}
    fresh.show_gates(last, 0, 29, 4)
    assert fed.time_plot.image.recoloured == (29, 30)         # the last key coloured its column only
    assert np.array_equal(_grab(fed), _grab(fresh))
    tip = fresh.time_plot.tooltip_at(12.5, fresh._band(1) + 3.5)
    assert tip == f"forget f, unit 3, character #12: {g['f'][12, 3]:.3f}"
    f = np.minimum((g["f"][29] * 12).astype(int), 11)          # the histogram at the cursor (column 29)
    assert fresh.hist_plot.tooltip_at(0.99, fresh._band(1) + 8) == \
        f"forget f: {int((f == 11).sum())} of 16 units at 0.92…1.00"
    c = np.minimum(((np.clip(g["c"][29], -2, 2) + 2) / 4 * 12).astype(int), 11)
    assert fresh.hist_plot.tooltip_at(0.01, fresh._band(3) + 8) == \
        f"cell c: {int((c == 0).sum())} of 16 units at -2.00…-1.67"
    cell = fresh.time_plot.image.pixels[fresh._band(3) + 2, 7]     # the cell band: its own signed scale
    want = _pyqtgraphs(g["c"][7:8, 2:3].copy(), (-2.0, 2.0), DIVERGING)[0, 0]
    assert cell == want


def test_a_plain_rnn_shows_why_it_has_no_gates(qtbot):
    from explorer.ui.sequence.gates import GatesPanel
    p = GatesPanel()
    qtbot.addWidget(p)
    p.set_model((), 16, 60, "RNN")
    assert p.time_plot.title() == "Gates — a plain RNN has none" and "no gate" in p.time_plot.message()
    assert not p.hist_plot.isVisibleTo(p) and not p.cell_legend.isVisibleTo(p)
    p.show_gates({}, 0, 0, None)                              # ignored, no error


def test_memory_bars_title_and_labels(qtbot):
    from explorer.ui.sequence.memory_panel import MemoryPanel
    panel = MemoryPanel()
    qtbot.addWidget(panel)
    panel.resize(440, 200)
    panel.show()
    qtbot.waitExposed(panel)
    weights = np.array([0.1, 0.4, 0.05, 0.8])
    panel.show_memory(10, weights, "ab c", "\n", False)
    assert panel.title() == "Memory → predicted next char '⏎'"
    assert panel.tick_labels() == ["c", "␣", "b", "a"] and not panel.message()
    assert np.allclose(panel.heights, weights / 0.8)
    img = panel.grab().toImage()
    x = round(float(panel.px_x(0.0)))                          # the newest bar: full height
    assert img.pixelColor(x, round(float(panel.px_y(0.9)))).name() == ACCENT
    x = round(float(panel.px_x(-1.0)))                         # 0.05 / 0.8: a short bar
    assert img.pixelColor(x, round(float(panel.px_y(0.5)))).name() != ACCENT
    assert img.pixelColor(x, round(float(panel.px_y(0.03)))).name() == ACCENT
    assert panel.tooltip_at(-3.1, 0.5) == "character #10 'a': relative influence 0.125"
    panel.show_memory(10, weights, "ab c", "x", True)
    assert panel.title() == "Memory → actual next char 'x'"
    panel.show_memory(0, np.ones(70), "y" * 70, "x", True)      # a transformer's longer window:
    assert panel.x_range() == (0.4 - 72, 0.6)                     # the axis grows 8 characters at a time
    panel.show_memory(0, np.ones(72), "y" * 72, "x", True)
    assert panel.x_range() == (0.4 - 72, 0.6)
    panel.show_memory(0, None, "", "", False)
    assert panel.message() and panel.tick_labels() == [] and not len(panel.heights)
    assert "'x'" not in panel.title() and panel.title() == MemoryPanel().title()   # an emptied text names no character


def test_attention_pattern_colours_only_the_new_query_row(qtbot):
    from explorer.ui.sequence.attention import AttentionPanel, demo_view
    text = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)  # float\n'
    panels = []
    for _ in range(2):
        p = AttentionPanel()
        qtbot.addWidget(p)
        p.resize(900, 260)
        p.set_model(2, 4, 128)
        p.show()
        qtbot.waitExposed(p)
        panels.append(p)
    fed, fresh = panels
    v = demo_view(text=text[:71])
    before = dataclasses.replace(v, query=v.query - 1, rows=v.rows[..., :-1], chars=v.chars[:-1],
                                 pattern=v.pattern[:, :-1, :-1], pattern_chars=v.pattern_chars[:-1])
    fed.show_attention(before)
    fed.show_attention(v)                                       # one more character, the same start
    assert fed.pattern.recoloured == (70 - v.start, 71 - v.start)
    fresh.show_attention(v)
    fed.choose_head((0, 2))
    fresh.choose_head((0, 2))
    assert np.array_equal(fed.pattern.pixels, fresh.pattern.pixels)
    assert np.array_equal(_grab(fed.view), _grab(fresh.view))
    assert fresh.strip.labels()[0].startswith("L1 H1 · ") and len(fresh.strip.labels()) == 8
    tip = fresh.strip.tooltip_at(v.query - 0.5, fresh._row(1, 3) + 0.5)
    assert tip is not None and tip.startswith(f"layer 2, head 4: the query at #{v.query} gives")


@pytest.mark.parametrize("name", ["heatmap", "gates", "memory_panel"])
def test_the_panels_have_no_graphics_view(qtbot, name):
    """Hand-painted: one widget tree, no QGraphicsView (whose scene repaints in an update of its own)."""
    import importlib

    from PySide6 import QtWidgets

    from explorer.ui.sequence.demo import demo_frame
    session, view = demo_frame()
    w = importlib.import_module(f"explorer.ui.sequence.{name}").demo(session, view)
    qtbot.addWidget(w)
    assert not isinstance(w, QtWidgets.QGraphicsView) and not w.findChildren(QtWidgets.QGraphicsView)


def test_tick_labels_in_one_glyph_run_look_like_one_text_each(qtbot, monkeypatch):
    """The memory axis draws its characters as one glyph run: the same picture as each label
    drawn as its own text (which is also what a label with a glyph the font lacks falls back to)."""
    from explorer.ui.sequence.memory_panel import MemoryPanel

    def shown(panel_text):
        panel = MemoryPanel()
        qtbot.addWidget(panel)
        panel.resize(440, 200)
        panel.show()
        qtbot.waitExposed(panel)
        panel.show_memory(0, np.linspace(0.1, 1.0, len(panel_text)), panel_text, "x", False)
        return panel, _grab(panel)

    text = "def f(x):\n\treturn x + 1  # 中 é"
    panel, fast = shown(text)
    assert len(panel.axis.labels()) == len(text)
    run_labels = [s for _, s in panel.axis.ticks if panel.axis.glyphs(s) is not None]
    assert "中" not in run_labels and "⏎" in run_labels and "⇥" in run_labels and len(run_labels) == len(text) - 1
    monkeypatch.setattr(type(panel.axis), "glyphs", lambda self, label: None)   # every label as text
    slow_panel, slow = shown(text)
    assert all(slow_panel.axis.glyphs(s) is None for s in slow_panel.axis.labels())
    assert np.array_equal(fast, slow)


def test_attention_pattern_repaints_every_pixel_a_frame_changes(qtbot):
    from explorer.ui.sequence.attention import AttentionPanel, demo_view
    text = 'def mean(xs):\n    """Average of a list."""\n    return sum(xs) / len(xs)  # float\n'
    panel = AttentionPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 300)
    panel.set_model(2, 4, 128)
    panel.show()
    qtbot.waitExposed(panel)
    v = demo_view(text=text[:71])

    def upto(k):                            # the same weights, read up to character k (same start)
        cut = len(text[:71]) - k
        return dataclasses.replace(v, query=k - 1, rows=v.rows[..., :v.rows.shape[-1] - cut], chars=v.chars[:-cut or None],
                                   pattern=v.pattern[:, :v.pattern.shape[1] - cut, :v.pattern.shape[2] - cut],
                                   pattern_chars=v.pattern_chars[:-cut or None])
    panel.show_attention(upto(68))
    qtbot.wait(30)
    for k, frame in enumerate([upto(69), upto(70), upto(71), upto(66), upto(71)]):
        regions = []
        changed, missed = _repaint_misses(qtbot, panel.pattern, lambda f=frame: panel.show_attention(f), regions)
        assert changed and not missed, k
        if k == 0:                                           # a key: the new row and the labels, not all
            box = regions[0].boundingRect()
            assert box.height() < panel.pattern.height() / 2
    panel.choose_head((0, 1))                                # a chosen head's box: drawn (all of it)
    changed, missed = _repaint_misses(qtbot, panel.pattern, lambda: panel.show_attention(upto(70)))
    assert changed and not missed


def test_columns_given_as_rows_of_memory_colour_the_same(qtbot):
    """The heat map and the gates hand their window over as the transpose of (n, rows) arrays:
    the same columns are recoloured and the same pixels made as from a (rows, n) array."""
    rng = np.random.default_rng(5)
    full = rng.uniform(-1.2, 1.2, (12, 60)).astype(np.float32)
    edited = full[:, :47].copy()
    edited[3, 20] = np.nan                          # NaN: white, and never "the same" again
    a, b = WindowImage(), WindowImage()
    for values in (full[:, :40], full[:, :41], full[:, :49], full[:, :47], edited, edited.copy(), full[:, :45]):
        got_rows = a.set_window(np.ascontiguousarray(values), 60, ONE)
        got_cols = b.set_window(np.ascontiguousarray(values.T).T, 60, ONE)
        assert got_cols == got_rows and b.recoloured == a.recoloured
        assert np.array_equal(b.pixels, a.pixels)
        fresh = WindowImage()
        fresh.set_window(np.ascontiguousarray(values), 60, ONE)
        assert np.array_equal(b.pixels, fresh.pixels)


def test_gates_see_a_frame_whose_arrays_were_changed_in_place(qtbot):
    """The panel keeps its own copy of what it shows (in its stack): the caller's arrays edited
    in place and shown again are a new frame, recoloured; the same values again are not."""
    from explorer.ui.sequence.gates import GatesPanel
    panel = GatesPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 320)
    panel.set_model(("i", "f", "o", "c"), 16, 60, "LSTM")
    g = {k: v[:30].copy() for k, v in _gates(6, 50).items()}
    panel.show_gates(g, 0, 29, 2, (0.0, 60.0))
    image = panel.time_plot.image
    panel.show_gates(g, 0, 29, 2, (0.0, 60.0))
    assert image.recoloured == (0, 30)                          # the same frame: set_window not called again
    g["o"][12, 3] = 1.0 - g["o"][12, 3]
    panel.show_gates(g, 0, 29, 2, (0.0, 60.0))
    assert image.recoloured == (12, 30)
    fresh = WindowImage()
    fresh.set_window(image._cols[:30].T.copy(), 60, panel._bands())
    assert np.array_equal(fresh.pixels, image.pixels)
    assert panel.time_plot.tooltip_at(12.5, panel._band(2) + 3.5).endswith(f"{g['o'][12, 3]:.3f}")


def test_heat_map_sees_states_changed_in_place_and_skips_the_same_frame(qtbot):
    """The image holds its own copy of the states: the caller's array edited in place and shown
    with the same cursor is a new frame; the same values again (or no states twice) are not."""
    h = np.random.default_rng(8).uniform(-1, 1, (40, 16)).astype(np.float32)
    heat = _heatmap(qtbot)
    heat.show_states(h, 100, 139, 3, "x" * 40)
    assert heat.image.holds(h.T) and not heat.image.holds(h[:39].T)
    heat.show_states(h.copy(), 100, 139, 3, "x" * 40)
    assert heat.image.recoloured == (0, 40)                     # not compared or coloured again
    h[25, 4] = -h[25, 4]
    heat.show_states(h, 100, 139, 3, "x" * 40)
    assert heat.image.recoloured == (25, 40)
    fresh = _heatmap(qtbot)
    fresh.show_states(h, 100, 139, 3, "x" * 40)
    assert np.array_equal(_grab(heat), _grab(fresh))
    nan = h.copy()
    nan[30, 0] = np.nan
    heat.show_states(nan, 100, 139, 3, "x" * 40)
    assert not heat.image.holds(nan.T)                          # NaN is never "the same"
    empty = np.zeros((0, 16), np.float32)
    heat.show_states(empty, 100, -1, None, "")
    assert heat.message()
    heat.update = lambda *a: pytest.fail("the same empty frame repainted")   # type: ignore[method-assign]
    heat.show_states(empty, 100, -1, None, "")


def test_update_spans_merges_near_strips_and_keeps_far_ones_apart(qtbot):
    """A key's column and the cursor's two places (neighbours) are one repainted strip; a far
    cursor move is two strips, not everything in between."""

    from explorer.ui.sequence.painted_image import LivePlot
    plot = LivePlot("t", "x", "y")
    qtbot.addWidget(plot)
    plot.resize(400, 200)
    plot.set_x_range(0, 100)
    calls: list[tuple[float, float]] = []
    plot.update_span = lambda a, b, pad=3.0: calls.append((a, b))      # type: ignore[method-assign]
    plot.update_spans([(40, 41), (39.5, 39.5), (40.5, 40.5)])
    assert calls == [(39.5, 41)]
    calls.clear()
    plot.update_spans([(40, 41), (10.5, 10.5), (40.5, 40.5)])
    assert calls == [(10.5, 10.5), (40, 41)]
    calls.clear()
    plot.update_spans([])
    assert calls == []


def test_one_pass_over_every_band_colours_as_band_by_band(qtbot):
    """RowColours (a key's column coloured once for all bands) gives ``colour``'s pixels band by
    band: levels' edges, clipping, NaN and infinities; rows in no band white."""
    from explorer.ui.sequence.painted_image import RowColours, colour
    bands = ((0, 5, 0.0, 1.0, GATE_MAP), (7, 12, -2.0, 2.0, DIVERGING), (12, 14, -1.0, 1.0, DIVERGING))
    rng = np.random.default_rng(11)
    cols = rng.uniform(-3, 3, (40, 14)).astype(np.float32)
    cols[0, :5] = [0.0, 1.0, 1 / 256, np.nextafter(np.float32(1), np.float32(0)), -1e-8]
    cols[1, 7:12] = [-2.0, 2.0, np.inf, -np.inf, np.nan]
    cols[2, 5:7] = [np.nan, 0.3]                             # the gap: white whatever it holds
    cols[3, :] = np.arange(14) / 7.0 - 1.0
    got = RowColours(14, bands).pixels(cols)
    for r0, r1, lo, hi, name in bands:
        assert np.array_equal(got[:, r0:r1], colour(cols[:, r0:r1], lo, hi, colour_table(name))), (r0, r1)
    assert (got[:, 5:7] == BACKGROUND).all()
    assert got[1, 11] == BACKGROUND and len(np.unique(got)) > 100


def test_columns_written_in_place_and_recoloured_equal_a_fresh_image(qtbot):
    """A caller that knows which columns changed writes them into ``held()`` and recolours them:
    the image is a fresh image's; a column written but not recoloured stays stale (the control)."""
    rng = np.random.default_rng(12)
    full = rng.uniform(-1.2, 1.2, (60, 12)).astype(np.float32)      # a row per column
    img = WindowImage()
    assert img.shape(12, 60, ONE) and not img.shape(12, 60, ONE)   # emptied once, then kept
    held = img.held()
    held[:40] = full[:40]
    assert img.recolour(0, 40) == (0, 40)
    for first, n in ((40, 41), (41, 49), (49, 47), (30, 47)):
        if n > first:
            held[first:n] = full[first:n] * (-1 if first == 30 else 1)
        img.recolour(first, n)
        want = np.ascontiguousarray(held[:n].T)
        fresh = WindowImage()
        fresh.set_window(want, 60, ONE)
        assert np.array_equal(img.pixels, fresh.pixels), (first, n)
        assert np.isnan(held[n:]).all()                            # emptied columns hold nothing
    held[10] = -held[10]                                           # written, not recoloured
    fresh = WindowImage()
    fresh.set_window(np.ascontiguousarray(held[:47].T), 60, ONE)
    assert not np.array_equal(img.pixels, fresh.pixels)
    img.recolour(10, 47)
    assert np.array_equal(img.pixels, fresh.pixels)


def _gates_panels(qtbot, n, names=("i", "f", "o", "c"), units=16):
    from explorer.ui.sequence.gates import GatesPanel
    out = []
    for _ in range(n):
        p = GatesPanel()
        qtbot.addWidget(p)
        p.resize(600, 320)
        p.set_model(names, units, 60, "LSTM" if "c" in names else "GRU")
        p.show()
        qtbot.waitExposed(p)
        out.append(p)
    return out


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_gates_fed_by_the_session_key_by_key_paint_what_fresh_gates_paint(qtbot, monkeypatch, cell):
    """The session's windows are read-only and kept in place: the panel knows by index which
    columns it already shows (a key: the new one only) and after typing, deleting, editing and
    scrolling paints what a fresh panel shown the same frame paints. Control: a panel told that
    every column is unchanged after an edit shows the old numbers."""
    import explorer.ui.sequence.gates as gates_module
    from explorer.session.sequence import SequenceSession, random_model
    from explorer.ui.sequence.painted_image import RowColours
    s = SequenceSession(random_model(cell, hidden=16, embed=4, seed=5))
    fed, fresh = _gates_panels(qtbot, 2, s.gate_names)
    text = "def f(a, b):\n    return [a * 2, 'b' + b]  # x\n" * 2
    edits = [lambda t: t + "a", lambda t: t + "b(", lambda t: t[:-1], lambda t: t + "Z",
             lambda t: t[:40] + "Q" + t[41:], lambda t: t + "xyz", lambda t: t + "k" * 30]
    for k, edit in enumerate([lambda t: t] + edits):
        text = edit(text)
        s.set_text(text)
        start = max(0, len(text) - 50) // 10 * 10             # the window scrolls in hops
        g = s.gates(start, len(text))
        with monkeypatch.context() as m:
            coloured = []
            if k in (1, 2, 3):                                # typed on, deleted: known by index
                m.setattr(np, "array_equal", lambda *a: pytest.fail("the window's values compared"))
                real = RowColours.pixels
                m.setattr(RowColours, "pixels", lambda self, c, seen=coloured, real=real: seen.append(len(c)) or real(self, c))
            fed.show_gates(g, start, len(text) - 1, 3, (float(start), start + 60.0))
        assert coloured == {1: [1], 2: [2], 3: []}.get(k, []), k     # the new columns only
        if k == 1:
            assert fed.time_plot.image.recoloured == (len(text) - 1 - start, len(text) - start)
        fresh.set_model(s.gate_names, 16, 60, cell)
        fresh.show_gates({n: v.copy() for n, v in g.items()}, start, len(text) - 1, 3, (float(start), start + 60.0))
        assert np.array_equal(fed.time_plot.image.pixels, fresh.time_plot.image.pixels), k
        assert np.array_equal(fed.hist_plot.heights, fresh.hist_plot.heights), k
        assert np.array_equal(_grab(fed), _grab(fresh)), k
    monkeypatch.setattr(gates_module, "kept_rows", lambda old, new: min(len(old), len(new)))
    text = text[:len(text) - 20] + "#" + text[len(text) - 19:]   # an edit the lie hides
    s.set_text(text)
    g = s.gates(start, len(text))
    fed.show_gates(g, start, len(text) - 1, 3, (float(start), start + 60.0))
    fresh.set_model(s.gate_names, 16, 60, cell)                    # (shows it all: nothing to lie about)
    fresh.show_gates({n: v.copy() for n, v in g.items()}, start, len(text) - 1, 3, (float(start), start + 60.0))
    assert not np.array_equal(fed.time_plot.image.pixels, fresh.time_plot.image.pixels)


def test_gate_bars_follow_the_cursor_column_as_a_fresh_histogram_draws_them(qtbot):
    """Fed key by key, then the cursor moved back: the bars are where the bin counts say (x from
    the bin edges, from the band's foot up to its height) and paint what a fresh histogram paints;
    bars kept from the previous column would not (the control)."""
    from explorer.ui.sequence.gates import BINS
    fed, fresh = _gates_panels(qtbot, 2)
    g = _gates(3, 50)
    for n in range(20, 31):
        fed.show_gates({k: v[:n] for k, v in g.items()}, 0, n - 1, 4, (0.0, 60.0))
        fed.hist_plot.bar_rects()                                # drawn after each key
    stale = fed.hist_plot.bar_rects()
    fed.show_gates({k: v[:30] for k, v in g.items()}, 0, 12, 4, (0.0, 60.0))   # the cursor moved back
    fresh.show_gates({k: v[:30] for k, v in g.items()}, 0, 12, 4, (0.0, 60.0))
    hist = fed.hist_plot
    want = []
    for k in range(4):
        foot = fed._band(k) + 16
        for b in range(BINS):
            if hist.heights[k, b] > 0:
                x0, x1 = float(hist.px_x(b / BINS)), float(hist.px_x(b / BINS + 0.9 / BINS))
                top, bottom = float(hist.px_y(foot - hist.heights[k, b])), float(hist.px_y(foot))
                want += [x0, top, x1 - x0, bottom - top]
    got = hist.bar_rects().ravel().tolist()                      # x, y, width, height per bar
    assert got == pytest.approx(want)
    old = stale.ravel().tolist()
    assert len(old) != len(want) or old != pytest.approx(want)
    assert np.array_equal(_grab(fed.hist_plot), _grab(fresh.hist_plot))


@pytest.mark.parametrize("inverted", [True, False])
def test_plain_float_mapping_is_px_x_and_px_y_exactly(qtbot, inverted):
    """x_px / y_px (a paint's few numbers without numpy arrays) give px_x / px_y bit for bit;
    after the y axis flips, the other way round is wrong (the control)."""
    from explorer.ui.sequence.painted_image import LivePlot
    plot = LivePlot("t", "x", "y")
    qtbot.addWidget(plot)
    plot.resize(437, 211)
    plot.set_x_range(1875, 2075)
    plot.set_y_range(0, 192, inverted=inverted)
    xs, ys = [1875, 1875.5, 2049.5, 2075, 3.25, 2100], [0.0, 0.5, 96.5, 191.5, 192.0, -3.0]
    assert [plot.x_px(x) for x in xs] == plot.px_x(np.array(xs, float)).tolist()
    assert [plot.y_px(y) for y in ys] == plot.px_y(np.array(ys)).tolist()
    plot.set_y_range(0, 192, inverted=not inverted)
    assert [plot.y_px(y) for y in ys] == plot.px_y(np.array(ys)).tolist()
    plot.set_y_range(0, 192, inverted=inverted)
    flipped = plot.px_y(np.array(ys)).tolist()
    plot.y_inverted = not inverted                              # a mapping that forgot the flip
    assert [plot.y_px(y) for y in ys] != flipped


def test_heat_map_fed_by_the_session_key_by_key_paints_what_a_fresh_one_paints(qtbot, monkeypatch):
    """The session's heat-map windows (read-only, kept in place): the panel colours only the new
    column, known by index, and after typing, deleting, an edit, a scroll and another row order
    paints what a fresh panel shown the same frame paints. Control: told every column is
    unchanged after an edit, it shows the old numbers."""
    import explorer.ui.sequence.heatmap as heatmap_module
    from explorer.session.sequence import SequenceSession, random_model
    s = SequenceSession(random_model("GRU", hidden=16, embed=4, seed=6))
    fed, fresh = _heatmap(qtbot), _heatmap(qtbot)
    order = np.random.default_rng(2).permutation(16)
    text = "def f(a, b):\n    return [a * 2, 'b' + b]  # x\n" * 2
    changes = [lambda t: t, lambda t: t + "a", lambda t: t + "b(", lambda t: t[:-1], lambda t: t + "Z",
               lambda t: t[:70] + "Q" + t[71:], lambda t: t + "k" * 30]
    for k, change in enumerate(changes + [lambda t: t]):
        text = change(text)
        s.set_text(text)
        rows = order if k < len(changes) else order[::-1].copy()
        start = max(0, len(text) - 50) // 10 * 10
        h = s.hidden_rows(start, len(text), rows)
        view = (float(start), start + 60.0)
        if k in (1, 2, 3):                                    # typed on, deleted: known by index, not compared
            monkeypatch.setattr(fed.image, "set_window", lambda *a: pytest.fail("values compared"))
            monkeypatch.setattr(fed.image, "holds", lambda *a: pytest.fail("values compared"))
            monkeypatch.setattr(np, "array_equal", lambda *a: pytest.fail("the window's values compared"))
        fed.show_states(h, start, len(text) - 1, 3, text[start:], view)
        monkeypatch.undo()
        if k == 1:
            assert fed.image.recoloured == (len(text) - 1 - start, len(text) - start)
        fresh.set_units(16)
        fresh.show_states(h.copy(), start, len(text) - 1, 3, text[start:], view)
        assert np.array_equal(fed.image.pixels, fresh.image.pixels), k
        assert np.array_equal(_grab(fed), _grab(fresh)), k
    monkeypatch.setattr(heatmap_module, "kept_rows", lambda old, new: min(len(old), len(new)))
    text = text[:len(text) - 20] + "#" + text[len(text) - 19:]
    s.set_text(text)
    h = s.hidden_rows(start, len(text), rows)
    fed.show_states(h, start, len(text) - 2, 3, text[start:], view)
    fresh.set_units(16)
    fresh.show_states(h.copy(), start, len(text) - 2, 3, text[start:], view)
    assert not np.array_equal(fed.image.pixels, fresh.image.pixels)


def _drawn(draw, dpr):
    img = QtGui.QImage(int(80 * dpr), int(60 * dpr), QtGui.QImage.Format.Format_RGB32)
    img.setDevicePixelRatio(dpr)
    img.fill(QtGui.QColor("white"))
    p = QtGui.QPainter(img)
    p.setClipRect(QtCore.QRectF(5.3, 4.7, 60.1, 50.2))       # as a plot area clips its lines
    draw(p)
    p.end()
    return _argb(img)


@pytest.mark.parametrize("dpr", [1.0, 2.0, 1.5])
def test_lines_filled_as_rectangles_cover_the_pens_pixels(qtbot, dpr):
    """The cursor and unit lines (2-px pen, square caps) and the histogram's marks (3-px pen,
    flat caps) are filled rectangles now: the same pixels as the pen drew, at any position and
    device pixel ratio; a rectangle half a pixel off does not match (the control)."""
    from explorer.ui.sequence.painted_image import LivePlot
    colour = QtGui.QColor(ACCENT)
    two, three = QtGui.QPen(colour, 2), QtGui.QPen(colour, 3)
    three.setCapStyle(QtCore.Qt.PenCapStyle.FlatCap)
    rng = np.random.default_rng(int(dpr * 10))
    off = 0
    for _ in range(60):
        x, y = rng.uniform(6, 60), rng.uniform(6, 50)
        for a, b in ((QtCore.QPointF(x, 4.7), QtCore.QPointF(x, 54.9)), (QtCore.QPointF(5.3, y), QtCore.QPointF(65.4, y))):
            pen = _drawn(lambda p, a=a, b=b: (p.setPen(two), p.drawLine(a, b)), dpr)
            assert np.array_equal(_drawn(lambda p, a=a, b=b: LivePlot.line_2px(p, a, b, colour), dpr), pen)
        y0, y1 = y - 10, y + rng.uniform(1, 20)
        line, filled = QtCore.QLineF(x, y0, x, y1), QtCore.QRectF(x - 1.5, y0, 3.0, y1 - y0)
        shifted = filled.translated(0.5, 0)
        pen = _drawn(lambda p, line=line: (p.setPen(three), p.drawLines([line])), dpr)
        assert np.array_equal(_drawn(lambda p, r=filled: p.fillRect(r, colour), dpr), pen)
        off += not np.array_equal(_drawn(lambda p, r=shifted: p.fillRect(r, colour), dpr), pen)
    assert off > 20


@pytest.mark.parametrize("panel", ["heatmap", "gates"])
def test_a_scrolled_window_moves_its_columns_and_colours_only_the_new_ones(qtbot, monkeypatch, panel):
    """The time axis scrolls in hops: the columns both windows share are moved, not coloured
    again, and the picture is a fresh panel's; a hop whose shared columns changed (an edit)
    is coloured anew. Control: columns not moved show the wrong characters."""
    from explorer.ui.sequence.painted_image import WindowImage as Image
    rng = np.random.default_rng(13)
    states = rng.uniform(-1, 1, (120, 16)).astype(np.float32)
    gates = _gates(14, 120)

    def make():
        if panel == "heatmap":
            return _heatmap(qtbot)
        return _gates_panels(qtbot, 1)[0]

    def show(w, start, n, edit=False):
        view = (float(start), start + 60.0)
        if panel == "heatmap":
            h = states[start:start + n].copy()
            if edit:
                h[5] *= -1
            w.show_states(h, start, start + n - 1, 3, "x" * n, view)
            return w.image
        g = {k: v[start:start + n].copy() for k, v in gates.items()}
        if edit:
            g["f"][5] = 1 - g["f"][5]
        w.show_gates(g, start, start + n - 1, 3, view)
        return w.time_plot.image

    fed = make()
    show(fed, 0, 50)
    last_start, last_n = 0, 50
    for start, n, edit in ((10, 45, False), (20, 40, False), (30, 40, True), (40, 42, False)):
        image = show(fed, start, n, edit)
        shared = min(n, last_n - (start - last_start))        # the columns both windows show
        assert image.recoloured == ((0, n) if edit else (shared, n)), start
        fresh = make()
        assert np.array_equal(image.pixels, show(fresh, start, n, edit).pixels), start
        assert np.array_equal(_grab(fed), _grab(fresh)), start
        last_start, last_n = start, n
    monkeypatch.setattr(Image, "shift", lambda self, d: None)    # columns left where they were
    image = show(fed, 50, 40)
    fresh = make()
    assert not np.array_equal(image.pixels, show(fresh, 50, 40).pixels)


def _on_screen(w) -> np.ndarray:
    """What the window shows of ``w`` now: its backing store, with every partial repaint so far."""
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    top = w.window()
    at = w.mapTo(top, QtCore.QPoint(0, 0))
    return _argb(top.screen().grabWindow(top.winId()).toImage().copy(at.x(), at.y(), w.width(), w.height()))


def test_gate_histograms_repainted_in_their_plot_area_show_what_a_full_repaint_shows(qtbot):
    """A key repaints the histograms' plot area only: on screen after keys (typing on, the cursor
    moved back, another unit) is the full repaint and a fresh panel's; the frame before is not
    (the control)."""
    fed, fresh = _gates_panels(qtbot, 2)
    g = _gates(21, 50)
    frames = [(n, n - 1, 4) for n in range(20, 27)] + [(26, 11, 4), (26, 11, 9)]
    for n, step, unit in frames:
        fed.show_gates({k: v[:n] for k, v in g.items()}, 0, step, unit, (0.0, 60.0))
        seen = _on_screen(fed.hist_plot)
        assert np.array_equal(seen, _grab(fed.hist_plot)), (n, step, unit)
        fresh.set_model(("i", "f", "o", "c"), 16, 60, "LSTM")
        fresh.show_gates({k: v[:n].copy() for k, v in g.items()}, 0, step, unit, (0.0, 60.0))
        assert np.array_equal(seen, _grab(fresh.hist_plot)), (n, step, unit)
    fed.show_gates({k: v[:26] for k, v in g.items()}, 0, 12, 9, (0.0, 60.0))
    assert not np.array_equal(_on_screen(fed.hist_plot), seen)
