"""TrajectoryPanel: the hidden state's path on a frozen PCA basis, with a faint corpus cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.pca import PCABasis
from explorer.ui.sequence.common import ACCENT, char_label, set_tip
from explorer.ui.sequence.glyphs import CHARACTERS, Fragments, GlyphAtlas, on_screen
from explorer.ui.sequence.trail_item import SymbolSprites
from explorer.ui.widgets.painted_plot import PaintedPlot

TRAIL = 60            # points on the path
LABELS = 24           # the newest points carry their character
FADE_STEPS = 8        # label opacity levels
PAIRS = [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4)]
# a label's opacity by its age (0 = the newest): the fade goes in FADE_STEPS steps (as when each
# label was an item of its own)
_OPACITY = 0.25 + 0.75 * np.ceil(FADE_STEPS * (LABELS - np.arange(LABELS)) / LABELS) / FADE_STEPS
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


class _Frame(NamedTuple):
    """The trail as paint_data blits it (widget px), placed once per frame, layout and device."""

    key: tuple
    labels: list[Label]                        # the labels it was placed for (identity)
    px: np.ndarray                             # (n + 1,) the dots' centres, the cursor last
    py: np.ndarray
    segments: np.ndarray                       # (n - 1, 4) the path as QLineF records
    dots: Fragments
    labels_placed: Fragments | None

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
    layers over the path in a cached transparent pixmap (blended only where it has ink); per
    key the path, its dots, the cursor and the newest points' characters, placed once per
    frame as records in reused buffers (``_frame``) and blitted in three calls. A new trail
    repaints the plot area only: everything it changes is drawn clipped to it.

    Why not a layer kept from key to key with only the new segment drawn: every dot fades
    with its age (the k-th newest dot in the k-th newest style) and the labels in steps, so a
    key changes every dot of the trail and the oldest segment leaves from under the others."""

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
        self._over: tuple[QtGui.QPixmap, QtCore.QRect] | None = None
        self._placed: _Frame | None = None                    # the trail as placed for the last paint
        self._area: QtCore.QRect | None = None                # the plot area a new trail repaints
        self._labelled: tuple[list[Label], np.ndarray, list[str], np.ndarray] | None = None   # set_trail's labelled
        self._segments = np.zeros((0, 4))                     # the path's segments as QLineF records
        self._segments_ptr: Any = None                        # a QLineF* to them, for drawLines
        self._dots, self._labels_placed = Fragments(), Fragments()   # buffers reused frame after frame
        self._style_cache: np.ndarray | None = None
        self._labels_cache: tuple[list[Label], tuple[np.ndarray, np.ndarray, list[str], np.ndarray]] | None = None

    # -- what is shown ---------------------------------------------------------------------
    def set_cloud(self, cloud: np.ndarray) -> None:
        self.cloud = np.asarray(cloud, float)
        self.invalidate()

    def set_trail(self, x: np.ndarray, y: np.ndarray, labels: list[Label], chars: str = "", first: int = 0,
                  labelled: tuple[np.ndarray, list[str], np.ndarray] | None = None) -> None:
        """labelled: the labels' points as indices into the trail, their texts and opacities, when
        the labels are trail points (the panel's): their pixels are then the dots' own."""
        if labels == self.labels and np.array_equal(x, self.trail_x) and np.array_equal(y, self.trail_y):
            return
        self.trail_x, self.trail_y, self.labels = np.asarray(x, float), np.asarray(y, float), labels
        self._labelled = (labels, *labelled) if labelled is not None else None
        self.chars, self.first = chars, first
        self._placed = None
        # the trail, its labels and the layers over it are drawn clipped to the plot area: the
        # title, axis labels and ticks around it are not painted again
        if self._area is None:                           # (dropped with the layout)
            self._area = self.data_rect().toAlignedRect().adjusted(-1, -1, 1, 1)
        self.update(self._area)

    def invalidate(self) -> None:
        """The static layer and the layers over the path are out of date (a layer changed)."""
        self._over = None
        self._placed = None
        self._area = None
        super().invalidate()

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._over = None
        self._placed = None
        self._area = None
        super().resizeEvent(ev)

    def changeEvent(self, ev: QtCore.QEvent) -> None:  # noqa: N802 (Qt)
        self._area = None                                # (a font or style change lays the plot out again)
        super().changeEvent(ev)

    # -- painting --------------------------------------------------------------------------
    def paint_static(self, p: QtGui.QPainter) -> None:
        if len(self.cloud):
            self.sprites.draw(p, self.px_x(self.cloud[:, 0]), self.px_y(self.cloud[:, 1]), _CLOUD)
        for layer in self.under:
            layer(p)

    def _over_layer(self) -> tuple[QtGui.QPixmap, QtCore.QRect] | None:
        """The layers over the path as a transparent pixmap and the rectangle (device px) that
        holds all of its ink; None when they drew nothing (a text model has no fixed points):
        a paint then blends no pixel of it."""
        if not self.over:
            return None
        if self._over is None:
            dpr = self.devicePixelRatioF()
            img = QtGui.QImage(max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)),
                               QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            img.setDevicePixelRatio(dpr)
            img.fill(QtCore.Qt.GlobalColor.transparent)
            p = QtGui.QPainter(img)
            p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing)
            p.setClipRect(self.data_rect())
            for layer in self.over:
                layer(p)
            p.end()
            alpha = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4) >> 24
            rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
            ink = QtCore.QRect(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)) \
                if len(rows) else QtCore.QRect()
            self._over = (QtGui.QPixmap.fromImage(img), ink)
        return None if self._over[1].isEmpty() else self._over

    def trail_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """The trail's points in widget pixels and the newest once more (the cursor): n + 1 each."""
        f = self._frame(self.devicePixelRatioF())
        return f.px, f.py

    def _frame(self, dpr: float) -> _Frame:
        """What paint_data blits for the trail, placed once per frame, layout and device: the path's
        segments, the dots and the cursor, the labels."""
        r, xr, yr = self.data_rect(), self.x_range(), self.y_range()
        f = self._placed
        if f is not None and f.key == (r, xr, yr, dpr) and f.labels is self.labels:
            return f
        # px_x / px_y (the same arithmetic, the same pixels) with the rectangle read once
        ax, dy, left, bottom, h = r.width() / ((xr[1] - xr[0]) or 1.0), (yr[1] - yr[0]) or 1.0, r.left(), r.bottom(), r.height()
        n = len(self.trail_x)                                 # (the newest point twice: its dot, then the cursor)
        px, py = np.empty(n + 1), np.empty(n + 1)
        px[:n] = left + (self.trail_x - xr[0]) * ax
        py[:n] = bottom - (self.trail_y - yr[0]) / dy * h
        if n:
            px[n], py[n] = px[n - 1], py[n - 1]
        # the path as n - 1 segments (QLineF records) drawn in one call: where two meet, the
        # translucent pen is drawn twice, under the dot that covers every point
        if len(self._segments) < max(n - 1, 1):             # (Qt's pointer to them: made once per growth)
            self._segments = np.zeros((max(n - 1, TRAIL), 4))
            self._segments_ptr = shiboken6.wrapInstance(self._segments.ctypes.data, QtCore.QLineF)
        seg = self._segments[:max(n - 1, 0)]
        seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3] = px[:n - 1], py[:n - 1], px[1:n], py[1:n]
        dots = self.sprites.place(px, py, self._styles(n), dpr, self._dots)
        labels = None
        if self.labels:
            known = self._labelled
            if known is not None and known[0] is self.labels:    # trail points: the dots' pixels
                _, at, texts, opacity = known
                lx, ly = px[at], py[at]
            else:
                x, y, texts, opacity = self._label_arrays()
                lx, ly = left + (x - xr[0]) * ax, bottom - (y - yr[0]) / dy * h
            # anchored like pg.TextItem(anchor=(-0.15, 0.9)) on its 4 px margined box: right of and
            # above the point (x + 0.15 (w + 8) + 4, y - 0.9 (h + 8) + 4)
            labels = self.glyphs.place(lx + 5.2, ly - 3.2, texts, opacity, (-0.15, 0.9), dpr, self._labels_placed)
        self._placed = _Frame((r, xr, yr, dpr), self.labels, px, py, seg, dots, labels)
        return self._placed

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
        device = p.device()
        dpr = device.devicePixelRatioF() if device is not None else 1.0
        if not on_screen(p):                             # SVG, PDF: markers and labels as vectors and text
            self._paint_vectors(p, dpr)
            return
        f = self._frame(dpr) if n or self.labels else None
        if n:
            assert f is not None
            if n > 1:
                p.setPen(_PATH_PEN)
                p.drawLines(self._segments_ptr, n - 1)   # Qt reads n - 1 QLineF records from there
            f.dots.blit(p)
        over = self._over_layer()
        if over is not None:                     # only the part with ink (source rect in device px)
            pm, ink = over
            ratio = pm.devicePixelRatio()
            p.drawPixmap(QtCore.QRectF(ink.x() / ratio, ink.y() / ratio, ink.width() / ratio, ink.height() / ratio), pm,
                         QtCore.QRectF(ink))
        if f is not None and f.labels_placed is not None:
            f.labels_placed.blit(p)

    def _paint_vectors(self, p: QtGui.QPainter, dpr: float) -> None:
        """paint_data for a vector device: the same path, each dot its symbol, each label text."""
        n = len(self.trail_x)
        if n:
            f = self._frame(dpr)
            if n > 1:
                p.setPen(_PATH_PEN)
                p.drawLines([QtCore.QLineF(*s) for s in f.segments[:n - 1].tolist()])
            self.sprites.draw(p, f.px, f.py, self._styles(n))
        over = self._over_layer()
        if over is not None:
            p.drawPixmap(0, 0, over[0])
        if self.labels:
            lx, ly, texts, opacity = self._label_arrays()
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
        px, py = self.trail_pixels()
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
        self._slots_of: tuple[int, list[Label], list[int]] | None = None   # first, labels, their points: label_texts
        self._char_labels: dict[str, str] = {}

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
            self._slots_of = None
            self.plot.set_message(EMPTY if self.basis is not None else "")
            return
        self.plot.set_message("")
        first += max(len(h) - TRAIL, 0)
        p = h[-TRAIL:][:, list(self.pair)]
        x, y = np.ascontiguousarray(p[:, 0], float), np.ascontiguousarray(p[:, 1], float)
        m = len(p)
        chars = chars[-m:]
        # the newest n_lab points are labelled, each in slot (its character index) % LABELS; the
        # labels go in slot order (the stacking order): the run of slots from slot 0 on, then the rest
        n_lab = min(LABELS, m)
        start = (first + m - n_lab) % LABELS                  # the slot of the oldest labelled point
        wrap = (LABELS - start) % LABELS                      # its labels from slot 0 on begin there
        js = list(range(m - n_lab + wrap, m)) + list(range(m - n_lab, m - n_lab + min(wrap, n_lab)))
        name = self._char_labels.get
        texts = [name(c) or self._char_label(c) for c in map(chars.__getitem__, js)]
        at = np.array(js, np.intp)
        opacity = _OPACITY[m - 1 - at]
        labels = list(zip(x[at].tolist(), y[at].tolist(), texts, opacity.tolist(), strict=True))
        self._slots_of = (first, labels, js)
        self.plot.set_trail(x, y, labels, chars, first, labelled=(at, texts, opacity))

    def _char_label(self, c: str) -> str:
        label = self._char_labels[c] = char_label(c)
        return label

    def label_texts(self) -> list[str]:
        """The text of each label slot (character t is labelled in slot t % LABELS; '' = unused)."""
        slots = [""] * LABELS
        if self._slots_of is not None:
            first, labels, js = self._slots_of
            for j, (_, _, text, _) in zip(js, labels, strict=True):
                slots[(first + j) % LABELS] = text
        return slots


def demo(session: SequenceSession, view: SequenceView) -> QtWidgets.QWidget:
    """The panel fed from one frame of a shipped model (``python -m explorer.ui.sequence.trajectory``)."""
    w = TrajectoryPanel()
    w.set_basis(session.trajectory_basis())
    w.show_points(view.trail, view.trail_chars, first=view.trail_first)
    return w


if __name__ == "__main__":
    from explorer.ui.sequence.demo import run
    run(demo)
