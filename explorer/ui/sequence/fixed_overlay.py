"""Fixed points of a small model drawn on the trajectory panel (found in a worker thread).

For each input symbol x, the states h* with F(h*, x) = h* (``explorer.analysis.fixed_points``)
are projected on the trajectory's frozen PCA basis: filled markers are stable (every
|eigenvalue| < 1: an attractor the state settles into while x repeats), crosses are saddles
or unstable points (the state is pushed away along some direction). Each is labelled with
its input symbol. Grey arrows: the flow while the symbol just read repeats — one step
F(h, x) - h from a grid of states on the plane of the two components shown (the other
components at the corpus mean; GRU / RNN models), clipped to a grid cell. Text models
(hundreds of units) are left out: the search is for small state spaces.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

from explorer.analysis.fixed_points import MAX_STATE, FixedPoint, StepMap, find_fixed_points
from explorer.engine.model import Model
from explorer.ui.sequence.trail_item import SymbolSprites
from explorer.ui.sequence.trajectory import TrajectoryPanel

COLOURS = [(214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14), (23, 190, 207),
           (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34)]
N_LABELS = 24
GRID = 13


class FixedPointWorker(QtCore.QThread):
    """Runs find_fixed_points off the GUI thread; ``found(token, points)`` when done."""

    found = QtCore.Signal(int, object)

    def __init__(self, model: Model, token: int, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.model, self.token = model, token

    def run(self) -> None:
        try:
            points: list[FixedPoint] | str = find_fixed_points(self.model, n_starts=32)
        except Exception as exc:  # noqa: BLE001 - shown as a note, never a crash
            points = str(exc)
        self.found.emit(self.token, points)


class FixedPointOverlay(QtCore.QObject):
    """Attach to a TrajectoryPanel; ``set_model(model)`` per model; redraws on pair changes.

    It paints on the panel's plot: the flow arrows under the path (into the plot's static
    layer), the markers, their labels and the legend over it (a cached layer); a redraw
    invalidates those layers, a key does not touch them."""

    computed = QtCore.Signal(object)   # the list of FixedPoint (or an error string)

    def __init__(self, panel: TrajectoryPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.points: list[FixedPoint] = []
        self.step_map: StepMap | None = None
        self.symbol: int | None = None         # the input whose flow is drawn
        self._token = 0
        self._workers: list[FixedPointWorker] = []
        # what is drawn (data coordinates): flow segments (tail, tip) and tails; the markers
        self.flow = np.zeros((0, 2, 2))
        self.stable_xy, self.saddle_xy = np.zeros((0, 2)), np.zeros((0, 2))
        self.stable_colours: list[tuple[int, int, int]] = []
        self.saddle_colours: list[tuple[int, int, int]] = []
        self.marker_labels: list[tuple[float, float, str, tuple[int, int, int]]] = []
        self.legend_text = ""
        self._sprites: dict[tuple, SymbolSprites] = {}
        self.label_font = QtGui.QFont("DejaVu Sans", 9)
        self.label_font.setBold(True)
        panel.plot.under.append(self._paint_flow)
        panel.plot.over.append(self._paint_markers)
        panel.combo.currentIndexChanged.connect(lambda _i: self.redraw())

    def set_model(self, model: Model, hidden_size: int, cell: str) -> None:
        """Start the search for a small model; clear the markers otherwise."""
        self._token += 1
        self.points = []
        self.symbol = None
        dim = hidden_size * (2 if cell == "LSTM" else 1)
        self.step_map = StepMap(model) if dim <= MAX_STATE and cell != "LSTM" else None
        self.redraw()
        if dim > MAX_STATE:
            return
        worker = FixedPointWorker(model, self._token, self)
        worker.found.connect(self._on_found)
        worker.finished.connect(lambda w=worker: self._workers.remove(w) if w in self._workers else None)
        self._workers.append(worker)
        worker.start()

    def clear(self) -> None:
        """No fixed points to look for (a model without a recurrent state): markers cleared."""
        self._token += 1
        self.points, self.symbol, self.step_map = [], None, None
        self.redraw()

    def _on_found(self, token: int, points: object) -> None:
        if token != self._token:
            return                      # a previous model's answer
        self.points = points if isinstance(points, list) else []
        self.redraw()
        self.computed.emit(points)

    def set_symbol(self, input_id: int | None) -> None:
        """The input whose flow is drawn (the character just read); redraws when it changes."""
        if input_id != self.symbol:
            self.symbol = input_id
            if self.step_map is not None:      # only the flow arrows depend on the symbol
                self.redraw()

    def _compute_flow(self) -> None:
        basis, pair, fmap = self.panel.basis, list(self.panel.pair), self.step_map
        n_in = getattr(fmap.pre[0], "num_embeddings", 0) if fmap is not None and fmap.pre else 0
        if basis is None or fmap is None or self.symbol is None or max(pair) >= basis.n_components \
                or not 0 <= self.symbol < n_in:
            self.flow = np.zeros((0, 2, 2))
            return
        (x0, x1), (y0, y1) = self.panel.view_range()
        gx, gy = np.meshgrid(np.linspace(x0, x1, GRID + 2)[1:-1], np.linspace(y0, y1, GRID + 2)[1:-1])
        z = np.stack([gx.ravel(), gy.ravel()], axis=1)
        comps = basis.components[pair].astype(np.float64)
        h = basis.mean.astype(np.float64) + z @ comps
        d = (fmap(h, self.symbol) - h) @ comps.T                 # one step, projected
        cell = np.array([(x1 - x0), (y1 - y0)]) / (GRID + 1)
        rel = d / cell
        scale = np.minimum(1.0, 0.8 / np.maximum(np.abs(rel).max(axis=1), 1e-12))
        self.flow = np.stack([z, z + d * scale[:, None]], axis=1)

    def redraw(self) -> None:
        basis, pair = self.panel.basis, list(self.panel.pair)
        self._compute_flow()
        self.marker_labels = []
        if basis is None or not self.points or max(pair) >= basis.n_components:
            self.stable_xy, self.saddle_xy = np.zeros((0, 2)), np.zeros((0, 2))
            self.stable_colours, self.saddle_colours = [], []
            self.legend_text = ""
            self.panel.plot.invalidate()
            return
        xy = basis.transform(np.stack([p.hidden for p in self.points]).astype(np.float32))[:, pair]
        symbols = sorted({p.symbol for p in self.points})
        colour = {s: COLOURS[i % len(COLOURS)] for i, s in enumerate(symbols)}
        st = [i for i, p in enumerate(self.points) if p.stable]
        sa = [i for i, p in enumerate(self.points) if not p.stable]
        self.stable_xy, self.saddle_xy = xy[st].astype(float), xy[sa].astype(float)
        self.stable_colours = [colour[self.points[i].symbol] for i in st]
        self.saddle_colours = [colour[self.points[i].symbol] for i in sa]
        self.marker_labels = [(float(xy[i, 0]), float(xy[i, 1]), f"{p.symbol!s}", colour[p.symbol])
                              for i, p in enumerate(self.points[:N_LABELS])]
        flow = "" if self.symbol is None or self.step_map is None else " · arrows: a step on the last input"
        self.legend_text = f"★ stable {len(st)} · ✕ saddle {len(sa)} · colour: input{flow}"
        self.panel.plot.invalidate()

    # -- painting (called by the plot when it rebuilds its layers) ----------------------------
    def _marker(self, symbol: str, size: float, pen: QtGui.QPen, brush: QtGui.QBrush, key: tuple) -> SymbolSprites:
        sprites = self._sprites.get(key)
        if sprites is None:
            sprites = self._sprites[key] = SymbolSprites([(symbol, size, pen, brush)])
        return sprites

    def _paint_flow(self, p: QtGui.QPainter) -> None:
        if not len(self.flow):
            return
        plot = self.panel.plot
        px, py = plot.px_x(self.flow[:, :, 0]), plot.px_y(self.flow[:, :, 1])
        p.setPen(_FLOW_PEN)
        p.drawLines([QtCore.QLineF(a, b, c, d) for a, b, c, d in
                     zip(px[:, 0].tolist(), py[:, 0].tolist(), px[:, 1].tolist(), py[:, 1].tolist(), strict=True)])
        tails = self._marker("o", 3, pg.mkPen(None), pg.mkBrush(*_FLOW_RGBA), ("tail",))
        tails.draw(p, px[:, 0], py[:, 0], 0)

    def _paint_markers(self, p: QtGui.QPainter) -> None:
        plot = self.panel.plot
        for xy, colours, stable in ((self.stable_xy, self.stable_colours, True),
                                    (self.saddle_xy, self.saddle_colours, False)):
            for (x, y), c in zip(xy.tolist(), colours, strict=True):
                if stable:
                    sprites = self._marker("star", 16, pg.mkPen("k", width=1.2), pg.mkBrush(*c), ("star", c))
                else:
                    sprites = self._marker("x", 14, pg.mkPen(*c, width=3), pg.mkBrush(*c), ("x", c))
                sprites.draw(p, np.array([plot.px_x(x)]), np.array([plot.px_y(y)]), 0)
        p.setFont(self.label_font)
        metrics = QtGui.QFontMetricsF(self.label_font)
        for x, y, text, c in self.marker_labels:
            # as pg.TextItem(anchor=(0.5, 1.6)): centred over the marker, on its 4 px margined box
            w, h = metrics.horizontalAdvance(text), metrics.height()
            p.setPen(QtGui.QColor(*c))
            p.drawText(QtCore.QPointF(float(plot.px_x(x)) - w / 2, float(plot.px_y(y)) - 1.6 * (h + 8) + 4 + metrics.ascent()),
                       text)
        if self.legend_text:
            r = plot.data_rect()
            p.setFont(plot.font())
            p.setPen(QtGui.QColor(30, 30, 30))
            p.drawText(r.topLeft() + QtCore.QPointF(4, 4 + QtGui.QFontMetricsF(p.font()).ascent()), self.legend_text)

    def wait(self) -> None:
        """Block until every search has finished (tests, shutdown)."""
        for w in list(self._workers):
            w.wait()

    def shutdown(self) -> None:
        self._token += 1
        self.wait()


_FLOW_RGBA = (90, 90, 90, 150)
_FLOW_PEN = QtGui.QPen(QtGui.QColor(*_FLOW_RGBA), 1)
