"""The prediction's call-outs and the keep bar's unsure offer: they look as before and a new value
as the pen moves lays out nothing (no widget of the window moves or resizes)."""

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets


def ink_box(img: QtGui.QImage, background: QtGui.QColor) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the pixels that differ from the background."""
    a = np.frombuffer(img.convertToFormat(QtGui.QImage.Format.Format_RGB32).constBits(), np.uint32)
    a = a.reshape(img.height(), -1)[:, :img.width()]
    ys, xs = np.nonzero(a != np.uint32(background.rgb() & 0xFFFFFFFF))
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


CASES = [
    ([[("8", 40, True, QtGui.QColor("#c82828")), ("\u00a095.3\u00a0%", 20, False, None)]],
     "<span style='font-size:40pt; font-weight:600; color:#c82828'>8</span>"
     "<span style='font-size:20pt'>&nbsp;95.3&nbsp;%</span>"),
    ([[("runner-up", 11, False, QtGui.QColor("#666666"))],
      [("3", 20, True, QtGui.QColor("#d9826f")), ("\u00a01.2\u00a0%", 13, False, None)]],
     "<span style='font-size:11pt; color:#666'>runner-up</span><br>"
     "<span style='font-size:20pt; font-weight:600; color:#d9826f'>3</span>"
     "<span style='font-size:13pt'>&nbsp;1.2&nbsp;%</span>"),
]


@pytest.mark.parametrize("lines,html", CASES)
def test_call_out_draws_what_the_rich_text_drew(qtbot, lines, html):
    from explorer.ui.widgets.probabilities import CallOut, RichLabel
    rich, out = RichLabel(), CallOut()
    for w in (rich, out):
        qtbot.addWidget(w)
        w.setAutoFillBackground(True)
        w.resize(240, 130)
    rich.setText(html)
    out.set_templates([lines])
    out.set_lines(lines)
    bg = out.palette().color(QtGui.QPalette.ColorRole.Window)
    a, b = ink_box(rich.grab().toImage(), bg), ink_box(out.grab().toImage(), bg)
    assert all(abs(x - y) <= 3 for x, y in zip(a, b)), (a, b)      # the same text, in the same place
    colour = lines[-1][0][3]
    img = out.grab().toImage()
    reds = [img.pixelColor(x, y) for x in range(b[0], b[2]) for y in range(b[1], b[3])]
    assert any(abs(c.red() - colour.red()) < 30 and abs(c.green() - colour.green()) < 30 for c in reds)
    assert out.text().replace("\n", "") == "".join(r[0] for line in lines for r in line).replace("\u00a0", " ")


def test_prediction_values_change_without_a_layout(qtbot):
    from explorer.ui.widgets.probabilities import ProbabilityPanel
    panel = ProbabilityPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 300)
    panel.show()
    qtbot.waitExposed(panel)
    hints = (panel.first.sizeHint(), panel.second.sizeHint())
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = rng.dirichlet(np.ones(10) * 0.3).astype(np.float32)
        panel.set_probs(p)
        a, b = np.argsort(-p)[:2]
        assert panel.first.text() == f"{a} {100 * p[a]:.1f} %"
        assert f"{b} {100 * p[b]:.1f} %" in panel.second.text()
        assert (panel.first.sizeHint(), panel.second.sizeHint()) == hints
    panel.set_probs(None)
    assert panel.first.text() == "draw a digit" and panel.first.sizeHint() == hints[0]
    panel.resize(420, 180)                              # compact: smaller type, new hints
    QtWidgets.QApplication.processEvents()
    assert panel.compact and panel.first.sizeHint().height() < hints[0].height()


def test_the_unsure_offer_swaps_in_place_without_moving_anything(qtbot, digit_lab):
    keeper = digit_lab.keeper
    digit_lab.resize(1280, 720)
    digit_lab.show()
    qtbot.waitExposed(digit_lab)
    moved: list[str] = []

    class Watch(QtCore.QObject):
        def eventFilter(self, obj, ev):
            if ev.type() in (QtCore.QEvent.Type.Move, QtCore.QEvent.Type.Resize) and obj.isWidgetType() \
                    and obj.isVisible():
                moved.append(type(obj).__name__)
            return False
    watch = Watch()
    app = QtWidgets.QApplication.instance()
    sure = np.eye(10)[3] * 0.9 + 0.01
    unsure = np.full(10, 0.05)
    unsure[5] = 0.55
    keeper.show_probs(unsure)                          # each page shown once: both polished
    keeper.show_probs(sure)
    QtWidgets.QApplication.processEvents()
    app.installEventFilter(watch)
    try:
        for k in range(4):
            unsure[5] = 0.45 + 0.03 * k
            keeper.show_probs(unsure)
            QtWidgets.QApplication.processEvents()
            assert keeper.unsure.isVisible() and "5" in keeper.unsure_text.text()
            keeper.show_probs(sure)
            QtWidgets.QApplication.processEvents()
            assert not keeper.unsure.isVisible()
    finally:
        app.removeEventFilter(watch)
    # the offer and the header swap in one slot: the page shown gets its size, nothing else moves
    assert set(moved) <= {"QFrame", "QLabel", "ElidedLabel", "QComboBox", "QToolButton"}, moved
    assert keeper.head_stack.isVisible()


@pytest.mark.parametrize("width", [4.0, 18.0, 40.0])
def test_a_pen_move_repaints_only_where_its_ink_went(qtbot, digit_lab, width):
    """The canvas asks to repaint the rectangle of the pen's last segment; every pixel that move
    changed on the ink layer lies inside it (and it is far smaller than the canvas)."""
    canvas = digit_lab.canvas
    canvas.pen_width = width
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    sq = canvas.square()
    side = int(round(sq.width() * canvas.devicePixelRatioF()))

    def send(kind, x, y, button, buttons):
        pos = QtCore.QPointF(canvas.from_ref(x, y))
        ev = QtGui.QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, QtCore.Qt.KeyboardModifier.NoModifier)
        QtWidgets.QApplication.sendEvent(canvas, ev)

    send(QtCore.QEvent.Type.MouseButtonPress, 100, 100, left, left)
    rng = np.random.default_rng(1)
    x, y = 100.0, 100.0
    for _ in range(8):
        before = canvas._ink_layer(side).copy()
        x, y = float(np.clip(x + rng.normal(0, 25), 10, 270)), float(np.clip(y + rng.normal(0, 25), 10, 270))
        send(QtCore.QEvent.Type.MouseMove, x, y, none, left)
        rect = canvas._new_ink_rect()
        after = canvas._ink_layer(side)
        a = np.frombuffer(before.constBits(), np.uint32).reshape(side, -1)[:, :side]
        b = np.frombuffer(after.constBits(), np.uint32).reshape(side, -1)[:, :side]
        ys, xs = np.nonzero(a != b)
        assert len(xs)                                          # the move drew something
        k = sq.width() / side
        inside = [rect.contains(int(sq.left() + c * k), int(sq.top() + r * k)) for r, c in zip(ys, xs)]
        assert all(inside)
        assert rect.width() * rect.height() < 0.5 * canvas.width() * canvas.height()
    send(QtCore.QEvent.Type.MouseButtonRelease, x, y, left, none)


def test_bars_repaint_only_the_rows_that_changed(qtbot):
    from explorer.ui.widgets.probabilities import ProbabilityBars
    bars = ProbabilityBars([str(i) for i in range(10)])
    qtbot.addWidget(bars)
    bars.resize(340, 200)
    bars.show()
    qtbot.waitExposed(bars)
    p = np.full(10, 0.01, np.float32)
    p[7], p[1] = 0.81, 0.11                           # a clear winner and runner-up
    bars.set_probs(p)
    QtWidgets.QApplication.processEvents()
    regions = []

    class Watch(QtCore.QObject):
        def eventFilter(self, obj, ev):
            if obj is bars and ev.type() == QtCore.QEvent.Type.Paint:
                regions.append(ev.region().boundingRect())
            return False
    watch = Watch()
    bars.installEventFilter(watch)
    q = p.copy()
    q[3], q[7] = 0.03, 0.79                           # rows 3 and 7 change, the rest shows the same
    bars.set_probs(q)
    QtWidgets.QApplication.processEvents()
    row = bars.height() / 10
    assert regions and all(r.top() >= 3 * row - 2 and r.bottom() <= 8 * row + 2 for r in regions)
    assert not any(r.contains(5, int(0.5 * row)) for r in regions)      # row 0 untouched
    regions.clear()
    bars.set_probs(q.copy())                          # the same answer: nothing to repaint
    QtWidgets.QApplication.processEvents()
    assert regions == []
    bars.set_probs(None)                              # and back to empty: every row
    QtWidgets.QApplication.processEvents()
    assert regions and regions[-1].height() >= bars.height() - 2


@pytest.mark.parametrize("page", [0, 1])
def test_what_partial_repaints_leave_on_screen_equals_a_full_repaint(qtbot, digit_lab, ui, page):
    """After a stroke drawn move by move (each repainting only what it changed: the canvas's new
    segment, the changed bar rows, opaque widgets without their parents), the window on screen
    is pixel for pixel what painting it whole gives."""
    lab = digit_lab
    lab.middle_tabs.setCurrentIndex(page)
    left, none = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.NoButton
    canvas = lab.canvas

    def send(kind, x, y, button, buttons):
        pos = QtCore.QPointF(canvas.from_ref(x, y))
        ev = QtGui.QMouseEvent(kind, pos, canvas.mapToGlobal(pos), button, buttons, QtCore.Qt.KeyboardModifier.NoModifier)
        QtWidgets.QApplication.sendEvent(canvas, ev)

    t = np.linspace(0, 2 * np.pi, 30)
    pts = np.stack([140 + 50 * np.sin(2 * t), 140 + 80 * np.sin(t)], axis=1)
    send(QtCore.QEvent.Type.MouseButtonPress, *pts[0], left, left)
    for x, y in pts[1:]:
        send(QtCore.QEvent.Type.MouseMove, x, y, none, left)
        qtbot.wait(20)                                   # each move painted on its own
    qtbot.waitUntil(lambda: not lab.scheduler.timer.isActive(), timeout=2000)
    qtbot.wait(100)

    def rgb(img):
        img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
        return np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), -1)[:, :img.width()].copy()
    screen = rgb(lab.screen().grabWindow(lab.winId()).toImage())
    full = rgb(lab.grab().toImage())
    assert screen.shape == full.shape
    assert (screen != full).sum() == 0
    assert len(np.unique(full)) > 20                     # a real picture: ink, bars, maps
    send(QtCore.QEvent.Type.MouseButtonRelease, *pts[-1], left, none)


def test_the_prediction_says_when_what_it_shows_changed(qtbot):
    from explorer.ui.widgets.probabilities import ProbabilityPanel
    panel = ProbabilityPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 300)
    p = np.full(10, 0.02, np.float32)
    p[4], p[1] = 0.7, 0.14
    panel.set_probs(p)
    token = panel.shown
    assert panel.shown is token
    panel.set_probs(p + np.float32(1e-7))             # the same on screen: the same token
    assert panel.shown is token
    q = p.copy()
    q[4], q[1] = 0.6, 0.24
    panel.set_probs(q)                                # bars, percentages and call-outs change
    assert panel.shown is not token
    token = panel.shown
    panel.bars.set_ghost(p)                           # the unedited model's bars appear
    assert panel.shown is not token
