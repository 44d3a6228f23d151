"""TrajectoryPanel: the hidden state's path on a frozen PCA basis, with a faint corpus cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.pca import PCABasis
from explorer.ui.sequence.common import ACCENT, char_label, set_tip
from explorer.ui.sequence.glyphs import CHARACTERS, GlyphAtlas
from explorer.ui.sequence.trail_item import SymbolSprites
from explorer.ui.widgets.painted_plot import PaintedPlot

TRAIL = 60            # points on the path
LABELS = 24           # the newest points carry their character
FADE_STEPS = 8        # label opacity levels
PAIRS = [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)]
EMPTY = "No text yet: the path starts at the first character."

if TYPE_CHECKING:
    from explorer.session.sequence import SequenceSession
    from explorer.session.sequence_view import SequenceView

HELP = ("Trajectory: the hidden state after each character, projected onto principal components\n"
        "fitted ONCE on the model's own corpus (or on generated task sequences) and then frozen,\n"
        "so the picture does not jump as you type. Grey cloud: states met on that corpus.\n"
        "The path fades with age; each point is labelled with the character just read;\n"
        "the orange point is the state at the cursor. Toy models show their attractors\n"
        "(parity: two clusters; bracket depth: a line).")

Layer = Callable[[QtGui.QPainter], None]
Label = tuple[float, float, str, float]        # x, y, text, opacity

_CLOUD = 0                                     # sprite styles: the cloud's point, the cursor, then the
_CURSOR = 1                                    # trail's dots from the oldest (faintest) to the newest
_PATH_PEN = QtGui.QPen(QtGui.QColor(60, 60, 90, 110), 1)


def _styles() -> list[tuple[str, float, QtGui.QPen, QtGui.QBrush]]:
    ramp = np.linspace(0.12, 1.0, TRAIL) ** 1.5
    return ([("o", 3, pg.mkPen(None), pg.mkBrush(120, 120, 140, 35)),
             ("o", 15, pg.mkPen("w", width=1.5), pg.mkBrush(ACCENT))]
            + [("o", 6, pg.mkPen(None), pg.mkBrush(31, 90, 180, int(255 * a))) for a in ramp])


class TrajectoryPlot(PaintedPlot):
    """The plot: the cloud (and the layers under the path) in the cached static layer; the
    layers over the path in a cached transparent pixmap; per key the path, its dots, the
    cursor and the newest points' characters."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Trajectory of h(t), frozen PCA", "PC1", "PC2", HELP, parent)   # short: fits 1024 px
        self.cloud = np.zeros((0, 2))
        self.trail_x, self.trail_y = np.zeros(0), np.zeros(0)   # the trail in data coordinates
        self.labels: list[Label] = []                       # in slot order: the stacking order
        self.first = 0                                      # the character index of the trail's first point
        self.chars = ""
        self.sprites = SymbolSprites(_styles())
        self.glyphs = GlyphAtlas(QtGui.QFont("DejaVu Sans Mono", 9), QtGui.QColor(20, 20, 40), warm=CHARACTERS)
        self.under: list[Layer] = []                        # drawn into the static layer, over the cloud
        self.over: list[Layer] = []                         # drawn over the path (e.g. fixed points)
        self._over: QtGui.QPixmap | None = None
        self._px: tuple[tuple, np.ndarray, np.ndarray, QtCore.QLineF] | None = None
        self._segments = np.zeros((TRAIL, 4))                 # the path's segments as QLineF records
        self._style_cache: np.ndarray | None = None
        self._labels_cache: tuple[list[Label], tuple[np.ndarray, np.ndarray, list[str], np.ndarray]] | None = None

    # -- what is shown ---------------------------------------------------------------------
    def set_cloud(self, cloud: np.ndarray) -> None:
        self.cloud = np.asarray(cloud, float)
        self.invalidate()

    def set_trail(self, x: np.ndarray, y: np.ndarray, labels: list[Label], chars: str = "", first: int = 0) -> None:
        if labels == self.labels and np.array_equal(x, self.trail_x) and np.array_equal(y, self.trail_y):
            return
        self.trail_x, self.trail_y, self.labels = np.asarray(x, float), np.asarray(y, float), labels
        self.chars, self.first = chars, first
        self._px = None
        self.update()

    def invalidate(self) -> None:
        """The static layer and the layers over the path are out of date (a layer changed)."""
        self._over = None
        self._px = None
        super().invalidate()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._over = None
        self._px = None
        super().resizeEvent(ev)

    # -- painting --------------------------------------------------------------------------
    def paint_static(self, p: QtGui.QPainter) -> None:
        if len(self.cloud):
            self.sprites.draw(p, self.px_x(self.cloud[:, 0]), self.px_y(self.cloud[:, 1]), _CLOUD)
        for layer in self.under:
            layer(p)

    def _over_layer(self) -> QtGui.QPixmap | None:
        if not self.over:
            return None
        if self._over is None:
            dpr = self.devicePixelRatioF()
            pm = QtGui.QPixmap(max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)))
            pm.setDevicePixelRatio(dpr)
            pm.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(pm)
            p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
            p.setClipRect(self.data_rect())
            for layer in self.over:
                layer(p)
            p.end()
            self._over = pm
        return self._over

    def trail_pixels(self) -> tuple[np.ndarray, np.ndarray, QtCore.QLineF]:
        """The trail's points in widget pixels, the newest once more (the cursor), and the path's
        first segment (n - 1 QLineF records follow it in memory); made once per frame."""
        r = self.data_rect()
        key = (r.left(), r.top(), r.width(), r.height(), self.x_range(), self.y_range())
        if self._px is None or self._px[0] != key:
            n = len(self.trail_x)                # (the newest point twice: its dot, then the cursor)
            at = np.minimum(np.arange(n + 1), n - 1)
            px, py = self.px_x(self.trail_x[at]), self.px_y(self.trail_y[at])
            # the path as n - 1 segments (QLineF records) drawn in one call: where two meet, the
            # translucent pen is drawn twice, under the dot that covers every point
            if len(self._segments) < max(n - 1, 1):
                self._segments = np.zeros((max(n - 1, TRAIL), 4))
            seg = self._segments[:max(n - 1, 0)]
            seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3] = px[:n - 1], py[:n - 1], px[1:n], py[1:n]
            self._px = (key, px, py, cast(QtCore.QLineF, shiboken6.wrapInstance(self._segments.ctypes.data, QtCore.QLineF)))
        return self._px[1], self._px[2], self._px[3]

    def _styles(self, n: int) -> np.ndarray:
        """The sprites of n dots and the cursor: the k-th newest dot in the k-th newest style."""
        if self._style_cache is None or len(self._style_cache) != n + 1:
            styles = np.empty(n + 1, np.intp)
            styles[:n] = np.arange(2 + TRAIL - n, 2 + TRAIL)
            styles[n] = _CURSOR
            self._style_cache = styles
        return self._style_cache

    def paint_data(self, p: QtGui.QPainter) -> None:
        n = len(self.trail_x)
        if n:
            px, py, segments = self.trail_pixels()
            if n > 1:
                p.setPen(_PATH_PEN)
                p.drawLines(segments, n - 1)             # Qt reads n - 1 QLineF records from there
            self.sprites.draw(p, px, py, self._styles(n))
        over = self._over_layer()
        if over is not None:
            p.drawPixmap(0, 0, over)
        if self.labels:
            lx, ly, texts, opacity = self._label_arrays()
            # anchored like pg.TextItem(anchor=(-0.15, 0.9)) on its 4 px margined box: right of and
            # above the point (x + 0.15 (w + 8) + 4, y - 0.9 (h + 8) + 4)
            self.glyphs.draw(p, self.px_x(lx) + 5.2, self.px_y(ly) - 3.2, texts, opacity=opacity, anchor=(-0.15, 0.9))

    def _label_arrays(self) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
        if self._labels_cache is None or self._labels_cache[0] is not self.labels:
            cols = list(zip(*self.labels, strict=True))
            self._labels_cache = (self.labels, (np.array(cols[0]), np.array(cols[1]), list(cols[2]), np.array(cols[3])))
        return self._labels_cache[1]

    def tooltip_at(self, x: float, y: float) -> str | None:
        """The trail's point under the mouse (within 8 px): its character and position."""
        n = len(self.trail_x)
        if not n:
            return None
        px, py, _ = self.trail_pixels()
        d = np.hypot(px[:n] - float(self.px_x(x)), py[:n] - float(self.px_y(y)))
        j = int(np.argmin(d[::-1]))                 # the newest of equally near points
        j = n - 1 - j
        if d[j] > 8:
            return None
        c = self.chars[j] if j < len(self.chars) else ""
        where = "the cursor" if j == n - 1 else f"{n - 1 - j} character{'s' if n - 1 - j > 1 else ''} before the cursor"
        return f"h after '{char_label(c)}' (character {self.first + j}, {where})"


class TrajectoryPanel(QtWidgets.QWidget):
    """set_basis(basis) once per model; show(h (n, H), chars) per frame (last point = cursor)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.basis: PCABasis | None = None
        self.pair = PAIRS[0]
        self.combo = QtWidgets.QComboBox()
        self.plot = TrajectoryPlot()
        header = QtWidgets.QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addStretch(1)
        header.addWidget(QtWidgets.QLabel("components:"))
        header.addWidget(self.combo)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(header)
        lay.addWidget(self.plot, 1)
        self.combo.currentIndexChanged.connect(self._on_pair_changed)
        set_tip(self, HELP)
        self._last: tuple[np.ndarray, str, int] | None = None
        self._pair_shown: tuple[int, int] | None = None      # the pair and basis _last was drawn with
        self._basis_shown: PCABasis | None = None
        self._seen = np.zeros((0, 0))
        self._slots: list[Label | None] = [None] * LABELS

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
        self.plot.set_labels(f"PC{a + 1} ({100 * ev[a]:.0f}% of variance)", f"PC{b + 1} ({100 * ev[b]:.0f}%)")
        lo, hi = np.percentile(cloud[:, [a, b]], [0.5, 99.5], axis=0)
        pad = 0.12 * (hi - lo) + 1e-3
        self.plot.set_x_range(lo[0] - pad[0], hi[0] + pad[0])
        self.plot.set_y_range(lo[1] - pad[1], hi[1] + pad[1])
        self.plot.set_cloud(cloud[:, [a, b]])

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The plot's (x, y) ranges in data coordinates."""
        return self.plot.x_range(), self.plot.y_range()

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
            self.plot.set_trail(np.zeros(0), np.zeros(0), [])
            self._slots = [None] * LABELS
            self.plot.set_message(EMPTY if self.basis is not None else "")
            return
        self.plot.set_message("")
        first += max(len(h) - TRAIL, 0)
        p = h[-TRAIL:][:, list(self.pair)]
        x, y = np.ascontiguousarray(p[:, 0], float), np.ascontiguousarray(p[:, 1], float)
        chars = chars[-len(p):]
        n_lab = min(LABELS, len(p))
        slots: list[Label | None] = [None] * LABELS
        xs, ys = x.tolist(), y.tolist()
        for j in range(len(p) - n_lab, len(p)):
            age = len(p) - 1 - j                              # 0 = the newest
            # the fade goes in FADE_STEPS steps (as when each label was an item of its own)
            opacity = 0.25 + 0.75 * np.ceil(FADE_STEPS * (LABELS - age) / LABELS) / FADE_STEPS
            slots[(first + j) % LABELS] = (xs[j], ys[j], char_label(chars[j]), float(opacity))
        self._slots = slots
        self.plot.set_trail(x, y, [s for s in slots if s is not None], chars, first)   # slot order: the stacking order

    def label_texts(self) -> list[str]:
        """The text of each label slot (character t is labelled in slot t % LABELS; '' = unused)."""
        return [s[2] if s is not None else "" for s in self._slots]


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.trajectory``)."""
    w = TrajectoryPanel()
    w.set_basis(session.trajectory_basis())
    w.show_points(view.trail, view.trail_chars, first=view.trail_first)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
