"""MosaicView, the hand-painted layer map: what it paints where, clicks -> (channel, row, col),
and a frame of every map in one window update."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.colors import diverging
from explorer.ui.widgets.mosaic import FRAME, MASK, SELECTION, MosaicPanel, MosaicView
from explorer.ui.widgets.style import MUTED

LEFT = QtCore.Qt.MouseButton.LeftButton


def _rgb(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return a[:, : img.width(), 2::-1].astype(int)


def _lut_rgb(v: float) -> list[int]:
    lut = diverging().getLookupTable(0.0, 1.0, 256, alpha=False)
    return [int(c) for c in lut[int(np.clip((v + 1) * 127.5 + 0.5, 0, 255))]]


@pytest.fixture
def view(qtbot) -> MosaicView:
    v = MosaicView(10, 5, 7, 4)                      # 3 rows of tiles, the last one short
    qtbot.addWidget(v)
    v.resize(420, 260)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_each_cell_is_painted_in_its_colour_where_pos_of_says(view):
    rng = np.random.default_rng(0)
    maps = rng.uniform(-1, 1, (10, 5, 7)).astype(np.float32)
    view.show_maps(maps)
    img = _rgb(view.grab().toImage())
    for c, r, k in [(0, 0, 0), (3, 4, 6), (9, 2, 3), (5, 1, 5)]:
        at = view.pos_of(c, r, k)
        assert img[int(at.y()), int(at.x())].tolist() == _lut_rgb(float(maps[c, r, k]))
    a, b = view.pos_of(0, 0, 0), view.pos_of(0, 1, 1)
    assert b.x() - a.x() == pytest.approx(b.y() - a.y())          # square cells: the aspect is kept
    W, H = 4 * 8 - 1, 3 * 6 - 1
    s = b.x() - a.x()
    x0, y0 = a.x() - 0.5 * s, a.y() - 0.5 * s
    assert x0 + W * s / 2 == pytest.approx(view.width() / 2, abs=1)  # centred ...
    assert y0 + H * s / 2 == pytest.approx(view.height() / 2, abs=1)
    assert min(x0, view.width() - x0 - W * s) >= 0.02 * W * s         # ... with room around it
    assert img[int(a.y()), int(x0)].tolist() == list(FRAME)            # the tile's frame on its edge
    assert img[2, 2].tolist() == [view.palette().color(QtGui.QPalette.ColorRole.Window).red()] * 3
    view.show_maps(-maps)                                              # a negative control: new colours
    img2 = _rgb(view.grab().toImage())
    assert img2[int(a.y()), int(a.x())].tolist() == _lut_rgb(float(-maps[0, 0, 0])) != _lut_rgb(float(maps[0, 0, 0]))


def test_mask_darkens_its_cells_only_and_selection_outlines(view):
    maps = np.zeros((10, 5, 7), np.float32)
    view.show_maps(maps)
    mask = np.zeros((10, 5, 7), bool)
    mask[2, 3, 4] = True
    view.show_mask(mask)
    assert view.mask_shown()
    img = _rgb(view.grab().toImage())
    on, off = view.pos_of(2, 3, 4), view.pos_of(2, 3, 3)
    base = np.array(_lut_rgb(0.0))
    assert np.abs(img[int(on.y()), int(on.x())] - base * (1 - MASK[3] / 255)).max() <= 1
    assert img[int(off.y()), int(off.x())].tolist() == base.tolist()
    view.show_mask(None)
    assert not view.mask_shown()
    assert _rgb(view.grab().toImage())[int(on.y()), int(on.x())].tolist() == base.tolist()
    view.select(1, 1, 2, 3, 4)
    assert view.selected_rect() == QtCore.QRectF(8 + 2, 1, 3, 3)
    img = _rgb(view.grab().toImage())
    corner, inside = view.pos_of(1, 1, 2), view.pos_of(1, 2, 3)
    s = view.pos_of(1, 1, 3).x() - corner.x()
    edge = img[int(corner.y()), int(corner.x() - s / 2) - 1: int(corner.x() - s / 2) + 2]
    assert list(SELECTION) in edge.tolist()
    assert img[int(inside.y()), int(inside.x())].tolist() == base.tolist()
    view.select(-1, 0, 0)
    assert view.selected_rect() is None


def test_clicks_name_the_cell_and_a_double_click_is_one_click_and_one_double(qtbot, view):
    clicks, doubles = [], []
    view.cell_clicked.connect(lambda *a: clicks.append(a))
    view.cell_double_clicked.connect(lambda *a: doubles.append(a))
    for cell in [(0, 0, 0), (3, 4, 6), (9, 2, 3)]:
        qtbot.mouseClick(view, LEFT, pos=view.pos_of(*cell).toPoint())
    assert clicks == [(0, 0, 0), (3, 4, 6), (9, 2, 3)]
    a, b = view.pos_of(0, 0, 6), view.pos_of(1, 0, 0)
    qtbot.mouseClick(view, LEFT, pos=QtCore.QPoint(int((a.x() + b.x()) / 2), int(a.y())))    # the gap
    qtbot.mouseClick(view, QtCore.Qt.MouseButton.RightButton, pos=view.pos_of(1, 1, 1).toPoint())
    assert len(clicks) == 3
    qtbot.mouseClick(view, LEFT, pos=view.pos_of(5, 2, 2).toPoint())    # a mouse's double-click: a click,
    qtbot.mouseDClick(view, LEFT, pos=view.pos_of(5, 2, 2).toPoint())   # then the double-click event
    assert doubles == [(5, 2, 2)] and clicks[3:] == [(5, 2, 2)]         # which is not a second click
    assert view.cell_at(-1, 0) is None and view.cell_at(4 * 8, 0) is None and view.cell_at(2 * 8, 2 * 6) is None


def test_every_map_of_a_frame_paints_in_one_window_update(qtbot):
    """Seven layer maps fed one after another repaint the window once (as pyqtgraph views, each
    came in a window update of its own)."""
    window = QtWidgets.QWidget()
    qtbot.addWidget(window)
    column = QtWidgets.QVBoxLayout(window)
    panels = [MosaicPanel(f"map {i}", "how to read it", 8, 14, 14, 8) for i in range(7)]
    for p in panels:
        column.addWidget(p)
    window.resize(500, 700)
    window.show()
    qtbot.waitExposed(window)
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    updates, paints = [], []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
            if ev.type() == QtCore.QEvent.Type.UpdateRequest and obj is window:
                updates.append(len(paints))
            elif ev.type() == QtCore.QEvent.Type.Paint and obj is not window:
                paints.append(obj)
            return False

    spy = Spy()
    window.installEventFilter(spy)
    for p in panels:
        p.view.installEventFilter(spy)
    rng = np.random.default_rng(1)
    for p in panels:
        p.view.show_maps(rng.uniform(-1, 1, (8, 14, 14)).astype(np.float32))
    for _ in range(5):
        QtWidgets.QApplication.processEvents()
    assert len(updates) == 1 and sorted(map(id, paints)) == sorted(id(p.view) for p in panels)


def test_mark_tiles_paints_the_pens_given(view):
    view.show_maps(np.zeros((10, 5, 7), np.float32))
    red = pg.mkPen((200, 0, 0), width=3, cosmetic=True)
    view.mark_tiles([4], [], red, red)
    img = _rgb(view.grab().toImage())
    centre = view.pos_of(4, 2, 3)                       # the diagonals cross at the tile's centre
    near = img[int(centre.y()) - 1: int(centre.y()) + 2, int(centre.x()) - 1: int(centre.x()) + 2].reshape(-1, 3)
    assert [200, 0, 0] in near.tolist()
    view.mark_tiles([], [], red, red)
    img = _rgb(view.grab().toImage())
    near = img[int(centre.y()) - 1: int(centre.y()) + 2, int(centre.x()) - 1: int(centre.x()) + 2].reshape(-1, 3)
    assert [200, 0, 0] not in near.tolist()


def _panel(qtbot, width: int = 420) -> MosaicPanel:
    holder = QtWidgets.QWidget()
    _held.append(holder)                               # alive until the test ends
    qtbot.addWidget(holder)
    lay = QtWidgets.QVBoxLayout(holder)
    panel = MosaicPanel("conv1 · 8 × 28×28", "how to read it", 8, 5, 7, 4)
    lay.addWidget(panel)
    holder.resize(width, 200)
    holder.show()
    qtbot.waitExposed(holder)
    return panel


@pytest.fixture(autouse=True)
def _release_held():
    yield
    _held.clear()


_held: list[QtWidgets.QWidget] = []


def _ink_columns(img: np.ndarray, rows: slice, background: list[int]) -> np.ndarray:
    """Columns of ``img`` that hold anything but the background in ``rows``."""
    return np.flatnonzero((img[rows] != background).any(axis=2).any(axis=0))


def test_the_panel_header_shows_the_title_left_and_the_note_right_above_the_mosaic(qtbot):
    panel = _panel(qtbot)
    view = panel.view
    label = QtWidgets.QLabel("<b>conv1 · 8 × 28×28</b>")
    label.setFont(view.font())
    assert view.header_height() == label.sizeHint().height() > 0      # the line a QLabel title took
    assert panel.title.text() == "<b>conv1 · 8 × 28×28</b>" and panel.note.text() == ""
    bg = [view.palette().color(QtGui.QPalette.ColorRole.Window).red()] * 3
    head = slice(0, view.header_height())
    img = _rgb(view.grab().toImage())
    ink = _ink_columns(img, head, bg)
    assert ink.size and ink.min() >= 4 and ink.max() < view.width() / 2    # the title, at the left
    panel.set_note("scale ±2.7")
    assert panel.note.text() == "scale ±2.7"
    img = _rgb(view.grab().toImage())
    right = _ink_columns(img, head, bg)
    right = right[right > view.width() / 2]
    assert right.size and right.max() <= view.width() - 4 and right.max() > view.width() - 12   # right-aligned
    muted = QtGui.QColor(MUTED)
    darkest = img[head, right.min():right.max() + 1].sum(axis=2).min()
    assert darkest >= muted.red() + muted.green() + muted.blue() - 30                     # in the muted colour
    assert view.pos_of(0, 0, 0).y() > view.header_height()                              # the mosaic below it
    panel.set_note("")                                       # a negative control: the note goes away
    img = _rgb(view.grab().toImage())
    assert not (_ink_columns(img, head, bg) > view.width() / 2).any()


def test_a_narrow_panel_clips_its_title_before_the_note(qtbot):
    panel = _panel(qtbot, width=150)
    panel.set_note("scale ±2.13")
    view = panel.view
    bg = [view.palette().color(QtGui.QPalette.ColorRole.Window).red()] * 3
    img = _rgb(view.grab().toImage())
    note_w = view.fontMetrics().horizontalAdvance("scale ±2.13")
    assert view.fontMetrics().horizontalAdvance("conv1 · 8 × 28×28") + note_w > view.width() - 14   # too narrow
    ink = _ink_columns(img, slice(0, view.header_height()), bg)
    gap = np.arange(view.width() - 4 - note_w - 6, view.width() - 4 - note_w)
    assert not np.isin(gap, ink).any()                         # nothing of the title runs into the note
    assert ink.min() < 10 and ink.max() > view.width() - 10    # both drawn


def test_a_new_note_repaints_the_header_alone_and_asks_for_no_layout(qtbot):
    panel = _panel(qtbot)
    panel.set_note("scale ±1")
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    seen: list[tuple[QtCore.QEvent.Type, QtCore.QObject, QtCore.QRect | None]] = []

    class Spy(QtCore.QObject):
        def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
            if ev.type() in (QtCore.QEvent.Type.LayoutRequest, QtCore.QEvent.Type.Paint):
                seen.append((ev.type(), obj, QtCore.QRect(ev.rect()) if isinstance(ev, QtGui.QPaintEvent) else None))
            return False

    spy = Spy()
    widgets = [panel, panel.parentWidget(), *panel.findChildren(QtWidgets.QWidget)]
    for w in widgets:
        w.installEventFilter(spy)
    panel.set_note("scale ±2.13")
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    assert [(t, o) for t, o, _ in seen] == [(QtCore.QEvent.Type.Paint, panel.view)]
    assert seen[0][2].height() <= panel.view.header_height()
    seen.clear()
    panel.set_note("scale ±2.13")                                # the same note: nothing at all
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    assert seen == []
