"""DigitLab: canvas, what the network sees, every layer live, prediction, inspector.

A pen movement: the canvas extends the session's stroke and the lab submits the session's
version to ``LatestFrame``; at most once per frame the lab asks ``session.frame()`` for a
``DigitView`` and routes its fields to the panels (it computes nothing itself); stale frames
are dropped. The model changes only through the session, which tells the lab (on_change).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from explorer.engine import Model
from explorer.session.digit_view import DigitView
from explorer.session.digits import DigitFrame, DigitSession, Stage, worked_conv_example, worked_pool_example
from explorer.session.pen_reader import SHIPPED, NotAPenModel, PenFrame, PenLive, load_pen_model
from explorer.ui.digit import lab_layout
from explorer.ui.digit.canvas import DigitCanvas, load_ink
from explorer.ui.digit.experiments import DigitExperiments
from explorer.ui.report import report_error
from explorer.ui.widgets.colors import SCOPES, diverging
from explorer.ui.widgets.export import grab_png, save_image, save_npz
from explorer.ui.widgets.guard import RenderGuard
from explorer.ui.widgets.latest import LatestFrame

if TYPE_CHECKING:
    from explorer.ui.digit.feature_maps import KernelColumn, LayerColumn
    from explorer.ui.digit.gallery import GalleryWindow
    from explorer.ui.digit.inspector import InspectorPanel
    from explorer.ui.digit.keep import KeepBar
    from explorer.ui.digit.pen_gates import PenGatesPanel
    from explorer.ui.digit.pen_time import PenTimePanel
    from explorer.ui.digit.pen_trajectory import PenTrajectoryPanel
    from explorer.ui.widgets.colors import ScaleLegend
    from explorer.ui.widgets.fold import FoldingSplitter
    from explorer.ui.widgets.howto import HowToButton
    from explorer.ui.widgets.mosaic import MosaicPanel
    from explorer.ui.widgets.probabilities import ProbabilityPanel


def _rect(r: tuple[float, float, float, float] | None) -> QtCore.QRectF | None:
    return None if r is None else QtCore.QRectF(*r)


class DigitLab(QtWidgets.QWidget):
    """The Digits tab. ``probabilities()`` -> (10,) float32, or None while the canvas is empty."""

    status = QtCore.Signal(str)
    model_changed = QtCore.Signal()    # Lab protocol: model_label() has a new text
    _notice: str | None = None         # model_label(): a warning (e.g. untrained model)
    _source: str | None = None         # model_label(): where the model comes from
    # called with what is about to replace a non-empty drawing (Clear, an image): the window
    # keeps a copy of the work in File → Recover (explorer.ui.recover)
    before_replace: Callable[[str], object] | None = None
    # built by lab_layout (make_actions, build, rebuild_columns)
    undo_action: QtGui.QAction
    redo_action: QtGui.QAction
    clear_action: QtGui.QAction
    eraser_action: QtGui.QAction
    wider_action: QtGui.QAction
    narrower_action: QtGui.QAction
    saliency_action: QtGui.QAction
    winners_action: QtGui.QAction
    left: QtWidgets.QWidget
    pen_slider: QtWidgets.QSlider
    scope_box: QtWidgets.QComboBox
    input_panel: MosaicPanel
    saliency_panel: MosaicPanel
    legend: ScaleLegend
    keeper: KeepBar
    layers: LayerColumn
    kernels: KernelColumn
    layer_scroll: QtWidgets.QScrollArea
    prob_panel: ProbabilityPanel
    inspector: InspectorPanel
    right_tabs: QtWidgets.QTabWidget
    splitter: QtWidgets.QSplitter
    right_splitter: QtWidgets.QSplitter
    middle_tabs: QtWidgets.QTabWidget       # the CNN's feature maps | the pen RNN's page
    pen_combo: QtWidgets.QComboBox
    pen_note: QtWidgets.QLabel
    pen_help: HowToButton
    pen_time: PenTimePanel
    pen_trajectory: PenTrajectoryPanel
    pen_gates: PenGatesPanel
    pen_split: QtWidgets.QSplitter
    pen_fold: FoldingSplitter

    def __init__(self, model: Model, parent: QtWidgets.QWidget | None = None, *,
                 pen_model: Model | None = None) -> None:
        super().__init__(parent)
        self.session = DigitSession(model)
        pen_notice = None
        if pen_model is None:
            pen_model, pen_notice = load_pen_model("pen LSTM")
        self.pen = PenLive(pen_model, "pen LSTM")          # the pen RNN reading the same drawing
        self.pen_source = "pen LSTM"                       # a SHIPPED label or a model file's path
        self.pen_view: PenFrame | None = None
        self._pen_warm = False
        self._pen_shown: tuple[object, ...] | None = None     # what the pen panels show (see _render_pen)
        self.session.set_palette(diverging().getLookupTable(0.0, 1.0, 256, alpha=False))
        self.view: DigitView | None = None
        self._layers_view: DigitView | None = None      # the frame the layer maps show
        self.last_error: str | None = None
        self.gallery: GalleryWindow | None = None
        self._pending_splits: list[tuple[QtWidgets.QSplitter, QtCore.QByteArray]] = []
        self.canvas = DigitCanvas(self.session)
        # a panel that raises never stops the next frames: said in the status, selection dropped
        self.render_guard = RenderGuard(self._render, self.status.emit, self._drop_selection)
        self.scheduler = LatestFrame(self.render_guard, fps=60, parent=self)
        self.pen_scheduler = LatestFrame(self._render_pen, fps=30, parent=self)   # the CNN over pen time, catching up
        lab_layout.make_actions(self)
        lab_layout.build(self)
        self.show_pen_notice(pen_notice)
        self.pen_combo.activated.connect(lambda i: self.choose_pen_model(self.pen_combo.itemData(i)))
        self.pen_time.target_changed.connect(lambda t: self.set_pen_target(None if t < 0 else t))
        self.middle_tabs.currentChanged.connect(lambda _: self._on_middle_tab())
        self._update_actions()
        self.experiments = DigitExperiments(self)            # issue 13: edits, sweep, dream, replay, evidence
        self.canvas.drawing_changed.connect(self._on_drawing_changed)
        self.canvas.stroke_finished.connect(self._update_actions)
        self.canvas.image_dropped.connect(self.open_image)
        self.session.on_change(self._on_model_changed)
        self.refresh_now()

    def eventFilter(self, obj: QtCore.QObject, ev: QtCore.QEvent) -> bool:  # noqa: N802 (Qt)
        if obj is self.left and ev.type() == QtCore.QEvent.Type.Resize:
            # a ceiling, not a fixed height: a fixed one kept the window from getting smaller (issue 15)
            self.canvas.setMaximumHeight(max(200, int(min(self.left.width() - 8, self.left.height() * 0.58))))
        return False

    # -- public API ---------------------------------------------------------------------
    @property
    def frame(self) -> DigitFrame | None:
        """The last rendered computation (input, trace, probabilities); None while empty."""
        return None if self.view is None else self.view.frame

    @property
    def scope(self) -> str:
        return self.session.options.scope

    @property
    def selection(self) -> tuple[Stage, int, int, int] | None:
        """The selected map cell (stage, channel, row, col), or None."""
        sel = self.session.options.selection
        stage = None if sel is None else next((s for s in self.session.stages if s.index == sel[0]), None)
        return None if sel is None or stage is None else (stage, sel[1], sel[2], sel[3])

    @selection.setter
    def selection(self, value: tuple[Stage, int, int, int] | None) -> None:
        stage = None if value is None else value[0]
        self.session.set_options(selection=None if value is None or stage is None
                                 else (stage.index, int(value[1]), int(value[2]), int(value[3])))

    def probabilities(self) -> np.ndarray | None:
        """The current 10 class probabilities (10,) float32; None while the canvas is empty.

        Renders a pending frame first, so the answer always matches the drawing.
        """
        self.scheduler.flush()
        return None if self.view is None or self.view.probs is None else self.view.probs.copy()

    def pen_probabilities(self) -> np.ndarray | None:
        """The pen RNN's 10 class probabilities (10,) float32 for the drawing's pen strokes; None
        while there is no pen step (an empty canvas, or an opened image with nothing drawn on it).

        Equal to ``classify strokes.json --model <pen model>`` for the same strokes."""
        self.scheduler.flush()
        self.pen.reader.follow_session(self.session)
        return self.pen.reader.probabilities()

    def pen_frame(self) -> PenFrame:
        """The pen panels' current frame (computed now, with every CNN step filled in)."""
        self.scheduler.flush()
        self.pen.follow(self.session, self._current_probs())
        while self.pen.fill(self.session, 64):
            pass
        return self.pen.frame()

    def set_pen_model(self, model: Model, label: str | None = None, source: str | None = None) -> bool:
        """Read the pen with ``model`` (a pen model file); a model that cannot: a message, nothing changes."""
        try:
            live = PenLive(model, label or str(model.meta.get("name", "pen model")))
        except NotAPenModel as exc:
            self.show_error("Not a pen model", str(exc))
            return False
        live.target = self.pen.target
        self.pen = live
        self.pen_source = source or label or live.name
        i = self.pen_combo.findData(self.pen_source)
        if i < 0:
            self.pen_combo.addItem(label or live.name, self.pen_source)
            i = self.pen_combo.count() - 1
        self.pen_combo.setCurrentIndex(i)
        trained = model.meta.get("trained", True) is not False
        self.show_pen_notice(None if trained else "untrained pen model: its guesses are random")
        self._render_pen()
        self.model_changed.emit()
        return True

    def show_pen_notice(self, notice: str | None) -> None:
        """A short warning beside the pen model picker (the whole sentence in its tooltip)."""
        self.pen_note.setText("" if not notice else "⚠ " + notice.split(" (")[0].split(":")[0])
        self.pen_note.setToolTip(notice or "")

    def choose_pen_model(self, source: str) -> bool:
        """A pen model from the picker: a shipped label (``SHIPPED``) or a model file's path."""
        if source == self.pen_source:
            return True
        return self.restore_pen_model(source)

    def restore_pen_model(self, source: str) -> bool:
        """Load the pen model named by ``source`` (shipped label or path); failure: a status line."""
        from explorer.engine import ModelFileError, load_model
        if source in SHIPPED:
            model, notice = load_pen_model(source)
            ok = self.set_pen_model(model, source, source)
            if ok and notice:
                self.show_pen_notice(notice)
            return ok
        if source.startswith("session:"):                 # came inside a session file: nothing on disk
            return False
        try:
            model = load_model(source)
        except (ModelFileError, OSError) as exc:
            self.status.emit(f"pen model {Path(source).name} not opened: {exc}")
            return False
        return self.set_pen_model(model, Path(source).name, source)

    def set_pen_target(self, target: int | None) -> None:
        """What 'right' means for "when did it know?": a digit, or None (each reader's last answer)."""
        self.pen.target = None if target is None else int(target)
        self.pen_time.set_target(self.pen.target)
        self._render_pen()

    def panels(self) -> dict[str, QtWidgets.QWidget]:
        """Exportable panels by title (the layer maps caught up if the pen page hid them)."""
        self._show_layers(force=True)
        return lab_layout.panels(self)

    def set_model(self, model: Model) -> None:
        """Swap the network through the session; the drawing stays, the panels follow."""
        self.session.set_model(model)

    def follow_model(self, model: Model) -> None:
        """A model training elsewhere (the Train tab): its weights if it is our architecture."""
        self.session.follow(model)

    def set_pen_width(self, width: float) -> None:
        """Pen diameter, kept within the slider's 4-40; NaN or infinity is ignored."""
        if not np.isfinite(width):
            return
        width = float(np.clip(width, 4, 40))
        self.canvas.pen_width = width
        if self.pen_slider.value() != int(width):
            self.pen_slider.setValue(int(width))

    def set_scope(self, scope: str) -> None:
        if scope not in SCOPES:
            return
        self.session.set_options(scope=scope)
        i = list(SCOPES).index(scope)
        if self.scope_box.currentIndex() != i:
            self.scope_box.setCurrentIndex(i)
        self.refresh_now()

    def undo(self) -> None:
        if self.session.undo():
            self.refresh_now()

    def redo(self) -> None:
        if self.session.redo():
            self.refresh_now()

    def clear(self) -> None:
        """Empty the canvas (undoable; the window keeps a copy of the drawing first)."""
        had = not self.session.committed.is_empty
        if had and self.before_replace is not None:
            self.before_replace("before Clear")
        self.session.clear()
        self.refresh_now()
        if had:
            self.status.emit("cleared — Ctrl+Z brings the drawing back")

    def open_image(self, path: str | os.PathLike[str]) -> bool:
        """Replace the drawing with an image file (undoable). Bad file: message, drawing unchanged."""
        try:
            ink = load_ink(Path(path))
        except (ValueError, OSError) as exc:
            self.show_error("Could not open the image", str(exc))
            return False
        if self.before_replace is not None and not self.session.committed.is_empty:
            self.before_replace(f"before opening {Path(path).name}")
        self.session.set_background(ink)
        self.refresh_now()
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
        report_error(self, title, text)                       # the one non-blocking box (tests patch this)

    def refresh_now(self) -> None:
        """Recompute and repaint at once (after undo, open, scope change)."""
        self.scheduler.submit(self.session.version)
        self.scheduler.flush()
        self.canvas.update()
        self._update_actions()

    def stop(self) -> None:
        """Stop timers (closeEvent)."""
        self.scheduler.stop()
        self.pen_scheduler.stop()
        self.experiments.stop()                               # issue 13

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt)
        self.stop()
        super().closeEvent(event)

    # -- handlers -----------------------------------------------------------------------
    def _drop_selection(self) -> None:
        """After a frame that failed: start the next one without the selection (a cell the
        model may not have) and with the inspector cleared."""
        if self.session.options.selection is not None:
            self.session.set_options(selection=None)
            self.inspector.clear()

    def _on_drawing_changed(self) -> None:
        self.scheduler.submit(self.session.version)

    def _on_model_changed(self, what: str) -> None:
        """The session's model changed: new columns for a new architecture, then a new frame."""
        if what == "model":
            lab_layout.rebuild_columns(self)
            self.experiments.on_model_changed()
            self.inspector.clear()
            self.describe_model()                            # a new model: its own name again
        self.refresh_now()

    def _update_actions(self) -> None:
        self.undo_action.setEnabled(self.session.can_undo())
        self.redo_action.setEnabled(self.session.can_redo())

    def _on_eraser(self, on: bool) -> None:
        self.canvas.eraser = on
        self.status.emit("eraser: drag over strokes to cut them" if on else "pen")

    def _on_saliency(self, on: bool) -> None:
        self.saliency_panel.setVisible(on)
        self.session.set_options(saliency=on)
        self.refresh_now()

    def _on_winners(self, on: bool) -> None:
        self.session.set_options(winners=on)
        self.refresh_now()

    # -- rendering: route one DigitView to the panels --------------------------------------
    def _render(self, _version: object) -> None:
        view = self.view = self.session.frame()
        self.input_panel.view.show_maps(view.input[None])
        self._show_layers()
        self.legend.set_label(view.legend)
        self.prob_panel.set_probs(view.probs)
        self.keeper.show_probs(view.probs)
        self._show_saliency(view)
        self._show_selection(view)
        self.experiments.render(view)                         # issue 13
        self._render_pen()

    def _show_layers(self, force: bool = False) -> None:
        """The layer maps get the frame while their page is shown (or ``force``): behind the pen
        RNN's page they are fed once, when they come back (``panels()``, for an export, catches
        them up too)."""
        view = self.view
        if view is None or view is self._layers_view or not (force or self.middle_tabs.currentIndex() == 0):
            return
        self._layers_view = view
        self.layers.show_view(view)

    def _on_middle_tab(self) -> None:
        self._show_layers()
        self._render_pen()

    def _current_probs(self) -> np.ndarray | None:
        """The CNN's reading of the drawing as it is now (None if the last frame is older)."""
        view = self.view
        return None if view is None or view.version != self.session.version else view.probs

    def _render_pen(self, _version: object = None) -> None:
        """The pen RNN follows the drawing; its panels are fed while its page is shown."""
        self.pen.follow(self.session, self._current_probs())
        if self.middle_tabs.currentIndex() != 1:
            return
        missing = self.pen.fill(self.session)
        key = (id(self.pen), self.pen.reader.version, missing, self.pen.target, self.pen.reader.background)
        if key == self._pen_shown:            # a pen move that made no new pen step: nothing to redraw
            return
        self._pen_shown = key
        frame = self.pen_view = self.pen.frame()
        self.pen_time.show_frame(frame)
        self.pen_trajectory.show_frame(frame)
        self.pen_gates.show_frame(frame)
        if missing:
            self.pen_scheduler.submit(self.session.version)

    def _show_saliency(self, view: DigitView) -> None:
        if view.saliency is None:
            self.saliency_panel.view.show_maps(np.zeros((1, 28, 28), np.float32))
            self.canvas.set_overlay(None)
            return
        self.saliency_panel.view.show_maps(view.saliency[None])
        tip = self.saliency_panel.toolTip().split("\n\nscale")[0]
        self.saliency_panel.setToolTip(f"{tip}\n\nscale ±{view.saliency_scale:.3g}")
        self.canvas.set_overlay(view.saliency_rgba, _rect(view.saliency_rect))

    def _show_selection(self, view: DigitView) -> None:
        for p in self.layers.panels.values():
            p.view.select(-1, 0, 0)
        self.input_panel.view.select(-1, 0, 0)
        sel = view.selection
        self.canvas.set_field(None if sel is None else _rect(sel.canvas_field))
        if sel is None:
            return
        for h in sel.highlights:
            panel = self.input_panel if h.panel == "input" else self.layers.panels[h.panel]
            panel.view.select(h.channel, *h.cells)
        if sel.pool is not None:
            self.inspector.show_pool(sel.pool, sel.caption)
        elif sel.conv is not None:
            self.inspector.show_conv(sel.conv, sel.caption)
        else:
            self.inspector.subtitle.setText(sel.caption)

    # -- inspector ----------------------------------------------------------------------
    def inspect(self, stage: Stage, channel: int, row: int, col: int) -> None:
        """A map cell was clicked: explain it and outline its receptive field."""
        if stage.kind == "dense":
            self.status.emit(f"{stage.name} unit: a dense unit looks at every pooled cell — no local field")
            return
        self.selection = (stage, channel, row, col)
        self.right_tabs.setCurrentWidget(self.inspector)
        self.refresh_now()

    def show_worked(self, kind: str) -> None:
        """The textbook convolution ("conv") or max-pool ("pool") in the inspector."""
        self.right_tabs.setCurrentWidget(self.inspector)
        self.selection = None
        self.refresh_now()
        if kind == "conv":
            self.inspector.show_conv(worked_conv_example(),
                                     "Worked example: a 3×3 patch of an image times a 3×3 kernel, no bias.")
        else:
            self.inspector.show_pool(worked_pool_example(), "Worked example: 2×2 max-pool of [[1, 2], [3, 0]].")

    # -- my examples (issue 12) -----------------------------------------------------------
    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt)
        """Keys 0-9 keep the drawing as an example of that digit."""
        if not self.keeper.handle_key(ev):
            super().keyPressEvent(ev)

    def show_gallery(self) -> QtWidgets.QDialog | None:
        return lab_layout.show_gallery(self)

    # -- settings -----------------------------------------------------------------------
    def save_settings(self, s: QtCore.QSettings) -> None:
        lab_layout.save_settings(self, s)

    def restore_settings(self, s: QtCore.QSettings) -> None:
        self._pending_splits += lab_layout.restore_settings(self, s)   # again once laid out (showEvent)

    # -- Lab protocol (explorer.ui.lab_protocol) ----------------------------------------
    def describe_model(self, notice: str | None = None, source: str | None = None) -> None:
        """What model_label() says: a warning (``notice``), where the model comes from, or its name."""
        self._notice, self._source = notice, source
        self.model_changed.emit()

    def model_label(self) -> str:
        return lab_layout.model_label(self)

    def shutdown(self) -> None:
        self.stop()

    def showEvent(self, ev: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt)
        super().showEvent(ev)
        if not self._pen_warm:                 # fit the trajectory's basis before the first stroke needs it
            self._pen_warm = True
            QtCore.QTimer.singleShot(400, lambda: self.pen.basis())
        for split, state in self._pending_splits:
            split.restoreState(state)
        self._pending_splits = []


if __name__ == "__main__":
    from explorer.ui.digit.demo import lab_demo, run
    raise SystemExit(run(lab_demo))
