"""LayerColumn: one MosaicPanel per layer output (conv, ReLU, pool, dense); KernelColumn.

Built once from ``session.stages``; ``show_frame(frame, scope)`` feeds data (one setImage per
panel). Colours: the diverging scale, values divided by max |value| of the scope.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.digits import DigitFrame, Stage
from explorer.ui.widgets.colors import fmt, max_abs, normalise
from explorer.ui.widgets.mosaic import MosaicPanel

TIPS = {
    "conv": ("{name}: each tile is one filter's output ('feature map') BEFORE the ReLU: the filter's\n"
             "3×3 kernel slid over the previous layer, multiply element-wise, sum, add the bias.\n"
             "Red = positive (the pattern is there), blue = negative. Click a cell to see the sum."),
    "relu": ("{name}: the same maps after ReLU = max(0, x): negative responses become 0 (neutral).\n"
             "With 'pool winners' on, dark cells are the ones the next max-pool keeps."),
    "pool": ("{name}: 2×2 max-pool: each cell keeps the largest of 4 neighbours, halving the map.\n"
             "Small shifts of the drawing change little here. Click a cell to see its window."),
    "dense": ("{name}: the fully connected hidden layer (after ReLU), one cell per unit, laid out\n"
              "as a grid only to fit. Each unit looks at ALL the pooled maps at once."),
}


def grid_shape(n: int) -> tuple[int, int]:
    """n dense units -> (rows, cols) of a wide strip (64 -> 4×16)."""
    rows = max((r for r in range(1, int(np.sqrt(n)) + 1) if n % r == 0 and r <= max(np.sqrt(n) / 2, 1)),
               default=1)
    return rows, n // rows


def columns_for(c: int, h: int) -> int:
    """Tiles per row: up to 8 (two rows of 8 for 16 maps of 14×14); tiny maps in one row."""
    return c if c <= 8 or h < 14 else 8


def fit_heights(panels: list[MosaicPanel], width: int, cap: int = 70, title: int = 22) -> None:
    """Give each panel the height its mosaic needs at ``width`` (no letterboxing)."""
    for p in panels:
        dense = getattr(p, "dense", False)
        p.setFixedHeight(int(min(width / p.aspect, cap if dense else 10_000)) + title)


class LayerColumn(QtWidgets.QWidget):
    """Every stage's panel, stacked, each as tall as its mosaic needs at the column's width."""

    cell_clicked = QtCore.Signal(object, int, int, int)      # Stage, channel, row, col

    def __init__(self, stages: list[Stage], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.stages = stages
        self.panels: dict[str, MosaicPanel] = {}
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        for st in stages:
            if len(st.shape) == 3:
                c, h, w = st.shape
                panel = MosaicPanel(st.title, TIPS[st.kind].format(name=st.name), c, h, w, columns_for(c, h))
            else:
                rows, cols = grid_shape(int(np.prod(st.shape)))
                panel = MosaicPanel(st.title, TIPS["dense"].format(name=st.name), 1, rows, cols, 1)
                panel.dense = True  # type: ignore[attr-defined]
            panel.view.cell_clicked.connect(lambda ch, r, col, st=st: self.cell_clicked.emit(st, ch, r, col))
            self.panels[st.name] = panel
            lay.addWidget(panel)
        lay.addStretch(1)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        fit_heights(list(self.panels.values()), self.width() - 8)
        super().resizeEvent(ev)

    def show_frame(self, frame: DigitFrame | None, scope: str) -> dict[str, float | None]:
        """Feed every panel the frame's outputs (zeros when empty); returns the scale per stage."""
        scales: dict[str, float | None] = {}
        outs = {}
        for st in self.stages:
            y = np.zeros(st.shape, np.float32) if frame is None else frame.trace.outputs[st.index][0]
            outs[st.name] = y if len(st.shape) == 3 else y.reshape(1, *grid_shape(y.size))
        net = max((max_abs(y) for y in outs.values()), default=1.0) if scope == "network" else None
        for st in self.stages:
            data, m = normalise(outs[st.name], scope, net)
            panel = self.panels[st.name]
            panel.view.show_maps(np.ascontiguousarray(data, np.float32))
            panel.set_note("each map ÷ its own max |v|" if m is None else f"scale ±{fmt(m)}")
            scales[st.name] = m
        return scales


class KernelColumn(QtWidgets.QWidget):
    """The learned weights of every Conv2d layer: column = filter, row = input channel."""

    def __init__(self, model: object, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels: list[MosaicPanel] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        n_conv = 0
        for layer in model.layers:  # type: ignore[attr-defined]
            if layer.type_name != "Conv2d":
                continue
            n_conv += 1
            w = np.asarray(layer.params["weight"], np.float32)
            co, ci, k, _ = w.shape
            tiles = w.transpose(1, 0, 2, 3).reshape(ci * co, k, k)     # row = input ch, col = filter
            title = f"conv{n_conv} kernels · {co} filters × {ci} in-channel{'s' * (ci > 1)} × {k}×{k}"
            tip = (f"The learned weights of conv{n_conv}. Each column is one filter (one output map);\n"
                   f"each row is the slice of it that looks at one input channel. Red weights add\n"
                   f"where the input is bright, blue weights subtract.")
            panel = MosaicPanel(title, tip, ci * co, k, k, co)
            m = max_abs(w)
            panel.view.show_maps(tiles / m)
            panel.set_note(f"±{fmt(m)}")
            lay.addWidget(panel)
            self.panels.append(panel)
        lay.addStretch(1)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        fit_heights(self.panels, self.width() - 8)
        super().resizeEvent(ev)
