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
from explorer.ui.sequence.trajectory import TrajectoryPanel, hide_when_empty

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
    """Attach to a TrajectoryPanel; ``set_model(model)`` per model; redraws on pair changes."""

    computed = QtCore.Signal(object)   # the list of FixedPoint (or an error string)

    def __init__(self, panel: TrajectoryPanel) -> None:
        super().__init__(panel)
        self.panel = panel
        self.points: list[FixedPoint] = []
        self.step_map: StepMap | None = None
        self.symbol: int | None = None         # the input whose flow is drawn
        self._token = 0
        self._workers: list[FixedPointWorker] = []
        self.flow = pg.PlotCurveItem(pen=pg.mkPen(90, 90, 90, 150, width=1), connect="pairs",
                                     skipFiniteCheck=True)
        self.flow_tails = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(90, 90, 90, 150))
        for item in (self.flow, self.flow_tails):
            item.setZValue(-5)
            panel.plot.addItem(item, ignoreBounds=True)
        self.stable = pg.ScatterPlotItem(size=16, symbol="star", pen=pg.mkPen("k", width=1.2))
        self.saddle = pg.ScatterPlotItem(size=14, symbol="x", pen=pg.mkPen("k", width=0.8))
        self.labels = []
        for item in (self.stable, self.saddle):
            item.setZValue(20)
            panel.plot.addItem(item)
        for item in (self.flow, self.flow_tails, self.stable, self.saddle):
            hide_when_empty(item)                  # empty scatters cost a repaint each
        font = QtGui.QFont("DejaVu Sans", 9)
        font.setBold(True)
        for _ in range(N_LABELS):
            lab = pg.TextItem("", color=(0, 0, 0), anchor=(0.5, 1.6))
            lab.setFont(font)
            lab.setZValue(21)
            lab.hide()
            panel.plot.addItem(lab, ignoreBounds=True)
            self.labels.append(lab)
        self.legend = pg.TextItem("", color=(30, 30, 30), anchor=(0, 0))
        self.legend.setZValue(22)
        panel.plot.addItem(self.legend, ignoreBounds=True)
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

    def _draw_flow(self) -> None:
        basis, pair, fmap = self.panel.basis, list(self.panel.pair), self.step_map
        n_in = getattr(fmap.pre[0], "num_embeddings", 0) if fmap is not None and fmap.pre else 0
        if basis is None or fmap is None or self.symbol is None or max(pair) >= basis.n_components \
                or not 0 <= self.symbol < n_in:
            self.flow.setData([], [])
            self.flow_tails.setData([], [])
            return
        (x0, x1), (y0, y1) = self.panel.plot.viewRange()
        gx, gy = np.meshgrid(np.linspace(x0, x1, GRID + 2)[1:-1], np.linspace(y0, y1, GRID + 2)[1:-1])
        z = np.stack([gx.ravel(), gy.ravel()], axis=1)
        comps = basis.components[pair].astype(np.float64)
        h = basis.mean.astype(np.float64) + z @ comps
        d = (fmap(h, self.symbol) - h) @ comps.T                 # one step, projected
        cell = np.array([(x1 - x0), (y1 - y0)]) / (GRID + 1)
        rel = d / cell
        scale = np.minimum(1.0, 0.8 / np.maximum(np.abs(rel).max(axis=1), 1e-12))
        tips = z + d * scale[:, None]
        seg = np.empty((2 * len(z), 2))
        seg[0::2], seg[1::2] = z, tips
        self.flow.setData(seg[:, 0], seg[:, 1])
        self.flow_tails.setData(z[:, 0], z[:, 1])

    def redraw(self) -> None:
        basis, pair = self.panel.basis, list(self.panel.pair)
        self._draw_flow()
        for lab in self.labels:
            lab.hide()
        if basis is None or not self.points or max(pair) >= basis.n_components:
            self.stable.setData([], [])
            self.saddle.setData([], [])
            self.legend.setText("")
            return
        xy = basis.transform(np.stack([p.hidden for p in self.points]).astype(np.float32))[:, pair]
        symbols = sorted({p.symbol for p in self.points})
        brush = {s: pg.mkBrush(*COLOURS[i % len(COLOURS)]) for i, s in enumerate(symbols)}
        pen = {s: pg.mkPen(*COLOURS[i % len(COLOURS)], width=3) for i, s in enumerate(symbols)}
        st = [i for i, p in enumerate(self.points) if p.stable]
        sa = [i for i, p in enumerate(self.points) if not p.stable]
        self.stable.setData(xy[st, 0], xy[st, 1], brush=[brush[self.points[i].symbol] for i in st])
        self.saddle.setData(xy[sa, 0], xy[sa, 1], pen=[pen[self.points[i].symbol] for i in sa],
                            brush=[brush[self.points[i].symbol] for i in sa])
        for lab, i in zip(self.labels, range(len(self.points))):
            p = self.points[i]
            lab.setText(f"{p.symbol!s}")
            lab.setColor(COLOURS[symbols.index(p.symbol) % len(COLOURS)])
            lab.setPos(float(xy[i, 0]), float(xy[i, 1]))
            lab.show()
        vr = self.panel.plot.viewRange()
        self.legend.setPos(vr[0][0], vr[1][1])
        flow = "" if self.symbol is None or self.step_map is None else " · arrows: a step on the last input"
        self.legend.setText(f"★ stable {len(st)} · ✕ saddle {len(sa)} · colour: input{flow}")

    def wait(self) -> None:
        """Block until every search has finished (tests, shutdown)."""
        for w in list(self._workers):
            w.wait()

    def shutdown(self) -> None:
        self._token += 1
        self.wait()
