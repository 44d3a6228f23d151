"""TrajectoryPanel: the hidden state's path on a frozen PCA basis, with a faint corpus cloud."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.pca import PCABasis
from explorer.ui.sequence.common import (
    ACCENT,
    FG,
    char_label,
    empty_text,
    new_view,
    set_tip,
    style_plot,
)

TRAIL = 60            # points on the path
LABELS = 24           # the newest points carry their character
FADE_STEPS = 8        # label opacity levels
PAIRS = [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)]

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Trajectory: the hidden state after each character, projected onto principal components\n"
        "fitted ONCE on the model's own corpus (or on generated task sequences) and then frozen,\n"
        "so the picture does not jump as you type. Grey cloud: states met on that corpus.\n"
        "The path fades with age; each point is labelled with the character just read;\n"
        "the orange point is the state at the cursor. Toy models show their attractors\n"
        "(parity: two clusters; bracket depth: a line).")


class TrajectoryPanel(QtWidgets.QWidget):
    """set_basis(basis) once per model; show(h (n, H), chars) per frame (last point = cursor)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.basis: PCABasis | None = None
        self.pair = PAIRS[0]
        self.combo = QtWidgets.QComboBox()
        self.view = new_view()
        self.plot = self.view.addPlot()
        style_plot(self.plot, "Trajectory of h(t), frozen PCA", "PC1", "PC2")   # short: fits 1024 px
        for side in ("bottom", "left"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.cloud = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(120, 120, 140, 35))
        self.path = pg.PlotCurveItem(pen=pg.mkPen(60, 60, 90, 110, width=1), skipFiniteCheck=True)
        self.points = pg.ScatterPlotItem(size=6, pen=None)
        self.cursor = pg.ScatterPlotItem(size=15, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(ACCENT))
        for item in (self.cloud, self.path, self.points, self.cursor):
            self.plot.addItem(item)
        # the corpus cloud is static between basis / pair changes: paint it once into a cached
        # pixmap instead of re-drawing 3,000 points whenever the path over it changes
        self.cloud.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        ramp = np.linspace(0.12, 1.0, TRAIL) ** 1.5
        self._brushes = [pg.mkBrush(31, 90, 180, int(255 * a)) for a in ramp]
        # the newest LABELS points carry their character: ONE item blits a cached pixmap per label
        self.labels = TrailLabels(QtGui.QFont("DejaVu Sans Mono", 9), (20, 20, 40), anchor=(-0.15, 0.9))
        self.plot.addItem(self.labels, ignoreBounds=True)
        self.empty = empty_text(self.plot, "No text yet: the path starts at the first character.")
        header = QtWidgets.QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addStretch(1)
        header.addWidget(QtWidgets.QLabel("components:"))
        header.addWidget(self.combo)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(header)
        lay.addWidget(self.view, 1)
        self.combo.currentIndexChanged.connect(self._on_pair_changed)
        set_tip(self, HELP)
        self._last: tuple[np.ndarray, str, int] | None = None
        self._slots: list[tuple[float, float, str, float] | None] = [None] * LABELS

    def set_basis(self, basis: PCABasis) -> None:
        self.basis = basis
        k = basis.n_components
        self.combo.blockSignals(True)
        self.combo.clear()
        for a, b in PAIRS:
            if b < k:
                self.combo.addItem(f"PC{a + 1} / PC{b + 1}", (a, b))
        self.combo.blockSignals(False)
        self.pair = self.combo.itemData(0) if self.combo.count() else (0, 0)
        self._apply_pair()

    def _on_pair_changed(self, index: int) -> None:
        if index >= 0 and self.combo.itemData(index):
            self.pair = self.combo.itemData(index)
            self._apply_pair()
            if self._last is not None:
                self.show_points(*self._last)

    def _apply_pair(self) -> None:
        if self.basis is None:
            return
        a, b = self.pair
        cloud, ev = self.basis.cloud, self.basis.explained
        self.cloud.setData(cloud[:, a], cloud[:, b])
        self.plot.setLabel("bottom", f"PC{a + 1} ({100 * ev[a]:.0f}% of variance)", color=FG)
        self.plot.setLabel("left", f"PC{b + 1} ({100 * ev[b]:.0f}%)", color=FG)
        lo, hi = np.percentile(cloud[:, [a, b]], [0.5, 99.5], axis=0)
        pad = 0.12 * (hi - lo) + 1e-3
        self.plot.setRange(xRange=(lo[0] - pad[0], hi[0] + pad[0]), yRange=(lo[1] - pad[1], hi[1] + pad[1]),
                           padding=0)
        self.empty.setPos((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2)

    def show_path(self, h: np.ndarray, chars: str, first: int = 0) -> None:
        """h: (n, H) states (projected here on the basis); the lab passes projected points instead."""
        k = self.basis.n_components if self.basis is not None else 0
        self.show_points(self.basis.transform(h) if self.basis is not None and len(h) else np.zeros((0, k)),
                         chars, first)

    def show_points(self, points: np.ndarray, chars: str, first: int = 0) -> None:
        """points: (n, k) the last n <= TRAIL states up to the cursor on the PCA basis, chars: their
        characters; first: the character index of points[0] (labels are reused per character)."""
        self._last = (points, chars, first)
        h = points
        if self.basis is None or not len(h):
            for item in (self.path, self.points):
                item.setData([], [])
            self.cursor.hide()
            self.labels.set_labels([])
            self._slots = [None] * LABELS
            self.empty.setVisible(self.basis is not None)
            return
        self.empty.hide()
        first += max(len(h) - TRAIL, 0)
        p = h[-TRAIL:][:, list(self.pair)]
        x, y = np.ascontiguousarray(p[:, 0], float), np.ascontiguousarray(p[:, 1], float)
        self.path.setData(x, y)
        self._move_points(x, y)
        if not len(self.cursor.data):          # one point at the origin, then only moved: no rebuild per key
            self.cursor.setData([0.0], [0.0])
        self.cursor.setPos(x[-1], y[-1])
        self.cursor.show()
        chars = chars[-len(p):]
        n_lab = min(LABELS, len(p))
        slots: list[tuple[float, float, str, float] | None] = [None] * LABELS
        for j in range(len(p) - n_lab, len(p)):
            age = len(p) - 1 - j                              # 0 = the newest
            # the fade goes in FADE_STEPS steps (as when each label was an item of its own)
            opacity = 0.25 + 0.75 * np.ceil(FADE_STEPS * (LABELS - age) / LABELS) / FADE_STEPS
            slots[(first + j) % LABELS] = (float(x[j]), float(y[j]), char_label(chars[j]), float(opacity))
        self._slots = slots
        self.labels.set_labels([s for s in slots if s is not None])   # slot order: the stacking order

    def label_texts(self) -> list[str]:
        """The text of each label slot (character t is labelled in slot t % LABELS; '' = unused)."""
        return [s[2] if s is not None else "" for s in self._slots]

    def _move_points(self, x: np.ndarray, y: np.ndarray) -> None:
        """The trail's dots: the k-th newest always has the same brush, so once the trail has
        this many dots a key only moves them (their atlas symbols are kept) instead of
        rebuilding 60 spots and their brushes in pyqtgraph's setData."""
        pts = self.points
        if len(pts.data) != len(x):
            pts.setData(x, y, brush=self._brushes[-len(x):])
            return
        pts.data["x"], pts.data["y"] = x, y
        pts.prepareGeometryChange()              # what setData does after filling the spots
        pts.informViewBoundsChanged()
        pts.bounds = [None, None]
        pts.invalidate()                          # (schedules the repaint)


class TrailLabels(pg.GraphicsObject):
    """Text labels at data points, drawn as ONE item: each distinct text is rendered once into a
    pixmap (by the QGraphicsTextItem a pg.TextItem would use: same font, colour and margins) and
    blitted at its point, anchored like pg.TextItem(anchor=...), with its opacity. A key moves
    24 labels without 24 items' geometry changes and repaints."""

    def __init__(self, font: QtGui.QFont, colour: tuple[int, int, int], anchor: tuple[float, float]) -> None:
        super().__init__()
        self.font, self.colour, self.anchor = font, QtGui.QColor(*colour), anchor
        self.labels: list[tuple[float, float, str, float]] = []     # x, y, text, opacity
        self._pixmaps: dict[tuple[str, float], QtGui.QPixmap] = {}
        self._bounds: QtCore.QRectF | None = None

    def set_labels(self, labels: list[tuple[float, float, str, float]]) -> None:
        """(x, y, text, opacity) per label, drawn in this order (later ones on top)."""
        if labels == self.labels:
            return
        self.prepareGeometryChange()
        self.labels, self._bounds = labels, None
        self.update()

    def pixmap(self, text: str, dpr: float = 1.0) -> QtGui.QPixmap:
        pm = self._pixmaps.get((text, dpr))
        if pm is None:
            item = QtWidgets.QGraphicsTextItem()
            item.setFont(self.font)
            item.setDefaultTextColor(self.colour)
            item.setPlainText(text)
            r = item.boundingRect()
            pm = QtGui.QPixmap(int(np.ceil(r.width() * dpr)), int(np.ceil(r.height() * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(pm)
            p.translate(-r.topLeft())
            item.paint(p, QtWidgets.QStyleOptionGraphicsItem(), None)
            p.end()
            if len(self._pixmaps) > 512:
                self._pixmaps.clear()
            self._pixmaps[(text, dpr)] = pm
        return pm

    def viewTransformChanged(self) -> None:  # noqa: N802 (pyqtgraph)
        self.prepareGeometryChange()
        self._bounds = None

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt)
        if self._bounds is None:
            if not self.labels:
                self._bounds = QtCore.QRectF()
            else:
                xy = np.array([(x, y) for x, y, _, _ in self.labels])
                px, py = self.pixelVectors()
                pad_x = 60 * max(abs(px.x()), abs(py.x())) if px is not None else 0.0
                pad_y = 40 * max(abs(px.y()), abs(py.y())) if px is not None else 0.0
                lo, hi = xy.min(axis=0), xy.max(axis=0)
                self._bounds = QtCore.QRectF(lo[0] - pad_x, lo[1] - pad_y,
                                             hi[0] - lo[0] + 2 * pad_x, hi[1] - lo[1] + 2 * pad_y)
        return self._bounds

    def paint(self, p: QtGui.QPainter, *args: object) -> None:
        if not self.labels:
            return
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        t = p.transform()
        p.resetTransform()
        ax, ay = self.anchor
        for x, y, text, opacity in self.labels:
            pm = self.pixmap(text, dpr)
            w, h = pm.width() / dpr, pm.height() / dpr
            at = t.map(QtCore.QPointF(x, y))
            p.setOpacity(opacity)
            p.drawPixmap(QtCore.QPointF(round(at.x() - ax * w), round(at.y() - ay * h)), pm)


def hide_when_empty(item: pg.ScatterPlotItem) -> None:
    """Keep a scatter item hidden while it has no points: an empty ScatterPlotItem still costs
    ~0.1 ms per repaint of the view (culling and mapping zero points), and the trajectory view
    repaints on every key."""
    item.setVisible(len(item.data) > 0)
    item.sigPlotChanged.connect(lambda it: it.setVisible(len(it.data) > 0))


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.trajectory``)."""
    w = TrajectoryPanel()
    w.set_basis(session.trajectory_basis())
    w.show_points(view.trail, view.trail_chars, first=view.trail_first)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
