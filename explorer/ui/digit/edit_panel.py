"""EditPanel: switch channels off, scale them, edit a 3x3 kernel — on a working copy of the model.

Every edit goes through the session (``set_channel_scale`` / ``set_kernel`` /
``reset_edits``), which rebuilds its working model; the lab then repaints everything and
shows the unedited network's answer as dashed ghost bars. ``mark_tiles`` crosses out
switched-off channels (and outlines scaled / re-kerneled ones) on any mosaic.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from explorer.engine import Model
from explorer.session.digits import DigitSession
from explorer.ui.widgets.mosaic import MosaicView

OFF = (200, 30, 30)
SCALED = (130, 60, 200)     # purple: not the orange of the inspector's selection


def editable_layers(model: Model) -> list[tuple[int, str, int]]:
    """(state-dict index, label, channels) of every Conv2d / Linear except the output layer."""
    out = []
    layers = model.layers
    for i, layer in enumerate(layers[:-1]):
        if layer.type_name in ("Conv2d", "Linear"):
            n = int(layer.params["weight"].shape[0])
            unit = "channel" if layer.type_name == "Conv2d" else "unit"
            out.append((i, f"{i} · {layer.type_name} ({n} {unit}s)", n))
    return out


def mark_tiles(view: MosaicView, marks: dict[int, str]) -> None:
    """Cross out tiles marked "off", outline the others (scaled, re-kerneled), on a mosaic."""
    view.mark_tiles([c for c, mark in marks.items() if mark == "off"],
                    [c for c, mark in marks.items() if mark != "off"],
                    pg.mkPen(OFF, width=2.5, cosmetic=True),
                    pg.mkPen(SCALED, width=2.5, cosmetic=True, style=QtCore.Qt.PenStyle.DashLine))


class EditPanel(QtWidgets.QFrame):
    """Controls for one channel (scale 0-2, off) and one kernel slice (3x3 spin boxes)."""

    edited = QtCore.Signal()

    def __init__(self, session: DigitSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.session = session
        self._quiet = False
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.setToolTip("Which layer (its state-dict index, as in `classify --ablate L:C`)")
        self.channel = QtWidgets.QSpinBox()
        self.channel.setToolTip("Which output channel (conv) or unit (dense) of that layer")
        self.scale = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.scale.setRange(0, 200)
        self.scale.setValue(100)
        self.scale.setToolTip("Multiply the channel's weights and bias (so its output) by 0…2; 0 switches it off")
        self.scale_label = QtWidgets.QLabel("×1.00")
        self.off_button = QtWidgets.QPushButton("Switch off")
        self.off_button.setToolTip("Set this channel's output to 0 (its weights and bias times 0)")
        self.reset_button = QtWidgets.QPushButton("Reset all edits")
        self.reset_button.setObjectName("resetEdits")
        self.reset_button.setToolTip("Back to the network as loaded: every output bit for bit as before")
        self.summary = QtWidgets.QLabel("no edits")
        self.summary.setWordWrap(True)
        self.in_channel = QtWidgets.QSpinBox()
        self.in_channel.setToolTip("Which input channel's 3×3 slice of the kernel to edit")
        self.cells: list[QtWidgets.QDoubleSpinBox] = []
        grid = QtWidgets.QGridLayout()
        for r in range(3):
            for c in range(3):
                box = QtWidgets.QDoubleSpinBox(minimum=-5.0, maximum=5.0, singleStep=0.05, decimals=3)
                box.setKeyboardTracking(False)
                box.setToolTip("A kernel weight: type a value, or drag with the mouse wheel / arrow keys")
                box.valueChanged.connect(self._on_kernel_cell)
                grid.addWidget(box, r, c)
                self.cells.append(box)
        self.kernel_title = QtWidgets.QLabel()
        form = QtWidgets.QGridLayout()
        form.addWidget(QtWidgets.QLabel("layer"), 0, 0)
        form.addWidget(self.layer_box, 0, 1, 1, 3)
        form.addWidget(QtWidgets.QLabel("channel"), 1, 0)
        form.addWidget(self.channel, 1, 1)
        form.addWidget(self.off_button, 1, 2, 1, 2)
        form.addWidget(QtWidgets.QLabel("scale"), 2, 0)
        form.addWidget(self.scale, 2, 1, 1, 2)
        form.addWidget(self.scale_label, 2, 3)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(QtWidgets.QLabel("<b>edit the network</b> · on a working copy, never the model file"))
        hint = QtWidgets.QLabel("Click a learned kernel to switch its channel off (again: on); shift-click to "
                                "pick it here and scale it. Dashed bars in the prediction: the unedited network.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        lay.addWidget(hint)
        lay.addLayout(form)
        krow = QtWidgets.QHBoxLayout()
        krow.addWidget(self.kernel_title)
        krow.addWidget(QtWidgets.QLabel("input channel"))
        krow.addWidget(self.in_channel)
        krow.addStretch(1)
        lay.addLayout(krow)
        lay.addLayout(grid)
        lay.addWidget(self.summary)
        lay.addWidget(self.reset_button)
        lay.addStretch(1)
        self.layer_box.currentIndexChanged.connect(self._on_layer)
        self.channel.valueChanged.connect(self._sync)
        self.in_channel.valueChanged.connect(self._sync)
        self.scale.valueChanged.connect(self._on_scale)
        self.off_button.clicked.connect(lambda: self.scale.setValue(0))
        self.reset_button.clicked.connect(self.reset_all)
        self.set_model(session.model)

    # -- public ------------------------------------------------------------------------
    def set_model(self, model: Model) -> None:
        self._layers = editable_layers(model)
        self._quiet = True
        self.layer_box.clear()
        for _i, label, _n in self._layers:
            self.layer_box.addItem(label)
        self._quiet = False
        self._on_layer()

    def select(self, layer: int, channel: int, in_channel: int | None = None) -> None:
        """Show (and edit) ``layer``'s channel ``channel`` here."""
        rows = [i for i, _, _ in self._layers]
        if layer not in rows:
            return
        self.layer_box.setCurrentIndex(rows.index(layer))
        self.channel.setValue(channel)
        if in_channel is not None:
            self.in_channel.setValue(in_channel)
        self._sync()

    def toggle(self, layer: int, channel: int) -> None:
        """Switch a channel off, or back to as learned if it is off."""
        edits = self.session.edits
        scale = 1.0 if edits.scales.get((layer, channel), 1.0) == 0.0 else 0.0
        self.session.set_channel_scale(layer, channel, scale)
        self.select(layer, channel)
        self.edited.emit()

    def reset_all(self) -> None:
        self.session.reset_edits()
        self._sync()
        self.edited.emit()

    def set_kernel_value(self, row: int, col: int, value: float) -> None:
        self.cells[row * 3 + col].setValue(value)

    # -- handlers ----------------------------------------------------------------------
    def _current(self) -> tuple[int, int] | None:
        i = self.layer_box.currentIndex()
        if i < 0 or i >= len(self._layers):
            return None
        return self._layers[i][0], self.channel.value()

    def _on_layer(self) -> None:
        if self._quiet or self._current() is None:
            return
        i = self.layer_box.currentIndex()
        layer, _, n = self._layers[i]
        self.channel.setMaximum(n - 1)
        w = self.session.unedited_model.layers[layer].params["weight"]
        is_conv = w.ndim == 4 and w.shape[2:] == (3, 3)
        self.in_channel.setMaximum(w.shape[1] - 1 if is_conv else 0)
        for box in self.cells + [self.in_channel]:
            box.setEnabled(is_conv)
        self._sync()

    def _sync(self) -> None:
        """Controls <- the session's edits (no edit is made)."""
        cur = self._current()
        if cur is None or self._quiet:
            return
        self._quiet = True
        edits = self.session.edits
        s = edits.scales.get(cur, 1.0)
        self.scale.setValue(int(round(s * 100)))
        self.scale_label.setText(f"×{s:.2f}")
        layer, ch = cur
        w = self.session.unedited_model.layers[layer].params["weight"]
        if w.ndim == 4 and w.shape[2:] == (3, 3):
            k = edits.kernel(layer, ch, self.in_channel.value())
            for box, v, learned in zip(self.cells, k.ravel(), w[ch, self.in_channel.value()].ravel()):
                box.setValue(float(v))
                box.setToolTip(f"kernel weight; learned value {float(learned):.4f}")
            self.kernel_title.setText(f"<b>kernel {layer}:{ch}</b>")
        else:
            self.kernel_title.setText("<i>(dense unit: no 3×3 kernel)</i>")
        self.summary.setText("edits: " + edits.describe())
        self._quiet = False

    def _on_scale(self, v: int) -> None:
        self.scale_label.setText(f"×{v / 100:.2f}")
        cur = self._current()
        if self._quiet or cur is None:
            return
        self.session.set_channel_scale(cur[0], cur[1], v / 100.0)
        self._sync()
        self.edited.emit()

    def _on_kernel_cell(self, _v: float) -> None:
        cur = self._current()
        if self._quiet or cur is None:
            return
        k = np.array([box.value() for box in self.cells], np.float64).reshape(3, 3)
        layer, ch = cur
        learned = np.asarray(self.session.unedited_model.layers[layer].params["weight"][ch, self.in_channel.value()])
        same = np.abs(k - learned) < 5e-4                 # untouched boxes keep the learned float exactly
        k = np.where(same, learned, k)
        self.session.set_kernel(layer, ch, self.in_channel.value(), k)
        self._sync()
        self.edited.emit()


def demo() -> EditPanel:
    """The edit panel on the demo session (switch channels off, scale them, edit a kernel)."""
    from explorer.ui.digit.demo import demo_session
    return EditPanel(demo_session())


if __name__ == "__main__":
    from explorer.ui.digit.demo import run
    raise SystemExit(run(demo))
