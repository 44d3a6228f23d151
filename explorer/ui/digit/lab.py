"""DigitLab: canvas, what the network sees, every layer live, prediction, inspector.

Per pen movement the canvas updates the session and ``LatestFrame`` is handed the
session's version; at most once per frame the lab computes (preprocess -> trace) and
feeds every panel. Stale frames are dropped, never queued.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.session.digits import (
    DigitFrame,
    DigitSession,
    Stage,
    canvas_transform,
    stages_of,
    worked_conv_example,
    worked_pool_example,
)
from explorer.ui.digit.canvas import DigitCanvas, load_ink
from explorer.ui.digit.experiments import DigitExperiments
from explorer.ui.digit.feature_maps import KernelColumn, LayerColumn
from explorer.ui.digit.inspector import InspectorPanel
from explorer.ui.digit.keep import KeepBar
from explorer.ui.widgets.colors import SCOPES, ScaleLegend, diverging, fmt, max_abs
from explorer.ui.widgets.export import grab_png, save_image, save_npz
from explorer.ui.widgets.fit import scrolled
from explorer.ui.widgets.latest import LatestFrame
from explorer.ui.widgets.mosaic import MosaicPanel
from explorer.ui.widgets.probabilities import ProbabilityPanel

GRAY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])


def _section(text: str) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(f"<b>{text}</b>")
    return lab


class DigitLab(QtWidgets.QWidget):
    """The Digits tab. ``probabilities()`` -> (10,) float32, or None while the canvas is empty."""

    status = QtCore.Signal(str)
    model_changed = QtCore.Signal()    # Lab protocol: model_label() has a new text
    _notice: str | None = None         # model_label(): a warning (e.g. untrained model)
    _source: str | None = None         # model_label(): where the model comes from

    def __init__(self, model: object, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = DigitSession(model)
        self.frame: DigitFrame | None = None
        self.scope = "layer"
        self.selection: tuple[Stage, int, int, int] | None = None
        self.last_error: str | None = None
        self._pending_splits: list[tuple[QtWidgets.QSplitter, QtCore.QByteArray]] = []
        self.canvas = DigitCanvas(self.session)
        self.scheduler = LatestFrame(self._render, fps=60, parent=self)
        self._make_actions()
        self._build()
        self.experiments = DigitExperiments(self)            # issue 13: edits, sweep, dream, replay, evidence
        self.canvas.drawing_changed.connect(self._on_drawing_changed)
        self.canvas.stroke_finished.connect(self._update_actions)
        self.canvas.image_dropped.connect(self.open_image)
        self.refresh_now()

    # -- construction ---------------------------------------------------------------
    def _action(self, text: str, slot, shortcut: str | QtGui.QKeySequence | None = None,
                checkable: bool = False, tip: str = "") -> QtGui.QAction:  # type: ignore[no-untyped-def]
        act = QtGui.QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
            act.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        act.setCheckable(checkable)
        act.setToolTip(tip or text)
        (act.toggled if checkable else act.triggered).connect(slot)
        self.addAction(act)
        return act

    def _make_actions(self) -> None:
        self.undo_action = self._action("Undo stroke", self.undo, QtGui.QKeySequence.StandardKey.Undo)
        self.redo_action = self._action("Redo stroke", self.redo, "Ctrl+Shift+Z")
        self.clear_action = self._action("Clear", self.clear, QtCore.Qt.Key.Key_Delete, tip="Clear the canvas (Delete)")
        self.eraser_action = self._action("Eraser", self._on_eraser, "E", True, "Eraser: cut strokes where it passes (E)")
        self.wider_action = self._action("Wider pen", lambda: self.set_pen_width(self.canvas.pen_width + 3), "]")
        self.narrower_action = self._action("Narrower pen", lambda: self.set_pen_width(self.canvas.pen_width - 3), "[")
        self.saliency_action = self._action("Saliency", self._on_saliency, "S", True,
                                            "Colour the pixels that push the top class up (red) or down (blue)")
        self.winners_action = self._action("Pool winners", self._on_winners, "W", True,
                                           "Darken, on each conv/ReLU map, the cells the next max-pool keeps")

    def _build(self) -> None:
        tools = QtWidgets.QToolBar()
        tools.setIconSize(QtCore.QSize(16, 16))
        for act in (self.undo_action, self.redo_action, self.clear_action, self.eraser_action):
            tools.addAction(act)
        self.pen_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.pen_slider.setRange(4, 40)
        self.pen_slider.setValue(int(self.canvas.pen_width))
        self.pen_slider.setToolTip("Pen width (on the canvas; the network always sees an MNIST-like pen)")
        self.pen_slider.valueChanged.connect(self.set_pen_width)
        pen_row = QtWidgets.QHBoxLayout()
        pen_row.addWidget(QtWidgets.QLabel("pen width"))
        pen_row.addWidget(self.pen_slider, 1)

        self.input_panel = MosaicPanel("network input", (
            "Your drawing preprocessed like MNIST: white ink on black, longer side 20 px,\n"
            "centre of mass at the centre of a 28×28 field. This is the network's input."),
            1, 28, 28, 1, GRAY, (0.0, 1.0))
        self.saliency_panel = MosaicPanel("saliency", (
            "Gradient of the top class's score (logit) with respect to each input pixel,\n"
            "from the engine's backward pass: red pixels push that class up, blue push it down."),
            1, 28, 28, 1, diverging())
        self.saliency_panel.setVisible(False)
        seen = QtWidgets.QHBoxLayout()
        seen.addWidget(self.input_panel)
        seen.addWidget(self.saliency_panel)

        self.legend = ScaleLegend()
        self.scope_box = QtWidgets.QComboBox()
        for key, text in SCOPES.items():
            self.scope_box.addItem(text, key)
        self.scope_box.setCurrentIndex(list(SCOPES).index(self.scope))
        self.scope_box.setToolTip("Divide values by the largest |value| of each map, each layer, or the whole network")
        self.scope_box.currentIndexChanged.connect(lambda _: self.set_scope(self.scope_box.currentData()))
        scale_row = QtWidgets.QHBoxLayout()
        scale_row.addWidget(QtWidgets.QLabel("colour scale"))
        scale_row.addWidget(self.scope_box)
        toggles = QtWidgets.QHBoxLayout()
        for act in (self.saliency_action, self.winners_action):
            box = QtWidgets.QCheckBox(act.text())
            box.setToolTip(act.toolTip())
            box.toggled.connect(act.setChecked)
            act.toggled.connect(box.setChecked)
            toggles.addWidget(box)
        toggles.addStretch(1)

        left = self.left = QtWidgets.QWidget()
        left.installEventFilter(self)
        lv = QtWidgets.QVBoxLayout(left)
        lv.setContentsMargins(4, 4, 4, 4)
        lv.addWidget(tools)
        lv.addWidget(self.canvas)
        lv.addLayout(pen_row)
        # -- my examples (issue 12): keep the drawing as an example, the gallery --
        self.keeper = KeepBar(self.session)
        self.keeper.status.connect(self.status)
        self.keeper.gallery_requested.connect(self.show_gallery)
        self.gallery = None
        self.canvas.setFocusPolicy(QtCore.Qt.FocusPolicy.ClickFocus)   # so digit keys reach the lab
        lv.addWidget(self.keeper)
        lv.addLayout(seen, 1)
        lv.addLayout(scale_row)
        lv.addWidget(self.legend)
        lv.addLayout(toggles)

        self.layers = LayerColumn(self.session.stages)
        self.layers.cell_clicked.connect(self.inspect)
        self.kernels = KernelColumn(self.session.model)
        self.layer_scroll = QtWidgets.QScrollArea()
        self.layer_scroll.setWidgetResizable(True)
        self.layer_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.layer_scroll.setWidget(self.layers)

        self.prob_panel = ProbabilityPanel()
        self.inspector = InspectorPanel()
        self.inspector.worked_conv_requested.connect(self.show_worked_conv)
        self.inspector.worked_pool_requested.connect(self.show_worked_pool)
        self.right_tabs = QtWidgets.QTabWidget()
        self.right_tabs.addTab(self.inspector, "inspector")
        self.right_tabs.addTab(scrolled(self.kernels), "learned kernels")   # scrolls: fits 1024×640
        self.right_splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.right_splitter.addWidget(self.prob_panel)
        self.right_splitter.addWidget(self.right_tabs)
        self.right_splitter.setStretchFactor(1, 2)
        self.right_splitter.setSizes([290, 570])

        self.splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        for w in (left, self.layer_scroll, self.right_splitter):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 1)     # a narrower window shrinks the maps and the right column alike
        self.splitter.setSizes([350, 570, 480])
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)
        self._update_actions()

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if obj is self.left and ev.type() == QtCore.QEvent.Type.Resize:
            # a ceiling, not a fixed height: a fixed one kept the window from getting smaller (issue 15)
            self.canvas.setMaximumHeight(max(200, int(min(self.left.width() - 8, self.left.height() * 0.58))))
        return False

    # -- public API ---------------------------------------------------------------------
    def probabilities(self) -> np.ndarray | None:
        """The current 10 class probabilities (10,) float32; None while the canvas is empty.

        Renders a pending frame first, so the answer always matches the drawing.
        """
        self.scheduler.flush()
        return None if self.frame is None else self.frame.probs.copy()

    def panels(self) -> dict[str, QtWidgets.QWidget]:
        """Exportable panels by title."""
        out: dict[str, QtWidgets.QWidget] = {"canvas": self.canvas,
                                             "network input": self.input_panel,
                                             "prediction": self.prob_panel, "inspector": self.inspector}
        for st in self.session.stages:
            out[st.title] = self.layers.panels[st.name]
        for p in self.kernels.panels:
            out[p.title.text().replace("<b>", "").replace("</b>", "")] = p
        return out

    def set_model(self, model: object) -> None:
        """Swap the network; the drawing stays. Panels are rebuilt for the new architecture."""
        self.session.reset_edits()                           # issue 13: edits belonged to the old model
        self.session.model = model
        model.eval()  # type: ignore[attr-defined]
        self.session.stages = stages_of(model)
        self.layer_scroll.takeWidget().deleteLater()
        self.layers = LayerColumn(self.session.stages)
        self.layers.cell_clicked.connect(self.inspect)
        self.layer_scroll.setWidget(self.layers)
        old = self.right_tabs.widget(1)                 # the kernels' scroll area
        self.right_tabs.removeTab(1)
        old.deleteLater()
        self.kernels = KernelColumn(model)
        self.right_tabs.insertTab(1, scrolled(self.kernels), "learned kernels")
        self.experiments.on_model_changed()                   # issue 13
        self.selection = None
        self.inspector.clear()
        self.refresh_now()
        self.describe_model()

    def set_pen_width(self, width: float) -> None:
        width = float(np.clip(width, 4, 40))
        self.canvas.pen_width = width
        if self.pen_slider.value() != int(width):
            self.pen_slider.setValue(int(width))

    def set_scope(self, scope: str) -> None:
        if scope not in SCOPES:
            return
        self.scope = scope
        i = list(SCOPES).index(scope)
        if self.scope_box.currentIndex() != i:
            self.scope_box.setCurrentIndex(i)
        self.refresh_now()

    def undo(self) -> None:
        if self.session.undo():
            self._drawing_replaced()

    def redo(self) -> None:
        if self.session.redo():
            self._drawing_replaced()

    def clear(self) -> None:
        self.session.clear()
        self._drawing_replaced()

    def open_image(self, path: str | os.PathLike[str]) -> bool:
        """Replace the drawing with an image file (undoable). Bad file: message, drawing unchanged."""
        try:
            ink = load_ink(path)
        except (ValueError, OSError) as exc:
            self.show_error("Could not open the image", str(exc))
            return False
        self.session.set_background(ink)
        self._drawing_replaced()
        self.status.emit(f"opened {Path(path).name}")
        return True

    def save_drawing_png(self, path: str | os.PathLike[str], side: int = 280) -> Path:
        return save_image(self.canvas.to_image(side), path)

    def export_panel(self, title: str, path: str | os.PathLike[str]) -> Path:
        return grab_png(self.panels()[title], path)

    def export_activations(self, path: str | os.PathLike[str]) -> Path | None:
        """Every layer output of the current drawing to .npz; None (and a message) when empty."""
        self.scheduler.flush()
        if self.frame is None:
            self.show_error("Nothing to export", "draw a digit first")
            return None
        return save_npz(self.session.activations(self.frame), path)

    def show_error(self, title: str, text: str) -> None:
        """One-line message in the status bar + a non-blocking message box (tests patch this)."""
        self.last_error = text
        self.status.emit(text)
        self._message_box(title, text)

    def _message_box(self, title: str, text: str) -> None:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def refresh_now(self) -> None:
        """Recompute and repaint at once (after undo, open, scope change)."""
        self.scheduler.submit(self.session.version)
        self.scheduler.flush()
        self.canvas.update()
        self._update_actions()

    def stop(self) -> None:
        """Stop timers (closeEvent)."""
        self.scheduler.stop()
        self.experiments.stop()                               # issue 13

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.stop()
        super().closeEvent(event)

    # -- handlers -----------------------------------------------------------------------
    def _on_drawing_changed(self) -> None:
        self.scheduler.submit(self.session.version)

    def _drawing_replaced(self) -> None:
        self.refresh_now()

    def _update_actions(self) -> None:
        self.undo_action.setEnabled(self.session.can_undo())
        self.redo_action.setEnabled(self.session.can_redo())

    def _on_eraser(self, on: bool) -> None:
        self.canvas.eraser = on
        self.status.emit("eraser: drag over strokes to cut them" if on else "pen")

    def _on_saliency(self, on: bool) -> None:
        self.saliency_panel.setVisible(on)
        if not on:
            self.canvas.set_overlay(None)
        self.refresh_now()

    def _on_winners(self, _on: bool) -> None:
        self.refresh_now()

    # -- rendering ----------------------------------------------------------------------
    def _render(self, _version: object) -> None:
        frame = self.frame = self.session.compute()
        x = np.zeros((28, 28), np.float32) if frame is None else frame.x[0, 0]
        self.input_panel.view.show_maps(x[None])
        scales = self.layers.show_frame(frame, self.scope)
        if self.scope == "network":
            self.legend.set_label(fmt(max((v or 1e-6) for v in scales.values()) if scales else 1.0))
        else:
            self.legend.set_label("each map's max" if self.scope == "map" else "its layer's max")
        self.prob_panel.set_probs(None if frame is None else frame.probs)
        self.keeper.show_probs(None if frame is None else frame.probs)
        self._render_winners(frame)
        self._render_saliency(frame)
        self._render_selection(frame)
        if getattr(self, "experiments", None) is not None:   # issue 13
            self.experiments.render(frame)

    def _render_winners(self, frame: DigitFrame | None) -> None:
        on = self.winners_action.isChecked() and frame is not None
        stages = self.session.stages
        for i, st in enumerate(stages):
            if st.kind not in ("conv", "relu"):
                continue
            pool = next((p for p in stages[i + 1:] if p.kind == "pool"), None)
            ok = on and pool is not None and all(s.kind in ("relu", "pool") for s in stages[i + 1: stages.index(pool)])
            mask = self.session.pool_winner_mask(frame, pool.index) if ok else None  # type: ignore[arg-type, union-attr]
            self.layers.panels[st.name].view.show_mask(mask)

    def _to_canvas(self, frame: DigitFrame, r0: float, c0: float, r1: float, c1: float) -> QtCore.QRectF:
        """Input-pixel rectangle (rows r0..r1, cols c0..c1 as continuous edges) -> reference units."""
        scale, tx, ty = canvas_transform(frame.state, frame.x)  # type: ignore[arg-type]
        return QtCore.QRectF((c0 - tx) / scale, (r0 - ty) / scale, (c1 - c0) / scale, (r1 - r0) / scale)

    def _render_saliency(self, frame: DigitFrame | None) -> None:
        if not self.saliency_action.isChecked() or frame is None:
            self.saliency_panel.view.show_maps(np.zeros((1, 28, 28), np.float32))
            self.canvas.set_overlay(None)
            return
        s = self.session.saliency(frame)
        m = max_abs(s)
        self.saliency_panel.view.show_maps((s / m)[None])
        self.saliency_panel.setToolTip(self.saliency_panel.toolTip().split("\n\nscale")[0] + f"\n\nscale ±{fmt(m)}")
        lut = diverging().getLookupTable(0.0, 1.0, 256, alpha=False)
        idx = np.clip(((s / m + 1) * 127.5), 0, 255).astype(np.uint8)
        rgba = np.empty((28, 28, 4), np.uint8)
        rgba[..., :3] = lut[idx]
        rgba[..., 3] = (np.clip(np.abs(s / m) * 1.6, 0, 1) * 200).astype(np.uint8)
        self.canvas.set_overlay(rgba, self._to_canvas(frame, 0, 0, 28, 28))

    # -- inspector ----------------------------------------------------------------------
    def inspect(self, stage: Stage, channel: int, row: int, col: int) -> None:
        """A map cell was clicked: explain it and outline its receptive field."""
        if stage.kind == "dense":
            self.status.emit(f"{stage.name} unit: a dense unit looks at every pooled cell — no local field")
            return
        self.selection = (stage, channel, row, col)
        self.right_tabs.setCurrentWidget(self.inspector)
        self.scheduler.flush()
        self._render_selection(self.frame)

    def _render_selection(self, frame: DigitFrame | None) -> None:
        for p in self.layers.panels.values():
            p.view.select(-1, 0, 0)
        self.input_panel.view.select(-1, 0, 0)
        self.canvas.set_field(None)
        if self.selection is None:
            return
        stage, ch, row, col = self.selection
        self.layers.panels[stage.name].view.select(ch, row, col)
        r0, c0, r1, c1 = self.session.receptive_field(stage.index, row, col)
        self.input_panel.view.select(0, r0, c0, r1, c1)
        if frame is None:
            self.inspector.subtitle.setText(f"{stage.name} · map {ch}, row {row}, column {col}: draw a digit")
            return
        self.canvas.set_field(self._to_canvas(frame, r0, c0, r1 + 1, c1 + 1))
        where = f"{stage.name} · map {ch}, row {row}, column {col}"
        if stage.kind == "pool":
            ex = self.session.explain_pool_cell(frame, stage.index, ch, row, col)
            k, s = ex.where["k"], ex.where["stride"]
            prev = next((p for p in self.session.stages if p.index == stage.index - 1), None)
            if prev is not None:
                self.layers.panels[prev.name].view.select(ch, row * s, col * s, row * s + k - 1, col * s + k - 1)
            self.inspector.show_pool(ex, f"{where}: the max of a {k}×{k} window of {prev.name if prev else 'its input'}")
        else:
            conv_index = stage.index if stage.kind == "conv" else stage.index - 1
            ex = self.session.explain_conv_cell(frame, conv_index, ch, row, col)
            note = " (after ReLU: read the last number)" if stage.kind == "relu" else ""
            self.inspector.show_conv(ex, f"{where}{note}: input patch {ex.where['k']}×{ex.where['k']}"
                                     f" × {ex.patch.shape[0]} channel{'s' * (ex.patch.shape[0] > 1)}")

    def show_worked_conv(self) -> None:
        self.right_tabs.setCurrentWidget(self.inspector)
        self.selection = None
        self._render_selection(self.frame)
        self.inspector.show_conv(worked_conv_example(),
                                 "Worked example: a 3×3 patch of an image times a 3×3 kernel, no bias.")

    def show_worked_pool(self) -> None:
        self.right_tabs.setCurrentWidget(self.inspector)
        self.selection = None
        self._render_selection(self.frame)
        self.inspector.show_pool(worked_pool_example(), "Worked example: 2×2 max-pool of [[1, 2], [3, 0]].")

    # -- my examples (issue 12) -----------------------------------------------------------
    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt)
        """Keys 0-9 keep the drawing as an example of that digit."""
        if not self.keeper.handle_key(ev):
            super().keyPressEvent(ev)

    def show_gallery(self) -> QtWidgets.QDialog | None:
        if self.keeper.folder is None:
            self.status.emit("no folder for examples is set")
            return None
        from explorer.ui.digit.gallery import GalleryWindow
        if self.gallery is None:
            self.gallery = GalleryWindow(self.keeper.folder, lambda: self.session.model, self)
            self.gallery.status.connect(self.status)
            self.keeper.kept.connect(lambda _ex: self.gallery.reload() if self.gallery.isVisible() else None)
        else:
            self.gallery.reload()
        self.gallery.show()
        return self.gallery

    # -- settings -----------------------------------------------------------------------
    def save_settings(self, s: QtCore.QSettings) -> None:
        s.setValue("digits/pen_width", float(self.canvas.pen_width))
        s.setValue("digits/scope", self.scope)
        s.setValue("digits/saliency", self.saliency_action.isChecked())
        s.setValue("digits/winners", self.winners_action.isChecked())
        s.setValue("digits/splitter", self.splitter.saveState())
        s.setValue("digits/right_splitter", self.right_splitter.saveState())

    def restore_settings(self, s: QtCore.QSettings) -> None:
        as_bool = lambda v: str(v).lower() in ("true", "1")  # noqa: E731 (INI stores text)
        if s.value("digits/pen_width") is not None:
            self.set_pen_width(float(s.value("digits/pen_width")))
        self.set_scope(str(s.value("digits/scope", self.scope)))
        self.saliency_action.setChecked(as_bool(s.value("digits/saliency", False)))
        self.winners_action.setChecked(as_bool(s.value("digits/winners", False)))
        for key, split in (("digits/splitter", self.splitter), ("digits/right_splitter", self.right_splitter)):
            v = s.value(key)
            if isinstance(v, QtCore.QByteArray):
                split.restoreState(v)
                self._pending_splits.append((split, v))    # again once laid out (showEvent)

    # -- Lab protocol (explorer.ui.lab_protocol) ----------------------------------------
    def describe_model(self, notice: str | None = None, source: str | None = None) -> None:
        """What model_label() says: a warning (``notice``), where the model comes from, or its name."""
        self._notice, self._source = notice, source
        self.model_changed.emit()

    def model_label(self) -> str:
        if self._notice:
            return f"<span style='color:#b35900'>⚠ {self._notice}</span>"
        if self._source:
            return f"digit model: <b>{self._source}</b>"
        meta = getattr(self.session.model, "meta", {})
        acc = meta.get("val_acc")
        held = f" · {100 * float(acc):.1f}% on held-out digits" if acc is not None else ""
        return f"digit model: <b>{meta.get('name', meta.get('arch', 'CNN'))}</b>{held}"

    def shutdown(self) -> None:
        self.stop()

    def showEvent(self, ev: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt)
        super().showEvent(ev)
        for split, state in self._pending_splits:
            split.restoreState(state)
        self._pending_splits = []
