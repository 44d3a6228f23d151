"""LayerColumn: one MosaicPanel per layer output (conv, ReLU, pool, dense); KernelColumn.

Built once from ``session.stages``; ``show_view(view)`` feeds a DigitView's stage maps (one
setImage per panel), already divided by the colour scope's scale in the session.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.digit_view import DigitView, build_view, grid_shape, max_abs
from explorer.session.digits import Stage
from explorer.ui.widgets.colors import fmt
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


def columns_for(c: int, h: int) -> int:
    """Tiles per row: up to 8 (two rows of 8 for 16 maps of 14×14); tiny maps in one row."""
    return c if c <= 8 or h < 14 else 8


def fit_heights(panels: list[MosaicPanel], width: int, cap: int = 70, title: int = 22) -> None:
    """Give each panel the height its mosaic needs at ``width`` (no letterboxing)."""
    for p in panels:
        dense = getattr(p, "dense", False)
        p.setFixedHeight(int(min(width / p.aspect, cap if dense else 10_000)) + title)


def fitted_width(panels: list[MosaicPanel], width: int, room: int | None, spacing: int = 4,
                 cap: int = 70, title: int = 22, least: int = 120) -> int:
    """The widest mosaic width <= ``width`` at which every panel fits ``room`` px of height
    (never under ``least``: a deeper network then scrolls)."""
    if room is None or not panels:
        return width

    def total(w: float) -> float:
        return sum(min(w / p.aspect, cap if getattr(p, "dense", False) else 10_000) + title + spacing for p in panels)

    if total(width) <= room:
        return width
    lo, hi = float(least), float(width)
    for _ in range(20):                     # total() grows with w: bisect for the widest that fits
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) <= room else (lo, mid)
    return int(lo)


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
            panel.view.cell_clicked.connect(lambda ch, r, col, st=st: self.cell_clicked.emit(st, ch, r, col))
            self.panels[st.name] = panel
            lay.addWidget(panel)
        lay.addStretch(1)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        self._fit()
        super().resizeEvent(ev)

    def _fit(self) -> None:
        # the maps shrink until every layer fits the height it is shown in (a scroll area's
        # viewport: the column is never taller than the window unless the network is deep)
        panels = list(self.panels.values())
        parent, lay = self.parentWidget(), self.layout()
        assert lay is not None                   # built in __init__
        room = parent.height() if parent is not None else None
        fit_heights(panels, fitted_width(panels, self.width() - 8, room, lay.spacing()))

    def event(self, ev: QtCore.QEvent) -> bool:
        parent = self.parentWidget()
        if ev.type() == QtCore.QEvent.Type.ParentChange and parent is not None:
            parent.installEventFilter(self)       # its height changes alone, too
        return super().event(ev)

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if obj is self.parentWidget() and ev.type() == QtCore.QEvent.Type.Resize:
            self._fit()
        return False

    def show_view(self, view: DigitView) -> None:
        """Feed every panel its StageView: maps in [-1, 1], the scale note, pool-winner mask."""
        for sv in view.stages:
            panel = self.panels[sv.stage.name]
            panel.view.show_maps(sv.maps)
            panel.set_note(sv.note)
            panel.view.show_mask(sv.winners)


def show_kernels(panel: MosaicPanel, w: np.ndarray) -> None:
    """A Conv2d weight (C_out, C_in, k, k) into its panel: row = input channel, column = filter,
    scaled by the largest |weight| (shown as the panel's note)."""
    co, ci, k, _ = w.shape
    m = max_abs(w)
    panel.view.show_maps(w.transpose(1, 0, 2, 3).reshape(ci * co, k, k) / m)
    panel.set_note(f"±{fmt(m)}")


class KernelColumn(QtWidgets.QWidget):
    """The learned weights of every Conv2d layer: column = filter, row = input channel."""

    def __init__(self, model: Model, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.panels: list[MosaicPanel] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        n_conv = 0
        for layer in model.layers:
            if layer.type_name != "Conv2d":
                continue
            n_conv += 1
            w = np.asarray(layer.params["weight"], np.float32)
            co, ci, k, _ = w.shape
            title = f"conv{n_conv} kernels · {co} filters × {ci} in-channel{'s' * (ci > 1)} × {k}×{k}"
            tip = (f"The learned weights of conv{n_conv}. Each column is one filter (one output map);\n"
                   f"each row is the slice of it that looks at one input channel. Red weights add\n"
                   f"where the input is bright, blue weights subtract.")
            panel = MosaicPanel(title, tip, ci * co, k, k, co)
            show_kernels(panel, w)
            lay.addWidget(panel)
            self.panels.append(panel)
        lay.addStretch(1)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt)
        fit_heights(self.panels, self.width() - 8)
        super().resizeEvent(ev)


def demo() -> QtWidgets.QWidget:
    """Every layer's maps for the demo '7' (per-layer colour scale), beside the learned kernels."""
    from explorer.ui.digit.demo import demo_session
    session = demo_session()
    layers, kernels = LayerColumn(session.stages), KernelColumn(session.model)
    layers.show_view(build_view(session))
    box = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(box)
    row.addWidget(layers, 3)
    row.addWidget(kernels, 2)
    box.resize(1000, 800)
    return box


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
