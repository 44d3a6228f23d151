"""UnrolledPanel: the textbook unrolled RNN around the cursor, drawn with the real vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.ui.sequence.common import ACCENT, FG, MUTED, SELECT, char_label, set_tip

HELP = ("The network unrolled in time around the cursor: x(t) is the embedding of the character\n"
        "read at step t, h(t) = cell(x(t), h(t−1)) is the hidden state, and y(t) the prediction\n"
        "read from it. Bars are the real numbers (red > 0, blue < 0; the selected unit in dark\n"
        "blue). The same weights are used at every step — that is what makes it recurrent.")


_BAR_COLOURS = {"pos": QtGui.QColor(214, 80, 60), "neg": QtGui.QColor(60, 110, 200), "sel": QtGui.QColor(SELECT)}


@dataclass(frozen=True)
class StepView:
    """One unrolled step: the character read, its input vector, the state and the top outputs."""

    step: int
    char: str
    x: np.ndarray
    h: np.ndarray
    top: list[tuple[str, float]]


class UnrolledPanel(QtWidgets.QWidget):
    """show_steps([StepView | None] * 3, unit): x(t−1), x(t), x(t+1) → h → outputs."""

    MAX_BARS = 64

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: list[StepView | None] = [None, None, None]
        self.unit: int | None = None
        self.cell = "RNN"
        self.setMinimumSize(360, 240)
        set_tip(self, HELP)

    def show_steps(self, steps: list[StepView | None], unit: int | None, cell: str) -> None:
        self.steps, self.unit, self.cell = steps, unit, cell
        self.update()

    # -- painting --------------------------------------------------------------------
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.fillRect(self.rect(), QtGui.QColor("white"))
        w, h = self.width(), self.height()
        title = QtGui.QFont("DejaVu Sans", 10)
        title.setBold(True)
        p.setFont(title)
        p.setPen(QtGui.QColor(FG))
        p.drawText(QtCore.QRectF(0, 4, w, 18), QtCore.Qt.AlignmentFlag.AlignHCenter,
                   f"Unrolled {self.cell} around the cursor")
        if all(s is None for s in self.steps):
            p.setPen(QtGui.QColor(MUTED))
            p.drawText(self.rect(), QtCore.Qt.AlignmentFlag.AlignCenter, "type something to unroll the network")
            p.end()
            return
        col_w = (w - 60) / 3
        rows = {"y": (26, 0.26), "h": (0, 0.30), "x": (0, 0.24)}
        top_y, box_h = 28.0, (h - 28 - 3 * 26) / 3
        y_pos = {"y": top_y, "h": top_y + box_h + 26, "x": top_y + 2 * (box_h + 26)}
        small = QtGui.QFont("DejaVu Sans", 8)
        for k, s in enumerate(self.steps):
            x0 = 40 + k * col_w + 8
            bw = col_w - 16
            label_t = ("t−1", "t", "t+1")[k]
            boxes = {r: QtCore.QRectF(x0, y_pos[r], bw, box_h) for r in rows}
            current = k == 1
            for r, rect in boxes.items():
                pen = QtGui.QPen(QtGui.QColor(ACCENT if current else "#b8b8b8"), 2 if current else 1)
                p.setPen(pen)
                p.setBrush(QtGui.QColor(252, 252, 252) if s is not None else QtGui.QColor(240, 240, 240))
                p.drawRoundedRect(rect, 6, 6)
            p.setFont(small)
            p.setPen(QtGui.QColor(FG))
            names = {"y": f"y({label_t})", "h": f"h({label_t})", "x": f"x({label_t})"}
            for r, rect in boxes.items():
                p.drawText(rect.adjusted(5, 2, 0, 0), QtCore.Qt.AlignmentFlag.AlignLeft, names[r])
            if s is None:
                p.setPen(QtGui.QColor(MUTED))
                p.drawText(boxes["h"], QtCore.Qt.AlignmentFlag.AlignCenter, "not typed yet" if k == 2 else "start")
            else:
                self._bars(p, boxes["h"].adjusted(6, 16, -6, -6), s.h, self.unit)
                self._bars(p, boxes["x"].adjusted(34, 16, -6, -6), s.x, None)
                big = QtGui.QFont("DejaVu Sans Mono", 15)
                big.setBold(True)
                p.setFont(big)
                p.setPen(QtGui.QColor(FG))
                p.drawText(QtCore.QRectF(boxes["x"].left() + 4, boxes["x"].top() + 16, 30, box_h - 20),
                           QtCore.Qt.AlignmentFlag.AlignCenter, char_label(s.char))
                self._top(p, boxes["y"].adjusted(6, 16, -6, -4), s.top)
            p.setPen(QtGui.QPen(QtGui.QColor(MUTED), 1.5))
            self._arrow(p, boxes["x"].center().x(), boxes["x"].top(), boxes["x"].center().x(), boxes["h"].bottom())
            self._arrow(p, boxes["h"].center().x(), boxes["h"].top(), boxes["h"].center().x(), boxes["y"].bottom())
            left = 12 if k == 0 else 40 + (k - 1) * col_w + 8 + bw
            self._arrow(p, left, boxes["h"].center().y(), boxes["h"].left(), boxes["h"].center().y())
        p.end()

    def _arrow(self, p: QtGui.QPainter, x1: float, y1: float, x2: float, y2: float) -> None:
        p.drawLine(QtCore.QPointF(x1, y1), QtCore.QPointF(x2, y2))
        v = np.array([x2 - x1, y2 - y1], float)
        v /= max(np.hypot(*v), 1e-6)
        n = np.array([-v[1], v[0]])
        tip = np.array([x2, y2])
        a, b = tip - 7 * v + 4 * n, tip - 7 * v - 4 * n
        p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(*tip), QtCore.QPointF(*a), QtCore.QPointF(*b)]))

    def _bars(self, p: QtGui.QPainter, rect: QtCore.QRectF, v: np.ndarray, unit: int | None) -> None:
        """One bar per entry of v (red > 0, blue < 0, the selected unit dark blue): three
        drawRects calls in all, one per colour, without antialiasing (bars are axis-aligned)."""
        v = np.asarray(v, float)[: self.MAX_BARS]
        if not len(v):
            return
        scale = max(1.0, float(np.abs(v).max()))
        mid = rect.center().y()
        bw = rect.width() / len(v)
        hgt = (rect.height() / 2) * v / scale
        tops, heights = (mid - np.maximum(hgt, 0)).tolist(), np.abs(hgt).tolist()
        lefts = (rect.left() + np.arange(len(v)) * bw).tolist()
        width = max(bw - 0.5, 0.8)
        groups: dict[str, list[QtCore.QRectF]] = {"pos": [], "neg": [], "sel": []}
        for i, a in enumerate(v.tolist()):
            key = "sel" if i == unit else ("pos" if a >= 0 else "neg")
            groups[key].append(QtCore.QRectF(lefts[i], tops[i], width, heights[i]))
        p.save()
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        p.setPen(QtCore.Qt.PenStyle.NoPen)
        for key, rects in groups.items():
            if rects:
                p.setBrush(_BAR_COLOURS[key])
                p.drawRects(rects)
        p.restore()
        p.setPen(QtGui.QPen(QtGui.QColor("#cccccc"), 1))
        p.drawLine(QtCore.QPointF(rect.left(), mid), QtCore.QPointF(rect.right(), mid))

    def _top(self, p: QtGui.QPainter, rect: QtCore.QRectF, top: list[tuple[str, float]]) -> None:
        p.setFont(QtGui.QFont("DejaVu Sans Mono", 8))
        n = max(len(top), 1)
        lh = rect.height() / n
        for i, (label, prob) in enumerate(top):
            y = rect.top() + i * lh
            text = char_label(label) if len(label) == 1 else label[:8]
            p.setPen(QtGui.QColor(FG))
            p.drawText(QtCore.QRectF(rect.left(), y, 52, lh), QtCore.Qt.AlignmentFlag.AlignVCenter, text)
            bar = QtCore.QRectF(rect.left() + 54, y + lh * 0.2, (rect.width() - 96) * prob, lh * 0.6)
            p.fillRect(bar, QtGui.QColor("#4a7fc1"))
            p.drawText(QtCore.QRectF(rect.right() - 40, y, 40, lh),
                       QtCore.Qt.AlignmentFlag.AlignVCenter | QtCore.Qt.AlignmentFlag.AlignRight, f"{100 * prob:.0f}%")
