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
from explorer.ui.sequence.trail_item import TrailItem

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
        for item in (self.cloud, self.path):
            self.plot.addItem(item)
        # the corpus cloud is static between basis / pair changes: paint it once into a cached
        # pixmap instead of re-drawing 3,000 points whenever the path over it changes
        self.cloud.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        ramp = np.linspace(0.12, 1.0, TRAIL) ** 1.5
        self._brushes = [pg.mkBrush(31, 90, 180, int(255 * a)) for a in ramp]
        # the dots (fading with age), the orange cursor dot and the newest LABELS points' characters:
        # ONE item (see trail_item.py), as 26 pyqtgraph items they cost a repaint each per key
        self.trail = TrailItem(6, self._brushes, 15, pg.mkPen("w", width=1.5), pg.mkBrush(ACCENT),
                               QtGui.QFont("DejaVu Sans Mono", 9), (20, 20, 40), anchor=(-0.15, 0.9))
        self.plot.addItem(self.trail, ignoreBounds=True)
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
        self._pair_shown: tuple[int, int] | None = None      # the pair and basis _last was drawn with
        self._basis_shown: PCABasis | None = None
        self._seen = np.zeros((0, 0))
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
        if (self._last is not None and self.pair == self._pair_shown and self.basis is self._basis_shown
                and chars == self._last[1] and first == self._last[2] and np.array_equal(points, self._seen)):
            return                               # the same frame again: nothing is re-set or repainted
        self._last, self._seen = (points, chars, first), np.array(points)   # (a copy: arrays may be reused)
        self._pair_shown, self._basis_shown = self.pair, self.basis
        h = points
        if self.basis is None or not len(h):
            self.path.setData([], [])
            self.trail.set_trail(np.zeros(0), np.zeros(0), [])
            self._slots = [None] * LABELS
            self.empty.setVisible(self.basis is not None)
            return
        self.empty.hide()
        first += max(len(h) - TRAIL, 0)
        p = h[-TRAIL:][:, list(self.pair)]
        x, y = np.ascontiguousarray(p[:, 0], float), np.ascontiguousarray(p[:, 1], float)
        self.path.setData(x, y)
        chars = chars[-len(p):]
        n_lab = min(LABELS, len(p))
        slots: list[tuple[float, float, str, float] | None] = [None] * LABELS
        for j in range(len(p) - n_lab, len(p)):
            age = len(p) - 1 - j                              # 0 = the newest
            # the fade goes in FADE_STEPS steps (as when each label was an item of its own)
            opacity = 0.25 + 0.75 * np.ceil(FADE_STEPS * (LABELS - age) / LABELS) / FADE_STEPS
            slots[(first + j) % LABELS] = (float(x[j]), float(y[j]), char_label(chars[j]), float(opacity))
        self._slots = slots
        self.trail.set_trail(x, y, [s for s in slots if s is not None])   # slot order: the stacking order

    def label_texts(self) -> list[str]:
        """The text of each label slot (character t is labelled in slot t % LABELS; '' = unused)."""
        return [s[2] if s is not None else "" for s in self._slots]


def hide_when_empty(item: pg.ScatterPlotItem | pg.PlotCurveItem) -> None:
    """Keep a scatter or curve item hidden while it has no points: an empty item is still
    painted (a ScatterPlotItem culls and maps zero points, ~0.1 ms) whenever the view under it
    repaints, and the trajectory view repaints on every key."""
    def follow(it: pg.ScatterPlotItem | pg.PlotCurveItem) -> None:
        x = it.data if isinstance(it, pg.ScatterPlotItem) else it.getData()[0]
        it.setVisible(x is not None and len(x) > 0)
    follow(item)
    item.sigPlotChanged.connect(follow)


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.trajectory``)."""
    w = TrajectoryPanel()
    w.set_basis(session.trajectory_basis())
    w.show_points(view.trail, view.trail_chars, first=view.trail_first)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
