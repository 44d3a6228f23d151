"""DigitCanvas: a square paper to draw on (vector strokes, crisp at any DPI) + overlays.

Mouse positions are mapped to the session's reference square (``REF`` units) so the
drawing does not depend on the widget's size. The canvas paints what the session holds;
it emits ``drawing_changed`` on every pen movement and ``stroke_finished`` on release.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph.functions as pgf
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.digits import DigitSession
from explorer.session.drawing import REF, DrawingState, Stroke

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".tif", ".tiff", ".webp"}
INK = QtGui.QColor(25, 25, 35)
PAPER = QtGui.QColor(255, 255, 255)


def qpolygon(points: np.ndarray) -> QtGui.QPolygonF:
    """(K, 2) (x, y) -> QPolygonF, filled through a numpy view (no Python loop per point)."""
    poly = pgf.create_qpolygonf(len(points))
    pgf.ndarray_from_qpolygonf(poly)[:] = points
    return poly


def ink_pen(width: float) -> QtGui.QPen:
    return QtGui.QPen(INK, width, QtCore.Qt.PenStyle.SolidLine,
                      QtCore.Qt.PenCapStyle.RoundCap, QtCore.Qt.PenJoinStyle.RoundJoin)


def rgba_image(rgba: np.ndarray) -> QtGui.QImage:
    """rgba: (H, W, 4) uint8 -> QImage (copied, owns its data)."""
    rgba = np.ascontiguousarray(rgba, np.uint8)
    h, w = rgba.shape[:2]
    return QtGui.QImage(rgba.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888).copy()


class DigitCanvas(QtWidgets.QWidget):
    """Left button draws (or erases); drop an image file to open it."""

    drawing_changed = QtCore.Signal()
    stroke_finished = QtCore.Signal()
    image_dropped = QtCore.Signal(str)

    def __init__(self, session: DigitSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("digitCanvas")
        self.session = session
        self.pen_width = 18.0              # reference units (REF = 280 across)
        self.eraser = False
        self._overlay: QtGui.QImage | None = None
        self._overlay_rect: QtCore.QRectF | None = None
        self._field: QtCore.QRectF | None = None   # receptive field, reference units
        self._bg_cache: tuple[int, QtGui.QImage] | None = None
        self._poly_cache: dict[int, tuple[object, QtGui.QPolygonF]] = {}
        # paper + finished drawing at device pixels; the pen stroke in progress is added to
        # it segment by segment, so a move costs one segment whatever is already drawn
        self._layer: QtGui.QImage | None = None
        self._layer_state: DrawingState | None = None           # the committed DrawingState it shows
        self._layer_live = (-1, 0)                 # (stroke_count, points of it painted)
        self.setAcceptDrops(True)
        # it paints every pixel (the margin beside the square in the window's colour): a stroke's
        # repaint does not paint the column and the window behind it first
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(200, 200)
        self.setCursor(QtCore.Qt.CursorShape.CrossCursor)
        sp = QtWidgets.QSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                   QtWidgets.QSizePolicy.Policy.Expanding)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)
        self.setToolTip("Draw a digit with the left mouse button (or a pen).\n"
                        "Ctrl+Z undo · Ctrl+Shift+Z redo · Delete clear · E eraser\n"
                        "Drop an image file here to open it.")

    # -- geometry -------------------------------------------------------------------
    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt)
        return True

    def heightForWidth(self, w: int) -> int:  # noqa: N802 (Qt)
        return w

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        return QtCore.QSize(340, 340)

    def square(self) -> QtCore.QRectF:
        """The drawing square in widget coordinates (top-centred, as large as fits)."""
        side = float(min(self.width(), self.height()) - 2)
        return QtCore.QRectF((self.width() - side) / 2, 1, side, side)

    def to_ref(self, pos: QtCore.QPointF) -> tuple[float, float]:
        sq = self.square()
        k = REF / sq.width()
        return (pos.x() - sq.left()) * k, (pos.y() - sq.top()) * k

    def from_ref(self, x: float, y: float) -> QtCore.QPoint:
        """Reference units -> widget pixel (tests use this to aim strokes)."""
        sq = self.square()
        k = sq.width() / REF
        return QtCore.QPoint(round(sq.left() + x * k), round(sq.top() + y * k))

    # -- mouse / drop ---------------------------------------------------------------
    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return super().mousePressEvent(ev)
        self.session.begin_stroke(*self.to_ref(ev.position()), width=self.pen_width, erase=self.eraser)
        self.update()
        self.drawing_changed.emit()

    def mouseMoveEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if not ev.buttons() & QtCore.Qt.MouseButton.LeftButton:
            return
        self.session.extend_stroke(*self.to_ref(ev.position()))
        self.update(self._new_ink_rect())
        self.drawing_changed.emit()

    def mouseReleaseEvent(self, ev: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt)
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return
        self.session.end_stroke()
        self.update()
        self.drawing_changed.emit()
        self.stroke_finished.emit()

    def _new_ink_rect(self) -> QtCore.QRect:
        """The widget pixels the pen's last segment can touch (the whole canvas when erasing):
        a move repaints only that, the rest of the ink layer is already on screen."""
        pts = self.session.live_points
        if pts is None or len(pts) < 2:
            return self.rect()
        sq = self.square()
        k = sq.width() / REF
        reach = self.session.live_width * k / 2.0 + 2.0          # round cap, antialiasing
        (ax, ay), (bx, by) = pts[-2].tolist(), pts[-1].tolist()
        x0, x1 = sq.left() + min(ax, bx) * k - reach, sq.left() + max(ax, bx) * k + reach
        y0, y1 = sq.top() + min(ay, by) * k - reach, sq.top() + max(ay, by) * k + reach
        return QtCore.QRect(QtCore.QPoint(int(np.floor(x0)), int(np.floor(y0))),
                            QtCore.QPoint(int(np.ceil(x1)), int(np.ceil(y1)))).intersected(self.rect())

    def dragEnterEvent(self, ev: QtGui.QDragEnterEvent) -> None:  # noqa: N802 (Qt)
        if ev.mimeData().hasUrls() or ev.mimeData().hasImage():
            ev.acceptProposedAction()

    def dropEvent(self, ev: QtGui.QDropEvent) -> None:  # noqa: N802 (Qt)
        for url in ev.mimeData().urls():
            if url.isLocalFile():
                self.image_dropped.emit(url.toLocalFile())
                ev.acceptProposedAction()
                return

    # -- overlays -------------------------------------------------------------------
    def set_overlay(self, rgba: np.ndarray | None, rect_ref: QtCore.QRectF | None = None) -> None:
        """rgba: (h, w, 4) uint8 drawn (unsmoothed) into ``rect_ref`` (reference units)."""
        if rgba is None and self._overlay is None:
            return                             # nothing shown, nothing to show: no repaint per frame
        self._overlay = None if rgba is None else rgba_image(rgba)
        self._overlay_rect = rect_ref
        self.update()

    def set_field(self, rect_ref: QtCore.QRectF | None) -> None:
        """Outline a receptive field (reference units); None hides it."""
        if rect_ref == self._field:
            return                             # the same outline (or none): no repaint per frame
        self._field = rect_ref
        self.update()

    # -- painting -------------------------------------------------------------------
    def paint_drawing(self, p: QtGui.QPainter, target: QtCore.QRectF, state: DrawingState | None = None) -> None:
        """Paper, background image and strokes into ``target`` (shared with PNG export)."""
        p.fillRect(target, PAPER)
        p.save()
        p.setClipRect(target)
        p.translate(target.topLeft())
        k = target.width() / REF
        p.scale(k, k)
        state = self.session.state if state is None else state
        if state.background is not None:
            p.drawImage(QtCore.QRectF(0, 0, REF, REF), self._background_image(state.background))
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for s in state.strokes:
            p.setPen(ink_pen(s.width))
            pts = s.points
            if len(pts) == 1:
                p.drawPoint(QtCore.QPointF(float(pts[0, 0]), float(pts[0, 1])))
            else:
                p.drawPolyline(self._polygon(s))
        p.restore()

    def _ink_layer(self, side: int) -> QtGui.QImage:
        """The drawing at ``side`` device pixels, kept between paints; only new ink is painted."""
        session = self.session
        committed, live = session.committed, session.live_points
        layer, old = self._layer, self._layer_state
        if layer is not None and layer.width() == side and committed is not old:
            # a pen stroke just finished: the layer already shows it, keep it as it is
            prev, new = getattr(old, "strokes", None), committed.strokes
            done = (prev is not None and committed.background is getattr(old, "background", None)
                    and len(new) == len(prev) + 1 and all(a is b for a, b in zip(prev, new))
                    and self._layer_live == (session.stroke_count, len(new[-1].points)))
            region = None if done else self._erased_region(old, committed)
            if done:
                self._layer_state, self._layer_live = committed, (session.stroke_count, 0)
            elif region is not None:                      # eraser moves: repaint where they cut
                self._repaint_region(layer, committed, region)
                self._layer_state = committed
            else:
                layer = None
        if layer is None or layer.width() != side:
            layer = QtGui.QImage(side, side, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            p = QtGui.QPainter(layer)
            self.paint_drawing(p, QtCore.QRectF(0, 0, side, side), committed)
            p.end()
            self._layer, self._layer_state, self._layer_live = layer, committed, (-1, 0)
        if live is not None:
            count, drawn = self._layer_live
            if count != session.stroke_count:
                drawn = 0
            if drawn < len(live):
                p = QtGui.QPainter(layer)
                p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
                k = side / REF
                p.scale(k, k)
                p.setPen(ink_pen(session.live_width))
                seg = live[max(drawn - 1, 0):]
                if len(seg) == 1:
                    p.drawPoint(QtCore.QPointF(float(seg[0, 0]), float(seg[0, 1])))
                else:
                    p.drawPolyline(qpolygon(seg))
                p.end()
            self._layer_live = (session.stroke_count, len(live))
        return layer

    def _erased_region(self, old: object, new: object) -> QtCore.QRectF | None:
        """The reference-unit rectangle eraser moves changed from ``old`` to ``new`` (else None)."""
        rects, st = [], old
        for before, after, rect in self.session.erase_log:
            if before is st:
                rects.append(rect)
                st = after
        if st is not new or not rects:
            return None
        r = np.array(rects)
        x0, y0 = r[:, 0].min(), r[:, 1].min()
        return QtCore.QRectF(x0, y0, r[:, 2].max() - x0, r[:, 3].max() - y0)

    def _repaint_region(self, layer: QtGui.QImage, state: DrawingState, rect: QtCore.QRectF) -> None:
        """Repaint ``rect`` (reference units) of the layer: only the segments that reach it."""
        side = layer.width()
        p = QtGui.QPainter(layer)
        k = side / REF
        p.scale(k, k)
        p.setClipRect(rect)
        p.fillRect(rect, PAPER)
        if state.background is not None:
            p.drawImage(QtCore.QRectF(0, 0, REF, REF), self._background_image(state.background))
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        lo = np.array([rect.left(), rect.top()])
        hi = np.array([rect.right(), rect.bottom()])
        for s in state.strokes:
            pts, reach = s.points, s.width / 2.0 + 1.0
            p.setPen(ink_pen(s.width))
            if len(pts) == 1:
                if ((pts[0] >= lo - reach) & (pts[0] <= hi + reach)).all():
                    p.drawPoint(QtCore.QPointF(float(pts[0, 0]), float(pts[0, 1])))
                continue
            a, b = pts[:-1], pts[1:]
            near = ((np.minimum(a, b) <= hi + reach) & (np.maximum(a, b) >= lo - reach)).all(axis=1)
            if not near.any():
                continue
            edges = np.flatnonzero(np.diff(np.concatenate([[0], near.astype(np.int8), [0]])))
            for i, j in zip(edges[::2], edges[1::2]):     # segments i..j-1 -> points i..j
                p.drawPolyline(qpolygon(pts[i:j + 1]))
        p.end()

    def _polygon(self, stroke: Stroke) -> QtGui.QPolygonF:
        """Stroke -> QPolygonF, cached per (immutable) stroke; the live one is rebuilt."""
        key = id(stroke)
        hit = self._poly_cache.get(key)
        if hit is not None and hit[0] is stroke:
            return hit[1]
        poly = qpolygon(stroke.points)
        if len(self._poly_cache) > 512:
            self._poly_cache.clear()
        self._poly_cache[key] = (stroke, poly)
        return poly

    def _background_image(self, bg: np.ndarray) -> QtGui.QImage:
        if self._bg_cache is None or self._bg_cache[0] != id(bg):
            gray = (255 - np.clip(bg * 255, 0, 255)).astype(np.uint8)
            rgba = np.repeat(gray[..., None], 4, axis=2)
            rgba[..., 3] = 255
            self._bg_cache = (id(bg), rgba_image(rgba))
        return self._bg_cache[1]

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        sq = self.square()
        margin = QtGui.QRegion(ev.rect()).subtracted(QtGui.QRegion(sq.toAlignedRect()))
        if not margin.isEmpty():
            p.setClipRegion(margin)
            p.fillRect(ev.rect(), self.palette().color(QtGui.QPalette.ColorRole.Window))
            p.setClipping(False)
        dpr = self.devicePixelRatioF()
        layer = self._ink_layer(max(int(round(sq.width() * dpr)), 1))
        p.drawImage(sq, layer)
        k = sq.width() / REF
        if self._overlay is not None and self._overlay_rect is not None:
            r = self._overlay_rect
            p.save()
            p.setClipRect(sq)
            p.drawImage(QtCore.QRectF(sq.left() + r.left() * k, sq.top() + r.top() * k,
                                      r.width() * k, r.height() * k), self._overlay)
            p.restore()
        if self._field is not None:
            r = self._field
            p.setPen(QtGui.QPen(QtGui.QColor(255, 150, 0), 2.5))
            p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            p.drawRect(QtCore.QRectF(sq.left() + r.left() * k, sq.top() + r.top() * k,
                                     r.width() * k, r.height() * k).intersected(sq))
        if self.session.is_empty:
            p.setPen(QtGui.QColor(150, 150, 160))
            f = p.font()
            f.setPointSizeF(f.pointSizeF() * 1.6)
            p.setFont(f)
            p.drawText(sq, QtCore.Qt.AlignmentFlag.AlignCenter, "draw a digit")
        p.setPen(QtGui.QPen(QtGui.QColor(160, 160, 170), 1))
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        p.drawRect(sq)
        p.end()

    def to_image(self, side: int = 280) -> QtGui.QImage:
        """The drawing alone (no overlays) as a side × side RGB image (for 'save drawing')."""
        img = QtGui.QImage(side, side, QtGui.QImage.Format.Format_RGB32)
        p = QtGui.QPainter(img)
        self.paint_drawing(p, QtCore.QRectF(0, 0, side, side))
        p.end()
        return img


def load_ink(path: str | Path) -> np.ndarray:
    """Image file -> (REF, REF) float32 ink in [0, 1] (dark-on-light is inverted, huge scaled down).

    Read by ``explorer.imageio.read_image`` (the one image reader, also the CLI's). Raises
    ``ImageError`` (a ValueError) with a one-line reason if the file is not a readable image.
    """
    from explorer.imageio import ImageError, read_image
    path = Path(path)
    try:
        rgba = read_image(path, max_side=REF)
    except ImageError as exc:
        raise ImageError(f"{path.name}: {exc}") from None
    img = QtGui.QImage(rgba.data, rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1], QtGui.QImage.Format.Format_RGBA8888)
    if max(img.width(), img.height()) != REF:           # small images are scaled up to fit
        img = img.scaled(REF, REF, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                         QtCore.Qt.TransformationMode.SmoothTransformation)
    img = img.convertToFormat(QtGui.QImage.Format.Format_Grayscale8)
    h, w = img.height(), img.width()
    gray8 = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, :w]
    gray = gray8.astype(np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 1.0 - gray if float(border.mean()) > 0.5 else gray
    out = np.zeros((REF, REF), np.float32)
    top, left = (REF - h) // 2, (REF - w) // 2
    out[top:top + h, left:left + w] = ink
    if not (out > 0.1).any():
        raise ImageError(f"{path.name} has no ink: nothing to read as a digit")
    return out


def demo() -> DigitCanvas:
    """The canvas with the demo '7' (draw more with the left mouse button)."""
    from explorer.ui.digit.demo import demo_session
    canvas = DigitCanvas(demo_session())
    canvas.resize(420, 420)
    return canvas


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
