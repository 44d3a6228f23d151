"""DigitCanvas keeps what is drawn and paints only the new segment (issue 16)."""

import numpy as np
from PySide6 import QtCore, QtGui

from explorer.session.digits import DigitSession
from explorer.ui.digit.canvas import DigitCanvas


def as_array(img: QtGui.QImage) -> np.ndarray:
    img = img.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return a[:, : img.width()].astype(np.int16)


def shown_canvas(qtbot, model) -> DigitCanvas:
    """A shown 300x300 canvas on a fresh session of ``model``."""
    canvas = DigitCanvas(DigitSession(model))
    qtbot.addWidget(canvas)
    canvas.resize(300, 300)
    canvas.show()
    return canvas


def eight(n: int) -> np.ndarray:
    """n points of a looping '8' in reference units (280 across), (n, 2)."""
    t = np.linspace(0, 2 * np.pi, n)
    return np.stack([140 + 60 * np.sin(2 * t), 140 + 100 * np.sin(t)], 1)


def full_repaint(canvas: DigitCanvas, side: int) -> QtGui.QImage:
    """The whole drawing painted at once into a side x side image (what the layer should equal)."""
    full = QtGui.QImage(side, side, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    p = QtGui.QPainter(full)
    canvas.paint_drawing(p, QtCore.QRectF(0, 0, side, side))
    p.end()
    return full


def test_layer_is_extended_in_place_and_matches_a_full_repaint(qtbot, model):
    canvas = shown_canvas(qtbot, model)
    s = canvas.session
    pts = eight(400)
    s.begin_stroke(*pts[0])
    canvas.grab()
    layer = canvas._layer
    for x, y in pts[1:]:
        s.extend_stroke(float(x), float(y))
        canvas.grab()
    assert canvas._layer is layer                         # never rebuilt while the pen moved
    s.end_stroke()
    canvas.grab()
    assert canvas._layer is layer                         # the finished stroke is adopted as is
    side = layer.width()
    a, b = as_array(layer), as_array(full_repaint(canvas, side))
    assert (a < 128).sum() > 1000                         # there is ink
    # segments painted one by one differ from one polyline only in anti-aliased edge pixels
    assert np.abs(a - b).mean() < 1.0
    assert abs(int((a < 128).sum()) - int((b < 128).sum())) < 0.05 * (b < 128).sum()
    interior = (b == 255) | (b == b.min())
    assert np.abs(a - b)[interior].mean() < 0.5
    s.undo()                                              # a change that is not an extension
    canvas.grab()
    assert canvas._layer is not layer and (as_array(canvas._layer) < 128).sum() == 0


def test_eraser_moves_repaint_only_where_they_cut_and_match_a_full_repaint(qtbot, model):
    canvas = shown_canvas(qtbot, model)
    s = canvas.session
    pts = eight(2000)
    s.begin_stroke(*pts[0])
    for x, y in pts[1:]:
        s.extend_stroke(float(x), float(y))
    s.end_stroke()
    canvas.grab()
    layer = canvas._layer
    s.begin_stroke(60.0, 140.0, width=24.0, erase=True)   # across the middle of the 8
    for x in np.linspace(60, 220, 60):
        s.extend_stroke(float(x), 140.0)
        canvas.grab()
    s.end_stroke()
    canvas.grab()
    assert len(s.strokes) >= 2                            # the stroke was cut
    assert canvas._layer is layer                         # patched in place, never rebuilt
    side = layer.width()
    a, b = as_array(layer), as_array(full_repaint(canvas, side))
    assert np.abs(a - b).mean() < 1.0
    assert abs(int((a < 128).sum()) - int((b < 128).sum())) < 0.05 * (b < 128).sum()
    row = int(round(140 / 280 * side))
    assert (a[row - 2:row + 3] > 200).all()               # nothing left on the eraser's path
