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


def test_gate_pixels_fill_the_gaps_with_the_colour_asked(qtbot):
    from explorer.ui.digit.pen_gates import WHITE, PenGatesPanel, gate_pixels

    panel = PenGatesPanel()
    qtbot.addWidget(panel)
    values = np.full((4, 3), 0.5, np.float32)
    values[1] = np.nan
    px = gate_pixels(values, panel.lut, int(WHITE))
    assert (px[1] == WHITE).all() and (px[[0, 2, 3]] == panel.lut[128]).all()
    assert (gate_pixels(values, panel.lut)[1] == 0).all()                  # the default: transparent


def _trajectory_frame(t: int, cloud: np.ndarray, stroke_len: int = 15):
    from types import SimpleNamespace

    a = np.linspace(0, 3 * np.pi, 60)[:t]                 # one path, cut after t pen steps
    xy = np.stack([np.cos(a) * 1.5, np.sin(1.3 * a)], axis=1).astype(np.float32)
    reading = SimpleNamespace(stroke=np.arange(t) // stroke_len)
    return SimpleNamespace(steps=t, reading=reading, xy=xy, cloud=cloud, explained=np.array([0.17, 0.12]), note=None)


def _rgb(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, : img.width(), 2::-1].copy()


def test_trajectory_paints_path_head_starts_and_cloud_where_the_data_maps(qtbot):
    from explorer.ui.digit.pen_trajectory import PenTrajectoryPanel
    from explorer.ui.widgets.style import ACCENT

    panel = PenTrajectoryPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 320)
    panel.show()
    qtbot.waitExposed(panel)
    rng = np.random.default_rng(2)
    cloud = rng.normal(0, 0.7, (400, 2)).astype(np.float32)
    plot = panel.plot
    assert plot.message() == "draw a digit"
    frame = _trajectory_frame(40, cloud)
    panel.show_view(frame)
    assert plot.message() == "" and plot.title() == "" and len(panel.xy) == 40
    r = plot.data_rect()
    for v, axis in ((frame.xy[:, 0], plot.x_range()), (frame.xy[:, 1], plot.y_range())):
        assert axis[0] < v.min() and v.max() < axis[1]               # the path left the cloud: widened
    img = _rgb(plot.grab().toImage())
    hx, hy = float(plot.px_x(frame.xy[-1, 0])), float(plot.px_y(frame.xy[-1, 1]))
    assert r.contains(QtCore.QPointF(hx, hy))
    accent = QtGui.QColor(ACCENT)
    assert img[round(hy), round(hx)].tolist() == [accent.red(), accent.green(), accent.blue()]   # the head
    sx, sy = float(plot.px_x(frame.xy[15, 0])), float(plot.px_y(frame.xy[15, 1]))           # stroke 2's start
    assert img[round(sy), round(sx)].tolist() == [255, 255, 255]      # a white square with a dark frame
    assert (img[round(sy) - 4: round(sy) + 5, round(sx) - 4: round(sx) + 5].sum(-1) < 300).any()
    grey = (np.abs(img[..., 0].astype(int) - img[..., 2]) < 25) & (img.sum(-1) < 740) & (img.sum(-1) > 500)
    assert grey[int(r.top()): int(r.bottom()), int(r.left()): int(r.right())].sum() > 200     # the cloud
    assert "pen step 40 of 40" in (plot.tooltip_at(float(frame.xy[-1, 0]), float(frame.xy[-1, 1])) or "")
    panel.show_view(_trajectory_frame(20, cloud))                     # fewer steps: the head moved back
    img2 = _rgb(plot.grab().toImage())
    assert img2[round(hy), round(hx)].tolist() != img[round(hy), round(hx)].tolist()    # a negative control
    panel.show_view(None)
    assert plot.message() == "draw a digit" and len(panel.xy) == 0


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
    ranges = []
    for t in range(1, WINDOW + 3 * STEP + 1):
        panel.show_view(_gate_frame(t))
        lo, hi = panel.plot.x_range()
        ranges.append((lo, hi))
        left, right = panel.plot.image_span()
        assert right == t and t - left <= WINDOW                  # the latest step is drawn ...
        assert lo <= left and right <= hi and hi - right <= max(STEP, 40 - t) + 1   # ... in range, <= STEP short
    changes = sum(a != b for a, b in zip(ranges, ranges[1:]))
    assert 0 < changes <= (WINDOW + 3 * STEP) // STEP                # the axis moves in steps of STEP


def test_gates_paint_each_value_in_its_cell(qtbot):
    """Every (unit, pen step) cell of every band shows its value's colour where the axes map it;
    the gaps between bands are white; a new pen step repaints in the same range."""
    from explorer.ui.digit.pen_gates import PenGatesPanel, gate_pixels

    panel = PenGatesPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 360)
    panel.show()
    qtbot.waitExposed(panel)
    frame = _gate_frame(42)
    panel.show_view(frame)
    plot = panel.plot
    assert plot.message() == "" and panel.bands == ("i", "f", "o")
    img = _rgb(plot.grab().toImage())
    hidden, gap = 6, 1
    for b, g in enumerate("ifo"):
        for unit in range(hidden):
            row = b * (hidden + gap) + unit
            for step in (0, 17, 41):
                x, y = float(plot.px_x(step + 0.5)), float(plot.px_y(row + 0.5))
                want = int(gate_pixels(frame.reading.gates[g][step: step + 1, unit: unit + 1], panel.lut)[0, 0])
                assert img[int(y), int(x)].tolist() == [(want >> 16) & 255, (want >> 8) & 255, want & 255]
    x, y = float(plot.px_x(10.5)), float(plot.px_y(hidden + 0.5))         # the gap under band i
    assert img[int(y), int(x)].tolist() == [255, 255, 255]
    assert "unit 2" in (plot.tooltip_at(5.5, 2.5) or "") and "input i" in (plot.tooltip_at(5.5, 2.5) or "")
    before = plot.x_range()
    panel.show_view(_gate_frame(43))                              # same range, one more column
    assert plot.x_range() == before
    assert _rgb(plot.grab().toImage()).tolist() != img.tolist()
    panel.show_view(None)
    assert plot.message() == "draw a digit"


def test_pen_time_static_layer_is_kept_between_steps_and_curves_are_where_the_data_maps(qtbot, monkeypatch):
    """A pen step in the same x range repaints the curves over the cached static layer; the range
    moves 20 pen steps at a time; each curve is where the data maps."""
    from types import SimpleNamespace

    from explorer.ui.digit.pen_time import ClassPlot, PenTimePanel
    from explorer.ui.digit.plots import CLASS_COLOURS

    built = []
    orig = ClassPlot.paint_static
    monkeypatch.setattr(ClassPlot, "paint_static", lambda self, p: built.append(self) or orig(self, p))
    panel = PenTimePanel()
    qtbot.addWidget(panel)
    panel.resize(320, 520)
    panel.show()
    qtbot.waitExposed(panel)
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(10) * 0.3, 80).astype(np.float32)
    cnn = probs[:, ::-1].copy()
    cnn[:4] = np.nan
    spans = []
    for t in (30, 31, 32, 45):                       # 45: the x range widens
        frame = SimpleNamespace(steps=t, pen=probs[:t], cnn=cnn[:t], knew_pen=3, knew_cnn=None,
                                cnn_missing=0, note=None)
        panel.show_view(frame)
        built.clear()
        img = _rgb(panel.plots["pen"].grab().toImage())
        spans.append(panel.plots["pen"].x_range())
        if t in (31, 32):
            assert built == []                           # a step in the same range: the cached layer is kept
        plot = panel.plots["pen"]
        k = int(np.argmax(probs[t // 2]))
        x, y = float(plot.px_x(t // 2 + 1)), float(plot.px_y(probs[t // 2, k]))
        c = QtGui.QColor(CLASS_COLOURS[k])
        near = img[round(y) - 1: round(y) + 2, round(x) - 1: round(x) + 2].reshape(-1, 3).tolist()
        assert [c.red(), c.green(), c.blue()] in near                 # the likeliest class's curve
    assert spans[0] == spans[1] == spans[2] != spans[3]
    assert panel.plots["pen"].knew_at == 4.0 and panel.plots["cnn"].knew_at is None
    assert panel.plots["pen"].tooltip_at(5.0, 0.5).startswith("pen step 5:")
    assert panel.plots["cnn"].tooltip_at(2.0, 0.5) is None            # not computed yet


def test_class_plot_draws_what_qpolygonf_of_qpointf_draws(qtbot):
    """ClassPlot's shared, refilled polygon draws each class as a polygon built point by point
    would (runs between NaN gaps, a lone point as a point); a changed class looks different."""
    from explorer.ui.digit.pen_time import ClassPlot
    from explorer.ui.digit.plots import CLASS_COLOURS

    rng = np.random.default_rng(9)
    probs = rng.dirichlet(np.ones(10) * 0.4, 40).astype(np.float32)
    probs[12:15] = np.nan                                       # a gap
    probs[18] = np.nan                                          # row 17 alone: a point
    x = np.arange(1, 41, dtype=np.float64)
    plot = ClassPlot(CLASS_COLOURS[0], "pen step")
    qtbot.addWidget(plot)
    plot.resize(340, 200)
    plot.set_span(40)
    plot.set_data(x, probs, None)

    def render(draw) -> QtGui.QImage:
        img = QtGui.QImage(340, 200, QtGui.QImage.Format.Format_RGB32)
        img.fill(QtGui.QColor("white"))
        p = QtGui.QPainter(img)
        draw(p)
        p.end()
        return img

    def reference(p: QtGui.QPainter, y: np.ndarray) -> None:
        ok = ~np.isnan(y[:, 0])
        runs = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
        for a, b in zip(runs[::2], runs[1::2]):
            for k, pen in enumerate(plot.pens):
                p.setPen(pen)
                pts = [QtCore.QPointF(float(plot.px_x(x[i])), float(plot.px_y(y[i, k]))) for i in range(a, b)]
                if b - a == 1:
                    p.drawPoint(pts[0])
                else:
                    p.drawPolyline(QtGui.QPolygonF(pts))

    got = render(plot.draw_curves)
    assert got == render(lambda p: reference(p, probs))
    other = probs.copy()
    other[:, 3] = other[::-1, 3]
    assert got != render(lambda p: reference(p, other))         # a negative control


def _stepwise_and_fresh(qtbot, make, feed, steps):
    """(the plot after being fed step by step, painting each; a fresh plot fed the last step once)."""
    plots = []
    for _ in range(2):
        plot = make()
        qtbot.addWidget(plot)
        plot.resize(420, 240)
        plot.show()
        qtbot.waitExposed(plot)
        plots.append(plot)
    stepwise, fresh = plots
    for t in steps:
        feed(stepwise, t)
        stepwise.repaint()                        # a paint per pen step, each drawing its new steps only
    feed(fresh, steps[-1])
    return _rgb(stepwise.grab().toImage()), _rgb(fresh.grab().toImage()), stepwise


def test_class_plot_drawn_step_by_step_equals_one_drawn_at_once(qtbot):
    """The layer adds each pen step's segments (and those of the CNN's rows filled in late, anywhere):
    the result is the full drawing, but for a few pixels where a new segment meets an old one."""
    from explorer.ui.digit.pen_time import ClassPlot
    from explorer.ui.digit.plots import CLASS_COLOURS

    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.ones(10) * 0.5, 38).astype(np.float32)
    probs = np.cumsum(probs, axis=0) / np.arange(1, 39)[:, None]              # smooth, as readers are
    x = np.arange(1, 39, dtype=np.float64)

    def feed(plot, t):
        # a move adds 3 pen steps: the CNN reads the last at once, the two before it a frame later;
        # the first 12 steps it reads late, from the 12th back, 3 a frame
        shown = probs[:t].copy()
        if t < 38:
            shown[t - 3: t - 1] = np.nan
        shown[: max(0, min(12, 32 - t))] = np.nan
        plot.set_span(40)
        plot.set_data(x[:t], shown, None)

    a, b, _ = _stepwise_and_fresh(qtbot, lambda: ClassPlot(CLASS_COLOURS[0], "pen step"), feed, [*range(2, 39, 3), 38])
    differ = (a != b).any(-1)
    assert differ.sum() <= 60, differ.sum()               # joints only: a few pixels of 400 x 200
    other = probs.copy()
    other[:, [2, 5]] = other[:, [5, 2]]

    def feed_other(plot, t):
        plot.set_span(40)
        plot.set_data(x[:t], other[:t], None)

    _, c, _ = _stepwise_and_fresh(qtbot, lambda: ClassPlot(CLASS_COLOURS[0], "pen step"), feed_other, [38])
    assert (a != c).any(-1).sum() > 10 * max(differ.sum(), 1)     # a negative control: other curves


def test_trajectory_drawn_step_by_step_equals_one_drawn_at_once(qtbot):
    from explorer.ui.digit.pen_trajectory import TrajectoryPlot

    cloud = np.random.default_rng(3).normal(0, 0.6, (300, 2))
    a_ = np.linspace(0, 3 * np.pi, 80)
    path = np.stack([np.cos(a_) * 1.2, np.sin(1.3 * a_)], axis=1)

    def feed(plot, t):
        if not len(plot.cloud):
            plot.set_cloud(cloud)
            plot.set_range(-1.5, 1.5, -1.2, 1.2)
        plot.show_path(path[:t], path[:1])

    def off_joints(a: np.ndarray, b: np.ndarray, plot: TrajectoryPlot, path: np.ndarray) -> int:
        """Pixels that differ (beyond antialiasing shades) farther than 3 px from every joint."""
        ys, xs = np.nonzero((np.abs(a.astype(int) - b) > 40).any(-1))
        jx, jy = plot.px_x(path[:, 0]), plot.px_y(path[:, 1])
        near = np.hypot(xs[:, None] + 0.5 - jx[None], ys[:, None] + 0.5 - jy[None]).min(axis=1) <= 3
        return int((~near).sum())

    a, b, plot = _stepwise_and_fresh(qtbot, TrajectoryPlot, feed, list(range(1, 81)))
    assert off_joints(a, b, plot, path) == 0              # antialiased joints blend twice: a shade darker
    undo = path.copy()
    undo[40:] = undo[40:][::-1]

    def feed_undo(plot, t):                              # an undo: a drawn step changes, all is drawn again
        feed(plot, t)
        if t == 80:
            plot.show_path(undo, path[:1])

    c, d, plot = _stepwise_and_fresh(qtbot, TrajectoryPlot, feed_undo, list(range(1, 81)))
    assert (c == d).all()                                 # an undo: drawn afresh
    assert off_joints(a, c, plot, path) > 200             # a negative control: another path


def test_the_pen_panels_paint_a_frame_in_one_window_update(qtbot):
    """Pen time, trajectory and gates fed one frame repaint the window once (as pyqtgraph views,
    each came in a window update of its own)."""
    from explorer.session.digits import DigitSession
    from explorer.session.pen_reader import PenLive
    from explorer.ui.digit.demo import demo_model, demo_pen_model, seven
    from explorer.ui.digit.pen_gates import PenGatesPanel
    from explorer.ui.digit.pen_time import PenTimePanel
    from explorer.ui.digit.pen_trajectory import PenTrajectoryPanel

    live, session = PenLive(demo_pen_model()), DigitSession(demo_model())
    pts = seven()
    session.begin_stroke(*pts[0])

    done = [1]

    def draw_to(k: int):
        for x, y in pts[done[0]: k]:
            session.extend_stroke(x, y)
        done[0] = k
        frame = session.compute()
        live.follow(session, None if frame is None else frame.probs)
        return live.view()
    window = QtWidgets.QWidget()
    qtbot.addWidget(window)
    row = QtWidgets.QHBoxLayout(window)
    panels = [PenTimePanel(), PenTrajectoryPanel(), PenGatesPanel()]
    for p in panels:
        row.addWidget(p)
    window.resize(1000, 420)
    window.show()
    qtbot.waitExposed(window)
    updates: list[int] = []
    painted: set[int] = set()
    plots = {id(w) for p in panels for w in p.findChildren(QtWidgets.QWidget) if hasattr(w, "paint_data")}
    assert len(plots) == 4

    class Spy(QtCore.QObject):
        def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
            if ev.type() == QtCore.QEvent.Type.UpdateRequest and obj is window:
                updates.append(1)
            elif ev.type() == QtCore.QEvent.Type.Paint and id(obj) in plots:
                painted.add(id(obj))
            return False

    spy = Spy()
    window.installEventFilter(spy)
    for w in window.findChildren(QtWidgets.QWidget):
        w.installEventFilter(spy)
    first = draw_to(len(pts) // 2)
    for p in panels:                                  # the drawing so far (the panels lay themselves out)
        p.show_view(first)
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    frame = draw_to(len(pts) // 2 + 3)                # a pen move later
    assert frame.steps > first.steps
    updates.clear()
    painted.clear()
    for p in panels:
        p.show_view(frame)
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    assert len(updates) == 1 and painted == plots


def test_trajectory_range_widens_past_a_path_heading_out(qtbot):
    """A path leaving the cloud step after step widens the range now and then, not on every
    step (each widening draws the cloud again); the path always stays inside."""
    from explorer.ui.digit.pen_trajectory import PenTrajectoryPanel

    panel = PenTrajectoryPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 320)
    cloud = np.random.default_rng(2).uniform(-1, 1, (300, 2)).astype(np.float32)
    out = np.stack([np.linspace(0, 4, 60), np.linspace(0, 3, 60)], axis=1).astype(np.float32)   # heading out
    ranges = []
    for t in range(1, 61):
        frame = _trajectory_frame(t, cloud)
        frame.xy = out[:t]
        panel.show_view(frame)
        (a, b), (c, d) = panel.plot.x_range(), panel.plot.y_range()
        assert a < out[:t, 0].min() and out[:t, 0].max() < b and c < out[:t, 1].min() and out[:t, 1].max() < d
        ranges.append((a, b, c, d))
    changes = sum(r != s for r, s in zip(ranges, ranges[1:]))
    assert 0 < changes <= 25                       # it left the range on ~45 steps


def test_cloud_pixels_blend_as_a_painter_drawing_each_dot(qtbot):
    """The cloud's numpy blend == a painter drawing every dot over white, one by one (within the
    painter's rounding at each blend); moved dots differ."""
    from explorer.ui.digit.pen_trajectory import CLOUD, cloud_pixels, dot_alpha

    rng = np.random.default_rng(6)
    xy = np.concatenate([rng.normal(40, 6, (300, 2)), rng.uniform(-3, 83, (60, 2))])   # dense, and off the edges
    dot = dot_alpha(3.0, CLOUD[3])
    got = cloud_pixels(xy, 80, 70, dot, CLOUD[:3])
    k = dot.shape[0]
    sprite = QtGui.QImage(k, k, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    sprite.fill(0)
    p = QtGui.QPainter(sprite)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
    p.setPen(QtCore.Qt.PenStyle.NoPen)
    p.setBrush(QtGui.QColor(*CLOUD))
    p.drawEllipse(QtCore.QPointF(k / 2, k / 2), 1.5, 1.5)
    p.end()
    ref = QtGui.QImage(80, 70, QtGui.QImage.Format.Format_RGB32)
    ref.fill(QtGui.QColor("white"))
    p = QtGui.QPainter(ref)
    for x, y in np.round(xy - k / 2).astype(int).tolist():
        p.drawImage(x, y, sprite)
    p.end()
    want = _rgb(ref)
    have = np.stack([(got >> 16) & 255, (got >> 8) & 255, got & 255], axis=-1).astype(int)
    err = np.abs(have - want)
    assert (want != 255).any() and err.max() <= 6 and err.mean() < 0.5       # the painter rounds each blend
    moved = cloud_pixels(xy + 2, 80, 70, dot, CLOUD[:3])
    assert (moved != got).sum() > 100                                  # a negative control
