"""TrajectoryPanel: the hidden state's path on a frozen PCA basis, with a faint corpus cloud."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

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
        self._labels: list[pg.TextItem] = []
        font = QtGui.QFont("DejaVu Sans Mono", 9)
        for _ in range(LABELS):          # a fixed pool: character t is drawn by label t % LABELS
            item = pg.TextItem("", color=(20, 20, 40), anchor=(-0.15, 0.9))
            item.setFont(font)
            # a label's text rarely changes but it is repainted whenever the path under it is:
            # keep its rendering as a pixmap (fading is the painter's opacity, not the cache's)
            item.textItem.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plot.addItem(item, ignoreBounds=True)
            self._labels.append(item)
        self._label_state: list[tuple[int, str, float, float] | None] = [None] * LABELS
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

    def set_basis(self, basis: PCABasis) -> None:
        self.basis = basis
        self._label_state = [None] * LABELS
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
                self._label_state = [None] * LABELS
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
            self._hide_labels(set())
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
        used = set()
        for j in range(len(p) - n_lab, len(p)):
            t = first + j
            slot = t % LABELS
            used.add(slot)
            state = (t, char_label(chars[j]), float(x[j]), float(y[j]))
            label = self._labels[slot]
            if state != self._label_state[slot]:
                old = self._label_state[slot]
                if old is None or old[1] != state[1]:
                    label.setText(state[1])
                if old is None or old[2:] != state[2:]:
                    label.setPos(state[2], state[3])
                label.show()
                self._label_state[slot] = state
            age = len(p) - 1 - j                              # 0 = the newest
            # the fade goes in FADE_STEPS steps, so a key re-fades a few labels, not all of them
            opacity = 0.25 + 0.75 * np.ceil(FADE_STEPS * (LABELS - age) / LABELS) / FADE_STEPS
            if abs(label.opacity() - opacity) > 1e-3:
                label.setOpacity(opacity)
        self._hide_labels(used)

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

    def _hide_labels(self, used: set[int]) -> None:
        for slot, label in enumerate(self._labels):
            if slot not in used and self._label_state[slot] is not None:
                label.hide()
                self._label_state[slot] = None


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
