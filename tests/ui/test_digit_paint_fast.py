"""The Digit Lab's per-move fast paths equal their slow references; the splitter that drops
layout requests still re-lays out on a real change; the pen bench waits for changed panels only."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.colors import diverging
from explorer.ui.widgets.mosaic import GAP, MosaicView, tile_layout


def _pixels(view: MosaicView) -> np.ndarray:
    img = view.mosaic_image().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, : img.width(), 2::-1].copy()                     # BGRA in memory -> RGB


def _reference(maps: np.ndarray, cols: int, levels: tuple[float, float] = (-1.0, 1.0)) -> np.ndarray:
    """Tile by tile, as the panel did before: LUT colours, 1-cell gaps of GAP colour."""
    n, h, w = maps.shape
    lut = diverging().getLookupTable(0.0, 1.0, 256, alpha=False).astype(np.uint8)
    H, W = tile_layout(n, cols, h, w)
    out = np.empty((H, W, 3), np.uint8)
    out[...] = GAP[:3]
    lo, hi = levels
    idx = np.clip((maps - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)
    for c in range(n):
        r, k = divmod(c, cols)
        out[r * (h + 1): r * (h + 1) + h, k * (w + 1): k * (w + 1) + w] = lut[idx[c]]
    return out


@pytest.mark.parametrize("n,h,w,cols", [(1, 28, 28, 1), (8, 28, 28, 8), (16, 14, 14, 8), (10, 5, 7, 4), (1, 4, 16, 1)])
def test_mosaic_pixels_equal_the_tile_by_tile_reference(qtbot, n, h, w, cols):
    view = MosaicView(n, h, w, cols)
    qtbot.addWidget(view)
    rng = np.random.default_rng(n * 100 + cols)
    for _ in range(2):                                        # the buffer is reused: a second frame too
        maps = rng.uniform(-1.3, 1.3, (n, h, w)).astype(np.float32)
        view.show_maps(maps)
        np.testing.assert_array_equal(_pixels(view), _reference(maps, cols))
    if n > 1:                                                  # negative control: tiles swapped differ
        swapped = maps[::-1].copy()
        assert not np.array_equal(_pixels(view), _reference(swapped, cols))


def test_steady_splitter_drops_only_unchanged_layout_requests(qtbot):
    from explorer.ui.digit.steady import SteadySplitter

    split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
    qtbot.addWidget(split)
    left, right = QtWidgets.QFrame(), QtWidgets.QLabel("right")    # a panel with a label, as the lab's
    label = QtWidgets.QLabel("12.5 %")
    QtWidgets.QVBoxLayout(left).addWidget(label)
    split.addWidget(left)
    split.addWidget(right)
    split.resize(400, 100)
    split.show()
    qtbot.waitExposed(split)
    steady = SteadySplitter(split)
    QtWidgets.QApplication.sendPostedEvents()

    def settle() -> None:
        for _ in range(3):
            QtWidgets.QApplication.sendPostedEvents()
            QtWidgets.QApplication.processEvents()

    settle()
    passed, dropped = steady.passed, steady.dropped
    label.setText("13.7 %")                       # same size hints: nothing for the splitter to do
    settle()
    assert steady.dropped > dropped and steady.passed == passed
    width = right.width()
    right.hide()                                 # a real change: the splitter gives its room away
    settle()
    assert steady.passed > passed and left.width() > width
    right.show()
    settle()
    right.setMinimumWidth(300)                   # a new minimum is honoured
    settle()
    assert right.width() >= 300


class _Scheduler(QtCore.QObject):
    rendered = QtCore.Signal()


def test_pen_latency_waits_for_changed_panels_only(qtbot):
    """A panel still showing the same object after the frame is not waited for; a direct panel
    counts from the input, a frame panel only from the frame on."""
    import time

    from explorer.ui.shell.bench import InputLatency

    widgets = {name: QtWidgets.QWidget() for name in ("canvas", "maps", "pen")}
    for w in widgets.values():
        qtbot.addWidget(w)
    shown = {"pen": object()}
    sched = _Scheduler()
    lat = InputLatency(widgets, sched, direct={"canvas"}, shows={"pen": lambda: shown["pen"]})

    def paint(name: str) -> None:
        lat.clock.record_paint(name)
        QtWidgets.QApplication.processEvents()       # the batch closes
        time.sleep(0.001)

    lat.sent(time.perf_counter())
    paint("canvas")                                  # the stroke, drawn as the move arrives
    sched.rendered.emit()
    assert lat.complete(0) is None                   # the maps have not painted the frame yet
    paint("maps")
    assert lat.complete(0)[1] == "maps"              # the pen panels showed nothing new: not waited for

    lat.sent(time.perf_counter())
    paint("canvas")
    paint("maps")                                    # a paint before the frame does not count
    shown["pen"] = object()                          # this input's frame gives the pen panels a new frame
    sched.rendered.emit()
    paint("maps")
    assert lat.complete(1) is None                   # the pen panels have not painted yet
    paint("pen")
    assert lat.complete(1)[1] == "pen"
    lat.remove()


def test_gate_pixels_equal_pyqtgraphs_colouring(qtbot):
    """The gates' own colouring == pyqtgraph's ImageItem (levels 0..1, the viridis table, NaN gaps
    transparent), which the panel used before."""
    import pyqtgraph as pg

    from explorer.ui.digit.pen_gates import GATE_MAP, PenGatesPanel, gate_pixels

    panel = PenGatesPanel()
    qtbot.addWidget(panel)
    rng = np.random.default_rng(3)
    values = rng.uniform(-0.1, 1.1, (20, 33)).astype(np.float32)
    values[0, :3] = [0.0, 1.0 / 256, 255.0 / 256]                    # the table's edges
    values[7:9] = np.nan                                             # a gap between bands
    item = pg.ImageItem(axisOrder="row-major")
    item.setLookupTable(pg.colormap.get(GATE_MAP).getLookupTable(0.0, 1.0, 256))
    item.setImage(values, levels=(0.0, 1.0), autoLevels=False)
    item.render()
    ref = item.qimage.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    want = np.frombuffer(ref.constBits(), np.uint32).reshape(ref.height(), ref.bytesPerLine() // 4)[:, : ref.width()]
    got = gate_pixels(values, panel.lut)
    np.testing.assert_array_equal(got, np.where(want >> 24 == 0, 0, want))
    assert not np.array_equal(gate_pixels(values[:, ::-1], panel.lut), got)       # a negative control


def _screen_and_fresh(app, w):
    """(what the window shows now, after partial repaints; the same window painted afresh)."""
    def arr(img: QtGui.QImage) -> np.ndarray:
        img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
        return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)[
            :, : img.width()].copy()
    shown = arr(app.primaryScreen().grabWindow(w.winId()).toImage())
    fresh = arr(w.grab().toImage())
    h, v = min(shown.shape[0], fresh.shape[0]), min(shown.shape[1], fresh.shape[1])
    return shown[:h, :v], fresh[:h, :v]


def test_class_curves_repaint_only_what_changed_and_match_a_full_repaint(qtbot):
    import pyqtgraph as pg

    from explorer.ui.digit.pen_time import ClassCurves
    from explorer.ui.digit.plots import CLASS_COLOURS

    app = QtWidgets.QApplication.instance()
    plot = pg.PlotWidget(background="w")
    qtbot.addWidget(plot)
    plot.resize(420, 260)
    curves = ClassCurves(CLASS_COLOURS)
    plot.addItem(curves)
    plot.setXRange(1, 100, padding=0.02)
    plot.setYRange(0, 1.02, padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(10), 90).astype(np.float32)
    probs[20:23] = np.nan                                     # a gap (the CNN not computed yet)
    x = np.arange(1, 91, dtype=np.float64)
    for t in range(1, 40):                                     # a pen step per frame: one more row
        curves.set_data(x[:t], probs[:t])
        app.processEvents()
        assert curves.dirty_from == (t - 1 if t > 1 else None) or t % ClassCurves.GROW == 1
    probs2 = probs.copy()
    probs2[21] = rng.dirichlet(np.ones(10))                    # an older step filled in later
    curves.set_data(x[:40], probs2[:40])
    assert curves.dirty_from == 21
    app.processEvents()
    shown, fresh = _screen_and_fresh(app, plot)
    np.testing.assert_array_equal(shown, fresh)               # the strips add up to a full repaint
    curves.set_data(x[:10], probs[:10])                        # fewer rows (undo): everything
    assert curves.dirty_from is None
    app.processEvents()
    shown, fresh = _screen_and_fresh(app, plot)
    np.testing.assert_array_equal(shown, fresh)
    curves.y = probs[::-1][:10].copy()                         # negative control: changed, not repainted
    app.processEvents()
    shown, fresh = _screen_and_fresh(app, plot)
    assert not np.array_equal(shown, fresh)


def test_trail_repaints_around_new_steps_and_matches_a_full_repaint(qtbot):
    import pyqtgraph as pg

    from explorer.ui.digit.pen_trajectory import TrailItem

    app = QtWidgets.QApplication.instance()
    plot = pg.PlotWidget(background="w")
    qtbot.addWidget(plot)
    plot.resize(300, 260)
    trail = TrailItem("#d62728", "#ff7f0e")
    plot.addItem(trail)
    plot.getPlotItem().getViewBox().setRange(xRange=(-1.2, 1.2), yRange=(-1.2, 1.2), padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    t = np.linspace(0, 6 * np.pi, 200)
    xy = np.stack([np.cos(t) * (1 - t / 25), np.sin(1.3 * t)], axis=1)        # crosses itself
    xy[0], xy[1] = (-1.0, -1.0), (1.0, 1.0)                 # the extremes first: later steps stay inside
    partial = 0
    for n in range(2, 200, 3):
        trail.set_data(xy[:n])
        partial += trail.partial
        app.processEvents()
    assert partial > 50                                      # most steps repainted only around the head
    shown, fresh = _screen_and_fresh(app, plot)
    np.testing.assert_array_equal(shown, fresh)
    trail.xy = xy[::-1].copy()                               # negative control: changed, not repainted
    app.processEvents()
    shown, fresh = _screen_and_fresh(app, plot)
    assert not np.array_equal(shown, fresh)


CALLOUTS = ["", "<span style='font-size:24pt; color:#888'>draw a digit</span>",
            "<span style='font-size:40pt; font-weight:600; color:#c82828'>7</span>"
            "<span style='font-size:20pt'>&nbsp;84.3&nbsp;%</span>",
            "<span style='font-size:11pt; color:#666'>runner-up</span><br>"
            "<span style='font-size:20pt; font-weight:600; color:#d9826f'>9</span>"
            "<span style='font-size:13pt'>&nbsp;8.0&nbsp;%</span>"]


@pytest.mark.parametrize("html", CALLOUTS)
def test_rich_label_looks_and_sizes_like_a_qlabel(qtbot, html):
    from explorer.ui.widgets.probabilities import RichLabel

    box = QtWidgets.QWidget()
    qtbot.addWidget(box)
    row = QtWidgets.QHBoxLayout(box)
    label, rich = QtWidgets.QLabel(), RichLabel()
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    label.setText(html)
    rich.setText(html)
    row.addWidget(label, 1, QtCore.Qt.AlignmentFlag.AlignBottom)
    row.addWidget(rich, 1, QtCore.Qt.AlignmentFlag.AlignBottom)
    box.resize(520, 150)
    box.show()
    qtbot.waitExposed(box)
    assert rich.sizeHint() == label.sizeHint() and rich.minimumSizeHint() == label.minimumSizeHint()
    a, b = label.grab().toImage(), rich.grab().toImage()
    assert a == b
    if html:                                      # control: another text looks different
        rich.setText(html.replace("7", "1").replace("9", "4").replace("draw", "Draw"))
        assert rich.grab().toImage() != a


def test_rich_label_asks_for_a_layout_only_when_its_size_changes(qtbot):
    from explorer.ui.widgets.probabilities import RichLabel

    requests = []

    class Box(QtWidgets.QWidget):
        def event(self, ev: QtCore.QEvent) -> bool:
            if ev.type() == QtCore.QEvent.Type.LayoutRequest:
                requests.append(1)
            return super().event(ev)

    box = Box()
    qtbot.addWidget(box)
    rich = RichLabel()
    QtWidgets.QHBoxLayout(box).addWidget(rich)
    rich.setText("<span style='font-size:20pt'>84.3&nbsp;%</span>")
    box.show()
    qtbot.waitExposed(box)
    QtWidgets.QApplication.processEvents()
    requests.clear()
    rich.setText("<span style='font-size:20pt'>85.3&nbsp;%</span>")          # same digits' width
    QtWidgets.QApplication.processEvents()
    assert requests == []
    rich.setText("<span style='font-size:20pt'>100.0&nbsp;%</span>")         # wider: the layout follows
    QtWidgets.QApplication.processEvents()
    assert requests and rich.width() >= rich.sizeHint().width()


def test_layer_maps_behind_the_pen_page_catch_up(qtbot, digit_lab, ui):
    """Behind the pen page the layer maps skip frames; shown again, or exported, they show the
    drawing as it is."""
    lab = digit_lab
    st = lab.session.stages[0]
    panel = lab.layers.panels[st.name]
    lab.middle_tabs.setCurrentIndex(1)
    ui.draw(qtbot, lab.canvas, ui.seven_points()[:20])
    lab.scheduler.flush()
    want = lab.view.stage(st.name).maps
    assert not np.array_equal(panel.view.values, want)            # skipped while hidden
    assert lab.panels()[st.title] is panel                          # what an export grabs: caught up
    np.testing.assert_array_equal(panel.view.values, want)
    ui.draw(qtbot, lab.canvas, ui.seven_points()[20:30])
    lab.scheduler.flush()
    lab.middle_tabs.setCurrentIndex(0)                              # back: the newest frame
    np.testing.assert_array_equal(panel.view.values, lab.view.stage(st.name).maps)


READOUT = ("<span style='color:#c82828'>pen RNN <b style='font-size:13pt'>7</b> 84 %</span> &nbsp; "
           "<span style='color:#1f77b4'>CNN <b style='font-size:13pt'>1</b> 52 %</span> &nbsp; "
           "<span style='color:#333'>knew at step: 12 · not yet (of 40)</span>")


@pytest.mark.parametrize("width", [600, 260, 140, 60])      # one line, two, three (clipped), a word a line
@pytest.mark.parametrize("fixed", [True, False])
def test_wrapped_rich_label_looks_and_sizes_like_a_word_wrapped_qlabel(qtbot, width, fixed):
    from explorer.ui.widgets.probabilities import WrappedRichLabel

    box = QtWidgets.QWidget()
    qtbot.addWidget(box)
    col = QtWidgets.QVBoxLayout(box)
    label, rich = QtWidgets.QLabel(), WrappedRichLabel()
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    label.setWordWrap(True)
    for w in (label, rich):
        w.setText(READOUT)
        w.setMinimumWidth(1)
        if fixed:
            w.setFixedHeight(2 * w.fontMetrics().lineSpacing() + 8)
        col.addWidget(w)
    col.addStretch(1)
    box.resize(width, 400)
    box.show()
    qtbot.waitExposed(box)
    assert rich.sizeHint() == label.sizeHint() and rich.minimumSizeHint() == label.minimumSizeHint()
    assert rich.heightForWidth(width) == label.heightForWidth(width)
    assert rich.size() == label.size()
    a = label.grab().toImage()
    assert rich.grab().toImage() == a
    rich.setText(READOUT.replace("84", "85"))                  # control: a new text is drawn
    assert rich.grab().toImage() != a
    label.setText(READOUT.replace("84", "85"))
    assert rich.grab().toImage() == label.grab().toImage()


def test_wrapped_rich_label_asks_for_a_layout_only_when_its_height_changes(qtbot):
    from explorer.ui.widgets.probabilities import WrappedRichLabel

    requests = []

    class Box(QtWidgets.QWidget):
        def event(self, ev: QtCore.QEvent) -> bool:
            if ev.type() == QtCore.QEvent.Type.LayoutRequest:
                requests.append(1)
            return super().event(ev)

    box = Box()
    qtbot.addWidget(box)
    rich = WrappedRichLabel()
    col = QtWidgets.QVBoxLayout(box)
    col.addWidget(rich)
    col.addStretch(1)
    rich.setText(READOUT)
    box.resize(600, 300)
    box.show()
    qtbot.waitExposed(box)
    QtWidgets.QApplication.processEvents()
    one_line = rich.height()
    requests.clear()
    rich.setText(READOUT.replace("84", "85"))                  # same lines
    QtWidgets.QApplication.processEvents()
    assert requests == []
    rich.setText(READOUT + " and a much longer tail that wraps onto a second line" * 2)
    QtWidgets.QApplication.processEvents()
    assert requests and rich.height() > one_line               # taller: the layout follows


def _gate_frame(t: int, hidden: int = 6):
    from types import SimpleNamespace

    rng = np.random.default_rng(t)
    gates = {g: rng.uniform(0, 1, (t, hidden)).astype(np.float32) for g in "ifo"}
    reading = SimpleNamespace(cell="LSTM", hidden=np.zeros((t, hidden), np.float32), gates=gates,
                              stroke=np.arange(t) // 30)
    return SimpleNamespace(steps=t, reading=reading)


def test_gates_axis_widens_in_steps_and_every_pen_step_is_drawn(qtbot):
    """The x range changes every STEP pen steps, not every step; every step's column is still shown
    inside it (the image follows each step)."""
    from explorer.ui.digit.pen_gates import STEP, WINDOW, PenGatesPanel

    panel = PenGatesPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    panel.show()
    qtbot.waitExposed(panel)
    vb = panel.plot.getPlotItem().getViewBox()
    ranges = []
    for t in range(1, WINDOW + 3 * STEP + 1):
        panel.show_view(_gate_frame(t))
        lo, hi = vb.viewRange()[0]
        ranges.append((lo, hi))
        left = panel.image.pos().x()
        right = left + panel.image.pixmap().width()
        assert right == t and t - left <= WINDOW                  # the latest step is drawn ...
        assert lo <= left and right <= hi and hi - right <= max(STEP, 40 - t) + 1   # ... in range, <= STEP short
    changes = sum(a != b for a, b in zip(ranges, ranges[1:]))
    assert 0 < changes <= (WINDOW + 3 * STEP) // STEP                # the axis moves in steps of STEP


def test_gates_panel_repaints_a_new_pen_step(qtbot):
    from explorer.ui.digit.pen_gates import PenGatesPanel

    panel = PenGatesPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 300)
    panel.show()
    qtbot.waitExposed(panel)
    panel.show_view(_gate_frame(42))
    a, before = panel.grab().toImage(), panel.plot.getPlotItem().getViewBox().viewRange()[0]
    panel.show_view(_gate_frame(43))                              # same range, one more column
    assert panel.plot.getPlotItem().getViewBox().viewRange()[0] == before
    assert panel.grab().toImage() != a


def test_pen_time_cached_axes_look_the_same_and_follow_a_new_range(qtbot):
    """The pen time axes are cached pixmaps: the panel looks as with uncached axes, a curve step
    blits them instead of repainting them, and a new x range still redraws the ticks."""
    import pyqtgraph as pg

    from explorer.ui.digit.pen_time import PenTimePanel

    app = QtWidgets.QApplication.instance()
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(10) * 0.3, 80).astype(np.float32)
    x = np.arange(1, 81, dtype=np.float64)
    panels = []
    for cached in (True, False):
        panel = PenTimePanel()
        qtbot.addWidget(panel)
        if not cached:
            for pi in panel.plots.values():
                for name in ("left", "bottom"):
                    pi.getAxis(name).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.NoCache)
        panel.resize(300, 520)
        panel.show()
        qtbot.waitExposed(panel)
        panels.append(panel)
    cached_panel, plain_panel = panels
    axis = cached_panel.plots["cnn"].getAxis("bottom")
    assert axis.cacheMode() == QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
    painted = []
    orig = pg.AxisItem.paint

    def counted(self, *a):
        painted.append(self)
        return orig(self, *a)

    pg.AxisItem.paint = counted
    try:
        for t in (30, 31, 32, 45):                       # 45: the x range widens
            for panel in panels:
                for key in panel.curves:
                    panel.curves[key].set_data(x[:t], probs[:t])
                panel.plots["pen"].setXRange(1, max(20, -(-t // 20) * 20), padding=0.02)
            painted.clear()
            qtbot.wait(30)
            if t in (31, 32):                            # a step in the same range: the cache is blitted
                assert axis not in painted
            if t == 45:                                  # a new range: the ticks are drawn again
                assert axis in painted
            shown, fresh = _screen_and_fresh(app, cached_panel)
            np.testing.assert_array_equal(shown, fresh)
            # the same pixels but the last one of each bottom axis line, which the axis draws one
            # pixel beyond its own bounds (a cache holds only the item's bounds)
            a, b = (_screen_and_fresh(app, w)[1] for w in panels)
            ys, xs = np.nonzero((a != b).any(-1))
            assert len(ys) <= 2 and len(set(xs.tolist())) <= 1
            assert a[ys, xs - 1].tolist() == b[ys, xs - 1].tolist() == b[ys, xs].tolist()   # the line's end
    finally:
        pg.AxisItem.paint = orig


def test_class_curves_draw_what_qpolygonf_of_qpointf_draws(qtbot):
    """ClassCurves' shared, refilled polygon draws each class as a polygon built point by point
    would (runs between NaN gaps, a lone point as a point); a changed class looks different."""
    from explorer.ui.digit.pen_time import ClassCurves
    from explorer.ui.digit.plots import CLASS_COLOURS

    rng = np.random.default_rng(9)
    probs = rng.dirichlet(np.ones(10) * 0.4, 40).astype(np.float32)
    probs[12:15] = np.nan                                       # a gap
    probs[18] = np.nan                                          # row 17 alone: a point
    x = np.arange(1, 41, dtype=np.float64)
    curves = ClassCurves(CLASS_COLOURS)
    transform = QtGui.QTransform(8.0, 0, 0, -180.0, 4.0, 190.0)  # x * 8 + 4, 190 - 180 * y

    def render(draw) -> QtGui.QImage:
        img = QtGui.QImage(340, 200, QtGui.QImage.Format.Format_RGB32)
        img.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(img)
        p.setTransform(transform)
        draw(p)
        p.end()
        return img

    def reference(p: QtGui.QPainter, y: np.ndarray) -> None:
        ok = ~np.isnan(y[:, 0])
        runs = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
        for a, b in zip(runs[::2], runs[1::2]):
            for k, pen in enumerate(curves.pens):
                p.setPen(pen)
                if b - a == 1:
                    p.drawPoint(QtCore.QPointF(float(x[a]), float(y[a, k])))
                else:
                    p.drawPolyline(QtGui.QPolygonF([QtCore.QPointF(float(x[i]), float(y[i, k])) for i in range(a, b)]))

    curves.set_data(x, probs)
    opt = QtWidgets.QStyleOptionGraphicsItem()
    got = render(lambda p: curves.paint(p, opt))
    assert got == render(lambda p: reference(p, probs))
    other = probs.copy()
    other[:, 3] = other[::-1, 3]
    assert got != render(lambda p: reference(p, other))         # a negative control
