"""PaintedPlot, the hand-painted plot base of the live panels: mapping, ticks, the cached
static layer (rebuilt when what it shows changes), tooltips and clicks in data coordinates."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.painted_plot import PaintedPlot, TextCache, argb_table, nice_ticks, rgb32_image


class Dots(PaintedPlot):
    """A subclass as the panels write them: data painted per paint, a tooltip per point."""

    def __init__(self) -> None:
        super().__init__("Dots", "x label", "y label", "how to read the dots")
        self.points = np.zeros((0, 2))

    def paint_data(self, p: QtGui.QPainter) -> None:
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        p.setBrush(QtGui.QColor(255, 0, 0))
        for x, y in zip(self.px_x(self.points[:, 0]).tolist(), self.px_y(self.points[:, 1]).tolist(), strict=True):
            p.drawEllipse(QtCore.QPointF(x, y), 3, 3)

    def tooltip_at(self, x: float, y: float) -> str | None:
        return f"near {round(x)}, {round(y)}" if len(self.points) else None


@pytest.fixture
def dots(qtbot: object) -> Dots:
    w = Dots()
    qtbot.addWidget(w)  # type: ignore[attr-defined]
    w.resize(320, 220)
    w.show()
    qtbot.waitExposed(w)  # type: ignore[attr-defined]
    w.set_x_range(0, 10)
    w.set_y_range(0, 5)
    return w


def _red_pixels(img: QtGui.QImage) -> int:
    a = np.frombuffer(img.convertToFormat(QtGui.QImage.Format.Format_RGB32).constBits(), np.uint32)
    return int(np.count_nonzero(a == 0xFFFF0000))


def test_nice_ticks_are_round_numbers_inside_the_range() -> None:
    t = nice_ticks(0.0, 1.0, 300)
    values = [v for v, _ in t]
    assert values[0] == 0.0 and values[-1] == pytest.approx(1.0)
    steps = np.diff(values)
    assert np.allclose(steps, steps[0]) and steps[0] in (0.1, 0.2, 0.25, 0.5) or np.isclose(steps[0], 0.2)
    assert [s for _, s in nice_ticks(-1.0, 1.0, 100, 30)] == ["-1", "0", "1"]
    assert nice_ticks(500, 650, 400)[0] == (500.0, "500")
    assert nice_ticks(3.0, 3.0, 100) == [] and nice_ticks(0, float("nan"), 100) == []
    assert all(s != "-0" for _, s in nice_ticks(-0.3, 0.3, 300))


def test_data_and_pixels_map_both_ways(dots: Dots) -> None:
    r = dots.data_rect()
    assert r.width() > 200 and r.height() > 100              # axes and title leave the rest to the data
    assert dots.px_x(0) == pytest.approx(r.left()) and dots.px_x(10) == pytest.approx(r.right())
    assert dots.px_y(0) == pytest.approx(r.bottom()) and dots.px_y(5) == pytest.approx(r.top())
    x, y = dots.data_at(QtCore.QPointF(float(dots.px_x(7.5)), float(dots.px_y(1.25))))
    assert (x, y) == (pytest.approx(7.5), pytest.approx(1.25))
    assert dots.data_at(QtCore.QPointF(1, 1)) is None          # the title's corner is outside
    dots.set_y_range(0, 5, inverted=True)                      # rows: 0 at the top
    assert dots.px_y(0) == pytest.approx(r.top())


def test_data_is_painted_where_it_maps(dots: Dots) -> None:
    dots.points = np.array([[2.0, 1.0]])
    img = dots.grab().toImage()
    x, y = int(round(float(dots.px_x(2.0)))), int(round(float(dots.px_y(1.0))))
    assert QtGui.QColor(img.pixel(x, y)) == QtGui.QColor(255, 0, 0)
    dots.points = np.array([[8.0, 4.0]])
    img = dots.grab().toImage()
    assert QtGui.QColor(img.pixel(x, y)) != QtGui.QColor(255, 0, 0)
    assert _red_pixels(img) > 0


def test_the_static_layer_shows_a_changed_title_and_range(dots: Dots) -> None:
    before = dots.grab().toImage()
    assert dots.grab().toImage() == before                     # nothing changed: the same pixels
    dots.set_title("Another title")
    after = dots.grab().toImage()
    top = QtCore.QRect(0, 0, dots.width(), int(dots.data_rect().top()))
    assert after.copy(top) != before.copy(top)                 # the cached title was redrawn
    dots.set_x_range(0, 1000)                                  # wider tick labels: new ticks, same widget
    ticks = dots.grab().toImage()
    below = QtCore.QRect(0, int(dots.data_rect().bottom()) + 1, dots.width(), 16)
    assert ticks.copy(below) != after.copy(below)


def test_a_legend_takes_room_at_the_right(dots: Dots) -> None:
    plain = dots.data_rect().width()
    dots.set_legend(np.array([[0, 0, 255], [255, 255, 255], [255, 0, 0]]), -1, 1, "activation")
    assert dots.data_rect().width() < plain - 20
    img = dots.grab().toImage()
    x = int(dots.data_rect().right()) + 10
    top, bottom = QtGui.QColor(img.pixel(x, int(dots.data_rect().top()) + 2)), \
        QtGui.QColor(img.pixel(x, int(dots.data_rect().bottom()) - 2))
    assert top.red() > 200 and top.blue() < 60 and bottom.blue() > 200 and bottom.red() < 60   # hi at the top
    dots.set_legend(None)
    assert dots.data_rect().width() == pytest.approx(plain)


def test_clicks_and_tooltips_speak_data_coordinates(dots: Dots, qtbot: object, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[float, float]] = []
    dots.clicked.connect(lambda x, y: seen.append((x, y)))
    at = QtCore.QPoint(int(round(float(dots.px_x(5.0)))), int(round(float(dots.px_y(2.0)))))
    qtbot.mouseClick(dots, QtCore.Qt.MouseButton.LeftButton, pos=at)  # type: ignore[attr-defined]
    assert len(seen) == 1 and seen[0][0] == pytest.approx(5.0, abs=0.1) and seen[0][1] == pytest.approx(2.0, abs=0.1)
    qtbot.mouseClick(dots, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(2, 2))  # type: ignore[attr-defined]
    assert len(seen) == 1                                       # outside the plot area: no click
    dots.points = np.array([[5.0, 2.0]])
    assert dots.tooltip_at(5.0, 2.0) == "near 5, 2"
    shown: list[str] = []
    monkeypatch.setattr(QtWidgets.QToolTip, "showText", lambda pos, text, w=None: shown.append(text))
    assert dots.event(QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, at, dots.mapToGlobal(at)))
    assert shown == ["near 5, 2"]
    dots.points = np.zeros((0, 2))                              # nothing under the mouse: not handled here,
    ev = QtGui.QHelpEvent(QtCore.QEvent.Type.ToolTip, at, dots.mapToGlobal(at))     # Qt shows the panel's tip
    monkeypatch.setattr(QtWidgets.QWidget, "event", lambda self, e: False)
    assert not dots.event(ev) and shown == ["near 5, 2"]
    assert dots.toolTip() == "how to read the dots"             # the panel's own tip is kept for elsewhere


def test_message_shows_over_an_empty_plot(dots: Dots) -> None:
    blank = dots.grab().toImage()
    dots.set_message("Type something")
    assert dots.message() == "Type something"
    assert dots.grab().toImage() != blank
    dots.set_message("")
    assert dots.grab().toImage() == blank


def test_text_cache_and_images() -> None:
    cache = TextCache(limit=2)
    font = QtGui.QFont()
    a = cache.get("abc", font)
    assert cache.get("abc", font) is a and a[1] > 0 and a[2] > 0
    cache.get("d", font)
    cache.get("e", font)                                        # over the limit: starts again
    assert cache.get("abc", font) is not a
    lut = argb_table(np.array([[255, 0, 0], [0, 0, 255]]))
    assert lut.tolist() == [0xFFFF0000, 0xFF0000FF]
    px = lut[np.array([[0, 1, 1]])]
    img = rgb32_image(px)
    px[:] = 0                                                   # the image owns a copy
    assert (img.width(), img.height()) == (3, 1) and QtGui.QColor(img.pixel(0, 0)) == QtGui.QColor(255, 0, 0)
    assert isinstance(QtWidgets.QApplication.instance(), QtWidgets.QApplication)


def test_ticks_kept_in_the_layer_under_the_data_paint_the_same_pixels(dots: Dots) -> None:
    """A plot whose axes hold still gets its tick marks and labels from a cached layer from its
    second paint on: every pixel as when they were drawn over the data, and a new range
    draws its new ticks (not the cached ones)."""
    dots.points = np.array([[0.0, 0.0], [20.0, 5.0], [5.0, 0.0], [0.0, 2.5]])   # on the axes' edges too
    dots.set_x_range(0, 20)
    direct = dots.grab().toImage()                  # first paint of these axes: ticks drawn directly
    assert dots._with_ticks is None or dots._with_ticks[0][1] != (0.0, 20.0)
    cached = dots.grab().toImage()                  # second: the layer with the ticks is made and used
    assert dots._with_ticks is not None and dots._with_ticks[0][1] == (0.0, 20.0)
    assert cached == direct
    assert dots.grab().toImage() == direct
    dots.set_x_range(0, 1000)
    moved = dots.grab().toImage()
    below = QtCore.QRect(0, int(dots.data_rect().bottom()) + 1, dots.width(), 16)
    assert moved.copy(below) != direct.copy(below)  # the new range's ticks, not the cached layer
    assert dots.grab().toImage() == moved           # and cached again, the same
    dots.set_title("Another title")                 # a new static layer: the cached ticks are redrawn on it
    titled = dots.grab().toImage()
    assert dots.grab().toImage() == titled
    top = QtCore.QRect(0, 0, dots.width(), int(dots.data_rect().top()))
    assert titled.copy(top) != moved.copy(top)


def test_an_axis_with_no_ticks_keeps_the_layer_when_its_range_moves(dots: Dots) -> None:
    """An x axis set to no ticks draws the same whatever the x range: a new x range keeps the
    layer with the y ticks in it and paints what a fresh plot with that range paints; with
    ticks of its own, a new x range makes the layer again (the control)."""
    dots.points = np.array([[1.0, 1.0], [9.0, 4.0]])
    dots.set_x_ticks([])
    dots.grab()
    dots.grab()                                     # the second paint makes the layer with the ticks
    assert dots._with_ticks is not None
    kept = dots._with_ticks[2]
    fresh = Dots()
    fresh.resize(dots.size())
    fresh.set_x_ticks([])
    fresh.set_y_range(0, 5)
    for lo in (-3.0, -11.0, 2.5):
        dots.set_x_range(lo, 10)
        fresh.set_x_range(lo, 10)
        fresh.points = dots.points
        assert dots.grab().toImage() == fresh.grab().toImage()
        assert dots.grab().toImage() == fresh.grab().toImage()      # (a second paint of a new key makes a layer)
        assert dots._with_ticks[2] is kept
    dots.set_x_ticks(None)                          # nice numbers: they move with the range
    dots.grab()
    dots.grab()
    nice = dots._with_ticks[2]
    dots.set_x_range(0, 10)
    dots.grab()
    dots.grab()
    assert dots._with_ticks[2] is not nice


def test_an_x_label_the_widgets_edge_would_cut_is_left_out(dots: Dots) -> None:
    """A tick label centred on its mark that would run past the widget's edge ('.920' for
    1920) is not drawn; its mark is, and a label that fits is drawn."""
    below = QtCore.QRect(0, int(dots.data_rect().bottom()) + 1, dots.width(), 20)

    def band(ticks: list[tuple[float, str]]) -> QtGui.QImage:
        dots.set_x_ticks(ticks)
        return dots.grab().toImage().copy(below)

    cut = band([(0.0, "a label far too long for the margin"), (5.0, "5")])
    none = band([(0.0, ""), (5.0, "5")])
    assert cut == none
    assert band([(0.0, "0"), (5.0, "5")]) != none        # a label that fits is drawn
    assert band([(5.0, "5")]) != none                     # (and the mark at 0 is drawn)
