"""InspectorPanel: where a number came from — a conv sum written out, or a max-pool window.

The numbers come from ``DigitSession.explain_conv_cell`` / ``explain_pool_cell`` (computed
from the model's parameters and the trace, float64) and are shown next to the engine's own
output for that cell, so the two can be compared.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.analysis.cnn_explain import ConvExplanation, PoolExplanation
from explorer.ui.widgets.colors import qcolor


def num(v: float, decimals: int = 3) -> str:
    """Integers plainly, other values with ``decimals`` decimals (no '-0.00')."""
    v = float(v) + 0.0                     # -0.0 -> 0.0
    if v.is_integer() and abs(v) < 1e6:
        return f"{v:.0f}"
    text = f"{v:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


class NumberGrid(QtWidgets.QWidget):
    """A k×k table of numbers on diverging colours (scaled by the grid's max |v|)."""

    def __init__(self, cell: int = 40, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.zeros((1, 1))
        self.cell = cell
        self.highlight: tuple[int, int] | None = None
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)

    def set_values(self, values: np.ndarray, highlight: tuple[int, int] | None = None) -> None:
        self.values = np.asarray(values, np.float64)
        self.highlight = highlight
        self.setFixedSize(self.sizeHint())
        self.update()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt)
        h, w = self.values.shape
        return QtCore.QSize(w * self.cell + 1, h * self.cell + 1)

    def paintEvent(self, ev: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt)
        p = QtGui.QPainter(self)
        m = max(float(np.abs(self.values).max()), 1e-12)
        f = p.font()
        f.setPointSizeF(max(f.pointSizeF() * 0.85, 7.0))
        p.setFont(f)
        for (r, c), v in np.ndenumerate(self.values):
            rect = QtCore.QRectF(c * self.cell, r * self.cell, self.cell, self.cell)
            p.fillRect(rect, qcolor(v / m))
            p.setPen(QtGui.QColor(255, 255, 255) if abs(v / m) > 0.65 else QtGui.QColor(20, 20, 20))
            p.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, num(v, 2))
            p.setPen(QtGui.QColor(150, 150, 150))
            p.drawRect(rect)
        if self.highlight is not None:
            r, c = self.highlight
            p.setPen(QtGui.QPen(QtGui.QColor(255, 150, 0), 3))
            p.drawRect(QtCore.QRectF(c * self.cell + 1.5, r * self.cell + 1.5, self.cell - 3, self.cell - 3))
        p.end()


def _label(text: str, big: bool = False) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    lab.setTextFormat(QtCore.Qt.TextFormat.RichText)
    if big:
        f = lab.font()
        f.setPointSizeF(f.pointSizeF() * 1.35)
        lab.setFont(f)
    return lab


class InspectorPanel(QtWidgets.QFrame):
    """Shows one ConvExplanation or PoolExplanation; buttons load the worked examples."""

    worked_conv_requested = QtCore.Signal()
    worked_pool_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.explanation: ConvExplanation | PoolExplanation | None = None
        self.heading = _label("<b>inspector</b> · ask any number where it came from")
        self.subtitle = _label("Click a cell of a conv or pool map, or try a worked example.")
        self.subtitle.setWordWrap(True)
        self.result = _label("", big=True)
        self.result.setObjectName("inspectorResult")
        self.result.setWordWrap(True)
        self.check = _label("")
        self.body = QtWidgets.QWidget()
        self.grid = QtWidgets.QGridLayout(self.body)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(6)
        self.grid.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)
        self.conv_button = QtWidgets.QPushButton("Worked example: convolution")
        self.pool_button = QtWidgets.QPushButton("Worked example: max-pool")
        self.conv_button.clicked.connect(self.worked_conv_requested)
        self.pool_button.clicked.connect(self.worked_pool_requested)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.conv_button)
        buttons.addWidget(self.pool_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 6)
        for w in (self.heading, self.subtitle):
            lay.addWidget(w)
        lay.addWidget(scroll, 1)
        lay.addWidget(self.result)
        lay.addWidget(self.check)
        lay.addLayout(buttons)
        self._rows: list[tuple[QtWidgets.QWidget, ...]] = []
        self.setToolTip("A convolution output is a sum: multiply the input patch by the kernel\n"
                        "element-wise, add everything up, add the bias; ReLU then clips at 0.")

    def _ensure_rows(self, n: int, kind: str) -> None:
        if len(self._rows) == n and getattr(self, "_kind", None) == kind:
            return
        while self.grid.count():
            item = self.grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)
                w.deleteLater()
        self._rows, self._kind = [], kind
        heads = ["", "input patch", "", "kernel", "", "products", ""] if kind == "conv" else ["window"]
        for col, h in enumerate(heads):
            if h:
                self.grid.addWidget(_label(f"<i>{h}</i>"), 0, col)
        for i in range(n):
            row: tuple[QtWidgets.QWidget, ...]
            if kind == "conv":
                row = (_label(""), NumberGrid(), _label("⊙", True), NumberGrid(), _label("=", True),
                       NumberGrid())
            else:
                row = (NumberGrid(56), )
            for col, w in enumerate(row):
                self.grid.addWidget(w, i + 1, col, QtCore.Qt.AlignmentFlag.AlignVCenter)
            self._rows.append(row)

    def show_conv(self, ex: ConvExplanation, title: str) -> None:
        """Write out the convolution: patch ⊙ kernel = products, per input channel, then the sum."""
        self.explanation = ex
        n = ex.patch.shape[0]
        cell = 40 if n == 1 else 33
        self._ensure_rows(n, "conv")
        for i, row in enumerate(self._rows):
            head = cast(QtWidgets.QLabel, row[0])        # a conv row: label, grid, ⊙, grid, =, grid
            head.setText(f"in {i}<br>Σ&nbsp;<b>{num(ex.channel_sums[i])}</b>" if n > 1 else "")
            grids = cast(tuple[NumberGrid, NumberGrid, NumberGrid], (row[1], row[3], row[5]))
            for g, v in zip(grids, (ex.patch[i], ex.kernel[i], ex.products[i])):
                g.cell = cell
                g.set_values(v)
        self.subtitle.setText(title)
        self.result.setText(
            f"Σ products = {num(ex.total)} &nbsp;+&nbsp; bias {num(ex.bias)} &nbsp;=&nbsp; "
            f"<b>{num(ex.pre)}</b> &nbsp;→ ReLU → <b style='color:#c82828'>{num(ex.post)}</b>")
        self._engine_check(ex.pre, ex.engine)

    def show_pool(self, ex: PoolExplanation, title: str) -> None:
        """The max-pool window with its winner outlined, and the max."""
        self.explanation = ex
        self._ensure_rows(1, "pool")
        cast(NumberGrid, self._rows[0][0]).set_values(ex.window, ex.winner)
        self.subtitle.setText(title)
        r, c = ex.winner
        self.result.setText(f"max of the window = <b style='color:#c82828'>{num(ex.value)}</b>"
                            f" &nbsp;(winner at row {r}, column {c})")
        self._engine_check(ex.value, ex.engine)

    def _engine_check(self, mine: float, engine: float | None) -> None:
        if engine is None:
            self.check.setText("<span style='color:#666'>worked example (not from the network)</span>")
            return
        diff = abs(mine - engine)
        ok = diff <= 1e-4 * max(1.0, abs(engine))
        mark = "<span style='color:#1a8a3a'>✓ equal</span>" if ok else "<span style='color:#c00'>✗ differs</span>"
        self.check.setText(f"engine's output for this cell: <b>{engine:.6f}</b> &nbsp;{mark}"
                           f" <span style='color:#888'>(|Δ| = {diff:.1e}, float32 rounding)</span>")

    def clear(self) -> None:
        self.explanation = None
        self._ensure_rows(0, "none")
        self.subtitle.setText("Click a cell of a conv or pool map, or try a worked example.")
        self.result.setText("")
        self.check.setText("")


def demo() -> InspectorPanel:
    """The sum behind one conv1 cell of the demo '7' (on its stroke), from the model's weights."""
    from explorer.ui.digit.demo import demo_session
    session = demo_session()
    frame = session.compute()
    panel = InspectorPanel()
    if frame is not None:
        r, c = (int(v) for v in np.argwhere(frame.x[0, 0] > 0.5)[0])
        panel.show_conv(session.explain_conv_cell(frame, 0, 1, r, c), f"conv1 · map 1, row {r}, column {c}")
    panel.resize(460, 520)
    return panel


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
