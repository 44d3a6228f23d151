"""The Digit Lab's experiments: edits on a working copy, sweep, dream, replay, evidence, order.

``DigitExperiments(session, ...)`` builds the panels and wires them; it knows no lab: what it
needs of the lab comes in as callables and the layer / kernel columns (``attach``), what it
changes goes out as signals (the lab re-renders and says it in the status):
- the edit panel has its own tab beside the inspector (a kernel's 3x3 values are editable
  there and show up in the inspector's sum); clicking a learned kernel, or double-clicking a feature
  map, switches its channel off (again: back on), shift-click picks it for scaling; edited channels are crossed out /
  outlined on the kernels and on every map of that channel; the prediction shows the
  unedited network's answer as dashed ghost bars;
- an "experiments" tab holds the sweep, dream, replay and evidence panels (each runs its
  work in a QThread).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6 import QtCore, QtWidgets

from explorer.data.preprocess import resize
from explorer.engine import Model
from explorer.session.drawing import REF
from explorer.ui.digit.dream_panel import DreamPanel
from explorer.ui.digit.edit_panel import EditPanel, mark_tiles
from explorer.ui.digit.evidence import EvidencePanel
from explorer.ui.digit.feature_maps import show_kernels
from explorer.ui.digit.order_panel import OrderPanel
from explorer.ui.digit.replay import ReplayPanel
from explorer.ui.digit.sweep_panel import SweepPanel
from explorer.ui.help.experiments import PAGES as HELP

if TYPE_CHECKING:
    from collections.abc import Callable

    from explorer.session.digit_view import DigitView
    from explorer.session.digits import DigitSession
    from explorer.ui.digit.feature_maps import KernelColumn, LayerColumn


def conv_indices(model: Model) -> list[int]:
    return [i for i, layer in enumerate(model.layers) if layer.type_name == "Conv2d"]


def ink_to_canvas(ink: np.ndarray) -> np.ndarray:
    """(28, 28) ink in [0, 1] -> (REF, REF) background for the canvas (smoothly enlarged)."""
    return np.clip(resize(np.asarray(ink, np.float32), REF, REF), 0.0, 1.0).astype(np.float32)


class DigitExperiments(QtCore.QObject):
    """Owns the experiment panels of one Digit Lab; ``render(view)`` after every lab render.

    ``current_input()``: the network input now ((28, 28) or None); ``pen_model()``: the pen
    model reading the drawing; ``pen_width()``: the canvas's pen, for strokes put on it.
    """

    edited = QtCore.Signal(str)              # the edits changed: their description
    drawing_replaced = QtCore.Signal(str)    # a version of the drawing or an image is on the canvas: what
    kernel_picked = QtCore.Signal()          # a kernel was picked for editing: show the edit panel

    def __init__(self, session: DigitSession, current_input: Callable[[], np.ndarray | None],
                 pen_model: Callable[[], Model], pen_width: Callable[[], float],
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.current_input = current_input
        self._pen_model, self._pen_width = pen_model, pen_width
        self._marked: tuple[Any, ...] | None = None
        self.layers: LayerColumn | None = None
        self.kernels: KernelColumn | None = None
        self.edit_panel = EditPanel(session)
        self.sweep = SweepPanel()
        self.dream = DreamPanel(session.model)
        self.replay = ReplayPanel()
        self.evidence = EvidencePanel()
        self.order = OrderPanel()                                  # both readers: stroke order, moves, thickness
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("experimentTabs")
        self.tabs.addTab(self.sweep, "sweep")
        self.tabs.addTab(self.dream, "dream")
        self.tabs.addTab(self.replay, "replay")
        self.tabs.addTab(self.evidence, "evidence")
        self.tabs.addTab(self.order, "order")
        self.tabs.setTabToolTip(self.tabs.count() - 1, "Stroke order: both readers on the drawing reversed, "
                                "reordered, with a stroke left out, moved, scaled and thickened")
        # a small "?" in the tab bar's corner: a wide button there hid the last tabs in a narrow column
        self.help_button = QtWidgets.QToolButton()
        self.help_button.setText("?")
        self.help_button.setObjectName("howToRead")
        self.help_button.setAccessibleName("How to read this")
        self.help_button.setToolTip("How to read this: what this view shows and how to read it")
        self.help_button.clicked.connect(self.show_help)
        self.tabs.setCornerWidget(self.help_button)
        self.edit_panel.edited.connect(self._on_edited)
        self.sweep.run_button.clicked.connect(self.run_sweep)
        self.dream.run_button.clicked.connect(self.run_dream)
        self.dream.draw_requested.connect(self.put_on_canvas)
        self.replay.compute_button.clicked.connect(lambda: self.replay.compute(session))
        self.evidence.load_button.clicked.connect(lambda: self.evidence.load(session.model))
        self.evidence.load_image.connect(self.put_on_canvas)
        self.order.order_requested.connect(lambda: self.order.show_order(*self._both_readers()))
        self.order.sweep_requested.connect(lambda: self.order.show_sweep(*self._both_readers()))
        self.order.variant_chosen.connect(self.put_strokes)

    # -- wiring that follows the model ---------------------------------------------------
    def attach(self, layers: LayerColumn, kernels: KernelColumn) -> None:
        """The lab's layer and kernel columns (at start, and rebuilt after a new architecture):
        clicks on them edit channels, and edited channels are marked on them."""
        session = self.session
        self.layers, self.kernels = layers, kernels
        self._marked = None
        layers.cell_clicked.connect(self._on_map_cell)
        for layer, panel in zip(conv_indices(session.model), kernels.panels):
            panel.view.cell_clicked.connect(partial(self._on_kernel_clicked, layer))
            panel.setToolTip(panel.toolTip() + "\n\nClick a kernel: switch its channel off (again: on).\n"
                             "Shift-click: pick it in the inspector's edit panel to scale or edit it.")
        for st in session.stages:
            if st.kind in ("conv", "relu", "pool"):
                panel = layers.panels[st.name]
                panel.view.cell_double_clicked.connect(partial(self._on_map_double_clicked, st))
                panel.setToolTip(panel.toolTip() + "\n\nDouble-click a map: switch its channel off (again: on).")
        self.edit_panel.set_model(session.model)
        self.dream.set_model(session.model)

    def _on_map_cell(self, stage: Any, channel: int, _row: int, _col: int) -> None:
        model = self.session.model
        conv = stage.index if stage.kind == "conv" else stage.index - 1
        if stage.kind in ("conv", "relu") and 0 <= conv < len(model.layers) and model.layers[conv].type_name == "Conv2d":
            self.edit_panel.select(conv, channel, 0)

    def _on_map_double_clicked(self, stage: Any, channel: int, _row: int, _col: int) -> None:
        """A double-click on a feature map switches its channel off (again: on)."""
        conv = stage.index - {"conv": 0, "relu": 1, "pool": 2}[stage.kind]
        if self.session.model.layers[conv].type_name == "Conv2d":
            self.edit_panel.toggle(conv, channel)

    def _on_kernel_clicked(self, layer: int, tile: int, _row: int, _col: int) -> None:
        w = self.session.model.layers[layer].params["weight"]
        c_out, c_in = tile % w.shape[0], tile // w.shape[0]
        shift = QtWidgets.QApplication.keyboardModifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier
        if shift:
            self.edit_panel.select(layer, c_out, c_in)
            self.kernel_picked.emit()
        else:
            self.edit_panel.toggle(layer, c_out)

    def _on_edited(self) -> None:
        self.edited.emit(f"edits: {self.session.edits.describe()}")

    # -- per render ------------------------------------------------------------------------
    def render(self, view: DigitView) -> None:
        """Mark the edited channels on the columns (only when an edit changed)."""
        session = self.session
        key = (id(session.model), id(self.kernels), id(self.layers), session.weights_version,
               session.edits.describe())
        if key != self._marked:                   # only when an edit changed: pen moves stay cheap
            self._marked = key
            self._mark(session)

    def _mark(self, session: DigitSession) -> None:
        edits = session.edits
        if self.layers is None or self.kernels is None:
            return
        for layer, panel in zip(conv_indices(session.model), self.kernels.panels):
            w = np.asarray(session.model.layers[layer].params["weight"], np.float32)
            co, ci = w.shape[:2]
            show_kernels(panel, w)
            marks = edits.edited_channels(layer)
            mark_tiles(panel.view, {c_in * co + c: v for c, v in marks.items() for c_in in range(ci)})
        for st in session.stages:
            if st.kind not in ("conv", "relu", "pool"):
                continue
            conv = st.index - {"conv": 0, "relu": 1, "pool": 2}[st.kind]
            maps = self.layers.panels.get(st.name)
            if maps is not None and conv >= 0:
                mark_tiles(maps.view, edits.edited_channels(conv))

    # -- actions ---------------------------------------------------------------------------
    def run_sweep(self) -> bool:
        model = self.session.model

        def probs(im: np.ndarray) -> np.ndarray:
            return np.asarray(model.trace(np.asarray(im, np.float32).reshape(1, 1, 28, 28)).probs, np.float32)
        return self.sweep.run(self.current_input(), probs)

    def run_dream(self) -> None:
        self.dream.run(self.session.model, self.current_input())

    def _both_readers(self) -> tuple[list[np.ndarray], Model, Model]:
        """The drawing's pen strokes, the CNN (with any edits) and the pen model."""
        session = self.session
        return [s.points for s in session.committed.strokes], session.model, self._pen_model()

    def put_strokes(self, strokes: list[np.ndarray]) -> None:
        """A version of the drawing (another stroke order, ...) becomes the drawing (undoable)."""
        from explorer.session.drawing import Stroke
        width = self._pen_width()
        self.session.set_strokes([Stroke(np.asarray(s, np.float32), width) for s in strokes])
        self.drawing_replaced.emit("that version of the drawing is on the canvas (undo brings yours back)")

    def put_on_canvas(self, ink: np.ndarray) -> None:
        """A 28x28 image (a dream, a held-out digit) becomes the canvas's background (undoable)."""
        self.session.set_background(ink_to_canvas(ink))
        self.drawing_replaced.emit("image put on the canvas (undo brings your drawing back)")

    def show_help(self) -> None:
        """The current view's "how to read this" section, in a non-modal box."""
        key = self.tabs.tabText(self.tabs.currentIndex())
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, f"How to read this — {key}",
                                    HELP.get(key, "") + HELP["edit"], QtWidgets.QMessageBox.StandardButton.Ok,
                                    self.tabs.window())
        box.setTextFormat(QtCore.Qt.TextFormat.RichText)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        self.help_box = box
        box.open()

    def stop(self) -> None:
        for panel in (self.sweep, self.replay, self.evidence):
            panel.stop()
        self.dream.shutdown()
